-- Prices to the cent. A ticketing database that starts selling at $49.90 changes
-- festival.tickets.price from integer to numeric(10,2); the pipeline carries an amount
-- as an integer while it is whole and as text with two decimals otherwise
-- (contracts/columns.py, money), so the warehouse keeps it as Decimal(18, 2): exact,
-- summed without floats, and every whole price stored before reads the same.
--
-- ClickHouse refuses to change the type of a column an aggregate projection sums
-- ("Cannot apply ALTER because it breaks projection"), so each such projection is
-- dropped, the column converted, and the projection added back and rebuilt. Every
-- statement is idempotent on its own: run again after an interruption, the drops find
-- nothing, the conversions find the new type, the adds and rebuilds repeat harmlessly.
-- On tables with rows the conversion is a background mutation; until it reaches a part
-- that part is converted while it is read, and until the projections are rebuilt the
-- views read the parts in full: correct all along, only slower.

ALTER TABLE {database}.fact_ticket_sales DROP PROJECTION IF EXISTS p_totals;
ALTER TABLE {database}.fact_ticket_sales DROP PROJECTION IF EXISTS p_year_day_venue;
ALTER TABLE {database}.fact_ticket_sales DROP PROJECTION IF EXISTS p_year_venue_band;
ALTER TABLE {database}.fact_ticket_sales MODIFY COLUMN ticket_price Decimal(18, 2);
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_totals (SELECT sum(sign), sum(sign * ticket_price));
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_year_day_venue
    (SELECT festival_year, toDate(purchase_date), venue_id, sum(sign), sum(sign * ticket_price)
     GROUP BY festival_year, toDate(purchase_date), venue_id);
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_year_venue_band
    (SELECT festival_year, venue_id, band_id, sum(sign), sum(sign * ticket_price)
     GROUP BY festival_year, venue_id, band_id);
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_totals;
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_year_day_venue;
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_year_venue_band;

ALTER TABLE {database}.ticket_sales_current MODIFY COLUMN ticket_price Decimal(18, 2);

ALTER TABLE {database}.agg_sales_by_performance MODIFY COLUMN revenue Decimal(18, 2);
ALTER TABLE {database}.agg_sales_by_minute_venue MODIFY COLUMN revenue Decimal(18, 2);

ALTER TABLE {database}.agg_sales_by_day_venue_band DROP PROJECTION IF EXISTS p_day_venue;
ALTER TABLE {database}.agg_sales_by_day_venue_band DROP PROJECTION IF EXISTS p_venue_band;
ALTER TABLE {database}.agg_sales_by_day_venue_band MODIFY COLUMN revenue Decimal(18, 2);
ALTER TABLE {database}.agg_sales_by_day_venue_band
    ADD PROJECTION IF NOT EXISTS p_day_venue
    (SELECT sale_date, venue_id, sum(tickets), sum(revenue) GROUP BY sale_date, venue_id);
ALTER TABLE {database}.agg_sales_by_day_venue_band
    ADD PROJECTION IF NOT EXISTS p_venue_band
    (SELECT venue_id, band_id, sum(tickets), sum(revenue) GROUP BY venue_id, band_id);
ALTER TABLE {database}.agg_sales_by_day_venue_band MATERIALIZE PROJECTION p_day_venue;
ALTER TABLE {database}.agg_sales_by_day_venue_band MATERIALIZE PROJECTION p_venue_band;
