"""ClickHouse's HTTP protocol as our clients use it, against the stack's ClickHouse.

On this machine that is the embedded server (chdb behind the HTTP interface); with a
`clickhouse` binary on PATH or under Docker it is a real server. The tests assert only
standard ClickHouse behaviour, so they pass against both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import clickhouse_connect
import pytest
import requests
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError
from sqlalchemy import create_engine, text

from contracts.settings import Settings

READONLY = 164
UNKNOWN_TABLE = 60
AUTHENTICATION_FAILED = 516
TIMEOUT_EXCEEDED = 159


def writer(settings: Settings, **options: Any) -> Client:
    return clickhouse_connect.get_client(
        host=settings.bind_host, port=settings.clickhouse_http_port,
        username=settings.clickhouse_user, password=settings.secret("clickhouse_password"),
        database=settings.clickhouse_database, **options,
    )


def reader(settings: Settings) -> Client:
    return clickhouse_connect.get_client(
        host=settings.bind_host, port=settings.clickhouse_http_port,
        username=settings.clickhouse_reader_user,
        password=settings.secret("clickhouse_reader_password"),
        database=settings.clickhouse_database,
    )


def writer_auth(settings: Settings) -> tuple[str, str]:
    return settings.clickhouse_user, settings.secret("clickhouse_password")


@pytest.fixture
def table(clickhouse: Settings, unique_name: Callable[[str], str]) -> Iterator[str]:
    """A fresh MergeTree table `<database>.<unique>` (id, name, price), dropped afterwards."""
    name = f"{clickhouse.clickhouse_database}.{unique_name('proto')}"
    client = writer(clickhouse)
    client.command(
        f"CREATE TABLE {name} (id UInt64, name String, price Decimal(10, 2)) "
        "ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100"
    )
    yield name
    client.command(f"DROP TABLE IF EXISTS {name}")
    client.close()


def test_ping_and_root_answer_ok(clickhouse: Settings) -> None:
    assert requests.get(f"{clickhouse.clickhouse_url}/ping", timeout=5).text == "Ok.\n"
    assert requests.head(f"{clickhouse.clickhouse_url}/ping", timeout=5).status_code == 200
    assert requests.get(f"{clickhouse.clickhouse_url}/", timeout=5).text == "Ok.\n"


def test_clickhouse_connect_command_insert_query_and_dataframe(
    clickhouse: Settings, table: str
) -> None:
    client = writer(clickhouse)
    summary = client.insert(table, [[i, f"band {i}", i * 1.5] for i in range(1000)],
                            column_names=["id", "name", "price"])
    assert summary.written_rows == 1000
    assert client.command(f"SELECT count() FROM {table}") == 1000
    result = client.query(f"SELECT id, name FROM {table} WHERE id < {{n:UInt64}} ORDER BY id",
                          parameters={"n": 3})
    assert result.result_rows == [(0, "band 0"), (1, "band 1"), (2, "band 2")]
    frame = client.query_df(f"SELECT sum(price) AS revenue, count() AS n FROM {table}")
    assert float(frame["revenue"][0]) == sum(i * 1.5 for i in range(1000))
    assert int(frame["n"][0]) == 1000


@pytest.mark.parametrize("compression", ["lz4", "zstd", "gzip", False])
def test_compressed_inserts_are_decoded(
    clickhouse: Settings, table: str, compression: str | bool
) -> None:
    client = writer(clickhouse, compress=compression)
    client.insert(table, [[i, "x", 1] for i in range(500)], column_names=["id", "name", "price"])
    assert client.query(f"SELECT count() FROM {table}").result_rows == [(500,)]


def test_session_keeps_temporary_tables(clickhouse: Settings, unique_name: Callable[[str],
                                                                                 str]) -> None:
    client = writer(clickhouse, session_id=unique_name("session"))
    client.command("CREATE TEMPORARY TABLE scratch (a UInt8)")
    client.command("INSERT INTO scratch VALUES (1), (2), (3)")
    assert client.command("SELECT sum(a) FROM scratch") == 6


def test_sqlalchemy_clickhousedb_dialect_reads(clickhouse: Settings, table: str) -> None:
    writer(clickhouse).insert(table, [[1, "a", 2], [2, "b", 3]],
                              column_names=["id", "name", "price"])
    url = (f"clickhousedb://{quote(clickhouse.clickhouse_reader_user)}:"
           f"{quote(clickhouse.secret('clickhouse_reader_password'), safe='')}@"
           f"{clickhouse.bind_host}:{clickhouse.clickhouse_http_port}/"
           f"{clickhouse.clickhouse_database}")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT id, name FROM {table} ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]


def test_raw_http_get_post_and_format_pass_through(clickhouse: Settings, table: str) -> None:
    url, auth = clickhouse.clickhouse_url, writer_auth(clickhouse)
    got = requests.get(url, params={"query": "SELECT 1 + 1"}, auth=auth, timeout=10)
    assert (got.status_code, got.text) == (200, "2\n")
    assert got.headers.get("X-ClickHouse-Query-Id")

    insert = requests.post(url, params={"query": f"INSERT INTO {table} FORMAT CSV"},
                           data=b"1,one,1.5\n2,two,2.5\n", auth=auth, timeout=10)
    assert insert.status_code == 200, insert.text

    posted = requests.post(url, data=f"SELECT toUInt8(id) AS id, name FROM {table} ORDER BY id "
                                     "FORMAT JSONEachRow", auth=auth, timeout=10)
    assert posted.status_code == 200
    assert posted.headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert [json.loads(line) for line in posted.text.splitlines()] == [
        {"id": 1, "name": "one"}, {"id": 2, "name": "two"}]

    tsv = requests.post(url, params={"database": clickhouse.clickhouse_database,
                                     "param_n": "2"},
                        data=f"SELECT name FROM {table.split('.')[1]} WHERE id = {{n:UInt64}}",
                        auth=auth, timeout=10)
    assert (tsv.status_code, tsv.text) == (200, "two\n")


def test_errors_carry_clickhouse_code_and_text(clickhouse: Settings,
                                               unique_name: Callable[[str], str]) -> None:
    missing = unique_name("missing")
    response = requests.post(clickhouse.clickhouse_url, data=f"SELECT * FROM {missing}",
                             auth=writer_auth(clickhouse), timeout=10)
    assert response.status_code == 404
    assert response.headers["X-ClickHouse-Exception-Code"] == str(UNKNOWN_TABLE)
    assert response.text.startswith(f"Code: {UNKNOWN_TABLE}. DB::Exception:")
    assert "(UNKNOWN_TABLE)" in response.text

    with pytest.raises(DatabaseError) as raised:
        writer(clickhouse).query(f"SELECT * FROM {missing}")
    assert raised.value.code == UNKNOWN_TABLE


def test_authentication_failures_are_refused(clickhouse: Settings) -> None:
    url = clickhouse.clickhouse_url
    for auth in ((clickhouse.clickhouse_user, "wrong-password"), ("nobody", "x")):
        response = requests.post(url, data="SELECT 1", auth=auth, timeout=10)
        assert response.status_code in (401, 403)
        assert response.headers["X-ClickHouse-Exception-Code"] == str(AUTHENTICATION_FAILED)
    user, password = writer_auth(clickhouse)
    by_headers = requests.post(url, data="SELECT 1", timeout=10,
                               headers={"X-ClickHouse-User": user, "X-ClickHouse-Key": password})
    by_params = requests.post(url, data="SELECT 1", timeout=10,
                              params={"user": user, "password": password})
    assert (by_headers.text, by_params.text) == ("1\n", "1\n")


def test_reader_reads_but_cannot_write(clickhouse: Settings, table: str) -> None:
    writer(clickhouse).insert(table, [[1, "a", 1]], column_names=["id", "name", "price"])
    client = reader(clickhouse)
    assert client.command(f"SELECT count() FROM {table}") == 1
    refused = [
        f"INSERT INTO {table} (id, name, price) VALUES (2, 'b', 2)",
        f"ALTER TABLE {table} DELETE WHERE 1",
        f"DROP TABLE {table}",
        f"CREATE TABLE {table}_copy (a UInt8) ENGINE = Memory",
        f"TRUNCATE TABLE {table}",
    ]
    for statement in refused:
        with pytest.raises(DatabaseError) as raised:
            client.command(statement)
        assert raised.value.code == READONLY, statement
    with pytest.raises(DatabaseError) as raised:
        client.insert(table, [[3, "c", 3]], column_names=["id", "name", "price"])
    assert raised.value.code == READONLY
    assert writer(clickhouse).command(f"SELECT count() FROM {table}") == 1


def test_get_requests_are_read_only(clickhouse: Settings, table: str) -> None:
    response = requests.get(clickhouse.clickhouse_url, auth=writer_auth(clickhouse), timeout=10,
                            params={"query": f"INSERT INTO {table} VALUES (1, 'a', 1)"})
    assert response.headers.get("X-ClickHouse-Exception-Code") == str(READONLY)


def test_insert_deduplication_token_makes_retries_idempotent(
    clickhouse: Settings, table: str
) -> None:
    client = writer(clickhouse)
    rows = [[i, "x", 1] for i in range(100)]
    for _ in range(3):  # a sink retrying the same Kafka offset range
        client.insert(table, rows, column_names=["id", "name", "price"],
                      settings={"insert_deduplication_token": "facts-0-100-199"})
    assert client.command(f"SELECT count() FROM {table}") == 100
    client.insert(table, rows, column_names=["id", "name", "price"],
                  settings={"insert_deduplication_token": "facts-0-200-299"})
    assert client.command(f"SELECT count() FROM {table}") == 200

    for _ in range(2):  # the same over raw HTTP, token as a URL setting
        response = requests.post(
            clickhouse.clickhouse_url, auth=writer_auth(clickhouse), timeout=10,
            params={"query": f"INSERT INTO {table} FORMAT TSV",
                    "insert_deduplication_token": "raw-1"},
            data=b"1000\tz\t1\n")
        assert response.status_code == 200, response.text
    assert client.command(f"SELECT count() FROM {table}") == 201


def test_max_execution_time_is_honoured(clickhouse: Settings) -> None:
    with pytest.raises(DatabaseError) as raised:
        writer(clickhouse).query(
            "SELECT sleepEachRow(0.5) FROM numbers(10) SETTINGS max_block_size = 1",
            settings={"max_execution_time": 1},
        )
    assert raised.value.code == TIMEOUT_EXCEEDED


def test_concurrent_clients_lose_and_double_nothing(clickhouse: Settings, table: str) -> None:
    threads, rounds, batch = 8, 15, 50
    failures: list[str] = []

    def work(worker: int) -> None:
        client = writer(clickhouse)
        try:
            for round_ in range(rounds):
                base = (worker * rounds + round_) * batch
                client.insert(table, [[base + i, f"w{worker}", 1] for i in range(batch)],
                              column_names=["id", "name", "price"])
                seen = client.command(f"SELECT count() FROM {table} WHERE name = 'w{worker}'")
                if seen != (round_ + 1) * batch:
                    failures.append(f"worker {worker} round {round_}: saw {seen}")
        except Exception as error:  # reported below, with every other worker's outcome
            failures.append(f"worker {worker}: {error!r}")
        finally:
            client.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert failures == []
    client = writer(clickhouse)
    assert client.command(f"SELECT count() FROM {table}") == threads * rounds * batch
    assert client.command(f"SELECT uniqExact(id) FROM {table}") == threads * rounds * batch
