"""Reading a workbook cannot be amplified (issue 19): the declared dimension is ignored, every
limit (rows, columns, cells, XML elements, zip members, unpacked bytes, time, DTDs) refuses
with `BadWorkbook`, and what the streaming reader reads equals what openpyxl reads."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from compliance.errors import BadWorkbook
from compliance.reporting import workbook as W
from compliance.reporting.workbook import rows_of, xlsx_to_csv

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def package(sheet_body: str, *, dimension: str | None = "A1:XFD100001",
            strings: list[str] | None = None, styles: str | None = None,
            workbook_pr: str = "", extra: dict[str, str] | None = None,
            prolog: str = "") -> bytes:
    """An .xlsx written by hand (zipfile), as an attacker would: one sheet part whose
    `dimension` claims what it likes."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    rels = (f'<Relationship Id="rId1" Type="{REL}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
                               'openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship '
                       f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                       "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RNS}">'
                           f"{workbook_pr}<sheets><sheet name=\"S\" sheetId=\"1\" "
                           'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
                                      f"{rels}</Relationships>",
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?>{prolog}<worksheet xmlns="{NS}">'
                                    f"{dim}<sheetData>{sheet_body}</sheetData></worksheet>",
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0"?><sst xmlns="{NS}">'
            + "".join(f"<si>{s}</si>" for s in strings) + "</sst>")
    if styles is not None:
        parts["xl/styles.xml"] = f'<?xml version="1.0"?><styleSheet xmlns="{NS}">{styles}' \
                                 "</styleSheet>"
    parts.update(extra or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


BOMB_CELLS = (f'<row r="1">{inline("A1", "permit")}{inline("B1", "year")}</row>'
              '<row r="2"><c r="A2"><v>1</v></c></row>')


def refused(data: bytes, match: str, **limits: object) -> None:
    with pytest.raises(BadWorkbook, match=match) as exc:
        rows_of(data, **limits)  # type: ignore[arg-type]
    assert exc.value.code == "bad_workbook" and exc.value.field == "file"


# -- the reproduction: a 1.5 KB sheet claiming 16,384 × 100,001 cells -----------------------
def test_the_declared_dimension_is_ignored() -> None:
    bomb = package(BOMB_CELLS)
    assert len(bomb) < 2000
    # only the cells the file holds are read: two rows, not 100,001 rows of 16,384 cells
    assert rows_of(bomb) == [["permit", "year"], ["1"]]
    assert xlsx_to_csv(bomb) == "permit,year\n1\n"
    # the reader parses a handful of XML elements: a budget of 100 is plenty
    assert rows_of(bomb, max_elements=100) == [["permit", "year"], ["1"]]


def test_a_value_beyond_the_caps_is_refused() -> None:
    far = BOMB_CELLS + '<row r="100001"><c r="XFD100001"><v>1</v></c></row>'
    refused(package(far), "beyond row 100000")
    refused(package(BOMB_CELLS + '<row r="3"><c r="XFD3"><v>1</v></c></row>'),
            "beyond column 256")
    # a styled empty cell far out costs nothing and is not a value
    styled = BOMB_CELLS + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    assert rows_of(package(styled)) == [["permit", "year"], ["1"]]


def test_cells_rows_and_elements_are_capped() -> None:
    many = "".join(f'<row r="{r}"><c r="J{r}"><v>1</v></c></row>' for r in range(1, 51))
    data = package(many)
    assert len(rows_of(data)) == 50
    refused(data, "more than 499 cells", max_cells=499)  # 50 rows padded to 10 cells
    refused(data, "more than 60 XML elements", max_elements=60)
    refused(data, "beyond row 40", max_rows=40)
    refused(data, "beyond column 9", max_columns=9)


def test_the_parse_is_time_boxed() -> None:
    refused(package(BOMB_CELLS), "takes too long", seconds=0.0)


def test_zip_members_are_capped() -> None:
    # a member that unpacks to 4 MB of blanks from a few KB
    big = package(BOMB_CELLS + " " * 4_000_000)
    assert len(big) < 50_000
    refused(big, "unpacks to more than 1000000 bytes", member_bytes=1_000_000)
    assert rows_of(big) == [["permit", "year"], ["1"]]
    # too many members
    extra = {f"xl/media/m{i}.bin": "" for i in range(W.MAX_MEMBERS)}
    refused(package(BOMB_CELLS, extra=extra), "more than 1000 parts")


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size that the local and central headers of `name` declare."""
    out = bytearray(data)
    at = 0
    while (at := out.find(b"PK\x03\x04", at)) >= 0:
        n = struct.unpack_from("<H", out, at + 26)[0]
        if out[at + 30:at + 30 + n] == name:
            struct.pack_into("<I", out, at + 22, size)
        at += 4
    at = 0
    while (at := out.find(b"PK\x01\x02", at)) >= 0:
        n = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + n] == name:
            struct.pack_into("<I", out, at + 24, size)
        at += 4
    return bytes(out)


def test_a_member_that_lies_about_its_size_is_refused() -> None:
    data = _lie_about_size(package(BOMB_CELLS + " " * 100_000),
                           b"xl/worksheets/sheet1.xml", 100)
    refused(data, "cannot be unpacked")


def test_dtds_and_entities_are_refused() -> None:
    laughs = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;'
              '&a;&a;&a;&a;">]>')
    refused(package('<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>',
                    prolog=laughs), "DTD")
    refused(package("<row/><bad", dimension=None), "not well-formed")


def test_broken_packages_are_refused() -> None:
    refused(b"PK\x03\x04garbage", "not a readable")
    refused(package(BOMB_CELLS, extra={"xl/workbook.xml": "<workbook/>"}), "no sheet")
    data = package(BOMB_CELLS)
    no_sheet = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(no_sheet, "w") as dst:
        for i in src.infolist():
            if i.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(i, src.read(i))
    refused(no_sheet.getvalue(), "first sheet")
    refused(package('<row r="1"><c r="A1" t="s"><v>7</v></c></row>', strings=["<t>x</t>"]),
            "missing string")
    refused(package('<row r="x1"/>'), "bad row number")
    refused(package('<row r="1"><c r="1A"><v>1</v></c></row>'), "bad cell reference")


# -- what is read --------------------------------------------------------------------------
def test_cell_kinds() -> None:
    styles = ('<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
              '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
              "</cellXfs>")
    body = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c>'
            '<c r="D1" t="b"><v>1</v></c><c r="E1" t="e"><v>#DIV/0!</v></c>'
            '<c r="F1" t="str"><f>A1</f><v>cached</v></c></row>'
            '<row r="3"><c r="A3" s="1"><v>46024</v></c><c r="B3" s="2"><v>46024.5</v></c>'
            '<c r="C3"><v>1.2340000000000002</v></c><c r="D3"><v>4000</v></c>'
            '<c r="E3"><v>-0.5</v></c><c r="F3" t="d"><v>2026-01-02T00:00:00</v></c></row>'
            # cells without references follow one another; rows without one too
            '<row><c><v>7</v></c><c t="inlineStr"><is><r><t>a</t></r><r><t>b\nc</t></r></is>'
            "</c></row>")
    strings = ["<t>DA001</t>", "<r><t>漢</t></r><r><t>字</t></r><rPh><t>かん</t></rPh>"]
    assert rows_of(package(body, strings=strings, styles=styles)) == [
        ["DA001", "", "漢字", "TRUE", "#DIV/0!", "cached"],
        [],
        ["2026-01-02", "2026-01-02T12:00:00", "1.2340000000000002", "4000", "-0.5",
         "2026-01-02"],
        ["7", "ab c"]]
    # the 1904 date system
    got = rows_of(package('<row r="1"><c r="A1" s="1"><v>1</v></c></row>', styles=styles,
                          workbook_pr='<workbookPr date1904="1"/>'))
    assert got == [["1904-01-02"]]


def test_numbers_are_read_strictly() -> None:
    body = ('<row r="1"><c r="A1"><v>１２</v></c><c r="B1"><v>1_000</v></c>'
            f'<c r="C1"><v>{"9" * 30}</v></c><c r="D1"><v>1e400</v></c></row>')
    assert rows_of(package(body)) == [["１２", "1_000", "9" * 30, "inf"]]


def _openpyxl_rows(data: bytes) -> list[list[str]]:
    """What openpyxl reads (the reader used before), through the same cell text rules."""
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = []
    for row in wb.worksheets[0].iter_rows(values_only=True):
        cells = [W._cell(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    wb.close()
    while out and not out[-1]:
        out.pop()
    return out


cell_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2200, 1, 1)),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda d: d.replace(microsecond=0)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell_values, max_size=8), max_size=8))
def test_reads_what_openpyxl_reads(rows: list[list[object]]) -> None:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    got = rows_of(buf.getvalue())
    while got and not got[-1]:
        got.pop()
    assert got == _openpyxl_rows(buf.getvalue())


# -- what an import may hold ---------------------------------------------------------------
def test_quantities_are_bounded_and_exact() -> None:
    from compliance.errors import BadReport
    from compliance.reporting import reports as R

    assert R.to_kg("1000000000", "t") == R.MAX_LINE_KG == 10**12
    assert R.to_kg("1000000000000", "kg") == 10**12
    for q, unit, why in (("9223372036854775808", "kg", "at most"), ("1e25", "t", "at most"),
                         ("1000000000.001", "t", "at most"), ("1e999999999", "kg", "at most"),
                         ("1e-9999999", "t", "whole number"),
                         ("1.0000000000000000000000000000001", "kg", "whole number"),
                         ("0.0005", "t", "whole number")):
        with pytest.raises(BadReport, match=why) as exc:
            R.to_kg(q, unit)
        assert exc.value.field == "quantity"
    with pytest.raises(BadReport, match="too many digits"):
        R.to_kg("1." + "0" * 70 + "1", "t")
    # report fields fit their columns
    with pytest.raises(BadReport, match="at most 10000000") as e2:
        R._whole(10**15, "monitoring_samples")
    assert e2.value.field == "monitoring_samples"
    assert R._whole(10**15, "tax_paid_fen") == 10**15


def test_an_import_holds_at_most_max_import_rows() -> None:
    from compliance.reporting import reports as R

    reg = R.Registry(outlets={}, permits=frozenset(), reported=frozenset())
    head = "permit,year,period,outlet,pollutant,quantity,unit\n"
    v = R.parse_csv(head + "x,2025,Y,a,SO2,1,kg\n" * (R.MAX_IMPORT_ROWS + 1), reg)
    assert [(e.line, e.detail) for e in v.errors] == [
        (R.MAX_IMPORT_ROWS + 2, f"more than {R.MAX_IMPORT_ROWS} rows: split the file")]
    # a field longer than the csv module's limit is a row error, never raised
    v = R.parse_csv(head + '"' + "x" * 200_000 + '"\n', reg)
    assert v.errors and "malformed CSV" in v.errors[0].detail


def test_unpacking_stops_at_the_cap_whatever_the_header_says() -> None:
    inner = io.BytesIO(b" " * 10_000)
    capped = W._Capped(inner, 4096, "xl/worksheets/sheet1.xml")
    assert len(capped.read(4096)) == 4096
    with pytest.raises(BadWorkbook, match="more than 4096 bytes"):
        capped.read(4096)
    assert inner.tell() == 4097  # never more than one byte past the cap is unpacked
