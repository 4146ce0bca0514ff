"""The testcontainers provider: the services of docker-compose.yml, started one by one.

Each container is built from its service in docker-compose.yml (image, environment,
entrypoint, command, user, bind mounts), with the file's variables filled from the
settings exactly as `boxoffice compose-env` fills `.env`, so the tests run what a Docker
user runs. Host ports are the ones the session's `Settings` already chose, and containers
share one Docker network and reach each other by service name, as under compose. The
`Settings` handed to tests say how Kafka Connect reaches PostgreSQL and how Superset
reaches ClickHouse inside that network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from boxoffice.compose import compose_env
from boxoffice.stack.components import stack_components
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import REPO_ROOT, Settings
from tests.support.waiting import wait_until

DEADLINE_SECONDS = 240.0
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
_VARIABLE = re.compile(r"\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def _in_network(app: dict[str, str]) -> dict[str, Any]:
    """Where one container finds another: the names and ports compose's app containers
    are given, which the host-side settings of tests must use for Connect and Superset."""
    return {
        "connect_postgres_host": app["BOXOFFICE_POSTGRES_HOST"],
        "connect_postgres_port": int(app["BOXOFFICE_POSTGRES_PORT"]),
        "connect_secrets_dir": app["BOXOFFICE_CONNECT_SECRETS_DIR"],
        "superset_clickhouse_host": app["BOXOFFICE_CLICKHOUSE_HOST"],
        "superset_clickhouse_port": int(app["BOXOFFICE_CLICKHOUSE_HTTP_PORT"]),
    }


IN_NETWORK = _in_network(COMPOSE["x-app"]["environment"])


def variable_names(text: str) -> set[str]:
    """The variables a piece of docker-compose.yml reads (``$$`` is an escaped dollar)."""
    return {match.group(1) for match in _VARIABLE.finditer(text) if match.group(1)}


def substitute(value: str, env: dict[str, str]) -> str:
    """Compose's variable syntax: ``$$``, ``${X}``, ``${X:-default}``, ``${X:?message}``."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"docker-compose.yml needs {name}: {rest}")
        return rest or ""

    return _VARIABLE.sub(one, value)


@dataclass(frozen=True)
class ServiceSpec:
    """One compose service, its variables filled in, as a container needs it."""

    image: str
    environment: dict[str, str]
    command: str | list[str] | None
    options: dict[str, Any]
    """entrypoint and user, passed through to Docker."""
    mounts: list[tuple[str, str, str]]
    """(host path, container path, mode): the repository's own directories only; named
    volumes are left out, as test data is thrown away with the container."""
    ports: list[tuple[int, int]]
    """(container port, host port)."""


def service_spec(services: dict[str, Any], name: str, env: dict[str, str]) -> ServiceSpec:
    spec = services[name]

    def filled(value: str | list[str]) -> str | list[str]:
        if isinstance(value, list):
            return [substitute(str(v), env) for v in value]
        return substitute(value, env)

    options: dict[str, Any] = {}
    if "entrypoint" in spec:
        options["entrypoint"] = filled(spec["entrypoint"])
    if "user" in spec:
        options["user"] = spec["user"]
    mounts = []
    for volume in spec.get("volumes") or []:
        source, target, *mode = volume.split(":")
        if source.startswith("."):
            mounts.append((str((REPO_ROOT / source).resolve()), target,
                           mode[0] if mode else "rw"))
    ports = []
    for port in spec.get("ports") or []:  # "127.0.0.1:<host port>:<container port>"
        *_, host_port, container_port = substitute(port, env).split(":")
        ports.append((int(container_port), int(host_port)))
    return ServiceSpec(
        image=substitute(spec["image"], env),
        environment={k: substitute(str(v), env) for k, v in
                     (spec.get("environment") or {}).items()},
        command=filled(spec["command"]) if "command" in spec else None,
        options=options, mounts=mounts, ports=ports)


class ContainerProvider:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings.model_copy(update=IN_NETWORK)
        self.env = {**compose_env(self.settings), "BOXOFFICE_APP_VERSION": "tests"}
        self.services: dict[str, Any] = COMPOSE["services"]
        self.network = Network()
        self.network.create()
        self.containers: dict[str, DockerContainer] = {}
        # Health probes are the native components' own, so both providers agree.
        self.supervisor = Supervisor(settings=self.settings,
                                     components=stack_components(self.settings))

    def ensure(self, name: str) -> Settings:
        if name not in self.containers:
            container = self.container(name).with_network(self.network)
            container.with_network_aliases(name)
            container.start()
            self.containers[name] = container
            self._wait_healthy(name)
            self.supervisor.component(name).after_healthy()
        return self.settings

    def container(self, name: str) -> DockerContainer:
        spec = service_spec(self.services, name, self.env)
        container = DockerContainer(spec.image)
        for key, value in spec.environment.items():
            container.with_env(key, value)
        if spec.command is not None:
            container.with_command(spec.command)  # type: ignore[arg-type]  # docker-py takes lists
        container.with_kwargs(**spec.options)
        for source, target, mode in spec.mounts:
            container.with_volume_mapping(source, target, mode)
        for container_port, host_port in spec.ports:
            container.with_bind_ports(container_port, host_port)
        return container

    def close(self) -> None:
        for container in reversed(list(self.containers.values())):
            container.stop()
        self.network.remove()

    def _wait_healthy(self, name: str) -> None:
        """Wait for the container's health probe; if it never passes, a RuntimeError
        carrying the container's last log lines, which are what explain it."""
        try:
            wait_until(self.supervisor.component(name).is_healthy,
                       deadline_seconds=DEADLINE_SECONDS, poll=1.0,
                       what=f"the {name} container to be healthy")
        except AssertionError as exc:
            logs = self.containers[name].get_logs()
            raise RuntimeError(f"{name} container not healthy: {logs[-1][-2000:]!r}") from exc
