"""`boxoffice seed`, `boxoffice sell`, `boxoffice source ...` and `boxoffice connector ...`.

Wiring only: the work lives in connectors/.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from boxoffice.cli.common import (
    at_least,
    console,
    err_console,
    progress_printer,
    settings,
    user_errors,
)
from connectors import manage
from connectors.config import render
from connectors.migrate import migrate
from connectors.seed import seed
from connectors.traffic import run_workload, sell
from connectors.workload import parse_mix

source_app = typer.Typer(no_args_is_help=True, help="The ticketing database's schema.")
connector_app = typer.Typer(no_args_is_help=True, help="The Debezium source connector.")


def seed_command(
    scale: float = typer.Option(1.0, help="1.0 = the real festival (~3.5 M tickets)",
                                callback=at_least(0, or_equal=False)),
    seed_value: int = typer.Option(0, "--seed", help="same seed, same history"),
    replace: bool = typer.Option(False, help="truncate the festival tables first"),
) -> None:
    """Load the festival's 2002-2022 history into the source through COPY."""
    with user_errors():
        s = settings()
        migrate(s)
        with Progress(TextColumn("{task.description:>12}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console) as bar:
            tasks: dict[str, TaskID] = {}

            def advance(table: str, done: int, total: int) -> None:
                if table not in tasks:
                    tasks[table] = bar.add_task(table, total=total)
                bar.update(tasks[table], completed=done)

            result = seed(s, scale=scale, seed_value=seed_value, replace=replace,
                          progress=advance)
        seconds = result.generate_seconds + result.load_seconds
        console.print(f"seeded {result.total_rows:,} rows in {seconds:.1f} s "
                      f"({result.total_rows / seconds:,.0f} rows/s): "
                      + ", ".join(f"{t} {n:,}" for t, n in result.rows.items()))


def sell_command(
    rate: float = typer.Option(50.0, help="transactions per second; 0 = as fast as possible",
                               callback=at_least(0)),
    duration: float = typer.Option(60.0, help="seconds", callback=at_least(0, or_equal=False)),
    mix: str = typer.Option("", help="e.g. purchase=80,refund_ticket=10,price_correction=10"),
    workload: int | None = typer.Option(None, help="scripted mode: this seed, exactly --steps"),
    steps: int = typer.Option(100, min=1, help="steps of the scripted workload"),
    seed_value: int | None = typer.Option(None, "--seed", help="seed of the live traffic"),
) -> None:
    """Live ticketing traffic: purchases, refunds, corrections, moves, new bands."""
    with user_errors():
        s = settings()
        weights = _mix(mix)
        if workload is not None:
            result = run_workload(s, workload, steps, weights)
        else:
            result = sell(s, rate=rate, duration=duration, mix=weights, seed=seed_value)
        console.print(f"{result.transactions:,} transactions in {result.seconds:.1f} s: "
                      f"{result.rate:,.1f}/s"
                      + (f" (asked {rate:g}/s)" if workload is None and rate else ""))
        console.print("  " + ", ".join(f"{k} {v}" for k, v in result.by_kind.most_common())
                      + (f"; {result.skipped} skipped" if result.skipped else ""))


def _mix(text: str) -> dict[str, float]:
    try:
        return parse_mix(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mix") from exc


@source_app.command("migrate")
def migrate_command() -> None:
    """Create or update the festival schema, the replication role and the publication."""
    with user_errors():
        migrate(settings(), progress=progress_printer())


@connector_app.command("apply")
def apply_command(
    deadline: float = typer.Option(120.0, help="seconds to wait for RUNNING",
                                   callback=at_least(0, or_equal=False)),
    show: bool = typer.Option(False, help="print the config (it holds no secret)"),
) -> None:
    """PUT the connector's config (idempotent) and wait until it is RUNNING."""
    with user_errors():
        s = settings()
        if show:
            console.print_json(json.dumps(render(s)))
        _print_status(manage.apply(s, deadline_seconds=deadline, progress=progress_printer()))


@connector_app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """Connector and task state, the slot's retained WAL and the last event's time."""
    with user_errors():
        current = manage.status(settings())
        if as_json:
            console.print_json(json.dumps(current.as_dict()))
        else:
            _print_status(current)
        if current.slot.invalidated:
            raise typer.Exit(code=4)
        if not current.running:
            raise typer.Exit(code=3)


@connector_app.command("pause")
def pause_command() -> None:
    """Pause streaming (the slot keeps WAL meanwhile, up to max_slot_wal_keep_size)."""
    with user_errors():
        manage.pause(settings())


@connector_app.command("resume")
def resume_command() -> None:
    with user_errors():
        manage.resume(settings())


@connector_app.command("restart")
def restart_command(deadline: float = typer.Option(
        120.0, callback=at_least(0, or_equal=False))) -> None:
    """Restart the connector and its task; refuses over an invalidated slot."""
    with user_errors():
        _print_status(manage.restart(settings(), deadline_seconds=deadline,
                                     progress=progress_printer()))


@connector_app.command("caught-up")
def caught_up_command(deadline: float = typer.Option(
        60.0, callback=at_least(0, or_equal=False))) -> None:
    """Wait until the connector has read every change written so far: run it between
    other DDL on a table and a change of one of its columns' types."""
    with user_errors():
        manage.wait_caught_up(settings(), deadline_seconds=deadline,
                              progress=progress_printer())


@connector_app.command("snapshot")
def snapshot_command(
    table: Annotated[list[str], typer.Option("--table", "-t",
                                             help="festival table; repeatable")],
) -> None:
    """Start an incremental snapshot of tables through the signal table."""
    with user_errors():
        signal = manage.snapshot(settings(), table)
        console.print(f"incremental snapshot requested ({signal}): {', '.join(table)}")


@connector_app.command("resnapshot")
def resnapshot_command(deadline: float = typer.Option(
        300.0, callback=at_least(0, or_equal=False))) -> None:
    """Recovery from an invalidated or lost slot: clear offsets, drop the slot, snapshot
    again, then delete downstream the rows deleted during the gap."""
    with user_errors():
        _print_status(manage.resnapshot(settings(), deadline_seconds=deadline,
                                        progress=progress_printer()))


def _print_status(current: manage.ConnectorStatus) -> None:
    table = Table("connector", "state", "tasks", "slot", "wal_status", "retained WAL",
                  "last event")
    slot = current.slot
    table.add_row(
        current.name, current.connector_state or "-", ", ".join(current.task_states) or "-",
        slot.name if slot.exists else f"{slot.name} (missing)", slot.wal_status or "-",
        f"{slot.retained_bytes:,} B" if slot.retained_bytes is not None else "-",
        current.last_event.isoformat(timespec="seconds") if current.last_event else "-",
    )
    console.print(table)
    for warning in current.warnings:
        err_console.print(f"[bold yellow]warning:[/bold yellow] {warning}", highlight=False)
