"""The sink's loop: consume, batch per partition, insert with a token, then commit.

Per flush: (1) commit each partition's current offset again with the planned batch ends
as metadata (so a successor re-forms the same batches), (2) insert every batch with its
offset-range token, retrying with backoff while ClickHouse is down, (3) wait until the
dead letters are acknowledged, (4) commit the offsets after the batches. A crash between
any two steps re-inserts batches ClickHouse recognises by token: nothing lost, nothing
doubled. While (2) waits for ClickHouse, the loop keeps fetching and validating the next
records (bounded by `max_buffered`), so Python and ClickHouse work at the same time;
nothing of those is committed before its own flush.

A partition's batches start where its committed offset says, never where a fetched
record happens to be: when the sink is given a partition (or rewinds one), it reads the
committed offset and plan and seeks the consumer there itself; records of a partition
fetched before a rebalance touched it are dropped. Records fetched under the previous
assignment can reach the sink after the rebalance callback ran: the sink's fetch joins
two consume() calls and the callback may run in the second, and a consume() call that
fills up returns before librdkafka's own purge of them. A batcher started at such a
record would put it in a batch twice once the partition is re-read from the commit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from contracts.columns import SourceSchemaChanged
from warehouse.sink.batches import (
    Batch,
    PartitionBatcher,
    committed_incarnation,
    decode_plan,
    encode_plan,
)
from warehouse.sink.dead_letters import DeadLetters
from warehouse.sink.fetching import (
    FETCH_RECORDS,
    cyclic_gc_paused,
    describe,
    fetch,
)
from warehouse.sink.incarnations import TopicIds
from warehouse.sink.inserter import (
    Inserter,
    LatestVersionsLookup,
    PreviousValuesLookup,
    Stopped,
)
from warehouse.sink.intake import partition_runs, take_run
from warehouse.sink.lease import Lease, LeaseLost
from warehouse.sink.metrics import SinkMetrics
from warehouse.sink.routes import Route
from warehouse.sink.writer import Backoff, ClickHouseWriter

log = logging.getLogger("boxoffice.sink")

TP = tuple[str, int]

POLL_SECONDS = 0.2
"""The longest one poll waits for a first record when nothing is fetched: how soon the
loop looks up to seal a batch that is due or to stop."""
POLL_WHILE_INSERTING_SECONDS = 0.05
WAIT_FOR_INSERT_SECONDS = 0.5
"""While the buffer is full, how often the loop looks up from the insert to renew the
lease (`lease`)."""
__all__ = ["STEPS", "Sink", "Stopped"]

STEPS = ("plan commit", "insert", "offset commit")
"""The batch protocol's steps, in order; a `step_hook` is called before each (tests inject
stalls and rebalances there)."""


class Sink:
    def __init__(self, *, consumer: Any, writer: ClickHouseWriter, dead_letters: DeadLetters,
                 routes: dict[str, Route], max_records: int, max_seconds: float,
                 min_seconds: float | None = None,
                 metrics: SinkMetrics | None = None,
                 write_metrics_to: Callable[[SinkMetrics], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 max_buffered: int | None = None,
                 previous_values: PreviousValuesLookup | None = None,
                 latest_versions: LatestVersionsLookup | None = None,
                 step_hook: Callable[[str], None] | None = None,
                 lease: Lease | None = None,
                 topic_ids: TopicIds | None = None,
                 record_plan: bool = True) -> None:
        self.consumer = consumer
        self.record_plan = record_plan
        """False only in a negative control: commits then carry no batch ends, so a
        successor cuts the records anew and a batch inserted before a crash is stored
        again under other tokens."""
        self.topic_ids = topic_ids
        """None only in tests: tokens then name no topic incarnation."""
        self.lease = lease
        """None only in tests: batches are then sent however long the sink was frozen,
        and for partitions it no longer owns (the behaviour the lease replaced)."""
        self.planned: list[TopicPartition] = []
        """The current flush's plan commit, committed again to renew the lease."""
        self._step_hook = step_hook
        self.writer = writer
        self.dead_letters = dead_letters
        self.routes = routes
        self.max_records = max_records
        self.max_seconds = max_seconds
        self.min_seconds = min_seconds
        """How old a batch must be to be sealed once its partition has nothing more
        (None: only `max_seconds` seals it); see PartitionBatcher.min_seconds."""
        self.metrics = metrics or SinkMetrics()
        self._write_metrics = write_metrics_to
        self.clock = clock
        self.batchers: dict[TP, PartitionBatcher] = {}
        self.max_buffered = max_buffered if max_buffered is not None else 4 * max_records
        self._revoked_during_flush: set[TP] = set()
        self._owned: set[TP] = set()
        """Partitions the group has given this sink (rebalance callbacks keep it). Owned
        ones without a batcher are started (committed offset, plan, seek) at the next
        poll; their records fetched until then are dropped."""
        self.inserter = Inserter(writer=writer, metrics=self.metrics,
                                 write_metrics=write_metrics_to,
                                 previous_values=previous_values,
                                 latest_versions=latest_versions,
                                 guard=self._may_insert if lease is not None else None)
        self._insert_thread = futures.ThreadPoolExecutor(max_workers=1,
                                                         thread_name_prefix="sink-insert")
        self._last_flush = clock()

    # --- Kafka side -------------------------------------------------------------------
    def subscribe(self) -> None:
        self.consumer.subscribe(list(self.routes), on_assign=self._on_assign,
                                on_revoke=self._on_revoke, on_lost=self._on_revoke)

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # Not started here: the consumer starts fetching only once this callback returns,
        # and records of these partitions may already sit in this very fetch.
        self._owned.update((tp.topic, tp.partition) for tp in partitions)
        log.info("assigned %s", describe(partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # Unflushed batches of these partitions are dropped: their offsets were not
        # committed, so the next owner reads them again (and follows any plan).
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._owned.discard(key)
            self.batchers.pop(key, None)
            self._revoked_during_flush.add(key)
            self.metrics.stopped_tables.pop(f"{tp.topic}[{tp.partition}]", None)
        log.info("revoked %s", describe(partitions))

    def _start_partitions(self) -> None:
        """Give each owned partition without a batcher one at its committed offset,
        following the plan committed with it, and seek the consumer to that offset. The
        seek is what makes the batcher's first record the committed one: librdkafka
        discards every record it fetched for the partition before it."""
        waiting = sorted(self._owned - self.batchers.keys())
        if not waiting:
            return
        try:
            ids = self.topic_ids.refresh(t for t, _p in waiting) if self.topic_ids else {}
            committed = self.consumer.committed([TopicPartition(t, p) for t, p in waiting],
                                                timeout=30)
        except KafkaException as exc:
            log.warning("reading the committed offsets and topic ids of %d partitions "
                        "failed (%s); trying again", len(waiting), exc)
            return
        for tp in committed:
            key = (tp.topic, tp.partition)
            incarnation = ids.get(tp.topic, "")
            offset, metadata = tp.offset, tp.metadata
            was = committed_incarnation(metadata)
            if offset >= 0 and was and incarnation and was != incarnation:
                log.error("%s[%d]: the committed offset %d belongs to the deleted topic %s; "
                          "reading the topic from its beginning", *key, offset, was)
                offset, metadata = OFFSET_BEGINNING, None
            start = offset if offset >= 0 else OFFSET_BEGINNING
            try:
                self.consumer.seek(TopicPartition(tp.topic, tp.partition, start))
            except KafkaException as exc:  # not fetching yet, or no longer ours
                log.info("%s[%d]: cannot seek to %s yet (%s); trying again", tp.topic,
                         tp.partition, start, exc)
                continue
            plan = decode_plan(metadata, offset) if offset >= 0 else []
            if plan:
                log.info("%s[%d]: resuming the planned batches ending at offsets %s "
                         "(inserted before a restart or not: the tokens tell ClickHouse)",
                         tp.topic, tp.partition, ", ".join(map(str, plan)))
            self.batchers[key] = PartitionBatcher(
                topic=tp.topic, partition=tp.partition, max_records=self.max_records,
                max_seconds=self.max_seconds, min_seconds=self.min_seconds, plan=plan,
                start=max(offset, 0), incarnation=incarnation)

    def _restart(self, keys: set[TP]) -> None:
        """Forget these partitions' unflushed records; they start again from the commit
        (a stopped one too, fetched again: it stops again where it must)."""
        for key in keys:
            batcher = self.batchers.pop(key, None)
            if batcher is not None and batcher.stopped is not None:
                self.metrics.stopped_tables.pop(f"{key[0]}[{key[1]}]", None)
                try:
                    self.consumer.resume([TopicPartition(*key)])
                except KafkaException as exc:
                    log.info("%s[%d]: resuming: %s", *key, exc)

    def poll_once(self, timeout: float = POLL_SECONDS) -> int:
        self._start_partitions()
        with cyclic_gc_paused():
            return self._take(self._fetch(min(self.max_records, FETCH_RECORDS), timeout))

    def _take(self, messages: list[Any]) -> int:
        """Validate fetched records into their partitions' batches; returns how many."""
        now = self.clock()
        for run in partition_runs(messages, at_end=self._at_end):
            first = run[0]
            key = (first.topic(), first.partition())
            batcher = self.batchers.get(key)
            if batcher is None:
                pass  # not ours, or starting at the committed offset first: read again
            elif batcher.stopped is not None:
                pass  # fetched before the pause took effect: read again after a restart
            elif first.offset() < batcher.next_offset:
                log.warning("%s[%d]: offset %d came again after %d; starting the partition "
                            "again from its committed offset", *key, first.offset(),
                            batcher.next_offset - 1)
                self._restart({key})
            else:
                take_run(self.routes[key[0]], batcher, run, now)
                if batcher.stopped is not None:
                    self._stop_partition(key, *batcher.stopped)
        return len(messages)

    def _at_end(self, topic: str, partition: int) -> None:
        batcher = self.batchers.get((topic, partition))
        if batcher is not None:
            batcher.at_end = True

    def _until_due(self) -> float:
        """Seconds until the next open batch is due, at most POLL_SECONDS: the poll waits
        no longer than that, so a batch whose partition has nothing more is sealed on
        time rather than after a whole idle poll."""
        now, wait = self.clock(), POLL_SECONDS
        for batcher in self.batchers.values():
            due = batcher.due_at()
            if due is not None:
                wait = min(wait, due - now)
        return max(wait, 0.0)

    def _stop_partition(self, key: TP, offset: int, reason: SourceSchemaChanged) -> None:
        """Pause a partition a source schema change stopped, and say so in the metrics
        and the log: its batches before `offset` are still stored and committed."""
        try:
            self.consumer.pause([TopicPartition(*key)])
        except KafkaException as exc:  # no longer ours: the new owner stops there itself
            log.info("%s[%d]: pausing: %s", *key, exc)
        details = {**reason.as_dict(), "partition": key[1], "offset": offset}
        self.metrics.stopped_tables[f"{key[0]}[{key[1]}]"] = details
        if self._write_metrics:
            self._write_metrics(self.metrics)
        log.error("stopped %s at partition %d, offset %d: %s. Nothing after it is stored "
                  "until that is fixed; the other tables go on. Fix: %s", reason.table,
                  key[1], offset, reason, details["fix"])

    def _fetch(self, limit: int, timeout: float) -> list[Any]:
        if self.lease is not None:
            self.lease.polled(self.clock())
        return fetch(self.consumer, limit, timeout)

    # --- flushing ----------------------------------------------------------------------
    def flush(self, stop: threading.Event, *, force: bool = False) -> int:
        """Insert and commit every sealed batch (all open ones when forced)."""
        now = self.clock()
        ready: dict[TP, list[Batch]] = {}
        for key, batcher in self.batchers.items():
            if force and not batcher.plan:
                batcher.seal_if_old(float("inf"))
            else:
                batcher.seal_if_old(now)
            batches = batcher.take_sealed()
            if batches:
                ready[key] = batches
        for key in self._of_deleted_topics(ready):
            del ready[key]
        if not ready:
            return 0
        started = self.clock()
        self._step("plan commit")
        self.planned = [
            TopicPartition(t, p, batches[0].first_offset, metadata=self._plan_metadata(
                (t, p), [b.last_offset for b in batches], batches[-1].last_offset + 1))
            for (t, p), batches in ready.items()]
        self._commit_plan()
        self._revoked_during_flush.clear()
        self._step("insert")
        try:
            rows = self._insert_while_polling(ready, stop, force=force)
        except LeaseLost as exc:
            log.warning("%s; this flush is abandoned and the partitions are read again "
                        "from their committed offsets and plans", exc)
            self._restart(set(self._owned))
            return 0
        dead = sum(self.dead_letters.send(batch) for bs in ready.values() for batch in bs)
        backoff = Backoff(stop=stop)
        while not self.dead_letters.flush(10.0):
            log.warning("dead letters are not acknowledged by Kafka yet; offsets stay "
                        "uncommitted until they are")
            backoff.wait()
            if stop.is_set():
                raise Stopped
        # A partition revoked while the batches were inserted belongs to someone else
        # now: they re-read it from the plan committed above (the tokens dedupe).
        self._step("offset commit")
        done = [(tp, batches) for tp, batches in ready.items()
                if tp not in self._revoked_during_flush]
        if done:
            self.consumer.commit(offsets=[
                TopicPartition(t, p, batches[-1].last_offset + 1,
                               metadata=self._plan_metadata((t, p), [],
                                                            batches[-1].last_offset + 1))
                for (t, p), batches in done], asynchronous=False)
        total = sum(rows.values())
        seconds = self.clock() - self._last_flush
        self._last_flush = self.clock()
        batch_count = sum(len(b) for b in ready.values())
        self.metrics.record_flush(rows, batch_count, dead, seconds)
        if self._write_metrics:
            self._write_metrics(self.metrics)
        log.info("stored %d rows from %d batches in %.2fs (%s)%s", total, batch_count,
                 self.clock() - started,
                 ", ".join(f"{t}: {n}" for t, n in sorted(rows.items())) or "no rows",
                 f"; {dead} records sent to dead letters" if dead else "")
        return total

    def _of_deleted_topics(self, ready: dict[TP, list[Batch]]) -> set[TP]:
        """Partitions whose batches came from a topic deleted since their batcher started
        (Kafka's id has changed): they start again from the new topic's commit.

        librdkafka may keep fetching a recreated topic from its old position, so those
        batches can hold records of either incarnation. Looked up after the records were
        fetched: an unchanged id then proves every one of them is of that incarnation."""
        if self.topic_ids is None or not ready:
            return set()
        ids = self.topic_ids.refresh(topic for topic, _p in ready)
        stale = {key for key in ready
                 if ids.get(key[0], self.batchers[key].incarnation)
                 != self.batchers[key].incarnation}
        self._restart(stale)
        return stale

    def _commit_plan(self) -> None:
        """Commit the flush's plan synchronously; its success renews the lease."""
        started = self.clock()
        self.consumer.commit(offsets=self.planned, asynchronous=False)
        if self.lease is not None:
            self.lease.confirmed(started)

    def _may_insert(self, batch: Batch) -> bool:
        """The inserter's guard (on its thread): a partition revoked during the flush is
        its successor's to insert; none is inserted once the lease ran out."""
        if (batch.topic, batch.partition) in self._revoked_during_flush:
            return False
        assert self.lease is not None
        self.lease.check(f"batch {batch.token}")
        return True

    def _renew_lease(self) -> None:
        """Commit the plan again while a flush is long. If Kafka refuses (the group moved
        on), the lease ends here and the inserter stops before its next batch."""
        try:
            self._commit_plan()
        except KafkaException as exc:
            log.warning("renewing the lease on the planned batches failed (%s)", exc)
            assert self.lease is not None
            self.lease.end()

    def _step(self, name: str) -> None:
        if self._step_hook is not None:
            self._step_hook(name)

    def _plan_metadata(self, tp: TP, ends: list[int], after: int) -> str:
        """Commit metadata: these batch ends, then the recovered plan's ends from `after`
        on (dropping those would let a second crash cut already inserted records anew)."""
        batcher = self.batchers.get(tp)
        ends = ends + (batcher.planned_ends_from(after) if batcher else [])
        if not self.record_plan:
            ends = []
        incarnation = batcher.incarnation if batcher else ""
        return encode_plan(ends, incarnation) if ends or incarnation else ""

    def _insert_while_polling(self, ready: dict[TP, list[Batch]], stop: threading.Event,
                              *, force: bool) -> dict[str, int]:
        """Insert the batches on a worker thread; meanwhile keep fetching and validating
        the next records (the insert waits on ClickHouse without holding the GIL), up to
        `max_buffered` records. Nothing is committed here. Returns rows stored by table."""
        work = [(self.routes[topic], batches) for (topic, _p), batches in ready.items()]
        inserting = self._insert_thread.submit(self.inserter.insert_all, work, stop)
        try:
            while not inserting.done():
                if self.lease is not None and self.lease.due_for_renewal():
                    self._renew_lease()
                if force or stop.is_set() or self._buffered() >= self.max_buffered:
                    futures.wait([inserting], timeout=WAIT_FOR_INSERT_SECONDS)
                else:
                    self.poll_once(timeout=POLL_WHILE_INSERTING_SECONDS)
        except BaseException:
            futures.wait([inserting])  # never leave an insert running unobserved
            raise
        return inserting.result()

    def _buffered(self) -> int:
        """Records held in batches not yet handed to ClickHouse."""
        return sum((b.open.records if b.open else 0) + sum(s.records for s in b.sealed)
                   for b in self.batchers.values())

    # --- the loop ----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        self.subscribe()
        if self._write_metrics:  # status sees this process alive before its first flush
            self._write_metrics(self.metrics)
        log.info("sink started: %s", ", ".join(f"{r.topic} -> {r.table}"
                                               for r in self.routes.values()))
        try:
            while not stop.is_set():
                self.step(stop)
            self.flush(stop, force=True)
        except Stopped:
            log.info("stopping while ClickHouse or Kafka was unavailable; uncommitted "
                     "batches will be re-read on restart")
        finally:
            self.close()
            log.info("sink stopped")

    def close(self) -> None:
        """Wait for an insert in flight, then close the writer and the consumer."""
        self._insert_thread.shutdown(wait=True)
        self.writer.close()
        self.consumer.close()

    def step(self, stop: threading.Event) -> None:
        """One turn of the loop: fetch, then flush what is due. A failed commit (this
        consumer was fenced, or Kafka is away) forgets every unflushed record: the
        partitions start again from their committed offsets and plans."""
        self.poll_once(timeout=self._until_due())
        try:
            self.flush(stop)
        except KafkaException as exc:
            log.warning("committing offsets failed (%s); re-reading from the last "
                        "committed offsets", exc)
            self._restart(set(self._owned))
