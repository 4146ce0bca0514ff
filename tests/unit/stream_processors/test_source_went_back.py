"""A heartbeat at a lower LSN than the one read before it means the source's WAL went
back (a restore, a failover, a capture replayed into the topics): the route stage says
so and status turns red naming the fix. Re-reading older offsets after a rewind is not
that (pure logic: fake consumer and producer)."""

from __future__ import annotations

import json
from typing import Any

from boxoffice.status.model import UNHEALTHY
from boxoffice.status.processors import judge
from contracts.changes import lsn_from_text, lsn_text
from stream_processors.metrics import Metrics
from stream_processors.route_stage import RouteStage
from stream_processors.wiring import RouteWiring

TOPIC = "festival.heartbeat"


class Message:
    def __init__(self, offset: int, lsn: int) -> None:
        self._offset = offset
        self._value = json.dumps({"op": "u", "after": {"id": 1, "ts": "2026-12-07T12:00:00Z"},
                                  "source": {"ts_ms": 1_000 + offset, "lsn": lsn}}).encode()

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b'{"id": 1}'

    def value(self) -> bytes:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return (1, 5_000)


class Producer:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, topic: str, value: bytes, partition: int | None) -> None:
        self.sent.append((topic, partition))

    def flush(self) -> None:
        return None


class Consumer:
    def commit(self, **_: Any) -> None:
        return None


def stage() -> tuple[RouteStage, Metrics]:
    metrics = Metrics(worker="w-0")
    wiring = RouteWiring(tables={TOPIC: "heartbeat"}, join_topic="join", partitions=2,
                         dead_letter_topic="dead", bootstrap="kafka:9092")
    return RouteStage(wiring=wiring, consumer=Consumer(), producer=Producer(),  # type: ignore[arg-type]
                      metrics=metrics), metrics


def test_a_rewind_is_not_the_source_going_back() -> None:
    route, metrics = stage()
    route.process([Message(0, 100), Message(1, 200)])
    route.process([Message(1, 200), Message(2, 300)])  # offset 1 read again after a rewind
    assert metrics.source_went_back is None
    assert judge([metrics.snapshot()], []).state != UNHEALTHY


def test_a_later_heartbeat_at_a_lower_lsn_is_red_and_names_the_fix() -> None:
    route, metrics = stage()
    route.process([Message(0, (1 << 32) + 0x500), Message(1, 0x400)])
    went_back = metrics.source_went_back
    assert went_back is not None
    assert (went_back["lsn"], went_back["after_lsn"], went_back["offset"]) == \
        ("0/400", "1/500", 1)
    section = judge([metrics.snapshot()], [])
    assert section.state == UNHEALTHY
    assert "WENT BACK IN TIME" in section.summary and "0/400" in section.summary
    assert "boxoffice replay cdc" in section.summary
    route.process([Message(2, 0x300)])  # stays red, keeps the first finding
    assert metrics.source_went_back == went_back


def test_lsn_text_is_postgresql_notation() -> None:
    assert lsn_text(0) == "0/0"
    assert lsn_text((0x1A << 32) + 0x2B3C4D5E) == "1A/2B3C4D5E"
    assert lsn_from_text("1A/2B3C4D5E") == (0x1A << 32) + 0x2B3C4D5E
