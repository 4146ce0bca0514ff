"""Stopped tables, as pure logic: which records stop a table, which are dead letters, and
how a column map lets a stopped table's changes through (`contracts.columns`)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from boxoffice.status.model import stopped_summary
from contracts.changes import ChangeRecordError
from contracts.columns import (
    CARRIED_COLUMNS,
    SourceSchemaChanged,
    add_amount,
    check_column_map,
    exact_amount,
    is_money,
    money,
    table_map,
)
from contracts.settings import Settings
from stream_processors.changes import REQUIRED_COLUMNS, parse_change
from warehouse.sink.batches import PartitionBatcher
from warehouse.sink.records import RecordError, dimension_decoder

KEY = b'{"id": 7}'


def event(table: str | None, after: dict[str, object], op: str = "u") -> bytes:
    """A change event; `table` None is one without Debezium's source.table."""
    source: dict[str, object] = {"lsn": 50, "ts_ms": 9}
    if table is not None:
        source |= {"table": table, "schema": "festival", "connector": "postgresql"}
    return json.dumps({"op": op, "before": None, "after": after, "source": source}).encode()


TICKET = {"id": 7, "price": 40, "performance_id": 2, "purchase_id": 3}
VENUE = {"id": 7, "name": "Hall", "capacity": 900}


def test_the_join_reads_every_carried_column_of_its_tables() -> None:
    for table, columns in REQUIRED_COLUMNS.items():
        assert set(columns) == {"id", *CARRIED_COLUMNS[table]}


@pytest.mark.parametrize("after, column, words", [
    ({"id": 7, "cost": 40, "performance_id": 2, "purchase_id": 3}, "price",
     "is missing (renamed or dropped at the source; the change has cost)"),
    ({**TICKET, "price": "49.995"}, "price",
     "arrives as str '49.995', not an amount in whole cents"),
    ({**TICKET, "price": "free"}, "price", "arrives as str 'free', not an amount"),
])
def test_a_genuine_change_without_a_carried_column_stops_the_join_table(
        after: dict[str, object], column: str, words: str) -> None:
    with pytest.raises(SourceSchemaChanged) as raised:
        parse_change("tickets", KEY, event("tickets", after))
    assert (raised.value.table, raised.value.column) == ("tickets", column)
    assert words in raised.value.change
    assert "BOXOFFICE_COLUMN_MAP" in raised.value.as_dict()["fix"]


@pytest.mark.parametrize("price, carried", [
    ("49.99", "49.99"), ("49.9", "49.90"), ("49.900", "49.90"), ("50.00", 50),
    ("-0.50", "-0.50"), ("007.25", "7.25"), (50, 50)])
def test_a_price_becoming_numeric_flows_to_the_cent(price: object, carried: object) -> None:
    """integer -> numeric(10,2) is a widening of an amount: the join carries the cents,
    one spelling per amount, so a retraction repeats exactly what was emitted."""
    change = parse_change("tickets", KEY, event("tickets", {**TICKET, "price": price}))
    assert change.after is not None and change.after["price"] == carried


def test_amounts_are_exact_and_bounded() -> None:
    assert money("12.5") == "12.50" and money("12.345") == "12.345"
    assert is_money("12.50") and is_money(10**16 - 1)
    assert not is_money(10**16) and not is_money("12.5") and not is_money(12.5)
    assert add_amount(20, Decimal("-4.50")) == "15.50"
    assert add_amount("15.50", Decimal("4.50")) == 20
    assert exact_amount("97.75") == Decimal("97.75")
    assert type(exact_amount(Decimal("25.00"))) is int


def test_a_record_that_is_no_genuine_change_is_a_dead_letter_as_before() -> None:
    """Only Debezium's source.table makes a record a change of its table: the poison
    records of the chaos suite (no source.table) stay dead letters."""
    with pytest.raises(ChangeRecordError, match="lacks price"):
        parse_change("tickets", KEY, event(None, {"id": 7, "performance_id": 2,
                                                  "purchase_id": 3}))
    with pytest.raises(ChangeRecordError, match="price must be an amount in whole cents"):
        parse_change("tickets", KEY, event("purchases", {**TICKET, "price": "free"}))


def test_a_null_carried_value_is_no_schema_change() -> None:
    change = parse_change("tickets", KEY, event("tickets", {**TICKET, "purchase_id": None}))
    assert change.after is not None and change.after["purchase_id"] is None


def test_the_join_reads_a_renamed_column_through_the_map() -> None:
    after = {"id": 7, "cost": 40, "performance_id": 2, "purchase_id": 3}
    change = parse_change("tickets", KEY, event("tickets", after), mapped={"price": "cost"})
    assert change.after is not None and change.after["price"] == 40
    defaulted = parse_change("tickets", KEY, event("tickets", {**after, "cost": None}
                                                   | {"id": 7}),
                             mapped={"price": "=0"})
    assert defaulted.after is not None and defaulted.after["price"] == 0
    # an unchanged change is untouched by the map (the fast path)
    plain = parse_change("tickets", KEY, event("tickets", TICKET), mapped={"price": "cost"})
    assert plain.after == TICKET


