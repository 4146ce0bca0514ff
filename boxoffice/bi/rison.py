"""Just enough Rison (Superset's query-string encoding) to filter a list endpoint."""

from __future__ import annotations


def quote(value: str) -> str:
    """A Rison string literal: single quotes, with ' and ! escaped by !."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def equals_filter(column: str, value: str) -> str:
    """``?q=`` for "rows whose <column> equals <value>"."""
    return f"(filters:!((col:{column},opr:eq,value:{quote(value)})))"
