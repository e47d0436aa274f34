"""Public disclosure pages and feed, and the bureau's penalty decisions: the public pages load
without log-in and never show private data; text is shown inert; an out-of-range amount
stores nothing; decision numbers are unique; the feed matches its documented models."""

from __future__ import annotations

from datetime import datetime

import pytest

from allocation import service as alloc
from compliance.enforcement import disclosure_service as disclosure
from compliance.reporting import service as compliance
from tests.day import TODAY as DAY
from tests.day import pinned_clock  # noqa: F401 (autouse: one Beijing day)
from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B
from trading import service as trading
from web.api.disclosure import ComplianceFeed, DecisionFeed, PermitFeed, TradeFeed

pytestmark = pytest.mark.db
TODAY = DAY.isoformat()  # the bureau's day (China Standard Time)
EVIL = "<script>alert('x')</script>'; DROP TABLE violation;--"
FIELDS = {
    "/api/v1/public/permits": (PermitFeed, {"code", "enterprise", "enterprise_name", "sector",
                                            "district", "valid_from", "valid_to", "status",
                                            "quantities", "updated"}),
    "/api/v1/public/trades": (TradeFeed, {"id", "market", "qty_kg", "price_fen_per_t",
                                          "value_fen", "venue", "at", "updated"}),
    "/api/v1/public/compliance": (ComplianceFeed, {"credit_code", "name", "year", "status",
                                                   "permits", "violations",
                                                   "penalty_decisions", "updated"}),
    "/api/v1/public/penalties": (DecisionFeed, {"number", "violation", "enterprise",
                                                "enterprise_name", "permit", "year",
                                                "pollutant", "amount_fen", "decided_on",
                                                "legal_basis", "summary", "status",
                                                "published_at", "updated", "withdrawn_reason",
                                                "history"}),
}


@pytest.fixture
def world(platform, spine):  # type: ignore[no-untyped-def]
    """A trade between A and B, and a 2026 violation of each (reports above their rights)."""
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    for p in (pa, pb):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026, actor="t")
        compliance.register_outlet(platform.uow(), permit=p, outlet="DA001", medium="air")
    fund_and_pay(platform, pa)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=pa, pollutant="SO2", year=2026, qty_kg=2000,
                         actor="t")
    sell = trading.place_order(platform.uow(), trading.PlaceOrder(
        A, pa, market, "sell", 500, 300_000), permits=platform.permits, actor="t")
    buy = trading.place_order(platform.uow(), trading.PlaceOrder(
        B, pb, market, "buy", 200, 300_000), permits=platform.permits, actor="t")
    # a quantity exceedance (Art. 34(1)) of each, as the true-up records one; opened
    # directly so that these tests do not depend on the execution-report format
    for p, kg in ((pa, 4_000), (pb, 6_000)):
        disclosure.open_violation(platform.uow(), permit=p, kind="quantity_exceedance",
                                  occurred_on="2026-06-01", facts="SO2 above the permit",
                                  pollutant="SO2", exceedance_kg=kg, actor="officer", now=NOW)
    v = {x["enterprise"]: x["id"] for x in disclosure.violations(platform.uow())["items"]}
    return dict(orders=[sell.order_id, buy.order_id], va=v[A], vb=v[B])


def _decide(b, vid: int, number: str, amount: str = "300000", summary: str = EVIL):  # type: ignore[no-untyped-def]
    b.get("/bureau/penalties")
    return b.post("/bureau/penalties", data={
        "violation": str(vid), "number": number, "amount_yuan": amount,
        "decided_on": TODAY, "legal_basis": "",
        "summary": summary}, follow_redirects=False)


