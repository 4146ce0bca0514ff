-- replaces checksum a13528964ad97e0f: its views (ticket_sales, dq_table_counts) live in
-- warehouse/views.

-- Latency of the views Superset reads (targets: p95 < 100 ms at scale 1, < 300 ms at
-- scale 10): aggregate projections. ClickHouse keeps, inside every part, the part's sums
-- at a coarser grain and answers a matching GROUP BY from them. They are built with each
-- insert and each merge, in the same part, so they are exactly as exact as the table
-- (parts written before this migration are read in full until MATERIALIZE, which runs
-- in the background, reaches them: correct all along, just slower). SummingMergeTree
-- sums rows when it merges, so its projections are rebuilt on merge
-- (deduplicate_merge_projection_mode = 'rebuild').

ALTER TABLE {database}.agg_sales_by_day_venue_band
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

-- ticket_sales_over_time (day x venue), about 1/20 of the day x venue x band rows.
ALTER TABLE {database}.agg_sales_by_day_venue_band
    ADD PROJECTION IF NOT EXISTS p_day_venue
    (SELECT sale_date, venue_id, sum(tickets), sum(revenue) GROUP BY sale_date, venue_id);

-- sales_per_venue and avg_ticket_price_by_band_venue: one row per performance's band
-- and venue instead of one per day.
ALTER TABLE {database}.agg_sales_by_day_venue_band
    ADD PROJECTION IF NOT EXISTS p_venue_band
    (SELECT venue_id, band_id, sum(tickets), sum(revenue) GROUP BY venue_id, band_id);

ALTER TABLE {database}.agg_sales_by_day_venue_band MATERIALIZE PROJECTION p_day_venue;

ALTER TABLE {database}.agg_sales_by_day_venue_band MATERIALIZE PROJECTION p_venue_band;

-- The fact table's net totals (dq_table_counts, verify's totals): one row per part
-- instead of every delta ever received.
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_totals (SELECT sum(sign), sum(sign * ticket_price));

ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_totals;
