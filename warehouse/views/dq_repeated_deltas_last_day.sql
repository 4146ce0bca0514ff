-- The live dashboard's "Pipeline health" question, asked every 10 s: repeats of which at
-- least one copy was stored in the last 24 hours, every copy of those tickets counted,
-- older ones included. An upstream stage that re-emits a change does so within minutes,
-- so a repeat shows here the day it happens. The minmax index ix_ingested_at skips
-- every granule stored earlier and the tickets found are looked up through the primary
-- key (ticket_id). A replay re-stores the whole history, so for a day after one this
-- view is as slow as dq_repeated_deltas (and as exact).
CREATE OR REPLACE VIEW {database}.dq_repeated_deltas_last_day AS
SELECT ticket_id, version, sign, count() AS copies
FROM {database}.fact_ticket_sales
WHERE ticket_id IN (SELECT ticket_id FROM {database}.fact_ticket_sales
                    WHERE ingested_at >= now64(3) - INTERVAL 1 DAY)
GROUP BY ticket_id, version, sign
HAVING copies > 1;
