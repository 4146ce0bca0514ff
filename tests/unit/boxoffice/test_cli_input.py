"""Nonsense on the command line is refused before the command runs: exit code 2, a
message that names the option and what it must be, and nothing changed (not even the
state directory created). `boxoffice sell --rate -5` once ran unthrottled and
`boxoffice seed --scale -1` printed a traceback after the migrations had run.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxoffice.cli import app

UNUSABLE = {"BOXOFFICE_POSTGRES_PORT": "not a port", "COLUMNS": "200"}
"""Settings that fail to load: should a check regress, the command stops at its settings
(exit 1) instead of, say, `demo` bringing a whole stack up inside the test."""

REFUSED = [
    (["seed", "--scale", "-1"], "--scale"),
    (["seed", "--scale", "0"], "--scale"),
    (["seed", "--scale", "nan"], "--scale"),
    (["sell", "--rate", "-5"], "--rate"),
    (["sell", "--rate", "inf"], "--rate"),
    (["sell", "--duration", "0"], "--duration"),
    (["sell", "--workload", "1", "--steps", "0"], "--steps"),
    (["demo", "--scale", "-0.1"], "--scale"),
    (["demo", "--rate", "-1"], "--rate"),
    (["verify", "--wait", "-1"], "--wait"),
    (["verify", "--statement-timeout", "0"], "--statement-timeout"),
    (["verify", "--live-window", "0"], "--live-window"),
    (["replay", "facts", "--batch-rows", "0"], "--batch-rows"),
    (["replay", "facts", "--from", "last tuesday"], "earliest"),
    (["replay", "facts", "--reconcile-seconds", "0"], "--reconcile-seconds"),
    (["replay", "cdc", "--catch-up-deadline", "-5"], "--catch-up-deadline"),
    (["replay", "cdc", "--reconcile-seconds", "-1"], "--reconcile-seconds"),
    (["connector", "apply", "--deadline", "0"], "--deadline"),
    (["connector", "caught-up", "--deadline", "0"], "--deadline"),
    (["processors", "worker", "--index", "-1"], "--index"),
]


@pytest.mark.parametrize(("args", "named"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_nonsense_is_refused_before_anything_happens(args: list[str], named: str,
                                                     tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = CliRunner().invoke(app, args, env={**UNUSABLE, "BOXOFFICE_STATE_DIR": str(state)})
    assert result.exit_code == 2, result.output
    assert named in result.output, result.output
    assert "Traceback" not in result.output
    assert not state.exists(), "the command ran before its input was checked"


def test_a_sensible_value_passes_the_check(tmp_path: Path) -> None:
    """The control: the same option with a sensible value gets past the parser (to
    `--help` here, so nothing runs)."""
    result = CliRunner().invoke(app, ["sell", "--rate", "0", "--help"],
                                env={"BOXOFFICE_STATE_DIR": str(tmp_path / "state")})
    assert result.exit_code == 0, result.output


def test_a_taken_metrics_port_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["metrics", "serve"], env={
            "BOXOFFICE_STATE_DIR": str(tmp_path / "state"), "BOXOFFICE_BIND_HOST": "127.0.0.1",
            "BOXOFFICE_METRICS_PORT": str(port), "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"port {port}" in result.output and "BOXOFFICE_METRICS_PORT" in result.output
    assert "Traceback" not in result.output
