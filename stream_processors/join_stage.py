"""The join stage: join-topic records in, signed facts out, exactly once per partition.

Each owned join partition has a `JoinState`. Per consumed batch and partition, ONE Kafka
transaction (`transactions.PartitionProducers`) carries the deltas (facts topic), the
heartbeats and dead letters of the batch, the state entries the batch changed (the state
changelog) and the join-topic offset after the batch. Readers of the facts topic use
``isolation.level=read_committed`` and see every delta exactly once.

Taking a partition over (first record after an assignment, or after a failure): start
its transactional producer, which fences the previous owner and settles its open
transaction; rebuild the state from the committed changelog; continue from the
committed offset. A failed transaction is recovered the same way, in-process: abort,
drop the state, rewind the partition and pause it for a moment, take it over again.
Only failures retrying cannot fix (`failures.is_fatal`, or the broker refusing the same
partition again and again) stop the worker.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from concurrent import futures
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from contracts.changes import ChangeRecordError
from stream_processors.changelog import encode_entry
from stream_processors.deadletters import dead_letter_of
from stream_processors.failures import (
    MAX_REFUSALS,
    describe,
    fatal,
    is_fatal,
    is_fenced,
    is_unreachable,
)
from stream_processors.heartbeats import Beat, heartbeat_record
from stream_processors.join import Entry, JoinState
from stream_processors.metrics import Metrics
from stream_processors.transactions import TIMEOUT_S, PartitionProducers, send
from stream_processors.wire import decode_values, delta_json
from stream_processors.wiring import JoinWiring

log = logging.getLogger("boxoffice.processors")

TakeOver = tuple[JoinState, int | None]
"""A partition's recovered state and committed offset (None: nothing committed yet)."""
Committing = tuple[int, int, int, "futures.Future[None]"]
"""(partition, first offset, deltas, the commit's future)."""
FENCED_PAUSE_S = 5.0
"""After being fenced, wait this long for the rebalance that explains it."""
MAX_BACKOFF_S = 30.0
COMMIT_DEADLINE_S = TIMEOUT_S + 15.0
"""A batch's commits that have not returned by then are given up (see `_stuck`)."""


