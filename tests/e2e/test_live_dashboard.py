"""While `sell` runs through the whole pipeline, the live dashboard's numbers move.

Postgres -> Debezium -> processors -> sink -> ClickHouse -> Superset's chart data API:
the "Tickets today" number must change within two refresh intervals (2 x 10 s), again
and again, while live sales go on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from boxoffice import pipeline
from boxoffice.bi.bootstrap import logged_in_client
from boxoffice.bi.client import SupersetClient
from boxoffice.stack.components import pipeline_components
from boxoffice.stack.supervisor import Supervisor
from connectors.connect_api import ConnectClient
from connectors.errors import ConnectorError
from connectors.seed import seed
from connectors.traffic import TrafficResult, sell
from contracts.settings import Settings
from tests.integration.superset.charts_api import chart_rows
from tests.support.waiting import wait_until

TWO_REFRESH_INTERVALS_SECONDS = 20.0
MOVES = 3


def _say(line: str) -> None:
    print(f"[live] {line}")


@pytest.fixture(scope="module")
def live_pipeline(service_provider: object, postgres: Settings, kafka: Settings,
                  connect: Settings, clickhouse: Settings, superset: Settings
                  ) -> Iterator[Settings]:
    """The pipeline on the session's own names, which the dashboards read."""
    from tests.native import NativeProvider

    settings = postgres
    pipeline.up(settings, _say, start_services=isinstance(service_provider, NativeProvider))
    if pipeline.source_is_empty(settings):
        seed(settings, scale=0.01, seed_value=5)
    yield settings
    Supervisor(settings=settings, components=pipeline_components(settings)).down(
        progress=_say)
    with contextlib.suppress(ConnectorError):
        ConnectClient(settings=settings).delete(settings.connector_name)


def _tickets_today(admin: SupersetClient) -> int:
    (row,) = chart_rows(admin, "Tickets today")
    return int(row["sum_tickets"] or 0)


def _next_move(admin: SupersetClient, seen: list[int]) -> int:
    """'Tickets today' once it differs from the last number seen; a timeout says where
    it stayed and what it showed before, which tells a stuck pipeline from a slow one."""
    now = [seen[-1]]

    def moved() -> bool:
        now[0] = _tickets_today(admin)
        return now[0] != seen[-1]

    try:
        wait_until(moved, deadline_seconds=TWO_REFRESH_INTERVALS_SECONDS, poll=1.0,
                   what="'Tickets today' to move while sell ran")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: it stayed at {now[0]} (seen so far: {seen})") from None
    return now[0]


def test_live_numbers_move_while_sell_runs(live_pipeline: Settings) -> None:
    settings = live_pipeline
    admin = logged_in_client(settings)
    results: list[TrafficResult] = []
    seller = threading.Thread(target=lambda: results.append(
        sell(settings, rate=20, duration=TWO_REFRESH_INTERVALS_SECONDS * (MOVES + 2),
             seed=13)))
    seller.start()
    try:
        seen = [_tickets_today(admin)]
        for _ in range(MOVES):
            seen.append(_next_move(admin, seen))
        print(f"[live] 'Tickets today' moved: {seen}")
    finally:
        seller.join()
    assert results and results[0].transactions > 0
