-- The live view: tickets and revenue per minute and venue over the last hour.
CREATE OR REPLACE VIEW {database}.live_sales_last_hour AS
SELECT a.minute AS minute, v.name AS venue_name, a.tickets AS tickets,
       a.revenue AS revenue
FROM
(
    SELECT minute, venue_id, sum(tickets) AS tickets, sum(revenue) AS revenue
    FROM {database}.agg_sales_by_minute_venue
    WHERE minute >= toStartOfMinute(now() - INTERVAL 1 HOUR)
    GROUP BY minute, venue_id
    HAVING tickets != 0 OR revenue != 0
) AS a
LEFT JOIN {database}.venues AS v ON v.id = a.venue_id;
