"""An enterprise's execution-report pages: its own only (another's is 404), entry by form,
CSV and Excel uploads with row errors by line number, Excel equal to CSV for the same rows,
malformed workbooks refused with a clear 4xx, and text shown inert."""

from __future__ import annotations

import base64
import io

import pytest
from openpyxl import Workbook

from compliance import service as compliance
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
    assert r.status_code == 422 and "<b>period</b>" in r.text and "2199-12-31" in r.text
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
