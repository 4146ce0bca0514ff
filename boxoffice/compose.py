"""The `.env` file docker-compose.yml reads, derived from the settings.

Writing it from `Settings` (instead of keeping a hand-edited copy) means the compose
topology and the native stack can never disagree on a port, a version or a credential.
"""

from __future__ import annotations

from pathlib import Path

from contracts.files import write_atomically
from contracts.settings import GENERATED_SECRETS, Settings

COMPOSE_FIELDS = (
    "postgres_major",
    "postgres_port",
    "postgres_user",
    "postgres_db",
    "postgres_max_slot_wal_keep_size",
    "kafka_version",
    "kafka_port",
    "kafka_partitions",
    "debezium_version",
    "connect_port",
    "connect_rest_user",
    "clickhouse_server_version",
    "clickhouse_http_port",
    "clickhouse_database",
    "clickhouse_user",
    "clickhouse_reader_user",
    "superset_version",
    "superset_port",
    "superset_admin_user",
    "prometheus_version",
    "topic_prefix",
    "facts_topic",
    "dead_letter_topic",
)


def compose_env(settings: Settings) -> dict[str, str]:
    """Every BOXOFFICE_* variable docker-compose.yml may reference, with its value."""
    env = {f"BOXOFFICE_{name.upper()}": str(getattr(settings, name)) for name in COMPOSE_FIELDS}
    for name in GENERATED_SECRETS:
        env[f"BOXOFFICE_{name.upper()}"] = settings.secret(name)
    return env


def write_env_file(settings: Settings, path: Path) -> None:
    """Write `.env` with owner-only permissions (it holds credentials)."""
    lines = [f"{key}={value}" for key, value in sorted(compose_env(settings).items())]
    write_atomically(path, "# written by `boxoffice compose-env`; holds credentials, never "
                     "commit\n" + "\n".join(lines) + "\n", private=True)
