"""Parsing Debezium records, the join-topic format, dead letters and heartbeats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.changes import Change, ChangeRecordError
from stream_processors.changes import TOMBSTONE_LSN, parse_change
from stream_processors.deadletters import dead_letter
from stream_processors.heartbeats import Beat, heartbeat_record, parse_heartbeat
from stream_processors.join import JoinState
from stream_processors.routing import route
from stream_processors.wire import decode, decode_values, delta_json, encode, encode_beat, fact_json
from tests.support.cdc_model import SALT, SourceModel, performance, purchase, ticket

ENVELOPE: dict[str, Any] = {"before": None, "op": "c", "source": {"lsn": 77, "ts_ms": 5, "txId": 3},
            "ts_ms": 6,
            "after": {"id": 4, "price": 25, "performance_id": 2, "purchase_id": 9,
                      "ticketnum": "X"}}


def test_a_debezium_insert_parses_into_a_change() -> None:
    change = parse_change("tickets", b'{"id": 4}', json.dumps(ENVELOPE).encode())
    assert change is not None
    assert (change.key, change.op, change.lsn, change.ts_ms) == (4, "c", 77, 5)


def test_a_tombstone_parses_into_a_delete_of_its_key() -> None:
    """Compaction may leave a reader the tombstone without the delete before it."""
    change = parse_change("tickets", b'{"id": 4}', None, 1234)
    assert (change.key, change.op, change.after, change.lsn, change.ts_ms) == \
        (4, "d", None, TOMBSTONE_LSN, 1234)
    with pytest.raises(ChangeRecordError, match="tombstone"):
        parse_change("tickets", None, None)


@pytest.mark.parametrize("value, reason", [
    (b"not json", "not JSON"),
    (b"[1]", "JSON object"),
    (json.dumps({**ENVELOPE, "op": "x"}).encode(), "op must be"),
    (json.dumps({**ENVELOPE, "source": {"lsn": "a", "ts_ms": 1}}).encode(), "integers"),
    (json.dumps({**ENVELOPE, "after": {"id": 4}}).encode(), "lacks"),
    (json.dumps({**ENVELOPE, "after": {**ENVELOPE["after"], "price": "9.505"}}).encode(),
     "price must be an amount in whole cents"),
])
def test_malformed_records_raise_with_a_reason(value: bytes, reason: str) -> None:
    with pytest.raises(ChangeRecordError, match=reason):
        parse_change("tickets", b'{"id": 4}', value)


def test_the_join_topic_format_round_trips() -> None:
    change = parse_change("tickets", b'{"id": 4}', json.dumps(ENVELOPE).encode())
    assert change is not None
    back = decode(encode(change))
    assert isinstance(back, Change)
    assert (back.table, back.key, back.op, back.lsn, back.ts_ms) == ("tickets", 4, "c", 77, 5)
    assert back.after == {k: ENVELOPE["after"][k]  # type: ignore[index]
                          for k in ("id", "price", "performance_id", "purchase_id")}


def test_fact_json_is_byte_identical_to_the_contract() -> None:
    src, state = SourceModel(), JoinState(salt=SALT)
    state.apply(src.upsert("performances", performance(1, 7, 3)))
    state.apply(src.upsert("purchases", purchase(10, 99)))
    [fact] = state.apply(src.upsert("tickets", ticket(1, 25, 1, 10)))
    assert fact_json(fact) == fact.to_json()


def test_a_ticket_moving_between_partitions_leaves_one_and_enters_the_other() -> None:
    src = SourceModel()
    src.upsert("tickets", ticket(1, 25, 1, purchase_id=3))
    moved = src.upsert("tickets", ticket(1, 25, 1, purchase_id=4))
    routed = route(moved, partitions=3)
    assert [(p, c.op) for p, c in routed] == [(1, "u"), (0, "d")]
    assert [p for p, _ in route(src.upsert("performances", performance(1, 2, 3)), 3)] == \
        [0, 1, 2]


def test_dead_letters_carry_origin_and_truncate_the_value() -> None:
    record = json.loads(dead_letter(reason="bad", topic="t", partition=2, offset=9,
                                    key=b"k", value=b"v" * 10_000))
    assert (record["stage"], record["topic"], record["partition"], record["offset"]) == \
        ("processors", "t", 2, 9)
    assert len(record["value"]) == 4096


def test_heartbeats_travel_the_join_topic_and_are_stamped_per_partition() -> None:
    value = json.dumps({"op": "u", "after": {"id": 1, "ts": "2022-10-07T19:00:00.000000Z"},
                        "source": {"ts_ms": 123, "lsn": 88}}).encode()
    beat = parse_heartbeat(b'{"id": 1}', value, cdc_ts_ms=300)
    assert beat == Beat(source_ts_ms=123, heartbeat_ts="2022-10-07T19:00:00.000000Z", lsn=88,
                        cdc_ts_ms=300)
    assert decode(encode_beat(beat)) == beat
    assert decode_values(encode_beat(beat)) == beat
    assert json.loads(heartbeat_record(beat, join_partition=2, now_ms=456)) == {
        "source_ts_ms": 123, "source_lsn": 88, "heartbeat_ts": "2022-10-07T19:00:00.000000Z",
        "processed_ts_ms": 456, "join_partition": 2, "cdc_ts_ms": 300}
    # a beat on the join topic from before the Kafka time travelled: unknown (-1)
    older = json.dumps(["heartbeat", 0, "u", [beat.heartbeat_ts], 88, 123]).encode()
    assert decode(older) == Beat(source_ts_ms=123, heartbeat_ts=beat.heartbeat_ts, lsn=88)
    deleted = {"op": "d", "before": None, "after": None, "source": {"ts_ms": 1, "lsn": 89}}
    assert parse_heartbeat(b'{"id": 1}', json.dumps(deleted).encode()) is None
    assert parse_heartbeat(b'{"id": 1}', None) is None  # tombstone
    with pytest.raises(ChangeRecordError):
        parse_heartbeat(None, b"{}")
    with pytest.raises(ChangeRecordError, match="no ts"):
        parse_heartbeat(b'{"id": 1}', json.dumps({**deleted, "op": "u", "after": {"id": 1}})
                        .encode())


def test_the_join_stage_fast_path_matches_the_contract() -> None:
    src, state = SourceModel(), JoinState(salt=SALT)
    state.apply(src.upsert("performances", performance(1, 7, 3)))
    state.apply(src.upsert("purchases", purchase(10, 99)))
    change = src.upsert("tickets", ticket(1, 25, 1, 10))
    item = decode_values(encode(change))
    assert item == ("tickets", 1, [1, 25, 1, 10], change.lsn, change.ts_ms)
    twin = JoinState(salt=SALT)
    twin.apply(src.changes[0])
    twin.apply(src.changes[1])
    [delta] = twin.apply_values(*item)  # type: ignore[misc]
    [fact] = state.apply(change)
    assert delta_json(delta) == fact.to_json()


@pytest.mark.parametrize("raw", [
    b"nope", b'["tickets", 1, "c", [1, 25, 1], 5, 6]', b'["bands", 1, "c", null, 5, 6]',
    b'["tickets", "1", "c", null, 5, 6]', b'["performances", 1, "c", [1, "x", 2, 3], 5, 6]',
    b'["purchases", 1, "c", [1, "2022-01-01", "7"], 5, 6]',
])
def test_a_bad_join_topic_record_is_refused_before_it_touches_state(raw: bytes) -> None:
    with pytest.raises(ChangeRecordError):
        decode_values(raw)
