-- The on-sale rush (warehouse/views/on_sale_rush.sql) sums the facts of the last 15
-- minutes by purchase time every few seconds. Ticket ids grow with time, so in every part
-- (sorted by ticket_id) the newest purchases sit together at the end; a minmax index on
-- purchase_date lets ClickHouse skip every granule of older ones. Corrections to old
-- tickets keep their old purchase date and stay skipped.
ALTER TABLE {database}.fact_ticket_sales
    ADD INDEX IF NOT EXISTS ix_purchase_date purchase_date TYPE minmax GRANULARITY 1;
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE INDEX ix_purchase_date;
