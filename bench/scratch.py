"""A throw-away source database for one benchmark run, on the configured stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from rich.console import Console
from rich.table import Table

from connectors.migrate import migrate
from contracts.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results"


@contextmanager
def scratch_source(base: Settings, prefix: str) -> Iterator[Settings]:
    name = f"{prefix}_{int(time.time())}"
    settings = base.model_copy(update={
        "postgres_db": name, "publication_name": f"{name}_pub", "slot_name": f"{name}_slot",
        "connector_name": f"{name}-source", "topic_prefix": name,
    })
    admin = psycopg2.connect(base.postgres_dsn().replace(f"dbname={base.postgres_db}",
                                                         "dbname=postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        migrate(settings)
        yield settings
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def report(name: str, rows: list[dict[str, object]]) -> Path:
    """Write bench/results/<name>.json and print the rows as a table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "at": time.strftime("%FT%TZ", time.gmtime()),
                                "results": rows}, indent=2))
    table = Table(*rows[0].keys(), title=name)
    for row in rows:
        table.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console().print(table)
    return path
