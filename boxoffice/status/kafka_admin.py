"""A Kafka admin client that gives up quickly: status must answer within seconds."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka.admin import AdminClient

from contracts.settings import Settings

REQUEST_TIMEOUT_SECONDS = 2.0

_QUIET = logging.getLogger("boxoffice.status.kafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def admin_client(settings: Settings) -> AdminClient:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "socket.connection.setup.timeout.ms": 1000,
        "socket.timeout.ms": int(REQUEST_TIMEOUT_SECONDS * 1000),
        "logger": _QUIET,  # a stopped broker must not flood the status output
    }
    return AdminClient(config)


def consumer_config(settings: Settings, group: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "socket.connection.setup.timeout.ms": 1000,
        "logger": _QUIET,
    }
