"""The one place that knows every port, path, DSN, version pin and credential.

Everything else receives a `Settings` instance; nothing reads the environment on its own.
Environment variables use the prefix ``BOXOFFICE_`` (``BOXOFFICE_POSTGRES_PORT=6543``);
an explicit keyword argument beats the environment, which is how tests pick free ports.

Credentials are never given defaults in code: the first `load_settings()` for a state
directory generates them into ``<state_dir>/secrets.json`` (mode 0600, outside git), and
an environment variable still wins over the generated value.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.files import exclusively, write_atomically
from contracts.settings.groups import (
    ClickHouseSettings,
    InstallationSettings,
    KafkaSettings,
    MetricsSettings,
    PostgresSettings,
    ProcessorsSettings,
    SinkSettings,
    SupersetSettings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# Credentials generated per state directory when the environment does not provide them.
GENERATED_SECRETS = (
    "postgres_password",
    "replication_password",
    "verify_password",
    "clickhouse_password",
    "clickhouse_reader_password",
    "superset_admin_password",
    "superset_secret_key",
    "person_hash_salt",
    "connect_rest_password",
    "metrics_password",
)


class Settings(InstallationSettings, PostgresSettings, KafkaSettings, ProcessorsSettings,
               ClickHouseSettings, SinkSettings, MetricsSettings, SupersetSettings,
               BaseSettings):
    """Configuration of one boxoffice installation (one state directory): every group of
    `contracts.settings.groups`, read from `BOXOFFICE_*` variables."""

    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", extra="ignore")

    # --- derived paths and DSNs ----------------------------------------------------------------
    @property
    def tools(self) -> Path:
        return self.tools_dir or self.state_dir / "tools"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def kafka_bootstrap(self) -> str:
        """Every broker's address, comma-separated (librdkafka's and Java's form)."""
        host = self.kafka_host or self.bind_host
        return ",".join(f"{host}:{self.kafka_node_port(i)}" for i in range(self.kafka_brokers))

    def kafka_node_port(self, index: int, *, controller: bool = False) -> int:
        """Node `index`'s broker (or controller) port: every second port from the
        setting's, so the default pair 9092/9093 interleaves (9094/9095, ...)."""
        base = self.kafka_controller_port if controller else self.kafka_port
        return base + 2 * index

    @property
    def kafka_replication_factor(self) -> int:
        """Copies of every topic partition: 3 once there are 3 brokers."""
        return min(3, self.kafka_brokers)

    @property
    def kafka_min_insync_replicas(self) -> int:
        """Copies a write with acks=all waits for: 2 of 3, so one broker may be down."""
        return 2 if self.kafka_replication_factor >= 3 else 1

    @property
    def connect_url(self) -> str:
        return f"http://{self.connect_host or self.bind_host}:{self.connect_port}"

    @property
    def clickhouse_client_host(self) -> str:
        return self.clickhouse_host or self.bind_host

    @property
    def clickhouse_url(self) -> str:
        return f"http://{self.clickhouse_client_host}:{self.clickhouse_http_port}"

    @property
    def superset_url(self) -> str:
        return f"http://{self.superset_host or self.bind_host}:{self.superset_port}"

    def postgres_dsn(self, *, user: str | None = None, password: str | None = None) -> str:
        """libpq DSN for the ticketing database (the owner unless another role is named)."""
        role = user or self.postgres_user
        secret = password if password is not None else self.secret("postgres_password")
        return (
            f"host={self.postgres_host or self.bind_host} port={self.postgres_port} "
            f"dbname={self.postgres_db} user={role} password={secret} application_name=boxoffice"
        )

    def secret(self, name: str) -> str:
        """The clear value of a credential; raises if it was never loaded or generated."""
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(
                f"credential {name!r} is not set: create settings with load_settings() so "
                f"generated credentials are read from {self.state_dir / 'secrets.json'}"
            )
        return str(value.get_secret_value())


def _load_or_generate_secrets(state_dir: Path) -> dict[str, str]:
    """Read the state directory's generated credentials, creating any that are missing.

    Under a lock: processes of one state directory that start together (two workers,
    the sink) must end up with the same credentials, not each with a set of its own."""
    path = state_dir / "secrets.json"
    with exclusively(path):
        stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        missing = [name for name in GENERATED_SECRETS if name not in stored]
        if missing:
            for name in missing:
                stored[name] = secrets.token_urlsafe(32 if name.endswith("key") else 18)
            write_atomically(path, json.dumps(stored, indent=2), private=True)
    return stored


# Written by `boxoffice replay cdc` when it switches the pipeline to a new facts topic;
# every later process of the state directory then uses that generation.
GENERATION_FILE = "facts-generation.json"
GENERATION_FIELDS = ("facts_topic", "faust_app_id")


def _generation(state_dir: Path, overrides: dict[str, Any]) -> dict[str, str]:
    """The facts topic and processors' app id a replay switched to, where nothing
    explicit (an override or a BOXOFFICE_ variable) names them."""
    try:
        stored = json.loads((state_dir / GENERATION_FILE).read_text())
    except (OSError, ValueError):
        return {}
    environment = {key.upper() for key in os.environ}
    return {name: str(stored[name]) for name in GENERATION_FIELDS
            if name in stored and name not in overrides
            and f"BOXOFFICE_{name.upper()}" not in environment}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and overrides, with credentials filled in.

    Overrides beat the environment; the environment beats generated credentials and the
    facts generation a replay recorded (GENERATION_FILE).
    """
    settings = Settings(**overrides)
    generation = _generation(settings.state_dir, overrides)
    if generation:
        settings = settings.model_copy(update=generation)
    generated = _load_or_generate_secrets(settings.state_dir)
    fill = {
        name: SecretStr(generated[name])
        for name in GENERATED_SECRETS
        if getattr(settings, name) is None
    }
    return settings.model_copy(update=fill)
