"""The worker's processing loop: one librdkafka consumer, two stages, in one thread.

The consumer (group ``faust_app_id``) subscribes to the CDC topics and the join topic and
is polled in bulk (`consume(n)`): Faust's per-event machinery costs more than the join
itself, twice per change. Each poll's CDC records go to the route stage, its join-topic
records to the join stage, one transaction per join partition. Rebalances happen inside
`consume`, between batches, so no batch is ever in flight when partitions move.

Kafka being down or restarting is waited out (librdkafka reconnects; the stages rewind
and retry); `FatalWorkerError` is raised only when retrying cannot help.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from contracts.settings import Settings
from contracts.topics import join_topic, processor_input_topics
from stream_processors.failures import FATAL_CODES, FatalWorkerError
from stream_processors.join_stage import JoinStage
from stream_processors.kafka_config import consumer_config
from stream_processors.metrics import Metrics
from stream_processors.route_stage import RouteStage
from stream_processors.transactions import PartitionProducers, RouterProducer
from stream_processors.wiring import for_join, for_route

log = logging.getLogger("boxoffice.processors")

BATCH_EVENTS = 50_000
POLL_SECONDS = 0.05
LAG_EVERY_S = 1.0
QUIET_LOG_S = 30.0
"""Repeated consumer warnings (Kafka down) are logged at most this often."""


class Runner:
    def __init__(self, *, settings: Settings, metrics: Metrics,
                 consumer_factory: Callable[[dict[str, Any]], Any] = Consumer) -> None:
        self._settings = settings
        self._metrics = metrics
        self._consumer = consumer_factory({**consumer_config(settings, worker=metrics.worker),
                                           "error_cb": self._client_error})
        self._join_topic = join_topic(settings)
        self._cdc = list(processor_input_topics(settings))
        # The composition root: the stages get names, the salt and clients from here.
        self.route = RouteStage(wiring=for_route(settings), consumer=self._consumer,
                                producer=RouterProducer(settings=settings), metrics=metrics)
        self.join = JoinStage(wiring=for_join(settings), consumer=self._consumer,
                              producers=PartitionProducers(settings=settings), metrics=metrics)
        self._fatal: FatalWorkerError | None = None
        self._warned: dict[str, float] = {}
        self._lag_at = 0.0

    # --- the loop ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Process until `stop` is set; raises FatalWorkerError when it must stop."""
        consumer = self._consumer
        consumer.subscribe([*self._cdc, self._join_topic], on_assign=self._on_assign,
                           on_revoke=self._on_revoke, on_lost=self._on_lost)
        join_name = self._join_topic
        try:
            while not stop.is_set():
                messages = consumer.consume(BATCH_EVENTS, POLL_SECONDS)
                if self._fatal is not None:
                    raise self._fatal
                cdc: list[Any] = []
                joined: dict[int, list[Any]] = {}
                for message in messages:
                    if message.error() is not None:
                        self._message_error(message.error())
                    elif message.topic() == join_name:
                        joined.setdefault(message.partition(), []).append(message)
                    else:
                        cdc.append(message)
                if cdc:
                    self.route.process(cdc)  # sent; acknowledged while the join works
                committing = self.join.start(joined) if joined else []
                if cdc:
                    self.route.finish()  # waits for Kafka while the join commits
                if committing:
                    self.join.wait(committing)
                if self.join.resume_pending:
                    self.join.resume_due()
                self._after_batch()
        finally:
            self._close()

    def _after_batch(self) -> None:
        self._metrics.pending_joins = self.join.pending
        self._metrics.duplicates = self.join.duplicates
        now = time.monotonic()
        if now - self._lag_at >= LAG_EVERY_S:
            self._lag_at = now
            self._metrics.lag_by_partition = self._lag()

    def _lag(self) -> dict[str, int]:
        """Records not yet read, per assigned partition (cached high watermarks)."""
        out: dict[str, int] = {}
        try:
            assigned = self._consumer.assignment()
            for tp in self._consumer.position(assigned):
                _, high = self._consumer.get_watermark_offsets(tp, cached=True)
                if high is None or high < 0:
                    continue
                position = tp.offset if tp.offset >= 0 else 0
                out[f"{tp.topic}[{tp.partition}]"] = max(high - position, 0)
        except Exception:  # a lag figure is not worth failing a batch for
            return dict(self._metrics.lag_by_partition)
        return out

    def _close(self) -> None:
        try:
            self._consumer.close()  # leaves the group: the others rebalance at once
        except Exception as exc:
            log.info("closing the consumer: %s", exc)
        self.route.close()
        self.join.close()

    # --- rebalances ----------------------------------------------------------------------
    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self._metrics.rebalances += 1
        mine = sorted(tp.partition for tp in partitions if tp.topic == self._join_topic)
        self.join.assigned(set(mine))
        log.warning("rebalance: worker %s now owns join partitions %s", self._metrics.worker,
                    mine or "none")

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        """Nothing to flush: every batch is committed before the next poll."""
        self.route.revoked(partitions)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        lost = {tp.partition for tp in partitions if tp.topic == self._join_topic}
        log.warning("worker %s lost its partitions (it was out of the group too long); "
                    "dropping the state of join partitions %s", self._metrics.worker,
                    sorted(lost))
        self.route.revoked(partitions)
        self.join.lost(lost)

    # --- errors --------------------------------------------------------------------------
    def _client_error(self, error: KafkaError) -> None:
        """librdkafka's own errors: mostly 'cannot reach the broker', which it retries."""
        if error.fatal() or error.code() in FATAL_CODES:
            self._fatal = FatalWorkerError(
                f"processors: the Kafka consumer cannot continue: {error.name()} "
                f"({error.str()}). Check the broker at {self._settings.kafka_bootstrap}, "
                "then start the worker again.")
            return
        self._quietly(error.name(), "Kafka client: %s (%s); retrying", error.name(),
                      error.str())

    def _message_error(self, error: KafkaError) -> None:
        if error.code() in FATAL_CODES:
            self._fatal = FatalWorkerError(
                f"processors: consuming failed: {error.name()} ({error.str()}). Check the "
                f"topics and ACLs on {self._settings.kafka_bootstrap}.")
            return
        self._quietly(error.name(), "consumer: %s (%s); waiting", error.name(), error.str())

    def _quietly(self, key: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._warned.get(key, -QUIET_LOG_S) >= QUIET_LOG_S:
            self._warned[key] = now
            log.warning(message, *args)
