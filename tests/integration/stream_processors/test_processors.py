"""The processors against a real broker: Debezium-shaped input in, signed facts out.

Every test checks the same thing in the end: the facts topic (read committed, like the
sink), summed by sign, equals the join of the source model's final state.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import requests
from confluent_kafka import Consumer, Producer

from contracts.settings import Settings
from contracts.topics import cdc_topic, join_topic
from stream_processors.app import METRICS_PAGE
from tests.integration.stream_processors.harness import (
    TopicReader,
    produce,
    produce_changes,
    signed_sum,
    start_worker,
    stop,
    workload,
)
from tests.support.cdc_model import SourceModel
from tests.support.waiting import wait_until

WAIT_SECONDS = 120.0
"""How long a worker gets to own partitions or write its first facts."""
POLL_SECONDS = 0.2


def _wait_equal(settings: Settings, expected: object, *, deadline_s: float = 180.0) -> None:
    reader = TopicReader(settings, settings.facts_topic)
    try:
        equal = reader.poll_until(lambda recs: signed_sum(recs) == expected,
                                  deadline_s=deadline_s)
        got = signed_sum(reader.records)
        assert equal, (f"facts differ from the join: {len(got - expected)} extra, "  # type: ignore[operator]
                       f"{len(expected - got)} missing of {sum(expected.values())}")  # type: ignore[attr-defined,operator]
    finally:
        reader.close()


def _facts_seen(settings: Settings, reader: TopicReader, at_least: int) -> bool:
    reader.poll_until(lambda recs: len(recs) >= at_least, deadline_s=0.5)
    return len(reader.records) >= at_least


def test_signed_facts_equal_the_join_and_metrics_are_served(
        proc_settings: Settings, tmp_path: Path) -> None:
    model = workload(seed=1)
    produce_changes(proc_settings, model.changes)
    worker = start_worker(proc_settings, index=0, log=tmp_path / "worker.log")
    try:
        _wait_equal(proc_settings, model.expected_join())
        url = (f"http://{proc_settings.bind_host}:{proc_settings.faust_web_port}"
               f"{METRICS_PAGE}")
        page = requests.get(url, timeout=5).json()
        assert page["events_in"] >= len(model.changes)
        assert page["pending_joins"] == sum(
            1 for t in model.rows["tickets"].values()
            if t["purchase_id"] not in model.rows["purchases"]
            or t["performance_id"] not in model.rows["performances"])
        assert {"events_in_per_s", "events_out_per_s", "dead_letters",
                "consumer_lag"} <= page.keys()
    finally:
        stop(worker)


def test_malformed_records_go_to_dead_letters_and_the_rest_is_processed(
        proc_settings: Settings, tmp_path: Path) -> None:
    model = workload(seed=2, tickets=500, changes=300)
    tickets_topic = cdc_topic(proc_settings, "tickets")
    half = len(model.changes) // 2
    produce_changes(proc_settings, model.changes[:half])
    produce(proc_settings, [(tickets_topic, b'{"id": 1}', b"this is not json"),
                            (tickets_topic, b'{"id": 2}', b'{"op": "x", "source": {}}')])
    produce_changes(proc_settings, model.changes[half:])
    worker = start_worker(proc_settings, index=0, log=tmp_path / "worker.log")
    dead = TopicReader(proc_settings, proc_settings.dead_letter_topic)
    try:
        _wait_equal(proc_settings, model.expected_join())
        assert dead.poll_until(lambda recs: len(recs) >= 2, deadline_s=60)
        letters = [json.loads(value) for _, value in dead.records]
        assert {d["topic"] for d in letters} == {tickets_topic}
        assert {d["value"] for d in letters} == {"this is not json",
                                                  '{"op": "x", "source": {}}'}
        assert all(d["stage"] == "processors" and d["reason"] and d["offset"] >= 0
                   and d["partition"] >= 0 for d in letters)
    finally:
        dead.close()
        stop(worker)


def test_kill_9_three_times_mid_stream_still_equal(proc_settings: Settings,
                                                    tmp_path: Path) -> None:
    model = workload(seed=3, tickets=6000, purchases=1500, performances=60, changes=8000)
    size = len(model.changes)
    chunks = [model.changes[i * size // 4:(i + 1) * size // 4] for i in range(4)]
    log = tmp_path / "worker.log"
    reader = TopicReader(proc_settings, proc_settings.facts_topic)
    try:
        for chunk in chunks[:3]:
            seen = len(reader.records)
            produce_changes(proc_settings, chunk)
            worker = start_worker(proc_settings, index=0, log=log)
            wait_until(lambda seen=seen: _facts_seen(proc_settings, reader, seen + 1),  # type: ignore[misc]
                       deadline_seconds=WAIT_SECONDS, poll=POLL_SECONDS,
                       what=f"a fact beyond the {seen} read before the restart")
            stop(worker, kill=True)  # kill -9 while the chunk is being processed
        produce_changes(proc_settings, chunks[3])
        worker = start_worker(proc_settings, index=0, log=log)
        try:
            _wait_equal(proc_settings, model.expected_join())
        finally:
            stop(worker)
        assert log.read_text().count("recovered:") >= 4  # every start recovered state
    finally:
        reader.close()


def test_two_workers_one_stopped_mid_stream_still_equal(proc_settings: Settings,
                                                         tmp_path: Path) -> None:
    model = workload(seed=4, tickets=6000, purchases=1500, performances=60, changes=6000)
    half = len(model.changes) // 2
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    first = start_worker(proc_settings, index=0, log=logs[0])
    second = start_worker(proc_settings, index=1, log=logs[1])
    reader = TopicReader(proc_settings, proc_settings.facts_topic)
    try:
        wait_until(lambda: all("now owns join partitions [" in p.read_text()
                               for p in logs if p.exists()) and all(p.exists() for p in logs),
                   deadline_seconds=WAIT_SECONDS, poll=POLL_SECONDS,
                   what="both workers to own join partitions")
        produce_changes(proc_settings, model.changes[:half])
        wait_until(lambda: _facts_seen(proc_settings, reader, 1), deadline_seconds=WAIT_SECONDS,
                   poll=POLL_SECONDS, what="the first fact")
        stop(second)  # a clean stop: the group rebalances at once
        produce_changes(proc_settings, model.changes[half:])
        _wait_equal(proc_settings, model.expected_join())
        rebalances = logs[0].read_text().count("rebalance: worker")
        assert rebalances >= 2, "the surviving worker logged no rebalance"
    finally:
        reader.close()
        stop(first)
        stop(second)


def test_a_fenced_transaction_is_recovered_in_process(proc_settings: Settings,
                                                      tmp_path: Path) -> None:
    """Another producer takes every join partition's transactional id mid-stream (what a
    zombie worker meets): the worker's transactions fail, it rebuilds the partitions from
    the changelog and carries on without exiting; the facts still equal the join."""
    model = workload(seed=5, tickets=3000, purchases=800, performances=40, changes=3000)
    log = tmp_path / "worker.log"
    worker, reader = _fenced_mid_stream(proc_settings, model, log)
    try:
        _wait_equal(proc_settings, model.expected_join())
        assert worker.poll() is None, "the worker exited instead of recovering"
        text = log.read_text()
        assert "another worker took it over" in text or "rebuilt from the changelog" in text, \
            text[-3000:]
        assert text.count("recovered:") >= proc_settings.kafka_partitions + 1
    finally:
        reader.close()
        stop(worker)


def test_a_partition_paused_after_a_failure_resumes_after_a_rebalance(
        proc_settings: Settings, tmp_path: Path) -> None:
    """A failed transaction pauses its join partition for a moment; a rebalance during
    that moment must not leave it paused for good. librdkafka keeps a partition's pause
    across a rebalance, even one that revokes and re-assigns it, so the worker itself
    has to resume what it owns. (A 12 s stall of Kafka did exactly this in the chaos
    suite: every transaction failed, the group rebalanced, the join never read again.)

    The failure is a fence (another producer takes the partitions' transactional ids),
    the rebalance a second member joining the group for a few seconds and leaving."""
    model = workload(seed=11, tickets=3000, purchases=800, performances=40, changes=3000)
    log = tmp_path / "worker.log"
    worker, reader = _fenced_mid_stream(proc_settings, model, log)
    try:
        wait_until(lambda: _paused_after_failure(log.read_text()),
                   deadline_seconds=WAIT_SECONDS, poll=0.05,
                   what="a failed transaction (its partition paused)")
        _join_group_briefly(proc_settings, seconds=3.0)
        _wait_equal(proc_settings, model.expected_join(), deadline_s=90.0)
        assert worker.poll() is None, "the worker exited instead of recovering"
    finally:
        reader.close()
        stop(worker)


def _fenced_mid_stream(settings: Settings, model: SourceModel, log: Path
                       ) -> tuple[subprocess.Popen[bytes], TopicReader]:
    """Half the workload in, a worker with its first fact out; then another producer
    takes every join partition's transactional id (what a zombie worker meets) and the
    other half goes in. The worker and a reader of the facts."""
    half = len(model.changes) // 2
    produce_changes(settings, model.changes[:half])
    worker = start_worker(settings, index=0, log=log)
    reader = TopicReader(settings, settings.facts_topic)
    try:
        wait_until(lambda: _facts_seen(settings, reader, 1), deadline_seconds=WAIT_SECONDS,
                   poll=POLL_SECONDS, what="the first fact")
        for partition in range(settings.kafka_partitions):
            usurper = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                                "transactional.id": f"{settings.faust_app_id}-join-{partition}"})
            usurper.init_transactions(60)
        produce_changes(settings, model.changes[half:])
    except BaseException:
        reader.close()
        stop(worker)
        raise
    return worker, reader


def _paused_after_failure(worker_log: str) -> bool:
    return "another worker took it over" in worker_log or "retrying in" in worker_log


def _join_group_briefly(settings: Settings, *, seconds: float) -> None:
    """A second member of the processors' group that consumes and commits nothing: its
    arrival and its departure each make the group rebalance."""
    member = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                       "group.id": settings.faust_app_id, "enable.auto.commit": False,
                       "session.timeout.ms": 10_000})
    assigned: list[object] = []
    member.subscribe([join_topic(settings)],
                     on_assign=lambda _c, tps: assigned.append(tps))
    try:
        until = time.monotonic() + seconds
        wait_until(lambda: member.poll(0.1) is not None or bool(assigned),
                   deadline_seconds=WAIT_SECONDS, poll=0.0, what="the second member's share")
        while time.monotonic() < until:
            member.poll(0.1)  # records it gets are not processed: the worker rereads them
    finally:
        member.close()
