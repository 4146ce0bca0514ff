-- Heartbeats carry the WAL position of their source commit. The live dashboard says which
-- source commit its numbers include ("as of": time and LSN of the newest heartbeat of the
-- slowest join partition, warehouse/views/pipeline_freshness.sql). Rows stored before
-- keep -1 (no LSN known).
ALTER TABLE {database}.heartbeats ADD COLUMN IF NOT EXISTS source_lsn Int64 DEFAULT -1;
