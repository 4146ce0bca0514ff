"""Helpers of the replay tests: a supervised sink, live load, and a dashboard reader
that keeps querying a Superset view (as the read-only user) during the replay."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from boxoffice.replay.control import ProcessControl
from boxoffice.stack.components.sink import Sink
from boxoffice.stack.supervisor import Supervisor
from contracts.settings import Settings
from warehouse.executor import connect


def supervised_sink(settings: Settings) -> ProcessControl:
    """The sink under the real supervisor (pid file, log), as `boxoffice up` runs it."""
    return ProcessControl(Supervisor(settings=settings, components=[Sink(settings=settings)]),
                          "sink", progress=print)


@dataclass
class DashboardReader:
    """Queries a view in a loop on its own thread; every failure is kept."""

    settings: Settings
    view: str = "sales_per_venue"
    answers: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        client = connect(self.settings, reader=True)
        db = self.settings.clickhouse_database
        try:
            while not self._stop.is_set():
                try:
                    client.query(f"SELECT * FROM {db}.{self.view}")
                    self.answers += 1
                except Exception as exc:  # the test asserts there were none
                    self.errors.append(" ".join(str(exc).split())[:300])
                self._stop.wait(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
