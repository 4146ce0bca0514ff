"""Build the sink from Settings and run it until SIGTERM / SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from contracts.metrics_http import serve_in_background
from contracts.settings import Settings
from warehouse.sink.dead_letters import DeadLetters
from warehouse.sink.incarnations import TopicIds, kafka_topic_ids
from warehouse.sink.lease import Lease
from warehouse.sink.metrics import SinkMetrics, metrics_path, write_metrics
from warehouse.sink.previous import StoredValues
from warehouse.sink.prometheus import sink_registry
from warehouse.sink.routes import Route, routes
from warehouse.sink.runner import Sink
from warehouse.sink.writer import ClickHouseWriter, writer_client

SESSION_TIMEOUT_MS = 10_000
"""A killed sink's partitions move to its successor after this long."""
MAX_POLL_INTERVAL_MS = 900_000
"""A sink waiting for ClickHouse does not poll; it keeps its partitions this long."""


def consumer_config(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": settings.sink_group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        # the end of each partition is reported: a batch holding all there is goes out
        # after sink_batch_min_seconds instead of waiting out sink_batch_seconds
        "enable.partition.eof": True,
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "max.poll.interval.ms": MAX_POLL_INTERVAL_MS,
        "topic.metadata.refresh.interval.ms": 10_000,
        "fetch.max.bytes": 64 * 1024 * 1024,
        "max.partition.fetch.bytes": 8 * 1024 * 1024,
        # Keep a few batches prefetched (bounded by queued.max.messages.kbytes, 64 MiB)
        # and refill the queue at once: librdkafka's default waits up to a second once
        # the queue is "full enough", which keeps the sink below 250,000 records/s.
        "queued.min.messages": 200_000,
        "fetch.queue.backoff.ms": 10,
        "client.id": "boxoffice-sink",
    }


def build_sink(settings: Settings, *, topic_routes: dict[str, Route] | None = None,
               database: str | None = None, group: str | None = None,
               consumer_overrides: dict[str, Any] | None = None,
               step_hook: Callable[[str], None] | None = None,
               lease: bool = True, topic_ids: bool = True, plan: bool = True) -> Sink:
    """`consumer_overrides`, `step_hook`, `lease`, `topic_ids` and `plan` are for tests: a
    short poll interval makes a stall of the loop expel the sink from its group, the hook
    stalls (or kills) it at a step; the negative controls turn a guarantee off:
    `lease=False` lets a frozen sink insert on waking, `topic_ids=False` leaves the topic's
    incarnation out of the tokens, `plan=False` commits no batch ends."""
    config = {**consumer_config(settings), **(consumer_overrides or {})}
    if group:
        config["group.id"] = group
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all",
                         "enable.idempotence": True, "client.id": "boxoffice-sink-dlq"})
    path = metrics_path(settings)
    stored = StoredValues(database=database or settings.clickhouse_database,
                          client_factory=lambda: writer_client(settings))
    return Sink(
        consumer=Consumer(config),
        writer=ClickHouseWriter(settings=settings, database=database),
        dead_letters=DeadLetters(producer=producer, topic=settings.dead_letter_topic),
        routes=topic_routes or routes(settings),
        max_records=settings.sink_batch_rows,
        max_seconds=settings.sink_batch_seconds,
        min_seconds=settings.sink_batch_min_seconds,
        metrics=SinkMetrics(),
        write_metrics_to=lambda m: write_metrics(path, m),
        previous_values=stored.lookup,
        latest_versions=stored.versions,
        step_hook=step_hook,
        lease=Lease.for_consumer(config, time.monotonic) if lease else None,
        topic_ids=TopicIds(kafka_topic_ids(lambda: AdminClient({
            "bootstrap.servers": settings.kafka_bootstrap, "client.id": "boxoffice-sink"})),
            ClickHouseWriter(settings=settings, database=database)) if topic_ids else None,
        record_plan=plan,
    )


def run_sink(settings: Settings, **kwargs: Any) -> None:
    """Run in the foreground; SIGTERM or SIGINT flush what is sealed and stop cleanly."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sink = build_sink(settings, **kwargs)
    serve_in_background(settings, sink_registry(sink.metrics, settings.sink_index),
                        settings.sink_metrics_port + settings.sink_index,
                        setting="BOXOFFICE_SINK_METRICS_PORT")
    sink.run(stop)
