"""The faults themselves: kill -9, a stall (SIGSTOP ... SIGCONT) and a clean restart.

Signals go to the component's whole process group (the supervisor starts each one in its
own session), so a crash takes every process of the component at once, as a machine
losing the service would, and a stall freezes all of them.
"""

from __future__ import annotations

import os
import signal
import time

from boxoffice.stack.supervisor import Supervisor
from tests.support.waiting import wait_until

GONE_DEADLINE_SECONDS = 15.0


def _say(line: str) -> None:
    print(f"[chaos] {line}")


def pid(supervisor: Supervisor, name: str) -> int:
    found = supervisor.pid_of(supervisor.component(name))
    assert found is not None, f"{name} is not running before the fault"
    return found


def kill9(supervisor: Supervisor, name: str) -> None:
    """SIGKILL the component's process group and wait until the supervisor sees it gone."""
    target = pid(supervisor, name)
    os.killpg(target, signal.SIGKILL)
    wait_until(lambda: supervisor.pid_of(supervisor.component(name)) is None,
               deadline_seconds=GONE_DEADLINE_SECONDS, poll=0.1,
               what=f"{name} (pid {target}) to be gone after SIGKILL")
    _say(f"{name}: killed (pid {target})")


def start(supervisor: Supervisor, name: str) -> None:
    """What an operator's `boxoffice up` does for it: start it and wait for health."""
    supervisor.up([name], progress=_say)


def stall(supervisor: Supervisor, name: str, seconds: float) -> None:
    """Freeze the component for `seconds` (SIGSTOP), then let it go on (SIGCONT)."""
    target = pid(supervisor, name)
    os.killpg(target, signal.SIGSTOP)
    _say(f"{name}: stopped (SIGSTOP, pid {target}) for {seconds:.0f} s")
    try:
        time.sleep(seconds)  # the stall is the fault itself, not a wait for a condition
    finally:
        os.killpg(target, signal.SIGCONT)
        _say(f"{name}: continued (SIGCONT)")


def restart(supervisor: Supervisor, name: str) -> None:
    """A clean stop (the component's own stop signal) and a start."""
    supervisor.stop(supervisor.component(name))
    _say(f"{name}: stopped")
    start(supervisor, name)
