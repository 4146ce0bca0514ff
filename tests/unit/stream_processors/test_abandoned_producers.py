"""A worker that lives through many broker restarts must not pile up abandoned producers.

Pure bookkeeping: a stand-in takes the place of the librdkafka producer, because nothing
is ever called on an abandoned producer.
"""

from __future__ import annotations

from concurrent import futures
from pathlib import Path

from contracts.settings import Settings
from stream_processors.transactions import PartitionProducers


def _producers(tmp_path: Path) -> PartitionProducers:
    return PartitionProducers(settings=Settings(state_dir=tmp_path))


def test_an_abandoned_producer_is_kept_while_its_call_is_blocked(tmp_path: Path) -> None:
    producers = _producers(tmp_path)
    producers._producers[0] = object()  # type: ignore[assignment]  # stand-in, never called
    blocked: futures.Future[None] = futures.Future()

    producers.abandon(0, blocked)

    assert producers.abandoned == 1
    blocked.set_result(None)
    assert producers.abandoned == 0


def test_producers_whose_calls_returned_are_let_go_at_the_next_abandon(
        tmp_path: Path) -> None:
    producers = _producers(tmp_path)
    calls: list[futures.Future[None]] = []
    for outage in range(50):
        producers._producers[0] = object()  # type: ignore[assignment]
        calls.append(futures.Future())
        producers.abandon(0, calls[-1])
        calls[-1].set_exception(TimeoutError(f"outage {outage} ended"))

    producers._producers[0] = object()  # type: ignore[assignment]
    producers.abandon(0, futures.Future())

    assert len(producers._abandoned) == 1
    assert producers.abandoned == 1
