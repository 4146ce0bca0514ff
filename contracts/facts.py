"""The facts topic's record: the contract between the processors and the warehouse sink.

One record per change of one ticket's fact row. ``sign`` is +1 when the row now exists
and -1 when a row emitted earlier is withdrawn; the withdrawal repeats the withdrawn
row's values exactly, so ClickHouse can sum ``sign`` and ``sign * ticket_price`` and stay
exact without FINAL. Records are JSON, keyed by ``ticket_id`` (decimal string).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from contracts.columns import is_money


class FactRecordError(ValueError):
    """A facts-topic record that does not satisfy the contract (goes to dead letters)."""


@dataclass(frozen=True, slots=True)
class FactRow:
    ticket_id: int
    purchase_id: int
    performance_id: int
    band_id: int
    venue_id: int
    person_key: str
    """Salted SHA-256 of the person id: stable for joins, useless for re-identification."""
    ticket_price: int | str
    """Whole units as an integer, or with cents as text with two decimals ("49.90"):
    `contracts.columns.money`. Text keeps the cents exact on their way to ClickHouse's
    Decimal(18, 2), as Debezium writes numeric columns."""
    purchase_date: str
    """ISO-8601 UTC timestamp as Debezium gives it, e.g. 2022-10-07T17:31:02.123456Z."""
    performance_start: str
    festival_year: int
    sign: int
    version: int
    """Orders the changes of one ticket: the source LSN of the change that caused it."""
    source_ts_ms: int
    """Commit time at the source, in epoch milliseconds (for freshness)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "ticket_id", "purchase_id", "performance_id", "band_id", "venue_id", "person_key",
        "ticket_price", "purchase_date", "performance_start", "festival_year", "sign",
        "version", "source_ts_ms",
    )

    def with_sign(self, sign: int, *, version: int, source_ts_ms: int) -> FactRow:
        return FactRow(**{**asdict(self), "sign": sign, "version": version,
                          "source_ts_ms": source_ts_ms})

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @property
    def key(self) -> bytes:
        return str(self.ticket_id).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> FactRow:
        try:
            data: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FactRecordError(f"not JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> FactRow:
        if not isinstance(data, dict):
            raise FactRecordError("a fact record must be a JSON object")
        missing = [f for f in cls.FIELDS if f not in data]
        if missing:
            raise FactRecordError(f"missing fields: {', '.join(missing)}")
        if data["sign"] not in (1, -1):
            raise FactRecordError(f"sign must be +1 or -1, got {data['sign']!r}")
        try:
            row = cls(**{f: data[f] for f in cls.FIELDS})
        except TypeError as exc:
            raise FactRecordError(str(exc)) from exc
        if not is_money(row.ticket_price):
            raise FactRecordError("ticket_price must be an amount in whole cents (an "
                                  "integer or text such as \"49.90\"), got "
                                  f"{row.ticket_price!r}")
        for name in cls.FIELDS:
            if name == "ticket_price":
                continue
            value = getattr(row, name)
            expected = str if name in ("person_key", "purchase_date",
                                       "performance_start") else int
            if not isinstance(value, expected) or isinstance(value, bool):
                raise FactRecordError(f"{name} must be {expected.__name__}, got {value!r}")
        return row


def person_key(person_id: int, salt: str) -> str:
    """The fact's ``person_key``: hex SHA-256 of ``"<salt>:<person_id>"``.

    The salt is ``settings.secret("person_hash_salt")``; whoever hashes people for the
    people dimension must use this function so the keys join.
    """
    return hashlib.sha256(f"{salt}:{person_id}".encode()).hexdigest()
