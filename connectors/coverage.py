"""Which tables of the source schema the pipeline does not capture.

The publication, the connector's include list and the replication role's grants name
the tables of `contracts.tables` one by one, so a table an analyst adds to the schema is
simply not captured: nothing breaks, and nothing of it reaches the warehouse either.
`status` reports such tables so that this is a decision, not a surprise.
"""

from __future__ import annotations

from connectors.db import connect
from contracts.settings import Settings
from contracts.tables import PUBLISHED_TABLES


def uncaptured_tables(settings: Settings) -> list[str]:
    """Ordinary tables of settings.source_schema outside the publication's list."""
    conn = connect(settings, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select table_name from information_schema.tables "
                        "where table_schema = %s and table_type = 'BASE TABLE' "
                        "order by table_name", (settings.source_schema,))
            names = [str(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()
    return [name for name in names if name not in PUBLISHED_TABLES]
