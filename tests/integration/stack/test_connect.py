"""Kafka Connect as the stack runs it: Debezium loadable, REST on loopback only, and a
throw-away Postgres connector that snapshots and streams through the worker settings
(JSON without schemas, topic creation, exactly-once source support).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
import requests
from confluent_kafka.admin import AdminClient, ConfigResource

from boxoffice.stack.components.connect import INTERNAL_TOPICS, LOOPBACK, POSTGRES_CONNECTOR
from contracts.settings import Settings
from tests.integration.stack.kafka_clients import drain
from tests.support.waiting import wait_until


def _rest(settings: Settings) -> str:
    return f"http://{LOOPBACK}:{settings.connect_port}"


def _auth(settings: Settings) -> tuple[str, str]:
    return settings.connect_rest_user, settings.secret("connect_rest_password")


def test_the_debezium_postgres_plugin_is_loaded(connect: Settings) -> None:
    plugins = requests.get(f"{_rest(connect)}/connector-plugins", auth=_auth(connect),
                           timeout=10).json()
    [postgres] = [p for p in plugins if p["class"] == POSTGRES_CONNECTOR]
    assert postgres["version"] == connect.debezium_version
    info = requests.get(f"{_rest(connect)}/", auth=_auth(connect), timeout=10).json()
    assert info["version"] == connect.kafka_version


@pytest.mark.parametrize("path", ["/", "/connectors", "/connector-plugins"])
def test_the_rest_api_wants_credentials(connect: Settings, path: str) -> None:
    """Whoever registers a connector streams what the replication password reaches."""
    url = f"{_rest(connect)}{path}"
    assert requests.get(url, timeout=10).status_code == 401
    wrong = (connect.connect_rest_user, "not-the-password")
    assert requests.get(url, auth=wrong, timeout=10).status_code == 401
    assert requests.put(f"{_rest(connect)}/connectors/intruder/config", timeout=10,
                        json={"connector.class": POSTGRES_CONNECTOR}).status_code == 401
    assert requests.get(url, auth=_auth(connect), timeout=10).status_code == 200


def _other_local_addresses() -> list[str]:
    """Addresses of this machine other than 127.0.0.1 (another loopback and the NICs)."""
    addresses = {"127.0.0.2"}
    try:
        for entry in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(str(entry[4][0]))
    except socket.gaierror:
        pass
    addresses.discard(LOOPBACK)
    return sorted(addresses)


def test_the_rest_api_listens_on_loopback_only(connect: Settings) -> None:
    with socket.create_connection((LOOPBACK, connect.connect_port), timeout=2):
        pass
    for address in _other_local_addresses():
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, connect.connect_port)) != 0, address


def test_worker_topics_are_compacted_single_replica(connect: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": connect.kafka_bootstrap})
    resources = [ConfigResource("TOPIC", name) for name in INTERNAL_TOPICS.values()]
    futures = admin.describe_configs(resources)
    for resource, future in futures.items():
        config = future.result(timeout=10)
        assert config["cleanup.policy"].value == "compact", resource.name


@pytest.fixture
def source_table(connect: Settings, unique_name: Callable[[str], str]) -> Iterator[str]:
    """A schema with one table holding two rows; dropped with its slot afterwards."""
    schema = unique_name("cdc_probe")
    conn = _pg(connect)
    with conn.cursor() as cur:
        cur.execute(f"create schema {schema}")
        cur.execute(f"create table {schema}.items (id int primary key, label text)")
        cur.execute(f"insert into {schema}.items values (1, 'one'), (2, 'two')")
    yield schema
    with conn.cursor() as cur:
        cur.execute(f"drop schema {schema} cascade")
    conn.close()


def _pg(settings: Settings) -> Any:
    conn = psycopg2.connect(settings.postgres_dsn())
    conn.autocommit = True
    return conn


def test_a_debezium_connector_snapshots_and_streams_exactly_once(
    connect: Settings, source_table: str
) -> None:
    schema = source_table
    name = f"{schema}-connector"
    config = {
        "connector.class": POSTGRES_CONNECTOR,
        "tasks.max": "1",
        "database.hostname": connect.bind_host,
        "database.port": str(connect.postgres_port),
        "database.user": connect.postgres_user,
        "database.password": connect.secret("postgres_password"),
        "database.dbname": connect.postgres_db,
        "topic.prefix": schema,
        "plugin.name": "pgoutput",
        "slot.name": schema,
        "slot.drop.on.stop": "true",
        "publication.name": schema,
        "publication.autocreate.mode": "filtered",
        "table.include.list": f"{schema}.items",
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        "topic.creation.default.cleanup.policy": "compact",
        "exactly.once.support": "required",
    }
    url = f"{_rest(connect)}/connectors/{name}"
    response = requests.put(f"{url}/config", json=config, auth=_auth(connect), timeout=30)
    assert response.status_code in (200, 201), response.text
    try:
        _wait_running(url, _auth(connect))
        with _pg(connect) as conn, conn.cursor() as cur:
            cur.execute(f"insert into {schema}.items values (3, 'three')")
        topic = f"{schema}.{schema}.items"
        records = drain(connect, topic, count=3, deadline_seconds=90)
        events = [json.loads(r.value) for r in records]
        assert [e["after"]["id"] for e in events] == [1, 2, 3]
        assert [e["op"] for e in events] == ["r", "r", "c"]
        assert "schema" not in events[0]  # schemas.enable=false: the bare envelope
        assert json.loads(records[2].key or b"null") == {"id": 3}
        admin = AdminClient({"bootstrap.servers": connect.kafka_bootstrap})
        [future] = admin.describe_configs([ConfigResource("TOPIC", topic)]).values()
        assert future.result(timeout=10)["cleanup.policy"].value == "compact"
    finally:
        requests.delete(url, auth=_auth(connect), timeout=30)
        _drop_slot(connect, schema)


def _states(status: dict[str, Any]) -> list[str]:
    """The connector's state, then its tasks' ([] before the first answer)."""
    if not status:
        return []
    return [status["connector"]["state"], *(t["state"] for t in status.get("tasks", []))]


def _wait_running(url: str, auth: tuple[str, str]) -> None:
    """The connector and its tasks RUNNING; a FAILED one fails at once, with its trace."""
    status: dict[str, Any] = {}

    def settled() -> bool:
        """RUNNING everywhere (with at least one task), or FAILED somewhere: no wait
        mends that."""
        response = requests.get(f"{url}/status", auth=auth, timeout=5)
        if response.ok:
            status.clear()
            status.update(response.json())
        states = _states(status)
        return "FAILED" in states or (len(states) > 1 and all(s == "RUNNING" for s in states))

    try:
        wait_until(settled, deadline_seconds=90, what="the connector and its tasks RUNNING")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; status {status}") from None
    assert "FAILED" not in _states(status), json.dumps(status)[:3000]


def _drop_slot(settings: Settings, slot: str) -> None:
    """The task drops its slot on stop; make sure, once the walsender has let go.

    Best effort, called from the test's `finally`: a slot still held after the deadline
    is left alone rather than raised about, which would hide the test's own outcome."""
    with _pg(settings) as conn, conn.cursor() as cur:

        def gone() -> bool:
            cur.execute("select active from pg_replication_slots where slot_name = %s", (slot,))
            row = cur.fetchone()
            if row is not None and not row[0]:
                cur.execute("select pg_drop_replication_slot(%s)", (slot,))
            return row is None or not row[0]

        with contextlib.suppress(AssertionError):
            wait_until(gone, deadline_seconds=60, what=f"slot {slot} released and dropped")
