"""How many recent insert tokens each sink table remembers: one setting for all of them.

The sink's exactly-once rests on ClickHouse dropping a block whose token it has seen, and
a non-replicated MergeTree remembers only its last `non_replicated_deduplication_window`
blocks. The migrations create every table the sink writes with 1,000; this makes the
number a setting (`BOXOFFICE_CLICKHOUSE_DEDUP_WINDOW_BLOCKS`), applied on every migrate,
so a test can make it tiny and show that the sink's correctness does not hang on it
(`warehouse.sink.lease`), and an operator can make it larger.
"""

from __future__ import annotations

import re

from warehouse.executor import Executor

SETTING = "non_replicated_deduplication_window"
_VALUE = re.compile(rf"\b{SETTING}\s*=\s*(\d+)")


def apply_dedup_window(executor: Executor, database: str, blocks: int) -> list[str]:
    """Set the window on every table of `database` that has one; returns those changed."""
    rows = executor.rows(
        "SELECT name, engine_full FROM system.tables WHERE database = "
        f"'{database}' AND engine LIKE '%MergeTree' AND engine NOT LIKE 'Replicated%'")
    changed: list[str] = []
    for name, engine_full in rows:
        match = _VALUE.search(str(engine_full))
        if match is None or int(match.group(1)) == blocks:
            continue
        executor.command(f"ALTER TABLE {database}.`{name}` MODIFY SETTING {SETTING} = {blocks}")
        changed.append(str(name))
    return changed
