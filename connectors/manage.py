"""`boxoffice connector apply|status|pause|resume|restart|snapshot|resnapshot`.

apply is idempotent: PUT of the rendered config, then wait for RUNNING with a deadline.
Nothing here restarts a connector over an invalidated slot: that would skip the changes
PostgreSQL already threw away, so it is reported loudly with the recovery instead.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors import config as connector_config
from connectors.connect_api import (
    ConnectClient,
    offsets,
    reset_offsets,
    stop_connector,
)
from connectors.db import connect
from connectors.errors import ConnectorError, SlotInvalidatedError, SourceError
from connectors.failures import task_failure
from connectors.ghosts import delete_ghosts
from connectors.slot import SlotState, current_lsn, drop_slot, slot_state
from contracts.settings import Settings
from contracts.tables import BUSINESS_TABLES, qualified

WAL_WARN_FRACTION = 0.5
"""Warn once the slot retains half of max_slot_wal_keep_size."""

RECOVERY = (
    "recovery: `boxoffice connector resnapshot` (stops the connector, clears its offsets, "
    "drops the slot and starts again with a full snapshot; consumers then see every row "
    "again as op=r, which the compacted topics and the processors absorb, and rows "
    "deleted during the gap are deleted downstream). See docs/source.md, 'Invalidated "
    "slot'."
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class ConnectorStatus:
    name: str
    connector_state: str | None
    task_states: list[str]
    task_traces: list[str]
    slot: SlotState
    max_wal_keep_bytes: int | None
    last_event: dt.datetime | None
    warnings: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        states = [self.connector_state, *self.task_states]
        return bool(self.task_states) and all(s == "RUNNING" for s in states)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connector_state": self.connector_state,
            "task_states": self.task_states,
            "slot": {"name": self.slot.name, "exists": self.slot.exists,
                     "active": self.slot.active, "wal_status": self.slot.wal_status,
                     "retained_wal_bytes": self.slot.retained_bytes,
                     "safe_wal_size": self.slot.safe_wal_size},
            "max_slot_wal_keep_bytes": self.max_wal_keep_bytes,
            "last_event": self.last_event.isoformat() if self.last_event else None,
            "warnings": self.warnings,
        }


def _quiet(_line: str) -> None:
    return None


def apply(settings: Settings, *, deadline_seconds: float | None = None,
          progress: Say = _quiet, client: ConnectClient | None = None) -> ConnectorStatus:
    """Create or update the connector and wait until it and its task are RUNNING."""
    client = client or ConnectClient(settings=settings)
    _require_publication(settings)
    _refuse_invalidated(settings)
    created = client.put_config(settings.connector_name, connector_config.render(settings))
    progress(f"connector {settings.connector_name}: {'created' if created else 'updated'}")
    return wait_running(settings, deadline_seconds=deadline_seconds, progress=progress,
                        client=client)


def wait_running(settings: Settings, *, deadline_seconds: float | None = None,
                 progress: Say = _quiet, client: ConnectClient | None = None
                 ) -> ConnectorStatus:
    client = client or ConnectClient(settings=settings)
    limit = deadline_seconds or settings.health_deadline_seconds
    deadline = time.monotonic() + limit
    current = status(settings, client=client)
    while not current.running:
        if "FAILED" in [current.connector_state, *current.task_states]:
            raise ConnectorError(
                f"connector {settings.connector_name}: FAILED\n"
                + "\n".join(t[:3000] for t in current.task_traces)
                + "\n" + task_failure(current.task_traces[0] if current.task_traces else "")
            )
        if time.monotonic() > deadline:
            raise ConnectorError(
                f"connector {settings.connector_name}: not RUNNING after {limit:.0f} s "
                f"(connector {current.connector_state}, tasks {current.task_states}); "
                f"check the Connect log (`boxoffice stack status`)"
            )
        time.sleep(0.5)
        current = status(settings, client=client)
    progress(f"connector {settings.connector_name}: RUNNING")
    return current


def initial_snapshot_done(settings: Settings, *, client: ConnectClient | None = None) -> bool:
    """Connect has committed an offset past the initial snapshot.

    Until then a crash of Connect makes Debezium start the snapshot over at a later point
    in the WAL: rows deleted between the two attempts keep their first `op=r` record in
    the topics and never get a delete (docs/source.md, 'A crash during the snapshot')."""
    client = client or ConnectClient(settings=settings)
    committed = [o.get("offset") or {} for o in offsets(client, settings.connector_name)]
    # streaming offsets carry lsn_proc; the snapshot's own carry snapshot_completed
    return any("lsn_proc" in o or o.get("snapshot_completed") is True for o in committed)


def captured_lsn(settings: Settings, *, client: ConnectClient | None = None) -> int | None:
    """The highest source LSN the connector has committed as read (None before any)."""
    client = client or ConnectClient(settings=settings)
    found = [value for o in offsets(client, settings.connector_name)
             for key in ("lsn_proc", "lsn", "lsn_commit")
             if isinstance(value := (o.get("offset") or {}).get(key), int)]
    return max(found, default=None)


def source_behind_capture(settings: Settings, *, client: ConnectClient | None = None
                          ) -> tuple[int, int] | None:
    """(current WAL position, captured LSN) when the source is behind what the connector
    already read: the database was restored from a backup, or failed over to a replica
    that had not received it all. PostgreSQL then writes new changes at LSNs the pipeline
    has already passed: the connector would skip them and the join would drop them as
    repeats. None when the source is ahead, as it should be."""
    captured = captured_lsn(settings, client=client)
    if captured is None:
        return None
    current = current_lsn(settings)
    return (current, captured) if current < captured else None


def _poll(settings: Settings, done: Callable[[ConnectClient], bool], *,
          deadline_seconds: float | None, interval: float,
          late: Callable[[float], str]) -> None:
    """Ask `done` every `interval` seconds until it holds; past the deadline (default the
    health deadline), a ConnectorError naming the connector and what `late` says."""
    client = ConnectClient(settings=settings)
    limit = deadline_seconds or settings.health_deadline_seconds
    deadline = time.monotonic() + limit
    while not done(client):
        if time.monotonic() > deadline:
            raise ConnectorError(f"connector {settings.connector_name}: {late(limit)}")
        time.sleep(interval)


def wait_caught_up(settings: Settings, *, deadline_seconds: float | None = None,
                   progress: Say = _quiet) -> int:
    """Block until the connector has committed as read every change written before this
    call; returns that WAL position. Run it after other DDL on a table and before
    changing one of its columns' types: Debezium reads type names from the live catalog,
    so a change written before the type change but read after it fails the task
    (docs/source.md, 'Changing a column's type'). The heartbeat's UPDATE every
    `heartbeat_interval_ms` moves the committed LSN on while the tables are quiet."""
    target = current_lsn(settings)

    def read_past(client: ConnectClient) -> bool:
        if (captured_lsn(settings, client=client) or -1) >= target:
            return True
        if "FAILED" in status(settings, client=client).task_states:
            raise ConnectorError(f"connector {settings.connector_name}: its task FAILED; "
                                 "`boxoffice status` names the fix")
        return False

    _poll(settings, read_past, deadline_seconds=deadline_seconds, interval=0.2,
          late=lambda limit: f"has not read up to the source's WAL position of {limit:.0f} "
                             "s ago; `boxoffice connector status` shows why")
    progress(f"connector {settings.connector_name}: caught up with the source")
    return target


def wait_initial_snapshot(settings: Settings, *, deadline_seconds: float | None = None,
                          progress: Say = _quiet) -> None:
    """Block until the initial snapshot is committed (see `initial_snapshot_done`)."""
    _poll(settings, lambda client: initial_snapshot_done(settings, client=client),
          deadline_seconds=deadline_seconds, interval=0.5,
          late=lambda limit: f"initial snapshot not committed after {limit:.0f} s; "
                             "`boxoffice connector status` shows its progress")
    progress(f"connector {settings.connector_name}: initial snapshot committed")


def status(settings: Settings, *, client: ConnectClient | None = None) -> ConnectorStatus:
    """Connector and task state, the slot's retained WAL and the time of the last event."""
    client = client or ConnectClient(settings=settings)
    doc = client.status(settings.connector_name)
    slot = slot_state(settings)
    keep = _max_wal_keep_bytes(settings)
    tasks = doc.get("tasks", []) if doc else []
    result = ConnectorStatus(
        name=settings.connector_name,
        connector_state=doc["connector"]["state"] if doc else None,
        task_states=[t["state"] for t in tasks],
        task_traces=[t.get("trace", "") for t in tasks if t.get("trace")],
        slot=slot,
        max_wal_keep_bytes=keep,
        last_event=_last_event(client, settings) if doc else None,
    )
    result.warnings.extend(_warnings(result))
    return result


def _warnings(s: ConnectorStatus) -> list[str]:
    out = []
    if s.connector_state is None:
        out.append("the connector is not registered: `boxoffice connector apply`")
    if s.slot.invalidated:
        out.append(f"SLOT {s.slot.name} IS INVALIDATED (wal_status=lost): PostgreSQL removed "
                   f"WAL the connector had not read; changes were lost. {RECOVERY}")
    elif (s.slot.retained_bytes is not None and s.max_wal_keep_bytes
          and s.slot.retained_bytes >= WAL_WARN_FRACTION * s.max_wal_keep_bytes):
        out.append(
            f"slot {s.slot.name} retains {s.slot.retained_bytes:,} bytes of WAL, over "
            f"{WAL_WARN_FRACTION:.0%} of max_slot_wal_keep_size "
            f"({s.max_wal_keep_bytes:,}); at the limit PostgreSQL invalidates the slot. "
            "Resume or restart the connector."
        )
    if s.slot.wal_status == "unreserved":
        out.append(f"slot {s.slot.name} is past max_slot_wal_keep_size (wal_status="
                   "unreserved): it will be invalidated at the next checkpoint")
    return out


def _max_wal_keep_bytes(settings: Settings) -> int | None:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select setting::bigint, unit from pg_settings "
                        "where name = 'max_slot_wal_keep_size'")
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None or row[0] < 0:
        return None
    units = {"MB": 1 << 20, "kB": 1 << 10, "GB": 1 << 30}
    return int(row[0]) * units.get(row[1] or "MB", 1 << 20)


