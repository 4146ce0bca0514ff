"""The diff table and the JSON name the failing check and key."""

from __future__ import annotations

import datetime as dt
import json

from rich.console import Console

from boxoffice.verify.checks import BY_NAME
from boxoffice.verify.compare import compare
from boxoffice.verify.report import diff_table, to_json
from boxoffice.verify.run import VerifyReport


def report() -> VerifyReport:
    good = compare(BY_NAME["totals"], {("all",): (3, 75)}, {("all",): (3, 75)})
    bad = compare(BY_NAME["sales_by_performance"], {(7,): (1, 25)}, {(7,): (2, 50)})
    return VerifyReport(results=[good, bad], seconds=0.5,
                        window_start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_json_is_machine_readable() -> None:
    data = json.loads(to_json(report()))
    assert data["ok"] is False
    failing = [c for c in data["checks"] if not c["ok"]]
    assert [c["check"] for c in failing] == ["sales_by_performance"]
    assert failing[0]["samples"][0]["key"] == {"performance_id": 7}


def test_table_names_check_key_and_both_values() -> None:
    console = Console(record=True, width=200)
    console.print(diff_table(report()))
    text = console.export_text()
    assert "FAIL sales_by_performance" in text
    assert "performance_id=7: postgres [1, 25] clickhouse [2, 50]" in text
    assert "ok totals" in text