def test_a_dimension_stops_on_a_rename_and_reads_it_once_mapped() -> None:
    renamed = event("venues", {"id": 7, "name": "Hall", "seats": 900})
    with pytest.raises(SourceSchemaChanged, match=r"venues\.capacity is missing"):
        dimension_decoder("venues")(KEY, renamed)
    row = json.loads(dimension_decoder("venues", {"capacity": "seats"})(KEY, renamed) or b"")
    assert (row["name"], row["capacity"]) == ("Hall", 900)
    row = json.loads(dimension_decoder("venues", {"capacity": "=0"})(KEY, renamed) or b"")
    assert row["capacity"] == 0


def test_a_dimension_type_change_stops_and_malformed_records_stay_dead_letters() -> None:
    with pytest.raises(SourceSchemaChanged, match=r"arrives as str '900\.50'"):
        dimension_decoder("venues")(KEY, event("venues", {**VENUE, "capacity": "900.50"}))
    with pytest.raises(RecordError, match="capacity must be an integer"):
        dimension_decoder("venues")(KEY, event(None, {**VENUE, "capacity": "900.50"}))
    with pytest.raises(RecordError, match="out of range"):  # a value, not a type
        dimension_decoder("venues")(KEY, event("venues", {**VENUE, "capacity": 2**63}))
    with pytest.raises(RecordError, match="capacity must be an integer, got None"):
        dimension_decoder("venues")(KEY, event("venues", {**VENUE, "capacity": None}))
    # a delete needs no carried column: it never stops a table
    deleted = dimension_decoder("venues")(KEY, event("venues", {"id": 7}, op="d"))
    assert deleted is not None and json.loads(deleted)["is_deleted"] == 1


@pytest.mark.parametrize("text, whole", [("41", 41), ("41.00", 41), ("-3.0", -3)])
def test_numeric_text_holding_a_whole_number_is_an_integer(text: str, whole: int) -> None:
    """integer -> numeric at the source is a widening while the amounts are whole."""
    change = parse_change("tickets", KEY, event("tickets", {**TICKET, "price": text}))
    assert change.after is not None and change.after["price"] == whole
    row = dimension_decoder("venues")(KEY, event("venues", {**VENUE, "capacity": text}))
    assert json.loads(row or b"")["capacity"] == whole


def test_a_mapped_default_also_stands_in_for_an_unreadable_value() -> None:
    """After a type change is reverted, the changes made meanwhile still hold the other
    type: the map's value lets them through, and rewriting the rows supersedes it."""
    cents = event("tickets", {**TICKET, "price": "49.995"})
    change = parse_change("tickets", KEY, cents, mapped={"price": "=0"})
    assert change.after is not None and change.after["price"] == 0


def test_a_stopped_batcher_seals_what_came_before() -> None:
    batcher = PartitionBatcher(topic="t", partition=0, max_records=100, max_seconds=60)
    batcher.add_lines([10, 11], [b"a", b"b"], now=0.0)
    batcher.stop(12, SourceSchemaChanged("venues", "capacity", "is missing"))
    (batch,) = batcher.take_sealed()
    assert (batch.first_offset, batch.last_offset, batch.lines) == (10, 11, [b"a", b"b"])
    assert batcher.stopped is not None and batcher.stopped[0] == 12


@pytest.mark.parametrize("column_map, words", [
    ({"venues.seats": "capacity"}, "'venues.seats' is not a carried column"),
    ({"venues.capacity": "seats; drop"}, "neither a column name nor"),
    ({"venues.capacity": "=lots"}, "must be '=<integer>'"),
])
def test_a_column_map_naming_no_carried_column_is_refused(
        column_map: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_column_map(column_map)


def test_the_column_map_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_COLUMN_MAP", '{"venues.capacity": "seats"}')
    settings = Settings()
    assert table_map(settings.column_map, "venues") == {"capacity": "seats"}
    assert table_map(settings.column_map, "tickets") == {}


def test_status_names_each_stopped_table_column_and_the_fix_once() -> None:
    details = {**SourceSchemaChanged("venues", "capacity", "is missing").as_dict()}
    line = stopped_summary({"f.venues[0]": {**details, "offset": 5},
                            "f.venues[2]": {**details, "offset": 9}})
    assert line.startswith("STOPPED: venues.capacity is missing, stopped f.venues[0] at "
                           "offset 5, f.venues[2] at offset 9. Fix: map the column")
    assert line.count("BOXOFFICE_COLUMN_MAP") == 1
