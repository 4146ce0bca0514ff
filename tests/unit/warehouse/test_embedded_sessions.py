"""Session bookkeeping of the embedded server, with stand-in connections."""

from __future__ import annotations

import pytest

from warehouse.embedded.errors import ClickHouseError
from warehouse.embedded.sessions import SessionRegistry


class FakeConnection:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_session_keeps_its_connection_per_user() -> None:
    registry = SessionRegistry()
    with registry.use("w", "s", timeout=60, check=False, open_connection=FakeConnection) as a:
        pass
    with registry.use("w", "s", timeout=60, check=False, open_connection=FakeConnection) as b:
        pass
    with registry.use("r", "s", timeout=60, check=False, open_connection=FakeConnection) as c:
        pass
    assert a is b
    assert c is not a


def test_concurrent_use_of_one_session_is_refused() -> None:
    registry = SessionRegistry()
    with (
        registry.use("w", "s", timeout=60, check=False, open_connection=FakeConnection),
        pytest.raises(ClickHouseError) as raised,
        registry.use("w", "s", timeout=60, check=False, open_connection=FakeConnection),
    ):
        pass
    assert raised.value.code == 373


def test_session_check_and_expiry() -> None:
    registry = SessionRegistry()
    with pytest.raises(ClickHouseError) as raised, registry.use(
        "w", "missing", timeout=60, check=True, open_connection=FakeConnection
    ):
        pass
    assert raised.value.code == 372
    with registry.use("w", "old", timeout=0, check=False,
                      open_connection=FakeConnection) as old:
        pass
    with registry.use("w", "new", timeout=60, check=False, open_connection=FakeConnection):
        pass
    assert old.closed
    assert len(registry) == 1
