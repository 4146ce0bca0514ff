"""Kafka Connect's REST API never hands out the replication password or the salt.

The connector's config references the password through Kafka Connect's file config
provider (``${file:<connect dir>/connector-secrets.properties:replication_password}``), so
what the REST API returns, and what Connect stores in its config topic, is the reference,
never the clear value. The person-hash salt is not in the config at all: personal
columns are excluded, not hashed (`contracts.tables.PERSONAL_COLUMNS`). That the REST
API listens on loopback only is proven by tests/integration/stack/test_connect.py.
"""

from __future__ import annotations

import requests

from tests.security.conftest import Secured
from tests.security.scan import kafka_records


def test_rest_api_returns_no_password_and_no_salt(secured: Secured) -> None:
    settings = secured.settings
    secrets = {"password": settings.secret("replication_password"),
               "salt": settings.secret("person_hash_salt")}
    base = f"{settings.connect_url}/connectors"
    auth = (settings.connect_rest_user, settings.secret("connect_rest_password"))
    documents = [
        requests.get(f"{base}/{settings.connector_name}/config", auth=auth, timeout=10),
        requests.get(f"{base}/{settings.connector_name}", auth=auth, timeout=10),
        requests.get(f"{base}?expand=info&expand=status", auth=auth, timeout=10),
        requests.get(f"{base}/{settings.connector_name}/tasks", auth=auth, timeout=10),
    ]
    assert all(d.status_code == 200 for d in documents), [d.status_code for d in documents]
    assert not [(d.url, name) for d in documents for name, secret in secrets.items()
                if secret in d.text]
    config = documents[0].json()
    assert config["database.password"].startswith("${file:"), "expected a provider reference"


def test_connect_config_topic_stores_no_password_and_no_salt(secured: Secured) -> None:
    """Every topic, Connect's config topic among them."""
    settings = secured.settings
    secrets = [settings.secret("replication_password").encode(),
               settings.secret("person_hash_salt").encode()]
    leaks = {topic for topic, body in kafka_records(settings)
             if any(secret in body for secret in secrets)}
    assert not leaks
