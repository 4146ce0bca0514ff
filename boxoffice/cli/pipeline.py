"""`boxoffice up | down | demo`: the whole pipeline (see boxoffice/pipeline.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from boxoffice import pipeline
from boxoffice.cli.common import at_least, console, progress_printer, settings, user_errors


def up_command() -> None:
    """Everything: services, schemas, change capture, processors, sink, Superset."""
    with user_errors():
        s = settings()
        pipeline.up(s, progress_printer())
        console.print(f"pipeline up; Superset at {s.superset_url}; `boxoffice status` "
                      "shows health and freshness")


def setup_command() -> None:
    """Schemas, change capture and Superset's assets on services that already run (the
    one-shot `setup` service of docker-compose.yml); safe to run again."""
    with user_errors():
        s = settings()
        pipeline.setup(s, progress_printer())
        console.print(f"set up; Superset at {s.superset_url}")


def down_command(
    only: Annotated[list[str] | None, typer.Argument(
        help="processes to stop, e.g. `sales` (default: everything)")] = None,
) -> None:
    """Stop the pipeline's processes (all by default); the data is kept."""
    with user_errors():
        pipeline.down(settings(), progress_printer(), only=only)


def demo_command(
    scale: Annotated[float, typer.Option(help="history size; 1.0 = the real festival",
                                         callback=at_least(0, or_equal=False))] = 0.1,
    rate: Annotated[float, typer.Option(help="live sales transactions per second",
                                        callback=at_least(0))] = 20.0,
) -> None:
    """`up`, the festival's history, live sales, then the Superset URL and login."""
    from connectors.seed import seed

    with user_errors():
        s = settings()
        say = progress_printer()
        pipeline.up(s, say)
        if pipeline.source_is_empty(s):
            say(f"loading the festival's history at scale {scale:g}")
            result = seed(s, scale=scale)
            say(f"history: {result.total_rows:,} rows")
        else:
            say("history already loaded")
        pipeline.start_sales(s, rate=rate, say=say)
        console.print(
            f"\n[bold]boxoffice is live.[/bold] Live sales at {rate:g} transactions/s.\n"
            f"  Superset:  {s.superset_url}  (user [bold]{s.superset_admin_user}[/bold], "
            f"password [bold]{s.secret('superset_admin_password')}[/bold])\n"
            "  Health:    boxoffice status\n"
            "  Check:     boxoffice down sales && boxoffice verify --wait 120\n"
            "  Stop:      boxoffice down",
            highlight=False,
        )
