"""A small client of Superset's REST API: JWT login plus the CSRF token it insists on.

Superset protects every state-changing API call with CSRF, even under a bearer token, so
the client logs in (/api/v1/security/login), then asks /api/v1/security/csrf_token/ for a
token bound to the session cookie it receives and sends both back on every request.
"""

from __future__ import annotations

from typing import Any

import requests

from boxoffice.bi.errors import SupersetError

DEFAULT_TIMEOUT_SECONDS = 90.0
"""Above Superset's own SQL Lab timeout, so Superset reports a slow query, not us."""


class SupersetClient:
    """One logged-in API session."""

    def __init__(self, *, base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Referer"] = self.base_url

    def login(self, username: str, password: str) -> None:
        """Log in with a Superset database user; raises SupersetError(status=401) if refused."""
        response = self._send("POST", "/api/v1/security/login", json={
            "username": username, "password": password, "provider": "db", "refresh": False,
        })
        if response.status_code != 200:
            raise SupersetError(
                f"login as {username!r} refused ({response.status_code}); check the "
                "superset_admin_password in the state directory's secrets.json",
                status=response.status_code,
            )
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = self.request("GET", "/api/v1/security/csrf_token/")
        self.session.headers["X-CSRFToken"] = str(csrf["result"])

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201),
                **kwargs: Any) -> Any:
        """Send a request and return its JSON body; any other status raises SupersetError."""
        response = self._send(method, path, **kwargs)
        if response.status_code not in ok:
            raise SupersetError(
                f"{method} {path} answered {response.status_code}: {_summary(response)}",
                status=response.status_code,
            )
        return response.json() if response.content else None

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The response whatever its status, for callers that expect refusals."""
        return self._send(method, path, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, f"{self.base_url}{path}",
                                        timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise SupersetError(
                f"cannot reach {self.base_url} ({type(error).__name__}); is it running? "
                "start it with `boxoffice stack up superset`"
            ) from None

    def close(self) -> None:
        self.session.close()


def _summary(response: requests.Response) -> str:
    """Superset's own error message when it sent one, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
        for key in ("message", "msg", "error"):
            if key in body:
                return str(body[key])[:300]
    return str(body)[:300]
