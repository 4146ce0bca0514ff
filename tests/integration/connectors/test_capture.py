"""Debezium over the seeded source: snapshot, every kind of change, no person's name.

A story, as debezium-examples tell them: seed, register, wait for RUNNING, check the
snapshot, then insert, update and delete in each table and check each event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors import manage
from connectors.db import connect
from connectors.seed import seed
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES
from contracts.topics import cdc_topic
from tests.integration.connectors.test_seed_and_sell import counts
from tests.integration.connectors.topics import Event, list_topics, read_all, wait_for

CLEAR_NAME = "Zelda Q. Cleartext"
RENAMED = "Zelda Q. Renamed"
_STRINGS = re.compile(rb'"((?:[^"\\]|\\.)*)"')


def _execute(settings: Settings, statement: str, args: tuple[Any, ...] = ()) -> Any:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, args)
            return cur.fetchone()[0] if cur.description else None
    finally:
        conn.close()


def _changes(settings: Settings) -> dict[str, tuple[int, dict[str, Any], dict[str, Any]]]:
    """Insert, update and delete one row per table; (id, inserted, updated) per table."""
    made: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {}
    steps: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
        "venues": ("(name, capacity) values ('Test Stage', 100)",
                   "capacity = 150", {"name": "Test Stage", "capacity": 100},
                   {"capacity": 150}),
        "bands": ("(name, fee) values ('The Test Band', 50)", "name = 'The Retest Band'",
                  {"name": "The Test Band", "fee": 50}, {"name": "The Retest Band"}),
        "people": (f"(name) values ('{CLEAR_NAME}')", f"name = '{RENAMED}'", {}, {}),
        "performances": ("(performance_start, band_id, venue_id) values "
                         "('2030-10-04T19:00:00Z', 1, 1)", "venue_id = 2",
                         {"performance_start": "2030-10-04T19:00:00.000000Z", "band_id": 1,
                          "venue_id": 1}, {"venue_id": 2}),
        "purchases": ("(purchase_date, person_id) values ('2030-05-01T10:00:00Z', 1)",
                      "person_id = 2", {"purchase_date": "2030-05-01T10:00:00.000000Z",
                                        "person_id": 1}, {"person_id": 2}),
        "tickets": ("(price, performance_id, purchase_id, ticketnum) values "
                    "(25, 1, 1, 'T-1')", "price = 27",
                    {"price": 25, "performance_id": 1, "purchase_id": 1, "ticketnum": "T-1"},
                    {"price": 27}),
    }
    for table, (insert, update, inserted, updated) in steps.items():
        row_id = _execute(settings, f"insert into festival.{table} {insert} returning id")
        _execute(settings, f"update festival.{table} set {update} where id = %s", (row_id,))
        _execute(settings, f"delete from festival.{table} where id = %s", (row_id,))
        made[table] = (row_id, inserted, updated)
    return made


def _reads_at_least(count: int) -> Callable[[list[Event]], bool]:
    def enough(events: list[Event]) -> bool:
        return sum(1 for e in events if e.value and e.value["op"] == "r") >= count

    return enough


def _events_for_key(row_id: int, count: int) -> Callable[[list[Event]], bool]:
    def enough(events: list[Event]) -> bool:
        return sum(1 for e in events if e.key == {"id": row_id}) >= count

    return enough


def _incremental_reads_at_least(n: int) -> Callable[[list[Event]], bool]:
    return lambda events: sum(1 for e in events if e.value and
                              e.value["source"].get("snapshot") == "incremental") >= n


def test_snapshot_changes_and_no_clear_names(captured_source: Settings) -> None:
    s = captured_source
    seed(s, scale=0.01, seed_value=4)
    expected = counts(s)

    state = manage.apply(s, deadline_seconds=120)
    assert state.running and state.slot.exists

    # 1. every row present before the connector started arrives through the snapshot
    snapshots: dict[str, list[Event]] = {}
    for table in BUSINESS_TABLES:
        snapshots[table] = wait_for(s, cdc_topic(s, table), _reads_at_least(expected[table]),
                                    deadline_seconds=180)
        reads = {e.key["id"] for e in snapshots[table] if e.value and e.value["op"] == "r"}
        assert len(reads) == expected[table], table

    # 2. an insert, an update and a delete per table: c, u, d, tombstone, in order per key
    made = _changes(s)
    for table, (row_id, inserted, updated) in made.items():
        events = wait_for(s, cdc_topic(s, table), _events_for_key(row_id, 4),
                          deadline_seconds=60)
        mine = [e for e in events if e.key == {"id": row_id}]
        assert [e.value["op"] if e.value else None for e in mine] == ["c", "u", "d", None]
        create, update, delete, _tombstone = (e.value for e in mine)
        assert create["before"] is None
        assert create["after"]["id"] == row_id
        assert {k: create["after"][k] for k in inserted} == inserted, table
        assert {k: update["after"][k] for k in updated} == updated, table
        assert delete["after"] is None and delete["before"]["id"] == row_id
        assert create["source"]["lsn"] < update["source"]["lsn"] < delete["source"]["lsn"]
        if table in ("tickets", "purchases", "performances"):  # REPLICA IDENTITY FULL
            assert update["before"] == {**create["after"]}, table
            assert delete["before"] == update["after"], table
        if table == "people":  # the name is neither published nor granted: no column
            assert "name" not in create["after"] and "name" not in update["after"]
            assert "name" not in delete["before"]

    # 3. an incremental snapshot through the signal table re-reads a table, people too
    #    (whose name column the replication role may not select)
    manage.snapshot(s, ["venues", "people"])
    for table in ("venues", "people"):
        events = wait_for(s, cdc_topic(s, table), _incremental_reads_at_least(expected[table]),
                          deadline_seconds=90)
        assert all("name" not in e.value["after"] for e in events
                   if table == "people" and e.value and e.value["after"])

    # 4. no person's name in clear text in any message of any topic
    conn = connect(s, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("select distinct name from festival.people")
        names = {r[0].encode() for r in cur.fetchall()} | {CLEAR_NAME.encode(),
                                                            RENAMED.encode()}
    conn.close()
    topics = list_topics(s, f"{s.topic_prefix}.") + list_topics(
        s, f"__debezium-heartbeat.{s.topic_prefix}")
    scanned = 0
    for name in topics:
        for event in read_all(s, name):
            scanned += 1
            strings = set(_STRINGS.findall(event.raw))
            assert not strings & names, (name, event.offset)
            assert b"Zelda" not in event.raw
    assert scanned > sum(expected.values())

    # 5. status: running, a slot with a WAL figure, a recent event time, no warnings
    current = manage.status(s)
    assert current.running
    assert current.slot.retained_bytes is not None and current.slot.wal_status == "reserved"
    assert current.last_event is not None
    assert current.warnings == []


def test_apply_is_idempotent(captured_source: Settings) -> None:
    s = captured_source
    first = manage.apply(s, deadline_seconds=120)
    again = manage.apply(s, deadline_seconds=120)
    assert first.running and again.running
    manage.pause(s)
    manage.resume(s)
    assert manage.restart(s, deadline_seconds=120).running
