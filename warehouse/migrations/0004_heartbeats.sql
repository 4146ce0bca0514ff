-- Heartbeats written at the source travel the whole path; freshness is
-- now - the newest source heartbeat visible here. A week is plenty of history.

CREATE TABLE IF NOT EXISTS {database}.heartbeats
(
    source_ts_ms    Int64,
    heartbeat_ts    DateTime64(6, 'UTC'),
    processed_ts_ms Int64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY source_ts_ms
TTL toDateTime(ingested_at) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 1000;
