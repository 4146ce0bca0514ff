-- Kafka's id of every topic incarnation the sink has read (warehouse/sink/incarnations.py).
-- A topic deleted and created again keeps its name and starts its offsets at 0 again;
-- a second id under one name is how `boxoffice status` knows the records of the old one
-- that were not stored yet are gone.
CREATE TABLE IF NOT EXISTS {database}.sink_topic_ids
(
    topic      String,
    topic_id   String,
    first_seen DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(first_seen)
ORDER BY (topic, topic_id);
