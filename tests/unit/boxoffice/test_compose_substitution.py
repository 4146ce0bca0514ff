"""The testcontainers provider fills docker-compose.yml's variables as compose does."""

from __future__ import annotations

import pytest

from boxoffice.compose import compose_env
from contracts.settings import REPO_ROOT, load_settings
from tests.containers import COMPOSE, IN_NETWORK, ServiceSpec, service_spec, substitute

ENV = {"BOXOFFICE_KAFKA_PORT": "19092", "EMPTY": ""}


def test_variables_defaults_and_escaped_dollars() -> None:
    assert substitute("127.0.0.1:${BOXOFFICE_KAFKA_PORT}:9092", ENV) == "127.0.0.1:19092:9092"
    assert substitute("app:${BOXOFFICE_APP_VERSION:-0.1.0}", ENV) == "app:0.1.0"
    assert substitute("${EMPTY:-fallback}", ENV) == "fallback"
    assert substitute('printf "$$PASSWORD"', ENV) == 'printf "$PASSWORD"'


def test_a_required_variable_that_is_missing_names_itself() -> None:
    with pytest.raises(KeyError, match=r"BOXOFFICE_SECRET.*run boxoffice compose-env first"):
        substitute("${BOXOFFICE_SECRET:?run boxoffice compose-env first}", ENV)


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServiceSpec]:
    settings = load_settings(state_dir=tmp_path_factory.mktemp("specs"), kafka_port=19092,
                             clickhouse_http_port=18123).model_copy(update=IN_NETWORK)
    env = {**compose_env(settings), "BOXOFFICE_APP_VERSION": "tests"}
    return {name: service_spec(COMPOSE["services"], name, env) for name in COMPOSE["services"]}


def test_every_service_is_fully_filled_in(specs: dict[str, ServiceSpec]) -> None:
    for name, spec in specs.items():
        assert "${" not in repr(spec), name


def test_containers_publish_on_the_settings_ports(specs: dict[str, ServiceSpec]) -> None:
    assert specs["kafka"].ports == [(9092, 19092)]
    assert specs["clickhouse"].ports == [(8123, 18123)]


def test_connect_and_superset_get_what_the_pipeline_needs_from_them(
        specs: dict[str, ServiceSpec]) -> None:
    connect = specs["connect"]
    assert connect.environment["CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS"] == (
        IN_NETWORK["connect_secrets_dir"])
    assert "$CONNECTOR_REPLICATION_PASSWORD" in connect.options["entrypoint"][-1]
    superset = specs["superset"]
    assert superset.options["user"] == "root"
    assert [m[1:] for m in superset.mounts] == [("/app/boxoffice", "ro")]
    assert (REPO_ROOT / "superset" / "superset_config.py").exists()