def _last_event(client: ConnectClient, settings: Settings) -> dt.datetime | None:
    """Commit time of the last change the connector recorded (Debezium's ts_usec)."""
    try:
        entries = offsets(client, settings.connector_name)
    except ConnectorError:
        return None
    stamps = [e.get("offset", {}).get("ts_usec") for e in entries]
    values = [int(s) for s in stamps if s is not None]
    if not values:
        return None
    return dt.datetime.fromtimestamp(max(values) / 1e6, tz=dt.UTC)


def pause(settings: Settings) -> None:
    ConnectClient(settings=settings).pause(settings.connector_name)


def resume(settings: Settings) -> None:
    _refuse_invalidated(settings)
    ConnectClient(settings=settings).resume(settings.connector_name)


def restart(settings: Settings, *, deadline_seconds: float | None = None,
            progress: Say = _quiet) -> ConnectorStatus:
    _refuse_invalidated(settings)
    client = ConnectClient(settings=settings)
    client.restart(settings.connector_name)
    return wait_running(settings, deadline_seconds=deadline_seconds, progress=progress,
                        client=client)


def snapshot(settings: Settings, tables: Sequence[str]) -> str:
    """Ask for an incremental snapshot of `tables` through the signal table; the id."""
    unknown = [t for t in tables if t not in BUSINESS_TABLES]
    if unknown or not tables:
        raise SourceError(f"snapshot: unknown table(s) {unknown or '(none)'}; choose from "
                          f"{', '.join(BUSINESS_TABLES)}")
    signal_id = f"snap-{uuid.uuid4().hex}"
    data = {"data-collections": qualified(settings.source_schema, tuple(tables)),
            "type": "incremental"}
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f'insert into "{settings.source_schema}".debezium_signal '
                        "(id, type, data) values (%s, 'execute-snapshot', %s)",
                        (signal_id, json.dumps(data)))
    finally:
        conn.close()
    return signal_id


