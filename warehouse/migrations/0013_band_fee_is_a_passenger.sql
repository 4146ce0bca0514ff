-- A band's fee is a passenger (warehouse/sink/records.py DIMENSION_COLUMNS): nothing
-- boxoffice computes or shows depends on it, so the source may drop the column and the
-- bands keep flowing, their fee NULL from then on, instead of every later band change
-- becoming a dead letter ("fee must be an integer, got None"). Existing rows keep their
-- value; on a table with rows the change is a background mutation (small: dimensions).
ALTER TABLE {database}.dim_bands MODIFY COLUMN fee Nullable(Int64);
