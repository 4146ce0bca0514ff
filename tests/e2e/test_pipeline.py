"""The story the README promises: history and live traffic in, exact numbers out.

Bring the whole pipeline up, load a small history, run a scripted workload of sales,
refunds, corrections, moved performances and renamed bands, and `boxoffice verify` must
find every ClickHouse aggregate equal to the ground truth computed from PostgreSQL.
"""

from __future__ import annotations

from boxoffice.verify import verify_until
from connectors.seed import seed
from connectors.slot import current_lsn
from connectors.traffic import run_workload
from contracts.changes import lsn_from_text
from contracts.settings import Settings
from tests.integration.superset.charts_api import clickhouse_rows

CATCH_UP_SECONDS = 240.0


def _explain(report: object) -> str:
    failing = [r for r in report.results if not r.ok]  # type: ignore[attr-defined]
    return "; ".join(f"{r.name}: {r.as_dict()}" for r in failing[:3]) or str(
        report.errors)  # type: ignore[attr-defined]


def test_history_and_live_changes_reconcile(running_pipeline: Settings) -> None:
    settings = running_pipeline
    seed(settings, scale=0.01, seed_value=3)
    result = run_workload(settings, 11, 400)
    assert result.transactions > 0

    report = verify_until(settings, wait_seconds=CATCH_UP_SECONDS)

    assert report.ok, _explain(report)
    assert {r.name for r in report.results} >= {"sales_by_performance", "dq_table_counts"}
    assert report.result("on_sale_rush").rows_compared > 0  # the workload sold just now

    # the live dashboard's "as of": a heartbeat's real commit, at a WAL position the
    # source has written
    (as_of,) = clickhouse_rows(settings, "SELECT as_of_lsn FROM pipeline_freshness")[0]
    assert 0 < lsn_from_text(str(as_of)) <= current_lsn(settings)
