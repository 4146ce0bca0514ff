-- The current row of each venue, deletes hidden (small: FINAL is cheap; see bands.sql).
CREATE OR REPLACE VIEW {database}.venues AS
SELECT * EXCEPT (version, is_deleted, source_ts_ms, ingested_at)
FROM {database}.dim_venues FINAL;
