"""Excel workbooks become the CSV the importer takes: row n is line n, numbers and dates are
written as the importer reads them, and a broken file is a BadWorkbook, never a crash."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from compliance.errors import BadWorkbook
from compliance.reporting import reports as R
from compliance.reporting.report_parameters import V2018
from compliance.reporting.workbook import csv_text, upload_text, xlsx_to_csv

HEADER = ["permit", "year", "period", "outlet", "pollutant", "quantity", "unit"]
P1 = "91500000AAAAAAAA1Y001U"
REG = R.Registry(outlets={(P1, "DA001"): "air", (P1, "DW001"): "water"},
                 permits=frozenset({P1}), reported=frozenset())


def xlsx(rows: list[list[object]], extra_sheet: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if extra_sheet:
        wb.create_sheet("other").append(["ignored"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_cells_are_written_as_the_importer_reads_them() -> None:
    data = xlsx([HEADER,
                 [P1, 2026, "Y", "DA001", "SO2", 4000, "kg"],
                 [P1, 2026.0, "Q1", "DA001", "NOx", 1.234, "t"],
                 [P1, 2026, "Q1", "DW001", "COD", 0.1, "t", None, None],
                 [],
                 [P1, 2026, "Q2", "DA\n001", "SO2", 5, "kg"],
                 [datetime(2026, 1, 2), date(2026, 1, 3), True, None, None, None, None]])
    lines = xlsx_to_csv(data).splitlines()
    assert lines[0] == ",".join(HEADER)
    assert lines[1] == f"{P1},2026,Y,DA001,SO2,4000,kg"
    assert lines[2] == f"{P1},2026,Q1,DA001,NOx,1.234,t"
    assert lines[3] == f"{P1},2026,Q1,DW001,COD,0.1,t"  # trailing empty cells dropped
    assert lines[4] == ""
    assert lines[5] == f"{P1},2026,Q2,DA 001,SO2,5,kg"  # a line break cannot shift lines
    assert lines[6] == "2026-01-02,2026-01-03,TRUE"
    v = R.parse_csv(xlsx_to_csv(data), REG, V2018)  # lines only: no fields required
    assert [(ln.line, ln.actual_kg) for ln in v.lines] == [(2, 4000), (3, 1234), (4, 100)]
    assert [(e.line, e.field) for e in v.errors] == [(6, "outlet"), (7, "outlet")]


quantities = st.one_of(st.integers(min_value=0, max_value=10**9),
                       st.decimals(min_value=0, max_value=10**6, places=3).map(
                           lambda d: float(d)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Y", "Q1", "Q2", "Q3", "Q4", "Q5"]),
                          st.sampled_from(["SO2", "NOx", "COD", "XX"]), quantities,
                          st.sampled_from(["kg", "t", "lb"])), max_size=12))
def test_workbook_and_csv_validate_alike(rows: list[tuple[str, str, object, str]]) -> None:
    """The same rows typed into a sheet or written into a CSV give the same lines and the
    same errors at the same line numbers."""
    def text_of(q: object) -> str:
        return str(int(q)) if isinstance(q, float) and q.is_integer() else repr(q) \
            if isinstance(q, float) else str(q)

    sheet = [HEADER] + [[P1, 2026, per, "DA001", pol, q, unit] for per, pol, q, unit in rows]
    csv = "\n".join([",".join(HEADER)] + [f"{P1},2026,{per},DA001,{pol},{text_of(q)},{unit}"
                                          for per, pol, q, unit in rows])
    a, b = R.parse_csv(xlsx_to_csv(xlsx(sheet)), REG), R.parse_csv(csv, REG)
    assert a.lines == b.lines
    assert a.errors == b.errors


def test_only_the_first_sheet_is_read() -> None:
    out = xlsx_to_csv(xlsx([HEADER], extra_sheet=True))
    assert "ignored" not in out


@pytest.mark.parametrize("data", [
    b"PK\x03\x04 definitely not a zip",
    b"",
    b"\x00\x01binary",
])
def test_malformed_workbooks_are_refused(data: bytes) -> None:
    with pytest.raises(BadWorkbook):
        xlsx_to_csv(data)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(BadWorkbook) as exc:
        xlsx_to_csv(buf.getvalue())
    assert exc.value.code == "bad_workbook" and exc.value.field == "file"


def test_a_workbook_that_unpacks_too_far_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import compliance.reporting.workbook as W

    monkeypatch.setattr(W, "MAX_UNPACKED_BYTES", 100)
    with pytest.raises(BadWorkbook, match="unpacks"):
        xlsx_to_csv(xlsx([HEADER]))


def test_csv_bytes_utf8_bom_and_gb18030() -> None:
    assert csv_text("\ufeffpermit,备注\n".encode()) == "permit,备注\n"
    assert csv_text("permit,备注\n".encode("gb18030")) == "permit,备注\n"
    assert upload_text(b"a,b\n", "x.csv") == "a,b\n"
    with pytest.raises(BadWorkbook):
        upload_text(b"", "x.csv")
    with pytest.raises(BadWorkbook):
        upload_text(b"junk", "report.xlsx")  # named .xlsx but not one


def test_report_fields_from_a_workbook() -> None:
    """Excel's TRUE, whole numbers typed as 8760.0 and the report-level columns on the first
    row only come through as the CSV importer reads them."""
    head = HEADER + ["operating_hours", "output", "output_unit", "capacity",
                     "facility_normal_hours", "facility_abnormal_hours", "abnormal_reason",
                     "monitoring_samples", "monitoring_exceedances", "records_kept",
                     "tax_paid_fen", "commitment", "commitment_by"]
    data = xlsx([head,
                 [P1, 2025, "Y", "DA001", "SO2", 4000, "kg", 8000.0, 90000, "t", 100000,
                  7900, 12, "bag filter change", 52, 1, True, 123456, True, "张三"],
                 [P1, 2025, "Y", "DA001", "NOx", 5, "t"]])
    v = R.parse_csv(xlsx_to_csv(data), REG)
    assert v.errors == []
    d = v.details[(P1, 2025, "Y")]
    assert (d.operating_hours, d.records_kept, d.commitment, d.commitment_by) == \
        (8000, True, True, "张三")
    assert d.flags() == ["monitoring_exceedances", "facility_abnormal"]
