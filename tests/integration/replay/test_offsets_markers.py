"""A topic written in Kafka transactions ends on a commit marker: a group that read every
record commits the offset after the last one, which stays one below the end offset until
the next record comes. `replay cdc` waited for committed >= end and, on a table with no
change after its start, waited out its whole deadline (a CI run). `nothing_readable`
tells a gap of markers and aborted records from one that still holds a record."""

from __future__ import annotations

from collections.abc import Callable

from confluent_kafka import Producer

from contracts.settings import Settings
from tests.integration.stack.kafka_clients import create_topic
from tests.support.waiting import wait_until
from warehouse.replay.offsets import end_offsets, nothing_readable


def transaction(producer: Producer, topic: str, values: list[bytes], *, commit: bool
                ) -> None:
    producer.begin_transaction()
    for value in values:
        producer.produce(topic, value, partition=0)
    producer.flush(30)  # written before the abort: an abort drops what is still queued
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


def test_a_gap_of_markers_and_aborted_records_holds_nothing_readable(
        kafka: Settings, unique_name: Callable[[str], str]) -> None:
    topic = unique_name("markers")
    create_topic(kafka, topic, partitions=1)
    producer = Producer({"bootstrap.servers": kafka.kafka_bootstrap,
                         "transactional.id": unique_name("markers-tx")})
    producer.init_transactions(30)
    transaction(producer, topic, [b"a", b"b", b"c"], commit=True)   # offsets 0-2, marker 3
    transaction(producer, topic, [b"x", b"y"], commit=False)        # 4-5 aborted, marker 6
    # the coordinator writes the markers after the commit returns: the end moves then
    end = wait_until(lambda: end_offsets(kafka, topic)[0] == 7 and 7, deadline_seconds=30,
                     what="the abort marker to be written")

    after_last_record = 3  # what a consumer that read "c" commits
    assert nothing_readable(kafka, topic, 0, after_last_record, end)
    # the negative control: the gap from "c" on still holds a record
    assert not nothing_readable(kafka, topic, 0, after_last_record - 1, end)

    transaction(producer, topic, [b"d"], commit=True)  # offset 7: past the old end
    wait_until(lambda: end_offsets(kafka, topic)[0] == 9, deadline_seconds=30,
               what="the commit marker to be written")
    assert nothing_readable(kafka, topic, 0, after_last_record, end)
    assert not nothing_readable(kafka, topic, 0, after_last_record, end + 1)
