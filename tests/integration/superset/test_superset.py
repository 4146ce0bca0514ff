"""Superset as a stack component: health, login and the refusal of a default SECRET_KEY."""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest
import requests
from pydantic import SecretStr

from boxoffice.bi.client import SupersetClient
from boxoffice.bi.errors import SupersetError
from boxoffice.stack.components.superset import Superset
from contracts.settings import Settings
from tests.providers import free_port
from tests.support.waiting import wait_until

SUPERSET_DEFAULT_SECRET_KEY = "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"
EXIT_DEADLINE_SECONDS = 180.0


def test_health_endpoint_answers_ok(superset: Settings) -> None:
    response = requests.get(f"{superset.superset_url}/health", timeout=10)
    assert response.status_code == 200
    assert response.text.strip() == "OK"


def test_api_login_with_generated_admin_password(admin: SupersetClient) -> None:
    listed = admin.request("GET", "/api/v1/dashboard/")
    assert "count" in listed


def test_api_login_with_wrong_password_is_refused(superset: Settings) -> None:
    client = SupersetClient(base_url=superset.superset_url)
    with pytest.raises(SupersetError) as refused:
        client.login(superset.superset_admin_user, "not-the-generated-password")
    assert refused.value.status == 401
    client.close()


def _run_until_exit(component: Superset) -> tuple[int | None, str]:
    """Start the component's real launch command; wait (bounded) for it to exit."""
    spec = component.launch_spec()
    process = subprocess.Popen(spec.argv, env={**os.environ, **spec.env}, cwd=spec.cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        # Still running at the deadline is an answer (None), which the test asserts on.
        with contextlib.suppress(AssertionError):
            wait_until(lambda: process.poll() is not None,
                       deadline_seconds=EXIT_DEADLINE_SECONDS, what="Superset to exit")
        code = process.poll()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
        output = process.communicate()[0].decode(errors="replace")
    return code, output


@pytest.mark.parametrize("key", [SUPERSET_DEFAULT_SECRET_KEY, ""], ids=["default", "empty"])
def test_superset_refuses_to_start_without_a_real_secret_key(superset: Settings,
                                                             key: str) -> None:
    insecure = superset.model_copy(update={"superset_secret_key": SecretStr(key),
                                           "superset_port": free_port()})
    code, output = _run_until_exit(Superset(settings=insecure))
    assert code is not None and code != 0, "Superset kept running with an insecure key"
    expected = ("Refusing to start due to insecure SECRET_KEY" if key
                else "SUPERSET_SECRET_KEY is not set")
    assert expected in output
    assert not Superset(settings=insecure).is_healthy()
