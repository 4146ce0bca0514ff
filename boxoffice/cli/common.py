"""Helpers every command shares: settings, console output, error reporting."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from boxoffice.errors import BoxofficeError
from contracts.settings import Settings, load_settings

console = Console(stderr=False)
err_console = Console(stderr=True)


def settings() -> Settings:
    return load_settings()


def progress_printer() -> Callable[[str], None]:
    return lambda line: err_console.print(f"[dim]•[/dim] {line}")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our own errors into a readable message and a non-zero exit, no traceback."""
    try:
        yield
    except BoxofficeError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        sys.exit(1)


def at_least(minimum: float, *, or_equal: bool = True) -> Callable[[float], float]:
    """An option callback that refuses NaN, infinities and numbers below `minimum` (or
    equal to it, with `or_equal=False`): click's ranges only compare, and NaN passes
    every comparison. Click reports the refusal (exit code 2) before the command runs,
    so nothing is changed."""
    def check(value: float) -> float:
        if value is None:
            return value
        if not math.isfinite(value) or value < minimum or (value == minimum and not or_equal):
            bound = f"of at least {minimum:g}" if or_equal else f"above {minimum:g}"
            raise typer.BadParameter(f"must be a number {bound}, got {value}")
        return value
    return check
