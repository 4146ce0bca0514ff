"""Kafka in KRaft mode: one node, or `kafka_brokers` nodes, each broker and controller
in one JVM.

The storage is formatted once with a cluster id kept beside the first node's data, so
restarts reuse the log. With several nodes the controllers form one static quorum: no
node is healthy before a majority runs, so the supervisor starts them in the order
kafka-N-1 ... kafka-1, kafka (the first node depends on the others), the others count as
started once their controller listens, and the first node waits until every broker has
registered. Topics are never auto-created: every topic is declared by whoever owns it
(Connect's ``topic.creation`` for CDC topics, Faust for its own, the project's admin
code for facts, dead letters and metrics), so partitions and cleanup policies are
always deliberate and a typo in a topic name fails loudly instead of creating a topic.
"""

from __future__ import annotations

import base64
import logging
import socket
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from boxoffice.stack.component import Component, LaunchSpec, Progress
from boxoffice.stack.install import run_step
from boxoffice.stack.jvm import (
    JvmLayout,
    ensure_jars,
    java_argv,
    java_binary,
    write_log4j2_config,
    write_properties,
)
from contracts.settings import Settings

FIRST_NODE_ID = 1
_QUIET = logging.getLogger("boxoffice.kafka.probe")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def kafka_nodes(settings: Settings) -> list[Kafka]:
    """The cluster's nodes in start order: the others first, the first node last."""
    return [Kafka(settings=settings, index=i) for i in reversed(range(settings.kafka_brokers))]


class Kafka(Component):
    name = "kafka"

    def __init__(self, *, settings: Settings, index: int = 0) -> None:
        super().__init__(settings=settings)
        self.index = index
        self.node_id = FIRST_NODE_ID + index
        if index:
            self.name = f"kafka-{index}"  # type: ignore[misc]
        else:  # the first node needs a quorum: the others start before it
            self.depends_on = tuple(f"kafka-{i}"  # type: ignore[misc]
                                    for i in range(1, settings.kafka_brokers))

    @property
    def broker_port(self) -> int:
        return self.settings.kafka_node_port(self.index)

    @property
    def controller_port(self) -> int:
        return self.settings.kafka_node_port(self.index, controller=True)

    @property
    def ports(self) -> dict[str, int]:
        return {"broker": self.broker_port, "controller": self.controller_port}

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def log_dir(self) -> Path:
        """Kafka's own "log": the partition and metadata data, not the text log."""
        return self.data_dir / "kraft-logs"

    def install(self, progress: Progress) -> None:
        ensure_jars(self.settings, component=self.name, progress=progress)

    def server_properties(self) -> dict[str, object]:
        s = self.settings
        host = s.bind_host
        voters = ",".join(f"{FIRST_NODE_ID + i}@{host}:{s.kafka_node_port(i, controller=True)}"
                          for i in range(s.kafka_brokers))
        copies, in_sync = s.kafka_replication_factor, s.kafka_min_insync_replicas
        return {
            "process.roles": "broker,controller",
            "node.id": self.node_id,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{host}:{self.broker_port},"
                         f"CONTROLLER://{host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.broker_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.log_dir,
            "auto.create.topics.enable": False,
            "num.partitions": s.kafka_partitions,
            "default.replication.factor": copies,
            "min.insync.replicas": in_sync,
            "offsets.topic.replication.factor": copies,
            "offsets.topic.num.partitions": 10,
            "transaction.state.log.replication.factor": copies,
            "transaction.state.log.min.isr": in_sync,
            "transaction.state.log.num.partitions": 10,
            "share.coordinator.state.topic.replication.factor": copies,
            "share.coordinator.state.topic.min.isr": in_sync,
            "group.initial.rebalance.delay.ms": 0,
            # after a kill -9 the restarted broker must wait for its old registration to
            # expire (DUPLICATE_BROKER_REGISTRATION): keep that session short on one node
            "broker.heartbeat.interval.ms": 1000,
            "broker.session.timeout.ms": 3000,
            # a small machine: few threads, a modest compaction buffer for a 512m heap
            "num.network.threads": 2,
            "num.io.threads": 4,
            "num.recovery.threads.per.data.dir": 2,
            "log.cleaner.dedupe.buffer.size": 32 * 1024 * 1024,
            "log.cleaner.threads": 1,
        }

    def prepare(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        write_properties(self.config_dir / "server.properties", self.server_properties())
        write_log4j2_config(
            self.config_dir / "log4j2.xml",
            quiet=("kafka.request.logger", "kafka.log.LogCleaner", "state.change.logger",
                   "kafka.cluster.Partition", "kafka.log.LogManager",
                   "org.apache.kafka.common.config.AbstractConfig",
                   "org.apache.kafka.common.utils.AppInfoParser",
                   "org.apache.kafka.controller", "org.apache.kafka.raft",
                   "kafka.coordinator", "org.apache.kafka.coordinator",
                   "org.apache.kafka.storage.internals.log",
                   "org.apache.kafka.image.loader", "org.apache.kafka.metadata"),
        )
        if not (self.log_dir / "meta.properties").exists():
            self._format_storage()

    def cluster_id(self) -> str:
        """The cluster id, generated on first use and kept (beside the first node's data,
        shared by every node) so restarts match the data."""
        first = self.settings.data_dir / Kafka.name
        path = first / "cluster.id"
        if path.exists():
            return path.read_text().strip()
        raw = "-"
        while raw.startswith("-"):  # like Kafka's Uuid: never looks like a CLI option
            raw = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        first.mkdir(parents=True, exist_ok=True)
        path.write_text(raw + "\n")
        return raw

    def _format_storage(self) -> None:
        layout = JvmLayout.of(self.settings)
        argv = java_argv(
            java=java_binary(self.name, print), heap="256m", classpath=layout.classpath(),
            main_class="kafka.tools.StorageTool",
            log4j_config=self.config_dir / "log4j2.xml",
            args=["format", f"--cluster-id={self.cluster_id()}",
                  f"--config={self.config_dir / 'server.properties'}",
                  "--ignore-formatted"],
        )
        run_step(argv, component=self.name, what="formatting the KRaft storage",
                 log_file=self.log_file)

    def launch_spec(self) -> LaunchSpec:
        layout = JvmLayout.of(self.settings)
        argv = java_argv(
            java=java_binary(self.name, print), heap=self.settings.kafka_heap,
            classpath=layout.classpath(), main_class="kafka.Kafka",
            log4j_config=self.config_dir / "log4j2.xml",
            args=[str(self.config_dir / "server.properties")],
        )
        return LaunchSpec(argv=argv, cwd=self.data_dir)

    def is_healthy(self) -> bool:
        """The first node: it answers a metadata request that lists every broker. The
        others: their controller listens (they cannot register before the first node
        runs too, which makes the quorum's majority on three)."""
        if self.index:
            return _listens(self.settings.bind_host, self.controller_port)
        try:
            config: dict[str, Any] = {
                "bootstrap.servers": f"{self.settings.bind_host}:{self.broker_port}",
                "socket.connection.setup.timeout.ms": 1000,
                "logger": _QUIET,  # a probe of a starting broker must not flood stderr
            }
            admin = AdminClient(config)
            metadata = admin.list_topics(timeout=1.0)
        except Exception:
            return False
        wanted = {FIRST_NODE_ID + i for i in range(self.settings.kafka_brokers)}
        return wanted <= set(metadata.brokers)


def _listens(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
