-- Heartbeats travel the facts' own path: the processors route each source heartbeat to
-- every join partition and each partition writes it to the heartbeats topic in the same
-- Kafka transaction as its facts, naming itself in join_partition. Freshness is then the
-- newest heartbeat of the SLOWEST partition (min over partitions of the newest), so one
-- stalled partition cannot hide behind the others. Rows written before this migration
-- (one per heartbeat, no partition) keep -1 and count only until partitioned rows exist.

ALTER TABLE {database}.heartbeats
    ADD COLUMN IF NOT EXISTS join_partition Int32 DEFAULT -1;

CREATE OR REPLACE VIEW {database}.pipeline_freshness AS
SELECT
    sum(n) AS heartbeats,
    fromUnixTimestamp64Milli(min(newest), 'UTC') AS newest_source_heartbeat,
    (toUnixTimestamp64Milli(now64(3)) - min(newest)) / 1000.0 AS freshness_seconds
FROM
(
    SELECT join_partition, count() AS n, max(source_ts_ms) AS newest
    FROM {database}.heartbeats
    WHERE join_partition >= (SELECT if(countIf(join_partition >= 0) > 0, 0, -1)
                             FROM {database}.heartbeats)
    GROUP BY join_partition
);
