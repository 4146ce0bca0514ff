"""How long the sink may still insert the batches it planned without asking Kafka again.

ClickHouse drops a re-sent batch only while its token is among the table's last
`non_replicated_deduplication_window` blocks: a count, not a time. A sink frozen between
its plan commit and its insert (SIGSTOP, a long GC, a VM paused) loses its partitions to
a successor, which inserts the planned batches and goes on writing. If the frozen sink
then sent its copy after more than a window of other blocks, the batch would be stored
twice, however long ago it was planned.

So a sink inserts only while Kafka would still refuse anybody else the partition. A
synchronous commit that succeeds proves the group's generation is still ours, and the
coordinator hands our partitions to a successor no sooner than a session timeout after
our last heartbeat (at most a heartbeat interval before that commit), or a poll interval
after our last poll. The lease runs from the commit's start for a fraction of the shorter
of the two; the runner renews it by committing the plan again while a flush is long, and
an insert that would start after it ran out is not sent: the flush is abandoned and the
partitions are read again from their committed offsets and plan.

What is left is the instant between the last check and the request reaching ClickHouse:
a freeze exactly there, outlasting both the session timeout and the window, could still
double a batch. `docs/warehouse.md` ("Pauses of any length") states it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LIBRDKAFKA_DEFAULTS_MS = {"session.timeout.ms": 45_000, "heartbeat.interval.ms": 3_000,
                          "max.poll.interval.ms": 300_000}
USED_FRACTION = 0.75
"""Of the time Kafka guarantees, the share the sink uses: the rest covers clock skew
between the sink and the coordinator and a slow request."""


class LeaseLost(Exception):
    """The sink can no longer be sure the partitions are its own; nothing is inserted."""


class Lease:
    def __init__(self, *, session_timeout_s: float, heartbeat_interval_s: float,
                 max_poll_interval_s: float, clock: Callable[[], float]) -> None:
        self.after_commit = (session_timeout_s - heartbeat_interval_s) * USED_FRACTION
        self.after_poll = max_poll_interval_s * USED_FRACTION
        self.clock = clock
        self._committed_at: float | None = None
        self._polled_at = clock()

    @classmethod
    def for_consumer(cls, config: Mapping[str, Any], clock: Callable[[], float]) -> Lease:
        """The lease a consumer with this librdkafka configuration can hold."""
        def seconds(name: str) -> float:
            return float(config.get(name, LIBRDKAFKA_DEFAULTS_MS[name])) / 1000

        return cls(session_timeout_s=seconds("session.timeout.ms"),
                   heartbeat_interval_s=seconds("heartbeat.interval.ms"),
                   max_poll_interval_s=seconds("max.poll.interval.ms"), clock=clock)

    def polled(self, at: float) -> None:
        """A consume() call started at `at`: librdkafka's poll timer restarts there."""
        self._polled_at = at

    def confirmed(self, commit_started_at: float) -> None:
        """A synchronous commit that started at this instant succeeded."""
        self._committed_at = commit_started_at

    def end(self) -> None:
        """Kafka refused a renewal: nothing more is inserted until the next plan commit."""
        self._committed_at = None

    def remaining(self) -> float:
        """Seconds left; zero or less once nothing may be inserted before a renewal."""
        if self._committed_at is None:
            return 0.0
        ends = min(self._committed_at + self.after_commit, self._polled_at + self.after_poll)
        return ends - self.clock()

    def due_for_renewal(self) -> bool:
        return self.remaining() < self.after_commit / 2

    def check(self, what: str) -> None:
        """Raise LeaseLost unless `what` may still be inserted."""
        left = self.remaining()
        if left <= 0:
            raise LeaseLost(
                f"{what} was not inserted: {-left:.1f}s past the time Kafka guarantees "
                "nobody else holds its partition (the sink was frozen or starved)")
