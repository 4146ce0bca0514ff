"""Live ticket sales on a background thread, for the length of one chaos scenario.

`connectors.traffic.sell` runs on one connection and stops at the first error; a
scenario that restarts PostgreSQL needs the load to outlive the restart, so this driver
reconnects (with short pacing) until its own deadline. Whatever committed is the ground
truth `verify` compares against, so a transaction cut by a crash needs no bookkeeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psycopg2

from connectors.traffic import sell
from contracts.settings import Settings

RECONNECT_PACING_SECONDS = 0.5


@dataclass
class Load:
    settings: Settings
    rate: float
    duration: float
    seed: int = 0
    transactions: int = 0
    errors: list[str] = field(default_factory=list)
    _started: float | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="chaos-load", daemon=True)
        self._thread.start()
        return self

    @property
    def deadline(self) -> float:
        assert self._started is not None, "start() the load first"
        return self._started + self.duration

    def _run(self) -> None:
        attempt = 0
        while (remaining := self.deadline - time.monotonic()) > 0.5:
            attempt += 1
            try:
                result = sell(self.settings, rate=self.rate, duration=remaining,
                              seed=self.seed * 1000 + attempt)
                self.transactions += result.transactions
            except psycopg2.Error as exc:  # the source restarting: reconnect and go on
                self.errors.append(" ".join(str(exc).split())[:200])
                time.sleep(RECONNECT_PACING_SECONDS)

    def wait_fraction(self, fraction: float) -> None:
        """Block until `fraction` of the run has elapsed."""
        assert self._started is not None, "start() the load first"
        pause = self._started + fraction * self.duration - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def join(self) -> None:
        assert self._thread is not None, "start() the load first"
        self._thread.join(self.duration + 120)
        assert not self._thread.is_alive(), "the load thread did not stop after its deadline"
