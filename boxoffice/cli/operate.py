"""`boxoffice verify` and `boxoffice status`: wiring only (boxoffice.verify, boxoffice.status).

Registration (boxoffice/cli/__init__.py):
    app.command("verify")(operate.verify_command)
    app.command("status")(operate.status_command)
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from boxoffice.cli.common import at_least, console, err_console, settings, user_errors

VERIFY_NICENESS = 10


def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    wait: Annotated[float, typer.Option(
        help="retry until everything matches or this many seconds have passed "
             "(after load stops the pipeline catches up)", callback=at_least(0))] = 0.0,
    statement_timeout: Annotated[float, typer.Option(
        help="seconds each ground-truth query may run on Postgres",
        callback=at_least(0, or_equal=False))] = 120.0,
    live_window: Annotated[int, typer.Option(
        min=1, help="minutes of the per-minute live aggregate to compare")] = 60,
) -> None:
    """Audit: every aggregate in ClickHouse against ground truth from Postgres.

    Reads the whole source once (read-only role, one snapshot, a statement timeout, low
    priority). Run it when load has stopped; it is not a monitor. Exit 0 only if all match.
    """
    from boxoffice.verify import verify_until
    from boxoffice.verify.report import diff_table, to_json

    os.nice(VERIFY_NICENESS)
    with user_errors():
        s = settings()

        def progress(report: object) -> None:
            if wait and not as_json and not getattr(report, "ok", True):
                err_console.print("[dim]• verify: not matching yet, retrying[/dim]")

        report = verify_until(s, wait_seconds=wait, on_attempt=progress,
                              statement_timeout_seconds=statement_timeout,
                              live_window_minutes=live_window)
    if as_json:
        typer.echo(to_json(report))
    else:
        console.print(diff_table(report))
        for error in report.errors:
            err_console.print(f"[bold red]error:[/bold red] {error}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Health at a glance: processes, connector and slot, lag, pending joins, dead
    letters, sink rows/s and freshness. Exit 0 only when everything is healthy."""
    from boxoffice.status import collect_status
    from boxoffice.status.report import status_table, to_json

    # A stopped ClickHouse is reported in the table; keep the driver's own log quiet.
    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
    with user_errors():
        report = collect_status(settings())
    if as_json:
        typer.echo(to_json(report))
    else:
        console.print(status_table(report))
    # A probe past its deadline may still be inside a client library (librdkafka, a
    # socket); interpreter shutdown under such a thread can crash. Leave at once instead.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if report.healthy else 1)
