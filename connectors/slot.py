"""The replication slot as the source sees it: retained WAL, wal_status, activity.

Read with the owner's connection; this is the lag `boxoffice connector status` and
`boxoffice status` show, and the place an invalidated slot is detected.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.db import connect
from contracts.settings import Settings


@dataclass(frozen=True)
class SlotState:
    name: str
    exists: bool
    active: bool = False
    wal_status: str | None = None
    """reserved | extended | unreserved | lost (PostgreSQL 13+)."""
    retained_bytes: int | None = None
    """WAL between the slot's restart_lsn and the current write position."""
    safe_wal_size: int | None = None
    """Bytes that can still be written before the slot is in danger of losing WAL."""
    confirmed_flush_lsn: str | None = None

    @property
    def invalidated(self) -> bool:
        """True once PostgreSQL removed WAL the slot still needed ("lost")."""
        return self.wal_status == "lost"


def slot_state(settings: Settings) -> SlotState:
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select active, wal_status, "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, "
                "safe_wal_size, confirmed_flush_lsn::text "
                "from pg_replication_slots where slot_name = %s",
                (settings.slot_name,),
            )
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return SlotState(name=settings.slot_name, exists=False)
    active, wal_status, retained, safe, confirmed = row
    return SlotState(name=settings.slot_name, exists=True, active=bool(active),
                     wal_status=wal_status, retained_bytes=retained,
                     safe_wal_size=safe, confirmed_flush_lsn=confirmed)


def current_lsn(settings: Settings) -> int:
    """The source's current WAL write position, as the integer Debezium's `lsn` is."""
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
            row = cur.fetchone()
    finally:
        conn.close()
    return int(row[0])


def drop_slot(settings: Settings) -> bool:
    """Drop the slot if it exists and no walsender holds it; True if dropped."""
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                        "where slot_name = %s and not active", (settings.slot_name,))
            return cur.rowcount > 0
    finally:
        conn.close()
