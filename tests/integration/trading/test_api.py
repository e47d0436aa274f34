"""web/api/trading.py through the HTTP API with bearer tokens: who may do what, the status
codes of rejections, and each venue end to end. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.spine import A, B
from tests.integration.trading.conftest import Floor, assert_no_holds

pytestmark = pytest.mark.db

USERS = {"officer": ("bureau_officer", None), "officer2": ("bureau_officer", None),
         "trader_a": ("trader", A), "trader_b": ("trader", B)}


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
    # opening commits reserve rights (a reserve release): a second officer approves it
    r = c.post("/api/v1/auctions/A1/open", headers=h["officer"])
    assert r.status_code == 202 and r.json()["action"] == "open_auction", r.text
    aid = r.json()["id"]
    assert c.post(f"/api/v1/approvals/{aid}/approve", headers=h["officer"]).status_code == 403
    r = c.post(f"/api/v1/approvals/{aid}/approve", headers=h["officer2"])
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    assert c.get("/api/v1/auctions/A1").json()["status"] == "open"
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
    # listings (a trader's get the platform's ids)
    r = c.post("/api/v1/listings", json=dict(market=m, permit=floor.pa, qty=500,
                                             price=300_000, listing_id="L1"),
               headers=h["trader_a"])
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422, "client_id_not_allowed", "listing_id")
    r = c.post("/api/v1/listings", json=dict(market=m, permit=floor.pa, qty=500,
                                             price=300_000), headers=h["trader_a"])
    assert r.status_code == 201, r.text
    L1 = r.json()["id"]
    assert [x["id"] for x in c.get("/api/v1/listings").json()] == [L1]
    r = c.post(f"/api/v1/listings/{L1}/take", json=dict(permit=floor.pb, qty=600),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["error"]) == (409, "listing_qty_exceeded")
    r = c.post(f"/api/v1/listings/{L1}/take", json=dict(permit=floor.pb, qty=500),
               headers=h["trader_b"])
    assert (r.status_code, r.json()["status"]) == (200, "sold")
    # negotiated transfer
    r = c.post("/api/v1/transfers", json=dict(market=m, seller_permit=floor.pa, buyer=B,
                                              buyer_permit=floor.pb, qty=300, price=280_000,
                                              transfer_id="T1"), headers=h["trader_a"])
    assert (r.status_code, r.json()["error"], r.json()["field"]) == (
        422, "client_id_not_allowed", "transfer_id")
    r = c.post("/api/v1/transfers", json=dict(market=m, seller_permit=floor.pa, buyer=B,
                                              buyer_permit=floor.pb, qty=300, price=280_000),
               headers=h["trader_a"])
    assert r.status_code == 201, r.text
    T1 = r.json()["id"]
    assert c.get(f"/api/v1/transfers/{T1}", headers=h["trader_b"]).status_code == 200
    assert c.post(f"/api/v1/transfers/{T1}/accept", headers=h["trader_a"]).status_code == 409
    assert c.post(f"/api/v1/transfers/{T1}/accept", headers=h["trader_b"]).status_code == 200
    assert c.post(f"/api/v1/transfers/{T1}/approve", headers=h["trader_b"]).status_code == 403
    r = c.post(f"/api/v1/transfers/{T1}/approve", headers=h["officer"])
    assert (r.status_code, r.json()["status"]) == (200, "settled")
    r = c.post(f"/api/v1/transfers/{T1}/reject", json=dict(reason="late"),
               headers=h["officer"])
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


def test_reserve_listing_needs_a_second_officer(api: Any, floor: Floor) -> None:
    """A reserve listing releases reserve rights: the default approval policy asks a second
    officer for "reserve_release", the request is validated in full when it is made, and the
    requester cannot approve it."""
    c, h = api
    body = dict(market=floor.market, qty=500, price=200_000)
    r = c.post("/api/v1/listings", json=dict(body, price=50_000), headers=h["officer"])
    assert (r.status_code, r.json()["error"]) == (422, "reserve_below_base_price")
    r = c.post("/api/v1/listings", json=dict(body, qty=10**9), headers=h["officer"])
    assert r.status_code == 409 and r.json()["error"] == "insufficient_reserve", r.text
    r = c.post("/api/v1/listings", json=body, headers=h["officer"])
    assert r.status_code == 202 and r.json()["action"] == "create_reserve_listing", r.text
    req = r.json()["id"]
    r = c.get("/api/v1/approvals", params={"status": "pending"}, headers=h["officer"])
    assert [a["id"] for a in r.json()["items"]] == [req]  # the invalid ones were not queued
    assert c.get("/api/v1/listings").json() == []
    assert c.post(f"/api/v1/approvals/{req}/approve", headers=h["officer"]).status_code == 403
    r = c.post(f"/api/v1/approvals/{req}/approve", headers=h["officer2"])
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    (listing,) = c.get("/api/v1/listings").json()
    assert (listing["qty"], listing["price"], listing["seller"]) == (500, 200_000, "BUREAU")
