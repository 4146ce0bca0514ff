"""The settings grouped by the system they configure.

Each group is a plain model; `contracts.settings.Settings` combines them into the one
object read from the environment, so every field keeps its flat `BOXOFFICE_<FIELD>`
variable. A group is where to look for what a system can be told, and what a function
that needs one system can say it takes.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator

from contracts.columns import check_column_map


class InstallationSettings(BaseModel):
    """Where things live and where clients find each service; version pins; deadlines."""

    state_dir: Path = Field(default=Path(".boxoffice"), description="data, logs, pids")
    tools_dir: Path | None = Field(
        default=None,
        description="downloaded jars and virtualenvs; default <state_dir>/tools. Tests "
        "share the demo's so nothing is downloaded twice.",
    )
    bind_host: str = "127.0.0.1"
    # Where clients find each service; default bind_host. docker-compose sets them to the
    # service names so the same code runs inside containers.
    postgres_host: str | None = None
    kafka_host: str | None = None
    connect_host: str | None = None
    clickhouse_host: str | None = None
    superset_host: str | None = None
    # How one service reaches another from inside a container network (docker compose,
    # testcontainers), where that differs from the clients' view above; None: the same.
    connect_postgres_host: str | None = None
    connect_postgres_port: int | None = None
    connect_secrets_dir: str | None = Field(
        default=None, description="the directory Kafka Connect reads the connector's "
        "secrets file from, as the worker sees it; default the native worker's config dir")
    superset_clickhouse_host: str | None = None
    superset_clickhouse_port: int | None = None

    # version pins (the only place they live)
    kafka_version: str = "4.3.1"
    debezium_version: str = "3.7.0.Final"
    superset_version: str = "6.1.0"
    prometheus_version: str = "v3.5.0"
    """docker-compose's Prometheus (the native stack serves /metrics; scraping is yours)."""
    superset_python: str = "python3"
    postgres_major: int = 15
    clickhouse_server_version: str = "26.9"
    """Image tag for docker-compose and testcontainers (natively: the installed binary):
    the release of the engine the tests run (warehouse.server_version.OLDEST_TESTED)."""

    health_deadline_seconds: float = 120.0

    @field_validator("state_dir", "tools_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None


class PostgresSettings(BaseModel):
    """The ticketing source: server, roles, the captured schema."""

    postgres_port: int = 5432
    postgres_user: str = "boxoffice"
    postgres_password: SecretStr | None = None
    postgres_db: str = "ticketing"
    postgres_max_slot_wal_keep_size: str = "1GB"
    replication_user: str = "boxoffice_cdc"
    replication_password: SecretStr | None = None
    verify_user: str = "boxoffice_verify"
    verify_password: SecretStr | None = None
    source_schema: str = "festival"
    column_map: dict[str, str] = Field(
        default_factory=dict,
        description='carried source columns the source renamed or dropped, as JSON: '
        '{"venues.capacity": "seats"} reads capacity from seats; {"venues.capacity": "=0"} '
        "gives changes without it that value (contracts/columns.py, docs/source.md)")

    @field_validator("column_map", mode="after")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        check_column_map(value)
        return value


class KafkaSettings(BaseModel):
    """The broker, Kafka Connect and the Debezium connector, and the topics."""

    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_brokers: int = Field(
        default=1, ge=1, le=9,
        description="brokers of the local KRaft cluster, each also a controller; node i "
                    "listens on kafka_port + 2i and kafka_controller_port + 2i. With 3 or more "
                    "every topic has replication factor 3 and min.insync.replicas 2, so one "
                    "broker can fail without a stop or a loss")
    kafka_partitions: int = 3
    kafka_heap: str = "512m"
    connect_port: int = 8083
    connect_heap: str = "768m"
    connect_rest_user: str = "boxoffice_connect"
    connect_rest_password: SecretStr | None = None
    """Kafka Connect's REST API asks for it (basic auth): whoever may register a
    connector can stream any table the replication password reaches."""
    connector_name: str = "festival-source"
    topic_prefix: str = "festival"
    slot_name: str = "boxoffice_slot"
    publication_name: str = "boxoffice_pub"
    heartbeat_interval_ms: int = 1000
    cdc_poll_interval_ms: int = Field(
        default=500, ge=1, description="Debezium's poll.interval.ms: how long the "
        "connector waits for more changes before it hands a batch to Kafka Connect, which "
        "writes it in one transaction. 100 took the commit-to-Kafka hop from 290 to 71 ms "
        "at 100 purchases/s (bench/results/notes.md, session 18); the default stays 500 "
        "until a broker failover is shown to be as quick with five times the transactions")
    facts_topic: str = "boxoffice.facts.v1"
    heartbeat_topic: str = "boxoffice.heartbeats.v1"
    dead_letter_topic: str = "boxoffice.deadletter"
    metrics_topic: str = "boxoffice.metrics"


class ProcessorsSettings(BaseModel):
    """The Faust workers that join changes into facts."""

    faust_app_id: str = "boxoffice-processors"
    faust_web_port: int = 6066
    faust_workers: int = 1
    person_hash_salt: SecretStr | None = None


class ClickHouseSettings(BaseModel):
    """The warehouse server and its two users."""

    clickhouse_http_port: int = 8123
    clickhouse_tcp_port: int = 9000
    clickhouse_binary: str = "clickhouse"
    clickhouse_database: str = "boxoffice"
    clickhouse_user: str = "boxoffice_writer"
    clickhouse_password: SecretStr | None = None
    clickhouse_reader_user: str = "boxoffice_reader"
    clickhouse_reader_password: SecretStr | None = None
    clickhouse_reader_queries_per_hour: int = Field(
        default=200_000, ge=1,
        description="the reader's hourly query quota (Superset, SQL Lab, status); one open "
                    "live dashboard asks about 2,500 per hour",
    )
    clickhouse_dedup_window_blocks: int = Field(
        default=1000, ge=1,
        description="insert tokens each sink table remembers (ClickHouse's "
                    "non_replicated_deduplication_window), set on every migrate; the sink "
                    "stays exact with any value (its lease), larger only costs memory",
    )
    clickhouse_prefer_embedded: bool = Field(
        default=False, description="use the embedded chdb server even if a binary exists"
    )
    clickhouse_max_request_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024 * 1024,
        description="embedded server: the largest request body, before and after "
                    "decompression; the sink's batches are a few MB",
    )
    clickhouse_socket_timeout_seconds: float = Field(
        default=30.0, gt=0,
        description="embedded server: a connection silent this long is closed "
                    "(ClickHouse's http_receive_timeout)",
    )
    clickhouse_max_connections: int = Field(
        default=1024, ge=8,
        description="embedded server: connections served at once (one thread each); "
                    "more are refused at once with a 503",
    )


