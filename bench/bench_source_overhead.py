"""Source overhead: `sell` at full speed with the connector streaming / without it.

Target >= 0.97. Alternates rounds without and with the connector so drift on the shared
machine hits both sides, and judges the per-round ratios (with / without of the same
round): the verdict is "inconclusive" when their spread (interquartile range) is larger
than the effect (|1 - median ratio|), since then the rounds do not tell overhead from
noise. Needs PostgreSQL, Kafka and Connect up.
`python bench/bench_source_overhead.py [--seconds 20] [--rounds 10]`
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import report, scratch_source
from connectors import manage
from connectors.connect_api import ConnectClient
from connectors.seed import seed
from connectors.slot import drop_slot, slot_state
from connectors.traffic import sell
from contracts.settings import Settings, load_settings
from tests.support.waiting import wait_until


def _remove_connector(settings: Settings) -> None:
    """Delete the connector and drop its slot once released. Called from a `finally`:
    a slot still held after a minute is left rather than raised about, which would hide
    the round's own error (each round has its own slot name)."""
    ConnectClient(settings=settings).delete(settings.connector_name)
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not slot_state(settings).exists or drop_slot(settings),
                   deadline_seconds=60, what=f"slot {settings.slot_name} dropped")


def _wait_streaming(settings: Settings) -> None:
    """The slot turns active once the initial snapshot is done and streaming starts.
    Past the deadline the round is measured anyway: a snapshot still running only makes
    the side with the connector slower, so the ratio errs low, never high."""
    with contextlib.suppress(AssertionError):
        wait_until(lambda: slot_state(settings).active, deadline_seconds=300,
                   what=f"slot {settings.slot_name} streaming")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.01)
    args = parser.parse_args()
    without: list[float] = []
    with_cdc: list[float] = []
    with scratch_source(load_settings(), "bench_overhead") as settings:
        seed(settings, scale=args.scale)
        for round_no in range(args.rounds):
            without.append(sell(settings, rate=0, duration=args.seconds,
                                seed=round_no).rate)
            # a new connector (name, slot, topics) per round: a re-created connector
            # would find the old one's offsets and refuse the dropped slot
            cdc = settings.model_copy(update={
                name: f"{getattr(settings, name)}{round_no}"
                for name in ("connector_name", "slot_name", "topic_prefix")})
            try:
                manage.apply(cdc, deadline_seconds=120)
                _wait_streaming(cdc)
                with_cdc.append(sell(cdc, rate=0, duration=args.seconds,
                                     seed=100 + round_no).rate)
            finally:
                _remove_connector(cdc)
    report("source_overhead", [{
        "seconds_per_run": args.seconds, "rounds": args.rounds,
        "load_1m_after": round(os.getloadavg()[0], 2),
        "tx_per_s_without": statistics.median(without),
        "tx_per_s_with_connector": statistics.median(with_cdc),
        **judge([w / o for w, o in zip(with_cdc, without, strict=True)], target=TARGET),
        "per_round_without": [round(r, 1) for r in without],
        "per_round_with_connector": [round(r, 1) for r in with_cdc],
    }])


TARGET = 0.97


def judge(ratios: list[float], *, target: float) -> dict[str, object]:
    """Median of the per-round ratios, their spread, and a verdict that refuses to call
    a difference smaller than the spread either way."""
    median = statistics.median(ratios)
    low, _, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (median,) * 3
    spread = high - low
    verdict = ("inconclusive" if spread > abs(1 - median)
               else "met" if median >= target else "not met")
    return {"ratio_median": round(median, 3), "ratio_min": round(min(ratios), 3),
            "ratio_max": round(max(ratios), 3), "ratio_iqr": round(spread, 3),
            "target": target, "verdict": verdict}


if __name__ == "__main__":
    main()
