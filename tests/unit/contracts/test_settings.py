"""Settings: one object, environment prefix BOXOFFICE_, generated credentials."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from boxoffice.errors import ComponentError
from boxoffice.stack import supervisor as supervision
from boxoffice.stack.component import Component, LaunchSpec
from contracts.settings import GENERATED_SECRETS, Settings, load_settings


def test_environment_prefix_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOXOFFICE_POSTGRES_PORT", "6543")
    assert load_settings(state_dir=tmp_path).postgres_port == 6543


def test_explicit_argument_beats_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOXOFFICE_KAFKA_PORT", "1111")
    assert load_settings(state_dir=tmp_path, kafka_port=2222).kafka_port == 2222


def test_credentials_are_generated_once_per_state_dir(tmp_path: Path) -> None:
    first = load_settings(state_dir=tmp_path)
    second = load_settings(state_dir=tmp_path)
    for name in GENERATED_SECRETS:
        assert first.secret(name) == second.secret(name)
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    other = load_settings(state_dir=tmp_path / "other")
    assert other.secret("postgres_password") != first.secret("postgres_password")


def test_environment_credential_beats_generated_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOXOFFICE_POSTGRES_PASSWORD", "from-env")
    assert load_settings(state_dir=tmp_path).secret("postgres_password") == "from-env"


def test_secrets_do_not_leak_through_repr(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    assert settings.secret("postgres_password") not in repr(settings)


def test_missing_credential_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="load_settings"):
        Settings(state_dir=tmp_path).secret("postgres_password")


def test_paths_are_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(state_dir=Path("state"))
    assert settings.state_dir == tmp_path / "state"
    assert settings.tools == tmp_path / "state" / "tools"


class _OnKafkaPort(Component):
    """A component listening on the Kafka port; never launched, its port is taken."""

    name = "broker"

    @property
    def ports(self) -> dict[str, int]:
        return {"broker": self.settings.kafka_port}

    def launch_spec(self) -> LaunchSpec:
        raise AssertionError("launched although its port is taken")

    def is_healthy(self) -> bool:
        return False


def test_a_busy_port_names_the_variable_that_moves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grace period lets a just-killed process release its port; this one never will.
    monkeypatch.setattr(supervision, "PORT_RELEASE_GRACE_SECONDS", 0.0)
    host = load_settings(state_dir=tmp_path).bind_host
    with socket.socket() as holder:
        holder.bind((host, 0))
        holder.listen()
        settings = load_settings(state_dir=tmp_path, kafka_port=holder.getsockname()[1])
        supervisor = supervision.Supervisor(settings=settings,
                                            components=[_OnKafkaPort(settings=settings)])
        with pytest.raises(ComponentError, match="choose another port with "
                                                 "BOXOFFICE_KAFKA_PORT"):
            supervisor.up(progress=lambda _line: None)