class SinkSettings(BaseModel):
    """The exactly-once sink from Kafka into ClickHouse."""

    sink_group: str = "boxoffice-sink"
    sink_batch_rows: int = 50_000
    sink_batch_seconds: float = Field(
        default=1.0, gt=0, description="the longest a batch waits for more records while "
        "its partition keeps delivering them")
    sink_batch_min_seconds: float = Field(
        default=0.1, ge=0, description="a batch holding everything its partition has so "
        "far is stored once it is this old: waiting longer only adds latency (each flush "
        "costs two offset commits and one insert per table)")
    sink_processes: int = Field(
        default=1, ge=1, le=64,
        description="sink processes in the consumer group; partitions are shared out among "
        "them and move to the others when one stops (at most the partition count is useful)")
    sink_index: int = Field(
        default=0, ge=0, description="which of the sink processes this is (its metrics "
        "file); set by the supervisor for each process it starts")


class MetricsSettings(BaseModel):
    """The Prometheus endpoint of the whole pipeline (`boxoffice metrics serve`)."""

    metrics_port: int = 9464
    processors_metrics_port: int = Field(
        default=9470, description="each processors worker serves its own /metrics on this "
        "port plus its worker index")
    sink_metrics_port: int = Field(
        default=9490, description="each sink process serves its own /metrics on this port "
        "plus its sink index")
    metrics_user: str = "prometheus"
    metrics_password: SecretStr | None = None
    """Basic auth on `/metrics`: what the pipeline's health says about its source (the
    slot, the tables' lag) is for the operators' monitoring, not for any local user."""


class SupersetSettings(BaseModel):
    """The BI server."""

    superset_port: int = 8088
    superset_admin_user: str = "admin"
    superset_admin_password: SecretStr | None = None
    superset_secret_key: SecretStr | None = None
