"""Monitoring CSV (pure): header and units, row errors with line numbers, emissions by hand,
one half-even rounding per day, report-vs-monitoring comparison."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance import monitoring as M

P = "91500000AAAAAAAA1X001Z"
Q = "91500000BBBBBBBB2X001Z"
REG = M.Registry(outlets={(P, "DA001"): "air", (P, "DW001"): "water", (Q, "DA001"): "air"})
AIR = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,NOx_mg_m3,power_kwh\n"
MIXED = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,flow_m3_h,COD_mg_l,NH3-N_mg_l,power_kwh\n"


def _errors(text: str, reg: M.Registry = REG) -> list[tuple[int, str | None, str]]:
    v = M.load(text, reg)
    return [(e.line, e.field, e.detail) for e in v.errors]


@pytest.mark.parametrize("header, field, words", [
    ("permit,outlet,hour,flow_nm3_h,SO2_mg_l\n", "SO2_mg_l", "wrong unit"),
    ("permit,outlet,hour,flow_m3_h,COD_mg_m3\n", "COD_mg_m3", "wrong unit"),
    ("permit,outlet,hour,flow_m3_s,SO2_mg_m3\n", "flow_m3_s", "flow unit"),
    ("permit,outlet,hour,flow_nm3_h,SO2_ppm\n", "SO2_ppm", "expected SO2_mg_m3"),
    ("permit,outlet,hour,flow_nm3_h,CO2_mg_m3\n", "CO2_mg_m3", "unknown column"),
    ("permit,outlet,flow_nm3_h,SO2_mg_m3\n", "hour", "lacks"),
    ("permit,outlet,hour,SO2_mg_m3\n", "SO2_mg_m3", "needs the flow_nm3_h"),
    ("permit,outlet,hour,flow_nm3_h,SO2_mg_m3,so2_mg_nm3\n", "so2_mg_nm3", "twice"),
    ("permit,outlet,hour,power_mwh,flow_nm3_h,SO2_mg_m3\n", "power_mwh", "power_kwh"),
])
def test_a_bad_header_rejects_the_file_at_line_1(header: str, field: str, words: str) -> None:
    v = M.load(header + f"{P},DA001,2026-01-01 00:00,1,1\n", REG)
    assert v.header is None and v.error_count == 1 and v.accepted == 0
    (e,) = v.errors
    assert (e.line, e.field) == (1, field) and words in e.detail


def test_empty_and_headerless_files() -> None:
    assert _errors("") == [(1, None, "empty file: no header")]
    assert _errors("\n\n") == [(1, None, "empty file: no header")]


def test_emissions_by_hand_air_and_water() -> None:
    text = MIXED + "\n".join([
        # 20 mg/Nm3 × 100 000 Nm3/h = 2 000 g/h; two hours and one without flow
        f"{P},DA001,2026-03-01 00:00,100000,20,,,,500",
        f"{P},DA001,2026-03-01 01:00,100000,20,,,,500.4",
        f"{P},DA001,2026-03-01 02:00,,20,,,,0",
        # 50 mg/L × 10 m3/h = 500 g/h; 2.5 mg/L × 10 m3/h = 25 g/h
        f"{P},DW001,2026-03-01 00:00,,,10,50,2.5,",
        f"{P},DW001,2026-03-02 23:00,,,10,50,,",
    ]) + "\n"
    v = M.load(text, REG)
    assert v.errors == [] and v.accepted == 5 and v.rows == 5
    assert v.period == (date(2026, 3, 1), date(2026, 3, 2))
    days = {(r["outlet"], r["pollutant"], r["day"]): (r["emitted_g"], r["hours"],
                                                      r["power_kwh"])
            for r in M.daily(v).iter_rows(named=True)}
    assert days == {
        ("DA001", "SO2", date(2026, 3, 1)): (4000, 2, 1000),
        ("DW001", "COD", date(2026, 3, 1)): (500, 1, 0),
        ("DW001", "NH3-N", date(2026, 3, 1)): (25, 1, 0),
        ("DW001", "COD", date(2026, 3, 2)): (500, 1, 0),
    }


def test_one_half_even_rounding_per_day() -> None:
    # 0.5 mg/Nm3 × 1 000 Nm3/h = 0.5 g/h: one hour rounds to 0, three hours (1.5) to 2
    rows = [f"{P},DA001,2026-01-01 00:00,1000,0.5,,",
            f"{Q},DA001,2026-01-01 00:00,1000,0.5,,", f"{Q},DA001,2026-01-01 01:00,1000,0.5,,",
            f"{Q},DA001,2026-01-01 02:00,1000,0.5,,"]
    days = M.daily(M.load(AIR + "\n".join(rows), REG))
    got = {r["permit"]: r["emitted_g"] for r in days.iter_rows(named=True)}
    assert got == {P: 0, Q: 2}
    assert M.grams_to_kg(2500) == 2 and M.grams_to_kg(3500) == 4 and M.grams_to_kg(3501) == 4


def test_row_errors_carry_line_numbers_and_the_first_fault() -> None:
    text = MIXED + "\n".join([
        f"{P},DA001,2026-01-01 00:00,100,1,,,,",          # 2 ok
        f"{P},DA001,2026-01-01 00:00,100,2,,,,",          # 3 duplicate of 2
        "",                                               # 4 blank: skipped
        f"{P},DA009,2026-01-01 00:00,100,1,,,,",          # 5 unknown outlet
        "NOPE,DA001,2026-01-01 00:00,100,1,,,,",         # 6 unknown permit
        f"{P},DA001,2026-01-01 01:30,100,1,,,,",          # 7 not on the hour
        f"{P},DA001,01/01/2026 02:00,100,1,,,,",          # 8 malformed hour
        f"{P},DA001,2026-01-01 03:00,100,x,,,,",          # 9 not a number
        f"{P},DA001,2026-01-01 04:00,100,-1,,,,",         # 10 negative
        f"{P},DA001,2026-01-01 05:00,100,1,5,,,",         # 11 water column on air outlet
        f"{P},DA001,2026-01-01 06:00,100,1,,,,,9",        # 12 more cells than columns
        f"{P},,2026-01-01 07:00,100,1,,,,",               # 13 missing outlet
        f"{P},DA001,2026-01-01 08:00,inf,1,,,,",          # 14 not finite
        f"{P},DW001,2026-01-01 00:00,,,7,30,1,",          # 15 ok
    ]) + "\n"
    v = M.load(text, REG)
    assert [(e.line, e.field, e.detail) for e in v.errors] == [
        (3, "hour", "duplicate of line 2"),
        (5, "outlet", f"permit {P} has no outlet DA009"),
        (6, "permit", "unknown permit NOPE"),
        (7, "hour", "hour must be on the hour (minute 00)"),
        (8, "hour", "hour must be YYYY-MM-DD HH:MM (CST)"),
        (9, "SO2_mg_m3", "is not a number"),
        (10, "SO2_mg_m3", "must not be negative"),
        (11, "flow_m3_h", "does not apply to an air outlet (DA001)"),
        (12, None, "more cells than header columns"),
        (13, "outlet", "missing value"),
        (14, "flow_nm3_h", "must be a finite number"),
    ]
    assert v.error_count == 11 and v.rows == 13 and v.accepted == 2
    assert sorted(v.frame["line"].to_list()) == [2, 15]


def test_days_already_imported_are_duplicate_periods() -> None:
    asked: list[tuple[date, date]] = []

    def imported(lo: date, hi: date) -> list[tuple[str, str, date]]:
        asked.append((lo, hi))
        return [(P, "DA001", date(2026, 1, 2))]

    reg = M.Registry(outlets=REG.outlets, imported=imported)
    text = AIR + f"{P},DA001,2026-01-01 23:00,1,1,,\n{P},DA001,2026-01-02 00:00,1,1,,\n" \
        f"{Q},DA001,2026-01-02 00:00,1,1,,\n"
    v = M.load(text, reg)
    assert asked == [(date(2026, 1, 1), date(2026, 1, 2))]
    assert [(e.line, e.field, e.detail) for e in v.errors] == [
        (3, "hour", f"2026-01-02 already imported for {P} DA001")]
    assert v.accepted == 2


def test_reads_files_with_bom_crlf_quotes_and_a_t_separator(tmp_path: Path) -> None:
    text = ('\ufeffpermit,outlet,hour,flow_nm3_h,SO2_mg_m3\r\n'
            f'"{P}",DA001,2026-01-01T00:00,"1000",2\r\n')
    path = tmp_path / "m.csv"
    path.write_bytes(text.encode("utf-8"))
    for src in (text, text.encode("utf-8"), path):
        v = M.load(src, REG)
        assert v.errors == [] and v.accepted == 1, src
        assert M.daily(v)["emitted_g"].to_list() == [2]


def test_a_line_break_inside_a_quoted_field_is_malformed() -> None:
    text = AIR + f'{P},"DA\n001",2026-01-01 00:00,1,1,,\n'
    v = M.load(text, REG)
    assert v.header is None and "line break" in v.errors[0].detail


def test_error_list_is_capped_but_counted() -> None:
    rows = "\n".join(f"{P},DA001,2026-01-01 00:00,-1,1,," for _ in range(M.MAX_ERRORS + 5))
    v = M.load(AIR + rows, REG)
    assert v.error_count == M.MAX_ERRORS + 5 and len(v.errors) == M.MAX_ERRORS
    assert v.errors[0].line == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 23), st.decimals("0", "500", places=2),
                          st.decimals("0", "900000", places=1)),
                min_size=1, max_size=24, unique_by=lambda t: t[0]))
def test_a_day_is_the_exact_sum_rounded_once(hours: list[tuple[int, Decimal, Decimal]]
                                             ) -> None:
    text = AIR + "\n".join(f"{P},DA001,2026-05-05 {h:02d}:00,{q},{c},," for h, c, q in hours)
    days = M.daily(M.load(text, REG))
    exact = sum((c * q / 1000 for _h, c, q in hours), Decimal(0))
    (got,) = days["emitted_g"].to_list()
    # float64 sums differ from the exact sum by far less than a gram: only an exact tie
    # could round the other way
    assert abs(Decimal(got) - exact) <= Decimal("0.5") + Decimal("1e-6")
    assert got == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) or \
        abs(exact - exact.to_integral_value()) == Decimal("0.5")


@pytest.mark.parametrize("reported, grams, hours, status, pct", [
    (100, 100_000, 24, "ok", "0.00"),
    (110, 100_000, 24, "ok", "10.00"),
    (111, 100_000, 24, "deviation", "11.00"),
    (50, 100_499, 24, "deviation", "-50.00"),
    (0, 0, 5, "ok", None),
    (3, 0, 5, "deviation", None),
    (10, None, 0, "no_monitoring_data", None),
])
def test_report_line_against_monitoring(reported: int, grams: int | None, hours: int,
                                        status: str, pct: str | None) -> None:
    c = M.check_report_line("DA001", "SO2", reported, grams, hours, Decimal(10))
    assert c.status == status
    assert (None if c.deviation_pct is None else str(c.deviation_pct)) == pct
