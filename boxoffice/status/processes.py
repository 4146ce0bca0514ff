"""Each supervised process: running (its pid alive) and healthy (its own probe).

Uses Supervisor.status() one component at a time, each in its own thread by the
collector, so one slow probe never hides the others."""

from __future__ import annotations

from collections.abc import Callable

from boxoffice.stack.component import Component
from boxoffice.stack.supervisor import Supervisor
from boxoffice.status.model import DOWN, OK, UNHEALTHY, Section
from contracts.settings import Settings


def components(settings: Settings) -> list[Component]:
    from boxoffice.stack.components import stack_components

    return stack_components(settings)


def process_probe(settings: Settings, component: Component) -> Callable[[], Section]:
    def probe() -> Section:
        (status,) = Supervisor(settings=settings, components=[component]).status()
        if not status.running:
            state, summary = DOWN, "down"
        elif not status.healthy:
            state, summary = UNHEALTHY, f"running (pid {status.pid}) but not healthy"
        else:
            state, summary = OK, f"up (pid {status.pid})"
        return Section(name=f"process:{component.name}", state=state, summary=summary,
                       data={"running": status.running, "healthy": status.healthy,
                             "pid": status.pid, "ports": status.ports,
                             "log_file": status.log_file})

    return probe
