"""An enterprise's execution-report pages: its own only (another's is 404), entry by form,
CSV and Excel uploads with row errors by line number, Excel equal to CSV for the same rows,
malformed workbooks refused with a clear 4xx, and text shown inert."""

from __future__ import annotations

import base64
import io

import pytest
from openpyxl import Workbook

from compliance.reporting import service as compliance
from tests.integration.spine import A, B
from tests.report_fields import HEADER_CELLS, cells

pytestmark = pytest.mark.db
HEADER: list[object] = [*HEADER_CELLS]
#: the quarterly fields as the form sends them; the annual ones with the commitment box
QUARTER_FORM = {"facility_abnormal_hours": "0", "monitoring_samples": "13",
                "monitoring_exceedances": "0"}
ANNUAL_FORM = {"operating_hours": "8000", "output": "90000", "output_unit": "t",
               "capacity": "100000", "facility_normal_hours": "7990",
               "facility_abnormal_hours": "10", "abnormal_reason": "pump <b>failure</b>",
               "monitoring_samples": "52", "monitoring_exceedances": "1",
               "records_kept": "true", "tax_paid": "12,345.67", "commitment": "on",
               "commitment_by": "张三"}


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def outlets(platform, spine) -> None:  # type: ignore[no-untyped-def]
    for p in (spine["A"], spine["B"]):
        for code, medium in (("DA001", "air"), ("DW001", "water")):
            compliance.register_outlet(platform.uow(), permit=p, outlet=code, medium=medium)


def _upload(b, code: str, name: str, data: bytes, partial: bool = False):  # type: ignore[no-untyped-def]
    b.get(f"/enterprises/{code}/reports")
    form = {"csrf_token": b.csrf} | ({"partial": "on"} if partial else {})
    return b.c.post(f"/enterprises/{code}/reports/import", data=form,
                    files={"file": (name, data)}, follow_redirects=False)


def test_only_its_own_enterprise(browser, outlets) -> None:  # type: ignore[no-untyped-def]
    ta, tb, analyst = browser("trader_a"), browser("trader_b"), browser("analyst")
    page = ta.get(f"/enterprises/{A}/reports")
    assert page.status_code == 200
    for marker in ('id="report-form"', 'id="import-form"', 'id="compliance-status"',
                   'enctype="multipart/form-data"', 'href="/enterprises/' + A + '/reports"'):
        assert marker in page.text, marker
    assert tb.get(f"/enterprises/{A}/reports").status_code == 404
    r = tb.post(f"/enterprises/{A}/reports", data={"permit": "x"})
    assert r.status_code == 404
    assert _upload(tb, A, "r.csv", b"permit\n").status_code == 404
    assert analyst.get(f"/enterprises/{A}/reports").status_code == 403
    assert browser("officer").get(f"/enterprises/{A}/reports").status_code == 200


