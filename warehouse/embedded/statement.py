"""Just enough reading of SQL text to route a request; the engine parses everything else.

Over HTTP an INSERT carries its data after ``FORMAT <name>`` in the same byte stream
(the URL's ``query`` followed by the body). chdb takes SQL as text and data separately,
so the stream is split where ClickHouse itself splits it: data starts after the first
newline following the format name, or after the whitespace if there is no newline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMENTS = re.compile(rb"\A(?:\s+|--[^\n]*(?:\n|\Z)|#[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_INSERT = re.compile(rb"INSERT\s", re.IGNORECASE)
# FORMAT after whitespace or a closing parenthesis, then the format's name, then a break.
_INSERT_FORMAT = re.compile(rb"[\s)]FORMAT\s+([A-Za-z][A-Za-z0-9_]*)(?=\s|\Z)", re.IGNORECASE)
_TRAILING_FORMAT = re.compile(
    r"[\s)]FORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*(?:SETTINGS\s+[^;]*)?;?\s*\Z", re.IGNORECASE
)
_KEYWORD = re.compile(r"[A-Za-z]+")
_SQL_SCAN_LIMIT = 1 << 20
"""How far into an INSERT stream the FORMAT clause is looked for (the SQL part)."""


@dataclass(frozen=True)
class InsertWithData:
    """An ``INSERT ... FORMAT X`` statement and the bytes it carries."""

    statement: str
    """The INSERT without its FORMAT clause, as chdb's streaming insert wants it."""
    format: str
    data: bytes


def skip_comments(text: bytes) -> bytes:
    match = _COMMENTS.match(text)
    return text[match.end():] if match else text


def split_insert(stream: bytes) -> InsertWithData | None:
    """The INSERT and its data if the stream is ``INSERT ... FORMAT X <data>``, else None."""
    body = skip_comments(stream)
    if not _INSERT.match(body):
        return None
    match = _INSERT_FORMAT.search(body, 0, _SQL_SCAN_LIMIT)
    if match is None:
        return None
    statement = body[: match.start() + 1].decode("utf-8", errors="replace").strip()
    position = match.end()
    while position < len(body) and body[position : position + 1] in b" \t\r\n\f\v":
        position += 1
        if body[position - 1 : position] == b"\n":
            break
    return InsertWithData(statement, match.group(1).decode(), body[position:])


def trailing_format(sql: str) -> str | None:
    """The name in a query's closing ``FORMAT X`` clause, which beats the default format."""
    match = _TRAILING_FORMAT.search(sql)
    return match.group(1) if match else None


def leading_keyword(sql: str) -> str:
    """The statement's first keyword in upper case ('' if none), e.g. SELECT or SET."""
    text = skip_comments(sql.encode()).decode("utf-8", errors="replace")
    match = _KEYWORD.match(text)
    return match.group(0).upper() if match else ""
