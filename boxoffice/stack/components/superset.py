"""Apache Superset in its own virtualenv, with SQLite metadata under the state directory.

Superset pins Flask, SQLAlchemy 1.4 and pandas versions that the project's own
environment must not inherit, so it gets a virtualenv under the tool cache
(``<tools>/superset-<version>``), installed once against ``superset/constraints.txt``.
Its configuration (``superset/superset_config.py``) reads only the environment built
here. Metadata migrations, role sync and the admin user run once per state directory
and Superset version, so a warm start is just gunicorn booting.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Component, LaunchSpec, Progress
from boxoffice.stack.install import exclusive, run_step
from boxoffice.stack.logfiles import append_to_private_log
from contracts.settings import GENERATED_SECRETS, REPO_ROOT

SUPERSET_DIR = REPO_ROOT / "superset"
CONFIG_FILE = SUPERSET_DIR / "superset_config.py"
CONSTRAINTS_FILE = SUPERSET_DIR / "constraints.txt"
PROBE_TIMEOUT_SECONDS = 1.5
# Two cores: two gunicorn workers with a few threads each serve a handful of analysts;
# SQL Lab runs queries synchronously inside these threads.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
GUNICORN_TIMEOUT_SECONDS = 120
ADMIN_FIRST_NAME = "Box"
ADMIN_LAST_NAME = "Office"
ADMIN_EMAIL = "admin@boxoffice.invalid"


class Superset(Component):
    name = "superset"
    depends_on = ("clickhouse",)
    health_deadline_seconds = 180.0

    @property
    def ports(self) -> dict[str, int]:
        return {"http": self.settings.superset_port}

    # --- paths ----------------------------------------------------------------------------
    @property
    def venv(self) -> Path:
        return self.settings.tools / f"superset-{self.settings.superset_version}"

    @property
    def home(self) -> Path:
        """SUPERSET_HOME: uploads and Superset's own files, kept under the state dir."""
        return self.data_dir / "home"

    @property
    def metadata_db(self) -> Path:
        return self.data_dir / "superset.db"

    @property
    def install_log(self) -> Path:
        return self.settings.logs_dir / "superset-install.log"

    @property
    def _install_marker(self) -> Path:
        return self.venv / ".boxoffice-installed"

    @property
    def _metadata_marker(self) -> Path:
        return self.data_dir / f".metadata-ready-{self.settings.superset_version}"

    def _install_fingerprint(self) -> str:
        """Changes when the version, the interpreter or the constraints change."""
        digest = hashlib.sha256()
        digest.update(self.settings.superset_version.encode())
        digest.update(self.settings.superset_python.encode())
        digest.update(CONSTRAINTS_FILE.read_bytes())
        return digest.hexdigest()

    # --- install --------------------------------------------------------------------------
    def is_installed(self) -> bool:
        marker = self._install_marker
        return marker.exists() and marker.read_text().strip() == self._install_fingerprint()

    def install(self, progress: Progress) -> None:
        if self.is_installed():
            return
        with exclusive(self.settings.tools / f"superset-{self.settings.superset_version}.lock"):
            if self.is_installed():  # another process finished it while we waited
                return
            self._install_venv(progress)

    def _install_venv(self, progress: Progress) -> None:
        s = self.settings
        python = shutil.which(s.superset_python)
        if python is None:
            raise ComponentError(
                self.name,
                f"the interpreter {s.superset_python!r} (settings.superset_python) is not on "
                "PATH; install Python 3.11 or set BOXOFFICE_SUPERSET_PYTHON to one",
            )
        progress(f"superset: installing apache-superset {s.superset_version} into {self.venv} "
                 "(once; takes a minute or two)")
        shutil.rmtree(self.venv, ignore_errors=True)
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        run_step([python, "-m", "venv", str(self.venv)], component=self.name,
                 what="creating Superset's virtualenv", log_file=self.install_log)
        run_step(
            [
                str(self.venv / "bin" / "pip"), "install",
                "--disable-pip-version-check", "--no-input", "--quiet",
                "--constraint", str(CONSTRAINTS_FILE),
                f"apache-superset=={s.superset_version}",
                "clickhouse-connect",
                "gunicorn",
                # Superset 6 imports these without declaring them (4.x got both through
                # other packages): rich in its CLI, cachetools in the engine specs
                # (without it no database driver loads)
                "rich",
                "cachetools",
                "setuptools",
            ],
            component=self.name,
            what=f"installing apache-superset {s.superset_version} (if a pin conflicts, "
                 f"regenerate {CONSTRAINTS_FILE.name} as its header says)",
            log_file=self.install_log,
        )
        self._install_marker.write_text(self._install_fingerprint())
        progress(f"superset: installed into {self.venv}")

    # --- the superset command line --------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """What superset_config.py reads, plus what Superset's CLI and gunicorn need."""
        s = self.settings
        return {
            "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
            "SUPERSET_SECRET_KEY": s.secret("superset_secret_key"),
            "BOXOFFICE_SUPERSET_DB_URI": f"sqlite:///{self.metadata_db}",
            "SUPERSET_HOME": str(self.home),
            "FLASK_APP": "superset.app:create_app()",
            "PYTHONPATH": "",
            "PYTHONUNBUFFERED": "1",
            "SCARF_ANALYTICS": "false",
        }

    def cli(self, args: Sequence[str], *, what: str, stdin: str | None = None) -> str:
        """Run ``superset <args>`` in Superset's virtualenv; output goes to the log."""
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(self.venv / "bin" / "superset"), *args]
        env = {**os.environ, **self.environment()}
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env,
                                cwd=self.data_dir)
        output = result.stdout + result.stderr
        append_to_private_log(self.log_file,
                              f"\n=== boxoffice: superset {' '.join(args)}\n{output}")
        if result.returncode != 0:
            raise ComponentError(
                self.name, f"{what} failed (exit {result.returncode})",
                log_file=str(self.log_file),
                log_tail="\n".join(output.splitlines()[-20:]),
            )
        return output

    # --- metadata -------------------------------------------------------------------------
    def ensure_metadata(self, *, force: bool = False) -> bool:
        """Migrate the metadata DB, sync roles and create the admin; skipped when done.

        Returns True when the work ran (a cold start or `force`).
        """
        if self._metadata_marker.exists() and not force:
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.cli(["db", "upgrade"], what="migrating Superset's metadata database")
        self.cli(["init"], what="creating Superset's roles and permissions")
        self.ensure_admin()
        for stale in self.data_dir.glob(".metadata-ready-*"):
            stale.unlink()
        self._metadata_marker.write_text("ok\n")
        return True

    def ensure_admin(self) -> None:
        """Create the admin user with the generated password (stdin keeps it off argv)."""
        password = self.settings.secret("superset_admin_password")
        output = self.cli(
            ["fab", "create-admin", "--username", self.settings.superset_admin_user,
             "--firstname", ADMIN_FIRST_NAME, "--lastname", ADMIN_LAST_NAME,
             "--email", ADMIN_EMAIL],
            what="creating Superset's admin user", stdin=f"{password}\n{password}\n",
        )
        if "already exists" in output:
            self.reset_admin_password()

    def reset_admin_password(self) -> None:
        password = self.settings.secret("superset_admin_password")
        self.cli(["fab", "reset-password", "--username", self.settings.superset_admin_user],
                 what="resetting Superset's admin password", stdin=f"{password}\n{password}\n")

    # --- lifecycle ------------------------------------------------------------------------
    def prepare(self) -> None:
        self.ensure_metadata()
        if not self._scrubbed_marker.exists():  # once: the scrubbing logger keeps it so
            self.purge_logged_credentials()
            self._scrubbed_marker.write_text("ok\n")
        os.chmod(self.metadata_db, 0o600)  # its journals inherit the mode

    @property
    def _scrubbed_marker(self) -> Path:
        """Written once the action log holds no credential: the purge scans the whole
        log, which grows with every dashboard refresh, so it runs once, not per start."""
        return self.data_dir / ".logs-scrubbed"

    def purge_logged_credentials(self) -> None:
        """Delete action-log records that hold a generated secret and vacuum the file
        (deleted rows stay in free pages until then). Superset logged request bodies,
        the warehouse connection's URI and password among them, before superset_config's
        ScrubbingEventLogger; an installation made before it still has those rows. Runs
        while Superset is stopped: SQLite has one writer."""
        if not self.metadata_db.exists():
            return
        secrets = [value.get_secret_value() for name in GENERATED_SECRETS
                   if (value := getattr(self.settings, name)) is not None]
        with contextlib.closing(sqlite3.connect(self.metadata_db)) as db:
            if not db.execute("select 1 from sqlite_master where name = 'logs'").fetchone():
                return
            purged = sum(db.execute("delete from logs where instr(json, ?) > 0",
                                    (secret,)).rowcount for secret in secrets)
            db.commit()
            if purged:
                db.execute("vacuum")

    def launch_spec(self) -> LaunchSpec:
        s = self.settings
        return LaunchSpec(
            # the interpreter first: the supervisor recognises its process by argv[0]
            argv=[
                str(self.venv / "bin" / "python"), "-m", "gunicorn",
                "--bind", f"{s.bind_host}:{s.superset_port}",
                "--workers", str(GUNICORN_WORKERS),
                "--worker-class", "gthread",
                "--threads", str(GUNICORN_THREADS),
                "--timeout", str(GUNICORN_TIMEOUT_SECONDS),
                "--graceful-timeout", "10",
                # build the app once in the master and fork it: half the start-up CPU on
                # two cores; safe because the SQLite metadata engine pools nothing
                "--preload",
                "--limit-request-line", "0",
                "--limit-request-field_size", "0",
                "superset.app:create_app()",
            ],
            env=self.environment(),
            cwd=self.data_dir,
        )

    def is_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.settings.superset_url}/health",
                                        timeout=PROBE_TIMEOUT_SECONDS) as response:
                return bool(response.status == 200 and response.read().strip() == b"OK")
        except (OSError, urllib.error.URLError):
            return False