def resnapshot(settings: Settings, *, deadline_seconds: float | None = None,
               progress: Say = _quiet, remove_ghosts: bool = True) -> ConnectorStatus:
    """The recovery from an invalidated or lost slot: start over with a full initial
    snapshot; once it is committed, delete downstream the rows deleted during the gap
    (`connectors.ghosts`), which no snapshot can show."""
    current = _restart_with_snapshot(settings, deadline_seconds=deadline_seconds,
                                     progress=progress)
    if remove_ghosts:
        wait_initial_snapshot(settings, deadline_seconds=deadline_seconds, progress=progress)
        delete_ghosts(settings, progress=progress)
    return current


def _restart_with_snapshot(settings: Settings, *, deadline_seconds: float | None,
                           progress: Say) -> ConnectorStatus:
    client = ConnectClient(settings=settings)
    name = settings.connector_name
    if client.status(name) is not None:
        progress(f"connector {name}: stopping")
        stop_connector(client, name)
        _wait_state(client, name, "STOPPED", deadline_seconds or 60.0)
        progress(f"connector {name}: clearing offsets")
        reset_offsets(client, name)
    _drop_slot_when_released(settings, deadline_seconds or 60.0)
    progress(f"slot {settings.slot_name}: dropped; starting with a new snapshot")
    if client.status(name) is None:
        return apply(settings, deadline_seconds=deadline_seconds, progress=progress,
                     client=client)
    client.resume(name)
    return wait_running(settings, deadline_seconds=deadline_seconds, progress=progress,
                        client=client)


def _wait_state(client: ConnectClient, name: str, wanted: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while True:
        doc = client.status(name)
        if doc and doc["connector"]["state"] == wanted:
            return
        if time.monotonic() > deadline:
            raise ConnectorError(f"connector {name}: not {wanted} after {limit:.0f} s")
        time.sleep(0.5)


def _drop_slot_when_released(settings: Settings, limit: float) -> None:
    deadline = time.monotonic() + limit
    while True:
        state = slot_state(settings)
        if not state.exists or drop_slot(settings):
            return
        if time.monotonic() > deadline:
            raise ConnectorError(f"slot {settings.slot_name}: still in use after "
                                 f"{limit:.0f} s; is another connector reading it?")
        time.sleep(0.5)


def _refuse_invalidated(settings: Settings) -> None:
    state = slot_state(settings)
    if state.invalidated:
        raise SlotInvalidatedError(
            f"slot {state.name} is INVALIDATED (wal_status=lost): PostgreSQL removed WAL "
            f"the connector had not read yet, so changes were lost between the last "
            f"event and now. Refusing to (re)start streaming over the gap. {RECOVERY}"
        )


def _require_publication(settings: Settings) -> None:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_publication where pubname = %s",
                        (settings.publication_name,))
            found = cur.fetchone() is not None
    finally:
        conn.close()
    if not found:
        raise SourceError(f"source: publication {settings.publication_name} does not exist; "
                          "run `boxoffice source migrate` first")
