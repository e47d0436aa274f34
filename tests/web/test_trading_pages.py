"""Trading venue pages driven as forms without JavaScript: a reserve auction set up, bid,
cleared and settled; a negotiated transfer proposed, accepted and approved; a listing
taken; sealed bids and transfers stay within their enterprise; bad forms re-render (422)."""

from __future__ import annotations

import re

import pytest

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B
from tests.web.flash_support import notice_has

pytestmark = pytest.mark.db


@pytest.fixture
def floor(platform, spine):  # type: ignore[no-untyped-def]
    """Both permits confirmed, A with 3 000 kg of verified surplus and more cash."""
    from allocation import service as alloc
    from trading import service as trading

    trading.clear_book_cache()
    for p in (spine["A"], spine["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(platform, p, NOW)  # tradable once the paid-use fee is paid
    alloc.verify_surplus(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=5_000_000, actor="bureau",
                       reference="A-more", now=NOW)
    return spine


def _ok(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, r.text[:1500]
    assert "/login" not in r.headers["location"]


def test_auction_set_up_bid_cleared_and_settled(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity
    from trading import auction_service as auctions

    officer, ta, tb = browser("officer"), browser("trader_a"), browser("trader_b")
    page = officer.get("/bureau/auctions")
    assert page.status_code == 200 and 'id="auction-form"' in page.text
    assert 'href="/bureau/auctions"' in page.text  # the nav entry
    _ok(officer.post("/bureau/auctions", data=dict(
        market=floor["market"], offered="1000", reserve_yuan="1000", rule="uniform",
        tie_seed="7", bidder_cap_pct=""), follow_redirects=False))
    (aid,) = re.findall(r'id="auction-(auc-[0-9a-f]+)"', officer.get("/bureau/auctions").text)
    # a draft is not announced to enterprises
    assert aid not in ta.get(f"/enterprises/{A}/auctions").text
    # opening commits reserve rights (reserve_release): a second officer approves it
    _ok(officer.post("/bureau/auctions/step", data=dict(auction=aid, action="open"),
                     follow_redirects=False))
    assert 'class="inline bid-form"' not in ta.get(f"/enterprises/{A}/auctions").text
    (req,) = [a for a in identity.approvals(platform.uow(), status="pending")["items"]
              if a["action"] == "open_auction" and a["target"] == aid]
    assert officer.post(f"/bureau/approvals/{req['id']}/approve",
                        follow_redirects=False).status_code == 403  # not the requester
    _ok(browser("officer2").post(f"/bureau/approvals/{req['id']}/approve",
                                 follow_redirects=False))
    page = ta.get(f"/enterprises/{A}/auctions")
    assert page.status_code == 200 and 'class="inline bid-form"' in page.text
    assert f'href="/enterprises/{A}/auctions"' in page.text  # the nav entry
    _ok(ta.post(f"/enterprises/{A}/auctions/bids", data=dict(
        auction=aid, permit=floor["A"], qty="400", price_yuan="1200"), follow_redirects=False))
    tb.get(f"/enterprises/{B}/auctions")
    _ok(tb.post(f"/enterprises/{B}/auctions/bids", data=dict(
        auction=aid, permit=floor["B"], qty="800", price_yuan="1100"), follow_redirects=False))
    # sealed: each enterprise sees its own bid only
    a_page, b_page = ta.get(f"/enterprises/{A}/auctions").text, \
        tb.get(f"/enterprises/{B}/auctions").text
    assert floor["A"] in a_page and floor["B"] not in a_page
    assert floor["B"] in b_page and floor["A"] not in b_page
    for step in ("close", "clear", "settle"):
        _ok(officer.post("/bureau/auctions/step", data=dict(auction=aid, action=step),
                         follow_redirects=False))
    view = auctions.auction_view(platform.uow(), aid, reveal=True)
    assert view["status"] == "settled" and view["sold"] == 1000
    won = {b["enterprise"]: b["won"] for b in view["bids"]}
    assert won == {A: 400, B: 600}
    page = officer.get("/bureau/auctions").text
    assert "已交割" in page and floor["A"] in page and floor["B"] in page  # allocations
    assert "1,100.00" in page  # the uniform clearing price, yuan/t
    a_page = ta.get(f"/enterprises/{A}/auctions").text
    assert "中标" in a_page and floor["B"] not in a_page  # results, still anonymised


def test_negotiated_transfer_proposed_accepted_approved(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from trading import transfer_service as transfers

    officer, ta, tb = browser("officer"), browser("trader_a"), browser("trader_b")
    page = ta.get(f"/enterprises/{A}/transfers")
    assert page.status_code == 200 and 'id="propose-form"' in page.text
    _ok(ta.post(f"/enterprises/{A}/transfers", data=dict(
        market=floor["market"], seller_permit=floor["A"], buyer=B, buyer_permit=floor["B"],
        qty="300", price_yuan="2800"), follow_redirects=False))
    (t,) = transfers.transfers_of(platform.uow(), A)
    assert t["status"] == "proposed"
    # the seller cannot accept its own proposal; the buyer can
    r = ta.post(f"/enterprises/{A}/transfers/accept", data=dict(transfer=t["id"]))
    assert r.status_code == 409
    page = tb.get(f"/enterprises/{B}/transfers")
    assert f'value="{t["id"]}"' in page.text and "接受" in page.text
    _ok(tb.post(f"/enterprises/{B}/transfers/accept", data=dict(transfer=t["id"]),
                follow_redirects=False))
    page = officer.get("/bureau/transfers")
    assert page.status_code == 200 and "待审核" in page.text
    _ok(officer.post("/bureau/transfers/decide", data=dict(transfer=t["id"], decision="approve"),
                     follow_redirects=False))
    assert transfers.transfer_view(platform.uow(), t["id"])["status"] == "settled"
    assert "已交割" in ta.get(f"/enterprises/{A}/transfers").text


def test_listing_taken_from_the_page(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from trading import listing_service as listings

    listings.create_listing(platform.uow(), market=floor["market"], seller=A,
                            permit=floor["A"], qty=500, price=300_000, permits=platform.permits,
                            actor="trader_a", listing_id="L1")
    tb = browser("trader_b")
    page = tb.get(f"/enterprises/{B}/transfers")
    assert 'id="listing-L1"' in page.text
    _ok(tb.post(f"/enterprises/{B}/listings/take", data=dict(
        listing="L1", permit=floor["B"], qty="500"), follow_redirects=False))
    assert listings.listings(platform.uow()) == []


def test_a_trader_never_sees_another_enterprise(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from trading import transfer_service as transfers

    ta, tb = browser("trader_a"), browser("trader_b")
    for path in (f"/enterprises/{A}/auctions", f"/enterprises/{A}/transfers"):
        assert tb.get(path).status_code == 404, path
    t = transfers.propose_transfer(platform.uow(), market=floor["market"], seller=A,
                                   seller_permit=floor["A"], buyer=B, buyer_permit=floor["B"],
                                   qty=100, price=280_000, permits=platform.permits,
                                   actor="trader_a")
    tb.get(f"/enterprises/{B}/transfers")
    # B acting on A's pages, or A's permit in B's name: 404 like a missing object
    r = tb.post(f"/enterprises/{A}/transfers/accept", data=dict(transfer=t["id"]))
    assert r.status_code == 404
    r = tb.post(f"/enterprises/{B}/transfers", data=dict(
        market=floor["market"], seller_permit=floor["A"], buyer=A, buyer_permit=floor["A"],
        qty="100", price_yuan="2800"))
    assert r.status_code == 404 and "permit_not_found" in r.text
    # A cannot accept a transfer it is not the buyer of; a missing one is 404 too
    r = ta.post(f"/enterprises/{A}/transfers/accept", data=dict(transfer="nope"))
    assert r.status_code == 404
    assert transfers.transfer_view(platform.uow(), t["id"])["status"] == "proposed"


def test_form_errors_re_render(browser, floor) -> None:  # type: ignore[no-untyped-def]
    officer, ta = browser("officer"), browser("trader_a")
    officer.get("/bureau/auctions")
    r = officer.post("/bureau/auctions", data=dict(
        market=floor["market"], offered="1000", reserve_yuan="1", rule="uniform"))
    assert r.status_code == 422 and "reserve_below_base_price" in r.text
    assert 'value="1000"' in r.text  # the form keeps what was typed
    r = officer.post("/bureau/auctions", data=dict(market=floor["market"], offered="x",
                                                   reserve_yuan="", rule="dutch"))
    assert r.status_code == 422 and "must be a whole number" in r.text
    r = officer.post("/bureau/auctions/step", data=dict(auction="", action="open"))
    assert r.status_code == 422 and "required" in r.text
    r = officer.post("/bureau/auctions/step", data=dict(auction="NOPE", action="open"))
    assert r.status_code == 404 and "auction_not_found" in r.text
    r = officer.post("/bureau/transfers/decide", data=dict(transfer="T", decision="reject"))
    assert r.status_code == 422 and 'id="transfers"' in r.text
    ta.get(f"/enterprises/{A}/transfers")
    r = ta.post(f"/enterprises/{A}/transfers", data=dict(
        market=floor["market"], seller_permit=floor["A"], buyer=B, buyer_permit=floor["B"],
        qty="-5", price_yuan="abc"))
    assert r.status_code == 422 and 'id="propose-form"' in r.text
    assert "must be between" in r.text and "yuan per tonne" in r.text
    r = ta.post(f"/enterprises/{A}/auctions/bids", data=dict(auction="NOPE", permit=floor["A"],
                                                             qty="10", price_yuan="1200"))
    assert r.status_code == 404 and "auction_not_found" in r.text


def test_unusual_trades_flagged(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from trading import transfer_service as transfers
    from trading.prices import base_price

    ref = base_price("SO2")
    transfers.propose_transfer(platform.uow(), market=floor["market"], seller=A,
                               seller_permit=floor["A"], buyer=B, buyer_permit=floor["B"],
                               qty=100, price=ref * 3, permits=platform.permits,
                               actor="trader_a")
    officer = browser("officer")
    page = officer.get("/bureau/markets/flags?pct=50")
    assert page.status_code == 200 and 'href="/bureau/markets/flags"' in page.text
    assert page.text.count('class="flag flag-price_deviation"') == 1 and "价格偏离" in page.text
    assert f"{A} → {B}" in page.text and "200.0" in page.text  # parties, deviation %
    page = officer.get("/bureau/markets/flags?pct=500")
    assert 'class="flag ' not in page.text and "暂无异常交易" in page.text
    assert officer.get("/bureau/markets/flags?pct=0").status_code == 422
    assert browser("trader_a").get("/bureau/markets/flags").status_code == 403


def test_continuous_round_trip_flagged(browser, floor, platform, auth, client) -> None:  # type: ignore[no-untyped-def]
    """A sells to B and B sells the same quantity back to A in the order book, on one
    trading day: both trades are flagged as a round trip, on the page and in the API."""
    from allocation import service as alloc
    from trading import service as trading

    alloc.verify_surplus(platform.uow(), permit=floor["B"], pollutant="SO2", year=2026,
                         qty_kg=1000, actor="bureau", now=NOW)
    price = 100_000  # near the base price: no price flag

    def order(who: str, side: str, qty: int) -> trading.OrderResult:
        return trading.place_order(platform.uow(), trading.PlaceOrder(
            who, floor["A" if who == A else "B"], floor["market"], side, qty, price),
            permits=platform.permits, actor="t", now=NOW)

    order(A, "sell", 300)
    assert order(B, "buy", 300).filled == 300
    order(B, "sell", 280)  # within the 20 % quantity tolerance
    assert order(A, "buy", 280).filled == 280
    page = browser("officer").get("/bureau/markets/flags")
    assert page.status_code == 200
    assert page.text.count('class="flag flag-round_trip"') == 2 and "对倒交易" in page.text
    assert f"{A} → {B}" in page.text and f"{B} → {A}" in page.text
    assert 'class="flag flag-price_deviation"' not in page.text
    # a tolerance of 5 % no longer pairs 300 with 280
    page = browser("officer").get("/bureau/markets/flags?qty_tolerance_pct=5")
    assert 'class="flag flag-round_trip"' not in page.text

    r = client.get("/api/v1/surveillance/flags", headers=auth("officer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and body["next_offset"] is None
    legs = {f["deal"]: f["other"] for f in body["items"]}
    assert set(legs) == set(legs.values()) and len(legs) == 2
    assert all(f["kind"] == "round_trip" and f["venue"] == "book" for f in body["items"])
    r = client.get("/api/v1/surveillance/flags?limit=1&kind=round_trip",
                   headers=auth("admin")).json()
    assert len(r["items"]) == 1 and r["next_offset"] == 1 and r["total"] == 2
    assert client.get("/api/v1/surveillance/flags?kind=price_deviation",
                      headers=auth("officer")).json()["total"] == 0
    assert client.get("/api/v1/surveillance/flags?window_days=0",
                      headers=auth("officer")).status_code == 422
    for who in ("trader_a", "analyst"):
        r = client.get("/api/v1/surveillance/flags", headers=auth(who))
        assert r.status_code == 403 and "items" not in r.text


def test_transfer_approval_can_require_a_second_officer(browser, floor, platform, client,  # type: ignore[no-untyped-def]
                                                        auth) -> None:
    from trading import transfer_service as transfers

    ta, tb, officer = browser("trader_a"), browser("trader_b"), browser("officer")
    _ok(ta.post(f"/enterprises/{A}/transfers", data=dict(
        market=floor["market"], seller_permit=floor["A"], buyer=B, buyer_permit=floor["B"],
        qty="300", price_yuan="2800"), follow_redirects=False))
    (t,) = transfers.transfers_of(platform.uow(), A)
    _ok(tb.post(f"/enterprises/{B}/transfers/accept", data=dict(transfer=t["id"]),
                follow_redirects=False))
    r = client.put("/api/v1/approval-policy/negotiated_transfer", headers=auth("admin"),
                   json={"required": True})
    assert r.status_code == 200
    # the officer's approval becomes a request; nothing settles yet
    r = officer.post("/bureau/transfers/decide", data=dict(transfer=t["id"], decision="approve"),
                     follow_redirects=False)
    _ok(r)
    assert notice_has(officer, r, "second", "第二")
    assert transfers.transfer_view(platform.uow(), t["id"])["status"] == "accepted"
    (req,) = client.get("/api/v1/approvals?status=pending",
                        headers=auth("admin")).json()["items"]
    assert req["tx_type"] == "negotiated_transfer" and req["target"] == t["id"]
    # the same through the API: 202 with a second request
    r = client.post(f"/api/v1/transfers/{t['id']}/approve", headers=auth("officer"))
    assert r.status_code == 202 and r.json()["status"] == "pending"
    # a second officer approves the first request: settlement runs, once
    out = client.post(f"/api/v1/approvals/{req['id']}/approve", headers=auth("admin")).json()
    assert out["status"] == "executed", out
    assert transfers.transfer_view(platform.uow(), t["id"])["status"] == "settled"
    out = client.post(f"/api/v1/approvals/{r.json()['id']}/approve",
                      headers=auth("admin")).json()
    assert out["status"] == "failed"  # already settled: refused by the rules, with its code
