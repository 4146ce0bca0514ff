"""Fetched records into their partitions' batches, validated on the way.

A consume() call returns records in runs of one partition; a run is the unit here:
the route, the batcher and, where the route has one, the whole-run check are looked up
and asked once per run rather than once per record, which is most of the sink's speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import KafkaError

from contracts.columns import SourceSchemaChanged
from warehouse.sink.batches import DeadRecord, PartitionBatcher
from warehouse.sink.fetching import report_kafka_error
from warehouse.sink.records import RecordError
from warehouse.sink.routes import Route


def partition_runs(messages: list[Any], *,
                   at_end: Callable[[str, int], None] | None = None) -> Iterator[list[Any]]:
    """The messages cut into runs of consecutive records of one partition; a message
    carrying an error is reported (fatal ones raise) and belongs to no run. The end of a
    partition (librdkafka's partition EOF) is passed to `at_end` in its place in the
    order, so a record fetched after it counts as new again."""
    start, count = 0, len(messages)
    while start < count:
        first = messages[start]
        if first.error() is not None:
            if first.error().code() == KafkaError._PARTITION_EOF and at_end is not None:
                at_end(first.topic(), first.partition())
            else:
                report_kafka_error(first.error())
            start += 1
            continue
        topic, partition = first.topic(), first.partition()
        end = start + 1
        while end < count:
            message = messages[end]
            if (message.partition() != partition or message.topic() != topic
                    or message.error() is not None):
                break
            end += 1
        yield messages[start:end]
        start = end


def take_run(route: Route, batcher: PartitionBatcher, run: list[Any], now: float) -> None:
    """Add one run to its partition's batcher: stored as is when the route's whole-run
    check allows, else decoded record by record, refused ones kept as dead records (their
    offsets still advance the batch, so the commit moves past them). A change its source
    table's new schema broke stops the batcher at its offset (`PartitionBatcher.stop`):
    the rest of the run is left unread."""
    values = [message.value() for message in run]
    if route.stored_as_is is not None and route.stored_as_is(values):
        batcher.add_lines([message.offset() for message in run], values, now)
        return
    decode = route.decode
    for message, value in zip(run, values, strict=True):
        key = message.key()
        try:
            line = decode(key, value)
        except RecordError as exc:
            offset = message.offset()
            batcher.add(offset, now, dead=DeadRecord(offset, str(exc), key, value))
            continue
        except SourceSchemaChanged as exc:
            batcher.stop(message.offset(), exc)
            return
        except Exception as exc:
            # a decoder's bug must not stop the sink on the same record at every
            # restart: the record goes to the dead letters
            offset = message.offset()
            reason = f"cannot be decoded ({type(exc).__name__}: {exc})"
            batcher.add(offset, now, dead=DeadRecord(offset, reason, key, value))
            continue
        if line is None:
            batcher.add(message.offset(), now)
        else:
            batcher.add_line(message.offset(), now, line)
