"""The Faust app: thin wiring of the pure join logic to Kafka.

Two agents:

* ``route`` reads the CDC topics, parses each record (`changes.parse_change`), forwards
  heartbeats, and sends each change to the join topic partition(s) `routing.route`
  chooses (join partition = purchase id modulo partitions; performances broadcast).
  At-least-once: a replay after a crash only re-sends changes the join drops by LSN.
* ``join`` reads the join topic in batches; each partition has one `JoinState`. Per
  batch and partition, ONE Kafka transaction (`transactions.PartitionProducers`)
  carries the deltas (facts topic), the state entries the batch changed (the state
  changelog) and the join-topic offsets. A crash or rebalance at any point leaves all
  three at the previous batch: the new owner fences the old producer, recovers the state
  from the committed changelog (`changelog.read_partition`) and replays the batch. Facts
  readers use ``isolation.level=read_committed`` (the sink does) and see every delta
  exactly once.

Bad records go to the dead-letter topic with their origin; the stream moves on.
See docs/processors.md for why the state is not a Faust Table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import faust
import orjson
from faust.types import TP

from boxoffice.settings import Settings
from stream_processors.changelog import changelog_topic, encode_entry, read_partition
from stream_processors.changes import ChangeRecordError, parse_change
from stream_processors.deadletters import dead_letter
from stream_processors.heartbeats import heartbeat_record
from stream_processors.join import Entry, JoinState
from stream_processors.metrics import Metrics
from stream_processors.routing import route
from stream_processors.topics import cdc_topics, join_topic
from stream_processors.transactions import PartitionProducers, RouterProducer
from stream_processors.wire import decode, encode, fact_json

log = logging.getLogger("boxoffice.processors")

BATCH_EVENTS = 2000
BATCH_SECONDS = 0.05
METRICS_PAGE = "/boxoffice/metrics/"


def create_app(settings: Settings, *, worker_index: int = 0) -> tuple[faust.App, Metrics]:
    """The Faust app of one worker process and the metrics it keeps."""
    partitions = settings.kafka_partitions
    datadir = settings.data_dir / "processors" / f"worker-{worker_index}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.faust_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        autodiscover=False,
        topic_partitions=partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        broker_commit_every=BATCH_EVENTS * 5,
        broker_commit_interval=1.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        stream_buffer_maxsize=BATCH_EVENTS * 4,
        producer_linger_ms=5,
        web_enabled=True,
        web_bind=settings.bind_host,
        web_port=settings.faust_web_port + worker_index,
        datadir=str(datadir),
        table_cleanup_interval=3600.0,
    )
    salt = settings.secret("person_hash_salt")
    sources = cdc_topics(settings)
    cdc = app.topic(*sources, key_serializer="raw", value_serializer="raw")
    joined = app.topic(join_topic(settings), partitions=partitions, internal=True,
                       key_serializer="raw", value_serializer="raw")
    stats = app.topic(settings.metrics_topic, key_serializer="raw", value_serializer="raw")
    state_topic = changelog_topic(settings)
    producers = PartitionProducers(settings=settings)
    states: dict[int, JoinState] = {}
    writes: dict[str, Entry] = {}
    lock = asyncio.Lock()
    metrics = Metrics(worker=f"{settings.faust_app_id}-{worker_index}",
                      pending=lambda: sum(s.pending for s in states.values()),
                      lag=lambda: _lag(app, {*sources, joined.get_topic_name()}))

    def send_dead(message: Any, reason: str) -> bytes:
        metrics.dead_letters += 1
        log.warning("dead letter from %s[%s]@%s: %s", message.topic, message.partition,
                    message.offset, reason)
        return dead_letter(reason=reason, topic=message.topic, partition=message.partition,
                           offset=message.offset, key=message.key, value=message.value)

    def write(key: str, entry: Entry) -> None:
        writes[key] = entry

    async def state_of(partition: int) -> JoinState:
        """The partition's state; on first use, fence the previous owner and recover."""
        state = states.get(partition)
        if state is None:
            await producers.get(partition)  # fences: no open transaction survives this
            entries = await asyncio.to_thread(lambda: list(read_partition(settings,
                                                                          partition)))
            state = JoinState.restore(entries, salt=salt, writer=write)
            states[partition] = state
            log.info("join partition %s recovered: %s stored rows, %s pending tickets",
                     partition, len(entries), state.pending)
        return state

    join_name, beats_name = joined.get_topic_name(), settings.heartbeat_topic

    router = RouterProducer(settings=settings)
    send = router.send

    @app.agent(cdc, name="route")
    async def route_changes(stream: Any) -> None:
        async for events in stream.take_events(BATCH_EVENTS, within=BATCH_SECONDS):
            for event in events:
                message = event.message
                metrics.events_in += 1
                table_name = sources[message.topic]
                try:
                    if table_name == "heartbeat":
                        record = _heartbeat(message.value)
                        if record is not None:
                            metrics.heartbeats += 1
                            send(beats_name, record, None)
                        continue
                    change = parse_change(table_name, message.key, message.value)
                    if change is None:
                        continue
                    for partition, routed in route(change, partitions):
                        send(join_name, encode(routed), partition)
                except ChangeRecordError as exc:
                    send(settings.dead_letter_topic, send_dead(message, str(exc)), None)
            await router.flush()  # routed before the batch is acked and its offsets commit

    @app.agent(joined, name="join")
    async def join(stream: Any) -> None:
        async for events in stream.take_events(BATCH_EVENTS, within=BATCH_SECONDS):
            by_partition: dict[int, list[Any]] = {}
            for event in events:
                by_partition.setdefault(event.message.partition, []).append(event)
            async with lock:
                for partition, batch in sorted(by_partition.items()):
                    try:
                        await join_batch(partition, batch)
                    except Exception as exc:
                        log.exception("join partition %s: batch failed; the worker stops "
                                      "so the partition is recovered from its changelog",
                                      partition)
                        states.pop(partition, None)
                        await app.crash(exc)
                        return

    async def join_batch(partition: int, batch: list[Any]) -> None:
        """One Kafka transaction: the deltas, the state entries and the offsets."""
        state = await state_of(partition)
        writes.clear()
        records: list[tuple[str, bytes | None, bytes, int | None]] = []
        for event in batch:
            message = event.message
            try:
                deltas = state.apply(decode(message.value))
            except (ChangeRecordError, KeyError, TypeError, ValueError) as exc:
                records.append((settings.dead_letter_topic, None,
                                send_dead(message, f"cannot join: {exc!r}"), None))
                continue
            for fact in deltas:
                records.append((settings.facts_topic, fact.key, fact_json(fact), None))
            metrics.events_out += len(deltas)
            metrics.facts_out += len(deltas)
        for key, entry in writes.items():
            k, v = encode_entry(key, entry)
            records.append((state_topic, k, v, partition))
        writes.clear()
        await producers.commit(partition, records, topic=joined.get_topic_name(),
                               next_offset=batch[-1].message.offset + 1)
        metrics.duplicates = sum(s.stats.duplicates for s in states.values())

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(sender: Any, revoked: Iterable[TP], **_: Any) -> None:
        lost = {tp.partition for tp in revoked if tp.topic == joined.get_topic_name()}
        async with lock:
            for partition in lost:
                states.pop(partition, None)
            await producers.keep_only(set(states))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(sender: Any, assigned: Iterable[TP], **_: Any) -> None:
        metrics.rebalances += 1
        mine = sorted(tp.partition for tp in assigned
                      if tp.topic == joined.get_topic_name())
        log.warning("rebalance: worker %s now owns join partitions %s", metrics.worker,
                    mine or "none")

    @app.page(METRICS_PAGE)
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.json(metrics.snapshot())

    @app.timer(5.0)
    async def publish_metrics() -> None:
        metrics.tick()
        stats.send_soon(key=metrics.worker.encode(),
                        value=orjson.dumps(metrics.snapshot()))

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_producers(sender: Any, **_: Any) -> None:
        await producers.close()

    del route_changes, join, on_revoked, on_assigned, metrics_page, publish_metrics
    del close_producers
    return app, metrics


def _heartbeat(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    return heartbeat_record(value, now_ms=int(time.time() * 1000))


def _lag(app: faust.App, topics: set[str]) -> Mapping[str, int]:
    """Messages not yet read, per assigned source partition."""
    consumer = app.consumer
    read: Mapping[TP, int | None] = getattr(consumer, "_read_offset", {})
    out: dict[str, int] = {}
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        try:
            high = consumer.highwater(tp)
        except Exception:
            continue
        if high is None:
            continue
        position = read.get(tp)
        out[f"{tp.topic}[{tp.partition}]"] = max(high - (position + 1 if position is not
                                                        None else 0), 0)
    return out
