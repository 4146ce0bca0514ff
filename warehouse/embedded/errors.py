"""ClickHouse's error vocabulary: codes, names, HTTP statuses and the body text clients parse.

chdb raises plain ``RuntimeError``s whose text is ClickHouse's own ``Code: N. DB::Exception:
... (NAME)`` message, so the code and name are read back out of that text; errors the
server raises itself (authentication, sessions, quotas) are built with the same shape.
"""

from __future__ import annotations

import re

# The codes this server raises itself (names as in ClickHouse's ErrorCodes.cpp).
UNKNOWN_SETTING = 115
TIMEOUT_EXCEEDED = 159
READONLY = 164
QUOTA_EXCEEDED = 201
TOO_MANY_SIMULTANEOUS_QUERIES = 202
TOO_MANY_BYTES = 307
UNKNOWN_USER = 192
WRONG_PASSWORD = 193
REQUIRED_PASSWORD = 194
SESSION_NOT_FOUND = 372
SESSION_IS_LOCKED = 373
UNKNOWN_FORMAT = 73
NOT_IMPLEMENTED = 48
BAD_ARGUMENTS = 36
CANNOT_DECOMPRESS = 271
AUTHENTICATION_FAILED = 516
ACCESS_DENIED = 497
UNKNOWN_EXCEPTION = 1002

_NAMES = {
    UNKNOWN_SETTING: "UNKNOWN_SETTING",
    TIMEOUT_EXCEEDED: "TIMEOUT_EXCEEDED",
    READONLY: "READONLY",
    QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
    TOO_MANY_SIMULTANEOUS_QUERIES: "TOO_MANY_SIMULTANEOUS_QUERIES",
    TOO_MANY_BYTES: "TOO_MANY_BYTES",
    UNKNOWN_USER: "UNKNOWN_USER",
    WRONG_PASSWORD: "WRONG_PASSWORD",
    REQUIRED_PASSWORD: "REQUIRED_PASSWORD",
    SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
    SESSION_IS_LOCKED: "SESSION_IS_LOCKED",
    UNKNOWN_FORMAT: "UNKNOWN_FORMAT",
    NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    BAD_ARGUMENTS: "BAD_ARGUMENTS",
    CANNOT_DECOMPRESS: "CANNOT_DECOMPRESS",
    AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED",
    ACCESS_DENIED: "ACCESS_DENIED",
    UNKNOWN_EXCEPTION: "UNKNOWN_EXCEPTION",
}

# ClickHouse's exceptionCodeToHTTPStatus, for the codes clients are likely to meet.
_UNAUTHORIZED = {REQUIRED_PASSWORD}
_FORBIDDEN = {UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED}
_BAD_REQUEST = {
    6, 8, 15, 16, 25, 26, 27, 36, 38, 41, 42, 43, 44, 53, 59, 62, 72, 117, 167, 168, 376, 427,
}
_NOT_FOUND = {46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 116, 336, 511}
_STATUS_BY_CODE = {
    NOT_IMPLEMENTED: 501,
    TOO_MANY_SIMULTANEOUS_QUERIES: 503,
    TIMEOUT_EXCEEDED: 408,
    SESSION_IS_LOCKED: 500,
}

_CODE_RE = re.compile(r"Code:\s*(\d+)\.")
_NAME_RE = re.compile(r"\(([A-Z][A-Z0-9_]+)\)(?:\s*\(version [^)]*\))?\s*$")
_VERSION_RE = re.compile(r"\(version [^)]*\)\s*$")


class ClickHouseError(Exception):
    """An error as ClickHouse reports it over HTTP: code, name and message."""

    def __init__(self, code: int, message: str, *, name: str | None = None,
                 status: int | None = None) -> None:
        self.code = code
        self.name = name or _NAMES.get(code, "UNKNOWN_EXCEPTION")
        self.message = message
        self.status = status
        """An HTTP status of the server's own (413 for a body over the limit), where the
        code alone would map to a status that says less."""
        super().__init__(f"Code: {code}. {message} ({self.name})")

    @property
    def http_status(self) -> int:
        return self.status or http_status_for(self.code)

    def body(self, version: str) -> str:
        """The response body text, ``Code: N. DB::Exception: ... (NAME) (version V)``."""
        return (f"Code: {self.code}. DB::Exception: {self.message} ({self.name}) "
                f"(version {version})\n")

    @classmethod
    def from_engine(cls, error: BaseException) -> ClickHouseError:
        """Read code, name and message out of the text of a chdb exception."""
        text = str(error).strip()
        match = _CODE_RE.search(text)
        if match is None:
            return cls(UNKNOWN_EXCEPTION, text or type(error).__name__)
        code = int(match.group(1))
        rest = text[match.end():].strip().removeprefix("DB::Exception:").strip()
        while (inner := _CODE_RE.match(rest)) is not None:  # chdb nests re-thrown errors
            rest = rest[inner.end():].strip().removeprefix("DB::Exception:").strip()
        name_match = _NAME_RE.search(rest)
        name = name_match.group(1) if name_match else None
        if name_match:
            rest = rest[: name_match.start()].rstrip()
        rest = _VERSION_RE.sub("", rest).rstrip()
        return cls(code, rest, name=name)


def http_status_for(code: int) -> int:
    if code in _UNAUTHORIZED:
        return 401
    if code in _FORBIDDEN:
        return 403
    if code in _BAD_REQUEST:
        return 400
    if code in _NOT_FOUND:
        return 404
    return _STATUS_BY_CODE.get(code, 500)
