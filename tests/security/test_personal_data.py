"""No person's name leaves PostgreSQL: not in any Kafka topic, not in any ClickHouse table.

The design's rule (people.name is hashed with a secret salt by the connector) checked
where it matters, on the data at rest: every record of every topic (CDC, facts,
heartbeats, dead letters, Connect's and Kafka's internal topics, aborted transactions
included) and every row of every ClickHouse table, searched for the seeded people's
names, the canary names committed by the fixture, and their unsalted SHA-256 (a hash a
dictionary attack would reverse).
"""

from __future__ import annotations

import hashlib

import pytest

from connectors.db import connect
from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.security.conftest import Secured
from tests.security.scan import PERSON_NAME, clickhouse_tables, kafka_records, kafka_topics


def _people(settings: Settings) -> set[bytes]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"select name from {settings.source_schema}.people")
            return {row[0].encode() for row in cur.fetchall()}
    finally:
        conn.close()


def _needles(secured: Secured) -> list[bytes]:
    names = [c.encode() for c in secured.canaries]
    return names + [hashlib.sha256(n).hexdigest().encode() for n in names]


def _leaks(body: bytes, needles: list[bytes], people: set[bytes]) -> list[str]:
    found = [n.decode() for n in needles if n in body]
    found += sorted({m.decode() for m in PERSON_NAME.findall(body) if m in people})[:3]
    return found


@pytest.fixture(scope="module")
def people(secured: Secured) -> set[bytes]:
    names = _people(secured.settings)
    assert len(names) > 100, "the source should hold a seeded history of people"
    assert all(PERSON_NAME.search(c.encode()) is None for c in secured.canaries)
    return names


def test_no_name_in_any_kafka_topic(secured: Secured, people: set[bytes]) -> None:
    needles = _needles(secured)
    leaks: dict[str, list[str]] = {}
    scanned: set[str] = set()
    records = 0
    for topic, body in kafka_records(secured.settings):
        records += 1
        scanned.add(topic)
        found = _leaks(body, needles, people)
        if found:
            leaks.setdefault(topic, []).extend(found)
    people_topic = cdc_topic(secured.settings, "people")
    assert people_topic in scanned, "the people CDC topic should exist and hold records"
    assert scanned >= {secured.settings.facts_topic}
    assert records > 1000
    assert not leaks, {t: sorted(set(f))[:5] for t, f in leaks.items()}
    print(f"scanned {records} records in {len(scanned)} of "
          f"{len(kafka_topics(secured.settings))} topics")


def test_no_name_in_any_clickhouse_table(secured: Secured, people: set[bytes]) -> None:
    needles = _needles(secured)
    leaks: dict[str, list[str]] = {}
    tables = 0
    for table, body in clickhouse_tables(secured.settings):
        tables += 1
        found = _leaks(body, needles, people)
        if found:
            leaks[table] = found
    assert tables >= 5
    assert not leaks, leaks


def test_the_search_finds_what_it_looks_for() -> None:
    """A negative control for the two scans: a planted name and canary are reported."""
    people = {b"Maria K. Lopez"}
    body = b'{"after": {"name": "Maria K. Lopez"}}\t{"x": "Zyxcanary 1 Alpha"}'
    needles = [b"Zyxcanary 1 Alpha"]
    assert _leaks(body, needles, people) == ["Zyxcanary 1 Alpha", "Maria K. Lopez"]
    assert _leaks(b'{"person_key": "9f86d081"}', needles, people) == []
