"""The whole pipeline with a small history and canary people, for the security checks.

`secured` brings up an isolated pipeline (tests/isolated_pipeline.py, as the e2e and
chaos suites do: its own source database, connector, topics, processors, sink and
ClickHouse database on the session's services), seeds a small history and commits
canary people:
names no generator produces, who buy tickets and are renamed, so their names travel
every path a real customer's name could take. The fixture returns once a canary's
purchase is visible in ClickHouse, so everything the scans look at has gone through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from connectors.db import connect
from connectors.seed import seed
from contracts.settings import Settings
from tests.support.isolated_pipeline import IsolatedPipeline
from tests.support.waiting import wait_until
from warehouse.executor import connect as ch_connect

CATCH_UP_SECONDS = 300.0


@dataclass(frozen=True)
class Secured:
    settings: Settings
    canaries: tuple[str, ...]
    """Exact names inserted as people (and a rename), none of them from the generator."""


def _insert_canaries(settings: Settings, tag: str) -> tuple[tuple[str, ...], int]:
    """Canary people who each buy a ticket; the last one is renamed. Returns the names
    and the id of the last canary ticket."""
    names = (f"Zyxcanary {tag} Alpha", f"Qwvcanary {tag} Beta")
    renamed = f"Jkqcanary {tag} Renamed"
    s = settings.source_schema
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            ticket = 0
            for name in names:
                cur.execute(f"insert into {s}.people (name) values (%s) returning id", (name,))
                (person,) = cur.fetchone()  # type: ignore[misc]
                cur.execute(f"insert into {s}.purchases (purchase_date, person_id) "
                            "values (now(), %s) returning id", (person,))
                (purchase,) = cur.fetchone()  # type: ignore[misc]
                cur.execute(f"insert into {s}.tickets (price, performance_id, purchase_id, "
                            f"ticketnum) select 25, min(id), %s, %s from {s}.performances "
                            "returning id", (purchase, f"canary-{tag}"))
                (ticket,) = cur.fetchone()  # type: ignore[misc]
            cur.execute(f"update {s}.people set name = %s where name = %s",
                        (renamed, names[-1]))
        return (*names, renamed), int(ticket)
    finally:
        conn.close()


def _wait_visible(settings: Settings, ticket: int) -> None:
    client = ch_connect(settings, reader=True)
    db = settings.clickhouse_database
    try:
        wait_until(lambda: client.query(f"SELECT count() FROM {db}.fact_ticket_sales "
                                        f"WHERE ticket_id = {ticket}").result_rows[0][0],
                   deadline_seconds=CATCH_UP_SECONDS, poll=0.2,
                   what=f"canary ticket {ticket} in ClickHouse (the pipeline flowing)")
    finally:
        client.close()


@pytest.fixture(scope="session")
def secured(postgres: Settings, kafka: Settings, connect: Settings,
            clickhouse: Settings) -> Iterator[Secured]:
    tag = uuid.uuid4().hex[:8]
    pipeline = IsolatedPipeline.create(postgres, f"sec_{tag}",
                                       say=lambda line: print(f"[security] {line}"))
    try:
        pipeline.up()
        settings = pipeline.settings
        seed(settings, scale=0.01, seed_value=11)
        canaries, ticket = _insert_canaries(settings, tag)
        _wait_visible(settings, ticket)
        yield Secured(settings=settings, canaries=canaries)
    finally:
        pipeline.remove()
