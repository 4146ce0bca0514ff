"""The sink's record of topic ids: each new id stored once, a change logged as a loss,
ClickHouse being away retried later rather than at every flush."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError, KafkaException

from warehouse.errors import ClickHouseUnavailable
from warehouse.sink.incarnations import LOOKUP_RETRY_SECONDS, RECORD_RETRY_SECONDS, TopicIds


class Writer:
    def __init__(self) -> None:
        self.inserted: list[tuple[str, list[bytes], str]] = []
        self.down = False

    def insert(self, table: str, lines: list[bytes], token: str) -> None:
        if self.down:
            raise ClickHouseUnavailable("ClickHouse did not answer")
        self.inserted.append((table, lines, token))


def topic_ids(current: dict[str, str], writer: Writer, clock: list[float]) -> TopicIds:
    return TopicIds(lambda topics: {t: current[t] for t in topics},
                    writer, clock=lambda: clock[0])  # type: ignore[arg-type]


def test_a_new_id_is_recorded_once_and_a_change_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    current, writer, clock = {"facts": "A"}, Writer(), [0.0]
    ids = topic_ids(current, writer, clock)
    assert ids.refresh(["facts"]) == {"facts": "A"}
    ids.refresh(["facts"])
    assert [token for _, _, token in writer.inserted] == ["topic-ids:facts@A"]
    current["facts"] = "B"
    with caplog.at_level(logging.ERROR, logger="boxoffice.sink"):
        ids.refresh(["facts"])
    assert "facts was deleted and created again" in caplog.text
    assert [token for _, _, token in writer.inserted][-1] == "topic-ids:facts@B"


def test_clickhouse_away_is_retried_after_a_pause_not_at_every_flush() -> None:
    writer, clock = Writer(), [0.0]
    ids = topic_ids({"facts": "A"}, writer, clock)
    writer.down = True
    ids.refresh(["facts"])
    writer.down = False
    clock[0] = RECORD_RETRY_SECONDS - 1
    ids.refresh(["facts"])
    assert writer.inserted == []
    clock[0] = RECORD_RETRY_SECONDS
    ids.refresh(["facts"])
    assert len(writer.inserted) == 1


def test_kafka_not_answering_keeps_the_known_ids_and_asks_again_later() -> None:
    calls: list[list[str]] = []
    answering = [True]

    def lookup(topics: list[str]) -> dict[str, str]:
        calls.append(topics)
        if not answering[0]:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "timed out"))
        return {t: "A" for t in topics}

    clock = [0.0]
    ids = TopicIds(lookup, Writer(), clock=lambda: clock[0])  # type: ignore[arg-type]
    ids.refresh(["facts"])
    answering[0] = False
    assert ids.refresh(["facts"]) == {"facts": "A"}  # known: the sink goes on
    asked = len(calls)
    clock[0] = LOOKUP_RETRY_SECONDS - 1
    assert ids.refresh(["facts"]) == {"facts": "A"}
    assert len(calls) == asked  # not asked again before the pause ends
    with pytest.raises(KafkaException):  # never seen: its partitions must wait
        ids.refresh(["facts", "bands"])
