"""Superset configuration for boxoffice, read by Superset through SUPERSET_CONFIG_PATH.

It runs inside Superset's own virtualenv, where the boxoffice package is not installed,
so it reads only the environment that boxoffice/stack/components/superset.py passes:

    SUPERSET_SECRET_KEY        signs sessions; generated per state directory (required)
    BOXOFFICE_SUPERSET_DB_URI   Superset's own metadata database (sqlite under the state dir)
    SUPERSET_HOME              Superset's data directory (uploads, logs), also under it

Nothing here reaches the internet: no telemetry pixel (blocked by the CSP below), no
thumbnails, reports or map tiles, and caches live in process.
"""

import os
from datetime import timedelta

from superset.constants import CHANGE_ME_SECRET_KEY
from superset.utils.log import DBEventLogger


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(
            f"superset: environment variable {name} is not set; start Superset through "
            "`boxoffice stack up superset`, which passes it from the state directory"
        )
    return value


# --- identity and metadata -------------------------------------------------------------
SECRET_KEY = _required("SUPERSET_SECRET_KEY")
if SECRET_KEY == CHANGE_ME_SECRET_KEY:
    # Superset's own check logs and exits the worker, which gunicorn then respawns
    # forever; failing while the configuration loads stops the whole server at once.
    raise RuntimeError(
        "superset: Refusing to start due to insecure SECRET_KEY: SUPERSET_SECRET_KEY is "
        "Superset's published default; unset BOXOFFICE_SUPERSET_SECRET_KEY so the state "
        "directory's generated key is used"
    )
SQLALCHEMY_DATABASE_URI = _required("BOXOFFICE_SUPERSET_DB_URI")
SQLALCHEMY_TRACK_MODIFICATIONS = False
APP_NAME = "boxoffice"

# --- the action log --------------------------------------------------------------------
# Superset's action log (the `logs` table) stores each API request's JSON body: creating
# the ClickHouse connection wrote the reader's password, inside sqlalchemy_uri, into the
# metadata database in clear. Every record is scrubbed before it is stored.
_SECRET_KEY_PARTS = ("password", "sqlalchemy_uri", "encrypted_extra", "secret", "token")


