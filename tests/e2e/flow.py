"""What the end-to-end scenarios share: SQL at the source, a seeded and reconciled start,
sales running in the background, and verify's failures in one line."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from boxoffice.status.collect import collect_status
from boxoffice.verify import verify_until
from connectors.connect_api import ConnectClient, stop_connector
from connectors.db import connect
from connectors.seed import seed
from connectors.slot import slot_state
from connectors.traffic import sell
from contracts.settings import Settings
from tests.chaos.deadletters import read_dead_letters
from tests.support.waiting import wait_until

LOUD_WORDS = ("ERROR", "WARNING", "WARN ", "Caused by", "stopped ", "revoked", "assigned")


def run_sql(settings: Settings, statements: list[str]) -> list[tuple[object, ...]]:
    """Each statement in its own transaction (lock_timeout 10 s); the rows they return."""
    conn = connect(settings)
    rows: list[tuple[object, ...]] = []
    try:
        for statement in statements:
            with conn, conn.cursor() as cur:
                cur.execute("set local lock_timeout = '10s'")
                cur.execute(statement)
                if cur.description is not None:
                    rows += cur.fetchall()
    finally:
        conn.close()
    return rows


def stopped_connector(settings: Settings) -> ConnectClient:
    """Stop the connector (its task shuts down, the slot stays): wait for STOPPED, then
    for the slot to have no reader. Connect reports STOPPED before the task's streaming
    thread has let go of the slot; until then it still reads what is written."""
    client = ConnectClient(settings=settings)
    stop_connector(client, settings.connector_name)
    wait_until(lambda: (client.status(settings.connector_name) or {}).get(
        "connector", {}).get("state") == "STOPPED", deadline_seconds=60,
        what="the connector to stop")
    wait_until(lambda: not slot_state(settings).active, deadline_seconds=60,
               what="the stopped connector's task to let go of the replication slot")
    return client


def explain(report: object, settings: Settings | None = None) -> str:
    """verify's failures in one line; with `settings`, then what each stage says."""
    failing = [r for r in report.results if not r.ok]  # type: ignore[attr-defined]
    line = "; ".join(f"{r.name}: {r.as_dict()}" for r in failing[:3]) or str(
        report.errors)  # type: ignore[attr-defined]
    return line if settings is None else f"{line}\n{what_each_stage_says(settings)}"


def what_each_stage_says(settings: Settings) -> str:
    """Status of the stages, and the warnings and errors in their logs: why a change did
    not arrive, in the failure message itself (CI keeps nothing else)."""
    report = collect_status(settings)
    lines = [f"{name}: {report.section(name).summary}"
             for name in ("connector", "processors", "sink")]
    for log_name in ("connect.log", "processors.log", "sink.log"):
        log = settings.logs_dir / log_name
        if log.exists():
            lines += [f"{log_name}: {line}" for line in log.read_text().splitlines()
                      if any(word in line for word in LOUD_WORDS)][-15:]
    return "\n".join(lines)


def seeded_and_exact(settings: Settings, seed_value: int) -> int:
    """Seed the history at scale 0.01 and wait for ALL MATCH; the dead letters so far."""
    seed(settings, scale=0.01, seed_value=seed_value)
    assert verify_until(settings, wait_seconds=240).ok
    return len(read_dead_letters(settings).records)


@contextmanager
def sales(settings: Settings, *, duration: float, seed: int) -> Iterator[None]:
    """20 sales/s for `duration` seconds in the background; waits for their end."""
    thread = threading.Thread(target=sell, args=(settings,),
                              kwargs={"rate": 20, "duration": duration, "seed": seed})
    thread.start()
    try:
        yield
    finally:
        thread.join()