def test_bureau_decides_and_the_public_sees_it_inert(client, browser, world, tokens) -> None:  # type: ignore[no-untyped-def]
    officer = browser("officer")
    page = officer.get("/bureau/penalties")
    assert page.status_code == 200 and 'id="open-violations"' in page.text
    assert f'href="?violation={world["va"]}#decide-form"' in page.text
    r = _decide(officer, world["va"], "渝环罚〔2026〕7号", amount="1000000.01")
    assert r.status_code == 422 and "penalty_out_of_range" in r.text
    r = _decide(officer, world["va"], "渝环罚〔2026〕7号", amount="199999.99")
    assert r.status_code == 422 and "penalty_out_of_range" in r.text
    r = _decide(officer, world["va"], "渝环罚〔2026〕7号", amount="12.345")
    assert r.status_code == 422 and "two decimals" in r.text
    assert client.get("/api/v1/public/penalties").json()["total"] == 0  # nothing stored
    r = _decide(officer, world["va"], "渝环罚〔2026〕7号")
    assert r.status_code == 303, r.text
    r = _decide(officer, world["vb"], "渝环罚〔2026〕7号")
    assert r.status_code == 409 and "duplicate_decision_number" in r.text
    assert "渝环罚〔2026〕7号" in r.text  # the form keeps what was typed

    public = client.get("/public/penalties")
    assert public.status_code == 200 and "渝环罚〔2026〕7号" in public.text
    assert "300,000.00" in public.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#39;; DROP TABLE" in public.text
    assert "<script>alert" not in public.text
    ent = client.get(f"/public/enterprises/{A}?year=2026")
    assert ent.status_code == 200
    assert 'id="compliance-status"' in ent.text and "渝环罚〔2026〕7号" in ent.text
    assert "<script>alert" not in ent.text
    assert client.get("/public/penalties?q=Enterprise+B").text.count("渝环罚") == 0

    # withdraw: the reason is published, the amount and summary are not
    officer.get("/bureau/penalties")
    r = officer.post("/bureau/penalties/withdraw", data={"number": "渝环罚〔2026〕7号",
                                                         "reason": "<b>revoked</b>"},
                     follow_redirects=False)
    assert r.status_code == 303
    public = client.get("/public/penalties").text
    assert "&lt;b&gt;revoked&lt;/b&gt;" in public and "300,000.00" not in public
    r = officer.post("/bureau/penalties/withdraw", data={"number": "渝环罚〔2026〕7号",
                                                         "reason": "again"})
    assert r.status_code == 409 and "penalty_decision_withdrawn" in r.text


