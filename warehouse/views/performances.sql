-- The current row of each performance, deletes hidden (small: FINAL is cheap).
CREATE OR REPLACE VIEW {database}.performances AS
SELECT * EXCEPT (version, is_deleted, source_ts_ms, ingested_at)
FROM {database}.dim_performances FINAL;
