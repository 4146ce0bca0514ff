-- Data quality: the same delta identity (ticket, version, sign) stored more than once,
-- a sign that an upstream stage re-emitted a change. Empty when all is well. A GROUP BY
-- over every delta ever stored (about 2 s at scale 10): an audit for `boxoffice
-- verify`; dashboards ask dq_repeated_deltas_last_day.
CREATE OR REPLACE VIEW {database}.dq_repeated_deltas AS
SELECT ticket_id, version, sign, count() AS copies
FROM {database}.fact_ticket_sales
GROUP BY ticket_id, version, sign
HAVING copies > 1;
