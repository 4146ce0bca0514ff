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


def _beat(source_ts_ms: int, partition: int | None, *, lsn: int | None = None) -> bytes:
    record = {"source_ts_ms": source_ts_ms, "heartbeat_ts": "2024-01-01T00:00:00.000000Z",
              "processed_ts_ms": source_ts_ms + 5}
    if partition is not None:
        record["join_partition"] = partition
    if lsn is not None:
        record["source_lsn"] = lsn
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


def test_as_of_names_the_slowest_partitions_newest_commit_and_its_lsn(
        executor: ChdbExecutor) -> None:
    """The live dashboard's "as of": the commit time and WAL position (PostgreSQL's X/Y
    text) of the heartbeat freshness is measured from; unknown (NULL) for heartbeats
    stored before they carried an LSN."""
    db = migrated_database(executor, "asof")
    assert executor.rows(f"SELECT as_of FROM {db}.pipeline_freshness") == [
        ("as of: no source commit has arrived yet",)]
    insert_lines(executor, db, "heartbeats", [_beat(5_000, 0)])
    assert executor.rows(f"SELECT as_of_lsn, as_of FROM {db}.pipeline_freshness") == [
        (None, "as of source commit 1970-01-01 00:00:05 UTC")]
    insert_lines(executor, db, "heartbeats", [
        _beat(9_000, 0, lsn=(0x1A << 32) + 0x2B3C4D5E),
        _beat(7_000, 1, lsn=0x0000_0F00), _beat(6_500, 1, lsn=0x0000_0E00),
        _beat(8_000, 2, lsn=(1 << 32) + 0x10)])
    ((newest, lsn),) = executor.rows(
        f"SELECT toUnixTimestamp64Milli(newest_source_heartbeat), as_of_lsn "
        f"FROM {db}.pipeline_freshness")
    assert (int(newest), lsn) == (7_000, "0/F00")  # partition 1 is behind
    assert executor.rows(f"SELECT as_of FROM {db}.pipeline_freshness") == [
        ("as of source commit 1970-01-01 00:00:07 UTC, LSN 0/F00",)]
    insert_lines(executor, db, "heartbeats", [_beat(9_500, 1, lsn=(0x1A << 32) + 0x2B3C4D6F)])
    assert executor.rows(f"SELECT as_of_lsn FROM {db}.pipeline_freshness") == [("1/10",)]
