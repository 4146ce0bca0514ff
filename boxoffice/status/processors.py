"""The stream processors' own numbers: pending joins, events/s, dead letters, lag.

Adapter over what stream_processors exposes: each Faust worker serves its metrics
snapshot as JSON at /boxoffice/metrics/ on faust_web_port + worker index
(stream_processors.app.METRICS_PAGE). A worker that does not answer counts as down.
"""

from __future__ import annotations

from typing import Any

import requests

from boxoffice.status.model import DOWN, OK, UNHEALTHY, WARN, Section, stopped_summary
from contracts.settings import Settings

METRICS_PAGE = "/boxoffice/metrics/"
"""Same path as stream_processors.app.METRICS_PAGE (not imported: that module loads Faust)."""
TIMEOUT_SECONDS = 1.0


def worker_urls(settings: Settings) -> list[str]:
    return [f"http://{settings.bind_host}:{settings.faust_web_port + index}{METRICS_PAGE}"
            for index in range(max(settings.faust_workers, 1))]


def summarise(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the workers that answered (pure)."""
    def total(name: str) -> float:
        return sum(float(s.get(name) or 0) for s in snapshots)

    return {
        "pending_joins": int(total("pending_joins")),
        "events_in_per_s": round(total("events_in_per_s"), 1),
        "events_out_per_s": round(total("events_out_per_s"), 1),
        "facts_out": int(total("facts_out")),
        "dead_letters": int(total("dead_letters")),
        "duplicates": int(total("duplicates")),
        "heartbeats": int(total("heartbeats")),
        "consumer_lag": int(total("consumer_lag")),
    }


def processors_section(settings: Settings) -> Section:
    snapshots: list[dict[str, Any]] = []
    missing: list[str] = []
    for url in worker_urls(settings):
        try:
            response = requests.get(url, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            snapshots.append(response.json())
        except (requests.RequestException, ValueError):
            missing.append(url)
    return judge(snapshots, missing)


def judge(snapshots: list[dict[str, Any]], missing: list[str]) -> Section:
    """The section from the workers' snapshots and the pages that did not answer (pure)."""
    if not snapshots:
        return Section(name="processors", state=DOWN,
                       summary="no Faust worker answers its metrics page",
                       data={"workers_up": 0, "workers_expected": len(missing),
                             "pending_joins": None})
    totals = summarise(snapshots)
    stopped = {partition: details for s in snapshots
               for partition, details in (s.get("stopped_tables") or {}).items()}
    went_back = next((s["source_went_back"] for s in snapshots if s.get("source_went_back")),
                     None)
    if went_back:
        return Section(name="processors", state=UNHEALTHY,
                       summary=f"THE SOURCE WENT BACK IN TIME: a heartbeat at LSN "
                               f"{went_back['lsn']} came after LSN {went_back['after_lsn']}; "
                               "the join drops every change at or below the LSNs it has "
                               f"seen, so new changes are not counted. Fix: "
                               f"{went_back['fix']}",
                       data={"workers_up": len(snapshots), "source_went_back": went_back,
                             "workers_expected": len(snapshots) + len(missing), **totals})
    if stopped:
        return Section(name="processors", state=UNHEALTHY,
                       summary=f"running; {stopped_summary(stopped)}",
                       data={"workers_up": len(snapshots), "stopped_tables": stopped,
                             "workers_expected": len(snapshots) + len(missing), **totals})
    state = WARN if missing else OK
    summary = (f"{len(snapshots)}/{len(snapshots) + len(missing)} workers, "
               f"{totals['pending_joins']:,} pending joins, "
               f"{totals['events_in_per_s']:,} events/s in")
    return Section(name="processors", state=state, summary=summary,
                   data={"workers_up": len(snapshots),
                         "workers_expected": len(snapshots) + len(missing), **totals})
