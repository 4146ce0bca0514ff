"""Reading ClickHouse HTTP requests and writing ClickHouse errors, without a server."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Callable

import lz4.frame
import pytest
import zstandard

from warehouse.embedded.errors import ClickHouseError, http_status_for
from warehouse.embedded.protocol import credentials, decode_body, parse_request
from warehouse.embedded.service import set_statement, sql_identifier, sql_string

LIMIT = 1 << 20


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_query_parameter_and_body_are_joined_by_a_newline() -> None:
    request = parse_request("POST", "query=INSERT+INTO+t+FORMAT+Native", {}, b"\x02\x00",
                            max_bytes=LIMIT)
    assert request.stream == b"INSERT INTO t FORMAT Native\n\x02\x00"
    assert parse_request("POST", "", {}, b"SELECT 1", max_bytes=LIMIT).stream == b"SELECT 1"
    assert parse_request("GET", "query=SELECT+1", {}, b"", max_bytes=LIMIT).stream == b"SELECT 1"


def test_url_parameters_split_into_transport_settings_and_query_parameters() -> None:
    request = parse_request(
        "POST",
        "database=db&session_id=s1&session_timeout=5&query_id=q&insert_deduplication_token=t"
        "&max_execution_time=3&param_x=41&wait_end_of_query=1&default_format=JSON",
        {}, b"SELECT {x:UInt8}", max_bytes=LIMIT,
    )
    assert request.database == "db"
    assert (request.session_id, request.session_timeout, request.query_id) == ("s1", 5.0, "q")
    assert request.settings == {"insert_deduplication_token": "t", "max_execution_time": "3"}
    assert request.params == {"x": "41"}
    assert request.default_format == "JSON"


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", basic("w", "p:w"), ("w", "p:w")),
        ("", {"X-ClickHouse-User": "r", "X-ClickHouse-Key": "k"}, ("r", "k")),
        ("user=u&password=pw", {}, ("u", "pw")),
        ("", {}, ("default", "")),
    ],
)
def test_credentials_come_from_any_of_clickhouses_three_places(
    query: str, headers: dict[str, str], expected: tuple[str, str]
) -> None:
    request = parse_request("POST", query, headers, b"SELECT 1", max_bytes=LIMIT)
    assert (request.user, request.password) == expected
    assert credentials(query, headers) == expected  # what is checked before the body


def test_bodies_are_decompressed_per_content_encoding() -> None:
    data = b"1\t2\n" * 100
    assert decode_body(lz4.frame.compress(data), "lz4", LIMIT) == data
    assert decode_body(zstandard.ZstdCompressor().compress(data), "zstd", LIMIT) == data
    assert decode_body(gzip.compress(data), "gzip", LIMIT) == data
    assert decode_body(zlib.compress(data), "deflate", LIMIT) == data
    assert decode_body(gzip.compress(data[:200]) + gzip.compress(data[200:]), "gzip",
                       LIMIT) == data  # every gzip member, as gzip.decompress reads them
    for broken, encoding in ((b"not gzip", "gzip"), (lz4.frame.compress(data)[:-4], "lz4"),
                             (gzip.compress(data)[:-4], "gzip")):
        with pytest.raises(ClickHouseError) as raised:
            decode_body(broken, encoding, LIMIT)
        assert raised.value.code == 271, encoding


@pytest.mark.parametrize("compress", [gzip.compress, zlib.compress, lz4.frame.compress,
                                      zstandard.ZstdCompressor().compress])
def test_decompression_stops_at_the_limit(compress: Callable[[bytes], bytes]) -> None:
    encoding = {gzip.compress: "gzip", zlib.compress: "deflate",
                lz4.frame.compress: "lz4"}.get(compress, "zstd")
    data = bytes(4 * LIMIT)
    assert decode_body(compress(data[:LIMIT]), encoding, LIMIT) == data[:LIMIT]
    with pytest.raises(ClickHouseError) as raised:
        decode_body(compress(data), encoding, LIMIT)
    assert (raised.value.code, raised.value.http_status) == (307, 413)
    assert "BOXOFFICE_CLICKHOUSE_MAX_REQUEST_BYTES" in raised.value.message


def test_clickhouse_internal_compression_is_refused_plainly() -> None:
    with pytest.raises(ClickHouseError) as raised:
        parse_request("POST", "decompress=1", {}, b"x", max_bytes=LIMIT)
    assert raised.value.code == 48


def test_engine_errors_keep_code_name_and_message() -> None:
    error = ClickHouseError.from_engine(RuntimeError(
        "Code: 60. DB::Exception: Table d1.nosuch does not exist. (UNKNOWN_TABLE)"))
    assert (error.code, error.name) == (60, "UNKNOWN_TABLE")
    assert error.http_status == 404
    assert error.body("26.9") == ("Code: 60. DB::Exception: Table d1.nosuch does not exist. "
                                  "(UNKNOWN_TABLE) (version 26.9)\n")


def test_nested_and_wrapped_engine_errors_are_unwrapped() -> None:
    error = ClickHouseError.from_engine(RuntimeError(
        "Streaming insert append failed: Code: 164. DB::Exception: Code: 164. "
        "DB::Exception: Cannot modify 'x' setting in readonly mode. (READONLY) "
        "(version 26.9.2.1). (READONLY)"))
    assert (error.code, error.name) == (164, "READONLY")
    assert error.message.startswith("Cannot modify 'x' setting")


def test_http_statuses_follow_clickhouse() -> None:
    assert http_status_for(516) == 403
    assert http_status_for(62) == 400
    assert http_status_for(81) == 404
    assert http_status_for(164) == 500


def test_setting_values_and_names_cannot_inject_sql() -> None:
    assert sql_string("a'b\\") == "'a\\'b\\\\'"
    assert sql_identifier("we`ird") == "`we\\`ird`"
    assert set_statement({"x": "1", "y": "it's"}) == "SET x = '1', y = 'it\\'s'"
    with pytest.raises(ClickHouseError):
        set_statement({"x = 1; DROP TABLE t; --": "1"})
