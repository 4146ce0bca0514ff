-- Per-table counts for reconciliation with PostgreSQL: current dimension rows, and for
-- the facts and every aggregate the net tickets and revenue (all must agree).
--
-- No GROUP BY over every aggregate key (the minute x venue table has about one row per
-- ticket): tickets and revenue are plain sums (sums of sums are the same), and the fact
-- table's totals come from its projection p_totals (one row per part). An aggregate's
-- current_rows is its stored row count, which merges shrink: it is not comparable with
-- PostgreSQL, and verify compares only the aggregates' tickets and revenue.
CREATE OR REPLACE VIEW {database}.dq_table_counts AS
SELECT 'bands' AS table_name, count() AS current_rows, 0 AS tickets, 0 AS revenue
FROM {database}.bands
UNION ALL
SELECT 'venues', count(), 0, 0 FROM {database}.venues
UNION ALL
SELECT 'performances', count(), 0, 0 FROM {database}.performances
UNION ALL
SELECT 'people', count(), 0, 0 FROM {database}.people
UNION ALL
SELECT 'fact_ticket_sales', toUInt64(greatest(sum(sign), 0)), sum(sign),
       sum(sign * ticket_price)
FROM {database}.fact_ticket_sales
UNION ALL
SELECT 'ticket_sales_current', count(), count(), sum(ticket_price)
FROM {database}.ticket_sales_current FINAL
UNION ALL
SELECT 'agg_sales_by_performance', count(), sum(tickets), sum(revenue)
FROM {database}.agg_sales_by_performance
UNION ALL
SELECT 'agg_sales_by_day_venue_band', count(), sum(tickets), sum(revenue)
FROM {database}.agg_sales_by_day_venue_band
UNION ALL
SELECT 'agg_sales_by_minute_venue', count(), sum(tickets), sum(revenue)
FROM {database}.agg_sales_by_minute_venue;
