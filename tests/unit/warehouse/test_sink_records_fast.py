"""The sink's fast fact validation accepts exactly what the strict (FactRow) path accepts.

`decode_fact` short-cuts well-formed records (a regular expression for the processors'
canonical encoding, orjson for any other JSON); a mutation of a valid record must get
the same verdict, and the same stored line, as `_decode_fact_strictly`.
"""

from __future__ import annotations

import json
import random

import pytest

from contracts.facts import FactRow
from warehouse.sink.records import (
    RecordError,
    _decode_fact_strictly,
    canonical_facts,
    decode_fact,
)

BASE = FactRow(ticket_id=10, purchase_id=20, performance_id=30, band_id=40, venue_id=5,
               person_key="ab12", ticket_price=25,
               purchase_date="2022-10-07T17:31:02.123456Z",
               performance_start="2022-10-07T19:00:00Z", festival_year=2022, sign=-1,
               version=77, source_ts_ms=1_660_000_000_000)

ODD_VALUES: list[object] = [
    0, -1, 1, 2, 65535, 65536, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64,
    10**18, 10**19, 1.0, True, None, "", "7", "x\"y", "é", "a\nb", [], {},
    "2022-02-29T00:00:00Z", "2024-02-29T23:59:59.5Z", "1969-12-31T23:59:59Z",
    "2261-12-31T23:59:59.999999Z", "2262-01-01T00:00:00Z", "2022-13-01T00:00:00Z",
    "2022-10-07T24:00:00Z", "2022-10-07T17:31:60Z", "2022-10-07T17:31:02.1234567Z",
    "2022-10-07T17:31:02+00:00", "2022-10-07 17:31:02", "2022-10-07",
]


def verdict(value: bytes) -> tuple[str, bytes | str]:
    try:
        return "ok", decode_fact(None, value)
    except RecordError as exc:
        return "dead", str(exc)


def strict_verdict(value: bytes) -> tuple[str, bytes | str]:
    try:
        return "ok", _decode_fact_strictly(value)
    except RecordError as exc:
        return "dead", str(exc)


def test_canonical_records_take_the_fast_path_unchanged() -> None:
    raw = BASE.to_json()
    assert decode_fact(None, raw) == raw


@pytest.mark.parametrize("seed", range(4))
def test_fast_and_strict_paths_agree_on_mutations(seed: int) -> None:
    rng = random.Random(seed)
    fields = list(FactRow.FIELDS)
    for _ in range(1500):
        data: dict[str, object] = json.loads(BASE.to_json())
        for _ in range(rng.randint(1, 2)):
            roll = rng.random()
            name = rng.choice(fields)
            if roll < 0.7:
                data[name] = rng.choice(ODD_VALUES)
            elif roll < 0.8:
                data.pop(name, None)
            else:
                data[f"extra_{name}"] = 1
        if rng.random() < 0.3:
            items = list(data.items())
            rng.shuffle(items)
            data = dict(items)
        compact = rng.random() < 0.7
        raw = json.dumps(data, separators=(",", ":") if compact else None,
                         ensure_ascii=rng.random() < 0.5, indent=2 if rng.random() < 0.1
                         else None).encode()
        assert verdict(raw) == strict_verdict(raw), raw


@pytest.mark.parametrize("raw", [
    b"", b"{", b"[]", b"null", b'{"ticket_id":1}', b"\xff\xfe", b'{"a":NaN}',
    BASE.to_json() + b"\n", BASE.to_json()[:-1] + b',"x":1}',
    BASE.to_json().replace(b'"sign":-1', b'"sign":-1.0'),
    BASE.to_json().replace(b'"ab12"', b'"a\\u0000b"'),
])
def test_fast_and_strict_paths_agree_on_malformed_input(raw: bytes) -> None:
    assert verdict(raw) == strict_verdict(raw)


def test_a_run_of_canonical_records_is_stored_as_is() -> None:
    rows = [BASE.to_json().replace(b'"ticket_id":10', f'"ticket_id":{i}'.encode())
            for i in range(1, 200)]
    assert canonical_facts(rows)
    assert all(decode_fact(None, row) == row for row in rows)


@pytest.mark.parametrize("odd", [
    None,
    b"",
    BASE.to_json() + b"\n" + BASE.to_json(),  # two facts in one record: never two rows
    BASE.to_json() + b"\n",
    BASE.to_json().replace(b'"sign":-1', b'"sign":2'),
    BASE.to_json().replace(b'"ticket_id":10,', b""),
    b" " + BASE.to_json(),
])
def test_one_odd_record_sends_its_run_record_by_record(odd: bytes | None) -> None:
    good = BASE.to_json()
    for position in (0, 1, 2):
        run = [good, good]
        run.insert(position, odd)
        assert not canonical_facts(run)
