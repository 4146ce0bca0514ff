-- Tickets and revenue per purchase day (UTC) and venue. Aggregates are read with sum()
-- by key, never FINAL (a SummingMergeTree sums rows only when it merges); the
-- projection p_day_venue answers this GROUP BY from about 1/20 of the rows.
CREATE OR REPLACE VIEW {database}.ticket_sales_over_time AS
SELECT a.sale_date AS sale_date, v.name AS venue_name, a.tickets AS tickets,
       a.revenue AS revenue
FROM
(
    SELECT sale_date, venue_id, sum(tickets) AS tickets, sum(revenue) AS revenue
    FROM {database}.agg_sales_by_day_venue_band
    GROUP BY sale_date, venue_id
    HAVING tickets != 0 OR revenue != 0
) AS a
LEFT JOIN {database}.venues AS v ON v.id = a.venue_id;
