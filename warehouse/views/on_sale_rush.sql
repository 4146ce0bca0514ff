-- The on-sale rush: tickets and revenue per 10 seconds of purchase time (UTC) over the
-- last 15 minutes, summed from the signed facts themselves, so a refund or correction
-- within the window shows at once and the numbers are exact by construction (the minmax
-- index ix_purchase_date keeps it to the newest granules). verify compares it with the
-- source over its last 14 minutes (check `on_sale_rush`).
CREATE OR REPLACE VIEW {database}.on_sale_rush AS
SELECT toDateTime(toStartOfInterval(purchase_date, INTERVAL 10 SECOND), 'UTC') AS ten_seconds,
       sum(sign) AS tickets, sum(sign * ticket_price) AS revenue
FROM {database}.fact_ticket_sales
WHERE purchase_date >= toStartOfInterval(now64(6) - INTERVAL 15 MINUTE, INTERVAL 10 SECOND)
GROUP BY ten_seconds
HAVING tickets != 0 OR revenue != 0;
