"""What a replay counts while reading, independently of ClickHouse: rows, net tickets
(sum of sign) and net revenue (sum of sign * ticket_price). The shadow must hold exactly
these totals before it may be swapped in.

Counting must not halve the replay's speed, so a batch is counted with two regular
expression scans over its lines (about 2 microseconds a row); a batch whose scans do not
find exactly one price and one sign per line (unusual but valid JSON) is parsed instead.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import orjson

_PRICE = re.compile(rb'"ticket_price"\s*:\s*(-?\d+)')
_SIGN = re.compile(rb'"sign"\s*:\s*(-?1)\b')


@dataclass
class Totals:
    rows: int = 0
    tickets: int = 0
    revenue: int = 0

    def add(self, other: Totals) -> None:
        self.rows += other.rows
        self.tickets += other.tickets
        self.revenue += other.revenue

    def as_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "tickets": self.tickets, "revenue": self.revenue}


def count_lines(lines: list[bytes]) -> Totals:
    """Totals of validated fact lines (one JSON object each, no newlines inside)."""
    if not lines:
        return Totals()
    blob = b"\n".join(lines)
    prices = _PRICE.findall(blob)
    signs = _SIGN.findall(blob)
    if len(prices) != len(lines) or len(signs) != len(lines):
        return _count_parsed(lines)
    tickets = sum(map(int, signs))
    revenue = sum(map(operator.mul, map(int, prices), map(int, signs)))
    return Totals(rows=len(lines), tickets=tickets, revenue=revenue)


def _count_parsed(lines: list[bytes]) -> Totals:
    rows = [orjson.loads(line) for line in lines]
    return Totals(rows=len(rows), tickets=sum(r["sign"] for r in rows),
                  revenue=sum(r["sign"] * r["ticket_price"] for r in rows))
