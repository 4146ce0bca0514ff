"""`kill -9` of Kafka Connect while `sell` runs: afterwards the topics hold the latest state
of every source row (duplicates allowed and counted, no gaps).

The kill comes once the initial snapshot is committed: Debezium restarts an interrupted
snapshot from scratch at a later WAL position, so rows deleted in between keep their
first snapshot record (docs/source.md, 'A crash during the snapshot')."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor
from connectors import manage
from connectors.db import connect
from connectors.seed import seed
from connectors.traffic import TrafficResult, sell
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES
from contracts.topics import cdc_topic
from tests.integration.connectors.test_seed_and_sell import counts
from tests.integration.connectors.topics import Event, read_all
from tests.support.waiting import wait_until

COLUMNS = {"bands": ("fee",), "venues": ("capacity",),
           "performances": ("band_id", "venue_id"), "people": (),
           "purchases": ("person_id",),
           "tickets": ("price", "performance_id", "purchase_id", "ticketnum")}


def _source_state(settings: Settings, table: str) -> dict[int, tuple[Any, ...]]:
    cols = ", ".join(("id", *COLUMNS[table]))
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"select {cols} from festival.{table}")
            return {row[0]: tuple(row[1:]) for row in cur.fetchall()}
    finally:
        conn.close()


def _topic_state(events: list[Event], table: str) -> dict[int, tuple[Any, ...]]:
    """Replay like a compacted topic: the last record per key wins; deletes remove."""
    state: dict[int, tuple[Any, ...]] = {}
    for e in events:
        key = e.key["id"]
        if e.value is None or e.value["after"] is None:
            state.pop(key, None)
        else:
            state[key] = tuple(e.value["after"][c] for c in COLUMNS[table])
    return state


def _difference(found: dict[int, tuple[Any, ...]], expected: dict[int, tuple[Any, ...]]
                ) -> str:
    """Which ids the topic lacks, has extra, or holds with other values (first ten each)."""
    missing = sorted(expected.keys() - found.keys())
    extra = sorted(found.keys() - expected.keys())
    changed = sorted(k for k in expected.keys() & found.keys() if expected[k] != found[k])
    return (f"{len(missing)} missing {missing[:10]}, {len(extra)} extra {extra[:10]}, "
            f"{len(changed)} with other values {changed[:10]}")


def _matching_topic(settings: Settings, table: str) -> list[Event]:
    """The table's topic once its replay equals the source. A timeout names the
    difference and the connector's state: together they tell a gap from a stuck task."""
    expected = _source_state(settings, table)
    events: list[Event] = []

    def matches() -> bool:
        events[:] = read_all(settings, cdc_topic(settings, table), timeout=60)
        return _topic_state(events, table) == expected

    try:
        wait_until(matches, deadline_seconds=180, poll=1.0,
                   what=f"the {table} topic to match the source")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {_difference(_topic_state(events, table), expected)}; connector "
            f"{manage.status(settings).as_dict()}") from None
    return events


def _duplicates(events: list[Event]) -> int:
    seen: set[tuple[Any, ...]] = set()
    dupes = 0
    for e in events:
        if e.value is None or e.value["op"] == "r":
            continue
        mark = (e.key["id"], e.value["op"], e.value["source"]["lsn"])
        dupes += mark in seen
        seen.add(mark)
    return dupes


def test_kill_connect_during_sell_loses_nothing(captured_source: Settings) -> None:
    s = captured_source
    seed(s, scale=0.01, seed_value=9)
    manage.apply(s, deadline_seconds=120)
    # a crash during the initial snapshot is a different story (docs/source.md)
    manage.wait_initial_snapshot(s, deadline_seconds=180)
    supervisor = Supervisor(settings=s, components=stack_components(s))
    component = supervisor.component("connect")

    before = counts(s)
    result: list[TrafficResult] = []
    seller = threading.Thread(target=lambda: result.append(
        sell(s, rate=60, duration=20, seed=21)))
    seller.start()
    wait_until(lambda: counts(s)["purchases"] > before["purchases"] + 50,
               deadline_seconds=30, poll=0.2, what="sell's purchases (traffic flowing)")
    pid = supervisor.pid_of(component)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    supervisor.up(["connect"], progress=lambda line: print(f"[stack] {line}"))
    seller.join(timeout=120)
    assert result and result[0].transactions > 0
    manage.wait_running(s, deadline_seconds=180)

    dupes = sum(_duplicates(_matching_topic(s, table)) for table in BUSINESS_TABLES)
    print(f"duplicates after kill -9: {dupes}")
