"""Per-partition heartbeats: freshness follows the slowest join partition (chdb, no
server). The processors write one heartbeat per join partition; the status query and
the Superset view take the newest heartbeat of the partition that is furthest behind."""

from __future__ import annotations

import json

import pytest

from boxoffice.status.freshness import NEWEST_OF_SLOWEST_PARTITION
from tests.unit.warehouse.warehouse_chdb import insert_lines, migrated_database
from warehouse.executor import ChdbExecutor
from warehouse.sink.records import decode_heartbeat


@pytest.fixture(scope="module")
def executor() -> ChdbExecutor:
    return ChdbExecutor()


def _beat(source_ts_ms: int, partition: int | None) -> bytes:
    record = {"source_ts_ms": source_ts_ms, "heartbeat_ts": "2024-01-01T00:00:00.000000Z",
              "processed_ts_ms": source_ts_ms + 5}
    if partition is not None:
        record["join_partition"] = partition
    return decode_heartbeat(None, json.dumps(record).encode())


def _newest(executor: ChdbExecutor, db: str) -> tuple[int, int]:
    count, newest = executor.rows(NEWEST_OF_SLOWEST_PARTITION.format(db=db))[0]
    return int(count), int(newest or 0)


def test_the_slowest_partition_decides_and_old_rows_stop_counting(
        executor: ChdbExecutor) -> None:
    db = migrated_database(executor, "hb")
    insert_lines(executor, db, "heartbeats", [_beat(1_000, None), _beat(2_000, None)])
    assert _newest(executor, db) == (1, 2_000)  # before per-partition heartbeats
    insert_lines(executor, db, "heartbeats", [_beat(5_000, 0), _beat(9_000, 0),
                                              _beat(7_000, 1), _beat(8_000, 2)])
    assert _newest(executor, db) == (3, 7_000)  # partition 1 is behind
    view = executor.rows(f"SELECT heartbeats, toUnixTimestamp64Milli("
                         f"newest_source_heartbeat) FROM {db}.pipeline_freshness")
    assert [tuple(int(v) for v in row) for row in view] == [(4, 7_000)]
