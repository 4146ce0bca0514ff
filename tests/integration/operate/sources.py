"""Helpers of the operate tests: a fresh source database and a warehouse database loaded
straight from it (bypassing Kafka), so verify has a known-good pair to compare."""

from __future__ import annotations

import json
import os
from typing import Any

from connectors.db import connect as pg_connect
from connectors.migrate import migrate as migrate_source
from contracts.facts import person_key
from contracts.settings import REPO_ROOT, Settings
from tests.support.sources import admin_connection
from warehouse.executor import ClientExecutor
from warehouse.executor import connect as ch_connect
from warehouse.migrate import migrate as migrate_warehouse


def fresh_source(base: Settings, name: str) -> Settings:
    """Settings pointing at a new, migrated source database and a warehouse of that name."""
    settings = base.model_copy(update={"postgres_db": name, "clickhouse_database": name})
    conn = admin_connection(base)
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    conn.close()
    migrate_source(settings)
    return settings


def drop_source(settings: Settings) -> None:
    conn = admin_connection(settings)
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{settings.postgres_db}" with (force)')
    conn.close()


def _fetch(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    conn = pg_connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query.replace("{s}", settings.source_schema))
            return list(cur.fetchall())
    finally:
        conn.close()


def _iso(value: Any) -> str:
    return str(value.isoformat())


def load_warehouse(settings: Settings) -> ClientExecutor:
    """Migrate settings.clickhouse_database and insert the source's current state.

    Dimensions get an older version per row first (which must not win) and a deleted
    extra band (which must not count), so verify's "latest non-deleted" reading matters.
    """
    db = settings.clickhouse_database
    executor = ClientExecutor(ch_connect(settings))
    migrate_warehouse(executor, db)
    client = executor.client
    bands = _fetch(settings, "select id, name, fee from {s}.bands")
    client.insert(f"{db}.dim_bands", [(i, "old " + n, f + 1, 1, 0, 0) for i, n, f in bands]
                  + [(i, n, f, 2, 0, 0) for i, n, f in bands]
                  + [(10_000_000, "gone", 50, 1, 0, 0), (10_000_000, "", 0, 2, 1, 0)],
                  column_names=["id", "name", "fee", "version", "is_deleted",
                                "source_ts_ms"])
    venues = _fetch(settings, "select id, name, capacity from {s}.venues")
    client.insert(f"{db}.dim_venues", [(*v, 2, 0, 0) for v in venues],
                  column_names=["id", "name", "capacity", "version", "is_deleted",
                                "source_ts_ms"])
    performances = _fetch(settings,
                          "select id, performance_start, band_id, venue_id from {s}.performances")
    client.insert(f"{db}.dim_performances", [(*p, 2, 0, 0) for p in performances],
                  column_names=["id", "performance_start", "band_id", "venue_id", "version",
                                "is_deleted", "source_ts_ms"])
    people = _fetch(settings, "select id from {s}.people")
    client.insert(f"{db}.dim_people", [(p[0], 2, 0, 0) for p in people],
                  column_names=["id", "version", "is_deleted", "source_ts_ms"])
    salt = settings.secret("person_hash_salt")
    facts = _fetch(settings, """
        select t.id, t.purchase_id, t.performance_id, pf.band_id, pf.venue_id, pu.person_id,
               t.price, pu.purchase_date, pf.performance_start
        from {s}.tickets t join {s}.purchases pu on pu.id = t.purchase_id
        join {s}.performances pf on pf.id = t.performance_id""")
    lines = [json.dumps({
        "ticket_id": t, "purchase_id": pu, "performance_id": pf, "band_id": b,
        "venue_id": v, "person_key": person_key(person, salt), "ticket_price": price,
        "purchase_date": _iso(bought), "performance_start": _iso(start),
        "festival_year": start.year, "sign": 1, "version": 1, "source_ts_ms": 0,
    }).encode() for t, pu, pf, b, v, person, price, bought, start in facts]
    for first in range(0, len(lines), 20_000):
        client.raw_insert(f"{db}.fact_ticket_sales",
                          insert_block=b"\n".join(lines[first:first + 20_000]),
                          fmt="JSONEachRow",
                          settings={"date_time_input_format": "best_effort"})
    return executor


def settings_env(settings: Settings, *names: str) -> dict[str, str]:
    """BOXOFFICE_* variables making a child process use exactly these settings."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
    for name in ("state_dir", "tools_dir", "bind_host", *names):
        value = getattr(settings, name)
        if value is not None:
            env[f"BOXOFFICE_{name.upper()}"] = str(value)
    return env
