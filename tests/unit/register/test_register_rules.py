"""The permit register's pure rules: row validation with line numbers, whole kg, the 5-year
term, the renewal window, shown status, and a content hash independent of row order."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocation.register import (
    PermitTermTooLong,
    RenewalAfterExpiry,
    check_term,
    credit_code_error,
    expiring,
    industry_error,
    parse_permit_rows,
    permit_code_error,
    renewal_is_late,
    shown_status,
    term_end_limit,
    tonnes_to_kg,
)

SAMPLE = Path(__file__).parents[2] / "data" / "permits-sample.csv"
DISTRICTS = {"500101", "500115", "500112", "500118"}


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_sample_parses() -> None:
    p = parse_permit_rows(rows(SAMPLE.read_text(encoding="utf-8")), districts=DISTRICTS)
    assert p.errors == [] and p.rows == 11 and len(p.records) == 4
    a = next(r for r in p.records if r.code.startswith("91500101"))
    assert a.quantities()[("SO2", 2026)] == 420_500
    assert a.eia_kg == {"SO2": 450_000, "NOx": 650_000, "PM": 130_000}
    assert {o.outlet_type for o in a.outlets} == {"main", "general", "fugitive"}
    assert a.management_class == "key" and a.site_seq == 1


@given(st.integers(min_value=0, max_value=10**9))
def test_tonnes_with_three_decimals_are_whole_kg(kg: int) -> None:
    text = f"{kg // 1000}.{kg % 1000:03d}"
    assert tonnes_to_kg(text) == kg


@pytest.mark.parametrize("bad", ["1.0001", "12 kg", "-1", "abc", "NaN", "1e20"])
def test_quantity_not_whole_kg_or_not_tonnes_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        tonnes_to_kg(bad)


def test_codes() -> None:
    assert credit_code_error("91500101MA5UAAAA1C") is None
    assert "check digit" in str(credit_code_error("91500101MA5UAAAA1D"))
    assert "18 characters" in str(credit_code_error("9150"))
    assert "22 characters" in str(permit_code_error("91500101MA5UAAAA1C01N", ""))
    assert "does not start" in str(permit_code_error("91500101MA5UAAAA1X001N",
                                                     "91500101MA5UAAAA1C"))
    assert industry_error("D4411") is None
    assert "unknown" in str(industry_error("D4499"))
    assert "letter and 2-4 digits" in str(industry_error("4411"))


def test_five_year_term() -> None:
    assert term_end_limit(date(2026, 1, 1)) == date(2030, 12, 31)
    assert term_end_limit(date(2028, 2, 29)) == date(2033, 2, 27)
    check_term(date(2026, 1, 1), date(2030, 12, 31))
    with pytest.raises(PermitTermTooLong):
        check_term(date(2026, 1, 1), date(2031, 1, 1))


def test_renewal_window_and_status() -> None:
    end = date(2030, 12, 31)
    assert renewal_is_late(date(2030, 11, 1), end) is False  # 60 days before
    assert renewal_is_late(date(2030, 11, 2), end) is True
    assert renewal_is_late(end, end) is True
    with pytest.raises(RenewalAfterExpiry):
        renewal_is_late(date(2031, 1, 1), end)
    assert shown_status("valid", end, date(2031, 1, 1)) == "expired"
    assert shown_status("valid", end, end) == "valid"
    assert shown_status("revoked", end, date(2031, 1, 1)) == "revoked"
    assert expiring(end, date(2030, 11, 1)) and not expiring(end, date(2030, 10, 31))


def test_row_errors_name_line_and_column() -> None:
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",mg/m3,", ",mg/L,")  # water unit on an air outlet
    text[8] = text[8].replace("12,12,12", "12,12.5,12").replace(",简化,", ",简化管理,")
    p = parse_permit_rows(rows("\n".join(text)), districts=DISTRICTS)
    got = {(e.line, e.field, e.code) for e in p.errors}
    assert (3, "limit_unit", "bad_unit") in got
    assert not any(e.line == 9 for e in p.errors)  # 12.5 t = 12 500 kg is fine
    # a registration record with a quantity
    reg = SAMPLE.read_text(encoding="utf-8").splitlines()
    cells = next(csv.reader([reg[11]]))
    cells[8:14] = ["DA001", "general", "air", "PM", "20", "mg/m3"]
    cells[9] = "main"
    cells[14] = "1"
    buf = io.StringIO()
    csv.writer(buf).writerow(cells)
    p2 = parse_permit_rows(rows(reg[0] + "\n" + buf.getvalue()), districts=DISTRICTS)
    assert [(e.line, e.code) for e in p2.errors] == [(2, "registration_with_quantity")]


def test_conflicting_and_duplicate_rows() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    dup = lines[:3] + [lines[2]]
    p = parse_permit_rows(rows("\n".join(dup)), districts=DISTRICTS)
    assert [(e.line, e.code) for e in p.errors] == [(4, "duplicate_row")]
    assert p.records == []  # the permit is rejected whole
    conflict = lines[:3] + [lines[3].replace("2030-12-31", "2030-06-30")]
    p = parse_permit_rows(rows("\n".join(conflict)), districts=DISTRICTS)
    assert (4, "valid_to") in {(e.line, e.field) for e in p.errors}


def test_content_hash_ignores_row_order() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    a = parse_permit_rows(rows("\n".join(lines)), districts=DISTRICTS)
    b = parse_permit_rows(rows("\n".join([lines[0], *reversed(lines[1:])])),
                          districts=DISTRICTS)
    ha = {r.code: r.content_hash() for r in a.records}
    hb = {r.code: r.content_hash() for r in b.records}
    assert ha == hb
    changed = parse_permit_rows(rows("\n".join(lines).replace("420.5", "420.4", 1)),
                                districts=DISTRICTS)
    assert {r.code: r.content_hash() for r in changed.records} != ha
