"""The bureau's compliance page (true-up status, the run form with the deduction option,
violations), the true-up and violation lists of the API, and the standard-change recovery
decision on the standards page and the API, with the second-officer approval; bad form input
re-renders with field errors and a 4xx, never a 500."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from allocation import service as alloc
from compliance.reporting import service as compliance
from identity import service as identity
from kernel.ids import make_credit_code
from ledger import service as ledger_service
from tests.integration.spine import NOW, A
from tests.report_fields import ANNUAL
from tests.web.flash_support import notice_has

pytestmark = pytest.mark.db
#: the 2026 annual report is filed once 2026 has ended (HJ 944-2018: no report before)
FILED = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
C = make_credit_code("91500000CCCCCCCC3")


def _report(platform, permit: str, kg: int) -> None:  # type: ignore[no-untyped-def]
    compliance.register_outlet(platform.uow(), permit=permit, outlet="DA001", medium="air")
    compliance.submit_report(platform.uow(), permit=permit, year=2026, period="Y",
                             lines=[{"outlet": "DA001", "pollutant": "SO2",
                                     "quantity": str(kg), "unit": "kg"}],
                             details=ANNUAL, actor="officer", now=FILED)


def test_compliance_page_runs_a_true_up_with_the_deduction_option(platform, spine, browser,
                                                                  client, auth) -> None:  # type: ignore[no-untyped-def]
    pa, pb = spine["A"], spine["B"]
    alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=1000,
                         actor="officer", now=NOW)
    _report(platform, pa, 9500)  # 8 000 kg permitted, 1 000 kg of it confirmed
    b = browser("officer")
    page = b.get("/bureau/compliance?year=2026")
    assert page.status_code == 200 and 'id="true-up-form"' in page.text
    assert 'href="/bureau/compliance"' in page.text  # the nav entry
    assert pa in page.text and pb in page.text and "未清缴" in page.text  # Chinese default

    # bad input re-renders with field errors (4xx), the values kept
    r = b.post("/bureau/compliance/true-ups", data={"permit": pa, "year": "twenty"},
               follow_redirects=False)
    assert r.status_code == 422 and "field-error" in r.text and 'value="twenty"' in r.text
    r = b.post("/bureau/compliance/true-ups", data={"permit": "", "year": "2026"},
               follow_redirects=False)
    assert r.status_code == 422 and "field-error" in r.text
    r = b.post("/bureau/compliance/true-ups", data={"permit": "X" * 40, "year": "2026"},
               follow_redirects=False)
    assert r.status_code == 422
    r = b.post("/bureau/compliance/true-ups", data={"permit": "nope", "year": "2026"},
               follow_redirects=False)
    assert r.status_code == 404 and "permit_not_found" in r.text
    r = b.post("/bureau/compliance/true-ups", data={"permit": pb, "year": "2026"},
               follow_redirects=False)
    assert r.status_code == 404 and "report_not_found" in r.text  # B reported nothing

    # 2026 and its report deadline have not passed: refused without a reason
    r = b.post("/bureau/compliance/true-ups",
               data={"permit": pa, "year": "2026", "deduct_next_year": "on"},
               follow_redirects=False)
    assert r.status_code == 409 and "true_up_too_early" in r.text
    # A: 9 500 kg emitted against 8 000 kg permitted, 1 000 kg of rights surrendered; 2027
    # holds nothing, so nothing can be deducted
    r = b.post("/bureau/compliance/true-ups",
               data={"permit": pa, "year": "2026", "deduct_next_year": "on",
                     "override_reason": "the enterprise closes"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(
        "/bureau/compliance?year=2026"), r.text[:300]
    page = b.get(r.headers["location"])
    vio = page.text.split('id="violations"')[1].split("</table>")[0]
    assert pa in vio and "1.500" in vio and "200,000.00 – 1,000,000.00" in vio
    table = page.text.split('id="true-ups"')[1].split("</table>")[0]
    assert "9.500" in table and "8.000" in table and "1.500" in table  # tonnes
    r = b.post("/bureau/compliance/true-ups", data={"permit": pa, "year": "2026"},
               follow_redirects=False)
    assert r.status_code == 409 and "true_up_already_run" in r.text
    only = b.get("/bureau/compliance?year=2026&status=violation").text
    table = only.split('id="true-ups"')[1].split("</table>")[0]
    assert pa in table and pb not in table
    assert b.get("/bureau/compliance?year=2026&status=bogus").status_code == 422
    assert b.get("/bureau/compliance?year=2026&page=0").status_code == 422
    assert browser("trader_a").get("/bureau/compliance").status_code == 403

    # the API lists the same
    officer = auth("officer")
    ups = client.get("/api/v1/compliance/true-ups?year=2026&limit=1", headers=officer).json()
    assert ups["total"] == 2 and len(ups["items"]) == 1
    ups = client.get("/api/v1/compliance/true-ups?year=2026&status=violation",
                     headers=officer).json()
    line = ups["items"][0]["lines"][0]
    assert (line["surrendered_kg"], line["shortfall_kg"], line["deducted_kg"]) == (1000, 1500,
                                                                                  0)
    assert line["vintages"] == [{"vintage": 2026, "kind": "surrender", "qty_kg": 1000,
                                 "transfer_id": f"surrender:{pa}:SO2:2026"}]
    vio = client.get("/api/v1/compliance/violations?year=2026", headers=officer).json()
    assert vio["total"] == 1 and vio["items"][0]["outstanding_kg"] == 1500
    assert client.get("/api/v1/compliance/true-ups?year=2026&status=late",
                      headers=officer).status_code == 422
    assert client.get("/api/v1/compliance/violations", headers=auth("trader_a")).status_code \
        == 403
    st = client.get(f"/api/v1/compliance/enterprises/{A}/status?year=2026",
                    headers=auth("trader_a")).json()
    assert st["status"] == "violation" and st["outstanding_kg"] == 1500


def test_api_true_up_deducts_from_next_year(platform, spine, client, auth) -> None:  # type: ignore[no-untyped-def]
    alloc.register_enterprise(platform.uow(), credit_code=C, name="Enterprise C",
                              sector="thermal_power", district="D01")
    pc = alloc.issue_permit(
        platform.uow(), enterprise=C, site_seq=1, site_name="Plant C", district="D01",
        capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
        valid_to=date(2029, 12, 31), parameter_version="test",
        bases=[alloc.QuantityBasis("SO2", y, "ZA1", 5000, None, None) for y in (2026, 2027)],
        now=NOW)
    alloc.set_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2027,
                        total_kg=20_000, reserve_share_pct=10)
    alloc.issue_indicator(platform.uow(), zone="ZA1", pollutant="SO2", year=2027,
                          actor="bureau", now=NOW)
    for y, kg in ((2026, 1000), (2027, 3000)):
        alloc.confirm_rights(platform.uow(), permit=pc, pollutant="SO2", year=y, qty_kg=kg,
                             actor="bureau", now=NOW)
    _report(platform, pc, 6500)  # 5 000 kg permitted: 1 500 kg over
    officer = auth("officer")
    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pc, "year": 2026, "deduct_next_year": True,
                          "override_reason": "test: before the deadline"})
    assert r.status_code == 201, r.text
    line = r.json()["lines"][0]
    assert (line["deducted_kg"], line["outstanding_kg"]) == (1500, 0)
    assert line["vintages"][-1] == {"vintage": 2027, "kind": "deduction", "qty_kg": 1500,
                                    "transfer_id": f"deduction:{pc}:SO2:2026"}
    permit = client.get(f"/api/v1/permits/{pc}").json()
    q27 = [q for q in permit["quantities"] if q["year"] == 2027][0]
    assert q27["permitted_kg"] == 5000 - 1500  # the deduction lowers next year's permit
    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pc, "year": 2026, "deduct_next_year": True})
    assert r.status_code == 409 and r.json()["error"] == "true_up_already_run"
    r = client.post("/api/v1/compliance/true-ups", headers=officer,
                    json={"permit": pc, "year": 2026, "deduct_next_year": "maybe"})
    assert r.status_code == 422
    assert all(v == 0 for v in ledger_service.asset_sums(platform.uow()).values())


def _held_back_flags(platform) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two chemical plants whose 2026 SO2 cap a new standard cuts below their confirmed
    800 kg: two held-back flags of 363 kg each (see tests/integration/allocation)."""
    out = {}
    for tag in "CD":
        code = make_credit_code(f"91500000{tag * 8}{'34'['CD'.index(tag)]}")
        alloc.register_enterprise(platform.uow(), credit_code=code, name=f"Chem {tag}",
                                  sector="chemicals", district="D01")
        permit = alloc.issue_permit(
            platform.uow(), enterprise=code, site_seq=1, site_name=f"Plant {tag}",
            district="D01", capacity=1, capacity_unit="万t/a", valid_from=date(2025, 1, 1),
            valid_to=date(2029, 12, 31), parameter_version="2025.1",
            bases=[alloc.QuantityBasis("SO2", 2026, "ZA1", 800, 9000, None)], now=NOW)
        alloc.confirm_rights(platform.uow(), permit=permit, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        out[tag] = permit
    std = alloc.register_standard(
        platform.uow(), name="heater SO2 10", effective="2026-07-01",
        limits={"chemicals_process_heater": {"national": {"SO2": "10"}}}, actor="officer",
        now=NOW)
    alloc.apply_standard(platform.uow(), standard_id=std["id"], actor="officer", now=NOW)
    flags = alloc.standard_flags(platform.uow(), status="held_back")["items"]
    assert len(flags) == 2
    return {tag: next(f["id"] for f in flags if f["permit"] == out[tag]) for tag in "CD"} | {
        "standard": std["id"]}


def test_standards_page_recovers_through_a_second_officer_and_buys_back(
        platform, spine, browser, client, auth) -> None:  # type: ignore[no-untyped-def]
    flags = _held_back_flags(platform)
    b = browser("officer")
    page = b.get(f"/bureau/standards?standard={flags['standard']}")
    row = page.text.split(f'id="flag-{flags["C"]}"')[1].split("</tr>")[0]
    assert "363" in row and 'action="/bureau/standards/decisions"' in row
    assert 'value="976.00"' in row  # the SO2 base price is the default buy-back price
    assert "需复核" in row  # recovery needs a second officer by default

    # bad input: re-rendered with the field error, 4xx
    for data, code in (({"decision": "buy_back", "price": "-1"}, 422),
                       ({"decision": "buy_back", "price": "abc"}, 422),
                       ({"decision": "buy_back", "price": "1.001"}, 422),
                       ({"decision": "buy_back", "price": ""}, 422),
                       ({"decision": "burn", "price": "1"}, 422)):
        r = b.post("/bureau/standards/decisions", data={"flag": str(flags["C"]), **data},
                   follow_redirects=False)
        assert r.status_code == code and "field-error" in r.text, (data, r.status_code)
    r = b.post("/bureau/standards/decisions", data={"flag": "x", "decision": "recover"},
               follow_redirects=False)
    assert r.status_code == 422 and 'id="decide-errors"' in r.text
    r = b.post("/bureau/standards/decisions", data={"flag": "999999", "decision": "recover"},
               follow_redirects=False)
    assert r.status_code == 404 and "standard_flag_not_found" in r.text

    # recover: the default policy asks a second officer; officer2 approves through the API
    r = b.post("/bureau/standards/decisions",
               data={"flag": str(flags["C"]), "decision": "recover",
                     "back": str(flags["standard"])}, follow_redirects=False)
    assert r.status_code == 303 and notice_has(b, r, "approval", "审批"), r.text[:300]
    pending = identity.approvals(platform.uow(), status="pending")["items"]
    assert [a["tx_type"] for a in pending] == ["recovery"]
    assert alloc.standard_flags(platform.uow(), status="held_back")["total"] == 2
    r = client.post(f"/api/v1/approvals/{pending[0]['id']}/approve",
                    headers=auth("officer2"))
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    c_flag = alloc.standard_flags(platform.uow(), status="recovered")["items"]
    assert [(f["id"], f["moved_kg"]) for f in c_flag] == [(flags["C"], 363)]

    # buy back through the API, one officer by policy; the bureau needs the money first
    identity.set_approval_policy(platform.uow(), tx_type="reserve_buyback", required=False,
                                 actor="test")
    alloc.deposit_cash(platform.uow(), enterprise="BUREAU", amount_fen=100_000,
                       actor="bureau", reference="budget", now=NOW)
    officer = auth("officer")
    r = client.post("/api/v1/allocation/standard-decisions", headers=officer,
                    json={"flag": flags["D"], "decision": "buy_back"})
    assert r.status_code == 422 and r.json()["field"] == "price"
    r = client.post("/api/v1/allocation/standard-decisions", headers=officer,
                    json={"flag": flags["D"], "decision": "buy_back", "price": 97_600})
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["amount_fen"]) == ("bought_back", 35_429)
    for flag in (flags["C"], flags["D"]):
        r = client.post("/api/v1/allocation/standard-decisions", headers=officer,
                        json={"flag": flag, "decision": "recover"})
        assert r.status_code == 409 and r.json()["error"] == "flag_already_decided"
    r = b.post("/bureau/standards/decisions", data={"flag": str(flags["D"]),
                                                     "decision": "recover"},
               follow_redirects=False)
    assert r.status_code == 409 and "flag_already_decided" in r.text
    r = client.post("/api/v1/allocation/standard-decisions", headers=officer,
                    json={"flag": 10**6, "decision": "recover"})
    assert r.status_code == 404
    page = b.get("/bureau/standards?status=bought_back")
    assert "已回购" in page.text and "35,429" not in page.text  # shown in yuan
    assert "354.29" in page.text
    assert all(v == 0 for v in ledger_service.asset_sums(platform.uow()).values())
