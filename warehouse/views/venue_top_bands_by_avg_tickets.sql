-- Per venue, the average tickets sold per performance of each band, with the band's rank
-- within the venue; only the top 8 of each venue.
CREATE OR REPLACE VIEW {database}.venue_top_bands_by_avg_tickets AS
SELECT venue_name, band_name, avg_tickets_per_performance, performances, rank_in_venue
FROM
(
    SELECT
        v.name AS venue_name,
        b.name AS band_name,
        s.avg_tickets_per_performance AS avg_tickets_per_performance,
        s.performances AS performances,
        rank() OVER (PARTITION BY s.venue_id
                     ORDER BY s.avg_tickets_per_performance DESC) AS rank_in_venue
    FROM
    (
        SELECT p.venue_id AS venue_id, p.band_id AS band_id,
               avg(pp.tickets) AS avg_tickets_per_performance, count() AS performances
        FROM
        (
            SELECT performance_id, sum(tickets) AS tickets
            FROM {database}.agg_sales_by_performance
            GROUP BY performance_id
            HAVING tickets > 0
        ) AS pp
        INNER JOIN {database}.performances AS p ON p.id = pp.performance_id
        GROUP BY venue_id, band_id
    ) AS s
    LEFT JOIN {database}.venues AS v ON v.id = s.venue_id
    LEFT JOIN {database}.bands AS b ON b.id = s.band_id
)
WHERE rank_in_venue <= 8;
