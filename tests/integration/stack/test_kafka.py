"""The KRaft broker against the clients the pipeline uses: confluent-kafka, aiokafka, Faust.

Kafka 4 dropped old protocol versions (KIP-896), so each client is exercised on what the
pipeline needs from it: topic creation, idempotent and transactional produce, consumer
groups with committed offsets, and a real Faust worker with a changelogged table.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from contracts.settings import REPO_ROOT, Settings
from tests.integration.stack.kafka_clients import create_topic, drain
from tests.providers import free_port
from tests.support.waiting import wait_until

KEYS = ["a", "b", "a", "c", "a", "b"]


def test_auto_creation_is_off_so_topics_are_declared(kafka: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": kafka.kafka_bootstrap})
    [config] = admin.describe_configs([ConfigResource("BROKER", "1")]).values()
    assert config.result(timeout=10)["auto.create.topics.enable"].value == "false"


def test_confluent_producer_and_consumer_group_resume_from_commits(
    kafka: Settings, unique_name: Callable[[str], str]
) -> None:
    topic, group = unique_name("ck"), unique_name("ck_group")
    create_topic(kafka, topic, partitions=3)
    producer = Producer({"bootstrap.servers": kafka.kafka_bootstrap,
                         "enable.idempotence": True, "acks": "all"})
    for i, key in enumerate(KEYS):
        producer.produce(topic, key=key, value=str(i))
    assert producer.flush(30) == 0

    first = drain(kafka, topic, count=len(KEYS), group=group)
    assert sorted(r.value.decode() for r in first) == [str(i) for i in range(len(KEYS))]
    _commit(kafka, group, {(r.partition, r.offset + 1) for r in first}, topic)

    producer.produce(topic, key="d", value="late")
    assert producer.flush(30) == 0
    resumed = drain(kafka, topic, count=1, group=group, deadline_seconds=30)
    assert [r.value for r in resumed] == [b"late"]


def _commit(settings: Settings, group: str, positions: set[tuple[int, int]],
            topic: str) -> None:
    from confluent_kafka import TopicPartition as CkPartition

    best: dict[int, int] = {}
    for partition, offset in positions:
        best[partition] = max(best.get(partition, 0), offset)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group})
    try:
        offsets = [CkPartition(topic, p, o) for p, o in best.items()]
        consumer.commit(offsets=offsets, asynchronous=False)
        committed = consumer.committed([CkPartition(topic, p) for p in best], timeout=10)
        assert {tp.partition: tp.offset for tp in committed} == best
    finally:
        consumer.close()


def test_aiokafka_admin_transactions_and_consumer_group(
    kafka: Settings, unique_name: Callable[[str], str]
) -> None:
    asyncio.run(_aiokafka_round_trip(kafka, unique_name("aio"), unique_name("aio_group")))


async def _aiokafka_round_trip(settings: Settings, topic: str, group: str) -> None:
    bootstrap = settings.kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        for i, key in enumerate(KEYS):
            await producer.send_and_wait(topic, str(i).encode(), key=key.encode())
    finally:
        await producer.stop()

    transactional = AIOKafkaProducer(bootstrap_servers=bootstrap,
                                     transactional_id=f"{topic}-tx")
    await transactional.start()
    try:
        async with transactional.transaction():
            await transactional.send(topic, b"committed", key=b"t")
        await transactional.begin_transaction()
        await transactional.send(topic, b"aborted", key=b"t")
        await transactional.abort_transaction()
    finally:
        await transactional.stop()

    values = await _consume_group(bootstrap, topic, group, count=len(KEYS) + 1)
    assert sorted(values) == sorted([str(i).encode() for i in range(len(KEYS))]
                                    + [b"committed"])

    # the group committed its positions: a new member resumes after them
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"late", key=b"d")
    finally:
        await producer.stop()
    assert await _consume_group(bootstrap, topic, group, count=1) == [b"late"]


async def _consume_group(bootstrap: str, topic: str, group: str, *, count: int) -> list[bytes]:
    """Read `count` records as a member of `group`, then commit and check the commit."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, isolation_level="read_committed",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 60
        while len(values) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                values += [r.value for r in records if r.value is not None]
        await consumer.commit()
        for tp in consumer.assignment():
            assert await consumer.committed(tp) == await consumer.position(tp)
    finally:
        await consumer.stop()
    return values


FAUST_APP = """
import faust

app = faust.App(
    {app_id!r},
    broker="kafka://{bootstrap}",
    store="memory://",
    web_enabled=False,
    web_bind="127.0.0.1",
    web_port={web_port},  # the worker binds it even when disabled: never a demo's 6066
    topic_partitions=3,
    topic_replication_factor=1,
    broker_commit_every=1,
    broker_commit_interval=0.5,
)
source = app.topic({source!r}, key_serializer="raw", value_serializer="raw")
sink = app.topic({sink!r}, key_serializer="raw", value_serializer="raw")
counts = app.Table("counts", default=int, partitions=3)


@app.agent(source)
async def count(stream):
    async for key, _value in stream.items():
        name = key.decode()
        counts[name] += 1
        await sink.send(key=key, value=f"{{name}}={{counts[name]}}".encode())
"""


def test_a_faust_worker_counts_in_a_changelogged_table(
    kafka: Settings, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    app_id, source, sink = unique_name("faust"), unique_name("src"), unique_name("out")
    create_topic(kafka, source)
    create_topic(kafka, sink)
    (tmp_path / "probe_app.py").write_text(textwrap.dedent(FAUST_APP.format(
        app_id=app_id, bootstrap=kafka.kafka_bootstrap, source=source, sink=sink,
        web_port=free_port())))
    log = tmp_path / "faust.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "probe_app", "worker", "-l", "info"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": f"{tmp_path}:{REPO_ROOT}"},
        )
    try:
        producer = Producer({"bootstrap.servers": kafka.kafka_bootstrap})
        for key in KEYS:
            producer.produce(source, key=key, value=b"x")
        assert producer.flush(30) == 0

        out_records = drain(kafka, sink, count=len(KEYS), deadline_seconds=120)
        assert worker.poll() is None, log.read_text()[-3000:]
        final: dict[str, int] = {}
        for record in out_records:
            name, number = record.value.decode().split("=")
            final[name] = max(final.get(name, 0), int(number))
        assert final == {"a": 3, "b": 2, "c": 1}, log.read_text()[-3000:]

        changelog = f"{app_id}-counts-changelog"
        admin = AdminClient({"bootstrap.servers": kafka.kafka_bootstrap})
        assert changelog in admin.list_topics(timeout=10).topics
        _wait_for_group_commit(kafka, app_id, source, expected=len(KEYS))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _wait_for_group_commit(settings: Settings, group: str, topic: str, *,
                           expected: int) -> None:
    """Faust commits through aiokafka; the broker must report the whole input consumed."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka import TopicPartition as CkPartition

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    request = ConsumerGroupTopicPartitions(group, [CkPartition(topic, p) for p in range(3)])
    committed: list[int] = [-1]

    def all_committed() -> bool:
        [future] = admin.list_consumer_group_offsets([request]).values()
        committed.append(sum(max(tp.offset, 0)
                             for tp in future.result(timeout=10).topic_partitions))
        return committed[-1] == expected

    try:
        wait_until(all_committed, deadline_seconds=60, what=f"group {group}'s commits")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; group {group} committed {committed[-1]} of {expected} "
                             "records") from None
