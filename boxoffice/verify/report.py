"""The diff table a person reads, and the JSON a script reads."""

from __future__ import annotations

import json

from rich.table import Table

from boxoffice.verify.compare import CheckResult, Mismatch
from boxoffice.verify.run import VerifyReport


def _values(values: tuple[object, ...] | None) -> str:
    if values is None:
        return "absent"
    return ", ".join(str(v) for v in values) or "present"


def sample_text(result: CheckResult, mismatch: Mismatch) -> str:
    key = ", ".join(f"{c}={v}" for c, v in zip(result.spec.key_columns, mismatch.key,
                                                strict=True))
    return (f"{key}: postgres [{_values(mismatch.expected)}] "
            f"clickhouse [{_values(mismatch.found)}]")


def diff_table(report: VerifyReport) -> Table:
    table = Table(title=f"verify: {'ALL MATCH' if report.ok else 'MISMATCH'} "
                        f"({report.seconds:.1f} s, attempt {report.attempts})")
    table.add_column("check")
    table.add_column("rows", justify="right")
    table.add_column("mismatches", justify="right")
    table.add_column("first differing keys (postgres vs clickhouse)", overflow="fold")
    for result in report.results:
        status = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
        detail = result.error or "\n".join(sample_text(result, m) for m in result.samples)
        table.add_row(f"{status} {result.name}", str(result.rows_compared),
                      str(result.mismatches), detail)
    return table


def to_json(report: VerifyReport) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str)
