"""What the stack leaves on disk is its owner's alone, and logs hold no secret (issue 16,
item 8), on the session's services once the security pipeline has flowed.

Every log of every component is read, not only Superset's: a password or the salt
written by any process at any level would be found.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from pathlib import Path

from boxoffice.bi.bootstrap import BootstrapResult
from boxoffice.stack.components.superset import Superset
from contracts.settings import GENERATED_SECRETS, Settings
from tests.providers import test_settings as throwaway_settings
from tests.security.conftest import Secured


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def log_files(settings: Settings) -> list[Path]:
    return sorted(path for path in settings.logs_dir.rglob("*") if path.is_file())


def where(text: str, secret: str) -> str:
    """The first line holding `secret`, the secret masked: enough to find the writer."""
    line = next(line for line in text.splitlines() if secret in line)
    return line.replace(secret, "<secret>")[:300]


def test_logs_are_readable_by_their_owner_only(secured: Secured) -> None:
    logs = log_files(secured.settings)
    assert len(logs) >= 5, logs  # postgres, kafka, connect, clickhouse, processors, sink...
    assert mode(secured.settings.logs_dir) == 0o700
    wider = {str(path): oct(mode(path)) for path in logs if mode(path) & 0o077}
    assert not wider, wider


def test_the_secrets_file_is_its_owners_alone(secured: Secured) -> None:
    secrets = secured.settings.state_dir / "secrets.json"
    assert mode(secrets) == 0o600


def test_no_log_holds_a_secret(secured: Secured) -> None:
    settings = secured.settings
    leaks = []
    for path in log_files(settings):
        text = path.read_bytes().decode(errors="replace")
        leaks += [f"{name} in {path.name}: {where(text, settings.secret(name))}"
                  for name in GENERATED_SECRETS if settings.secret(name) in text]
    assert not leaks, leaks


def test_supersets_metadata_holds_no_secret_in_clear(superset: Settings,
                                                     bootstrapped: BootstrapResult) -> None:
    """Superset keeps the warehouse connection, its password included, in its metadata
    database (sqlite under the state directory). The password is stored encrypted with
    Superset's SECRET_KEY, and no generated secret appears in clear in the file or its
    journal; the file is its owner's alone. Not vacuous: a connection with a stored
    password exists."""
    component = Superset(settings=superset)
    files = sorted(component.data_dir.glob(f"{component.metadata_db.name}*"))
    assert component.metadata_db in files
    with sqlite3.connect(f"file:{component.metadata_db}?mode=ro", uri=True) as db:
        [(stored,)] = db.execute("select count(*) from dbs where password is not null")
    assert stored >= 1, "no database connection with a password: the scan proves nothing"
    leaks = [f"{name} in {path.name}" for path in files for name in GENERATED_SECRETS
             if superset.secret(name).encode() in path.read_bytes()]
    assert not leaks, leaks
    wider = {path.name: oct(mode(path)) for path in files if mode(path) & 0o077}
    assert not wider, wider


def test_credentials_logged_before_the_scrubber_are_purged(tmp_path: Path) -> None:
    """An installation made before the scrubbing event logger has request bodies with the
    warehouse password in its action log: they are deleted, and the file vacuumed (a
    deleted row's bytes stay in a free page until then), when Superset next starts."""
    component = Superset(settings=throwaway_settings(tmp_path / "state"))
    password = component.settings.secret("clickhouse_reader_password")
    component.data_dir.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(component.metadata_db)) as db:
        db.execute("create table logs (id integer primary key, json text)")
        db.executemany("insert into logs (json) values (?)", [
            (f'{{"sqlalchemy_uri": "clickhousedb://reader:{password}@host/db"}}',),
            ('{"path": "/api/v1/chart/data"}',)])
        db.commit()
    assert password.encode() in component.metadata_db.read_bytes()  # the control

    component.purge_logged_credentials()

    assert password.encode() not in component.metadata_db.read_bytes()
    with contextlib.closing(sqlite3.connect(component.metadata_db)) as db:
        assert db.execute("select count(*) from logs").fetchone() == (1,)
