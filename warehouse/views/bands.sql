-- The current row of each band, deletes hidden. Dimensions are small (thousands of rows),
-- so FINAL is cheap here, and names join at query time through these views: a renamed
-- band needs no re-emission of facts.
CREATE OR REPLACE VIEW {database}.bands AS
SELECT * EXCEPT (version, is_deleted, source_ts_ms, ingested_at)
FROM {database}.dim_bands FINAL;
