"""Starts, watches and stops the stack's processes.

Each component runs detached in its own session so `boxoffice stack up` can return and a
later `stack down` (another process) can stop it by the pid recorded under
``<state_dir>/run``. A pid file is trusted only while the process it names still runs the
command we started, so a recycled pid is never killed by mistake.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Component, Progress
from boxoffice.stack.logfiles import open_private_log
from contracts.settings import Settings

STOP_GRACE_SECONDS = 20.0
PORT_RELEASE_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    ports: dict[str, int]
    log_file: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16_384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log yet)"
    return "\n".join(text.splitlines()[-lines:])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _process_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    parts = [p.decode(errors="replace") for p in raw.split(b"\0") if p]
    return parts or None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def process_alive(pid: object) -> bool:
    """Whether `pid` is a live process: one that exited but was not yet reaped by its
    parent (a zombie: a killed process whose parent still runs) is not."""
    return isinstance(pid, int) and Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


class Supervisor:
    """Owns the pid files and logs of one state directory."""

    def __init__(self, *, settings: Settings, components: Sequence[Component]) -> None:
        self.settings = settings
        self.components = list(components)
        self._by_name = {c.name: c for c in self.components}

    # --- pid bookkeeping -----------------------------------------------------------------
    def _pid_file(self, component: Component) -> Path:
        return self.settings.run_dir / f"{component.name}.json"

    def pid_of(self, component: Component) -> int | None:
        """The pid of the component if the process we started is still alive."""
        path = self._pid_file(component)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record["pid"])
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return None
        cmdline = _process_cmdline(pid)
        # A process that has just exec'd can show an empty cmdline for a moment.
        if cmdline is not None and cmdline[:1] != record["argv"][:1]:
            return None  # the pid was recycled by an unrelated process
        return pid

    # --- lifecycle -----------------------------------------------------------------------
    def install(self, names: Iterable[str] | None = None, progress: Progress = print) -> None:
        for component in self._select(names):
            component.install(progress)

    def up(self, names: Iterable[str] | None = None, progress: Progress = print) -> list[str]:
        """Start what is not running, in dependency order; return the names started.

        On any failure the components started by this call are stopped again, so a
        failed `up` leaves nothing half-started, and the error names the culprit.
        """
        started: list[Component] = []
        try:
            for component in self._with_dependencies(names):
                if self.pid_of(component) is not None:
                    if component.is_healthy():
                        progress(f"{component.name}: already running")
                        continue
                    if self._wait_healthy(component, progress, restart_if_gone=True):
                        continue
                    progress(f"{component.name}: the earlier process exited; starting anew")
                component.install(progress)
                self._check_ports_free(component)
                component.prepare()
                self._spawn(component)
                started.append(component)
                self._wait_healthy(component, progress)
                component.after_healthy()
                progress(f"{component.name}: healthy on {self._port_text(component)}")
        except BaseException:
            for component in reversed(started):
                self.stop(component)
            raise
        return [c.name for c in started]

    def down(self, names: Iterable[str] | None = None, progress: Progress = print) -> None:
        """Stop components (reverse dependency order), keeping their data."""
        for component in reversed(self._with_dependencies(names, downstream=True)):
            if self.stop(component):
                progress(f"{component.name}: stopped")

    def stop(self, component: Component) -> bool:
        pid = self.pid_of(component)
        self._pid_file(component).unlink(missing_ok=True)
        if pid is None:
            return False
        self._signal_group(pid, component.stop_signal)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                break
            time.sleep(0.2)
        else:
            self._signal_group(pid, signal.SIGKILL)
        self._signal_group(pid, signal.SIGKILL)  # stragglers in the process group
        return True

    def status(self) -> list[ComponentStatus]:
        result = []
        for component in self.components:
            pid = self.pid_of(component)
            healthy = pid is not None and component.is_healthy()
            result.append(
                ComponentStatus(
                    name=component.name,
                    running=pid is not None,
                    healthy=healthy,
                    pid=pid,
                    ports=component.ports,
                    log_file=str(component.log_file),
                )
            )
        return result

    def component(self, name: str) -> Component:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise ComponentError(name, f"no such component; known: {known}") from None

    # --- internals -----------------------------------------------------------------------
    def _select(self, names: Iterable[str] | None) -> list[Component]:
        """The named components; a name also stands for its numbered siblings
        (`processors` for `processors-1` ..., `sink` for `sink-1` ...)."""
        if names is None:
            return list(self.components)
        chosen = [self.component(n) for n in names]
        wanted = {c.name for c in chosen}
        siblings = [c for c in self.components if c.name not in wanted and any(
            c.name.startswith(f"{n}-") and c.name[len(n) + 1:].isdigit() for n in wanted)]
        return [c for c in self.components if c in chosen or c in siblings]

    def _with_dependencies(
        self, names: Iterable[str] | None, *, downstream: bool = False
    ) -> list[Component]:
        """The selection plus what it needs (or, for stopping, what needs it), in order."""
        wanted = {c.name for c in self._select(names)}
        changed = True
        while changed:
            changed = False
            for component in self.components:
                if downstream:
                    if component.name not in wanted and wanted & set(component.depends_on):
                        wanted.add(component.name)
                        changed = True
                elif component.name in wanted:
                    missing = set(component.depends_on) - wanted
                    if missing & set(self._by_name):
                        wanted |= missing & set(self._by_name)
                        changed = True
        return [c for c in self.components if c.name in wanted]

    def _check_ports_free(self, component: Component) -> None:
        """Refuse ports another program holds, after a short grace period: a process we
        just killed (many-threaded JVMs especially) can keep its sockets for a moment
        after its main thread is gone."""
        for role, port in component.ports.items():
            deadline = time.monotonic() + PORT_RELEASE_GRACE_SECONDS
            while port_in_use(self.settings.bind_host, port) and time.monotonic() < deadline:
                time.sleep(0.25)
            if port_in_use(self.settings.bind_host, port):
                raise ComponentError(
                    component.name,
                    f"port {port} ({role}) is already in use by another program; stop it or "
                    f"choose another port with {self._port_variable(port)}",
                    log_file=str(component.log_file),
                )

    def _port_variable(self, port: int) -> str:
        """The environment variable that sets this port, named from the settings field."""
        for name in type(self.settings).model_fields:
            if name.endswith("_port") and getattr(self.settings, name) == port:
                return f"BOXOFFICE_{name.upper()}"
        return "the BOXOFFICE_*_PORT variables in contracts/settings.py"

    def _spawn(self, component: Component) -> None:
        spec = component.launch_spec()
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **spec.env}
        user = spec.run_as if os.geteuid() == 0 else None
        log = open_private_log(component.log_file)
        log.write(f"\n=== boxoffice: starting {component.name}: {spec.argv}\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                spec.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=spec.cwd,
                env=env,
                start_new_session=True,
                user=user,
                group=pwd.getpwnam(user).pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        except OSError as exc:
            raise ComponentError(
                component.name, f"could not start {spec.argv[0]}: {exc}",
                log_file=str(component.log_file),
            ) from exc
        finally:
            log.close()
        record = {"pid": process.pid, "argv": spec.argv, "started_at": time.time()}
        self._pid_file(component).write_text(json.dumps(record))

    def _wait_healthy(
        self, component: Component, progress: Progress, *, restart_if_gone: bool = False
    ) -> bool:
        """Wait until the component answers its health check.

        With `restart_if_gone`, a process that exits while we wait is not an error but a
        reason to start a new one (False is returned): a process killed a moment ago can
        still be in /proc while its threads are torn down, so `up` right after `kill -9`
        first sees it "running" and then sees it vanish.
        """
        budget = component.health_deadline_seconds or self.settings.health_deadline_seconds
        deadline = time.monotonic() + budget
        progress(f"{component.name}: waiting for health (up to {budget:.0f} s)")
        while time.monotonic() < deadline:
            if component.is_healthy():
                return True
            if self.pid_of(component) is None:
                if restart_if_gone:
                    return False
                raise ComponentError(
                    component.name,
                    "exited during start-up",
                    log_file=str(component.log_file),
                    log_tail=tail(component.log_file),
                )
            time.sleep(0.5)
        raise ComponentError(
            component.name,
            f"not healthy after {budget:.0f} s",
            log_file=str(component.log_file),
            log_tail=tail(component.log_file),
        )

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    @staticmethod
    def _port_text(component: Component) -> str:
        return ", ".join(f"{role} {port}" for role, port in component.ports.items()) or "-"
