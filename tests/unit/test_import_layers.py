"""The import contract of `make lint` (pyproject.toml, [tool.importlinter]) holds on the
tree and fails on a deliberate violation: a stage importing the operate layer, a stage
importing another stage, the contracts importing a stage. Each violation is made in a
copy of the packages, never in the tree itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.settings import REPO_ROOT

PACKAGES = ("boxoffice", "contracts", "connectors", "stream_processors", "warehouse")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def copy_of_the_packages(into: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, into / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", into)
    return into


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_the_layers(tmp_path: Path) -> None:
    done = lint_imports(copy_of_the_packages(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize(("module", "imported"), [
    ("warehouse/sink/app.py", "boxoffice.stack.supervisor"),
    ("warehouse/sink/app.py", "stream_processors.join"),
    ("connectors/manage.py", "warehouse.executor"),
    ("contracts/topics.py", "connectors.config"),
])
def test_a_forbidden_import_breaks_the_lint(tmp_path: Path, module: str,
                                            imported: str) -> None:
    root = copy_of_the_packages(tmp_path)
    path = root / module
    path.write_text(path.read_text() + f"\nimport {imported}  # deliberate violation\n")
    done = lint_imports(root)
    assert done.returncode != 0, done.stdout[-2000:]
    assert "BROKEN" in done.stdout
    assert imported in done.stdout
