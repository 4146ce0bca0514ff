"""`boxoffice replay facts|cdc`: backfills (wiring only; the work is in warehouse.replay).

Registration (boxoffice/cli/__init__.py):
    app.add_typer(replay.app, name="replay")
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from boxoffice.cli.common import at_least, console, progress_printer, settings, user_errors

app = typer.Typer(no_args_is_help=True, help="Rebuild derived tables from the topics.")

FROM_HELP = ("'earliest' (the whole retained topic) or an ISO time (UTC unless it says "
             "otherwise): facts with an earlier source time are kept from the live table")


def parse_from(value: str) -> datetime | None:
    """None for 'earliest', else an aware datetime (naive means UTC)."""
    if value.strip().lower() == "earliest":
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither 'earliest' nor an ISO time "
                                 "such as 2024-10-05T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("facts")
def facts_command(
    from_: Annotated[str, typer.Option("--from", help=FROM_HELP)] = "earliest",
    batch_rows: Annotated[int, typer.Option(min=1, help="rows per insert")] = 200_000,
    keep_old: Annotated[bool, typer.Option(
        help="keep the replaced tables in the shadow database")] = False,
    force: Annotated[bool, typer.Option(
        help="swap even if the shadow fails its checks or differs from PostgreSQL")] = False,
    reconcile_seconds: Annotated[float, typer.Option(
        help="how long the shadow may take to match PostgreSQL before the replay refuses",
        callback=at_least(0, or_equal=False))] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Rebuild the fact table and every aggregate from the facts topic into shadow
    tables, check them (against PostgreSQL too), and swap them in; dashboards read the
    old tables until then."""
    from boxoffice.replay.control import sink_control
    from boxoffice.replay.reconcile import SourceReconciler
    from warehouse.replay import ReplayOptions, replay_facts

    since = parse_from(from_)  # bad input is refused before anything is looked at
    say = progress_printer()
    with user_errors():
        current = settings()
        sink = sink_control(current, say)
        if not sink.running():
            say("the sink is not running under this installation's supervisor; if it "
                "runs elsewhere, stop it first or facts it stores during the swap are lost")
        report = replay_facts(
            current, sink=sink, say=say,
            reconcile=SourceReconciler(current, wait_seconds=reconcile_seconds, say=say),
            options=ReplayOptions(since=since, batch_rows=batch_rows, keep_old=keep_old,
                                  force=force))
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        console.print(f"replayed {report.read.rows:,} facts from {report.topic} at "
                      f"{report.rows_per_second:,.0f} rows/s; swapped "
                      f"{', '.join(report.tables)}")


@app.command("cdc")
def cdc_command(
    batch_rows: Annotated[int, typer.Option(min=1, help="rows per insert")] = 200_000,
    keep_old: Annotated[bool, typer.Option(
        help="keep the replaced tables in the shadow database")] = False,
    catch_up_deadline: Annotated[float, typer.Option(
        help="seconds the new processors may take to catch up",
        callback=at_least(0, or_equal=False))] = 3600.0,
    reconcile_seconds: Annotated[float, typer.Option(
        help="how long the shadow may take to match PostgreSQL before the replay refuses",
        callback=at_least(0, or_equal=False))] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Re-run the processors from the CDC topics (from the beginning: they are compacted)
    into the next facts topic version, rebuild the warehouse from it, and switch the
    pipeline to it."""
    from boxoffice.replay.cdc import replay_cdc
    from boxoffice.replay.reconcile import SourceReconciler
    from warehouse.replay import ReplayOptions

    say = progress_printer()
    with user_errors():
        current = settings()
        report = replay_cdc(
            current, say=say, catch_up_deadline_seconds=catch_up_deadline,
            reconcile=SourceReconciler(current, wait_seconds=reconcile_seconds, say=say),
            options=ReplayOptions(batch_rows=batch_rows, keep_old=keep_old))
    if as_json:
        console.print_json(json.dumps({"facts_topic": report.facts_topic,
                                       "faust_app_id": report.faust_app_id,
                                       "catch_up_seconds": report.catch_up_seconds,
                                       "facts": report.facts.as_dict()}))
    else:
        console.print(f"pipeline now on {report.facts_topic} ({report.faust_app_id}); "
                      f"replayed {report.facts.read.rows:,} facts")
