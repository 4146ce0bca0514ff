"""The rendered Debezium configuration honours the contract the processors rely on."""

from __future__ import annotations

from pathlib import Path

from connectors.config import render, secret_properties, secrets_file
from contracts.settings import load_settings
from contracts.topics import cdc_topic


def test_render_fills_the_contract(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, postgres_port=6543, kafka_partitions=4)
    config = render(s)
    text = repr(config)
    assert "{{" not in text
    assert config["plugin.name"] == "pgoutput"
    assert config["publication.name"] == s.publication_name
    assert config["publication.autocreate.mode"] == "disabled"
    assert config["slot.name"] == s.slot_name
    assert config["database.user"] == s.replication_user
    assert config["database.password"] == (
        f"${{file:{secrets_file(s)}:replication_password}}")
    assert s.secret("replication_password") not in text
    assert secret_properties(s) == {"replication_password": s.secret("replication_password")}
    assert config["database.port"] == "6543"
    assert config["topic.prefix"] == s.topic_prefix
    assert config["snapshot.mode"] == "initial"
    assert config["signal.data.collection"] == "festival.debezium_signal"
    assert config["heartbeat.interval.ms"] == str(s.heartbeat_interval_ms)
    assert "festival.heartbeat" in config["heartbeat.action.query"]
    assert config["tombstones.on.delete"] == "true"
    assert config["column.exclude.list"] == r"festival\.people\.name"
    assert not [key for key in config if key.startswith("column.mask")]
    assert config["topic.creation.default.cleanup.policy"] == "compact"
    assert config["topic.creation.default.partitions"] == "4"
    assert config["value.converter.schemas.enable"] == "false"
    assert not [key for key in config if key.startswith(("producer.override.",
                                                         "consumer.override."))]
    assert cdc_topic(s, "tickets") == "festival.festival.tickets"


def test_the_config_holds_no_secret(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    shown = repr(render(s))
    assert s.secret("replication_password") not in shown
    assert s.secret("person_hash_salt") not in shown


def test_connect_in_a_container_reaches_postgres_and_its_secrets_inside_its_network(
        tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, postgres_port=6543, connect_postgres_host="postgres",
                      connect_postgres_port=5432, connect_secrets_dir="/kafka/config/boxoffice")
    config = render(s)
    assert config["database.hostname"] == "postgres"
    assert config["database.port"] == "5432"
    assert config["database.password"] == (
        "${file:/kafka/config/boxoffice/connector-secrets.properties:replication_password}")


def test_natively_connect_reaches_postgres_where_every_client_does(tmp_path: Path) -> None:
    config = render(load_settings(state_dir=tmp_path, postgres_port=6543))
    assert (config["database.hostname"], config["database.port"]) == ("127.0.0.1", "6543")
