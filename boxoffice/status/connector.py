"""The Debezium connector and its replication slot (connectors.manage / connectors.slot).

Kafka Connect and Postgres are asked separately, so a stopped Connect still shows the
slot's retained WAL (which is exactly what grows while Connect is down)."""

from __future__ import annotations

from typing import Any

from boxoffice.status.model import DOWN, OK, UNHEALTHY, WARN, Section
from connectors import manage
from connectors.connect_api import ConnectClient
from connectors.errors import ConnectorError
from connectors.failures import task_failure
from connectors.slot import SlotState, slot_state
from contracts.changes import lsn_text
from contracts.settings import Settings

CONNECT_TIMEOUT_SECONDS = 1.5


def connector_section(settings: Settings) -> Section:
    client = ConnectClient(settings=settings, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        current = manage.status(settings, client=client)
    except ConnectorError as exc:
        return _without_connect(settings, str(exc))
    data = current.as_dict()
    if current.slot.invalidated or current.slot.wal_status == "unreserved":
        state = UNHEALTHY
    elif not current.running:
        state = DOWN if current.connector_state is None else UNHEALTHY
    else:
        state = WARN if current.warnings else OK
    tasks = ",".join(current.task_states) or "no tasks"
    summary = (f"{current.connector_state or 'not registered'} ({tasks}); "
               + _slot_text(current.slot))
    lost = any(GAP_REFUSED in trace for trace in current.task_traces)
    behind = _behind(settings, client)
    if behind is not None:
        state = UNHEALTHY
        summary += (f". THE SOURCE WENT BACK IN TIME: its WAL is at {lsn_text(behind[0])}, "
                    f"behind {lsn_text(behind[1])}, which the connector already read (a restore "
                    "or a failover to an older replica); changes written meanwhile at LSNs "
                    f"already passed would be skipped. {BEHIND_FIX}")
    elif current.connector_state is not None and (lost or not current.slot.exists):
        state = UNHEALTHY
        summary += f". {SLOT_LOST}"
    elif "FAILED" in current.task_states and current.task_traces:
        summary += f". {task_failure(current.task_traces[0])}"
    return Section(name="connector", state=state, summary=summary, data=data)


GAP_REFUSED = "but this is no longer available on the server"
"""Debezium's words when the slot cannot give the changes after its committed offset."""
SLOT_LOST = (
    "The slot was dropped, or created anew, after the connector last read it: the "
    "changes made since are gone from the WAL, and the connector refuses to stream over "
    "that gap. Recovery: `boxoffice connector resnapshot` (docs/source.md, "
    "'Invalidated slot')")

BEHIND_FIX = (
    "Stop writing to the source and capture it afresh: the join and the warehouse hold "
    "versions of rows at LSNs the source will write again. docs/source.md, 'Source "
    "restored', gives the steps (not automated yet)")


def _behind(settings: Settings, client: ConnectClient) -> tuple[int, int] | None:
    try:
        return manage.source_behind_capture(settings, client=client)
    except Exception:  # offsets or Postgres unreadable: the other parts say why
        return None


def _without_connect(settings: Settings, problem: str) -> Section:
    data: dict[str, Any] = {"name": settings.connector_name, "connector_state": None,
                            "task_states": [], "error": problem}
    try:
        slot = slot_state(settings)
        data["slot"] = {"name": slot.name, "exists": slot.exists, "active": slot.active,
                        "wal_status": slot.wal_status, "retained_wal_bytes": slot.retained_bytes,
                        "safe_wal_size": slot.safe_wal_size}
        text = _slot_text(slot)
    except Exception as exc:  # Postgres down too: say so, do not fail the section
        data["slot"] = None
        text = f"slot unknown ({type(exc).__name__})"
    return Section(name="connector", state=DOWN, summary=f"Kafka Connect down; {text}",
                   data=data)


def _slot_text(slot: SlotState) -> str:
    if not slot.exists:
        return f"slot {slot.name} missing"
    retained = "?" if slot.retained_bytes is None else f"{slot.retained_bytes:,} B"
    return f"slot {slot.name} {slot.wal_status}, retains {retained} WAL"
