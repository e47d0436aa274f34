"""The one CSV writer of every export: text a spreadsheet would run is made inert, reversibly;
numbers stay numbers; every export goes through it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from compliance.reporting.statistics import statistics_csv
from kernel import csvout
from web.statements import holdings_csv, trades_csv

ATTACKS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
           "=cmd|' /C calc'!A0"]


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_formula_text_is_made_inert() -> None:
    for a in ATTACKS:
        assert csvout.cell(a) == "'" + a
    for safe in ("DA001", "2026-01-02", "9150000", "", "a=b", " =x", "中文"):
        assert csvout.cell(safe) == safe


def test_numbers_stay_numbers_and_strings_that_look_like_numbers_do_not() -> None:
    assert csvout.cell(-5) == "-5" and csvout.cell(0) == "0"
    assert csvout.cell(Decimal("-1.50")) == "-1.50" and csvout.cell(-0.25) == "-0.25"
    assert csvout.cell("-5") == "'-5"  # text is text: pass an int for a number
    assert csvout.cell(True) == "true" and csvout.cell(None) == ""
    assert csvout.cell(float("-inf")) == "'-inf"  # not a finite number: text


@given(st.text())
def test_the_escape_is_reversible(s: str) -> None:
    out = csvout.cell(s)
    assert not out.startswith(csvout.FORMULA_PREFIXES)
    assert csvout.unescape(out) == s
    # and survives a CSV round trip, whatever line breaks or quotes it holds
    text = csvout.to_text(["h"], [[s, s]])
    assert [csvout.unescape(c) for c in read(text)[1]] == [s, s]
    assert len(read(text)) == 2


def test_to_text_and_writer() -> None:
    text = csvout.to_text(("a", "b"), [["=x", 1], [None, "-y"]])
    assert read(text) == [["a", "b"], ["'=x", "1"], ["", "'-y"]]
    buf = io.StringIO()
    w = csvout.writer(buf, lineterminator="\r\n")
    w.writerows([["+1"], [2], [""], ['a"b', "c,d", "e\rf"]])
    assert buf.getvalue() == "'+1\r\n2\r\n\"\"\r\n\"a\"\"b\",\"c,d\",\"e\rf\"\r\n"


@given(st.lists(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=4),
                max_size=4))
def test_written_as_the_csv_module_reads(rows: list[list[object]]) -> None:
    text = csvout.to_text(None, rows)
    assert [[csvout.unescape(c) for c in r] for r in read(text)] == [
        [str(c) for c in r] for r in rows]


def test_statistics_export_is_inert() -> None:
    rows = [("=HYPERLINK(1)", "P1", 2025, "Y", "-DA", "SO2", -3)]
    assert read(statistics_csv(rows))[1] == ["'=HYPERLINK(1)", "P1", "2025", "Y", "'-DA",
                                             "SO2", "-3"]


def test_statements_are_inert() -> None:
    trade = {"id": 7, "at": "2026-01-02T00:00:00+00:00", "market": "=HYPERLINK(\"x\")",
             "buyer": "E1", "seller": "E2", "qty": 1000, "price": 305_000,
             "value_fen": 305_000, "buyer_permit": "@P1", "seller_permit": "+P2"}
    r = trades_csv("E1", [trade], "en")  # Beijing time, yuan (issue 18)
    assert r.headers["content-type"].startswith("text/csv")
    rows = read(bytes(r.body).decode())
    assert rows[1] == ["7", "2026-01-02 08:00", "'=HYPERLINK(\"x\")", "Buy", "1000",
                       "3,050.00", "3,050.00", "0.00", "'@P1", "'+P2"]
    h = holdings_csv("E1", [{"holder": "-E1", "kind": "tradable", "asset": "CNY",
                             "balance": -100, "on_hold": 0, "available": -100,
                             "upper_limit": None}], "en")
    assert read(bytes(h.body).decode())[1] == ["'-E1", "Tradable", "CNY", "-1.00", "0.00",
                                               "-1.00", "", "yuan"]
