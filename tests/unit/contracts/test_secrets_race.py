"""Processes of one state directory that start at the same moment (two processor
workers, the sink) agree on its generated credentials. A CI run found two workers
racing: both generated secrets.json, and one died renaming a temporary file the other
had already renamed (and had it lived, it would have hashed people with another salt)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.settings import GENERATED_SECRETS, REPO_ROOT

PROCESSES = 16
ROUNDS = 6
CHILD = """
import json, os, sys
from pathlib import Path
from contracts.settings import GENERATED_SECRETS, load_settings
go = Path(sys.argv[2])
while not go.exists():
    pass  # spin: every child leaves within microseconds of the others
settings = load_settings(state_dir=sys.argv[1])
print(json.dumps({name: settings.secret(name) for name in GENERATED_SECRETS}))
"""


def race(state_dir: Path, go: Path) -> list[tuple[int, str, str]]:
    """Start the children, let them all load settings at one moment; (code, out, err)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(state_dir), str(go)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, cwd=REPO_ROOT)
                for _ in range(PROCESSES)]
    time.sleep(1.5)  # every child imported and spinning
    go.touch()
    outputs = [child.communicate(timeout=60) for child in children]
    return [(child.returncode, out, err)
            for child, (out, err) in zip(children, outputs, strict=True)]


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_processes_starting_together_share_one_set_of_credentials(tmp_path: Path,
                                                                  attempt: int) -> None:
    """Six rounds of sixteen processes: reverting the fix, 3 to 5 of the 6 rounds
    failed in each of four runs (a crash on the temporary file, or two sets of
    credentials), so the old code cannot pass this test."""
    state_dir = tmp_path / "state"
    results = race(state_dir, tmp_path / "go")
    failures = [err[-800:] for code, _out, err in results if code != 0]
    assert not failures, failures
    seen = {out for _code, out, _err in results}
    assert len(seen) == 1, f"{len(seen)} different sets of credentials"
    assert set(json.loads(seen.pop())) == set(GENERATED_SECRETS)
    assert not list(state_dir.glob("*.tmp")), "a temporary file was left behind"
