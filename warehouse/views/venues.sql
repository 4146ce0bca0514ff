-- The current row of each venue, deletes hidden (small: FINAL is cheap; see bands.sql).
CREATE OR REPLACE VIEW {database}.venues AS
SELECT id, name, capacity FROM {database}.dim_venues FINAL;
