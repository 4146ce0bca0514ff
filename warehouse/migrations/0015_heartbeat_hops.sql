-- Where the time goes between a commit at the source and the warehouse: each heartbeat
-- now also carries its CDC record's Kafka timestamp (when Connect produced it), next to
-- its commit time (source_ts_ms), the time the join wrote the facts before it
-- (processed_ts_ms) and ClickHouse's insert time (ingested_at). `boxoffice status` shows
-- p50 and p99 of each hop over the last minute. -1: a heartbeat written before this
-- column, or a record Kafka gave no timestamp.
ALTER TABLE {database}.heartbeats ADD COLUMN IF NOT EXISTS cdc_ts_ms Int64 DEFAULT -1;
