-- replaces checksum 83f3e8e673f09803: its view (ticket_sales_deltas) lives in
-- warehouse/views.

-- The ACL All-Stars charts ask aggregate questions (tickets over time at any grain, per
-- venue, average price per band and venue, narrowed by festival year and venue). Asked
-- of the row-level `ticket_sales` they scan every current ticket with FINAL: about a
-- second at scale 10 (35 M tickets) on two cores, per chart, per refresh.
--
-- The view `ticket_sales_deltas` asks them of the fact table instead: every signed delta, so
-- tickets = sum(sign) and revenue = sum(signed_price) are exact without FINAL, and the
-- two aggregate projections below hold those sums inside every part at the grain the
-- charts group by. ClickHouse answers a matching GROUP BY (or one coarser: months from
-- days, all years from years) from them; names still join at query time.
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
