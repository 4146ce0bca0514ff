"""What the stack leaves on disk is its owner's alone, and logs hold no secret (issue 16,
item 8), on the session's services once the security pipeline has flowed.

Every log of every component is read, not only Superset's: a password or the salt
written by any process at any level would be found.
"""

from __future__ import annotations

import stat
from pathlib import Path

from contracts.settings import GENERATED_SECRETS, Settings
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
