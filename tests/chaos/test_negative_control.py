"""Negative control: with deduplication off, a retried sink batch is stored twice, and
the checks the chaos suite relies on (verify, `dq_repeated_deltas`) must say so.

A scratch ClickHouse database is filled from the chaos pipeline's own (dimensions and
facts, the aggregates rebuilt by the materialized views), except one batch of facts that
is written by the sink's own writer, as the sink writes it:

1. once with its token: verify passes (the copy is faithful);
2. again with the same token (the sink retrying after a crash): still passes;
3. again with deduplication disabled (`insert_deduplicate = 0` and a per-attempt token
   instead of the offset range): verify must fail, on the repeated deltas and on the
   totals and aggregates.
"""

from __future__ import annotations

from boxoffice.verify import verify
from tests.chaos.per_ticket import ticket_differences
from tests.chaos.pipeline import ChaosPipeline, explain
from warehouse.executor import ClientExecutor
from warehouse.executor import connect as clickhouse
from warehouse.migrate import migrate
from warehouse.sink.writer import ClickHouseWriter

DIMENSIONS = ("dim_bands", "dim_venues", "dim_performances", "dim_people")
BATCH_TICKETS = 200
"""Tickets whose facts form the retried batch."""
MUST_FAIL = {"dq_repeated_deltas", "totals", "sales_by_performance"}


def test_without_deduplication_a_retried_batch_fails_the_checks(chaos: ChaosPipeline) -> None:
    source = chaos.settings.clickhouse_database
    scratch = f"{source}_negative_control"
    client = clickhouse(chaos.settings)
    try:
        migrate(ClientExecutor(client), scratch)
        for table in DIMENSIONS:
            client.command(f"INSERT INTO {scratch}.{table} SELECT * FROM {source}.{table}")
        in_batch = (f"ticket_id IN (SELECT DISTINCT ticket_id FROM {source}.fact_ticket_sales "
                    f"ORDER BY ticket_id LIMIT {BATCH_TICKETS})")
        client.command(f"INSERT INTO {scratch}.fact_ticket_sales SELECT * FROM "
                       f"{source}.fact_ticket_sales WHERE NOT {in_batch}")
        raw = client.raw_query(f"SELECT * FROM {source}.fact_ticket_sales WHERE {in_batch} "
                               f"FORMAT JSONEachRow")
        lines = [line for line in raw.split(b"\n") if line]
        assert lines, "no facts to retry"
        token = f"{chaos.settings.facts_topic}:0:0-{len(lines) - 1}"

        def write(batch_token: str, **extra: int) -> None:
            writer = ClickHouseWriter(settings=chaos.settings, database=scratch,
                                      extra_settings=extra)
            try:
                writer.insert("fact_ticket_sales", lines, batch_token)
            finally:
                writer.close()

        write(token)
        first = verify(chaos.settings, database=scratch)
        assert first.ok, f"the scratch copy does not reconcile: {explain(first)}"
        assert ticket_differences(chaos.settings, scratch) == []

        write(token)  # the sink's retry: same token, deduplicated
        retried = verify(chaos.settings, database=scratch)
        assert retried.ok, f"a retried batch with its token was stored twice: " \
                           f"{explain(retried)}"

        # the negative control: deduplication off. On this engine `insert_deduplicate = 0`
        # alone does not stop a table with non_replicated_deduplication_window from
        # dropping a repeated block (measured with chdb: neither with a token nor by the
        # block's hash), so the retry also carries a token of its own attempt instead of
        # the batch's offset range: what a sink with unstable batch names would do.
        write(f"{token}:attempt-2", insert_deduplicate=0)
        doubled = verify(chaos.settings, database=scratch)
        failing = {r.name for r in doubled.results if not r.ok}
        assert not doubled.ok
        assert failing >= MUST_FAIL, failing
        repeated = client.query(f"SELECT count() FROM {scratch}.dq_repeated_deltas")
        assert repeated.result_rows[0][0] == len(lines)
        doubled_tickets = ticket_differences(chaos.settings, scratch)
        assert len(doubled_tickets) == 1 and "doubled" in doubled_tickets[0], doubled_tickets

        # and loss: the batch's tickets gone (what a sink committing past a batch it
        # never stored does) turns the per-ticket check red as well
        client.command(f"ALTER TABLE {scratch}.fact_ticket_sales DELETE WHERE {in_batch} "
                       "SETTINGS mutations_sync = 2")
        lost = ticket_differences(chaos.settings, scratch)
        assert any("lost" in problem for problem in lost), lost
    finally:
        client.command(f"DROP DATABASE IF EXISTS {scratch}")
        client.close()
