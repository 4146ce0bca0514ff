-- The ACL All-Stars charts ask aggregate questions (tickets over time at any grain, per
-- venue, average price per band and venue, narrowed by festival year and venue). Asked
-- of the row-level `ticket_sales` they scan every current ticket with FINAL: about a
-- second at scale 10 (35 M tickets) on two cores, per chart, per refresh.
--
-- `ticket_sales_deltas` asks them of the fact table instead: every signed delta, so
-- tickets = sum(sign) and revenue = sum(signed_price) are exact without FINAL, and the
-- two aggregate projections below hold those sums inside every part at the grain the
-- charts group by. ClickHouse answers a matching GROUP BY (or one coarser: months from
-- days, all years from years) from them; names still join at query time, through the
-- same current-dimension arrays as `ticket_sales` (0008), so a rename needs nothing.
--
-- Plain MergeTree projections are built with every insert and merge, in the same part,
-- so they are exactly as exact as the facts; parts older than this migration are read
-- in full until MATERIALIZE reaches them in the background (correct, only slower).
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_year_day_venue
    (SELECT festival_year, toDate(purchase_date), venue_id, sum(sign), sum(sign * ticket_price)
     GROUP BY festival_year, toDate(purchase_date), venue_id);
ALTER TABLE {database}.fact_ticket_sales
    ADD PROJECTION IF NOT EXISTS p_year_venue_band
    (SELECT festival_year, venue_id, band_id, sum(sign), sum(sign * ticket_price)
     GROUP BY festival_year, venue_id, band_id);
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_year_day_venue;
ALTER TABLE {database}.fact_ticket_sales MATERIALIZE PROJECTION p_year_venue_band;

-- One row per stored delta; only its sums mean something (the dataset's metrics say so).
CREATE OR REPLACE VIEW {database}.ticket_sales_deltas AS
WITH
    (SELECT (groupArray(id), groupArray(name)) FROM {database}.bands) AS band_names,
    (SELECT (groupArray(id), groupArray(name)) FROM {database}.venues) AS venue_names
SELECT
    toDate(f.purchase_date)                               AS purchase_day,
    f.festival_year                                       AS festival_year,
    transform(f.band_id, band_names.1, band_names.2, '')   AS band_name,
    transform(f.venue_id, venue_names.1, venue_names.2, '') AS venue_name,
    f.sign                                                AS sign,
    f.sign * f.ticket_price                               AS signed_price
FROM {database}.fact_ticket_sales AS f;
