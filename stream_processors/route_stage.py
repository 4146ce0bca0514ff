"""The route stage: CDC records in, join-topic records out (at-least-once).

Per consumed batch: parse every CDC record (`changes.parse_change`; a tombstone is a
delete the join applies only to a row it still holds), send each change to the join
partition(s) `routing.route` chooses and each heartbeat to every join
partition, wait until Kafka acknowledged all of it, then commit the CDC offsets. A
failure before the commit rewinds the batch's partitions to where the batch began, so
the batch is routed again: the join drops repeated changes by LSN. Records that do not
parse go to the dead-letter topic with their origin; the partition keeps moving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from contracts.changes import ChangeRecordError
from stream_processors.changes import parse_change
from stream_processors.deadletters import dead_letter_of
from stream_processors.failures import describe, fatal, is_fatal
from stream_processors.heartbeats import parse_heartbeat
from stream_processors.metrics import Metrics
from stream_processors.routing import route
from stream_processors.transactions import RouteFailed, RouterProducer
from stream_processors.wire import encode, encode_beat
from stream_processors.wiring import RouteWiring

log = logging.getLogger("boxoffice.processors")


class RouteStage:
    def __init__(self, *, wiring: RouteWiring, consumer: Any, producer: RouterProducer,
                 metrics: Metrics) -> None:
        self._wiring = wiring
        self._consumer = consumer
        self._metrics = metrics
        self._tables = wiring.tables
        self._join = wiring.join_topic
        self._partitions = wiring.partitions
        self._producer = producer
        self._batch: tuple[dict[tuple[str, int], int], dict[tuple[str, int], int], int] = \
            ({}, {}, 0)

    def process(self, messages: Sequence[Any]) -> None:
        """Send one batch to the join topic; `finish` then commits it."""
        first: dict[tuple[str, int], int] = {}
        last: dict[tuple[str, int], int] = {}
        try:
            self._route(messages, first, last)
        except KafkaException as exc:  # the producer broke mid-batch
            if is_fatal(exc):
                raise fatal("routing CDC records", exc, self._wiring.bootstrap) \
                    from exc
            log.warning("routing a batch of %s CDC records failed (%s); routing it again "
                        "from the start", len(messages), describe(exc))
            self._producer.replace()
            self._metrics.recoveries += 1
            starts: dict[tuple[str, int], int] = {}
            for message in messages:
                starts.setdefault((message.topic(), message.partition()), message.offset())
            self._rewind(starts)
            return
        self._metrics.events_in += len(messages)
        self._batch = (first, last, len(messages))

    def _route(self, messages: Sequence[Any], first: dict[tuple[str, int], int],
               last: dict[tuple[str, int], int]) -> None:
        send = self._producer.send
        join, partitions, tables = self._join, self._partitions, self._tables
        everywhere = range(partitions)
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            tp = (topic, partition)
            if tp not in first:
                first[tp] = offset
            last[tp] = offset
            table = tables[topic]
            value = message.value()
            try:
                if table == "heartbeat":
                    beat = parse_heartbeat(message.key(), value)
                    if beat is not None:
                        self._metrics.heartbeats += 1
                        record = encode_beat(beat)
                        for p in everywhere:
                            send(join, record, p)
                    continue
                change = parse_change(table, message.key(), value,
                                      0 if value else message.timestamp()[1])
                record, encoded = b"", None
                for p, routed in route(change, partitions):
                    if routed is not encoded:  # a broadcast is encoded once
                        record, encoded = encode(routed), routed
                    send(join, record, p)
            except ChangeRecordError as exc:
                self._dead(message, str(exc))

    def finish(self) -> None:
        """Wait for Kafka's acknowledgements, then commit; or rewind the batch."""
        first, last, count = self._batch
        self._batch = ({}, {}, 0)
        if not count:
            return
        try:
            self._producer.flush()
        except RouteFailed as exc:
            log.warning("routing a batch of %s CDC records failed (%s); routing it again "
                        "from the start", count, exc)
            self._metrics.recoveries += 1
            self._rewind(first)
            return
        self._commit({tp: offset + 1 for tp, offset in last.items()})

    def _dead(self, message: Any, reason: str) -> None:
        self._producer.send(self._wiring.dead_letter_topic,
                            dead_letter_of(message, reason, self._metrics), None)

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit the routed batch; a failed commit only means it is routed again."""
        try:
            self._consumer.commit(offsets=[TopicPartition(t, p, o)
                                           for (t, p), o in offsets.items()],
                                  asynchronous=False)
        except Exception as exc:
            log.info("committing CDC offsets failed (%s); those records will be routed "
                     "again, which is harmless", exc)

    def _rewind(self, first: dict[tuple[str, int], int]) -> None:
        seek: Callable[[TopicPartition], None] = self._consumer.seek
        for (topic, partition), offset in first.items():
            try:
                seek(TopicPartition(topic, partition, offset))
            except Exception as exc:  # no longer ours: the new owner starts from the commit
                log.info("not rewinding %s[%s]: %s", topic, partition, exc)

    def close(self) -> None:
        self._producer.close()
