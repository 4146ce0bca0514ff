-- Average ticket price per band and venue (revenue / tickets); the projection
-- p_venue_band answers the inner GROUP BY.
CREATE OR REPLACE VIEW {database}.avg_ticket_price_by_band_venue AS
SELECT b.name AS band_name, v.name AS venue_name, a.tickets AS tickets,
       a.revenue AS revenue, toFloat64(a.revenue) / a.tickets AS avg_ticket_price
FROM
(
    SELECT venue_id, band_id, sum(tickets) AS tickets, sum(revenue) AS revenue
    FROM {database}.agg_sales_by_day_venue_band
    GROUP BY venue_id, band_id
    HAVING tickets > 0
) AS a
LEFT JOIN {database}.bands AS b ON b.id = a.band_id
LEFT JOIN {database}.venues AS v ON v.id = a.venue_id;