def test_form_entry(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    ta = browser("trader_a")
    ta.get(f"/enterprises/{A}/reports")
    form = {"permit": spine["A"], "year": "2026", "period": "Q1",
            "outlet": ["DA001", "DW001", "", "", ""],
            "pollutant": ["SO2", "COD", "", "", ""],
            "quantity": ["1.5", "700", "", "", ""], "unit": ["t", "kg", "kg", "kg", "kg"],
            "csrf_token": ta.csrf} | QUARTER_FORM
    r = ta.c.post(f"/enterprises/{A}/reports", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = ta.get(f"/enterprises/{A}/reports").text
    assert "1,500 kg" in page and "700 kg" in page
    r = ta.c.post(f"/enterprises/{A}/reports", data=form, follow_redirects=False)
    assert r.status_code == 409 and "duplicate_report" in r.text
    bad = form | {"period": "Q2", "outlet": ["DA001", "<b>DX</b>", "", "", ""]}
    r = ta.c.post(f"/enterprises/{A}/reports", data=bad, follow_redirects=False)
    assert r.status_code == 422 and "line 2: outlet" in r.text
    assert "&lt;b&gt;DX&lt;/b&gt;" in r.text and "<b>DX</b>" not in r.text
    # another enterprise's permit through one's own page: answered as missing
    r = ta.c.post(f"/enterprises/{A}/reports", data=form | {"permit": spine["B"]},
                  follow_redirects=False)
    assert r.status_code == 404 and "permit_not_found" in r.text
    r = ta.c.post(f"/enterprises/{A}/reports", data={"csrf_token": ta.csrf, "year": "x"})
    assert r.status_code == 422


def test_csv_upload_row_errors_and_partial(platform, browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    ta = browser("trader_a")
    first = ",".join(str(c) for c in cells("Y"))
    text = (",".join(HEADER_CELLS) + "\n" + f"{pa},2025,Y,DA001,SO2,4000,kg,{first}\n"
            + f"{pa},2025,Y,DA009,SO2,1,kg\n" + f"{pa},2025,Y,DA001,NOx,-1,kg\n")
    r = _upload(ta, A, "r.csv", text.encode())
    assert r.status_code == 422
    assert 'id="row-errors"' in r.text and "<td>3</td>" in r.text and "<td>4</td>" in r.text
    assert "DA009" in r.text
    assert compliance.reports_of(platform.uow(), enterprise=A)["items"] == []  # none stored
    r = _upload(ta, A, "r.csv", text.encode("gb18030"), partial=True)
    assert r.status_code == 200 and 'id="row-errors"' in r.text
    assert "4,000 kg" in r.text
    assert _upload(ta, A, "r.csv", b"").status_code == 422


def test_excel_import_equals_csv_import(platform, client, auth, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    """The same rows (one of them invalid) as a workbook for A and as CSV for B: the same
    stored lines, flags and row errors at the same line numbers."""
    def rows(permit: str) -> list[list[object]]:
        return [HEADER, [permit, 2026, "Q1", "DA001", "SO2", 1.234, "t", *cells("Q1")],
                [permit, 2026, "Q1", "DW001", "COD", 500, "kg"],
                [],
                [permit, 2026, "Q1", "DA001", "XX", 1, "kg"],
                [permit, 2025, "Y", "DA001", "NOx", 0.5, "t", *cells("Y")]]

    officer = auth("officer")
    data = base64.b64encode(_xlsx(rows(spine["A"]))).decode()
    rx = client.post("/api/v1/compliance/reports/import-xlsx", headers=officer,
                     json={"xlsx_base64": data})
    assert rx.status_code == 422 and rx.json()["errors"][0]["line"] == 5
    rx = client.post("/api/v1/compliance/reports/import-xlsx", headers=officer,
                     json={"xlsx_base64": data, "partial": True})
    assert rx.status_code == 201, rx.text
    csv = "\n".join(",".join(str(c) for c in r) for r in rows(spine["B"]))
    rc = client.post("/api/v1/compliance/reports/import", headers=officer,
                     json={"csv": csv, "partial": True})
    assert rc.status_code == 201, rc.text
    x, c = rx.json(), rc.json()
    assert (x["stored_reports"], x["stored_lines"]) == (c["stored_reports"], c["stored_lines"])
    assert x["errors"] == c["errors"] and [e["line"] for e in x["errors"]] == [5]

    def lines(out):  # type: ignore[no-untyped-def]
        return [(r["year"], r["period"], [(ln["outlet"], ln["pollutant"], ln["actual_kg"],
                                           ln["flags"]) for ln in r["lines"]])
                for r in out["reports"]]

    assert lines(x) == lines(c)
    # 1 234 kg is within A's 2026 permitted quantity (it binds from issuance); the permit
    # sets no 2025 NOx quantity, so that line is flagged
    assert lines(x) == [(2025, "Y", [("DA001", "NOx", 500, ["above_permitted"])]),
                        (2026, "Q1", [("DA001", "SO2", 1234, []), ("DW001", "COD", 500,
                                                                    ["above_permitted"])])]
    # a trader imports a workbook for its own permits only
    ta = auth("trader_a")
    other = base64.b64encode(_xlsx([HEADER, [spine["B"], 2026, "Q2", "DA001", "SO2", 1,
                                             "kg"]])).decode()
    r = client.post("/api/v1/compliance/reports/import-xlsx", headers=ta,
                    json={"xlsx_base64": other})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "permit"
    assert B not in str(compliance.reports_of(platform.uow(), enterprise=A))


def test_malformed_workbooks_get_a_clear_4xx(client, auth, browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    for payload in ({"xlsx_base64": "not base64!"},
                    {"xlsx_base64": base64.b64encode(b"PK\x03\x04garbage").decode()},
                    {"xlsx_base64": base64.b64encode(b"plain text").decode()}):
        r = client.post("/api/v1/compliance/reports/import-xlsx", headers=officer,
                        json=payload)
        assert r.status_code == 422 and r.json()["error"] == "bad_workbook", r.text
    ta = browser("trader_a")
    r = _upload(ta, A, "broken.xlsx", b"PK\x03\x04garbage")
    assert r.status_code == 422 and "bad_workbook" in r.text
    r = _upload(ta, A, "sheet.xlsx", _xlsx([HEADER, [spine["A"], 2025, "Y", "DA001", "SO2",
                                                     10, "kg", *cells("Y")]]))
    assert r.status_code == 303
    assert "10 kg" in ta.get(f"/enterprises/{A}/reports").text


def test_form_fields_of_the_specification(platform, browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    """An annual report through the form: every field, the tax in yuan stored as fen, the
    fields shown back (inert); without the commitment, or for a period not ended, a 422
    naming the field and nothing stored."""
    ta = browser("trader_a")
    ta.get(f"/enterprises/{A}/reports")
    form = {"permit": spine["A"], "year": "2025", "period": "Y", "outlet": ["DA001"],
            "pollutant": ["SO2"], "quantity": ["2"], "unit": ["t"], "csrf_token": ta.csrf}
    no_commitment = form | {k: v for k, v in ANNUAL_FORM.items() if k != "commitment"}
    r = ta.c.post(f"/enterprises/{A}/reports", data=no_commitment, follow_redirects=False)
    assert r.status_code == 422 and "<b>commitment</b>" in r.text
    r = ta.c.post(f"/enterprises/{A}/reports", data=form | ANNUAL_FORM | {"year": "2199"},
                  follow_redirects=False)
    assert r.status_code == 422 and "<b>期间</b>" in r.text and "2199-12-31" in r.text
    r = ta.c.post(f"/enterprises/{A}/reports", data=form | ANNUAL_FORM | {"tax_paid": "1.234"},
                  follow_redirects=False)
    assert r.status_code == 422 and "<b>tax_paid</b>" in r.text
    r = ta.c.post(f"/enterprises/{A}/reports",
                  data=form | ANNUAL_FORM | {"operating_hours": "8761"}, follow_redirects=False)
    assert r.status_code == 422 and "<b>operating_hours</b>" in r.text
    r = ta.c.post(f"/enterprises/{A}/reports", data=form | ANNUAL_FORM, follow_redirects=False)
    assert r.status_code == 303, r.text
    stored = compliance.reports_of(platform.uow(), enterprise=A)["items"]
    assert len(stored) == 1 and stored[0]["details"]["tax_paid_fen"] == 1_234_567
    assert stored[0]["details"]["commitment_by"] == "张三"
    page = ta.get(f"/enterprises/{A}/reports").text
    assert "pump &lt;b&gt;failure&lt;/b&gt;" in page and "<b>failure</b>" not in page
    assert 'id="missing-list"' in page


def test_bureau_sees_missing_reports(browser, spine, outlets) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    page = officer.get("/bureau/reports/missing?on=2026-02-01")
    assert page.status_code == 200
    # A and B (thermal power, key management): four quarters and the annual report of 2025
    assert '<b id="missing-total">10</b>' in page.text and spine["A"] in page.text
    assert browser("trader_a").get("/bureau/reports/missing").status_code == 403
    assert officer.get("/bureau/reports/missing?on=nonsense").status_code == 422


# -- issue 19: spreadsheet bombs and unbounded quantities ----------------------------------
def _bomb(rows: list[list[object]], *, far_cell: bool = False) -> bytes:
    """An .xlsx written by hand (as an attacker would, with zipfile): the sheet's
    `dimension` claims 16,384 columns × 100,001 rows; the cells are `rows` (inline strings
    and numbers), optionally with one more value at XFD100001."""
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    body = []
    for r, row in enumerate(rows, start=1):
        cs = []
        for c, v in enumerate(row, start=1):
            ref = f"{get_column_letter(c)}{r}"
            cs.append(f'<c r="{ref}"><v>{v}</v></c>' if isinstance(v, int) else
                      f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cs)}</row>')
    if far_cell:
        body.append('<row r="100001"><c r="XFD100001"><v>1</v></c></row>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
                               'openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship '
                       f'Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                       "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
                           '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
                           "</workbook>",
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml":
            f'<?xml version="1.0"?><worksheet xmlns="{ns}"><dimension ref="A1:XFD100001"/>'
            f'<sheetData>{"".join(body)}</sheetData></worksheet>'}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_a_workbook_bomb_is_read_ignoring_its_dimension(client, auth, browser, spine,  # type: ignore[no-untyped-def]
                                                        outlets) -> None:
    """A 1.5 KB sheet that claims 16,384 × 100,001 cells (87 s of CPU through openpyxl) is
    read as the few cells it holds; one with a value far out is refused with a 422
    `bad_workbook`. How fast: bench/bench_xlsx.py (never a timed assertion)."""
    pa, ta = spine["A"], auth("trader_a")
    small = _bomb([[*HEADER_CELLS], [pa, 2026, "Q1", "DA001", "SO2", 1500, "kg",
                                     *cells("Q1")]])
    assert len(_bomb([["permit"]])) < 1600
    r = client.post("/api/v1/compliance/reports/import-xlsx", headers=ta,
                    json={"xlsx_base64": base64.b64encode(small).decode()})
    assert r.status_code == 201, r.text
    assert [ln["actual_kg"] for ln in r.json()["reports"][0]["lines"]] == [1500]
    far = _bomb([[*HEADER_CELLS], [pa, 2026, "Q2", "DA001", "SO2", 1, "kg", *cells("Q2")]],
                far_cell=True)
    r = client.post("/api/v1/compliance/reports/import-xlsx", headers=ta,
                    json={"xlsx_base64": base64.b64encode(far).decode()})
    assert r.status_code == 422 and r.json()["error"] == "bad_workbook", r.text
    assert r.json()["field"] == "file" and "row 100000" in r.json()["detail"]
    b = browser("trader_a")
    r = _upload(b, A, "bomb.xlsx", far)
    assert r.status_code == 422 and "bad_workbook" in r.text
    assert "无法读取该文件" in r.text  # the page says it in Chinese
    r = _upload(b, A, "bomb.xlsx", _bomb([[*HEADER_CELLS], [pa, 2026, "Q3", "DA001", "SO2",
                                                            2500, "kg", *cells("Q3")]]))
    assert r.status_code == 303
    assert "2,500 kg" in b.get(f"/enterprises/{A}/reports").text


BIG = "9223372036854775808"  # 2^63: one past a signed 64-bit integer


def test_report_quantities_are_bounded(platform, client, auth, browser, spine, outlets  # type: ignore[no-untyped-def]
                                       ) -> None:
    """Integers past 64 bits answered 500 on PostgreSQL and 9.22e18 kg was stored: a line
    holds at most 10^12 kg (compliance.reporting.reports.MAX_LINE_KG), refused as a row error naming
    `quantity` on every path (JSON, CSV, Excel, page upload)."""
    pa, ta, officer = spine["A"], auth("trader_a"), auth("officer")
    body = {"permit": pa, "year": 2026, "period": "Q1", "facility_abnormal_hours": 0,
            "monitoring_samples": 13, "monitoring_exceedances": 0}
    for qty, unit in ((BIG, "kg"), ("1e25", "t"), ("9220000000000000000", "kg"),
                      ("1000000001", "t")):
        r = client.post("/api/v1/compliance/reports", headers=ta,
                        json=body | {"lines": [{"outlet": "DA001", "pollutant": "SO2",
                                                "quantity": qty, "unit": unit}]})
        assert r.status_code == 422, (qty, r.text)
        assert r.json()["field"] == "lines[0].quantity" and "at most" in r.json()["detail"]
    # a count bigger than its 32-bit column (was a 500 on PostgreSQL)
    r = client.post("/api/v1/compliance/reports", headers=ta, json=body | {
        "monitoring_samples": 10**15, "lines": [{"outlet": "DA001", "pollutant": "SO2",
                                                 "quantity": "1", "unit": "kg"}]})
    assert r.status_code == 422 and r.json()["field"] == "monitoring_samples", r.text
    # the largest line is stored whole, and the tax return over it is computed (no overflow)
    r = client.post("/api/v1/compliance/reports", headers=ta, json=body | {
        "lines": [{"outlet": "DA001", "pollutant": "SO2", "quantity": "1000000000",
                   "unit": "t"}]})
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["actual_kg"] == 10**12
    r = client.get(f"/api/v1/compliance/enterprises/{A}/tax-return?year=2026&quarter=1",
                   headers=officer)
    assert r.status_code == 200, r.text
    # CSV and Excel imports: a row error at the line, naming the field; nothing stored
    csv_text = (",".join(HEADER_CELLS) + "\n"
                + ",".join(str(c) for c in [pa, 2026, "Q2", "DA001", "SO2", BIG, "kg",
                                            *cells("Q2")]) + "\n"
                + ",".join(str(c) for c in [pa, 2026, "Q2", "DA001", "NOx", "1e25", "t"]))
    r = client.post("/api/v1/compliance/reports/import", headers=ta, json={"csv": csv_text})
    assert r.status_code == 422, r.text
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [(2, "quantity"),
                                                                     (3, "quantity")]
    sheet = _xlsx([HEADER, [pa, 2026, "Q2", "DA001", "SO2", int(BIG), "kg", *cells("Q2")],
                   [pa, 2026, "Q2", "DA001", "NOx", 1e25, "t"]])
    r = client.post("/api/v1/compliance/reports/import-xlsx", headers=ta,
                    json={"xlsx_base64": base64.b64encode(sheet).decode()})
    assert r.status_code == 422, r.text
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [(2, "quantity"),
                                                                     (3, "quantity")]
    r = _upload(browser("trader_a"), A, "big.csv", csv_text.encode())
    assert r.status_code == 422 and 'id="row-errors"' in r.text
    stored = compliance.reports_of(platform.uow(), enterprise=A)["items"]
    assert [(x["period"], [ln["actual_kg"] for ln in x["lines"]]) for x in stored] == [
        ("Q1", [10**12])]
