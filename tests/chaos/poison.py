"""Poison records for the CDC topics: each one a contract break the pipeline must route
to the dead-letter topic, never store and never stop on.

Keys use negative ids, which no source row has, so the compacted topics keep every real
row's latest value and no dimension or fact could be confused with a real one.
"""

from __future__ import annotations

import json

from confluent_kafka import Producer

from contracts.settings import Settings
from contracts.topics import cdc_topic
from tests.chaos.deadletters import Origin

__all__ = ["FACTS", "POISON", "Origin", "inject"]

SOURCE = {"lsn": 1, "ts_ms": 1}

POISON: dict[str, list[bytes]] = {
    # read by the processors
    "tickets": [
        b'{"op": "c", "after": {"id": -101',  # malformed JSON (cut short)
        json.dumps({"op": "c", "source": SOURCE,  # wrong shape: price is text, no purchase
                    "after": {"id": -102, "price": "free"}}).encode(),
        b"[1, 2, 3]",  # JSON, but not an envelope
    ],
    # read by both: the processors refuse a non-text date, the sink one out of 1970-2261
    # (an integer it once converted with an exception that stopped it at every restart)
    "performances": [
        json.dumps({"op": "c", "source": SOURCE,
                    "after": {"id": -301, "performance_start": 2**63 - 1, "band_id": 1,
                              "venue_id": 1}}).encode(),
    ],
    # read by the sink (dimension)
    "bands": [
        b"\xff\xfe not even text",
        json.dumps({"op": "c", "source": SOURCE,  # wrong shape: name a number, fee text
                    "after": {"id": -201, "name": 42, "fee": "a lot"}}).encode(),
    ],
    # a negative timestamp (before 1970) and one past what a datetime can hold
    "purchases": [
        json.dumps({"op": "c", "source": SOURCE,
                    "after": {"id": -401, "purchase_date": -1, "person_id": 1}}).encode(),
    ],
    "venues": [
        json.dumps({"op": "c", "source": SOURCE,  # capacity past Int64
                    "after": {"id": -501, "name": "Nowhere", "capacity": 2**63}}).encode(),
    ],
    "people": [
        json.dumps({"op": "t", "source": SOURCE}).encode(),  # a truncate: no row
    ],
}
"""Per CDC table, records that break the change format's contract."""

FACTS: list[bytes] = [
    json.dumps({"ticket_id": -1, "sign": 1}).encode(),  # missing fields
    json.dumps({"ticket_id": -2, "purchase_id": 1, "performance_id": 1, "band_id": 1,
                "venue_id": 1, "person_key": "k", "ticket_price": 1,
                "purchase_date": "1969-12-31T23:59:59Z",  # negative epoch time
                "performance_start": "2022-10-07T19:00:00Z", "festival_year": 2022,
                "sign": 1, "version": 1, "source_ts_ms": 1}).encode(),
    json.dumps({"ticket_id": -3, "purchase_id": 1, "performance_id": 1, "band_id": 1,
                "venue_id": 1, "person_key": "k", "ticket_price": 1,
                "purchase_date": "2022-10-07T19:00:00Z",
                "performance_start": "9999-12-31T23:59:59Z",  # past 2261
                "festival_year": 2022, "sign": 1, "version": 1,
                "source_ts_ms": 1}).encode(),
]
"""Facts the sink must refuse (the processors never write such a record)."""


def inject(settings: Settings) -> set[Origin]:
    """Produce every poison record; return their (topic, partition, offset)."""
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
    origins: set[Origin] = set()
    failures: list[str] = []

    def delivered(error: object, message: object) -> None:
        if error is not None:
            failures.append(str(error))
        else:
            origins.add((message.topic(), message.partition(),  # type: ignore[attr-defined]
                         message.offset()))  # type: ignore[attr-defined]

    for table, values in POISON.items():
        for number, value in enumerate(values, start=1):
            producer.produce(cdc_topic(settings, table), key=json.dumps({"id": -number}).encode(),
                             value=value, on_delivery=delivered)
    for number, value in enumerate(FACTS, start=1):
        producer.produce(settings.facts_topic, key=str(-number).encode(), value=value,
                         on_delivery=delivered)
    assert producer.flush(30) == 0 and not failures, f"poison not delivered: {failures}"
    return origins
