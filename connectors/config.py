"""The Debezium connector's configuration: data in debezium/festival-source.json, filled
from Settings. It holds no secret: the replication password is referenced through Kafka
Connect's file config provider (`secrets_file`, written by the Connect component), so
Connect's REST API and config topic only ever hold the reference. Personal columns are
excluded rather than hashed (the publication does not carry them either), so the
connector needs no salt.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from contracts.settings import Settings
from contracts.tables import PERSONAL_COLUMNS, qualified

TEMPLATE = "festival-source.json"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
SECRETS_FILE = "connector-secrets.properties"


def secrets_file(settings: Settings) -> Path:
    """Where the native Connect worker reads the connector's secrets (its config dir)."""
    return settings.data_dir / "connect" / "config" / SECRETS_FILE


def secrets_reference(settings: Settings) -> str:
    """The secrets file's path as the Connect worker sees it: in a container that is the
    directory the file was copied into, not this machine's state directory."""
    if settings.connect_secrets_dir:
        return f"{settings.connect_secrets_dir.rstrip('/')}/{SECRETS_FILE}"
    return str(secrets_file(settings))


def secret_properties(settings: Settings) -> dict[str, str]:
    """The content of `secrets_file`: what `${file:...:key}` references resolve to."""
    return {"replication_password": settings.secret("replication_password")}


def template() -> dict[str, str]:
    text = (resources.files("connectors") / "debezium" / TEMPLATE).read_text()
    loaded: dict[str, str] = json.loads(text)
    return loaded


def values(settings: Settings) -> dict[str, str]:
    """Every placeholder's value."""
    return {
        "postgres_host": (settings.connect_postgres_host or settings.postgres_host
                          or settings.bind_host),
        "postgres_port": str(settings.connect_postgres_port or settings.postgres_port),
        "postgres_db": settings.postgres_db,
        "replication_user": settings.replication_user,
        "connect_secrets_file": secrets_reference(settings),
        "connector_name": settings.connector_name,
        "slot_name": settings.slot_name,
        "publication_name": settings.publication_name,
        "source_schema": settings.source_schema,
        "table_include_list": ",".join(re.escape(t) for t in qualified(settings.source_schema)),
        "topic_prefix": settings.topic_prefix,
        "heartbeat_interval_ms": str(settings.heartbeat_interval_ms),
        "poll_interval_ms": str(settings.cdc_poll_interval_ms),
        "personal_columns": ",".join(re.escape(f"{settings.source_schema}.{t}.{c}")
                                     for t, columns in PERSONAL_COLUMNS.items()
                                     for c in columns),
        "kafka_partitions": str(settings.kafka_partitions),
    }


def render(settings: Settings) -> dict[str, str]:
    """The connector configuration for `settings`, keys and values filled in."""
    fill = values(settings)

    def substitute(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in fill:
                raise KeyError(f"{TEMPLATE}: unknown placeholder {{{{{name}}}}}")
            return fill[name]

        return _PLACEHOLDER.sub(one, text)

    return {substitute(k): substitute(v) for k, v in template().items()}
