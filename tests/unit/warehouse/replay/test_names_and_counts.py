"""Pure parts of replay: invented names, the reader's counts, the swap statement, the
--from option and the recorded facts generation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from boxoffice.cli.replay import parse_from
from contracts.columns import exact_amount
from contracts.settings import GENERATION_FILE, load_settings
from warehouse.replay.counts import count_lines
from warehouse.replay.generation import record_generation
from warehouse.replay.names import (
    app_id_for_version,
    next_facts_topic,
    shadow_database,
    topic_version,
)
from warehouse.replay.shadow import exchange_statement
from warehouse.synthetic import Workload


def test_versioned_names() -> None:
    assert next_facts_topic("boxoffice.facts.v1") == "boxoffice.facts.v2"
    assert next_facts_topic("boxoffice.facts.v9") == "boxoffice.facts.v10"
    assert next_facts_topic("facts") == "facts.v2"
    assert topic_version("boxoffice.facts.v3") == 3
    assert app_id_for_version("boxoffice-processors", 2) == "boxoffice-processors-v2"
    assert app_id_for_version("boxoffice-processors-v2", 3) == "boxoffice-processors-v3"
    moment = datetime(2024, 10, 5, 12, 0, 1, tzinfo=UTC)
    assert shadow_database("boxoffice", now=moment) == "boxoffice_shadow_20241005120001"


def test_counts_equal_the_parsed_sums() -> None:
    workload = Workload(seed=2)
    workload.add_dimensions()
    rows = workload.script(3000)
    totals = count_lines([row.to_json() for row in rows])
    assert totals.rows == len(rows)
    assert totals.tickets == sum(r.sign for r in rows)
    assert totals.revenue == sum(r.sign * exact_amount(r.ticket_price) for r in rows)
    assert any(type(r.ticket_price) is str for r in rows)  # cents among the prices
    assert any(r.sign == -1 for r in rows)  # the workload has retractions


def test_counts_fall_back_to_parsing_unusual_json() -> None:
    lines = [b'{"sign": -1, "ticket_price": 30, "x": "a"}', b'{"ticket_price":5,"sign":1}',
             b'{"ticket_price":7,"sign":1,"note":"\\"ticket_price\\":9"}']
    totals = count_lines(lines)
    assert (totals.rows, totals.tickets, totals.revenue) == (3, 1, -18)


def test_one_exchange_statement_swaps_every_table() -> None:
    assert exchange_statement("live", "sh", ["fact", "agg"]) == \
        "EXCHANGE TABLES live.fact AND sh.fact, live.agg AND sh.agg"


def test_parse_from() -> None:
    assert parse_from("earliest") is None
    assert parse_from("2024-10-05T12:00:00") == datetime(2024, 10, 5, 12, tzinfo=UTC)
    assert parse_from("2024-10-05T14:00:00+02:00") == datetime(2024, 10, 5, 12, tzinfo=UTC)
    with pytest.raises(Exception, match="neither"):
        parse_from("yesterday")


def test_recorded_generation_is_what_settings_load(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOXOFFICE_FACTS_TOPIC", raising=False)
    monkeypatch.delenv("BOXOFFICE_FAUST_APP_ID", raising=False)
    settings = load_settings(state_dir=tmp_path)
    assert settings.facts_topic == "boxoffice.facts.v1"
    record_generation(settings, facts_topic="boxoffice.facts.v2", faust_app_id="p-v2")
    assert json.loads((tmp_path / GENERATION_FILE).read_text())["facts_topic"] == \
        "boxoffice.facts.v2"
    reloaded = load_settings(state_dir=tmp_path)
    assert (reloaded.facts_topic, reloaded.faust_app_id) == ("boxoffice.facts.v2", "p-v2")
    assert load_settings(state_dir=tmp_path, facts_topic="x").facts_topic == "x"
    monkeypatch.setenv("BOXOFFICE_FACTS_TOPIC", "from-env")
    assert load_settings(state_dir=tmp_path).facts_topic == "from-env"
