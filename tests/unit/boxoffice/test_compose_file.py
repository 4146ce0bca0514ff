"""docker-compose.yml runs the same topology as the native stack, from pinned images."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.compose import compose_env
from contracts.settings import load_settings
from tests.containers import COMPOSE, COMPOSE_FILE, variable_names

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
    variables = variable_names(tag)
    assert variables, f"{name}: the tag must come from a settings variable, got {tag!r}"
    assert all(v in env for v in variables)


@pytest.mark.parametrize("name", INFRASTRUCTURE)
def test_infrastructure_services_have_healthchecks(name: str) -> None:
    assert COMPOSE["services"][name]["healthcheck"]["test"]


def test_dependencies_wait_for_health_or_for_setup_to_finish() -> None:
    for name, service in COMPOSE["services"].items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if dependency == "setup":
                assert condition == {"condition": "service_completed_successfully"}, name
                continue
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in COMPOSE["services"][dependency]


def test_processes_start_after_the_one_shot_setup() -> None:
    services = COMPOSE["services"]
    assert services["setup"]["command"] == ["boxoffice", "setup"]
    for name in ("processors", "sink"):
        assert "setup" in services[name]["depends_on"], name
    assert set(INFRASTRUCTURE) - {"kafka"} <= set(services["setup"]["depends_on"])


def test_app_containers_reach_services_by_name_on_their_own_ports() -> None:
    app = COMPOSE["services"]["sink"]["environment"]
    assert app["BOXOFFICE_POSTGRES_HOST"] == "postgres"
    assert app["BOXOFFICE_KAFKA_HOST"] == "kafka"
    kafka = COMPOSE["services"]["kafka"]["environment"]
    assert f"INTERNAL://kafka:{app['BOXOFFICE_KAFKA_PORT']}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    for service, host_key, port_key in (
            ("connect", "BOXOFFICE_CONNECT_HOST", "BOXOFFICE_CONNECT_PORT"),
            ("clickhouse", "BOXOFFICE_CLICKHOUSE_HOST", "BOXOFFICE_CLICKHOUSE_HTTP_PORT"),
            ("superset", "BOXOFFICE_SUPERSET_HOST", "BOXOFFICE_SUPERSET_PORT"),
            ("postgres", "BOXOFFICE_POSTGRES_HOST", "BOXOFFICE_POSTGRES_PORT")):
        assert app[host_key] == service
        container_ports = {p.rsplit(":", 1)[1] for p in COMPOSE["services"][service]["ports"]}
        assert app[port_key] in container_ports, service


def test_connect_reads_the_connector_secrets_where_the_connector_config_points() -> None:
    secrets_dir = COMPOSE["services"]["sink"]["environment"]["BOXOFFICE_CONNECT_SECRETS_DIR"]
    connect = COMPOSE["services"]["connect"]
    assert connect["environment"]["CONNECT_CONFIG_PROVIDERS"] == "file"
    assert connect["environment"]["CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS"] == (
        secrets_dir)
    assert connect["environment"]["CONNECT_EXACTLY_ONCE_SOURCE_SUPPORT"] == "enabled"
    script = connect["entrypoint"][-1]
    assert f"> {secrets_dir}/connector-secrets.properties" in script
    assert "umask 077" in script
    assert script.endswith("exec /docker-entrypoint.sh start")


def test_superset_gets_an_admin_from_the_env_file() -> None:
    superset = COMPOSE["services"]["superset"]
    script = superset["command"][-1]
    assert "fab create-admin" in script and "fab reset-password" in script
    assert superset["environment"]["SUPERSET_ADMIN_PASSWORD"].startswith(
        "${BOXOFFICE_SUPERSET_ADMIN_PASSWORD")


def test_every_variable_is_written_by_compose_env(env: dict[str, str]) -> None:
    text = COMPOSE_FILE.read_text()
    used = {v for v in variable_names(text) if v != "BOXOFFICE_APP_VERSION"}
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
    text = COMPOSE_FILE.read_text()
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


def test_prometheus_scrapes_the_metrics_services_with_the_metrics_user() -> None:
    import yaml

    from contracts.settings import Settings

    services = COMPOSE["services"]
    metrics = services["metrics"]
    assert metrics["command"] == ["boxoffice", "metrics", "serve"]
    assert "ports" not in metrics  # reached by name inside the network only
    port = metrics["environment"]["BOXOFFICE_METRICS_PORT"]
    workers = services["processors"]["environment"]["BOXOFFICE_PROCESSORS_METRICS_PORT"]
    sink = services["sink"]["environment"]["BOXOFFICE_SINK_METRICS_PORT"]
    assert all("ports" not in services[name] for name in ("processors", "sink"))
    config = yaml.safe_load((COMPOSE_FILE.parent / "deploy" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [
        f"metrics:{port}", f"processors:{workers}", f"sink:{sink}"]
    assert job["basic_auth"]["username"] == Settings.model_fields["metrics_user"].default
    prometheus = services["prometheus"]
    script = prometheus["entrypoint"][-1]
    assert f"> {job['basic_auth']['password_file']}" in script and "umask 077" in script
    assert "ports" not in prometheus  # its UI has no authentication of its own
