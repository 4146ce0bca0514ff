"""Batch boundaries: size and time shape new batches; a recovered plan is followed."""

from __future__ import annotations

from confluent_kafka import KafkaError

from tests.support.fake_broker import Message
from warehouse.sink.batches import (
    PartitionBatcher,
    committed_incarnation,
    decode_plan,
    encode_plan,
)
from warehouse.sink.intake import partition_runs, take_run
from warehouse.sink.routes import Route


def batcher(plan: list[int] | None = None, max_records: int = 3) -> PartitionBatcher:
    return PartitionBatcher(topic="t", partition=0, max_records=max_records,
                            max_seconds=1.0, plan=plan)


def ranges(b: PartitionBatcher) -> list[tuple[int, int]]:
    return [(x.first_offset, x.last_offset) for x in b.take_sealed()]


def test_size_cuts() -> None:
    b = batcher()
    for offset in range(7):
        b.add(offset, 0.0, line=b"x")
    assert ranges(b) == [(0, 2), (3, 5)]
    b.seal_if_old(0.5)
    assert ranges(b) == []
    b.seal_if_old(1.0)
    assert ranges(b) == [(6, 6)]


def test_plan_overrides_size_and_time() -> None:
    b = batcher(plan=[4, 5])
    for offset in range(3):
        b.add(offset, 0.0, line=b"x")
    b.seal_if_old(100.0)
    assert ranges(b) == []
    b.add(3, 0.0, line=b"x")
    b.add(4, 0.0, line=b"x")
    b.add(5, 0.0, line=b"x")
    assert ranges(b) == [(0, 4), (5, 5)]


def test_plan_end_missing_cuts_at_next_offset() -> None:
    b = batcher(plan=[4])
    for offset in (0, 2, 6, 7):  # 4 was compacted away, 1 3 5 are transaction markers
        b.add(offset, 0.0, line=b"x")
    assert ranges(b) == [(0, 2)]
    b.seal_if_old(5.0)
    assert ranges(b) == [(6, 7)]


def test_plan_round_trip() -> None:
    assert decode_plan(encode_plan([10, 20, 30]), 15) == [20, 30]
    assert decode_plan("", 0) == [] and decode_plan(None, 0) == []
    assert decode_plan("someone else's metadata", 0) == []


def test_token_is_the_offset_range() -> None:
    b = batcher()
    for offset in range(3):
        b.add(offset, 0.0, line=b"x")
    (batch,) = b.take_sealed()
    assert batch.token == "t:0:0-2"


def test_recovered_plan_ends_are_kept_until_passed() -> None:
    b = PartitionBatcher(topic="t", partition=0, max_records=100, max_seconds=60,
                         plan=[9, 19, 29])
    for offset in range(0, 15):
        b.add(offset, 0.0, line=b"x")
    assert [x.last_offset for x in b.take_sealed()] == [9]
    assert b.planned_ends_from(10) == [19, 29]
    assert b.planned_ends_from(30) == []


def batches_of(b: PartitionBatcher) -> list[tuple[int, int, list[bytes], list[int]]]:
    b.seal_if_old(float("inf"))
    return [(x.first_offset, x.last_offset, x.lines, x.offsets) for x in b.take_sealed()]


def test_runs_cut_exactly_as_records_one_by_one() -> None:
    """add_lines (a whole fetched run) is add (the record-at-a-time reference) repeated:
    same batches, same tokens, whether free batching or a recovered plan cuts them."""
    import random

    rng = random.Random(5)
    for _ in range(200):
        offsets = sorted(rng.sample(range(400), rng.randint(1, 120)))
        plan = sorted(rng.sample(offsets, rng.randint(0, min(4, len(offsets)))))
        one, runs = batcher(plan, max_records=7), batcher(plan, max_records=7)
        for offset in offsets:
            one.add(offset, 0.0, line=str(offset).encode())
        start = 0
        while start < len(offsets):
            end = start + rng.randint(1, 30)
            run = offsets[start:end]
            runs.add_lines(run, [str(o).encode() for o in run], 0.0)
            start = end
        assert batches_of(runs) == batches_of(one)


