"""The exactly-once sink: Kafka facts, heartbeats and dimension CDC into ClickHouse.

records: decode and validate one Kafka record into one table row (or a reason).
batches: cut each partition's records into reproducible offset-range batches.
writer: insert a batch with its deduplication token, retrying while ClickHouse is down.
runner: the consume / insert / commit loop.
"""
