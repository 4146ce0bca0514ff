"""`ALTER TABLE ... ADD COLUMN` on captured tables while sales go on.

Debezium picks the new relation up from pgoutput and its records carry the extra column;
the processors (tickets) and the sink (bands) must ignore what they do not know, store
what they do, and never dead-letter or stop.
"""

from __future__ import annotations

from connectors.db import connect
from tests.chaos.pipeline import ChaosPipeline
from tests.chaos.scenario import Outcome, settle, under_load

NEW_COLUMNS = {"tickets": "chaos_note text", "bands": "chaos_genre text default 'rock'"}


def test_add_column_mid_stream_keeps_the_pipeline_exact(
    chaos: ChaosPipeline, outcome: Outcome
) -> None:
    schema = chaos.settings.source_schema

    def alter_and_use() -> None:
        conn = connect(chaos.settings)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("set local lock_timeout = '10s'")
                for table, column in NEW_COLUMNS.items():
                    cur.execute(f"alter table {schema}.{table} add column if not exists "
                                f"{column}")
            with conn, conn.cursor() as cur:  # changes that carry the new columns
                cur.execute(f"update {schema}.tickets set chaos_note = 'seen', "
                            f"price = price + 1 where id in (select id from "
                            f"{schema}.tickets order by id limit 20)")
                cur.execute(f"update {schema}.bands set chaos_genre = 'jazz', "
                            f"fee = fee where id in (select id from {schema}.bands "
                            f"order by id limit 5)")
        finally:
            conn.close()

    under_load(chaos, outcome, alter_and_use, at=0.3, duration=20.0, seed=11)

    settle(chaos, outcome)
