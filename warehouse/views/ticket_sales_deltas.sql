-- The dashboards' aggregate questions (tickets over time at any grain, per venue, average
-- price per band and venue, narrowed by festival year and venue), asked of the fact
-- table: one row per stored delta, so only its sums mean something. tickets =
-- sum(sign) and revenue = sum(signed_price) are exact without FINAL, and the projections
-- p_year_day_venue and p_year_venue_band of fact_ticket_sales hold those sums inside
-- every part at the grain the charts group by: ClickHouse answers a matching GROUP BY
-- (or a coarser one: months from days, all years from years) from them. Asked of the
-- row-level ticket_sales instead, each chart scans every current ticket with FINAL
-- (about a second at scale 10 on two cores, per chart, per refresh).
-- Names join at query time, as in ticket_sales, so a rename needs nothing.
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
