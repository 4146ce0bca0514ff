"""What a failed connector task's trace means, and the fix to name with it.

Read where a failure is reported: `boxoffice status` (the connector section) and
`connector apply` / `restart` when the task fails while they wait for it.
"""

from __future__ import annotations

TYPE_CHANGE_BEHIND = "Invalid value: null used for required field"
"""The task's trace when Debezium could not convert a NOT NULL column's value to the type
it believes in (its log says "Unexpected value for JDBC type"). In this pipeline: a
relation message of rows written before a column's type change, decoded after the change
committed (Debezium reads the type names from the live catalog, the values' types from
the message)."""
TYPE_CHANGE_FAILED = (
    "The task failed on a change written before a column's type was changed: Debezium "
    "reads the new type from the catalog and cannot read the old value with it, and a "
    "restart fails the same way. Recovery: `boxoffice connector resnapshot` "
    "(docs/source.md, 'Changing a column's type')")


def task_failure(trace: str) -> str:
    """What a failed task's trace means, and its fix."""
    if TYPE_CHANGE_BEHIND in trace:
        return TYPE_CHANGE_FAILED
    return (f"The task failed: {_first_line(trace)}{_cause(trace)}. Fix that cause, then "
            "`boxoffice connector restart`")


def _cause(trace: str) -> str:
    """The trace's innermost 'Caused by', which names the problem (or nothing)."""
    causes = [line.strip() for line in trace.splitlines() if line.startswith("Caused by:")]
    return f" (caused by {causes[-1].removeprefix('Caused by: ')[:300]})" if causes else ""


def _first_line(trace: str) -> str:
    line = trace.strip().splitlines()[0] if trace.strip() else ""
    return line[:300]
