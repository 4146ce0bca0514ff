-- Every signed delta of the facts topic, exactly as the processors emitted it.
-- Plain MergeTree on purpose: nothing is collapsed away, so sum(sign) and
-- sum(sign * ticket_price) over this table are the ground truth the aggregates must
-- equal, and a delta delivered twice stays visible (see dq_duplicate_deltas).
-- non_replicated_deduplication_window makes insert_deduplication_token work here.

CREATE TABLE IF NOT EXISTS {database}.fact_ticket_sales
(
    ticket_id         Int64,
    purchase_id       Int64,
    performance_id    Int64,
    band_id           Int64,
    venue_id          Int64,
    person_key        String,
    ticket_price      Int64,
    purchase_date     DateTime64(6, 'UTC'),
    performance_start DateTime64(6, 'UTC'),
    festival_year     UInt16,
    sign              Int8,
    version           UInt64,
    source_ts_ms      Int64,
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (ticket_id, version, sign)
SETTINGS non_replicated_deduplication_window = 1000;

-- The current fact row of each ticket, for the row-level dataset. An update arrives as
-- (-1 old, +1 new) with the same version; row_version = 2 * version + (sign = 1) lets the
-- +1 win that tie, and a retraction with a newer version marks the ticket deleted.
CREATE TABLE IF NOT EXISTS {database}.ticket_sales_current
(
    ticket_id         Int64,
    purchase_id       Int64,
    performance_id    Int64,
    band_id           Int64,
    venue_id          Int64,
    person_key        String,
    ticket_price      Int64,
    purchase_date     DateTime64(6, 'UTC'),
    performance_start DateTime64(6, 'UTC'),
    festival_year     UInt16,
    row_version       UInt64,
    is_deleted        UInt8
)
ENGINE = ReplacingMergeTree(row_version, is_deleted)
ORDER BY ticket_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.mv_ticket_sales_current
TO {database}.ticket_sales_current AS
SELECT
    ticket_id, purchase_id, performance_id, band_id, venue_id, person_key, ticket_price,
    purchase_date, performance_start, festival_year,
    version * 2 + toUInt64(sign = 1) AS row_version,
    toUInt8(sign = -1) AS is_deleted
FROM {database}.fact_ticket_sales;
