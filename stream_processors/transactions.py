"""The worker's producers: one transactional producer per owned join partition, and the
router's idempotent producer (librdkafka, via confluent-kafka).

The transactional id is fixed per join partition (``<app>-join-<p>``), so whichever
worker starts a partition's producer fences the previous owner: its unfinished
transaction is aborted (or, if it was already committing, completed) before the new
owner reads the state changelog and the committed offset. That is what makes a failed
transaction recoverable in-process: drop the producer, start a new one (which settles the
old transaction either way), rebuild the state from the changelog and resume from the
committed offset; whichever way the transaction went, state, facts and offset agree.

These calls block; the worker runs them in its own thread, never on Faust's event loop.
"""

from __future__ import annotations

import contextlib
import logging
from concurrent import futures
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from contracts.settings import Settings
from stream_processors.kafka_config import router_config, transactional_config

log = logging.getLogger("boxoffice.processors")

TIMEOUT_S = 60.0
ABORT_TIMEOUT_S = 10.0


class PartitionProducers:
    def __init__(self, *, settings: Settings) -> None:
        self._settings = settings
        self._producers: dict[int, Producer] = {}
        self._fatal: dict[int, KafkaError] = {}
        self._abandoned: list[tuple[Producer, futures.Future[Any]]] = []
        """Producers a thread is still blocked in, with that thread's call: kept (never
        destroyed under the thread) until the call returns, then let go."""

    def transactional_id(self, partition: int) -> str:
        return f"{self._settings.faust_app_id}-join-{partition}"

    def start(self, partition: int) -> None:
        """A new producer for the partition: fences the previous owner, settles its
        open transaction. Raises KafkaException when the broker cannot be reached."""
        self.discard(partition)
        self._fatal.pop(partition, None)

        def on_error(error: KafkaError) -> None:
            if error.fatal():
                self._fatal[partition] = error

        producer = Producer({**transactional_config(self._settings,
                                                    self.transactional_id(partition)),
                             "error_cb": on_error})
        producer.init_transactions(TIMEOUT_S)
        self._producers[partition] = producer

    def cause(self, partition: int, exc: BaseException) -> BaseException:
        """The real reason behind librdkafka's generic "_FATAL" (e.g. fenced)."""
        error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
        underlying = self._fatal.get(partition)
        if isinstance(error, KafkaError) and error.code() == KafkaError._FATAL and \
                underlying is not None:
            return KafkaException(underlying)
        return exc

    def begin(self, partition: int) -> Producer:
        """Open the partition's transaction; the caller produces into it with `send`."""
        producer = self._producers[partition]
        producer.begin_transaction()
        return producer

    def finish(self, partition: int, offsets: list[TopicPartition], group: Any) -> None:
        """Add the consumed offsets and commit (blocking: the worker runs this in a
        thread per partition). On failure the transaction is aborted, the producer
        discarded (the next `start` settles what was left open) and the error raised."""
        producer = self._producers[partition]
        try:
            producer.send_offsets_to_transaction(offsets, group, TIMEOUT_S)
            producer.commit_transaction(TIMEOUT_S)
        except BaseException as exc:
            if self._producers.get(partition) is producer:  # not abandoned meanwhile
                self.fail(partition, exc)
            raise

    def abandon(self, partition: int, blocked_call: futures.Future[Any]) -> None:
        """Give up on a producer whose call never returned (librdkafka can block past
        its timeout in send_offsets_to_transaction when the broker restarts under it).
        Nothing is called on it: the thread inside still uses it. The next `start`
        fences it through the same transactional id, which settles its transaction.
        It is kept only until `blocked_call` returns, so a worker that lives through
        many broker restarts does not pile producers up."""
        self._abandoned = [(p, call) for p, call in self._abandoned if not call.done()]
        producer = self._producers.pop(partition, None)
        if producer is not None:
            self._abandoned.append((producer, blocked_call))

    @property
    def abandoned(self) -> int:
        """How many abandoned producers a thread is still blocked in."""
        return sum(1 for _, call in self._abandoned if not call.done())

    def fail(self, partition: int, exc: BaseException) -> None:
        """Abort the partition's open transaction (if it can be) and drop the producer."""
        producer = self._producers.pop(partition, None)
        if producer is None:
            return
        with contextlib.suppress(Exception):
            producer.poll(0.5)  # serves error_cb: records what a "_FATAL" really was
        error = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
        if isinstance(error, KafkaError) and error.fatal():
            return  # fenced or broken: nothing can be aborted from this producer
        with contextlib.suppress(Exception):  # the next init_transactions aborts it anyway
            producer.abort_transaction(ABORT_TIMEOUT_S)

    def discard(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            producer.purge()
            producer.flush(0)

    def keep_only(self, partitions: set[int]) -> None:
        """Forget the producers of partitions this worker no longer owns."""
        for partition in [p for p in self._producers if p not in partitions]:
            self.discard(partition)

    def close(self) -> None:
        self.keep_only(set())


def send(producer: Producer, topic: str, value: bytes, key: bytes | None,
         partition: int | None) -> None:
    """Produce one record, waiting for room when librdkafka's local queue is full."""
    while True:
        try:
            if partition is None:
                producer.produce(topic, value, key)
            else:
                producer.produce(topic, value, key, partition)
            return
        except BufferError:
            producer.poll(0.05)


class RouteFailed(Exception):
    """Some routed records were not acknowledged: the batch must be routed again."""


class RouterProducer:
    """The route stage's idempotent producer: at-least-once, flushed before each commit.

    Only failed deliveries call back into Python (``delivery.report.only.error``); a
    fatal producer error (the idempotence sequence broke) makes the next `flush` fail and
    the producer is replaced.
    """

    def __init__(self, *, settings: Settings) -> None:
        self._settings = settings
        self._failures: list[KafkaError] = []
        self._broken: KafkaError | None = None
        self._producer = self._new()

    def _new(self) -> Producer:
        config = {**router_config(self._settings), "on_delivery": self._delivered,
                  "error_cb": self._error}
        return Producer(config)

    def _delivered(self, error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            self._failures.append(error)

    def _error(self, error: KafkaError) -> None:
        if error.fatal():
            self._broken = error

    def send(self, topic: str, value: bytes, partition: int | None) -> None:
        send(self._producer, topic, value, None, partition)

    def flush(self, timeout: float = TIMEOUT_S) -> None:
        """Wait until every record sent so far is acknowledged, or raise RouteFailed."""
        left = self._producer.flush(timeout)
        failures, self._failures = self._failures, []
        if self._broken is not None or left or failures:
            reason = (f"the producer broke ({self._broken.str()})" if self._broken
                      else f"{left} records unacknowledged after {timeout:.0f} s" if left
                      else f"{len(failures)} records refused ({failures[0].str()})")
            self.replace()
            raise RouteFailed(reason)

    def replace(self) -> None:
        """Drop what is queued and start a new producer (the batch is routed again)."""
        self._producer.purge()
        self._producer.flush(0)
        self._broken = None
        self._failures = []
        self._producer = self._new()

    def close(self) -> None:
        self._producer.flush(10.0)
