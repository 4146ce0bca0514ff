-- The current row of each band, deletes hidden. Dimensions are small (thousands of rows),
-- so FINAL is cheap here, and names join at query time through these views: a renamed
-- band needs no re-emission of facts.
CREATE OR REPLACE VIEW {database}.bands AS
SELECT id, name, fee FROM {database}.dim_bands FINAL;
