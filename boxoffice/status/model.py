"""What every status section returns: a state, one line for people, data for scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, WARN, DOWN, UNHEALTHY, UNKNOWN = "ok", "warn", "down", "unhealthy", "unknown"
HEALTHY_STATES = frozenset({OK, WARN})


@dataclass(frozen=True)
class Section:
    name: str
    state: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.state in HEALTHY_STATES

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "healthy": self.healthy, "summary": self.summary,
                **self.data}


@dataclass(frozen=True)
class StatusReport:
    sections: list[Section]
    collected_at: float
    seconds: float

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.sections)

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "collected_at": self.collected_at,
                "seconds": round(self.seconds, 3),
                "unhealthy": [s.name for s in self.sections if not s.healthy],
                "sections": {s.name: s.as_dict() for s in self.sections}}


def worst(states: list[str]) -> str:
    """The state of a section made of parts: the worst part wins."""
    for state in (DOWN, UNHEALTHY, UNKNOWN, WARN):
        if state in states:
            return state
    return OK


def stopped_summary(stopped: dict[str, dict[str, Any]]) -> str:
    """One line for partitions a source schema change stopped (`contracts.columns`):
    each table and column with the change, where it stopped, and the fix once."""
    by_column: dict[tuple[str, str], list[str]] = {}
    changes: dict[tuple[str, str], str] = {}
    fix = ""
    for partition, details in sorted(stopped.items()):
        key = (str(details.get("table")), str(details.get("column")))
        by_column.setdefault(key, []).append(f"{partition} at offset {details.get('offset')}")
        changes[key] = str(details.get("change"))
        fix = str(details.get("fix"))
    named = "; ".join(f"{table}.{column} {changes[(table, column)]}, stopped "
                      f"{', '.join(where)}" for (table, column), where in by_column.items())
    return f"STOPPED: {named}. Fix: {fix}"
