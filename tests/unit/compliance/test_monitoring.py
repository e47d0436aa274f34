"""Monitoring CSV (pure): header and units, row errors with line numbers, emissions by hand,
one half-even rounding per day, report-vs-monitoring comparison."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.supervision import emissions as E
from compliance.supervision import monitoring as M

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
                                                      r["substituted_hours"], r["power_kwh"])
            for r in E.daily(v).iter_rows(named=True)}
    # HJ 75 substitution (the old expectation left missing hours uncounted): DA001's day is
    # 00:00-23:00; the flow of 02:00-23:00 (22 h, at the end of the span) takes the valid
    # hour before it (100 000), SO2 of 03:00-23:00 likewise (20): 24 × 2 000 g, 22 flagged.
    # DW001 spans two days; the 46-hour gap (> 24 h) of COD and flow takes the largest valid
    # value before it (50 mg/L, 10 m3/h); NH3-N (2.5) the same up to 23:00 of 03-02.
    assert days == {
        ("DA001", "SO2", date(2026, 3, 1)): (48_000, 24, 22, 1000),
        ("DW001", "COD", date(2026, 3, 1)): (12_000, 24, 23, 0),
        ("DW001", "NH3-N", date(2026, 3, 1)): (600, 24, 23, 0),
        ("DW001", "COD", date(2026, 3, 2)): (12_000, 24, 23, 0),
        ("DW001", "NH3-N", date(2026, 3, 2)): (600, 24, 24, 0),
    }


def test_one_half_even_rounding_per_day() -> None:
    # 0.5 mg/Nm3 × 1 000 Nm3/h = 0.5 g/h: one hour rounds to 0, three hours (1.5) to 2
    # (whole days, so that nothing is substituted; zero readings are valid readings)
    rows = [f"{P},DA001,2026-01-01 {h:02d}:00,1000,{0.5 if h < 1 else 0},,"
            for h in range(24)]
    rows += [f"{Q},DA001,2026-01-01 {h:02d}:00,1000,{0.5 if h < 3 else 0},,"
             for h in range(24)]
    days = E.daily(M.load(AIR + "\n".join(rows), REG))
    got = {r["permit"]: r["emitted_g"] for r in days.iter_rows(named=True)}
    assert got == {P: 0, Q: 2}
    assert E.grams_to_kg(2500) == 2 and E.grams_to_kg(3500) == 4 and E.grams_to_kg(3501) == 4


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
        # one hour of 2 g; the other 23 hours of the day are substituted (HJ 75)
        assert E.daily(v)["emitted_g"].to_list() == [48]


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
                min_size=24, max_size=24, unique_by=lambda t: t[0]))
def test_a_day_is_the_exact_sum_rounded_once(hours: list[tuple[int, Decimal, Decimal]]
                                             ) -> None:
    text = AIR + "\n".join(f"{P},DA001,2026-05-05 {h:02d}:00,{q},{c},," for h, c, q in hours)
    days = E.daily(M.load(text, REG))
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
    c = E.check_report_line("DA001", "SO2", reported, grams, hours, Decimal(10))
    assert c.status == status
    assert (None if c.deviation_pct is None else str(c.deviation_pct)) == pct


# ---------------------------------------------------------------- HJ 75 accounting

O2 = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,SO2_ref_mg_m3,o2_pct\n"
REF6 = M.Registry(outlets=REG.outlets, reference_o2={(P, "DA001"): Decimal(6)})


def _day_rows(conc: float, o2: float, corr: str = "", skip: tuple[int, ...] = ()) -> str:
    return "\n".join(f"{P},DA001,2026-04-01 {h:02d}:00,100000,{conc},{corr},{o2}"
                     for h in range(24) if h not in skip) + "\n"


def test_mass_is_measured_concentration_times_dry_flow_not_the_corrected() -> None:
    # O2 13.5 % against a 6 % reference: corrected = 50 × 15 / 7.5 = 100 (twice measured)
    v = M.load(O2 + _day_rows(50, 13.5, "100"), REF6)
    assert v.errors == []
    (row,) = E.daily(v).iter_rows(named=True)
    assert row["emitted_g"] == 24 * 50 * 100_000 // 1000 == 120_000  # not 240 000
    assert row["substituted_hours"] == 0
    # the limit judges the corrected value: 100 > 80 is an exceedance, 50 would not be
    s = E.hourly_series(v)
    judged = s.judged("SO2")
    assert judged[0] == pytest.approx(100.0)
    from compliance.supervision import screening as S
    found = S.exceedances(s, {(P, "DA001", "SO2"): Decimal(80)})
    assert [(a.kind, a.evidence["hours"], a.evidence["peak"]) for a in found] == [
        ("exceedance", 24, "100")]


def test_corrected_value_computed_from_o2_when_not_given_and_checked_when_given() -> None:
    v = M.load(O2 + _day_rows(50, 13.5), REF6)
    assert v.errors == [] and E.hourly_series(v).judged("SO2")[5] == pytest.approx(100.0)
    v = M.load(O2 + _day_rows(50, 13.5, "60"), REF6)
    assert v.error_count == 24
    e = v.errors[0]
    assert (e.line, e.field) == (2, "SO2_ref_mg_m3") and "21" in e.detail


def test_air_hours_need_o2_where_the_sector_has_a_reference() -> None:
    v = M.load(AIR + f"{P},DA001,2026-04-01 00:00,1000,5,6,\n", REF6)
    assert [(e.field, e.line) for e in v.errors] == [("o2_pct", 2)]
    # without a reference for the outlet (e.g. a sector with none), no O2 is needed
    assert M.load(AIR + f"{P},DA001,2026-04-01 00:00,1000,5,6,\n", REG).errors == []


def test_missing_reference_o2_is_refused_naming_the_field() -> None:
    reg = M.Registry(outlets=REG.outlets, reference_o2={(P, "DA001"): None})
    v = M.load(O2 + _day_rows(50, 10), reg)
    assert v.error_count == 24 and v.errors[0].field == "o2_ref_pct"
    # given in the file, it is used
    text = ("permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct,o2_ref_pct\n"
            f"{P},DA001,2026-04-01 00:00,1000,50,13.5,6\n")
    v = M.load(text, reg)
    assert v.errors == [] and E.hourly_series(v).judged("SO2")[0] == pytest.approx(100.0)
    # and must agree with the sector's where the table has one
    v = M.load(text.replace(",6\n", ",3\n"), REF6)
    assert [e.field for e in v.errors] == ["o2_ref_pct"]


def test_o2_out_of_range_and_unknown_status_are_row_errors() -> None:
    text = ("permit,outlet,hour,flow_nm3_h,SO2_mg_m3,o2_pct,status\n"
            f"{P},DA001,2026-04-01 00:00,1000,50,21,N\n"
            f"{P},DA001,2026-04-01 01:00,1000,50,-1,N\n"
            f"{P},DA001,2026-04-01 02:00,1000,50,10,Q\n")
    v = M.load(text, REF6)
    assert [(e.line, e.field) for e in v.errors] == [(2, "o2_pct"), (3, "o2_pct"),
                                                     (4, "status")]


def test_a_three_hour_gap_takes_the_mean_of_the_hours_around_it_and_is_flagged() -> None:
    rows = [f"{P},DA001,2026-04-01 {h:02d}:00,1000,{10 if h < 10 else 30},,"
            for h in range(24) if h not in (10, 11, 12)]
    # hours 10-12 missing: (10 + 30) / 2 = 20 mg/Nm3 × 1 000 Nm3/h = 20 g each
    (row,) = E.daily(M.load(AIR + "\n".join(rows) + "\n", REG)).iter_rows(named=True)
    assert row["substituted_hours"] == 3 and row["hours"] == 24
    assert row["emitted_g"] == 10 * 10 + 3 * 20 + 11 * 30


def test_invalid_hours_are_substituted_and_stopped_hours_count_nothing() -> None:
    head = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,status\n"
    rows = [f"{P},DA001,2026-04-01 {h:02d}:00,1000,{10 if h < 10 else 30},"
            f"{'C' if h == 10 else 'F' if h == 20 else 'N'}" for h in range(24)]
    (row,) = E.daily(M.load(head + "\n".join(rows) + "\n", REG)).iter_rows(named=True)
    # 10:00 under calibration -> (10 + 30) / 2; 20:00 stopped -> no emission, not counted
    assert (row["hours"], row["substituted_hours"]) == (23, 1)
    assert row["emitted_g"] == 10 * 10 + 20 + 12 * 30


def test_a_gap_longer_than_24_hours_takes_the_largest_of_the_720_valid_hours_before() -> None:
    rows = []
    for d in range(1, 5):
        for h in range(24):
            n = (d - 1) * 24 + h
            if 48 <= n < 78:  # a 30-hour gap from 04-03 00:00
                continue
            conc = 40 if n == 5 else 10  # the largest valid value before the gap
            rows.append(f"{P},DA001,2026-04-{d:02d} {h:02d}:00,1000,{conc},,")
    days = E.daily(M.load(AIR + "\n".join(rows) + "\n", REG))
    got = {r["day"].day: (r["emitted_g"], r["substituted_hours"])
           for r in days.iter_rows(named=True)}
    assert got[3] == (24 * 40, 24) and got[4] == (6 * 40 + 18 * 10, 6)
    assert got[1] == (23 * 10 + 40, 0)
    # the series helper directly: the 720-hour window ends at the gap
    x = np.array([1.0, 9.0, 2.0] + [np.nan] * 25 + [3.0])
    out, sub = E.substitute(x, np.array([0, x.size]), np.zeros(x.size, bool), 24, 2)
    assert out[3] == 9.0 and sub.sum() == 25  # the last 2 valid hours before: 9, 2
    out, sub = E.substitute(x, np.array([0, x.size]), np.zeros(x.size, bool), 24, 1)
    assert out[3] == 2.0
