"""The spine through the JSON API, on SQLite and PostgreSQL: A sells to B, both permits and
both balances change, and every asset still sums to zero. Each call carries the bearer token
of the role that may make it."""

from __future__ import annotations

import time

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import A, B

pytestmark = pytest.mark.db


def _holding(body: dict, holder: str, kind: str, asset: str) -> dict:  # type: ignore[type-arg]
    return next(h for h in body["holdings"]
                if h["holder"] == holder and h["kind"] == kind and h["asset"] == asset)


@pytest.mark.parametrize("pipeline", [True, False], ids=["order_pipeline", "per_order"])
def test_api_flow(platform, client, spine, auth, one_officer, pipeline) -> None:  # type: ignore[no-untyped-def]
    platform.settings.order_pipeline = pipeline
    pa, pb, market = spine["A"], spine["B"], spine["market"]
    officer, ta, tb = auth("officer"), auth("trader_a"), auth("trader_b")
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=officer,
                    json={"pollutant": "SO2", "year": 2026})
    assert r.status_code == 201, r.text
    assert r.json()["permitted_after_kg"] == 8000
    assert client.post(f"/api/v1/permits/{pb}/confirmations", headers=officer,
                       json={"pollutant": "SO2", "year": 2026}).status_code == 201
    r = client.post(f"/api/v1/permits/{pa}/surplus-verifications", headers=officer,
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 2500})
    assert (r.status_code, r.json()["error"]) == (409, "paid_use_unpaid")  # not paid yet
    fund_and_pay(platform, pa)
    r = client.post(f"/api/v1/permits/{pa}/surplus-verifications", headers=officer,
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 2500})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/orders", headers=ta, json={
        "permit": pa, "market": market, "side": "sell", "qty": 1000, "price": 305_000})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "open"
    r = client.post("/api/v1/orders", headers=tb, json={
        "enterprise": B, "permit": pb, "market": market, "side": "buy", "qty": 1000,
        "price": 305_000})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "filled" and body["trades"][0]["value_fen"] == 305_000
    # both orders went through the order pipeline (one group each), or neither did
    # (the writer thread counts a group after answering it: wait for its bookkeeping)
    deadline = time.monotonic() + 10
    while pipeline and platform._pipeline is not None and platform._pipeline.groups < 2 \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    groups = platform._pipeline.groups if platform._pipeline is not None else 0
    assert groups == (2 if pipeline else 0)

    permit_a = client.get(f"/api/v1/permits/{pa}").json()  # public disclosure
    permit_b = client.get(f"/api/v1/permits/{pb}").json()
    assert permit_a["quantities"][0]["permitted_kg"] == 8000 - 2500
    assert permit_b["quantities"][0]["permitted_kg"] == 6000 + 1000
    trade_a = permit_a["history"][0]
    trade_b = permit_b["history"][0]
    # published without the other party (issue 18); the bureau and the holder see it
    assert (trade_a["kind"], trade_a["counterparty"], trade_a["price"]) == (
        "trade_out", None, 305_000)
    assert (trade_b["kind"], trade_b["qty_kg"], trade_b["counterparty"]) == ("trade_in", 1000,
                                                                             None)
    own_a = client.get(f"/api/v1/permits/{pa}", headers=ta).json()["history"][0]
    assert own_a["counterparty"] == pb
    assert client.get(f"/api/v1/permits/{pb}", headers=officer).json()["history"][0][
        "counterparty"] == pa

    ea = client.get(f"/api/v1/enterprises/{A}", headers=ta).json()
    eb = client.get(f"/api/v1/enterprises/{B}", headers=tb).json()
    assert _holding(ea, pa, "tradable", market)["balance"] == 1500
    assert _holding(ea, A, "cash", "CNY")["balance"] == 1_000 + 305_000
    assert _holding(eb, pb, "confirmed", market)["balance"] == 7000
    assert _holding(eb, B, "cash", "CNY")["balance"] == 10_000_000 - 305_000

    m = client.get(f"/api/v1/markets/{market}").json()
    assert m["last_price"] == 305_000 and m["trades"][0]["qty"] == 1000
    assert "buyer" not in m["trades"][0]  # public tape is anonymised
    prices = client.get(f"/api/v1/markets/{market}/prices").json()
    assert prices == [{"at": prices[0]["at"], "price": 305_000, "qty": 1000}]
    trades = client.get(f"/api/v1/enterprises/{A}/trades", headers=ta).json()
    assert trades["items"][0]["seller"] == A and trades["next_offset"] is None
    csv = client.get(f"/api/v1/enterprises/{A}/statements/trades.csv", headers=ta)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "卖出" in csv.text and "3,050.00" in csv.text  # headers and sides in Chinese
    sums = client.get("/api/v1/ledger/asset-sums", headers=officer).json()
    assert sums and all(v == 0 for v in sums.values())


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"qty": 0}, 422, "invalid_input"),
    ({"qty": -5}, 422, "invalid_input"),
    ({"price": 0}, 422, "invalid_input"),
    ({"market": "SO2/NOWHERE/2026"}, 404, "market_not_found"),
    ({"permit": "91500000ZZZZZZZZZZ001P"}, 404, "permit_not_found"),
    ({"side": "hold"}, 422, "invalid_input"),
    ({"qty": "ten"}, 422, "invalid_input"),
    ({"qty": 10_000}, 409, "cap_headroom_exceeded"),
    ({"enterprise": A}, 404, "enterprise_not_found"),  # another enterprise: as if missing
])
def test_order_rejections(client, spine, auth, one_officer, payload, status, code) -> None:  # type: ignore[no-untyped-def]
    pb = spine["B"]
    client.post(f"/api/v1/permits/{pb}/confirmations", headers=auth("officer"),
                json={"pollutant": "SO2", "year": 2026})
    body = {"permit": pb, "market": spine["market"], "side": "buy", "qty": 10,
            "price": 300_000} | payload
    r = client.post("/api/v1/orders", json=body, headers=auth("trader_b"))
    assert r.status_code == status, r.text
    assert r.json()["error"] == code
    # nothing was half-written: no open orders, no holds
    assert client.get(f"/api/v1/enterprises/{B}/orders",
                      headers=auth("trader_b")).json()["items"] == []
    eb = client.get(f"/api/v1/enterprises/{B}", headers=auth("trader_b")).json()
    assert all(h["on_hold"] == 0 for h in eb["holdings"])


