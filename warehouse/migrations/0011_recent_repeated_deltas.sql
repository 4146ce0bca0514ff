-- replaces checksum e22b32812715e41a: its view (dq_repeated_deltas_last_day) lives in
-- warehouse/views.

-- The live dashboard's "Pipeline health" asks every 10 s whether a delta was stored twice.
-- `dq_repeated_deltas` answers for the whole history: a GROUP BY over every delta ever
-- stored, about 2 s at scale 10 on two cores, which is an audit (`boxoffice verify`), not
-- something to run every 10 s. `dq_repeated_deltas_last_day` answers the live question:
-- repeats of which at least one copy was stored in the last 24 hours (an upstream stage
-- re-emitting a change does so within minutes, so a repeat shows here the day it
-- happens), every copy of those tickets counted, older ones included.
--
-- The minmax index on `ingested_at` lets ClickHouse skip every granule of deltas stored
-- earlier, and the tickets found are looked up through the primary key (ticket_id).
-- A replay re-stores the whole history, so for a day after it this view is as slow as
-- the full one (and as exact).
ALTER TABLE {database}.fact_ticket_sales
    ADD INDEX IF NOT EXISTS ix_ingested_at ingested_at TYPE minmax GRANULARITY 1;
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE INDEX ix_ingested_at;
