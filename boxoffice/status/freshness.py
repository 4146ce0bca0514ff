"""Freshness = now - the newest source heartbeat visible in ClickHouse.

The heartbeat is an UPDATE at the source (Debezium's heartbeat.action.query, every
heartbeat_interval_ms) that travels CDC -> processors -> sink; `heartbeats.source_ts_ms`
is its commit time at the source. Measured, not guessed (design invariant 4).
"""

from __future__ import annotations

import time
from typing import Any

from boxoffice.status.hops import hop_latencies, hops_summary
from boxoffice.status.model import DOWN, OK, UNHEALTHY, UNKNOWN, Section
from contracts.settings import Settings
from warehouse.embedded.errors import QUOTA_EXCEEDED

TIMEOUT_SECONDS = 2.0
STALE_SECONDS = 30.0
"""Freshness above this makes status unhealthy: something on the path has stopped."""


def reader_client(settings: Settings) -> Any:
    """The reader's connection with status's short timeouts (shared by /metrics)."""
    from warehouse.executor import connect

    return connect(settings, reader=True, connect_timeout=TIMEOUT_SECONDS,
                   send_receive_timeout=TIMEOUT_SECONDS, autogenerate_session_id=False,
                   compress=False)


NEWEST_OF_SLOWEST_PARTITION = """
SELECT count(), min(newest) FROM (
    SELECT join_partition, max(source_ts_ms) AS newest FROM {db}.heartbeats
    WHERE join_partition >= (SELECT if(countIf(join_partition >= 0) > 0, 0, -1)
                             FROM {db}.heartbeats)
    GROUP BY join_partition)
"""
"""Each join partition writes every heartbeat in its own transaction with its facts
(migration 0009): the honest newest heartbeat is the slowest partition's. Rows without a
partition (join_partition = -1, the column's default) count only while no partitioned
row exists, so they can never hide a stalled partition."""


def newest_heartbeat_ms(settings: Settings, *, database: str | None = None,
                        client: Any = None) -> int | None:
    """Epoch ms of the newest source heartbeat every join partition has delivered to
    ClickHouse, None if there is none. Asked on `client` if given (left open), else on a
    connection of its own."""
    db = database or settings.clickhouse_database
    own = client is None
    client = reader_client(settings) if own else client
    try:
        rows = client.query(NEWEST_OF_SLOWEST_PARTITION.format(db=db)).result_rows
    finally:
        if own:
            client.close()
    count, newest = rows[0]
    return int(newest) if count else None


def freshness_seconds(settings: Settings, *, database: str | None = None,
                      now: float | None = None, client: Any = None) -> float | None:
    """Seconds between now and the newest heartbeat visible in ClickHouse (None: none yet).

    Raises when ClickHouse cannot be asked (the status section turns that into "down").
    """
    newest = newest_heartbeat_ms(settings, database=database, client=client)
    if newest is None:
        return None
    return max((now if now is not None else time.time()) - newest / 1000.0, 0.0)


def _is_quota_exceeded(exc: Exception) -> bool:
    return f"Code: {QUOTA_EXCEEDED}." in str(exc) or "QUOTA_EXCEEDED" in str(exc)


def quota_spent_summary(settings: Settings) -> str:
    """The red light when the reader is out of queries: every dashboard and SQL Lab is
    refused with it until the hour's window ends, so status must say so and how to fix."""
    return (f"the reader {settings.clickhouse_reader_user} has spent its hourly quota of "
            f"{settings.clickhouse_reader_queries_per_hour:,} queries: dashboards and SQL "
            "Lab are refused until the hour ends; raise "
            "BOXOFFICE_CLICKHOUSE_READER_QUERIES_PER_HOUR and restart ClickHouse "
            "(boxoffice stack down clickhouse; boxoffice stack up clickhouse)")


def freshness_section(settings: Settings) -> Section:
    """Freshness, then the hops of the last minute, on one connection."""
    clients: list[Any] = []
    try:
        return _section(settings, clients)
    finally:
        for client in clients:
            client.close()


def _section(settings: Settings, clients: list[Any]) -> Section:
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

    try:
        clients.append(reader_client(settings))
        seconds = freshness_seconds(settings, client=clients[0])
    except OperationalError as exc:
        return Section(name="freshness", state=DOWN,
                       summary=f"ClickHouse unreachable ({type(exc).__name__})",
                       data={"freshness_seconds": None})
    except DatabaseError as exc:  # answered, but refused the query (no table yet?)
        if _is_quota_exceeded(exc):
            return Section(name="freshness", state=UNHEALTHY,
                           summary=quota_spent_summary(settings),
                           data={"freshness_seconds": None, "reader_quota_spent": True})
        return Section(name="freshness", state=UNKNOWN,
                       summary=f"cannot read heartbeats: {' '.join(str(exc).split())[:160]}",
                       data={"freshness_seconds": None})
    except Exception as exc:
        return Section(name="freshness", state=DOWN,
                       summary=f"ClickHouse unreachable ({type(exc).__name__})",
                       data={"freshness_seconds": None})
    if seconds is None:
        return Section(name="freshness", state=UNKNOWN, summary="no heartbeat in ClickHouse yet",
                       data={"freshness_seconds": None})
    state = OK if seconds <= STALE_SECONDS else UNHEALTHY
    summary = f"{seconds:.1f} s behind the source"
    hops = _hops(settings, clients[0])
    if hops:
        summary += f"; {hops_summary(hops)}"
    return Section(name="freshness", state=state, summary=summary,
                   data={"freshness_seconds": round(seconds, 3),
                         "stale_after_seconds": STALE_SECONDS, "hops_ms": hops})


def _hops(settings: Settings, client: Any) -> dict[str, dict[str, int]] | None:
    """The hops of the last minute; None when they cannot be read (freshness, read just
    before, already says whether ClickHouse answers)."""
    try:
        return hop_latencies(client, settings.clickhouse_database)
    except Exception:
        return None
