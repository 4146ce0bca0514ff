"""The broker and Connect configurations as rendered, without starting a JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.errors import ComponentError
from boxoffice.stack.components.connect import KafkaConnect
from boxoffice.stack.components.kafka import Kafka, kafka_nodes
from boxoffice.stack.jvm import JvmLayout, write_properties
from contracts.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(state_dir=tmp_path / "state", tools_dir=tmp_path / "tools",
                         bind_host="10.1.2.3", kafka_port=19092,
                         kafka_controller_port=19093, connect_port=18083)


def test_broker_listens_where_settings_say_and_never_auto_creates(settings: Settings) -> None:
    props = Kafka(settings=settings).server_properties()
    assert props["listeners"] == "PLAINTEXT://10.1.2.3:19092,CONTROLLER://10.1.2.3:19093"
    assert props["controller.quorum.voters"] == "1@10.1.2.3:19093"
    assert props["auto.create.topics.enable"] is False
    assert props["offsets.topic.replication.factor"] == 1
    assert props["group.initial.rebalance.delay.ms"] == 0


def test_three_brokers_make_one_quorum_with_three_copies_of_everything(
        settings: Settings) -> None:
    three = settings.model_copy(update={"kafka_brokers": 3})
    nodes = kafka_nodes(three)
    assert [n.name for n in nodes] == ["kafka-2", "kafka-1", "kafka"]  # start order
    assert nodes[-1].depends_on == ("kafka-1", "kafka-2")
    props = {n.name: n.server_properties() for n in nodes}
    assert props["kafka-2"]["node.id"] == 3
    assert props["kafka-2"]["listeners"] == \
        "PLAINTEXT://10.1.2.3:19096,CONTROLLER://10.1.2.3:19097"
    assert {p["controller.quorum.voters"] for p in props.values()} == \
        {"1@10.1.2.3:19093,2@10.1.2.3:19095,3@10.1.2.3:19097"}
    for each in props.values():
        assert each["default.replication.factor"] == 3
        assert each["min.insync.replicas"] == 2
        assert each["transaction.state.log.min.isr"] == 2
    assert three.kafka_bootstrap == "10.1.2.3:19092,10.1.2.3:19094,10.1.2.3:19096"
    assert len({n.cluster_id() for n in nodes}) == 1  # one cluster


def test_connect_rest_is_loopback_whatever_the_bind_host(settings: Settings) -> None:
    props = KafkaConnect(settings=settings).worker_properties()
    assert props["listeners"] == "http://127.0.0.1:18083"
    assert props["bootstrap.servers"] == "10.1.2.3:19092"
    assert props["producer.acks"] == "all" and props["producer.enable.idempotence"] is True
    assert props["plugin.path"] == JvmLayout.of(settings).plugin_path


def test_cluster_ids_are_kept_and_never_look_like_options(settings: Settings) -> None:
    kafka = Kafka(settings=settings)
    first = kafka.cluster_id()
    assert kafka.cluster_id() == first
    assert len(first) == 22 and not first.startswith("-")


def test_versions_select_the_jar_directories(settings: Settings) -> None:
    layout = JvmLayout.of(settings)
    assert layout.kafka_libs.parent.name == f"kafka-{settings.kafka_version}"
    assert settings.debezium_version in layout.plugin_path.name
    with pytest.raises(ComponentError, match="stack install"):
        layout.classpath()


def test_properties_files_render_booleans_the_java_way(tmp_path: Path) -> None:
    path = write_properties(tmp_path / "x.properties", {"a": True, "b": 1, "c": "d"})
    assert path.read_text().splitlines()[1:] == ["a=true", "b=1", "c=d"]
