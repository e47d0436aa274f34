"""The compliance API: a trader reports for its own enterprise only; the bureau imports,
drafts tax returns, exports statistics and runs the true-up once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from compliance.reporting import service as compliance
from tests.integration.spine import A, B
from tests.report_fields import ANNUAL, QUARTERLY, row
from tests.report_fields import HEADER as REPORT_HEADER

pytestmark = pytest.mark.db


def test_compliance_api(client, auth, spine, platform) -> None:  # type: ignore[no-untyped-def]
    pa, pb = spine["A"], spine["B"]
    officer, ta, tb = auth("officer"), auth("trader_a"), auth("trader_b")
    for permit in (pa, pb):
        r = client.post("/api/v1/compliance/outlets", headers=officer,
                        json={"permit": permit, "outlet": "DA001", "medium": "air"})
        assert r.status_code == 201, r.text
    r = client.post("/api/v1/compliance/outlets", headers=officer,
                    json={"permit": pa, "outlet": "DA001", "medium": "air"})
    assert r.status_code == 409 and r.json()["error"] == "outlet_exists"
    r = client.post("/api/v1/compliance/outlets", headers=ta,
                    json={"permit": pa, "outlet": "DA002", "medium": "air"})
    assert r.status_code == 403

    report = {"permit": pa, "year": 2026, "period": "Q2",
              "lines": [{"outlet": "DA001", "pollutant": "SO2", "quantity": "0.95", "unit": "t"}],
              **QUARTERLY}
    r = client.post("/api/v1/compliance/reports", headers=tb, json=report)
    assert r.status_code == 404 and r.json()["error"] == "permit_not_found"
    r = client.post("/api/v1/compliance/reports", headers=ta, json=report)
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["actual_kg"] == 950
    r = client.post("/api/v1/compliance/reports", headers=ta, json=report)
    assert r.status_code == 409 and r.json()["error"] == "duplicate_report"
    bad = {**report, "period": "Q3", "lines": [{"outlet": "DA009", "pollutant": "SO2",
                                                "quantity": "1"}]}
    r = client.post("/api/v1/compliance/reports", headers=ta, json=bad)
    assert r.status_code == 422 and r.json()["field"] == "lines[0].outlet"
    # HJ 944-2018: a period that has not ended, an annual report without the commitment
    future = {**report, "year": 2199, "period": "Y", **ANNUAL}
    r = client.post("/api/v1/compliance/reports", headers=ta, json=future)
    assert r.status_code == 422 and r.json()["field"] == "period"
    r = client.post("/api/v1/compliance/reports", headers=ta,
                    json={**future, "year": 2025, "commitment": False})
    assert r.status_code == 422 and r.json()["field"] == "commitment"
    r = client.post("/api/v1/compliance/reports", headers=ta,
                    json={**future, "year": 2025, "operating_hours": 8761})
    assert r.status_code == 422 and r.json()["field"] == "operating_hours"
    r = client.post("/api/v1/compliance/reports", headers=ta,
                    json={**future, "year": 2025, "tax_paid_fen": -1})
    assert r.status_code == 422

    # trader B may not import for A's permit: the row is an unknown permit, line 2
    csv_a = REPORT_HEADER + row(f"{pa},2025,Y,DA001,SO2,12000,kg", "Y") + "\n"
    r = client.post("/api/v1/compliance/reports/import", headers=tb, json={"csv": csv_a})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"line": 2, "field": "permit",
                                   "detail": f"unknown permit {pa!r}"}]
    r = client.post("/api/v1/compliance/reports/import", headers=officer, json={"csv": csv_a})
    assert r.status_code == 201 and r.json()["stored_lines"] == 1
    assert r.json()["reports"][0]["details"]["commitment_by"] == ANNUAL["commitment_by"]
    # the 2026 annual report, filed once 2026 has ended (the API refuses it before)
    compliance.submit_report(platform.uow(), permit=pa, year=2026, period="Y", lines=[
        {"outlet": "DA001", "pollutant": "SO2", "quantity": "12000", "unit": "kg"}],
        details=ANNUAL, actor="officer", now=datetime(2027, 1, 2, 2, tzinfo=UTC))
    # missing on 1 February 2026: A owes 2025 Q1-Q3 (its annual report covers Q4), B all
    r = client.get("/api/v1/compliance/reports/missing?on=2026-02-01", headers=officer)
    assert r.status_code == 200 and r.json()["total"] == 8
    assert r.json()["items"][0] == {"permit": pa, "enterprise": A, "year": 2025,
                                    "period": "Q1", "due": "2025-04-15", "days_overdue": 292}
    assert client.get("/api/v1/compliance/reports/missing", headers=ta).status_code == 403

    r = client.get(f"/api/v1/compliance/enterprises/{A}/reports", headers=tb)
    assert r.status_code == 404
    r = client.get(f"/api/v1/compliance/enterprises/{A}/reports", headers=ta)
    assert [(x["year"], x["period"]) for x in r.json()["items"]] == [
        (2025, "Y"), (2026, "Q2"), (2026, "Y")]

    r = client.get(f"/api/v1/compliance/enterprises/{A}/tax-return?year=2026&quarter=2",
                   headers=officer)
    assert r.status_code == 200
    assert (r.json()["total_kg"], r.json()["total_fen"]) == (950, 240_000)
    r = client.get(f"/api/v1/compliance/enterprises/{A}/tax-return?year=2026&quarter=2",
                   headers=ta)
    assert r.status_code == 403
    r = client.get("/api/v1/compliance/statistics.csv?year=2026&period=Q2", headers=officer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[1] == f"{A},{pa},2026,Q2,DA001,SO2,950"

    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pa, "year": 2026})
    assert (r.status_code, r.json()["error"]) == (409, "true_up_too_early")
    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pa, "year": 2026, "override_reason": "closing early"})
    assert r.status_code == 201, r.text
    # nothing confirmed: judged on the permitted 8 000 kg, 4 000 kg over
    assert r.json()["status"] == "violation"
    assert r.json()["lines"][0]["exceedance_kg"] == 4000
    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pa, "year": 2026})
    assert r.status_code == 409 and r.json()["error"] == "true_up_already_run"
    r = client.get(f"/api/v1/compliance/enterprises/{A}/status?year=2026", headers=ta)
    assert r.json()["status"] == "violation"
    assert r.json()["violations"][0]["shortfall_kg"] == 4000
    r = client.get(f"/api/v1/compliance/enterprises/{B}/status?year=2026", headers=tb)
    assert r.json()["status"] == "pending"
