"""Helpers every command shares: settings, console output, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
