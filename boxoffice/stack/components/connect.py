"""Kafka Connect (distributed mode, one worker) with the Debezium Postgres plugin.

Whoever may register a connector can stream any table the replication password reaches,
so the REST API asks for credentials (Kafka's basic-auth REST extension, the user and
password in a 0600 file read through JAAS) and listens on the loopback interface only,
whatever `bind_host` says. Connectors may not override their clients' settings
(`connector.client.config.override.policy = None`): the worker's producer settings are
the ones exactly-once needs. Records are plain JSON (no embedded schemas), producers are
idempotent with ``acks=all``, and source tasks write in Kafka transactions
(``exactly.once.source.support``), so a worker crash neither loses nor doubles a change
event for consumers reading committed data. Connectors may create their own topics
(``topic.creation.enable``). Connector secrets live in a
0600 file in the worker's config dir, read through the file config provider (limited to
that dir), so the REST API returns ``${file:...}`` references, never a password.
"""

from __future__ import annotations

from pathlib import Path

import requests
from requests.auth import HTTPBasicAuth

from boxoffice.stack.component import Component, LaunchSpec, Progress
from boxoffice.stack.jvm import (
    JvmLayout,
    ensure_jars,
    java_argv,
    java_binary,
    write_log4j2_config,
    write_properties,
)
from connectors.config import secret_properties, secrets_file

LOOPBACK = "127.0.0.1"
POSTGRES_CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector"
BASIC_AUTH_EXTENSION = \
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
LOGIN_MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
GROUP_ID = "boxoffice-connect"
INTERNAL_TOPICS = {
    "config": f"{GROUP_ID}-configs",
    "offset": f"{GROUP_ID}-offsets",
    "status": f"{GROUP_ID}-status",
}


class KafkaConnect(Component):
    name = "connect"
    depends_on = ("kafka",)

    @property
    def ports(self) -> dict[str, int]:
        return {"rest": self.settings.connect_port}

    @property
    def rest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.settings.connect_port}"

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def rest_auth(self) -> HTTPBasicAuth:
        s = self.settings
        return HTTPBasicAuth(s.connect_rest_user, s.secret("connect_rest_password"))

    def install(self, progress: Progress) -> None:
        ensure_jars(self.settings, component=self.name, progress=progress)

    def worker_properties(self) -> dict[str, object]:
        s = self.settings
        json_converter = "org.apache.kafka.connect.json.JsonConverter"
        internal_topics: dict[str, object] = {}
        for kind, topic in INTERNAL_TOPICS.items():
            internal_topics[f"{kind}.storage.topic"] = topic
            internal_topics[f"{kind}.storage.replication.factor"] = \
                s.kafka_replication_factor
        internal_topics["offset.storage.partitions"] = 5
        internal_topics["status.storage.partitions"] = 1
        return {
            "bootstrap.servers": s.kafka_bootstrap,
            "group.id": GROUP_ID,
            **internal_topics,
            "key.converter": json_converter,
            "value.converter": json_converter,
            "key.converter.schemas.enable": False,
            "value.converter.schemas.enable": False,
            "offset.flush.interval.ms": 1000,
            "plugin.path": JvmLayout.of(s).plugin_path,
            # every plugin ships ServiceLoader manifests: skip the slow class-path scan
            "plugin.discovery": "service_load",
            "listeners": f"http://{LOOPBACK}:{s.connect_port}",
            "rest.advertised.host.name": LOOPBACK,
            "rest.advertised.port": s.connect_port,
            "rest.advertised.listener": "http",
            "topic.creation.enable": True,
            "exactly.once.source.support": "enabled",
            "producer.enable.idempotence": True,
            "producer.acks": "all",
            "connector.client.config.override.policy": "None",
            "rest.extension.classes": BASIC_AUTH_EXTENSION,
            "config.providers": "file",
            "config.providers.file.class":
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.file.param.allowed.paths": str(self.config_dir),
        }

    def prepare(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        write_properties(self.config_dir / "worker.properties", self.worker_properties())
        secrets = secrets_file(self.settings)
        secrets.touch(mode=0o600, exist_ok=True)
        secrets.chmod(0o600)
        write_properties(secrets, dict(secret_properties(self.settings)))
        self._write_rest_credentials()
        write_log4j2_config(
            self.config_dir / "log4j2.xml",
            quiet=("org.reflections", "org.apache.kafka.clients",
                   "org.apache.kafka.common.config.AbstractConfig",
                   "org.apache.kafka.common.utils.AppInfoParser",
                   "org.apache.kafka.common.telemetry", "org.apache.kafka.common.metrics",
                   "org.apache.kafka.connect.runtime.isolation",
                   "org.eclipse.jetty", "org.glassfish"),
        )

    def _write_rest_credentials(self) -> None:
        """The REST API's one user, and the JAAS entry the extension reads it through."""
        credentials = self.config_dir / "rest-credentials.properties"
        credentials.touch(mode=0o600, exist_ok=True)
        credentials.chmod(0o600)
        write_properties(credentials, {self.settings.connect_rest_user:
                                       self.settings.secret("connect_rest_password")})
        (self.config_dir / "rest-jaas.conf").write_text(
            f'KafkaConnect {{\n  {LOGIN_MODULE} required\n  file="{credentials}";\n}};\n')

    def launch_spec(self) -> LaunchSpec:
        layout = JvmLayout.of(self.settings)
        argv = java_argv(
            java=java_binary(self.name, print), heap=self.settings.connect_heap,
            classpath=layout.classpath(),
            main_class="org.apache.kafka.connect.cli.ConnectDistributed",
            log4j_config=self.config_dir / "log4j2.xml",
            args=[str(self.config_dir / "worker.properties")],
            properties={"java.security.auth.login.config":
                        str(self.config_dir / "rest-jaas.conf")},
        )
        return LaunchSpec(argv=argv, cwd=self.data_dir)

    def is_healthy(self) -> bool:
        """The worker has joined its group and can load the Debezium Postgres connector.

        ``/connectors`` answers 503 until the worker has read its internal topics, so a
        healthy worker accepts connector configurations at once.
        """
        try:
            if requests.get(f"{self.rest_url}/connectors", auth=self.rest_auth,
                            timeout=1.0).status_code != 200:
                return False
            response = requests.get(f"{self.rest_url}/connector-plugins", auth=self.rest_auth,
                                    timeout=1.0)
            if response.status_code != 200:
                return False
            plugins = response.json()
        except (requests.RequestException, ValueError):
            return False
        return any(p.get("class") == POSTGRES_CONNECTOR for p in plugins)
