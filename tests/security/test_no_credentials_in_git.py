"""No credential in git: neither a generated secret nor a literal that looks like one.

Two scans over the content of every tracked file (`git ls-files`, working-tree version):
the exact values of the generated credentials (this session's state directory and the
demo's `.boxoffice/secrets.json` when it exists), and patterns of literal credentials
(`password = "..."`, `password=...` in a DSN, `://user:secret@` in a URI). Placeholders
(`${...}`, `{...}`, Superset's XXXXXXXXXX mask, code such as `password=settings.secret(...)`)
are not credentials.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from contracts.settings import GENERATED_SECRETS, REPO_ROOT, Settings

LITERALS = (
    re.compile(r"""(?i)\b(?:password|passwd|pwd|secret|secret_key|api_key|token)["']?\s*"""
               r"""[:=]\s*["']([^"'\s{}$<>]{6,})["']"""),
    re.compile(r"""(?i)\bpassword=([^\s"'{}$&;,)]{6,})"""),
    re.compile(r"""://[^/\s:@"']+:([^/\s:@{}$"']{6,})@"""),
)
CODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(\(.*)?$")
"""A value that is an identifier or a call: code passing a credential, not a credential."""
MASKS = re.compile(r"^(X+|\*+)$")


def tracked_files() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    contents = {}
    for name in filter(None, names):
        path = REPO_ROOT / name
        try:
            contents[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # deleted in the work tree, or binary
            try:
                contents[name] = path.read_bytes().decode("latin-1")
            except OSError:
                continue
    return contents


def generated_secrets(settings: Settings) -> dict[str, str]:
    values = {f"session {name}": settings.secret(name) for name in GENERATED_SECRETS}
    demo = REPO_ROOT / ".boxoffice" / "secrets.json"
    if demo.exists():
        values |= {f"demo {k}": v for k, v in json.loads(demo.read_text()).items()}
    return values


def test_state_directories_are_ignored() -> None:
    tracked = subprocess.run(["git", "ls-files", ".boxoffice"], cwd=REPO_ROOT,
                             capture_output=True, check=True, text=True).stdout
    assert tracked == ""
    ignored = subprocess.run(["git", "check-ignore", "-q", ".boxoffice/secrets.json"],
                             cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0, ".boxoffice/ must be in .gitignore"


def test_no_generated_secret_in_any_tracked_file(stack_settings: Settings) -> None:
    secrets = generated_secrets(stack_settings)
    files = tracked_files()
    assert len(files) > 50
    leaks = [(name, label) for name, text in files.items()
             for label, value in secrets.items() if value and value in text]
    assert not leaks


def test_no_literal_credential_in_any_tracked_file() -> None:
    leaks = []
    for name, text in tracked_files().items():
        if Path(name).suffix in {".png", ".jpg", ".ico", ".zip"}:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for pattern in LITERALS:
                for match in pattern.finditer(line):
                    value = match.group(1)
                    if not (CODE.match(value) or MASKS.match(value)):
                        leaks.append(f"{name}:{number}: {match.group(0)[:60]}")
    assert not leaks, leaks
