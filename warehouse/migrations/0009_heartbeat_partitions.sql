-- replaces checksum ab04e023ac32406a: its view (pipeline_freshness) lives in
-- warehouse/views.

-- Heartbeats travel the facts' own path: the processors route each source heartbeat to
-- every join partition and each partition writes it to the heartbeats topic in the same
-- Kafka transaction as its facts, naming itself in join_partition. Freshness is then the
-- newest heartbeat of the SLOWEST partition (warehouse/views/pipeline_freshness.sql).
-- Rows written before this migration (one per heartbeat, no partition) keep -1.

ALTER TABLE {database}.heartbeats
    ADD COLUMN IF NOT EXISTS join_partition Int32 DEFAULT -1;
