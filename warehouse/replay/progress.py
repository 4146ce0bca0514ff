"""A progress bar for the bulk read: rows, rows/s and the ETA from the end offsets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Advance(Protocol):
    def __call__(self, rows: int) -> None: ...


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        from rich.text import Text

        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s")


@contextmanager
def read_progress(title: str, total: int, *, enabled: bool = True) -> Iterator[Advance]:
    """Yields advance(rows); `total` is the number of offsets to read (an upper bound of
    the rows: transaction markers take offsets too)."""
    if not enabled:
        yield lambda _rows: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), _RateColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(title, total=max(total, 1))
        yield lambda rows: bar.advance(task, rows)
        bar.update(task, completed=max(total, 1))
