"""docker-compose.yml runs the same topology as the native stack, from pinned images."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from boxoffice.compose import compose_env
from boxoffice.settings import REPO_ROOT, load_settings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")
INFRASTRUCTURE = ("postgres", "kafka", "connect", "clickhouse", "superset")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return compose_env(load_settings(state_dir=tmp_path_factory.mktemp("compose")))


def test_every_stage_of_the_pipeline_is_a_service() -> None:
    assert set(INFRASTRUCTURE) | {"processors", "sink"} <= set(COMPOSE["services"])


@pytest.mark.parametrize("name", INFRASTRUCTURE)
def test_infrastructure_images_are_pinned_by_settings(name: str, env: dict[str, str]) -> None:
    image = COMPOSE["services"][name]["image"]
    tag = image.rsplit(":", 1)[1]
    assert tag != "latest"
    variables = VARIABLE.findall(tag)
    assert variables, f"{name}: the tag must come from a settings variable, got {tag!r}"
    assert all(v in env for v in variables)


@pytest.mark.parametrize("name", INFRASTRUCTURE)
def test_infrastructure_services_have_healthchecks(name: str) -> None:
    assert COMPOSE["services"][name]["healthcheck"]["test"]


def test_dependencies_wait_for_health() -> None:
    for name, service in COMPOSE["services"].items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in COMPOSE["services"][dependency]


def test_every_variable_is_written_by_compose_env(env: dict[str, str]) -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    used = {v for v in VARIABLE.findall(text) if v != "BOXOFFICE_APP_VERSION"}
    assert used - set(env) == set()


def test_published_ports_match_the_settings(env: dict[str, str]) -> None:
    expected = {
        "postgres": "BOXOFFICE_POSTGRES_PORT",
        "kafka": "BOXOFFICE_KAFKA_PORT",
        "connect": "BOXOFFICE_CONNECT_PORT",
        "clickhouse": "BOXOFFICE_CLICKHOUSE_HTTP_PORT",
        "superset": "BOXOFFICE_SUPERSET_PORT",
    }
    for service, variable in expected.items():
        ports = COMPOSE["services"][service]["ports"]
        assert any(f"${{{variable}}}" in p and p.startswith("127.0.0.1:") for p in ports), service


def test_no_credential_is_written_into_the_file() -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for key in ("PASSWORD", "SECRET_KEY"):
        for line in text.splitlines():
            if key in line and ":" in line:
                value = line.split(":", 1)[1].strip()
                assert value.startswith("${"), line


def test_env_file_holds_the_generated_credentials(env: dict[str, str], tmp_path: Path) -> None:
    from boxoffice.compose import write_env_file

    settings = load_settings(state_dir=tmp_path / "state")
    target = tmp_path / ".env"
    write_env_file(settings, target)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert f"BOXOFFICE_POSTGRES_PASSWORD={settings.secret('postgres_password')}" in (
        target.read_text()
    )
