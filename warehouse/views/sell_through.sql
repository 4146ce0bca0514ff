-- Sell-through per performance: tickets sold, net of refunds (the per-performance
-- aggregate, exact under updates and deletes), against the capacity of the venue the
-- performance is in now. A move changes the denominator, not the count; a price
-- correction changes neither. `upcoming`: not started yet (the live dashboard shows
-- those); verify compares every performance (check `sell_through`).
CREATE OR REPLACE VIEW {database}.sell_through AS
SELECT p.id AS performance_id, p.performance_start AS performance_start,
       b.name AS band_name, v.name AS venue_name, p.venue_id AS venue_id,
       v.capacity AS capacity, toInt64(a.tickets) AS tickets_sold,
       if(v.capacity > 0, round(100 * a.tickets / v.capacity, 1), NULL) AS sold_pct,
       toUInt8(p.performance_start > now64(6)) AS upcoming
FROM {database}.performances AS p
LEFT JOIN
(
    SELECT performance_id, sum(tickets) AS tickets
    FROM {database}.agg_sales_by_performance
    GROUP BY performance_id
) AS a ON a.performance_id = p.id
LEFT JOIN {database}.venues AS v ON v.id = p.venue_id
LEFT JOIN {database}.bands AS b ON b.id = p.band_id;
