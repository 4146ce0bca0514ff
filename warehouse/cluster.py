"""Turn the single-server DDL into DDL for a ClickHouse cluster.

The migrations are written once, for one server. On a cluster every CREATE and ALTER gets
``ON CLUSTER`` (so one statement reaches every node) and every *MergeTree engine becomes
its Replicated twin, keyed in Keeper by shard and table; block deduplication then works
through the replicated log, so ``non_replicated_deduplication_window`` becomes
``replicated_deduplication_window``. Views and materialized views read the local
replicated tables: with one shard and several replicas every node answers completely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_KEEPER_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
"""ClickHouse expands these macros itself: {shard} and {replica} come from each node's
<macros>, {database} and {table} from the statement."""


@dataclass(frozen=True)
class ClusterOptions:
    name: str
    keeper_path: str = DEFAULT_KEEPER_PATH
    replica: str = "{replica}"


_CREATE = re.compile(
    r"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?(?:TABLE|VIEW|DATABASE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?)([\w.`]+)",
    re.IGNORECASE,
)
_ALTER = re.compile(r"^(\s*ALTER\s+TABLE\s+)([\w.`]+)", re.IGNORECASE)
_ENGINE = re.compile(
    r"\bENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|)"
    r"MergeTree\b(\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\))?",
    re.IGNORECASE,
)


def _replicated_engine(match: re.Match[str], options: ClusterOptions) -> str:
    kind, args = match.group(1), (match.group(3) or "").strip()
    keeper = [f"'{options.keeper_path}'", f"'{options.replica}'"]
    return f"ENGINE = Replicated{kind}MergeTree({', '.join([*keeper, *([args] if args else [])])})"


def to_cluster(statement: str, options: ClusterOptions) -> str:
    """The cluster form of one statement; statements that create or alter nothing pass
    unchanged. ALTER TABLE (projections, table settings) also runs ON CLUSTER."""
    if re.search(r"\bON\s+CLUSTER\b", statement, re.IGNORECASE):
        return statement
    if _ALTER.match(statement):
        return _ALTER.sub(lambda m: f"{m.group(1)}{m.group(2)} ON CLUSTER '{options.name}'",
                          statement, count=1)
    if not _CREATE.match(statement):
        return statement
    text = _CREATE.sub(lambda m: f"{m.group(1)}{m.group(2)} ON CLUSTER '{options.name}'",
                       statement, count=1)
    text = _ENGINE.sub(lambda m: _replicated_engine(m, options), text)
    return re.sub(r"\bnon_replicated_deduplication_window\b",
                  "replicated_deduplication_window", text)
