"""The checks verify runs: one name, its key and value columns, and how absence compares.

Both sides (Postgres and ClickHouse) return, per check name, a mapping key tuple -> value
tuple in exactly these column orders, so the comparison never needs to know SQL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckSpec:
    name: str
    description: str
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    zero_when_missing: bool = False
    """Aggregates: a key absent on one side means zero sales (merges drop zero rows)."""
    expect_empty: bool = False
    """Data-quality views that must hold no rows at all (the source side is empty)."""


SALES = ("tickets", "revenue")

CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("dim_bands", "bands, latest non-deleted version", ("id",), ("name",)),
    CheckSpec("dim_venues", "venues, latest non-deleted version", ("id",),
              ("name", "capacity")),
    CheckSpec("dim_performances", "performances, latest non-deleted version", ("id",),
              ("performance_start", "band_id", "venue_id")),
    CheckSpec("dim_people", "people ids, latest non-deleted version", ("id",), ()),
    CheckSpec("sales_by_performance", "agg_sales_by_performance", ("performance_id",),
              SALES, zero_when_missing=True),
    CheckSpec("sales_by_day_venue_band", "agg_sales_by_day_venue_band (UTC purchase day)",
              ("sale_date", "venue_id", "band_id"), SALES, zero_when_missing=True),
    CheckSpec("sales_by_minute_venue_live", "agg_sales_by_minute_venue, live window",
              ("minute", "venue_id"), SALES, zero_when_missing=True),
    CheckSpec("on_sale_rush", "per 10 seconds of purchase time, the rush window "
              "(on_sale_rush)", ("ten_seconds",), SALES, zero_when_missing=True),
    CheckSpec("sales_by_venue", "per venue (sales_per_venue)", ("venue_id",), SALES,
              zero_when_missing=True),
    CheckSpec("sales_by_band_venue", "per band and venue (avg_ticket_price_by_band_venue)",
              ("venue_id", "band_id"), SALES, zero_when_missing=True),
    CheckSpec("totals", "all tickets and revenue (fact_ticket_sales)", ("scope",), SALES,
              zero_when_missing=True),
    CheckSpec("sell_through", "per performance: its venue, that venue's capacity and the "
              "tickets sold (sell_through)", ("performance_id",),
              ("venue_id", "capacity", "tickets_sold")),
    CheckSpec("dq_tickets_without_band_or_venue", "must be empty", ("performance_id",),
              ("tickets", "revenue", "problem"), expect_empty=True),
    CheckSpec("dq_table_counts", "per-table counts against Postgres", ("table_name",),
              ("current_rows", "tickets", "revenue")),
    CheckSpec("dq_repeated_deltas", "must be empty", ("ticket_id", "version", "sign"),
              ("copies",), expect_empty=True),
)

BY_NAME = {check.name: check for check in CHECKS}

AGGREGATE_TABLES = ("agg_sales_by_performance", "agg_sales_by_day_venue_band",
                    "agg_sales_by_minute_venue")
"""dq_table_counts rows whose current_rows counts keys that merges have not yet dropped:
only their tickets and revenue are compared."""

FACT_DERIVED_CHECKS = ("sales_by_performance", "sales_by_day_venue_band",
                       "sales_by_minute_venue_live", "on_sale_rush", "sales_by_venue",
                       "sales_by_band_venue", "totals", "dq_repeated_deltas")
"""The checks a replay's shadow answers: it rebuilds the facts and their aggregates, not
the dimensions (which stay in the live database)."""
