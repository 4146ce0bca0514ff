-- Aggregates kept exact by summing signed deltas at insert time: an update or delete
-- arrives as a retraction, so no FINAL is ever needed to read them; queries still
-- sum() by key because SummingMergeTree merges are eventual. Rows whose sums reach
-- zero are dropped by merges, which is exactly "no sales".

CREATE TABLE IF NOT EXISTS {database}.agg_sales_by_performance
(
    performance_id Int64,
    tickets        Int64,
    revenue        Int64
)
ENGINE = SummingMergeTree((tickets, revenue))
ORDER BY performance_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.mv_sales_by_performance
TO {database}.agg_sales_by_performance AS
SELECT performance_id, sum(sign) AS tickets, sum(sign * ticket_price) AS revenue
FROM {database}.fact_ticket_sales
GROUP BY performance_id;

-- Days are UTC days of the purchase.
CREATE TABLE IF NOT EXISTS {database}.agg_sales_by_day_venue_band
(
    sale_date Date,
    venue_id  Int64,
    band_id   Int64,
    tickets   Int64,
    revenue   Int64
)
ENGINE = SummingMergeTree((tickets, revenue))
ORDER BY (sale_date, venue_id, band_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.mv_sales_by_day_venue_band
TO {database}.agg_sales_by_day_venue_band AS
SELECT toDate(purchase_date) AS sale_date, venue_id, band_id,
       sum(sign) AS tickets, sum(sign * ticket_price) AS revenue
FROM {database}.fact_ticket_sales
GROUP BY sale_date, venue_id, band_id;

-- The live view: purchase minute by venue.
CREATE TABLE IF NOT EXISTS {database}.agg_sales_by_minute_venue
(
    minute   DateTime('UTC'),
    venue_id Int64,
    tickets  Int64,
    revenue  Int64
)
ENGINE = SummingMergeTree((tickets, revenue))
ORDER BY (minute, venue_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.mv_sales_by_minute_venue
TO {database}.agg_sales_by_minute_venue AS
SELECT toStartOfMinute(purchase_date) AS minute, venue_id,
       sum(sign) AS tickets, sum(sign * ticket_price) AS revenue
FROM {database}.fact_ticket_sales
GROUP BY minute, venue_id;
