"""Fuzz of the file readers (issue 19): arbitrary bytes, arbitrary cell text and damaged
workbooks never raise anything but the documented input errors.

- `compliance.reporting.workbook.upload_text` / `rows_of`: a str, or `BadWorkbook` (422
  bad_workbook);
- `compliance.reporting.reports.parse_csv`: a `Validation` with row errors, never an exception;
- `allocation.register.parse_permit_rows` over `csv.reader`: a `Parsed` with row errors.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from allocation.register import Parsed, parse_permit_rows
from compliance.errors import BadWorkbook
from compliance.reporting import reports as R
from compliance.reporting.workbook import rows_of, upload_text, xlsx_to_csv

P1 = "91500000AAAAAAAA1Y001U"
REG = R.Registry(outlets={(P1, "DA001"): "air", (P1, "DW001"): "water"},
                 permits=frozenset({P1}), reported=frozenset())
HEADER = "permit,year,period,outlet,pollutant,quantity,unit"
SAMPLE = Path(__file__).parents[2] / "data" / "permits-sample.csv"
DISTRICTS = {"500101", "500115", "500112", "500118"}
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def package(sheet: str, strings: str | None = None, styles: str | None = None) -> bytes:
    """A workbook package written by hand around one sheet part."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
                               'openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship '
                       f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                       '</Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RNS}">'
                           '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
                           '</workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2"'
            f' Type="{REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship '
            f'Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    if styles is not None:
        parts["xl/styles.xml"] = styles
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def sheet_xml(rows: str) -> str:
    return (f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>{rows}</sheetData>'
            '</worksheet>')


def openpyxl_file(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def reads_or_refuses(data: bytes, name: str | None = None) -> str | None:
    try:
        return upload_text(data, name)
    except BadWorkbook as exc:
        assert exc.code == "bad_workbook" and exc.field == "file" and exc.message
        return None


# -- arbitrary bytes -----------------------------------------------------------------------
@FUZZ
@given(st.binary(max_size=4000), st.sampled_from([None, "r.csv", "r.xlsx", "R.XLSM"]))
@example(b"PK\x03\x04", "r.xlsx")
@example(b"\xff\xfe\x00", None)
def test_arbitrary_bytes_are_read_or_refused(data: bytes, name: str | None) -> None:
    reads_or_refuses(data, name)
    reads_or_refuses(b"PK\x03\x04" + data, name)


# -- damaged workbooks ---------------------------------------------------------------------
GOOD = openpyxl_file([HEADER.split(","), [P1, 2025, "Y", "DA001", "SO2", 4000, "kg"],
                      ["=1+1", 1.5, True, None, "文字"]])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1,
                max_size=8),
       st.integers(0, len(GOOD)))
def test_damaged_workbooks_are_read_or_refused(flips: list[tuple[int, int]], cut: int
                                                ) -> None:
    data = bytearray(GOOD)
    for at, byte in flips:
        data[at] = byte
    reads_or_refuses(bytes(data), "r.xlsx")
    reads_or_refuses(bytes(data[:cut]), "r.xlsx")


# -- arbitrary sheet contents --------------------------------------------------------------
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
#: text XML can carry (control characters other than tab and line breaks make the part
#: not well-formed, which is refused; mostly the fuzz should get through to the cells)
xml_texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["0", "1", "-1.5", "1e308", "1e309", "46023", "2026-01-02T00:00:00",
                     "9" * 500, "１２", "1_0", " 7 ", "nan", "inf", "TRUE"]),
    texts)
refs = st.one_of(st.none(), st.text("ABCXYZ019", max_size=9),
                 st.builds(lambda c, r: f"{c}{r}", st.sampled_from(["A", "B", "Z", "AA", "XFD",
                                                                     "IV", "IW"]),
                           st.one_of(st.integers(1, 9), st.integers(-2, 1_100_000))))
kinds = st.sampled_from([None, "s", "n", "b", "e", "str", "inlineStr", "d", "zzz"])


def _attr(name: str, v: str | None) -> str:
    return "" if v is None else f" {name}={quoteattr(v)}"


