"""Checks a rebuilt shadow must pass before it may replace the live tables.

1. The fact table holds exactly what was read: rows, net tickets and net revenue equal
   the reader's own counts (plus the rows kept from the live table for `--from TIME`).
2. Every ticket's signs sum to 0 (withdrawn) or 1 (exists): a prefix of a well-formed
   facts topic can never give anything else.
3. No delta identity (ticket, version, sign) is stored twice (`dq_repeated_deltas`).
4. Every rebuilt aggregate's net tickets and revenue equal the fact table's
   (`dq_table_counts`, the same reconciliation `boxoffice verify` reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.columns import exact_amount
from warehouse.executor import Executor
from warehouse.replay.counts import Totals
from warehouse.replay.shadow import FACT_TABLE


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    fact_totals: Totals = field(default_factory=Totals)

    @property
    def ok(self) -> bool:
        return not self.problems


def fact_totals(executor: Executor, database: str) -> Totals:
    ((rows, tickets, revenue),) = executor.rows(
        f"SELECT count(), sum(sign), sum(sign * ticket_price) FROM {database}.{FACT_TABLE}")
    return Totals(rows=int(rows), tickets=int(tickets), revenue=exact_amount(revenue))


def check_shadow(executor: Executor, shadow: str, *, expected: Totals,
                 tables: list[str]) -> CheckResult:
    result = CheckResult(fact_totals=fact_totals(executor, shadow))
    found = result.fact_totals
    if found != expected:
        result.problems.append(
            f"{FACT_TABLE} holds {found.as_dict()} but the topic gave {expected.as_dict()}")
    ((bad_tickets,),) = executor.rows(
        f"SELECT count() FROM (SELECT ticket_id, sum(sign) AS s FROM {shadow}.{FACT_TABLE} "
        "GROUP BY ticket_id HAVING s NOT IN (0, 1))")
    if int(bad_tickets):
        result.problems.append(f"{bad_tickets} tickets have signs summing outside 0..1")
    ((repeated,),) = executor.rows(f"SELECT count() FROM {shadow}.dq_repeated_deltas")
    if int(repeated):
        result.problems.append(f"{repeated} deltas are stored more than once "
                               "(the facts topic repeats them: see dq_repeated_deltas)")
    counts = {str(name): (int(tickets), exact_amount(revenue)) for name, _rows, tickets, revenue
              in executor.rows(f"SELECT * FROM {shadow}.dq_table_counts")}
    for table in tables:
        if table == FACT_TABLE or table not in counts:
            continue
        if counts[table] != (found.tickets, found.revenue):
            result.problems.append(
                f"{table} sums to tickets, revenue = {counts[table]}, the fact table to "
                f"{(found.tickets, found.revenue)}")
    return result
