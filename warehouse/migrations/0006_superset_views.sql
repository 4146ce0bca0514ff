-- The views Superset reads, one per question. Aggregates are read with sum() by key
-- (never FINAL); dimension names come from the current-dimension views.

-- The reusable row-level dataset: one row per ticket that exists now.
CREATE OR REPLACE VIEW {database}.ticket_sales AS
SELECT
    t.ticket_id          AS ticket_id,
    t.performance_id     AS performance_id,
    b.name               AS band_name,
    v.name               AS venue_name,
    t.performance_start  AS performance_date,
    t.purchase_date      AS purchase_date,
    v.capacity           AS capacity,
    t.ticket_price       AS ticket_price,
    t.festival_year      AS festival_year
FROM {database}.ticket_sales_current AS t FINAL
LEFT JOIN {database}.bands AS b ON b.id = t.band_id
LEFT JOIN {database}.venues AS v ON v.id = t.venue_id;

-- Ticket sales over time: tickets and revenue per purchase day (UTC) and venue.
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

-- Sales per venue, all time.
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

-- Average ticket price per band and venue (revenue / tickets).
CREATE OR REPLACE VIEW {database}.avg_ticket_price_by_band_venue AS
SELECT b.name AS band_name, v.name AS venue_name, a.tickets AS tickets,
       a.revenue AS revenue, a.revenue / a.tickets AS avg_ticket_price
FROM
(
    SELECT venue_id, band_id, sum(tickets) AS tickets, sum(revenue) AS revenue
    FROM {database}.agg_sales_by_day_venue_band
    GROUP BY venue_id, band_id
    HAVING tickets > 0
) AS a
LEFT JOIN {database}.bands AS b ON b.id = a.band_id
LEFT JOIN {database}.venues AS v ON v.id = a.venue_id;

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

-- Freshness: now minus the newest source heartbeat that reached ClickHouse.
CREATE OR REPLACE VIEW {database}.pipeline_freshness AS
SELECT
    count() AS heartbeats,
    fromUnixTimestamp64Milli(max(source_ts_ms), 'UTC') AS newest_source_heartbeat,
    (toUnixTimestamp64Milli(now64(3)) - max(source_ts_ms)) / 1000.0 AS freshness_seconds
FROM {database}.heartbeats;
