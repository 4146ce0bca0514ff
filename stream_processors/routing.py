"""Where each change goes so that every join is local to one partition.

The join topic is partitioned by purchase id (``purchase_id % partitions``):

* a purchase change goes to its purchase's partition;
* a ticket change goes to the partition of its purchase; when an update moves a ticket
  to a purchase in another partition, the old partition gets it as a delete and the new
  one as an insert (same LSN), so each partition's state stays self-contained;
* a performance change goes to every partition (performances are few: about 2,500 at
  scale 1.0), so each partition holds all of them and a performance update re-emits
  exactly the tickets that partition owns.

Pure functions; the Faust wiring sends the results with an explicit partition.
"""

from __future__ import annotations

from dataclasses import replace

from contracts.changes import Change


def partition_of(purchase_id: object, partitions: int) -> int:
    """The join partition of a purchase id (None or odd values go to partition 0)."""
    if isinstance(purchase_id, int) and not isinstance(purchase_id, bool):
        return purchase_id % partitions
    return 0


def route(change: Change, partitions: int) -> list[tuple[int, Change]]:
    """The (partition, change) pairs to send for one CDC change."""
    if change.table == "performances":
        return [(p, change) for p in range(partitions)]
    if change.table == "purchases":
        return [(partition_of(change.key, partitions), change)]
    return _route_ticket(change, partitions)


def _route_ticket(change: Change, partitions: int) -> list[tuple[int, Change]]:
    new = partition_of(change.after["purchase_id"], partitions) if change.after else None
    if change.before is not None and "purchase_id" in change.before:
        old_parts = {partition_of(change.before["purchase_id"], partitions)}
    elif change.op in ("u", "d"):
        old_parts = set(range(partitions))  # no full before image: withdraw everywhere
    else:
        old_parts = set()
    if new is None:
        return [(p, change) for p in sorted(old_parts)]
    out = [(new, change)]
    old_parts.discard(new)
    if old_parts:
        leaving = replace(change, op="d", after=None)
        out.extend((p, leaving) for p in sorted(old_parts))
    return out
