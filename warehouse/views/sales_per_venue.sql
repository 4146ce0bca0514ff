-- Sales per venue, all time (the projection p_venue_band answers the inner GROUP BY).
CREATE OR REPLACE VIEW {database}.sales_per_venue AS
SELECT v.name AS venue_name, v.capacity AS capacity, a.tickets AS tickets,
       a.revenue AS revenue
FROM
(
    SELECT venue_id, sum(tickets) AS tickets, sum(revenue) AS revenue
    FROM {database}.agg_sales_by_day_venue_band
    GROUP BY venue_id
    HAVING tickets != 0 OR revenue != 0
) AS a
LEFT JOIN {database}.venues AS v ON v.id = a.venue_id;
