"""The typed fast path of the monitoring reader gives exactly what the text path gives: the
same valid rows and values, the same row errors with their lines and fields, whether the
file parses cleanly (fast path), has unparsable readings (row-by-row fallback), or has
fields starting with a blank or quotes (whole-file text path); and the new row checks
(future hours, permit validity, magnitudes) hold on both paths."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.supervision import emissions as E
from compliance.supervision import monitoring as M

P = "91500000AAAAAAAA1X001Z"
REG = M.Registry(outlets={(P, "DA001"): "air", (P, "DW001"): "water"})
MIXED = "permit,outlet,hour,flow_nm3_h,SO2_mg_m3,flow_m3_h,COD_mg_l,power_kwh\n"
#: cells: valid numbers, empty, and what the text path calls "not a number"
CELLS = ["12", "0.5", "1e3", "", "abc", "1_000", "0x10", "１２", "--1", "1.2.3", "nan", "inf",
         "-3", "+.5", "5."]


def _both(text: str, reg: M.Registry = REG) -> tuple[M.Validation, M.Validation]:
    return M.load(text, reg), M.load(text, reg, typed=False)


def _same(a: M.Validation, b: M.Validation) -> None:
    assert [(e.line, e.field, e.detail) for e in a.errors] == \
        [(e.line, e.field, e.detail) for e in b.errors]
    assert (a.error_count, a.rows, a.accepted) == (b.error_count, b.rows, b.accepted)
    assert a.frame.equals(b.frame)


def _air(h: int, flow: str, so2: str, power: str = "1") -> str:
    return f"{P},DA001,2026-03-01 {h:02d}:00,{flow},{so2},,,{power}"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CELLS), st.sampled_from(CELLS),
                          st.sampled_from(CELLS)), min_size=1, max_size=24))
def test_typed_equals_text(rows: list[tuple[str, str, str]]) -> None:
    text = MIXED + "\n".join(_air(h, f, s, p) for h, (f, s, p) in enumerate(rows)) + "\n"
    _same(*_both(text))


def test_unparsable_readings_fall_back_row_by_row() -> None:
    text = MIXED + "\n".join([_air(0, "100", "20"), _air(1, "1_000", "20"),
                              _air(2, "100", "x"), _air(3, "100", "21"),
                              f"{P},DW001,2026-03-01 00:00,,,10,５,"]) + "\n"
    typed, plain = _both(text)
    _same(typed, plain)
    assert [(e.line, e.field, e.detail) for e in typed.errors] == [
        (3, "flow_nm3_h", "is not a number"), (4, "SO2_mg_m3", "is not a number"),
        (6, "COD_mg_l", "is not a number")]
    assert typed.frame["SO2"].to_list() == [20.0, 21.0]


def test_a_leading_blank_is_not_a_number_on_every_path(tmp_path: Path) -> None:
    text = MIXED + _air(0, " 100", "20") + "\n" + _air(1, "100", "\t20") + "\n"
    typed, plain = _both(text)
    _same(typed, plain)
    assert [e.field for e in typed.errors] == ["flow_nm3_h", "SO2_mg_m3"]
    f = tmp_path / "m.csv"
    f.write_text(text)  # from a file too, the blank found across read blocks
    _same(M.load(f, REG), plain)


def test_new_row_checks_hold_on_both_paths() -> None:
    reg = M.Registry(outlets=REG.outlets, not_after=datetime(2026, 3, 1, 3, 0),
                     validity={P: (date(2026, 1, 1), date(2026, 12, 31))})
    text = MIXED + "\n".join([
        _air(0, "1e9", "1"), _air(1, "1e8", "2e6"), _air(2, "100", "20", "2e9"),
        _air(3, "100", "20"),  # not ended by 03:00
        f"{P},DA001,2025-12-31 23:00,100,20,,,1",  # before the permit
        f"{P},DW001,2026-03-01 00:00,,,1e8,1e6,",  # water: 1e14 g in one hour
        f"{P},DA001,1989-12-31 23:00,100,20,,,1"]) + "\n"
    typed, plain = _both(text, reg)
    _same(typed, plain)
    assert [(e.line, e.field) for e in typed.errors] == [
        (2, "flow_nm3_h"), (3, "SO2_mg_m3"), (4, "power_kwh"), (5, "hour"), (6, "hour"),
        (7, "COD_mg_l"), (8, "hour")]
    assert "validity of permit" in typed.errors[4].detail
    assert "1990-01-01" in typed.errors[6].detail


@pytest.mark.parametrize("bad", ["1e14", "1e400"])
def test_no_cast_overflows_after_validation(bad: str) -> None:
    text = MIXED + _air(0, bad, "1e10") + "\n" + _air(1, "100", "20") + "\n"
    v = M.load(text, REG)
    assert v.error_count == 1 and v.accepted == 1
    days = E.daily(v)
    # 20 × 100 × 1e-3 = 2 g an hour; the other 23 hours of the day are substituted
    assert days["emitted_g"].to_list() == [48]
    assert days.schema["emitted_g"] == pl.Int64
