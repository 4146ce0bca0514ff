"""A broker killed with SIGKILL: the supervisor notices at once and restarts only it.

Runs against the session's real stack (broker and Connect), through a second
`Supervisor` on the same state directory, as a later `boxoffice stack up` would.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from confluent_kafka import Producer

from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import ComponentStatus, Supervisor
from contracts.settings import Settings
from tests.integration.stack.kafka_clients import create_topic, drain
from tests.support.waiting import wait_until

REPORT_DEADLINE_SECONDS = 5.0


def _by_name(supervisor: Supervisor) -> dict[str, ComponentStatus]:
    return {status.name: status for status in supervisor.status()}


def test_a_killed_broker_is_reported_down_and_only_it_restarts(
    connect: Settings, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("crash")
    create_topic(connect, topic, partitions=1)
    producer = Producer({"bootstrap.servers": connect.kafka_bootstrap, "acks": "all"})
    producer.produce(topic, key=b"k", value=b"before the crash")
    assert producer.flush(30) == 0

    supervisor = Supervisor(settings=connect, components=stack_components(connect))
    before = _by_name(supervisor)
    assert before["kafka"].healthy and before["connect"].healthy
    broker_pid, connect_pid = before["kafka"].pid, before["connect"].pid
    assert broker_pid is not None

    os.kill(broker_pid, signal.SIGKILL)
    wait_until(lambda: not _by_name(supervisor)["kafka"].running,
               deadline_seconds=REPORT_DEADLINE_SECONDS, poll=0.1,
               what="a killed broker to show as down (within 5 s)")
    assert not _by_name(supervisor)["kafka"].healthy

    assert supervisor.up(["connect"]) == ["kafka"]
    after = _by_name(supervisor)
    assert after["kafka"].healthy and after["kafka"].pid != broker_pid
    assert after["connect"].pid == connect_pid

    [record] = drain(connect, topic, count=1, deadline_seconds=60)
    assert record.value == b"before the crash"
