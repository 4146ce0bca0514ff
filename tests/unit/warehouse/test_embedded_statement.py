"""How the embedded server splits an HTTP stream into SQL and INSERT data."""

from __future__ import annotations

from warehouse.embedded.statement import leading_keyword, split_insert, trailing_format


def test_insert_data_starts_after_the_first_newline_even_if_binary() -> None:
    data = b"\n\t\x00binary"  # a Native block may start with bytes that look like space
    split = split_insert(b"INSERT INTO t (a, b) FORMAT Native\n" + data)
    assert split is not None
    assert split.statement == "INSERT INTO t (a, b)"
    assert split.format == "Native"
    assert split.data == data


def test_insert_data_on_the_same_line_follows_the_spaces() -> None:
    split = split_insert(b"insert into db.t format CSV   1,2\n3,4\n")
    assert split is not None
    assert (split.statement, split.format, split.data) == ("insert into db.t", "CSV",
                                                           b"1,2\n3,4\n")


def test_insert_keeps_its_settings_and_skips_leading_comments() -> None:
    split = split_insert(b"-- sink\n/* batch */ INSERT INTO t SETTINGS async_insert=0 "
                         b"FORMAT TSV\n1\n")
    assert split is not None
    assert split.statement == "INSERT INTO t SETTINGS async_insert=0"
    assert split.data == b"1\n"


def test_a_column_named_format_is_not_the_format_clause() -> None:
    split = split_insert(b"INSERT INTO t (format) FORMAT JSONEachRow\n{}")
    assert split is not None
    assert split.statement == "INSERT INTO t (format)"
    assert split.format == "JSONEachRow"


def test_statements_without_data_are_left_to_the_engine() -> None:
    assert split_insert(b"INSERT INTO t VALUES (1)") is None
    assert split_insert(b"SELECT 1 FORMAT Native") is None
    assert split_insert(b"INSERT INTO t SELECT * FROM u") is None


def test_trailing_format_names_the_output_format() -> None:
    assert trailing_format("SELECT 1\n FORMAT Native") == "Native"
    assert trailing_format("SELECT 1 FORMAT JSONEachRow;") == "JSONEachRow"
    assert trailing_format("SELECT 1 FORMAT CSV SETTINGS max_threads = 1") == "CSV"
    assert trailing_format("SELECT 'FORMAT' AS f") is None
    assert trailing_format("SELECT format('{}', 1)") is None


def test_leading_keyword() -> None:
    assert leading_keyword("  -- x\n set max_threads = 1") == "SET"
    assert leading_keyword("/* a */SELECT 1") == "SELECT"
    assert leading_keyword("") == ""
