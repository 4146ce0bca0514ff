"""Run every status probe at once, each in its own daemon thread, under one deadline.

A probe still waiting when the deadline passes is reported "unknown (timed out)" and left
behind (daemon threads do not delay exit), so a hung service can never make `status`
slow: a stopped process shows within the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from boxoffice.status.connector import connector_section
from boxoffice.status.coverage import coverage_section
from boxoffice.status.dead_letters import dead_letters_section
from boxoffice.status.freshness import freshness_section
from boxoffice.status.lag import lag_section
from boxoffice.status.model import UNKNOWN, Section, StatusReport
from boxoffice.status.processes import components, process_probe
from boxoffice.status.processors import processors_section
from boxoffice.status.sink import sink_section
from boxoffice.status.topics import topics_section
from contracts.settings import Settings

DEADLINE_SECONDS = 4.0
Probe = Callable[[], Section]


def probes(settings: Settings) -> dict[str, Probe]:
    """Section name -> probe, in display order."""
    out: dict[str, Probe] = {f"process:{c.name}": process_probe(settings, c)
                             for c in components(settings)}
    out["connector"] = lambda: connector_section(settings)
    out["source_tables"] = lambda: coverage_section(settings)
    out["consumer_lag"] = lambda: lag_section(settings)
    out["processors"] = lambda: processors_section(settings)
    out["dead_letters"] = lambda: dead_letters_section(settings)
    out["sink"] = lambda: sink_section(settings)
    out["freshness"] = lambda: freshness_section(settings)
    out["topics"] = lambda: topics_section(settings)
    return out


def run_probes(named: dict[str, Probe], *, deadline_seconds: float) -> list[Section]:
    started = time.monotonic()
    results: dict[str, Section] = {}
    lock = threading.Lock()

    def run(name: str, probe: Probe) -> None:
        try:
            section = probe()
        except Exception as exc:  # a probe must never take the others down
            section = Section(name=name, state=UNKNOWN,
                              summary=f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}")
        with lock:
            results[name] = section

    threads = [threading.Thread(target=run, args=(name, probe), daemon=True,
                                name=f"status-{name}") for name, probe in named.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(started + deadline_seconds - time.monotonic(), 0.0))
    with lock:
        return [results.get(name) or Section(
            name=name, state=UNKNOWN, summary=f"timed out after {deadline_seconds:.0f} s")
            for name in named]


def collect_status(settings: Settings, *, deadline_seconds: float = DEADLINE_SECONDS
                   ) -> StatusReport:
    started = time.monotonic()
    sections = run_probes(probes(settings), deadline_seconds=deadline_seconds)
    return StatusReport(sections=sections, collected_at=time.time(),
                        seconds=time.monotonic() - started)
