"""Kafka Connect's REST API never hands out the replication password.

The connector's config references the password through Kafka Connect's file config
provider (``${file:<connect dir>/connector-secrets.properties:replication_password}``), so
what the REST API returns, and what Connect stores in its config topic, is the reference,
never the clear value. That the REST API listens on loopback only is proven by
tests/integration/stack/test_connect.py.
"""

from __future__ import annotations

import requests

from tests.security.conftest import Secured
from tests.security.scan import kafka_records


def test_rest_api_returns_no_password(secured: Secured) -> None:
    settings = secured.settings
    password = settings.secret("replication_password")
    base = f"{settings.connect_url}/connectors"
    auth = (settings.connect_rest_user, settings.secret("connect_rest_password"))
    documents = [
        requests.get(f"{base}/{settings.connector_name}/config", auth=auth, timeout=10),
        requests.get(f"{base}/{settings.connector_name}", auth=auth, timeout=10),
        requests.get(f"{base}?expand=info&expand=status", auth=auth, timeout=10),
        requests.get(f"{base}/{settings.connector_name}/tasks", auth=auth, timeout=10),
    ]
    assert all(d.status_code == 200 for d in documents), [d.status_code for d in documents]
    assert all(password not in d.text for d in documents)
    config = documents[0].json()
    assert config["database.password"].startswith("${file:"), "expected a provider reference"


def test_connect_config_topic_stores_no_password(secured: Secured) -> None:
    password = secured.settings.secret("replication_password").encode()
    leaks = {topic for topic, body in kafka_records(secured.settings) if password in body}
    assert not leaks
