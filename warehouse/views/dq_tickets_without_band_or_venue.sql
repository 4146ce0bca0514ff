-- Data quality: tickets whose performance has no known band or venue. Empty when the
-- pipeline is caught up.
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
