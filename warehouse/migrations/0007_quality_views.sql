-- Data-quality views: each should be empty (or agree with Postgres) when the pipeline
-- is caught up.

-- Tickets whose performance has no known band or venue (should be empty).
CREATE OR REPLACE VIEW {database}.dq_tickets_without_band_or_venue AS
SELECT
    s.performance_id AS performance_id,
    s.tickets AS tickets,
    s.revenue AS revenue,
    multiIf(s.performance_id NOT IN (SELECT id FROM {database}.performances),
                'performance unknown',
            s.band_id NOT IN (SELECT id FROM {database}.bands), 'band unknown',
            'venue unknown') AS problem
FROM
(
    SELECT pp.performance_id AS performance_id, pp.tickets AS tickets,
           pp.revenue AS revenue, p.band_id AS band_id, p.venue_id AS venue_id
    FROM
    (
        SELECT performance_id, sum(tickets) AS tickets, sum(revenue) AS revenue
        FROM {database}.agg_sales_by_performance
        GROUP BY performance_id
        HAVING tickets != 0 OR revenue != 0
    ) AS pp
    LEFT JOIN {database}.performances AS p ON p.id = pp.performance_id
) AS s
WHERE s.performance_id NOT IN (SELECT id FROM {database}.performances)
   OR s.band_id NOT IN (SELECT id FROM {database}.bands)
   OR s.venue_id NOT IN (SELECT id FROM {database}.venues);

-- Per-table counts for reconciliation with Postgres: current dimension rows, and for the
-- facts and every aggregate the net tickets and revenue (all must agree).
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
FROM (SELECT performance_id, sum(tickets) AS tickets, sum(revenue) AS revenue
      FROM {database}.agg_sales_by_performance GROUP BY performance_id)
UNION ALL
SELECT 'agg_sales_by_day_venue_band', count(), sum(tickets), sum(revenue)
FROM (SELECT sale_date, venue_id, band_id, sum(tickets) AS tickets,
             sum(revenue) AS revenue
      FROM {database}.agg_sales_by_day_venue_band GROUP BY sale_date, venue_id, band_id)
UNION ALL
SELECT 'agg_sales_by_minute_venue', count(), sum(tickets), sum(revenue)
FROM (SELECT minute, venue_id, sum(tickets) AS tickets, sum(revenue) AS revenue
      FROM {database}.agg_sales_by_minute_venue GROUP BY minute, venue_id);

-- The same delta identity (ticket, version, sign) stored more than once: a sign that an
-- upstream stage re-emitted a change (should be empty).
CREATE OR REPLACE VIEW {database}.dq_repeated_deltas AS
SELECT ticket_id, version, sign, count() AS copies
FROM {database}.fact_ticket_sales
GROUP BY ticket_id, version, sign
HAVING copies > 1;
