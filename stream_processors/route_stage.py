"""The route stage: CDC records in, join-topic records out (at-least-once).

Per consumed batch: parse every CDC record (`changes.parse_change`; a tombstone is a
delete the join applies only to a row it still holds), send each change to the join
partition(s) `routing.route` chooses and each heartbeat to every join
partition, wait until Kafka acknowledged all of it, then commit the CDC offsets. A
failure before the commit rewinds the batch's partitions to where the batch began, so
the batch is routed again: the join drops repeated changes by LSN. Records that do not
parse go to the dead-letter topic with their origin; the partition keeps moving.

A genuine change that lacks a carried column (the source table was changed under us,
`contracts.columns`) stops its partition instead: it is paused at that record, nothing
of it after that record is routed or committed, and the metrics name the table, the
column and the fix until a restart with the column mapped reads it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from contracts.changes import ChangeRecordError, lsn_text
from contracts.columns import SourceSchemaChanged
from stream_processors.changes import NO_MAP, parse_change
from stream_processors.deadletters import dead_letter_of
from stream_processors.failures import describe, fatal, is_fatal
from stream_processors.heartbeats import parse_heartbeat
from stream_processors.metrics import Metrics
from stream_processors.routing import route
from stream_processors.transactions import RouteFailed, RouterProducer
from stream_processors.wire import encode, encode_beat
from stream_processors.wiring import RouteWiring

log = logging.getLogger("boxoffice.processors")

RESTORED_FIX = ("stop writing to the source and follow docs/source.md, 'Source restored': "
                "capture it afresh into new topics and rebuild with `boxoffice replay cdc`")


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
        self._column_maps = wiring.column_maps
        self._stopped: dict[tuple[str, int], int] = {}
        """Partitions stopped by a source schema change -> the offset they stopped at."""
        self._newest_beat: dict[tuple[str, int], tuple[int, int]] = {}
        """Heartbeat partition -> (offset, LSN) of the newest heartbeat read from it."""

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
        maps, stopped = self._column_maps, self._stopped
        everywhere = range(partitions)
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            tp = (topic, partition)
            if stopped and tp in stopped:
                continue  # fetched before the pause took effect: read again after a restart
            if tp not in first:
                first[tp] = offset
            last[tp] = offset
            table = tables[topic]
            value = message.value()
            try:
                if table == "heartbeat":
                    kind, stamp = message.timestamp()
                    beat = parse_heartbeat(message.key(), value, stamp if kind else -1)
                    if beat is not None:
                        self._check_order(tp, offset, beat.lsn)
                        self._metrics.heartbeats += 1
                        record = encode_beat(beat)
                        for p in everywhere:
                            send(join, record, p)
                    continue
                change = parse_change(table, message.key(), value,
                                      0 if value else message.timestamp()[1],
                                      maps.get(table, NO_MAP))
                record, encoded = b"", None
                for p, routed in route(change, partitions):
                    if routed is not encoded:  # a broadcast is encoded once
                        record, encoded = encode(routed), routed
                    send(join, record, p)
            except ChangeRecordError as exc:
                self._dead(message, str(exc))
            except SourceSchemaChanged as exc:
                self._stop(tp, offset, exc, first, last)
            except KafkaException:
                raise  # the producer's, handled by `process`
            except Exception as exc:
                # a parser's bug must not stop the worker on the same record at every
                # restart: the record is a dead letter
                self._dead(message, f"cannot be parsed ({type(exc).__name__}: {exc})")

    def _check_order(self, tp: tuple[str, int], offset: int, lsn: int) -> None:
        """A heartbeat written after another but at a lower LSN: the source's WAL went
        back (a restore, a failover to an older replica, a capture replayed into these
        topics). The join keeps each row's last LSN and drops every change at or below
        it, so from here on changes would vanish without a word: say so, loudly, until
        restarted. A rewind reads older offsets again; only a later offset counts."""
        newest = self._newest_beat.get(tp)
        if newest is not None and offset <= newest[0]:
            return
        self._newest_beat[tp] = (offset, lsn)
        if newest is None or lsn >= newest[1] or self._metrics.source_went_back:
            return
        details = {"topic": tp[0], "partition": tp[1], "offset": offset,
                   "lsn": lsn_text(lsn), "after_lsn": lsn_text(newest[1]),
                   "fix": RESTORED_FIX}
        self._metrics.source_went_back = details
        log.error("the source went back in time: the heartbeat at %s[%d] offset %d has "
                  "LSN %s, after LSN %s. The join drops every change at or below the "
                  "LSNs it has seen, so changes made since are not counted. Fix: %s",
                  tp[0], tp[1], offset, details["lsn"], details["after_lsn"], RESTORED_FIX)

    def _stop(self, tp: tuple[str, int], offset: int, exc: SourceSchemaChanged,
              first: dict[tuple[str, int], int], last: dict[tuple[str, int], int]) -> None:
        """Stop one CDC partition at `offset`: the batch commits only what came before."""
        if first[tp] == offset:
            del first[tp], last[tp]
        else:
            last[tp] = offset - 1
        self._stopped[tp] = offset
        try:
            self._consumer.pause([TopicPartition(*tp)])
        except Exception as exc_pause:  # no longer ours: the new owner stops there itself
            log.info("pausing %s[%s]: %s", *tp, exc_pause)
        details = {**exc.as_dict(), "partition": tp[1], "offset": offset}
        self._metrics.table_stopped(f"{tp[0]}[{tp[1]}]", details)
        log.error("stopped %s at partition %d, offset %d: %s. Nothing after it is read until "
                  "that is fixed; the other tables go on. Fix: %s", exc.table, tp[1], offset,
                  exc, details["fix"])

    def revoked(self, partitions: list[TopicPartition]) -> None:
        """Partitions this worker no longer owns: their new owner stops where it must."""
        for tp in partitions:
            key = (tp.topic, tp.partition)
            if self._stopped.pop(key, None) is not None:
                self._metrics.table_resumed(f"{tp.topic}[{tp.partition}]")

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
        for tp in set(first) & set(self._stopped):  # routed again, up to the stop again
            del self._stopped[tp]
            self._metrics.table_resumed(f"{tp[0]}[{tp[1]}]")
            try:
                self._consumer.resume([TopicPartition(*tp)])
            except Exception as exc:
                log.info("resuming %s[%s]: %s", *tp, exc)
        for (topic, partition), offset in first.items():
            try:
                seek(TopicPartition(topic, partition, offset))
            except Exception as exc:  # no longer ours: the new owner starts from the commit
                log.info("not rewinding %s[%s]: %s", topic, partition, exc)

    def close(self) -> None:
        self._producer.close()