def _scrubbed(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {key: "<hidden>" if any(part in str(key).lower() for part in _SECRET_KEY_PARTS)
                else _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


class ScrubbingEventLogger(DBEventLogger):
    """Superset's database event logger, minus credentials."""

    def log(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["records"] = [_scrubbed(record) for record in kwargs.get("records", [])]
        super().log(*args, **kwargs)


EVENT_LOGGER = ScrubbingEventLogger()

# --- sessions and CSRF -----------------------------------------------------------------
# Short sessions: an analyst's browser tab is signed in for one working morning at most.
PERMANENT_SESSION_LIFETIME = timedelta(hours=4)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # served over plain http on the bind host
# CSRF stays on for forms and the REST API alike; API clients fetch a token from
# /api/v1/security/csrf_token/ and send it back as X-CSRFToken with the session cookie.
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = int(PERMANENT_SESSION_LIFETIME.total_seconds())
WTF_CSRF_SSL_STRICT = False

# --- features --------------------------------------------------------------------------
FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "DASHBOARD_CROSS_FILTERS": True,
    "DASHBOARD_VIRTUALIZATION": True,
    "SQLLAB_BACKEND_PERSISTENCE": True,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "GLOBAL_ASYNC_QUERIES": False,
    "EMBEDDED_SUPERSET": False,
    "SSH_TUNNELING": False,
}
# Dashboards refresh themselves (their JSON metadata sets refresh_frequency); allow it.
SUPERSET_DASHBOARD_PERIODICAL_REFRESH_LIMIT = 0
# The live time series name their one series by the source commit their numbers include
# ("as of source commit ..."), a new name at every heartbeat. Superset gives each new name
# the next colour of a scheme, so with a many-colour scheme the bars would change colour at
# every refresh: the live dashboard uses this one-colour scheme instead.
EXTRA_CATEGORICAL_COLOR_SCHEMES = [{
    "id": "boxofficeLive",
    "label": "boxoffice live (one colour)",
    "description": "One colour for series whose names change at every refresh",
    "isDefault": False,
    "colors": ["#1FA8C9"],
}]

# --- SQL Lab ---------------------------------------------------------------------------
# Queries run synchronously in the web worker: no Celery, no results backend. DML is
# refused per database (allow_dml=False on the ClickHouse connection), and the
# connection itself uses the warehouse's read-only user.
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 90
SQL_MAX_ROW = 100_000
DISPLAY_MAX_ROW = 10_000
SQLLAB_CTAS_NO_LIMIT = False
PREVENT_UNSAFE_DB_CONNECTIONS = True

# --- caches ----------------------------------------------------------------------------
# Metadata may be cached briefly in process; chart data never is, so dashboards show the
# pipeline's current numbers.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
RATELIMIT_ENABLED = False

# --- no outbound network ---------------------------------------------------------------
MAPBOX_API_KEY = ""
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False

# --- dimension datasets follow their tables ----------------------------------------------
# A column an analyst adds to festival.bands, .venues or .performances reaches the
# warehouse's dimension view by itself (the sink adds it: warehouse/sink/added_columns.py).
# Superset keeps each dataset's columns in its own metadata, so a worker thread compares
# these datasets' columns with the views' every DIMENSION_SYNC_SECONDS and, when the view
# has gained or lost one, syncs the dataset (what "Sync columns from source" does): the
# column shows in Explore without a restart. The thread starts with a worker's first
# request (threads do not survive gunicorn's fork of the preloaded app), and a lock file
# lets one worker at a time do it.
DIMENSION_DATASETS = ("bands", "venues", "performances")
DIMENSION_SYNC_SECONDS = 10.0


def _sync_dimension_columns(app):  # type: ignore[no-untyped-def]
    """One pass: sync each dimension dataset whose view's column names changed."""
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db

    with app.app_context():
        try:
            datasets = (db.session.query(SqlaTable)
                        .filter(SqlaTable.table_name.in_(DIMENSION_DATASETS)).all())
            for dataset in datasets:
                stored = {column.column_name for column in dataset.columns
                          if not column.expression}
                current = {column["column_name"] for column in dataset.external_metadata()}
                if current != stored:
                    result = dataset.fetch_metadata()
                    db.session.commit()
                    app.logger.info("dataset %s synced with its view: added %s, removed %s",
                                    dataset.table_name, result.added or "none",
                                    result.removed or "none")
        except Exception as exc:  # the warehouse away, a locked metadata file: next pass
            db.session.rollback()
            app.logger.warning("syncing the dimension datasets' columns failed (%s); "
                               "trying again in %.0f s", exc, DIMENSION_SYNC_SECONDS)


def _sync_dimension_columns_forever(app, lock_path):  # type: ignore[no-untyped-def]
    import fcntl
    import time

    while True:
        time.sleep(DIMENSION_SYNC_SECONDS)
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # the other worker is at it
            try:
                _sync_dimension_columns(app)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def FLASK_APP_MUTATOR(app):  # type: ignore[no-untyped-def]  # noqa: N802 (Superset's name)
    import threading

    started = threading.Event()
    starting = threading.Lock()
    lock_path = os.path.join(os.environ.get("SUPERSET_HOME", "."), "dimension-sync.lock")

    @app.before_request
    def _start_dimension_sync():  # type: ignore[no-untyped-def]
        if started.is_set():
            return
        with starting:
            if not started.is_set():
                started.set()
                threading.Thread(target=_sync_dimension_columns_forever,
                                 args=(app, lock_path), daemon=True,
                                 name="boxoffice-dimension-sync").start()
