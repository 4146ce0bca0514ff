-- Dimensions from the Debezium CDC topics, one row per change.
-- ReplacingMergeTree(version, is_deleted): `version` is the source LSN, so the newest
-- change wins whatever order merges happen in; a delete is a row with is_deleted = 1 that
-- FINAL hides. Re-inserting a change (a retried batch) is harmless: same key, same version.

CREATE TABLE IF NOT EXISTS {database}.dim_bands
(
    id           Int64,
    name         String,
    fee          Int64,
    version      UInt64,
    is_deleted   UInt8,
    source_ts_ms Int64,
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.dim_venues
(
    id           Int64,
    name         String,
    capacity     Int64,
    version      UInt64,
    is_deleted   UInt8,
    source_ts_ms Int64,
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {database}.dim_performances
(
    id                Int64,
    performance_start DateTime64(6, 'UTC'),
    band_id           Int64,
    venue_id          Int64,
    version           UInt64,
    is_deleted        UInt8,
    source_ts_ms      Int64,
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id
SETTINGS non_replicated_deduplication_window = 1000;

-- People: the id only. The name never reaches ClickHouse, hashed or not; facts carry
-- the salted person_key for distinct-buyer counts.
CREATE TABLE IF NOT EXISTS {database}.dim_people
(
    id           Int64,
    version      UInt64,
    is_deleted   UInt8,
    source_ts_ms Int64,
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY id
SETTINGS non_replicated_deduplication_window = 1000;
