"""Reading a ClickHouse HTTP request: credentials, transport parameters, settings, SQL.

ClickHouse mixes three kinds of URL parameters: transport ones (``database``,
``session_id``, ...), query parameters (``param_<name>`` for ``{name:Type}``) and
everything else, which is a setting for this query. The SQL is the ``query`` parameter
followed by a newline and the (decompressed) body.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from warehouse.embedded.errors import (
    CANNOT_DECOMPRESS,
    NOT_IMPLEMENTED,
    TOO_MANY_BYTES,
    ClickHouseError,
)

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
                  body: bytes, *, max_bytes: int) -> QueryRequest:
    """Turn the pieces of an HTTP request into a QueryRequest (raises ClickHouseError);
    the body may decompress to at most `max_bytes`."""
    url = dict(parse_qsl(query_string, keep_blank_values=True))
    for flag in ("compress", "decompress"):
        if url.get(flag, "0") not in ("", "0", "false"):
            raise ClickHouseError(
                NOT_IMPLEMENTED, f"ClickHouse's internal compression ({flag}=1) is not "
                "supported by the embedded server; use HTTP Content-Encoding instead")
    headers = {name.lower(): value for name, value in headers.items()}  # case-insensitive
    user, password = _credentials(url, headers)
    data = decode_body(body, headers.get("content-encoding"), max_bytes)
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


def credentials(query_string: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """User and password from the URL and headers alone, so they can be checked before
    a byte of the body is read."""
    url = dict(parse_qsl(query_string, keep_blank_values=True))
    return _credentials(url, {name.lower(): value for name, value in headers.items()})


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


def too_large(limit: int, what: str) -> ClickHouseError:
    return ClickHouseError(
        TOO_MANY_BYTES, f"The request body {what} more than {limit} bytes, the embedded "
        "server's limit; send smaller batches or raise BOXOFFICE_CLICKHOUSE_MAX_REQUEST_BYTES",
        status=413)


def decode_body(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """Undo the request's Content-Encoding (what clickhouse-connect sends for inserts),
    producing at most `max_bytes`: a few kilobytes of gzip can expand to gigabytes, so
    every decoder is asked for no more than the limit allows."""
    name = (encoding or "identity").strip().lower()
    if not body or name == "identity":
        return body
    try:
        if name in ("gzip", "deflate"):
            data = _inflate(body, 31 if name == "gzip" else 15, max_bytes)
        elif name == "lz4":
            import lz4.frame

            data = _bounded_lz4(lz4.frame.LZ4FrameDecompressor(), body, max_bytes)
        elif name == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
            data = _read_at_most(reader, max_bytes)
        else:
            raise ClickHouseError(NOT_IMPLEMENTED, f"Unsupported Content-Encoding: {name}; "
                                  "use gzip, deflate, lz4 or zstd")
    except ImportError as missing:
        raise ClickHouseError(
            NOT_IMPLEMENTED, f"Content-Encoding {name} needs the Python package {missing.name}"
        ) from None
    except ClickHouseError:
        raise
    except Exception as error:
        raise ClickHouseError(
            CANNOT_DECOMPRESS, f"Cannot decompress the {name} request body: {error}"
        ) from None
    if len(data) > max_bytes:
        raise too_large(max_bytes, "decompresses to")
    return data


def _inflate(body: bytes, wbits: int, max_bytes: int) -> bytes:
    """zlib or gzip (all members, as gzip.decompress reads them), stopping one byte past
    the limit."""
    parts: list[bytes] = []
    produced = 0
    rest = body
    while rest and produced <= max_bytes:
        decompressor = zlib.decompressobj(wbits)
        parts.append(decompressor.decompress(rest, max_bytes + 1 - produced))
        produced += len(parts[-1])
        if decompressor.unconsumed_tail:  # more output is waiting: over the limit
            produced = max_bytes + 1
            break
        if not decompressor.eof:
            raise ValueError("truncated stream")
        rest = decompressor.unused_data if wbits == 31 else b""
    if produced > max_bytes:
        raise too_large(max_bytes, "decompresses to")
    return b"".join(parts)


def _bounded_lz4(decompressor: Any, body: bytes, max_bytes: int) -> bytes:
    data = decompressor.decompress(body, max_length=max_bytes + 1)
    if len(data) > max_bytes or (not decompressor.eof and not decompressor.needs_input):
        raise too_large(max_bytes, "decompresses to")
    if not decompressor.eof:
        raise ValueError("truncated frame")
    return bytes(data)


def _read_at_most(reader: Any, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    produced = 0
    while produced <= max_bytes:
        chunk = reader.read(min(1 << 20, max_bytes + 1 - produced))
        if not chunk:
            break
        parts.append(chunk)
        produced += len(chunk)
    if produced > max_bytes:
        raise too_large(max_bytes, "decompresses to")
    return b"".join(parts)
