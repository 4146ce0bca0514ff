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
record (b20ff8e) put it in a batch twice once the partition was re-read from the commit.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from warehouse.errors import ClickHouseUnavailable
from warehouse.sink.batches import (
    Batch,
    DeadRecord,
    PartitionBatcher,
    decode_plan,
    encode_plan,
    token,
)
from warehouse.sink.dead_letters import DeadLetters
from warehouse.sink.metrics import SinkMetrics
from warehouse.sink.placeholders import (
    PreviousValues,
    Unresolved,
    fill_placeholders,
    has_placeholder,
)
from warehouse.sink.records import RecordError
from warehouse.sink.routes import Route
from warehouse.sink.writer import Backoff, ClickHouseWriter, RowsRefused

log = logging.getLogger("boxoffice.sink")

TP = tuple[str, int]

POLL_WHILE_INSERTING_SECONDS = 0.05
FETCH_RECORDS = 50_000
"""Records per consume() call at most: large fetches keep the per-call cost small."""


class Stopped(Exception):
    """The stop event was set while the sink waited; nothing more is committed."""


STEPS = ("plan commit", "insert", "offset commit")
"""The batch protocol's steps, in order; a `step_hook` is called before each (tests inject
stalls and rebalances there)."""


class Sink:
    def __init__(self, *, consumer: Any, writer: ClickHouseWriter, dead_letters: DeadLetters,
                 routes: dict[str, Route], max_records: int, max_seconds: float,
                 metrics: SinkMetrics | None = None,
                 write_metrics_to: Callable[[SinkMetrics], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 max_buffered: int | None = None,
                 previous_values: Callable[[str, Sequence[str]], PreviousValues] | None
                 = None,
                 step_hook: Callable[[str], None] | None = None) -> None:
        self.consumer = consumer
        self._step_hook = step_hook
        self.previous_values = previous_values
        """(table, columns) -> lookup of stored values; None: nothing stored to look up."""
        self.writer = writer
        self.dead_letters = dead_letters
        self.routes = routes
        self.max_records = max_records
        self.max_seconds = max_seconds
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
        self._inserter = futures.ThreadPoolExecutor(max_workers=1,
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
        log.info("assigned %s", _describe(partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # Unflushed batches of these partitions are dropped: their offsets were not
        # committed, so the next owner reads them again (and follows any plan).
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._owned.discard(key)
            self.batchers.pop(key, None)
            self._revoked_during_flush.add(key)
        log.info("revoked %s", _describe(partitions))

    def _start_partitions(self) -> None:
        """Give each owned partition without a batcher one at its committed offset,
        following the plan committed with it, and seek the consumer to that offset. The
        seek is what makes the batcher's first record the committed one: librdkafka
        discards every record it fetched for the partition before it."""
        waiting = sorted(self._owned - self.batchers.keys())
        if not waiting:
            return
        try:
            committed = self.consumer.committed([TopicPartition(t, p) for t, p in waiting],
                                                timeout=30)
        except KafkaException as exc:
            log.warning("reading the committed offsets of %d partitions failed (%s); "
                        "trying again", len(waiting), exc)
            return
        for tp in committed:
            key = (tp.topic, tp.partition)
            start = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            try:
                self.consumer.seek(TopicPartition(tp.topic, tp.partition, start))
            except KafkaException as exc:  # not fetching yet, or no longer ours
                log.info("%s[%d]: cannot seek to %s yet (%s); trying again", tp.topic,
                         tp.partition, start, exc)
                continue
            plan = decode_plan(tp.metadata, tp.offset) if tp.offset >= 0 else []
            if plan:
                log.info("%s[%d]: resuming the planned batches ending at offsets %s "
                         "(inserted before a restart or not: the tokens tell ClickHouse)",
                         tp.topic, tp.partition, ", ".join(map(str, plan)))
            self.batchers[key] = PartitionBatcher(
                topic=tp.topic, partition=tp.partition, max_records=self.max_records,
                max_seconds=self.max_seconds, plan=plan, start=max(tp.offset, 0))

    def _restart(self, keys: set[TP]) -> None:
        """Forget these partitions' unflushed records; they start again from the commit."""
        for key in keys:
            self.batchers.pop(key, None)

    def poll_once(self, timeout: float = 0.2) -> int:
        self._start_partitions()
        with _cyclic_gc_paused():
            return self._take(self._fetch(min(self.max_records, FETCH_RECORDS), timeout))

    def _take(self, messages: list[Any]) -> int:
        """Validate fetched records into their partitions' batches; returns how many.
        Records come in runs of one partition: route, batcher and, where the route has
        one, the whole-run check are looked up and asked once per run."""
        now = self.clock()
        start, count = 0, len(messages)
        while start < count:
            first = messages[start]
            if first.error() is not None:
                self._kafka_error(first.error())
                start += 1
                continue
            topic, partition = first.topic(), first.partition()
            end = start + 1
            while end < count:
                message = messages[end]
                if (message.partition() != partition or message.topic() != topic
                        or message.error() is not None):
                    break
                end += 1
            batcher = self.batchers.get((topic, partition))
            if batcher is None:
                pass  # not ours, or starting at the committed offset first: read again
            elif messages[start].offset() < batcher.next_offset:
                log.warning("%s[%d]: offset %d came again after %d; starting the partition "
                            "again from its committed offset", topic, partition,
                            messages[start].offset(), batcher.next_offset - 1)
                self._restart({(topic, partition)})
            else:
                self._take_run(self.routes[topic], batcher, messages[start:end], now)
            start = end
        return count

    @staticmethod
    def _take_run(route: Route, batcher: PartitionBatcher, run: list[Any],
                  now: float) -> None:
        values = [message.value() for message in run]
        if route.stored_as_is is not None and route.stored_as_is(values):
            batcher.add_lines([message.offset() for message in run], values, now)
            return
        decode = route.decode
        for message, value in zip(run, values, strict=True):
            key = message.key()
            try:
                line = decode(key, value)
            except RecordError as exc:
                offset = message.offset()
                batcher.add(offset, now, dead=DeadRecord(offset, str(exc), key, value))
                continue
            if line is None:
                batcher.add(message.offset(), now)
            else:
                batcher.add_line(message.offset(), now, line)

    def _fetch(self, limit: int, timeout: float) -> list[Any]:
        """What the consumer has fetched already, up to `limit`; if nothing, wait up to
        `timeout` for the first record. (consume(n, timeout) alone would wait for all n
        records or the whole timeout even when records are waiting: a stall per call.)"""
        messages: list[Any] = self.consumer.consume(num_messages=limit, timeout=0)
        if messages:
            return messages
        messages = self.consumer.consume(num_messages=1, timeout=timeout)
        if messages and limit > 1:
            messages += self.consumer.consume(num_messages=limit - 1, timeout=0)
        return messages

    @staticmethod
    def _kafka_error(error: Any) -> None:
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("Kafka reported: %s", error.str())

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
        if not ready:
            return 0
        started = self.clock()
        self._step("plan commit")
        self.consumer.commit(offsets=[
            TopicPartition(t, p, batches[0].first_offset, metadata=self._plan_metadata(
                (t, p), [b.last_offset for b in batches], batches[-1].last_offset + 1))
            for (t, p), batches in ready.items()], asynchronous=False)
        self._revoked_during_flush.clear()
        self._step("insert")
        rows = self._insert_while_polling(ready, stop, force=force)
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

    def _step(self, name: str) -> None:
        if self._step_hook is not None:
            self._step_hook(name)

    def _plan_metadata(self, tp: TP, ends: list[int], after: int) -> str:
        """Commit metadata: these batch ends, then the recovered plan's ends from `after`
        on (dropping those would let a second crash cut already inserted records anew)."""
        batcher = self.batchers.get(tp)
        ends = ends + (batcher.planned_ends_from(after) if batcher else [])
        return encode_plan(ends) if ends else ""

    def _insert_while_polling(self, ready: dict[TP, list[Batch]], stop: threading.Event,
                              *, force: bool) -> dict[str, int]:
        """Insert the batches on a worker thread; meanwhile keep fetching and validating
        the next records (the insert waits on ClickHouse without holding the GIL), up to
        `max_buffered` records. Nothing is committed here. Returns rows stored by table."""
        inserting = self._inserter.submit(self._insert_all, ready, stop)
        try:
            while not inserting.done():
                if force or stop.is_set() or self._buffered() >= self.max_buffered:
                    futures.wait([inserting])
                else:
                    self.poll_once(timeout=POLL_WHILE_INSERTING_SECONDS)
        except BaseException:
            futures.wait([inserting])  # never leave an insert running unobserved
            raise
        return inserting.result()

    def _insert_all(self, ready: dict[TP, list[Batch]],
                    stop: threading.Event) -> dict[str, int]:
        self._fill_placeholders(ready, stop)
        rows: dict[str, int] = {}
        for (topic, _partition), batches in ready.items():
            table = self.routes[topic].table
            for batch in batches:
                rows[table] = rows.get(table, 0) + self._insert(table, batch, stop)
        return rows

    def _fill_placeholders(self, ready: dict[TP, list[Batch]], stop: threading.Event) -> None:
        """Replace Debezium's TOAST placeholders in dimension batches by previous values
        (one lookup per table per flush); unresolvable records become dead letters."""
        by_table: dict[str, tuple[Route, list[Batch]]] = {}
        for (topic, _partition), batches in ready.items():
            route = self.routes[topic]
            if route.text_columns and any(has_placeholder(b.lines) for b in batches):
                by_table.setdefault(route.table, (route, []))[1].extend(batches)
        for table, (route, batches) in by_table.items():
            lines = [line for batch in batches for line in batch.lines]
            filled = self._retry(stop, fill_placeholders, lines, route.text_columns,
                                 self._lookup(table, route.text_columns))
            position = 0
            for batch in batches:
                kept_lines: list[bytes] = []
                kept_offsets: list[int] = []
                for line, offset in zip(batch.lines, batch.offsets, strict=True):
                    result = filled[position]
                    position += 1
                    if isinstance(result, Unresolved):
                        batch.dead.append(DeadRecord(offset, result.reason, None, line))
                        log.warning("%s[%d] offset %d: %s; it goes to dead letters",
                                    batch.topic, batch.partition, offset, result.reason)
                    else:
                        kept_lines.append(result)
                        kept_offsets.append(offset)
                batch.lines, batch.offsets = kept_lines, kept_offsets

    def _lookup(self, table: str, columns: Sequence[str]) -> PreviousValues:
        if self.previous_values is None:
            return lambda _ids: {}
        return self.previous_values(table, columns)

    def _retry(self, stop: threading.Event, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)`, retried with backoff while ClickHouse does not answer."""
        backoff = Backoff(stop=stop)
        while True:
            try:
                return call(*args)
            except ClickHouseUnavailable as exc:
                self.metrics.clickhouse_up = False
                log.warning("%s; retrying in %.1fs, nothing committed", exc, backoff.next)
                backoff.wait()
                if stop.is_set():
                    raise Stopped from exc

    def _buffered(self) -> int:
        """Records held in batches not yet handed to ClickHouse."""
        return sum((b.open.records if b.open else 0) + sum(s.records for s in b.sealed)
                   for b in self.batchers.values())

    def _insert(self, table: str, batch: Batch, stop: threading.Event) -> int:
        """Store a batch's rows; refused rows become dead letters. Returns rows stored."""
        if not batch.lines:
            return 0
        return self._insert_range(table, batch, 0, len(batch.lines), stop)

    def _insert_range(self, table: str, batch: Batch, lo: int, hi: int,
                      stop: threading.Event) -> int:
        whole = lo == 0 and hi == len(batch.lines)
        tok = batch.token if whole else token(batch.topic, batch.partition,
                                              batch.offsets[lo], batch.offsets[hi - 1])
        backoff = Backoff(stop=stop)
        while True:
            try:
                self.writer.insert(table, batch.lines[lo:hi], tok)
                if not self.metrics.clickhouse_up:
                    log.info("ClickHouse answers again; inserts resume")
                self.metrics.clickhouse_up = True
                return hi - lo
            except ClickHouseUnavailable as exc:
                self.metrics.clickhouse_up = False
                self.metrics.insert_retries_total += 1
                if self._write_metrics:
                    self._write_metrics(self.metrics)
                log.warning("%s; batch %s is kept and retried in %.1fs, nothing committed",
                            exc, tok, backoff.next)
                backoff.wait()
                if stop.is_set():
                    raise Stopped from exc
            except RowsRefused as exc:
                if hi - lo == 1:
                    offset = batch.offsets[lo]
                    batch.dead.append(DeadRecord(offset, f"ClickHouse refused the row: {exc}",
                                                 None, batch.lines[lo]))
                    log.warning("ClickHouse refused the record at %s[%d] offset %d; it goes "
                                "to dead letters", batch.topic, batch.partition, offset)
                    return 0
                mid = (lo + hi) // 2
                return (self._insert_range(table, batch, lo, mid, stop)
                        + self._insert_range(table, batch, mid, hi, stop))

    # --- the loop ----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        self.subscribe()
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
            self._inserter.shutdown(wait=True)
            self.writer.close()
            self.consumer.close()
            log.info("sink stopped")


    def step(self, stop: threading.Event) -> None:
        """One turn of the loop: fetch, then flush what is due. A failed commit (this
        consumer was fenced, or Kafka is away) forgets every unflushed record: the
        partitions start again from their committed offsets and plans."""
        self.poll_once()
        try:
            self.flush(stop)
        except KafkaException as exc:
            log.warning("committing offsets failed (%s); re-reading from the last "
                        "committed offsets", exc)
            self._restart(set(self._owned))


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Keep Python's cycle collector out of a fetch: each of the tens of thousands of
    Message objects one consume() returns is a tracked container, so the collector ran
    over them again and again (a sixth of the sink's main thread in a profile), and the
    sink makes no reference cycles there for it to find. The messages are freed by
    reference counting before the collector is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
