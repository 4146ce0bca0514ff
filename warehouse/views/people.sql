-- The people that exist now, by id only: names never leave PostgreSQL unhashed, so the
-- warehouse keeps nothing else of a person that a dashboard could show.
CREATE OR REPLACE VIEW {database}.people AS
SELECT id FROM {database}.dim_people FINAL;
