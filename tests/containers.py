"""The testcontainers provider: the same services from the images docker-compose.yml uses.

Host ports are the ones the session's `Settings` already chose, so a test sees the same
`Settings` whichever provider started its services. Containers share one Docker network
and reach each other by alias, as in docker-compose.yml.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from boxoffice.compose import compose_env
from boxoffice.settings import Settings
from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor

DEADLINE_SECONDS = 240.0


class ContainerProvider:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = compose_env(settings)
        self.network = Network()
        self.network.create()
        self.containers: dict[str, DockerContainer] = {}
        # Health probes are the native components' own, so both providers agree.
        self.supervisor = Supervisor(settings=settings, components=stack_components(settings))
        self._builders: dict[str, Callable[[], DockerContainer]] = {
            "postgres": self._postgres,
            "kafka": self._kafka,
            "connect": self._connect,
            "clickhouse": self._clickhouse,
            "superset": self._superset,
        }

    def ensure(self, name: str) -> Settings:
        if name not in self.containers:
            container = self._builders[name]().with_network(self.network)
            container.with_network_aliases(name)
            container.start()
            self.containers[name] = container
            self._wait_healthy(name)
            self.supervisor.component(name).after_healthy()
        return self.settings

    def close(self) -> None:
        for container in reversed(list(self.containers.values())):
            container.stop()
        self.network.remove()

    def _wait_healthy(self, name: str) -> None:
        component = self.supervisor.component(name)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not component.is_healthy():
            if time.monotonic() > deadline:
                logs = self.containers[name].get_logs()
                raise RuntimeError(f"{name} container not healthy: {logs[-1][-2000:]!r}")
            time.sleep(1)

    def _image(self, repository: str, tag_field: str) -> DockerContainer:
        return DockerContainer(f"{repository}:{getattr(self.settings, tag_field)}")

    def _postgres(self) -> DockerContainer:
        s = self.settings
        return (
            DockerContainer(f"postgres:{s.postgres_major}-bookworm")
            .with_env("POSTGRES_USER", s.postgres_user)
            .with_env("POSTGRES_PASSWORD", s.secret("postgres_password"))
            .with_env("POSTGRES_DB", s.postgres_db)
            .with_command(
                "postgres -c wal_level=logical -c max_wal_senders=10 "
                f"-c max_slot_wal_keep_size={s.postgres_max_slot_wal_keep_size}"
            )
            .with_bind_ports(5432, s.postgres_port)
        )

    def _kafka(self) -> DockerContainer:
        s = self.settings
        return (
            self._image("apache/kafka", "kafka_version")
            .with_env("KAFKA_NODE_ID", "1")
            .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
            .with_env("KAFKA_LISTENERS", "INTERNAL://:29092,EXTERNAL://:9092,CONTROLLER://:9093")
            .with_env("KAFKA_ADVERTISED_LISTENERS",
                      f"INTERNAL://kafka:29092,EXTERNAL://127.0.0.1:{s.kafka_port}")
            .with_env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                      "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT")
            .with_env("KAFKA_INTER_BROKER_LISTENER_NAME", "INTERNAL")
            .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9093")
            .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
            .with_bind_ports(9092, s.kafka_port)
        )

    def _connect(self) -> DockerContainer:
        s = self.settings
        return (
            self._image("quay.io/debezium/connect", "debezium_version")
            .with_env("BOOTSTRAP_SERVERS", "kafka:29092")
            .with_env("GROUP_ID", "boxoffice-connect")
            .with_env("CONFIG_STORAGE_TOPIC", "boxoffice-connect-configs")
            .with_env("OFFSET_STORAGE_TOPIC", "boxoffice-connect-offsets")
            .with_env("STATUS_STORAGE_TOPIC", "boxoffice-connect-status")
            .with_env("CONNECT_KEY_CONVERTER_SCHEMAS_ENABLE", "false")
            .with_env("CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE", "false")
            .with_env("CONNECT_PRODUCER_ENABLE_IDEMPOTENCE", "true")
            .with_env("CONNECT_PRODUCER_ACKS", "all")
            .with_env("CONNECT_CONNECTOR_CLIENT_CONFIG_OVERRIDE_POLICY", "All")
            .with_bind_ports(8083, s.connect_port)
        )

    def _clickhouse(self) -> DockerContainer:
        s = self.settings
        return (
            self._image("clickhouse/clickhouse-server", "clickhouse_server_version")
            .with_env("CLICKHOUSE_DB", s.clickhouse_database)
            .with_env("CLICKHOUSE_USER", s.clickhouse_user)
            .with_env("CLICKHOUSE_PASSWORD", s.secret("clickhouse_password"))
            .with_env("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT", "1")
            .with_bind_ports(8123, s.clickhouse_http_port)
        )

    def _superset(self) -> DockerContainer:
        s = self.settings
        command = (
            "sh -c \"pip install -q clickhouse-connect && superset db upgrade && superset init "
            "&& gunicorn -w 2 -b 0.0.0.0:8088 'superset.app:create_app()'\""
        )
        return (
            self._image("apache/superset", "superset_version")
            .with_env("SUPERSET_SECRET_KEY", s.secret("superset_secret_key"))
            .with_kwargs(user="root")
            .with_command(command)
            .with_bind_ports(8088, s.superset_port)
        )

