-- replaces checksum 4a3108ebe1aa9386: its view (ticket_sales) lives in warehouse/views,
-- re-created after the migrations so it passes the LowCardinality names through.

-- The row-level `ticket_sales` dataset is grouped by names (venue x band, band, venue).
-- With plain Int64 ids, transform() built two name strings for every current ticket and
-- the GROUP BY hashed them row by row: about 90 ms at scale 1 and 1 s at scale 10 (35 M
-- tickets) on two cores, most of it in that hashing. Stored as LowCardinality, the
-- band and venue ids of a part carry a small dictionary of their distinct values;
-- transform() then maps that dictionary once per block and returns LowCardinality
-- names, which ClickHouse groups by their dictionary positions (measured: 90 -> 65 ms
-- median at scale 1, 976 -> 589 ms at scale 10). Values and meaning do not change:
-- the ids stay Int64 and the names still join at query time.
--
-- A festival has hundreds to a few thousand bands and a handful of venues, the case
-- LowCardinality is for; ClickHouse calls LowCardinality over numbers "suspicious" in
-- general and wants that said per statement. On a table with rows the ALTER is a
-- background mutation: until it reaches a part, that part is converted while it is
-- read (correct, only slower). Running it again on the new type changes nothing.
ALTER TABLE {database}.ticket_sales_current
    MODIFY COLUMN band_id LowCardinality(Int64),
    MODIFY COLUMN venue_id LowCardinality(Int64)
SETTINGS allow_suspicious_low_cardinality_types = 1;
