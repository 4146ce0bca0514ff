"""Which incarnation of a topic the sink reads: Kafka's topic id, in every token.

A topic deleted and created again under the same name starts its offsets at 0 again.
Insert tokens name offset ranges, so a batch of the new topic would carry the token of a
batch of the old one, and ClickHouse would drop it as already stored: silently, for as
long as the old token is within the deduplication window. With the id in the token the
two never meet. The sink also records every id it reads in `sink_topic_ids`; a topic
whose current id is not the one the sink stored records of is how `boxoffice status`
knows the old topic's unstored records are gone (`boxoffice.status.topics`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import KafkaException

from warehouse.errors import ClickHouseUnavailable, WarehouseError
from warehouse.sink.writer import ClickHouseWriter

log = logging.getLogger("boxoffice.sink")

IdLookup = Callable[[list[str]], dict[str, str]]
"""topic names -> their current Kafka topic ids (raises KafkaException when it cannot)."""

TABLE = "sink_topic_ids"
LOOKUP_TIMEOUT_SECONDS = 2.0
LOOKUP_RETRY_SECONDS = 30
"""After a failed lookup, how long the sink goes on with the ids it knows before asking
again: librdkafka sends DescribeTopics to the broker it takes for the controller, and
while that broker is down every lookup waits out its timeout (seen in CI with one of
three brokers killed: the sink stored nothing until the test gave up)."""
RECORD_RETRY_SECONDS = 30
"""While ClickHouse is away, how long the loop goes without trying to record an id (each
try can hold it for the writer's connect timeout)."""


def kafka_topic_ids(new_admin: Callable[[], Any],
                    timeout: float = LOOKUP_TIMEOUT_SECONDS) -> IdLookup:
    """The lookup through a confluent-kafka AdminClient, made anew after a failure (so
    it learns the cluster's controller again)."""
    from concurrent.futures import TimeoutError as FutureTimeout

    from confluent_kafka import KafkaError, KafkaException, TopicCollection

    admin = [new_admin()]

    def lookup(topics: list[str]) -> dict[str, str]:
        futures = admin[0].describe_topics(TopicCollection(topics), request_timeout=timeout)
        try:
            return {name: str(future.result(timeout).topic_id)
                    for name, future in futures.items()}
        except FutureTimeout as exc:  # the callers handle Kafka being away as such
            admin[0] = new_admin()
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT,
                                            "describing the topics timed out")) from exc
        except KafkaException:
            admin[0] = new_admin()
            raise

    return lookup


class TopicIds:
    """The id of each topic this sink reads, looked up whenever partitions start."""

    def __init__(self, lookup: IdLookup, writer: ClickHouseWriter,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup = lookup
        self._writer = writer
        self._clock = clock
        self.ids: dict[str, str] = {}
        self._unrecorded: dict[str, str] = {}
        self._record_again_at = 0.0
        self._lookup_again_at = 0.0

    def refresh(self, topics: Iterable[str]) -> dict[str, str]:
        """Look the topics' ids up again; a changed one is logged as the loss it means.

        When Kafka does not answer, the ids known already are returned (and Kafka is not
        asked again for LOOKUP_RETRY_SECONDS): the sink goes on storing, and a topic
        recreated meanwhile is seen at the next answer (status then turns red and its
        recovery, `replay cdc`, rebuilds every fact anyway). Only a topic never seen
        raises KafkaException: its partitions wait."""
        wanted = sorted(set(topics))
        known = {topic: self.ids[topic] for topic in wanted if topic in self.ids}
        if self._clock() < self._lookup_again_at and len(known) == len(wanted):
            return known
        try:
            current = self._lookup(wanted)
        except KafkaException as exc:
            self._lookup_again_at = self._clock() + LOOKUP_RETRY_SECONDS
            if len(known) < len(wanted):
                raise
            log.warning("looking up the topic ids failed (%s); going on with the known "
                        "ones, asking again in %d s", exc, LOOKUP_RETRY_SECONDS)
            return known
        for topic, topic_id in current.items():
            before = self.ids.get(topic)
            if before is not None and before != topic_id:
                log.error("%s was deleted and created again (Kafka topic id %s, before %s): "
                          "its records that were not stored yet are gone. `boxoffice "
                          "status` names the recovery", topic, topic_id, before)
            if before != topic_id:
                self._unrecorded[topic] = topic_id
            self.ids[topic] = topic_id
        self.record()
        return current

    def record(self) -> None:
        """Store the ids not stored yet (tried again at every refresh while ClickHouse
        is away: the tokens do not wait for it)."""
        if not self._unrecorded or self._clock() < self._record_again_at:
            return
        lines = [json.dumps({"topic": t, "topic_id": i}).encode()
                 for t, i in sorted(self._unrecorded.items())]
        try:
            self._writer.insert(TABLE, lines, "topic-ids:" + ",".join(
                f"{t}@{i}" for t, i in sorted(self._unrecorded.items())))
        except (ClickHouseUnavailable, WarehouseError) as exc:
            log.warning("recording the topic ids in %s failed (%s); trying again in %d s",
                        TABLE, exc, RECORD_RETRY_SECONDS)
            self._record_again_at = self._clock() + RECORD_RETRY_SECONDS
            return
        self._unrecorded.clear()
