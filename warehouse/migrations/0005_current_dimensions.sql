-- The current row of each dimension, deletes hidden. Dimensions are small (thousands of
-- rows), so FINAL is cheap here; names join at query time through these views, so a
-- renamed band needs no re-emission of facts.

CREATE OR REPLACE VIEW {database}.bands AS
SELECT id, name, fee FROM {database}.dim_bands FINAL;

CREATE OR REPLACE VIEW {database}.venues AS
SELECT id, name, capacity FROM {database}.dim_venues FINAL;

CREATE OR REPLACE VIEW {database}.performances AS
SELECT id, performance_start, band_id, venue_id FROM {database}.dim_performances FINAL;

CREATE OR REPLACE VIEW {database}.people AS
SELECT id FROM {database}.dim_people FINAL;
