"""The `boxoffice` command line: wiring only; the work lives in the packages it calls."""

from __future__ import annotations

import typer

from boxoffice.cli import stack

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Real-time CDC analytics for the festival's ticketing database.")
app.add_typer(stack.app, name="stack")


def main() -> None:
    app()
