"""The embedded server's users file, authentication and quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.embedded.errors import ClickHouseError
from warehouse.embedded.users import (
    Authenticator,
    Quota,
    User,
    hash_password,
    load_users,
    write_users_file,
)


def test_users_file_round_trips_without_clear_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    reader = User("reader", hash_password("s3cret"), readonly=1,
                  settings={"max_execution_time": "30"}, quota=Quota(60, 5))
    write_users_file(path, [User("writer", hash_password("w")), reader])
    assert "s3cret" not in path.read_text()
    assert path.stat().st_mode & 0o077 == 0
    assert load_users(path)["reader"] == reader


def test_wrong_password_and_unknown_user_fail_alike() -> None:
    auth = Authenticator({"w": User("w", hash_password("pw"))})
    assert auth.authenticate("w", "pw").name == "w"
    for name, password in (("w", "nope"), ("ghost", "pw")):
        with pytest.raises(ClickHouseError) as raised:
            auth.authenticate(name, password)
        assert raised.value.code == 516


def test_quota_counts_queries_per_interval() -> None:
    user = User("r", hash_password("x"), quota=Quota(interval_seconds=3600, queries=2))
    auth = Authenticator({"r": user})
    auth.charge(user)
    auth.charge(user)
    with pytest.raises(ClickHouseError) as raised:
        auth.charge(user)
    assert raised.value.code == 201
