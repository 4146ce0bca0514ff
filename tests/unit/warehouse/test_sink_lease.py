"""The sink's lease: how long after a successful commit and a poll it may still insert."""

from __future__ import annotations

import pytest

from warehouse.sink.lease import Lease, LeaseLost


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lease(clock: Clock) -> Lease:
    """Session 10 s, heartbeat 2 s, poll interval 20 s: 6 s after a commit, 15 after a poll."""
    return Lease.for_consumer({"session.timeout.ms": 10_000, "heartbeat.interval.ms": 2_000,
                               "max.poll.interval.ms": 20_000}, clock)


def test_nothing_is_inserted_before_a_commit_confirmed_the_partitions() -> None:
    with pytest.raises(LeaseLost):
        lease(Clock()).check("batch t:0:0-9")


def test_a_commit_holds_for_a_share_of_the_session_less_one_heartbeat() -> None:
    clock = Clock()
    held = lease(clock)
    held.confirmed(clock.now)
    clock.now += 5.9
    held.check("batch t:0:0-9")
    assert held.due_for_renewal()
    clock.now += 0.2
    with pytest.raises(LeaseLost, match="batch t:0:0-9 was not inserted"):
        held.check("batch t:0:0-9")


def test_a_renewal_extends_it_and_a_refused_renewal_ends_it() -> None:
    clock = Clock()
    held = lease(clock)
    held.confirmed(clock.now)
    clock.now += 4
    held.polled(clock.now)
    held.confirmed(clock.now)
    clock.now += 4
    held.check("batch")
    held.end()
    with pytest.raises(LeaseLost):
        held.check("batch")


def test_a_loop_that_stopped_polling_loses_it_whatever_it_commits() -> None:
    clock = Clock()
    held = lease(clock)
    held.polled(clock.now)
    for _ in range(4):  # commits every 4 s, no poll: the poll interval still runs out
        clock.now += 4
        held.confirmed(clock.now)
    with pytest.raises(LeaseLost):
        held.check("batch")


def test_librdkafka_defaults_fill_what_the_config_leaves_out() -> None:
    clock = Clock()
    held = Lease.for_consumer({}, clock)
    assert held.after_commit == pytest.approx((45 - 3) * 0.75)
    assert held.after_poll == pytest.approx(300 * 0.75)
