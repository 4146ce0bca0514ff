-- The current row of each performance, deletes hidden (small: FINAL is cheap).
CREATE OR REPLACE VIEW {database}.performances AS
SELECT id, performance_start, band_id, venue_id FROM {database}.dim_performances FINAL;
