"""A single-node Kafka broker in KRaft mode (broker and controller in one JVM).

The storage is formatted once with a cluster id kept beside the data, so restarts reuse
the log. Topics are never auto-created: every topic is declared by whoever owns it
(Connect's ``topic.creation`` for CDC topics, Faust for its own, the project's admin
code for facts, dead letters and metrics), so partitions and cleanup policies are
always deliberate and a typo in a topic name fails loudly instead of creating a topic.
"""

from __future__ import annotations

import base64
import logging
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

NODE_ID = 1
_QUIET = logging.getLogger("boxoffice.kafka.probe")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class Kafka(Component):
    name = "kafka"

    @property
    def ports(self) -> dict[str, int]:
        return {"broker": self.settings.kafka_port,
                "controller": self.settings.kafka_controller_port}

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
        return {
            "process.roles": "broker,controller",
            "node.id": NODE_ID,
            "controller.quorum.voters": f"{NODE_ID}@{host}:{s.kafka_controller_port}",
            "listeners": f"PLAINTEXT://{host}:{s.kafka_port},"
                         f"CONTROLLER://{host}:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{s.kafka_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": self.log_dir,
            "auto.create.topics.enable": False,
            "num.partitions": s.kafka_partitions,
            "default.replication.factor": 1,
            "min.insync.replicas": 1,
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 10,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 10,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
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
        """The cluster id, generated on first use and kept so restarts match the data."""
        path = self.data_dir / "cluster.id"
        if path.exists():
            return path.read_text().strip()
        raw = "-"
        while raw.startswith("-"):  # like Kafka's Uuid: never looks like a CLI option
            raw = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
        """The broker answers a metadata request and lists itself."""
        try:
            config: dict[str, Any] = {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "socket.connection.setup.timeout.ms": 1000,
                "logger": _QUIET,  # a probe of a starting broker must not flood stderr
            }
            admin = AdminClient(config)
            metadata = admin.list_topics(timeout=1.0)
        except Exception:
            return False
        return NODE_ID in metadata.brokers