def test_off_tick_price_in_a_market_with_a_coarser_tick(client, spine, platform, auth) -> None:  # type: ignore[no-untyped-def]
    from trading.tables import MarketRow

    with platform.uow() as uow:
        uow.session.get(MarketRow, spine["market"]).tick = 100
        uow.commit()
    r = client.post("/api/v1/orders", headers=auth("trader_b"), json={
        "permit": spine["B"], "market": spine["market"], "side": "buy", "qty": 10,
        "price": 300_050})
    assert (r.status_code, r.json()["error"]) == (422, "off_tick")


def test_confirmation_rejections(client, spine, platform, auth, one_officer) -> None:  # type: ignore[no-untyped-def]
    pa = spine["A"]
    h = auth("officer")
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=h,
                    json={"pollutant": "SO2", "year": 2026, "qty_kg": 10_001})
    assert (r.status_code, r.json()["error"]) == (409, "confirmation_above_cap")
    r = client.post("/api/v1/permits/NOPE/confirmations", headers=h,
                    json={"pollutant": "SO2", "year": 2026})
    assert (r.status_code, r.json()["error"]) == (404, "permit_not_found")
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=h,
                    json={"pollutant": "XX", "year": 2026})
    assert (r.status_code, r.json()["error"]) == (422, "invalid_input")
    from allocation.tables import PermitRow

    with platform.uow() as uow:
        uow.session.get(PermitRow, pa).status = "expired"
        uow.commit()
    r = client.post(f"/api/v1/permits/{pa}/confirmations", headers=h,
                    json={"pollutant": "SO2", "year": 2026})
    assert (r.status_code, r.json()["error"]) == (409, "permit_expired")
    # nothing was confirmed: the permit shows its permitted quantity from issuance
    q = client.get(f"/api/v1/permits/{pa}").json()["quantities"][0]
    assert (q["permitted_kg"], q["confirmed"]) == (8000, False)


def test_unknown_ids_are_404(client, spine, auth) -> None:  # type: ignore[no-untyped-def]
    h = auth("officer")
    for url in ("/api/v1/enterprises/NOPE", "/api/v1/permits/NOPE",
                "/api/v1/markets/SO2/NOPE/2026", "/api/v1/nothing", "/api/v1/approvals/999"):
        r = client.get(url, headers=h)
        assert r.status_code == 404 and r.json()["error"].endswith("not_found"), url
    r = client.post("/api/v1/orders/nope/cancel", json={}, headers=auth("trader_b"))
    assert (r.status_code, r.json()["error"]) == (404, "order_not_found")


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json() == {"status": "ok"}
