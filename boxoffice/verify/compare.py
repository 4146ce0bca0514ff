"""Compare two keyed tables (expected from Postgres, found in ClickHouse). Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boxoffice.verify.checks import CheckSpec
from contracts.columns import exact_amount

Key = tuple[Any, ...]
Values = tuple[Any, ...]
Table = Mapping[Key, Values]

SAMPLE_LIMIT = 5


@dataclass(frozen=True)
class Mismatch:
    """One differing key; None on a side means the key is absent there."""

    key: Key
    expected: Values | None
    found: Values | None

    def as_dict(self, spec: CheckSpec) -> dict[str, Any]:
        def named(values: Values | None) -> dict[str, Any] | None:
            return None if values is None else {
                column: str(value) if isinstance(value, Decimal) else value
                for column, value in zip(spec.value_columns, values, strict=True)}

        return {"key": dict(zip(spec.key_columns, self.key, strict=True)),
                "expected": named(self.expected), "found": named(self.found)}


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    rows_compared: int
    mismatches: int
    samples: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    """Set when one side could not be read; the check then counts as failed."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ok(self) -> bool:
        return self.error is None and self.mismatches == 0

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "description": self.spec.description, "ok": self.ok,
                "rows_compared": self.rows_compared, "mismatches": self.mismatches,
                "samples": [m.as_dict(self.spec) for m in self.samples],
                "error": self.error}


def _sorted(keys: Iterable[Key]) -> list[Key]:
    """Deterministic order for the samples, whatever the key types."""
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _normal(values: Values | None, zero: Values | None) -> Values | None:
    """Aggregates: absent and all-zero are the same thing (no sales)."""
    if zero is not None and (values is None or values == zero):
        return None
    return values


def compare(spec: CheckSpec, expected: Table, found: Table, *,
            sample_limit: int = SAMPLE_LIMIT) -> CheckResult:
    """Every key of either side, compared value by value."""
    zero: Values | None = (0,) * len(spec.value_columns) if spec.zero_when_missing else None
    differing: list[Key] = []
    keys: set[Key] = set(expected) | set(found)
    for key in keys:
        if _normal(expected.get(key), zero) != _normal(found.get(key), zero):
            differing.append(key)
    samples = [Mismatch(key=k, expected=expected.get(k), found=found.get(k))
               for k in _sorted(differing)[:sample_limit]]
    return CheckResult(spec=spec, rows_compared=len(keys), mismatches=len(differing),
                       samples=samples)


def compare_settled(spec: CheckSpec, before: Table, after: Table, found: Table, *,
                    sample_limit: int = SAMPLE_LIMIT) -> CheckResult:
    """`compare`, judging only the keys whose source value was the same in two reads
    that bracket the read of `found`: a warehouse that holds every change committed
    before the first read must equal the source on those keys, whatever changes at the
    source meanwhile. Keys changing between the reads are left out (rows_compared
    counts the judged ones). Must-be-empty checks are judged whole."""
    if spec.expect_empty:
        return compare(spec, after, found, sample_limit=sample_limit)
    zero: Values | None = (0,) * len(spec.value_columns) if spec.zero_when_missing else None
    changing = {k for k in set(before) | set(after)
                if _normal(before.get(k), zero) != _normal(after.get(k), zero)}
    return compare(spec, {k: v for k, v in before.items() if k not in changing},
                   {k: v for k, v in found.items() if k not in changing},
                   sample_limit=sample_limit)


def failed(spec: CheckSpec, error: str) -> CheckResult:
    return CheckResult(spec=spec, rows_compared=0, mismatches=0, error=error)


def sum_by(table: Table, key_positions: tuple[int, ...]) -> dict[Key, Values]:
    """Roll a finer aggregate up to a coarser key (values summed column-wise)."""
    out: dict[Key, list[Any]] = {}
    for key, values in table.items():
        coarse = tuple(key[i] for i in key_positions)
        acc = out.setdefault(coarse, [0] * len(values))
        for i, value in enumerate(values):
            acc[i] += exact_amount(value)
    return {k: tuple(v) for k, v in out.items()}
