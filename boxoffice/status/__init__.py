"""`boxoffice status`: every part of the pipeline, each probed with a short timeout.

Sections: each supervised process, the connector and its slot, consumer lag per group,
the processors (pending joins), dead letters per stage, the sink's rows/s and freshness.
A section that cannot be asked says "down" or "unknown"; it never blocks the others.
"""

from boxoffice.status.collect import collect_status
from boxoffice.status.freshness import freshness_seconds
from boxoffice.status.model import Section, StatusReport

__all__ = ["Section", "StatusReport", "collect_status", "freshness_seconds"]
