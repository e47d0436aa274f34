"""Client-chosen ids scoped to their enterprise, and an order's value bounded (issue 19).

- An order's `id` is the platform's; the id a client chooses (`order_id` in the request) is
  its `client_order_id`, unique within its enterprise only: a repeat by the same enterprise
  is 409 `duplicate_order_id`, the same id used by another enterprise is simply free. Cancel
  and replace take the platform's id or the caller's own client id, on the per-order path,
  the order pipeline and the pages.
- A trader may not choose listing, transfer or bid ids (422 `client_id_not_allowed`); the
  bureau may (a reserve listing).
- qty × price above 10^15 is 422 `order_value_too_large` (field `qty`) for orders (placed
  alone or in a pipeline group, and replaced), listings, bids and transfers.
- Migration 0026 keeps existing orders reachable by the id their clients used.

SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from app.migrate import downgrade, upgrade
from kernel.errors import DomainError
from tests.integration.spine import NOW, A, B
from tests.web.conftest import Browser
from trading import pipeline
from trading import service as trading
from trading.market import MAX_ORDER_VALUE

pytestmark = pytest.mark.db

PLATFORM_ID = r"^[0-9a-f]{32}$"


def _order(spine: dict[str, str], who: str, **kw: Any) -> dict[str, Any]:
    return {"permit": spine[who], "market": spine["market"], "side": "buy", "qty": 1,
            "price": 100_000, **kw}


def _error(r: Any) -> tuple[int, str, str | None]:
    body = r.json()
    return r.status_code, body.get("error"), body.get("field")


@pytest.fixture
def orders(platform: Any, client: TestClient, spine: dict[str, str], auth: Any
           ) -> dict[str, Any]:
    """B's resting order with client id "c-1"; A's cash is 1 000 fen (ten 1 kg orders)."""
    r = client.post("/api/v1/orders", json=_order(spine, "B", order_id="c-1"),
                    headers=auth("trader_b"))
    assert r.status_code == 201, r.text
    return r.json()


def test_an_order_gets_the_platforms_id_and_keeps_the_clients(
        orders: dict[str, Any], client: TestClient, spine: dict[str, str], auth: Any) -> None:
    import re

    assert re.match(PLATFORM_ID, orders["order_id"]), orders
    assert orders["client_order_id"] == "c-1" and orders["status"] == "open"
    # without a client id: none is invented
    r = client.post("/api/v1/orders", json=_order(spine, "B"), headers=auth("trader_b"))
    assert r.status_code == 201 and r.json()["client_order_id"] is None
    # the order list shows both
    r = client.get(f"/api/v1/enterprises/{B}/orders", headers=auth("trader_b"))
    assert r.status_code == 200, r.text
    mine = {o["id"]: o["client_order_id"] for o in r.json()["items"]}
    assert mine[orders["order_id"]] == "c-1"


def test_a_client_id_is_unique_within_its_enterprise_only(
        orders: dict[str, Any], client: TestClient, spine: dict[str, str], auth: Any) -> None:
    tb, ta = auth("trader_b"), auth("trader_a")
    # B repeating its own id: told so (its own data, no oracle)
    r = client.post("/api/v1/orders", json=_order(spine, "B", order_id="c-1"), headers=tb)
    assert _error(r) == (409, "duplicate_order_id", "order_id")
    # A using the same id: a new order of A's, of its own platform id
    r = client.post("/api/v1/orders", json=_order(spine, "A", order_id="c-1"), headers=ta)
    assert r.status_code == 201, r.text
    a_order = r.json()
    assert a_order["client_order_id"] == "c-1"
    assert a_order["order_id"] != orders["order_id"]
    # and A repeating it is now a duplicate for A
    r = client.post("/api/v1/orders", json=_order(spine, "A", order_id="c-1"), headers=ta)
    assert _error(r) == (409, "duplicate_order_id", "order_id")
    # A cancelling "c-1" cancels A's order, never B's
    r = client.post("/api/v1/orders/c-1/cancel", headers=ta)
    assert r.status_code == 200, r.text
    assert (r.json()["order_id"], r.json()["status"]) == (a_order["order_id"], "cancelled")
    listed = client.get(f"/api/v1/enterprises/{B}/orders", headers=tb).json()["items"]
    assert {o["id"]: o["status"] for o in listed}[orders["order_id"]] == "open"
    # B's platform id answers A like a missing one
    r = client.post(f"/api/v1/orders/{orders['order_id']}/cancel", headers=ta)
    assert _error(r) == (404, "order_not_found", "order_id")


def test_cancel_and_replace_take_either_id(
        orders: dict[str, Any], client: TestClient, spine: dict[str, str], auth: Any) -> None:
    tb = auth("trader_b")
    r = client.post("/api/v1/orders/c-1/replace", json={"qty": 5}, headers=tb)
    assert r.status_code == 200, r.text
    assert (r.json()["order_id"], r.json()["remaining"]) == (orders["order_id"], 5)
    assert r.json()["client_order_id"] == "c-1"
    r = client.post(f"/api/v1/orders/{orders['order_id']}/replace", json={"qty": 3},
                    headers=tb)
    assert (r.status_code, r.json()["remaining"]) == (200, 3)
    r = client.post("/api/v1/orders/c-1/cancel", headers=tb)
    # 1 kg, raised to 5 (a new quantity), cut to 3 (2 cancelled), then the 3 cancelled
    assert (r.status_code, r.json()["status"], r.json()["cancelled"]) == (200, "cancelled", 5)
    r = client.post(f"/api/v1/orders/{orders['order_id']}/cancel", headers=tb)
    assert _error(r)[:2] == (409, "order_not_live")


def test_the_page_shows_the_client_id_and_cancels_by_the_platforms(
        orders: dict[str, Any], browser: Any) -> None:
    b: Browser = browser("trader_b")
    page = b.get(f"/enterprises/{B}")
    assert f"/orders/{orders['order_id']}/cancel" in page.text
    assert f'<code title="{orders["order_id"]}">c-1</code>' in page.text  # the client's id
    r = b.post(f"/enterprises/{B}/orders/{orders['order_id']}/cancel", data={},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    page = b.get(f"/enterprises/{B}")
    assert f"/orders/{orders['order_id']}/cancel" not in page.text


def test_the_pipeline_scopes_client_ids_per_enterprise_in_a_group(
        platform: Any, spine: dict[str, str]) -> None:
    def cmd(ent: str, permit: str, oid: str | None) -> trading.PlaceOrder:
        return trading.PlaceOrder(ent, permit, spine["market"], "buy", 1, 100_000,
                                  order_id=oid)

    a, b = spine["A"], spine["B"]
    out = pipeline.place_orders(platform.uow, [
        cmd(B, b, "g-1"), cmd(A, a, "g-1"), cmd(B, b, "g-1"), cmd(B, b, "g-2")],
        permits=platform.permits, actor="t", now=NOW, strict=True)
    assert isinstance(out[0], trading.OrderResult) and out[0].client_order_id == "g-1"
    assert isinstance(out[1], trading.OrderResult) and out[1].client_order_id == "g-1"
    assert out[0].order_id != out[1].order_id
    assert isinstance(out[2], DomainError) and out[2].code == "duplicate_order_id"
    assert isinstance(out[3], trading.OrderResult)
    # against the database, in the next group
    again = pipeline.place_orders(platform.uow, [cmd(A, a, "g-1"), cmd(A, a, "g-2")],
                                  permits=platform.permits, actor="t", now=NOW, strict=True)
    assert isinstance(again[0], DomainError) and again[0].code == "duplicate_order_id"
    assert isinstance(again[1], trading.OrderResult)
    # the pipeline's cancel by the caller's own client id
    pipe = pipeline.OrderPipeline(platform.uow, platform.permits)
    try:
        with pytest.raises(DomainError) as err:
            pipe.cancel_order(enterprise=A, order_id=out[0].order_id, actor="t")  # B's
        assert err.value.code == "order_not_found"
        done = pipe.cancel_order(enterprise=A, order_id="g-1", actor="t")
        assert (done.order_id, done.status) == (out[1].order_id, "cancelled")
    finally:
        pipe.close()


# listings, transfers and bids: the platform's ids -----------------------------------------

def test_a_trader_may_not_choose_venue_ids_the_bureau_may(
        platform: Any, client: TestClient, spine: dict[str, str], auth: Any) -> None:
    from identity import service as identity

    market, pa, pb = spine["market"], spine["A"], spine["B"]
    ta = auth("trader_a")
    cases = [
        ("/api/v1/listings", {"market": market, "permit": pa, "qty": 1, "price": 900_000,
                              "listing_id": "mine-1"}, "listing_id"),
        ("/api/v1/transfers", {"market": market, "seller_permit": pa, "buyer": B,
                               "buyer_permit": pb, "qty": 1, "price": 300_000,
                               "transfer_id": "mine-1"}, "transfer_id"),
        ("/api/v1/auctions/any/bids", {"permit": pa, "qty": 1, "price": 200_000,
                                       "bid_id": "mine-1"}, "bid_id"),
    ]
    for url, body, field in cases:
        r = client.post(url, json=body, headers=ta)
        assert _error(r) == (422, "client_id_not_allowed", field), (url, r.text)
    # the bureau lists from the reserve under an id it chooses
    identity.set_approval_policy(platform.uow(), tx_type="reserve_release", required=False,
                                 actor="test")
    r = client.post("/api/v1/listings", json={"market": market, "qty": 1, "price": 900_000,
                                              "listing_id": "reserve-1"},
                    headers=auth("officer"))
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "reserve-1"


# the value bound ----------------------------------------------------------------------------

def test_an_orders_value_is_bounded(platform: Any, client: TestClient,
                                    spine: dict[str, str], auth: Any) -> None:
    tb = auth("trader_b")
    # 10^10 kg at 10^5 fen/t is exactly the bound: past the value check (the ledger's
    # holds refuse it)
    at_bound = _order(spine, "B", qty=10**10, price=MAX_ORDER_VALUE // 10**10)
    r = client.post("/api/v1/orders", json=at_bound, headers=tb)
    assert _error(r)[0] == 409, r.text
    over = dict(at_bound, price=at_bound["price"] + 1)
    r = client.post("/api/v1/orders", json=over, headers=tb)
    assert _error(r) == (422, "order_value_too_large", "qty")
    # a sell market order's protective price counts too
    r = client.post("/api/v1/orders", json=dict(over, side="sell", kind="market", tif="ioc"),
                    headers=tb)
    assert _error(r) == (422, "order_value_too_large", "qty")
    # replacing a resting order beyond it
    r = client.post("/api/v1/orders", json=_order(spine, "B"), headers=tb)
    assert r.status_code == 201, r.text
    oid = r.json()["order_id"]
    r = client.post(f"/api/v1/orders/{oid}/replace", json={"qty": 10**12}, headers=tb)
    assert _error(r) == (422, "order_value_too_large", "qty")
    # the service and the pipeline, directly
    cmd = trading.PlaceOrder(B, spine["B"], spine["market"], "buy", 10**12, 10**12)
    with pytest.raises(DomainError) as err:
        trading.place_order(platform.uow(), cmd, permits=platform.permits, actor="t", now=NOW)
    assert (err.value.code, err.value.field) == ("order_value_too_large", "qty")
    (out,) = pipeline.place_orders(platform.uow, [cmd], permits=platform.permits, actor="t",
                                   now=NOW, strict=True)
    assert isinstance(out, DomainError) and out.code == "order_value_too_large"


def test_listings_bids_and_transfers_are_bounded_alike(
        platform: Any, client: TestClient, spine: dict[str, str], auth: Any) -> None:
    market, pa, pb = spine["market"], spine["A"], spine["B"]
    huge = {"qty": 10**12, "price": 10**12}
    officer = auth("officer")
    r = client.post("/api/v1/auctions", json={"market": market, "offered": 10,
                                              "reserve_price": 100_000},
                    headers=officer)
    assert r.status_code == 201, r.text
    auction = r.json()["id"]
    cases = [
        ("trader_a", "/api/v1/listings", {"market": market, "permit": pa, **huge}),
        ("trader_a", "/api/v1/transfers", {"market": market, "seller_permit": pa,
                                           "buyer": B, "buyer_permit": pb, **huge}),
        ("trader_b", f"/api/v1/auctions/{auction}/bids", {"permit": pb, **huge}),
        ("officer", "/api/v1/auctions", {"market": market, "offered": 10**12,
                                         "reserve_price": 10**12}),
    ]
    for who, url, body in cases:
        r = client.post(url, json=body, headers=auth(who))
        field = "offered" if url == "/api/v1/auctions" else "qty"
        assert _error(r) == (422, "order_value_too_large", field), (url, r.text)


# migration 0026 ------------------------------------------------------------------------------

def test_migration_keeps_existing_orders_reachable_by_their_ids(
        platform: Any, spine: dict[str, str]) -> None:
    """Orders of revision 0025 (of the spine's market and permits) keep their ids as client
    ids; the column and its constraint go on downgrade."""
    db_url = platform.settings.database_url
    platform.close()  # no pooled connection holds the table while it is rebuilt
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        downgrade(db_url, "0025")
        assert "client_id" not in {c["name"] for c in inspect(engine).get_columns(
            "trading_order")}
        with engine.begin() as c:
            for oid, ent, permit in (("old-1", A, spine["A"]), ("x" * 40, A, spine["A"]),
                                     ("old-1b", B, spine["B"])):
                c.execute(text(
                    "INSERT INTO trading_order (id, market, enterprise, permit, side, price, "
                    "qty, remaining, filled, cancelled, tif, status, hold_id, created_at, "
                    "kind, post_only, stp) VALUES (:id, :market, :ent, :permit, 'buy', "
                    "100, 1, 1, 0, 0, 'gtc', 'open', :id, :at, 'limit', false, "
                    "'cancel_newest')"), {"id": oid, "ent": ent, "permit": permit,
                                          "market": spine["market"],
                                          "at": datetime.now(UTC)})
        upgrade(db_url, "0026")
        with engine.connect() as c:
            got = {i: ci for i, ci in c.execute(text("SELECT id, client_id FROM trading_order"))}
        assert got == {"old-1": "old-1", "x" * 40: None, "old-1b": "old-1b"}
        with engine.begin() as c:  # the same client id in another enterprise: allowed
            c.execute(text("UPDATE trading_order SET client_id = 'old-1' WHERE id = 'old-1b'"))
        with pytest.raises(Exception, match="(?i)unique"), engine.begin() as c:
            c.execute(text("UPDATE trading_order SET client_id = 'old-1' "
                           "WHERE id = :id"), {"id": "x" * 40})
        downgrade(db_url, "0025")
        assert "client_id" not in {c["name"] for c in inspect(engine).get_columns(
            "trading_order")}
        upgrade(db_url)
    finally:
        engine.dispose()