class JoinStage:
    def __init__(self, *, wiring: JoinWiring, consumer: Any, producers: PartitionProducers,
                 metrics: Metrics) -> None:
        self._wiring = wiring
        self._consumer = consumer
        self._metrics = metrics
        self._producers = producers
        self._salt = wiring.salt
        self._topic = wiring.join_topic
        self._changelog = wiring.changelog_topic
        self.states: dict[int, JoinState] = {}
        self._writes: dict[str, Entry] = {}
        self._failures: dict[int, int] = {}
        self.paused_until: dict[int, float] = {}
        self._resume_owned: set[int] = set()
        """Partitions of a new assignment, resumed after the poll that assigned them."""
        self._pool = self._new_pool()

    def _new_pool(self) -> futures.ThreadPoolExecutor:
        return futures.ThreadPoolExecutor(max_workers=min(self._wiring.partitions, 8),
                                          thread_name_prefix="join-commit")

    # --- ownership ---------------------------------------------------------------------
    def assigned(self, partitions: set[int]) -> None:
        """A new assignment: forget the state and producer of every partition not in it.

        A partition owned before and after keeps its state: its consumer position is
        reset to the committed offset, which is where our last transaction left the
        state. (Had another worker owned it in between, our producer would be fenced and
        the next transaction would fail and take it over properly.)

        Pauses end here, and every owned partition is resumed once the assignment is in
        effect (`resume_due`, after the poll): librdkafka keeps a partition paused across
        a rebalance, even one that takes it away and gives it back, so a partition paused
        after a failure just before a rebalance would otherwise never be read again.
        """
        for partition in [p for p in self.states if p not in partitions]:
            del self.states[partition]
        self._producers.keep_only(partitions)
        self.paused_until.clear()
        self._resume_owned = set(partitions)

    def lost(self, partitions: set[int]) -> None:
        """Partitions taken away without a clean revoke: another worker may own them."""
        for partition in partitions:
            self.states.pop(partition, None)
            self._producers.discard(partition)
            self.paused_until.pop(partition, None)

    @property
    def pending(self) -> int:
        return sum(state.pending for state in self.states.values())

    @property
    def duplicates(self) -> int:
        return sum(state.stats.duplicates for state in self.states.values())

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._producers.close()

    # --- one poll's records ---------------------------------------------------------------
    def process(self, batches: dict[int, list[Any]]) -> None:
        """One transaction per partition, committed before this returns."""
        self.wait(self.start(batches))

    def start(self, batches: dict[int, list[Any]]) -> list[Committing]:
        """Join and produce each partition's records here; their commits (blocking
        round trips) run in parallel threads: `wait` for them before the next poll."""
        group = self._consumer.consumer_group_metadata()
        fresh = [p for p in sorted(batches)
                 if p not in self.states and p not in self.paused_until]
        taken = dict(zip(fresh, self._pool.map(self._try_take_over, fresh), strict=True))
        started: list[Committing] = []
        for partition in sorted(batches):
            prepared = self._prepare(partition, batches[partition], taken.get(partition))
            if prepared is not None:
                first, deltas, offsets = prepared
                started.append((partition, first, deltas, self._pool.submit(
                    self._producers.finish, partition, offsets, group)))
        return started

    def wait(self, started: list[Committing]) -> None:
        """Wait for the commits `start` began; recover the partitions whose failed."""
        failed: list[tuple[int, int, BaseException]] = []
        deadline = time.monotonic() + COMMIT_DEADLINE_S
        stuck = False
        for partition, first, deltas, future in started:
            try:
                exc = future.exception(timeout=max(deadline - time.monotonic(), 0.0))
            except futures.TimeoutError:
                exc = self._stuck(partition, future)
                stuck = True
            if exc is not None:
                failed.append((partition, first, exc))
                continue
            self._metrics.events_out += deltas
            self._metrics.facts_out += deltas
            self._failures.pop(partition, None)
        if stuck:  # its threads stay blocked: new commits get new threads
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
        for partition, first, exc in failed:
            self._failed(partition, first, exc, "a transaction")

    def _stuck(self, partition: int, blocked_call: futures.Future[Any]) -> KafkaException:
        self._producers.abandon(partition, blocked_call)
        return KafkaException(KafkaError(
            KafkaError._TIMED_OUT, f"the commit did not return in {COMMIT_DEADLINE_S:.0f} s "
            "(librdkafka lost its transaction coordinator); its producer is abandoned",
            retriable=True))

    def _try_take_over(self, partition: int) -> TakeOver | Exception:
        try:
            return self._take_over(partition)
        except Exception as exc:
            return exc

    def _prepare(self, partition: int, messages: Sequence[Any],
                 taken: TakeOver | Exception | None = None
                 ) -> tuple[int, int, list[TopicPartition]] | None:
        """Take the partition over if needed (`taken`: done already, in parallel with
        the other partitions'), open its transaction and produce the batch's records
        into it: (first offset, deltas, offsets to commit)."""
        first = messages[0].offset()
        if partition in self.paused_until:  # fetched before the pause took effect
            self._rewind(partition, first)
            return None
        state = self.states.get(partition)
        if state is None:
            if taken is None:
                taken = self._try_take_over(partition)
            if isinstance(taken, Exception):
                self._failed(partition, first, taken, "taking over the partition")
                return None
            state, committed = taken
            if committed is not None and first > committed:
                self._rewind(partition, committed)  # records we have not seen: read them
                return None
            if committed is not None:
                messages = [m for m in messages if m.offset() >= committed]
                if not messages:
                    return None
                first = messages[0].offset()
        try:
            deltas = self._produce_batch(partition, state, messages)
        except Exception as exc:
            self._producers.fail(partition, exc)
            self._failed(partition, first, exc, "a transaction")
            return None
        return first, deltas, [TopicPartition(self._topic, partition,
                                              messages[-1].offset() + 1)]

    def _take_over(self, partition: int) -> TakeOver:
        """Fence the previous owner, rebuild the state, read the committed offset."""
        self.states.pop(partition, None)
        started = time.monotonic()
        self._producers.start(partition)
        entries = list(self._wiring.read_changelog(partition))
        state = JoinState.restore(entries, salt=self._salt, writer=self._write)
        committed = self._consumer.committed([TopicPartition(self._topic, partition)],
                                             timeout=30)[0].offset
        self.states[partition] = state
        log.info("join partition %s recovered: %s stored rows, %s pending tickets, in "
                 "%.1f s; resuming at offset %s", partition, len(entries), state.pending,
                 time.monotonic() - started, committed if committed >= 0 else "0")
        return state, committed if committed >= 0 else None

    def _write(self, key: str, entry: Entry) -> None:
        self._writes[key] = entry

    def _produce_batch(self, partition: int, state: JoinState, messages: Sequence[Any]
                       ) -> int:
        """Open the transaction and produce into it: the deltas, the dead letters, the
        state entries the batch changed and the newest heartbeat. The number of deltas."""
        facts, dead = self._wiring.facts_topic, self._wiring.dead_letter_topic
        producer = self._producers.begin(partition)
        beat: Beat | None = None
        deltas_out = 0
        self._writes.clear()
        apply_values = state.apply_values
        for message in messages:
            try:
                item = decode_values(message.value())
            except ChangeRecordError as exc:
                send(producer, dead, dead_letter_of(message, f"cannot join: {exc}",
                                                    self._metrics), None, None)
                continue
            if isinstance(item, Beat):
                beat = item
                continue
            deltas = apply_values(*item)
            for delta in deltas:
                send(producer, facts, delta_json(delta), str(delta[0]).encode(), None)
            deltas_out += len(deltas)
        for key, entry in self._writes.items():
            k, v = encode_entry(key, entry)
            send(producer, self._changelog, v, k, partition)
        self._writes.clear()
        if beat is not None:
            send(producer, self._wiring.heartbeat_topic,
                 heartbeat_record(beat, join_partition=partition,
                                  now_ms=int(time.time() * 1000)), None, None)
        return deltas_out

    # --- failures --------------------------------------------------------------------------
    def _failed(self, partition: int, first: int, exc: BaseException, what: str) -> None:
        """Drop the partition's state, rewind and pause it; raise if retrying cannot help."""
        exc = self._producers.cause(partition, exc)
        self.states.pop(partition, None)
        self._producers.discard(partition)
        self._rewind(partition, first)
        if is_fatal(exc):
            raise fatal(f"join partition {partition}: {what}", exc,
                        self._wiring.bootstrap) from exc
        if is_fenced(exc):
            pause = FENCED_PAUSE_S
            log.warning("join partition %s: another worker took it over (%s); dropping it "
                        "until the group settles, retrying in %.0f s", partition,
                        describe(exc), pause)
        else:
            count = self._failures.get(partition, 0) + 1
            self._failures[partition] = count
            unreachable = is_unreachable(exc)
            if count > MAX_REFUSALS and not unreachable:
                raise fatal(f"join partition {partition}: {what} ({count} times in a row)",
                            exc, self._wiring.bootstrap) from exc
            pause = min(2.0 ** (count - 1), MAX_BACKOFF_S)
            log.warning("join partition %s: %s failed (%s); rolled back to offset %s, "
                        "the state will be rebuilt from the changelog, retrying in %.0f s "
                        "(attempt %s)", partition, what, describe(exc), first, pause, count)
        self._metrics.recoveries += 1
        self._pause(partition, pause)

    def _rewind(self, partition: int, offset: int) -> None:
        try:
            self._consumer.seek(TopicPartition(self._topic, partition,
                                               offset if offset >= 0 else OFFSET_BEGINNING))
        except Exception as exc:  # no longer assigned: the next owner starts at the commit
            log.info("not rewinding join partition %s: %s", partition, exc)

    def _pause(self, partition: int, seconds: float) -> None:
        self.paused_until[partition] = time.monotonic() + seconds
        with contextlib.suppress(Exception):  # not assigned any more: nothing to pause
            self._consumer.pause([TopicPartition(self._topic, partition)])

    @property
    def resume_pending(self) -> bool:
        """Whether `resume_due` has anything to do (checked once per poll)."""
        return bool(self.paused_until or self._resume_owned)

    def resume_due(self) -> None:
        """Resume paused partitions whose wait is over, and a new assignment's."""
        now = time.monotonic()
        due = [p for p, until in self.paused_until.items() if until <= now]
        for partition in due:
            del self.paused_until[partition]
        due.extend(self._resume_owned - self.paused_until.keys())
        self._resume_owned.clear()
        for partition in due:
            with contextlib.suppress(Exception):  # not assigned any more: nothing to resume
                self._consumer.resume([TopicPartition(self._topic, partition)])
