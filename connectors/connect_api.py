"""A thin client of Kafka Connect's REST API: just the calls the connector module makes."""

from __future__ import annotations

from typing import Any

import requests

from connectors.errors import ConnectorError
from contracts.settings import Settings

LOOPBACK = "127.0.0.1"  # the native worker's REST API listens on loopback only


class ConnectClient:
    """Connect's REST API for one worker; errors become ConnectorError with the reason."""

    def __init__(self, *, settings: Settings, timeout: float = 30.0) -> None:
        self.base = f"http://{settings.connect_host or LOOPBACK}:{settings.connect_port}"
        self.timeout = timeout
        self.auth = (settings.connect_rest_user, settings.secret("connect_rest_password"))

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base}{path}"
        try:
            response = requests.request(method, url, timeout=self.timeout, auth=self.auth,
                                        **kwargs)
        except requests.RequestException as exc:
            raise ConnectorError(
                f"connect: cannot reach Kafka Connect at {self.base} ({type(exc).__name__}); "
                "start it with `boxoffice stack up connect`"
            ) from exc
        return response

    def _ok(self, response: requests.Response, what: str) -> requests.Response:
        if response.status_code == 401:
            raise ConnectorError(
                f"connect: {what} was refused (HTTP 401): the REST credentials "
                "(BOXOFFICE_CONNECT_REST_USER, connect_rest_password in secrets.json) differ "
                "from the ones the worker started with; restart it with `boxoffice stack "
                "down connect && boxoffice stack up connect`")
        if response.status_code >= 400:
            raise ConnectorError(
                f"connect: {what} failed with HTTP {response.status_code}: "
                f"{_message(response)}"
            )
        return response

    def put_config(self, name: str, config: dict[str, str]) -> bool:
        """PUT /connectors/<name>/config; True when the connector was created."""
        response = self._ok(self._call("PUT", f"/connectors/{name}/config", json=config),
                            f"PUT config of connector {name}")
        return response.status_code == 201

    def config(self, name: str) -> dict[str, str] | None:
        response = self._call("GET", f"/connectors/{name}/config")
        if response.status_code == 404:
            return None
        return self._ok(response, f"GET config of {name}").json()  # type: ignore[no-any-return]

    def status(self, name: str) -> dict[str, Any] | None:
        """The connector's status document, or None when it does not exist."""
        response = self._call("GET", f"/connectors/{name}/status")
        if response.status_code == 404:
            return None
        return self._ok(response, f"GET status of {name}").json()  # type: ignore[no-any-return]

    def pause(self, name: str) -> None:
        self._ok(self._call("PUT", f"/connectors/{name}/pause"), f"pause {name}")

    def resume(self, name: str) -> None:
        self._ok(self._call("PUT", f"/connectors/{name}/resume"), f"resume {name}")

    def restart(self, name: str) -> None:
        self._ok(self._call("POST", f"/connectors/{name}/restart",
                            params={"includeTasks": "true", "onlyFailed": "false"}),
                 f"restart {name}")

    def delete(self, name: str) -> None:
        response = self._call("DELETE", f"/connectors/{name}")
        if response.status_code != 404:
            self._ok(response, f"delete {name}")


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])[:2000]
    return str(body)[:500]


def stop_connector(client: ConnectClient, name: str) -> None:
    """PUT /connectors/<name>/stop: tasks shut down, config kept (offsets may be reset)."""
    client._ok(client._call("PUT", f"/connectors/{name}/stop"), f"stop {name}")


def offsets(client: ConnectClient, name: str) -> list[dict[str, Any]]:
    """GET /connectors/<name>/offsets: the source offsets Connect has committed."""
    response = client._call("GET", f"/connectors/{name}/offsets")
    if response.status_code == 404:
        return []
    body = client._ok(response, f"GET offsets of {name}").json()
    return list(body.get("offsets", []))


def reset_offsets(client: ConnectClient, name: str) -> None:
    """DELETE /connectors/<name>/offsets (the connector must be STOPPED)."""
    client._ok(client._call("DELETE", f"/connectors/{name}/offsets"),
               f"reset offsets of {name}")