def test_public_pages_need_no_log_in_and_show_nothing_private(client, browser, world,  # type: ignore[no-untyped-def]
                                                              tokens) -> None:
    _decide(browser("officer"), world["va"], "P-1")
    private = [*world["orders"], *tokens.values(), "100,000.00", "10,000,000", "holdings",
               "csrf_token\" value", "erts_"]
    for url in ("/public/penalties", "/public/compliance?year=2026", "/public/trades",
                f"/public/enterprises/{A}", f"/public/enterprises/{B}", "/public/permits",
                "/api/v1/public/penalties", "/api/v1/public/trades",
                "/api/v1/public/compliance?year=2026", "/api/v1/public/permits"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        for secret in private:
            assert secret not in r.text, (url, secret)
    trades = client.get("/public/trades").text
    assert "600.00" in trades and "3,000.00" in trades  # 200 kg at 3 000 yuan/t
    assert A not in trades and B not in trades  # no parties
    comp = client.get("/public/compliance?year=2026").text
    assert comp.count("违法") >= 2 and 'href="/public/penalties"' in comp
    assert client.get("/public/compliance?year=1").status_code == 422
    assert client.get("/public/penalties?page=0").status_code == 422


def test_feed_matches_its_models_and_is_paginated(client, browser, world) -> None:  # type: ignore[no-untyped-def]
    _decide(browser("officer"), world["va"], "F-1")
    for url, (model, fields) in FIELDS.items():
        body = client.get(url, params={"year": 2026} if "compliance" in url else None).json()
        model.model_validate(body)
        assert body["total"] >= 1 and body["items"], url
        assert set(body["items"][0]) == fields, url
        assert body["updated"] == max(i["updated"] for i in body["items"] if i["updated"])
        datetime.fromisoformat(body["updated"])
        one = client.get(url, params={"limit": 1, "offset": 0}).json()
        assert len(one["items"]) == 1
        assert one["next_offset"] == (1 if one["total"] > 1 else None)
    r = client.get("/api/v1/public/penalties", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401  # a bad token is refused even on a public route
    assert client.get("/api/v1/public/trades?limit=501").status_code == 422
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/v1/public/penalties"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/DecisionFeed")


def test_penalty_api(client, auth, world) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    body = {"violation": world["va"], "number": "A-1", "amount_fen": 100_000_000_01,
            "decided_on": TODAY, "summary": "s"}
    r = client.post("/api/v1/penalties", headers=officer, json=body)
    assert r.status_code == 422 and r.json()["error"] == "penalty_out_of_range"
    assert r.json()["field"] == "amount_fen"
    assert client.get("/api/v1/penalties/violations", headers=officer).json()["total"] == 2
    r = client.post("/api/v1/penalties", headers=auth("trader_a"),
                    json=body | {"amount_fen": 300_000_00})
    assert r.status_code == 403
    r = client.post("/api/v1/penalties", headers=officer | {"Idempotency-Key": "k1"},
                    json=body | {"amount_fen": 300_000_00})
    assert r.status_code == 201 and r.json()["status"] == "published"
    r2 = client.post("/api/v1/penalties", headers=officer | {"Idempotency-Key": "k1"},
                     json=body | {"amount_fen": 300_000_00})
    assert r2.status_code == 201 and r2.json() == r.json()
    r = client.post("/api/v1/penalties", headers=officer,
                    json=body | {"violation": world["vb"], "amount_fen": 300_000_00})
    assert r.status_code == 409 and r.json()["error"] == "duplicate_decision_number"
    r = client.post("/api/v1/penalties", headers=officer,
                    json=body | {"number": "A-2", "amount_fen": 300_000_00})
    assert r.status_code == 409 and r.json()["error"] == "violation_not_open"
    r = client.post("/api/v1/penalties/corrections", headers=officer,
                    json={"number": "A-1", "summary": "corrected text", "reason": "typo"})
    assert r.status_code == 201 and r.json()["summary"] == "corrected text"
    assert [h["kind"] for h in r.json()["history"]] == ["decided", "corrected"]
    r = client.post("/api/v1/penalties/withdrawals", headers=officer,
                    json={"number": "A-1", "reason": "revoked"})
    assert r.status_code == 201 and r.json()["amount_fen"] is None
    open_now = client.get("/api/v1/penalties/violations", headers=officer).json()
    assert {v["id"] for v in open_now["items"]} == {world["va"], world["vb"]}
    r = client.post("/api/v1/penalties/withdrawals", headers=officer,
                    json={"number": "nope", "reason": "r"})
    assert r.status_code == 404 and r.json()["error"] == "penalty_decision_not_found"


def test_violations_by_kind_api_and_page(client, auth, world, spine) -> None:  # type: ignore[no-untyped-def]
    officer = auth("officer")
    permit = client.get("/api/v1/penalties/violations", headers=officer).json()["items"][0][
        "permit"]
    body = {"permit": permit, "kind": "speeding", "occurred_on": TODAY, "facts": "f"}
    r = client.post("/api/v1/penalties/violations", headers=officer, json=body)
    assert r.status_code == 422 and r.json()["error"] == "unknown_violation_kind"
    assert r.json()["field"] == "kind"
    r = client.get("/api/v1/penalties/violations?kind=speeding", headers=officer)
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = client.post("/api/v1/penalties/violations", headers=officer,
                    json=body | {"kind": "monitoring_failure"})
    assert r.status_code == 201 and r.json()["article"] == "36(2)"
    vid = r.json()["id"]
    kinds = client.get("/api/v1/penalties/violation-kinds", headers=officer).json()
    assert {"quantity_exceedance", "report_untrue"} <= {k["code"] for k in kinds}
    # 15 000 yuan is below Art. 36; 25 000 is inside it (the quantity exceedances refuse it)
    dec = {"violation": vid, "number": "K-1", "decided_on": TODAY, "summary": "s"}
    r = client.post("/api/v1/penalties", headers=officer, json=dec | {"amount_fen": 1_500_000})
    assert r.status_code == 422 and "20,000-200,000 yuan" in r.json()["detail"]
    r = client.post("/api/v1/penalties", headers=officer,
                    json=dec | {"violation": world["va"], "amount_fen": 2_500_000})
    assert r.status_code == 422
    r = client.post("/api/v1/penalties", headers=officer, json=dec | {"amount_fen": 2_500_000})
    assert r.status_code == 201 and r.json()["legal_basis"].startswith("《排污许可管理条例》")
    r = client.post(f"/api/v1/penalties/violations/{world['vb']}/transfer", headers=officer,
                    json={"department": "执法总队", "transferred_on": TODAY})
    assert r.status_code == 201 and r.json()["status"] == "transferred"
    r = client.post(f"/api/v1/penalties/violations/{world['vb']}/result", headers=officer,
                    json={"result": "已处罚", "result_on": TODAY})
    assert r.status_code == 201 and r.json()["result"] == "已处罚"
    r = client.post(f"/api/v1/penalties/violations/{world['vb']}/result", headers=officer,
                    json={"result": "again", "result_on": TODAY})
    assert r.status_code == 409 and r.json()["error"] == "violation_step_refused"
    r = client.post("/api/v1/penalties/violations", headers=auth("trader_a"),
                    json=body | {"kind": "monitoring_failure"})
    assert r.status_code == 403
    page = client.get(f"/bureau/penalties?violation={world['va']}", headers=officer)
    assert page.status_code == 200 and "《排污许可管理条例》第三十四条第一项" in page.text
    assert "执法总队" in page.text
