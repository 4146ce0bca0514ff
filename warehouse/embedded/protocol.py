"""Reading a ClickHouse HTTP request: credentials, transport parameters, settings, SQL.

ClickHouse mixes three kinds of URL parameters: transport ones (``database``,
``session_id``, ...), query parameters (``param_<name>`` for ``{name:Type}``) and
everything else, which is a setting for this query. The SQL is the ``query`` parameter
followed by a newline and the (decompressed) body.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from warehouse.embedded.errors import CANNOT_DECOMPRESS, NOT_IMPLEMENTED, ClickHouseError

TRANSPORT_PARAMS = frozenset({
    "query", "database", "default_format", "user", "password", "quota_key", "query_id",
    "session_id", "session_timeout", "session_check", "compress", "decompress", "buffer_size",
    "wait_end_of_query", "client_protocol_version", "role", "stacktrace",
})
DEFAULT_SESSION_TIMEOUT = 60.0


@dataclass(frozen=True)
class QueryRequest:
    method: str
    user: str
    password: str
    stream: bytes
    """The query text, then (for INSERT ... FORMAT) its data."""
    database: str | None = None
    default_format: str = "TabSeparated"
    query_id: str | None = None
    session_id: str | None = None
    session_timeout: float = DEFAULT_SESSION_TIMEOUT
    session_check: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def parse_request(method: str, query_string: str, headers: Mapping[str, str],
                  body: bytes) -> QueryRequest:
    """Turn the pieces of an HTTP request into a QueryRequest (raises ClickHouseError)."""
    url = dict(parse_qsl(query_string, keep_blank_values=True))
    for flag in ("compress", "decompress"):
        if url.get(flag, "0") not in ("", "0", "false"):
            raise ClickHouseError(
                NOT_IMPLEMENTED, f"ClickHouse's internal compression ({flag}=1) is not "
                "supported by the embedded server; use HTTP Content-Encoding instead")
    headers = {name.lower(): value for name, value in headers.items()}  # case-insensitive
    user, password = _credentials(url, headers)
    data = decode_body(body, headers.get("content-encoding"))
    query = url.get("query", "").encode()
    stream = query + b"\n" + data if query and data else query or data
    settings: dict[str, str] = {}
    params: dict[str, str] = {}
    for key, value in url.items():
        if key.startswith("param_"):
            params[key.removeprefix("param_")] = value
        elif key not in TRANSPORT_PARAMS:
            settings[key] = value
    return QueryRequest(
        method=method.upper(),
        user=user,
        password=password,
        stream=stream,
        database=url.get("database") or headers.get("x-clickhouse-database") or None,
        default_format=(url.get("default_format") or headers.get("x-clickhouse-format")
                        or "TabSeparated"),
        query_id=url.get("query_id") or None,
        session_id=url.get("session_id") or None,
        session_timeout=float(url.get("session_timeout") or DEFAULT_SESSION_TIMEOUT),
        session_check=url.get("session_check", "0") not in ("", "0", "false"),
        settings=settings,
        params=params,
    )


def _credentials(url: Mapping[str, str], headers: Mapping[str, str]) -> tuple[str, str]:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ":"
        user, _, password = decoded.partition(":")
        return user or "default", password
    if "x-clickhouse-user" in headers or "x-clickhouse-key" in headers:
        return headers.get("x-clickhouse-user") or "default", headers.get("x-clickhouse-key", "")
    return url.get("user") or "default", url.get("password", "")


def decode_body(body: bytes, encoding: str | None) -> bytes:
    """Undo the request's Content-Encoding (what clickhouse-connect sends for inserts)."""
    name = (encoding or "identity").strip().lower()
    if not body or name == "identity":
        return body
    try:
        if name == "gzip":
            return gzip.decompress(body)
        if name == "deflate":
            return zlib.decompress(body)
        if name == "lz4":
            import lz4.frame

            return bytes(lz4.frame.decompress(body))
        if name == "zstd":
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(body)
        if name == "br":
            import brotli  # type: ignore[import-not-found,unused-ignore]

            return bytes(brotli.decompress(body))
    except ImportError as missing:
        raise ClickHouseError(
            NOT_IMPLEMENTED, f"Content-Encoding {name} needs the Python package {missing.name}"
        ) from None
    except Exception as error:
        raise ClickHouseError(
            CANNOT_DECOMPRESS, f"Cannot decompress the {name} request body: {error}"
        ) from None
    raise ClickHouseError(NOT_IMPLEMENTED, f"Unknown Content-Encoding: {name}")
