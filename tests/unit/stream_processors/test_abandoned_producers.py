"""A worker that lives through many broker restarts must not pile up abandoned producers.

Pure bookkeeping: a stand-in takes the place of the librdkafka producer (`start` builds
it and inits transactions; nothing is ever called on an abandoned one), and weak
references to the stand-ins show which producers the worker still holds on to.
"""

from __future__ import annotations

import gc
import weakref
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import Settings
from stream_processors import transactions
from stream_processors.transactions import PartitionProducers


class StandIn:
    """Enough of confluent_kafka.Producer for `start`; remembers every one made."""

    made: list[weakref.ref[StandIn]] = []

    def __init__(self, _config: dict[str, Any]) -> None:
        StandIn.made.append(weakref.ref(self))

    def init_transactions(self, _timeout: float) -> None:
        pass


@pytest.fixture
def producers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PartitionProducers:
    monkeypatch.setattr(transactions, "Producer", StandIn)
    monkeypatch.setattr(StandIn, "made", [])
    return PartitionProducers(settings=Settings(state_dir=tmp_path))


def held(made: list[weakref.ref[StandIn]]) -> list[bool]:
    """Which of the stand-ins something still references."""
    gc.collect()
    return [ref() is not None for ref in made]


def test_an_abandoned_producer_is_kept_while_its_call_is_blocked(
        producers: PartitionProducers) -> None:
    producers.start(0)
    blocked: futures.Future[None] = futures.Future()

    producers.abandon(0, blocked)

    assert producers.abandoned == 1
    assert held(StandIn.made) == [True]  # the blocked thread still uses it
    blocked.set_result(None)
    assert producers.abandoned == 0


def test_producers_whose_calls_returned_are_let_go_at_the_next_abandon(
        producers: PartitionProducers) -> None:
    for outage in range(50):
        producers.start(0)
        call: futures.Future[None] = futures.Future()
        producers.abandon(0, call)
        call.set_exception(TimeoutError(f"outage {outage} ended"))

    producers.start(0)
    producers.abandon(0, futures.Future())

    assert producers.abandoned == 1
    assert held(StandIn.made) == [False] * 50 + [True]