def test_a_decoder_that_raises_anything_makes_a_dead_letter_not_a_crash() -> None:
    """Whatever a decoder raises, the record becomes a dead letter with the exception's
    name and the partition goes on: a sink restarted on it would meet it again forever."""
    def broken(_key: bytes | None, value: bytes | None) -> bytes:
        if value == b"bad":
            raise OverflowError("date value out of range")
        return value or b""

    batcher = PartitionBatcher(topic="t", partition=0, max_records=10, max_seconds=60)
    run = [Message("t", 0, n, b"k", value) for n, value in enumerate([b"a", b"bad", b"c"])]
    take_run(Route("t", "tbl", broken), batcher, run, now=0.0)
    batcher.seal_if_old(float("inf"))
    (batch,) = batcher.take_sealed()
    assert batch.lines == [b"a", b"c"] and batch.last_offset == 2
    (dead,) = batch.dead
    assert dead.offset == 1 and "OverflowError: date value out of range" in dead.reason


def test_a_commit_names_its_topic_incarnation_and_keeps_its_plan() -> None:
    metadata = encode_plan([7, 9], "5Gh+dduSRH6U/9Gr2+Sn/Q")
    assert decode_plan(metadata, 8) == [9]
    assert committed_incarnation(metadata) == "5Gh+dduSRH6U/9Gr2+Sn/Q"
    assert committed_incarnation(encode_plan([], "abc")) == "abc"
    assert decode_plan(encode_plan([], "abc"), 0) == []
    # commits made before topic ids were carried: a plan, no incarnation
    assert committed_incarnation(encode_plan([7])) == ""
    assert decode_plan(encode_plan([7]), 0) == [7]


def test_tokens_name_the_incarnation_when_known() -> None:
    b = PartitionBatcher(topic="t", partition=2, max_records=2, max_seconds=1.0,
                         incarnation="abc")
    b.add(4, 0.0, line=b"x")
    b.add(5, 0.0, line=b"y")
    (batch,) = b.take_sealed()
    assert batch.token == "t@abc:2:4-5"
    assert batch.token_of(5, 5) == "t@abc:2:5-5"
    assert batcher().incarnation == ""


def test_a_batch_holding_all_there_is_goes_out_after_the_short_wait() -> None:
    """At its partition's end a batch is sealed once `min_seconds` old; while records
    keep coming it waits for `max_seconds`, and a plan still overrides both."""
    b = PartitionBatcher(topic="t", partition=0, max_records=100, max_seconds=1.0,
                         min_seconds=0.1)
    b.add(0, 0.0, line=b"x")
    b.seal_if_old(0.5)
    assert ranges(b) == []  # more may be on the way: nobody said the partition ended
    b.at_end = True
    b.seal_if_old(0.05)
    assert ranges(b) == []  # at the end, but younger than the short wait
    b.seal_if_old(0.1)
    assert ranges(b) == [(0, 0)]
    b.add_lines([1, 2], [b"x", b"x"], 0.2)  # records after the end: filling again
    b.seal_if_old(0.4)
    assert ranges(b) == []
    b.seal_if_old(1.2)
    assert ranges(b) == [(1, 2)]
    planned = PartitionBatcher(topic="t", partition=0, max_records=100, max_seconds=1.0,
                               min_seconds=0.1, plan=[5])
    planned.add(3, 0.0, line=b"x")
    planned.at_end = True
    planned.seal_if_old(10.0)
    assert ranges(planned) == []


def test_without_a_short_wait_only_the_long_one_seals() -> None:
    b = batcher()
    b.add(0, 0.0, line=b"x")
    b.at_end = True
    b.seal_if_old(0.9)
    assert ranges(b) == []


class EndOfPartition:
    """What librdkafka delivers with enable.partition.eof once a partition is read out."""

    def __init__(self, topic: str, partition: int) -> None:
        self._topic, self._partition = topic, partition

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def error(self) -> KafkaError:
        return KafkaError(KafkaError._PARTITION_EOF)


def test_partition_ends_are_reported_in_their_place_between_runs() -> None:
    seen: list[object] = []
    messages = [Message("t", 0, 0, None, b"a"), Message("t", 0, 1, None, b"b"),
                EndOfPartition("t", 0), Message("t", 0, 2, None, b"c"),
                EndOfPartition("t", 1)]
    for run in partition_runs(messages, at_end=lambda t, p: seen.append((t, p))):
        seen.append([m.offset() for m in run])
    assert seen == [[0, 1], ("t", 0), [2], ("t", 1)]
