-- Freshness: now minus the newest source heartbeat of the SLOWEST join partition (min
-- over partitions of the newest), so one stalled partition cannot hide behind the
-- others. Each partition writes the heartbeats routed to it in the same Kafka
-- transaction as its facts, naming itself in join_partition. Rows without a partition
-- (-1, written by processors that did not route heartbeats) count only until
-- partitioned rows exist.
--
-- The same heartbeat is the live dashboard's "as of": every source commit up to
-- `newest_source_heartbeat`, at WAL position `as_of_lsn` (PostgreSQL's X/Y text; NULL for
-- heartbeats stored before they carried it), is in the numbers. `as_of` says so in words;
-- each live dataset selects it in the same query as its numbers.
CREATE OR REPLACE VIEW {database}.pipeline_freshness AS
SELECT
    sum(n) AS heartbeats,
    fromUnixTimestamp64Milli(min(newest), 'UTC') AS newest_source_heartbeat,
    (toUnixTimestamp64Milli(now64(3)) - min(newest)) / 1000.0 AS freshness_seconds,
    argMin(newest_lsn, newest) AS lsn,
    if(lsn < 0, NULL,
       concat(replaceRegexpOne(hex(toUInt32(intDiv(lsn, 4294967296))), '^0+(.)', '\\1'), '/',
              replaceRegexpOne(hex(toUInt32(lsn % 4294967296)), '^0+(.)', '\\1'))) AS as_of_lsn,
    -- What every tile of the live dashboard shows with its numbers: the commit time
    -- (NULL before the first heartbeat) and the same in words, with the LSN.
    if(heartbeats = 0, NULL, newest_source_heartbeat) AS as_of_time,
    if(heartbeats = 0, 'as of: no source commit has arrived yet',
       concat('as of source commit ',
              formatDateTime(newest_source_heartbeat, '%Y-%m-%d %H:%i:%S', 'UTC'), ' UTC',
              if(isNull(as_of_lsn), '', concat(', LSN ', as_of_lsn)))) AS as_of
FROM
(
    SELECT join_partition, count() AS n, max(source_ts_ms) AS newest,
           argMax(source_lsn, source_ts_ms) AS newest_lsn
    FROM {database}.heartbeats
    WHERE join_partition >= (SELECT if(countIf(join_partition >= 0) > 0, 0, -1)
                             FROM {database}.heartbeats)
    GROUP BY join_partition
);