@st.composite
def sheets(draw: st.DrawFn) -> tuple[str, str]:
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row_r = draw(st.one_of(st.none(), st.integers(-1, 1_100_000).map(str), xml_texts))
        cells = []
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(kinds)
            body = escape(draw(xml_texts))
            inner = (f"<is><t>{body}</t></is>" if kind == "inlineStr" and draw(st.booleans())
                     else f"<v>{body}</v>")
            style = draw(st.one_of(st.none(), st.sampled_from(["0", "1", "2", "99", "x"])))
            cells.append(f'<c{_attr("r", draw(refs))}{_attr("t", kind)}{_attr("s", style)}>'
                         f"{inner}</c>")
        rows.append(f'<row{_attr("r", row_r)}>{"".join(cells)}</row>')
    strings = "".join(f"<si><t>{escape(s)}</t></si>" for s in draw(st.lists(xml_texts,
                                                                              max_size=3)))
    return sheet_xml("".join(rows)), (f'<?xml version="1.0"?><sst xmlns="{NS}">{strings}'
                                      "</sst>")


STYLES = (f'<?xml version="1.0"?><styleSheet xmlns="{NS}"><numFmts count="1"><numFmt '
          'numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs count="3"><xf '
          'numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>')


@FUZZ
@given(sheets())
def test_arbitrary_cells_are_read_or_refused(parts: tuple[str, str]) -> None:
    sheet, strings = parts
    text = reads_or_refuses(package(sheet, strings, STYLES), "r.xlsx")
    if text is not None:  # whatever was read, the importer reports it row by row
        v = R.parse_csv(text, REG)
        assert all(e.line >= 1 for e in v.errors)


@FUZZ
@given(st.lists(st.lists(st.one_of(texts, st.integers(-10**20, 10**20),
                                   st.floats(allow_nan=True), st.booleans(), st.none()),
                         max_size=9), max_size=6))
def test_cells_written_by_a_spreadsheet_program_always_read(rows: list[list[object]]
                                                            ) -> None:
    """What openpyxl writes (any text, number, flag) is read, never refused; row n is
    line n."""
    clean = [[c.replace("\x00", "") if isinstance(c, str) else c for c in r] for r in rows]
    try:
        data = openpyxl_file(clean)
    except Exception:  # openpyxl refuses some control characters itself
        return
    got = rows_of(data)
    assert len(got) <= len(rows)
    lines = list(csv.reader(io.StringIO(xlsx_to_csv(data))))
    assert len(lines) == len(got)


# -- CSV text ------------------------------------------------------------------------------
csv_cells = st.one_of(texts, st.sampled_from([P1, "2025", "Y", "Q1", "DA001", "SO2", "kg", "t",
                                              "9223372036854775808", "1e25", "-0", "1e-999999",
                                              "NaN", "Infinity", "１２", "1_000", '"', "\r",
                                              "\x00", "=HYPERLINK(1)"]))


@FUZZ
@given(st.lists(st.lists(csv_cells, max_size=9), max_size=6), st.booleans())
def test_report_csv_never_raises(rows: list[list[str]], header: bool) -> None:
    body = "\n".join(",".join(r) for r in rows)
    text = (HEADER + "\n" + body) if header else body
    v = R.parse_csv(text, REG)
    assert all(e.line >= 1 for e in v.errors)
    for ln in v.lines:
        assert 0 <= ln.actual_kg <= R.MAX_LINE_KG


@FUZZ
@given(st.binary(max_size=2000))
def test_report_csv_bytes_never_raise(data: bytes) -> None:
    text = reads_or_refuses(data, "r.csv")
    if text is not None:
        R.parse_csv(text, REG)
        R.parse_csv(HEADER + "\n" + text, REG)


# -- the permit register's reader ----------------------------------------------------------
SAMPLE_LINES = SAMPLE.read_text(encoding="utf-8").splitlines()


@FUZZ
@given(st.lists(st.lists(csv_cells, max_size=30), max_size=5), st.integers(1, 4))
def test_permit_rows_never_raise(rows: list[list[str]], keep: int) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    text = "\n".join(SAMPLE_LINES[:keep]) + "\n" + buf.getvalue()
    p = parse_permit_rows(csv.reader(io.StringIO(text)), districts=DISTRICTS)
    assert isinstance(p, Parsed)


@FUZZ
@given(st.text(max_size=3000))
@example('"' + "x" * 200_000)  # longer than the csv module's field limit
@example(SAMPLE_LINES[0] + '\n"' + "x" * 200_000)
def test_permit_text_never_raises(text: str) -> None:
    p = parse_permit_rows(csv.reader(io.StringIO(text)), districts=DISTRICTS)
    assert isinstance(p, Parsed)
    p = parse_permit_rows(csv.reader(io.StringIO(SAMPLE_LINES[0] + "\n" + text)),
                          districts=DISTRICTS)
    assert isinstance(p, Parsed)
