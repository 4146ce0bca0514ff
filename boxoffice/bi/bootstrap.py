"""`boxoffice superset bootstrap`: make a running Superset ready for analysts.

Every step is idempotent, so the command is safe to run after every `stack up`:
metadata migrated and roles synced (skipped when already done for this version), the
admin user's password matching the state directory's secret, the ClickHouse connection
through the read-only user, and the dashboards bundle imported when the repo has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from boxoffice.bi.client import SupersetClient
from boxoffice.bi.dashboards import import_bundle, is_bundle
from boxoffice.bi.databases import CLICKHOUSE_DATABASE_NAME, ensure_clickhouse_database
from boxoffice.bi.errors import SupersetError
from boxoffice.stack.components.superset import Superset
from contracts.settings import REPO_ROOT, Settings

DASHBOARDS_DIR = REPO_ROOT / "superset" / "dashboards"
UNAUTHORIZED = 401


@dataclass(frozen=True)
class BootstrapResult:
    metadata_initialised: bool
    admin_password_reset: bool
    database_id: int
    dashboards_imported: bool


def logged_in_client(settings: Settings) -> SupersetClient:
    """An API session as the admin user with the state directory's password."""
    client = SupersetClient(base_url=settings.superset_url)
    client.login(settings.superset_admin_user, settings.secret("superset_admin_password"))
    return client


def bootstrap(settings: Settings, *, dashboards_dir: Path = DASHBOARDS_DIR,
              force_metadata: bool = False,
              progress: Callable[[str], None] = print) -> BootstrapResult:
    superset = Superset(settings=settings)
    if not superset.is_installed():
        raise SupersetError("not installed yet; run `boxoffice stack up superset` first")
    if not superset.is_healthy():
        raise SupersetError(f"not answering on {settings.superset_url}/health; start it "
                            "with `boxoffice stack up superset`")
    metadata = superset.ensure_metadata(force=force_metadata)
    progress("superset: metadata " + ("initialised" if metadata else "already initialised"))
    reset = False
    try:
        client = logged_in_client(settings)
    except SupersetError as error:
        if error.status != UNAUTHORIZED:
            raise
        progress("superset: admin password out of date; resetting it from secrets.json")
        superset.reset_admin_password()
        reset = True
        client = logged_in_client(settings)
    try:
        database_id = ensure_clickhouse_database(client, settings)
        progress(f"superset: database connection {CLICKHOUSE_DATABASE_NAME!r} "
                 f"(id {database_id}) as {settings.clickhouse_reader_user}")
        imported = is_bundle(dashboards_dir)
        if imported:
            import_bundle(client, dashboards_dir, settings)
            progress(f"superset: dashboards imported from {dashboards_dir}")
        else:
            progress(f"superset: no dashboard bundle at {dashboards_dir}; nothing to import")
    finally:
        client.close()
    return BootstrapResult(metadata_initialised=metadata, admin_password_reset=reset,
                           database_id=database_id, dashboards_imported=imported)
