"""Execution reports: units, due dates, CSV validation with line numbers, plausibility.

Line-level tests read under the 2018.1 parameters (no structured fields required then); the
structured fields of HJ 944-2018 are tested in `test_report_spec.py`."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import BadReport
from compliance.reporting.report_parameters import V2018
from compliance.reporting.reports import Registry, due_date, is_late, plausibility, to_kg
from compliance.reporting.reports import parse_csv as _parse_csv

REG = Registry(outlets={("P1", "DA001"): "air", ("P1", "DW001"): "water"},
               permits=frozenset({"P1"}), reported=frozenset({("P1", 2025, "Y")}))
HEADER = "permit,year,period,outlet,pollutant,quantity,unit\n"


def parse_csv(text: str, reg: Registry):  # type: ignore[no-untyped-def]
    return _parse_csv(text, reg, V2018)


def test_units_convert_exactly() -> None:
    assert to_kg("1.234", "t") == 1234
    assert to_kg("12", "kg") == 12
    assert to_kg("0", "t") == 0
    for q, u in (("1.2345", "t"), ("0.5", "kg"), ("-1", "kg"), ("x", "kg"), ("1", "lb"),
                 ("NaN", "kg")):
        with pytest.raises(BadReport):
            to_kg(q, u)


@given(st.integers(0, 10**12))
def test_tonnes_round_trip(kg) -> None:  # type: ignore[no-untyped-def]
    t = f"{kg // 1000}.{kg % 1000:03d}"
    assert to_kg(t, "t") == kg


def test_due_dates_are_a_parameter_table() -> None:
    # default (key management, no sector rule): annual by the end of January of the next
    # year, quarterly within 15 days of the quarter's end (HJ 944 permit texts)
    assert due_date(2026, "Y") == date(2027, 1, 31)
    assert due_date(2026, "Q1") == date(2026, 4, 15)
    assert due_date(2026, "Q4") == date(2027, 1, 15)
    assert not is_late(2026, "Y", date(2027, 1, 31))
    assert is_late(2026, "Y", date(2027, 2, 1))
    # the superseded fixed-day rule stays readable
    assert due_date(2026, "Y", V2018.rule("key")) == date(2027, 1, 15)


def test_csv_errors_name_their_lines() -> None:
    text = HEADER + "\n".join([
        "P1,2026,Y,DA001,SO2,1.5,t",        # 2 ok
        "P1,2026,Y,DA009,SO2,1,kg",         # 3 unknown outlet
        "P1,2026,Y,DA001,XYZ,1,kg",         # 4 unknown pollutant
        "P1,2026,Y,DA001,NOx,-3,kg",        # 5 negative
        "P1,2026,Y,DA001,NOx,3,lb",         # 6 unit
        "P1,2026,Y,DA001,SO2,2,kg",         # 7 duplicate of line 2
        "P1,2026,Y,DA001,,2,kg",            # 8 incomplete
        "P1,2025,Y,DA001,SO2,2,kg",         # 9 period already reported
        "P2,2026,Y,DA001,SO2,2,kg",         # 10 unknown permit
        "P1,2026,Y,DA001,COD,2,kg",         # 11 water pollutant at an air outlet
        "P1,2026,Q5,DW001,COD,2,kg",        # 12 bad period
        "P1,2026,Y,DW001,COD,2,kg,extra",   # 13 too many cells
        "P1,2026,Y,DW001,COD,2000,kg",      # 14 ok
    ])
    v = parse_csv(text, REG)
    assert [ln.line for ln in v.lines] == [2, 14]
    assert v.lines[0].actual_kg == 1500
    got = {e.line: e.field for e in v.errors}
    assert got == {3: "outlet", 4: "pollutant", 5: "quantity", 6: "unit", 7: "period",
                   8: "pollutant", 9: "period", 10: "permit", 11: "pollutant",
                   12: "period", 13: None}
    assert "line 2" in next(e.detail for e in v.errors if e.line == 7)


def test_csv_header_and_empty() -> None:
    assert parse_csv("", REG).errors[0].line == 1
    v = parse_csv("permit,year\nP1,2026\n", REG)
    assert v.errors[0].line == 1 and v.errors[0].field == "period"


def test_plausibility_flags() -> None:
    f = plausibility({"SO2": 1001, "NOx": 100, "COD": 5},
                     {"SO2": 1000, "NOx": 1000, "COD": None},
                     {"SO2": 1000, "NOx": 201})
    assert f == {"SO2": ["above_permitted"], "NOx": ["change_over_50pct"],
                 "COD": ["above_permitted"]}
    assert plausibility({"NOx": 150}, {"NOx": 1000}, {"NOx": 100}) == {"NOx": []}


def test_odd_csv_is_a_row_error_not_a_crash() -> None:
    # found by schemathesis: a bare carriage return and control characters once raised
    v = parse_csv("\u00e8\u00a0\x0b\u35e5y\u00e2\r.\x1d", REG)
    assert not v.lines and v.errors[0].line == 1 and v.errors[0].field == "permit"
    v = parse_csv("permit,year,period,outlet,pollutant,quantity,unit\r"
                  "P1,2026,Y,DA\r001,SO2,1,kg", REG)
    assert not v.lines and [e.line for e in v.errors] == [2, 3]
