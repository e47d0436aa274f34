"""web/api/trading.py through the HTTP API with bearer tokens: who may do what, the status
codes of rejections, and each venue end to end. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.spine import A, B
from tests.integration.trading.conftest import Floor, assert_no_holds

pytestmark = pytest.mark.db

USERS = {"officer": ("bureau_officer", None), "trader_a": ("trader", A),
         "trader_b": ("trader", B)}


@pytest.fixture
def api(floor: Floor) -> Any:
    from identity import service as identity
    from identity.passwords import hash_password
    from web.app import create_app

    p = floor.platform
    headers = {}
    for name, (role, ent) in USERS.items():
        identity.create_user(p.uow(), username=name, display_name=name, role=role,
                             password="", enterprise=ent, password_hash=hash_password("x"))
        token = identity.create_token(p.uow(), owner=identity.principal_of(p.uow(), name),
                                      name="t")[0]
        headers[name] = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(p.settings, p)) as client:
        yield client, headers


def test_venues_over_http(api: Any, floor: Floor) -> None:
    c, h = api
    m = floor.market
    # auctions: bureau only; bids by traders; public results
    body = dict(market=m, offered=1_000, reserve_price=100_000, tie_seed=1,
                auction_id="A1")
    assert c.post("/api/v1/auctions", json=body, headers=h["trader_b"]).status_code == 403
    r = c.post("/api/v1/auctions", json=dict(body, reserve_price=50_000),
               headers=h["officer"])
    assert (r.status_code, r.json()["error"]) == (422, "reserve_below_base_price")
    assert c.post("/api/v1/auctions", json=body, headers=h["officer"]).status_code == 201
    r = c.post("/api/v1/auctions/A1/bids", json=dict(permit=floor.pb, qty=500, price=110_000),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["error"]) == (409, "auction_wrong_state")
    for step in ("open",):
        assert c.post(f"/api/v1/auctions/A1/{step}", headers=h["officer"]).status_code == 200
    assert c.post("/api/v1/auctions/A1/bids", json=dict(permit=floor.pb, qty=1_000,
                                                        price=110_000),
                  headers=h["trader_b"]).status_code == 201
    for step in ("close", "clear", "settle"):
        r = c.post(f"/api/v1/auctions/A1/{step}", headers=h["officer"])
        assert r.status_code == 200, r.text
    pub = c.get("/api/v1/auctions/A1").json()
    assert (pub["status"], pub["price"], pub["results"]) == (
        "settled", 110_000, [dict(qty=1_000, price=110_000)])
    assert "bids" not in pub
    assert c.get("/api/v1/auctions/NOPE").status_code == 404
    # listings
    r = c.post("/api/v1/listings", json=dict(market=m, permit=floor.pa, qty=500,
                                             price=300_000, listing_id="L1"),
               headers=h["trader_a"])
    assert r.status_code == 201, r.text
    assert [x["id"] for x in c.get("/api/v1/listings").json()] == ["L1"]
    r = c.post("/api/v1/listings/L1/take", json=dict(permit=floor.pb, qty=600),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["error"]) == (409, "listing_qty_exceeded")
    r = c.post("/api/v1/listings/L1/take", json=dict(permit=floor.pb, qty=500),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["status"]) == (200, "sold")
    # negotiated transfer
    r = c.post("/api/v1/transfers", json=dict(market=m, seller_permit=floor.pa, buyer=B,
                                              buyer_permit=floor.pb, qty=300, price=280_000,
                                              transfer_id="T1"), headers=h["trader_a"])
    assert r.status_code == 201, r.text
    assert c.get("/api/v1/transfers/T1", headers=h["trader_b"]).status_code == 200
    assert c.post("/api/v1/transfers/T1/accept", headers=h["trader_a"]).status_code == 409
    assert c.post("/api/v1/transfers/T1/accept", headers=h["trader_b"]).status_code == 200
    assert c.post("/api/v1/transfers/T1/approve", headers=h["trader_b"]).status_code == 403
    r = c.post("/api/v1/transfers/T1/approve", headers=h["officer"])
    assert (r.status_code, r.json()["status"]) == (200, "settled")
    r = c.post("/api/v1/transfers/T1/reject", json=dict(reason="late"), headers=h["officer"])
    assert (r.status_code, r.json()["error"]) == (409, "transfer_wrong_state")
    assert c.post("/api/v1/transfers/expire", headers=h["officer"]).json() == {"expired": []}
    # replace and OHLC
    sell = floor.place("A", "sell", 200, 310_000)
    r = c.post(f"/api/v1/orders/{sell.order_id}/replace", json=dict(price=305_000),
               headers=h["trader_a"])
    assert (r.status_code, r.json()["price"]) == (200, 305_000)
    r = c.post(f"/api/v1/orders/{sell.order_id}/replace", json=dict(qty=100),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["error"]) == (404, "order_not_found")
    r = c.post(f"/api/v1/orders/{sell.order_id}/replace", json=dict(price=305_005),
               headers=h["trader_a"])
    assert r.status_code == 200  # tick 1
    floor.place("B", "buy", 200, 305_005)
    bars = c.get(f"/api/v1/markets/{m}/ohlc?days=366").json()
    assert bars and bars[-1]["close"] == 305_005
    assert_no_holds(floor.platform)
