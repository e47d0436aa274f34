"""Issue 18, driven as forms without JavaScript and through the API: the order form offers
only what the permit can trade (sellable tonnes, price limits, fee, order types in words);
halting or resuming a market needs a reason and a confirmation, and the reason shows on the
market page and in the audit log; auction bids below the reserve are refused, bids are
withdrawn and replaced from the page, the bureau sees bidder names and sets a schedule the
server runs (the app's lifespan tick included)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.paid_use_support import fund_and_pay
from tests.integration.spine import NOW, A, B

pytestmark = pytest.mark.db


@pytest.fixture
def floor(platform, spine):  # type: ignore[no-untyped-def]
    """Both permits confirmed and paid for, A with 3 000 kg verified surplus; more markets
    than the permits can trade (NOx, the 2027 vintage); a price band on SO2/ZA1/2026."""
    from allocation import service as alloc
    from trading import service as trading

    trading.clear_book_cache()
    for p in (spine["A"], spine["B"]):
        alloc.confirm_rights(platform.uow(), permit=p, pollutant="SO2", year=2026,
                             actor="bureau", now=NOW)
        fund_and_pay(platform, p, NOW)
    alloc.verify_surplus(platform.uow(), permit=spine["A"], pollutant="SO2", year=2026,
                         qty_kg=3000, actor="bureau", now=NOW)
    alloc.deposit_cash(platform.uow(), enterprise=A, amount_fen=5_000_000, actor="bureau",
                       reference="A-more", now=NOW)
    with platform.uow() as uow:
        trading.ensure_market(uow, pollutant="NOX", zone="ZA1", vintage=2026)
        trading.ensure_market(uow, pollutant="SO2", zone="ZA1", vintage=2027)
        uow.commit()
    trading.set_reference_price(platform.uow(), market=spine["market"], price=300_000,
                                band_pct=10)
    return spine


def _ok(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 303, re.findall(r'class="(?:flash err|field-error)"[^>]*>(.*?)</',
                                            r.text, re.S)


def _form(html: str) -> str:
    m = re.search(r'<form [^>]*id="order-form".*?</form>', html, re.S)
    assert m, "no order form"
    return m.group(0)


# order entry -------------------------------------------------------------------------------

def test_order_form_offers_only_what_the_permit_can_trade(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from trading import service as trading

    platform.settings.fee_bps = 25
    ta = browser("trader_a")
    page = ta.get(f"/enterprises/{A}")
    assert page.status_code == 200
    form = _form(page.text)
    options = re.findall(r'<select name="market".*?</select>', form, re.S)[0]
    assert re.findall(r'option value="([^"]+)"', options) == [floor["market"]]
    assert len(trading.list_markets(platform.uow())) == 3  # two it cannot trade are left out
    table = re.search(r'<table class="grid" id="tradable-markets">.*?</table>', page.text,
                      re.S).group(0)
    assert table.count('class="position"') == 1
    assert "3.000" in table  # the 3 000 kg verified surplus, sellable, in tonnes
    assert "2,700.00 – 3,300.00" in table  # the day's limits around 3 000 yuan/t ± 10 %
    assert 'id="order-fee"' in page.text and "0.25%" in page.text
    # order types in words, never the codes
    assert "撤单前一直有效" in form and "立即全部成交，否则全部撤销" in form
    for code in ("GTC", "IOC", "FOK", ">gtc<", ">ioc<"):
        assert code not in form
    en = ta.get("/lang/en", follow_redirects=True)
    assert en.status_code == 200
    form_en = _form(ta.get(f"/enterprises/{A}").text)
    assert "Good till cancelled" in form_en and "Fill it all now or cancel it" in form_en
    # B holds no tradable rights: the market is offered, with nothing to sell
    tb = browser("trader_b")
    table_b = re.search(r'id="tradable-markets">.*?</table>', tb.get(f"/enterprises/{B}").text,
                        re.S).group(0)
    assert "0.000" in table_b
    # the form still places orders
    _ok(ta.post(f"/enterprises/{A}/orders", data=dict(
        permit=floor["A"], market=floor["market"], side="sell", qty="100",
        price_yuan="3000", tif="gtc"), follow_redirects=False))
    assert [o["market"] for o in trading.orders_of(platform.uow(), A)] == [floor["market"]]


def test_tradable_positions_rules() -> None:
    from web.pages.order_entry import tradable_positions

    permits = [dict(code="P1", status="expired", quantities=[
        dict(pollutant="SO2", zone="ZA1", year=2026)])]
    markets = [dict(id="SO2/ZA1/2026", pollutant="SO2", zone="ZA1", vintage=2026,
                    state="open", tick=1, min_lot=1, reference_price=None, band_pct=None)]
    assert tradable_positions(permits, markets, []) == []  # an expired permit trades nothing
    permits[0]["status"] = "valid"
    (row,) = tradable_positions(permits, markets, [
        dict(holder="P1", kind="tradable", asset="SO2/ZA1/2026", balance=700, available=500)])
    assert (row["market"], row["sellable_kg"], row["price_band"]) == ("SO2/ZA1/2026", 500,
                                                                       None)
    # a zone the permit's quantity is not in: not offered
    permits[0]["quantities"] = [dict(pollutant="SO2", zone="ZB9", year=2026)]
    assert tradable_positions(permits, markets, []) == []


# halts with a reason -----------------------------------------------------------------------

def test_halt_needs_reason_and_confirmation(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from identity import service as identity
    from trading import halts

    officer = browser("officer")
    page = officer.get("/bureau/markets")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    url = f"/bureau/markets/{floor['market']}/state"
    r = officer.post(url, data=dict(state="halted", reason="", confirm="yes"))
    assert r.status_code == 422 and "请填写理由" in r.text
    r = officer.post(url, data=dict(state="halted", reason="price spike under review"))
    assert r.status_code == 422 and "请勾选确认" in r.text
    assert 'value="price spike under review"' in r.text  # the form keeps what was typed
    assert halts.market_state(platform.uow(), floor["market"])["state"] == "open"
    r = officer.post(url, data=dict(state="halted", reason="price spike under review",
                                    confirm="yes"), follow_redirects=False)
    _ok(r)
    assert r.headers["location"] == f"/markets/{floor['market']}"
    public = TestClient(officer.c.app).get(f"/markets/{floor['market']}").text
    assert 'id="market-state-reason"' in public and "price spike under review" in public
    assert "暂停交易" in public and "北京时间" in public
    assert "officer" not in re.search(r'id="market-state-reason".*?</p>', public,
                                      re.S).group(0)  # who halted is the bureau's
    # the order form refuses orders while halted (the page shows the state)
    ta = browser("trader_a")
    r = ta.post(f"/enterprises/{A}/orders", data=dict(
        permit=floor["A"], market=floor["market"], side="sell", qty="100",
        price_yuan="3000", tif="gtc"))
    assert r.status_code == 409 and 'id="order-error"' in r.text
    # the surveillance page shows the reason; resuming needs one too
    page = officer.get("/bureau/markets").text
    assert "price spike under review" in page and "恢复交易" in page
    r = officer.post(url, data=dict(state="open", reason=" ", confirm="yes"))
    assert r.status_code == 422
    _ok(officer.post(url, data=dict(state="open", reason="review done, no manipulation",
                                    confirm="yes"), follow_redirects=False))
    st = halts.market_state(platform.uow(), floor["market"])
    assert (st["state"], st["reason"], st["by"]) == ("open", "review done, no manipulation",
                                                     "officer")
    details = [x["detail"] for x in identity.audit_page(
        platform.uow(), action="set_market_state")["items"]]
    assert "halted: price spike under review" in details
    assert "open: review done, no manipulation" in details


def test_halt_api_requires_a_reason(client, auth, floor, platform) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/markets/{floor['market']}/state"
    r = client.post(url, json={"state": "halted"}, headers=auth("officer"))
    assert r.status_code == 422 and r.json()["error"] == "reason_required"
    r = client.post(url, json={"state": "halted", "reason": "disorderly trading"},
                    headers=auth("officer"))
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["reason"], r.json()["by"]) == (
        "halted", "disorderly trading", "officer")
    r = client.post(url, json={"state": "halted", "reason": "x"}, headers=auth("officer"))
    assert r.status_code == 409 and r.json()["error"] == "market_already_in_state"
    assert client.post(url, json={"state": "open", "reason": "x"},
                       headers=auth("trader_a")).status_code == 403


# auctions ----------------------------------------------------------------------------------

def _open_auction(platform, market: str, aid: str = "auc-p") -> str:  # type: ignore[no-untyped-def]
    from trading import auction_service as auctions

    auctions.create_auction(platform.uow(), market=market, offered=1_000,
                            reserve_price=100_000, actor="officer", auction_id=aid)
    auctions.open_auction(platform.uow(), aid, actor="officer")
    return aid


def test_bids_below_reserve_withdraw_and_replace_from_the_page(browser, floor, platform) -> None:  # type: ignore[no-untyped-def]
    from ledger import service as ledger_service
    from trading import auction_service as auctions

    aid = _open_auction(platform, floor["market"])

    def cash_on_hold(code: str) -> int:
        return sum(int(h["on_hold"]) for h in ledger_service.holdings(platform.uow(), [code])
                   if h["asset"] == "CNY")

    ta = browser("trader_a")
    page = ta.get(f"/enterprises/{A}/auctions").text
    assert "不得低于保留价" in page and "1,000.00" in page  # the reserve beside the input
    r = ta.post(f"/enterprises/{A}/auctions/bids", data=dict(
        auction=aid, permit=floor["A"], qty="400", price_yuan="999.99"))
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert cash_on_hold(A) == 0
    _ok(ta.post(f"/enterprises/{A}/auctions/bids", data=dict(
        auction=aid, permit=floor["A"], qty="400", price_yuan="1200"),
        follow_redirects=False))
    assert cash_on_hold(A) == 400 * 120_000 // 1000  # the deposit, fen
    (bid,) = auctions.auction_view(platform.uow(), aid, reveal=True)["bids"]
    page = ta.get(f"/enterprises/{A}/auctions").text
    assert 'class="bare withdraw-form"' in page and 'class="inline replace-form"' in page
    # B cannot withdraw A's bid: not found, like a missing one
    tb = browser("trader_b")
    tb.get(f"/enterprises/{B}/auctions")
    r = tb.post(f"/enterprises/{B}/auctions/bids/withdraw", data=dict(bid=bid["id"]))
    assert r.status_code == 404 and 'role="alert"' in r.text
    _ok(ta.post(f"/enterprises/{A}/auctions/bids/replace", data=dict(
        bid=bid["id"], qty="500", price_yuan="1300"), follow_redirects=False))
    assert cash_on_hold(A) == 500 * 130_000 // 1000
    r = ta.post(f"/enterprises/{A}/auctions/bids/replace", data=dict(
        bid=bid["id"], qty="500", price_yuan="1300"))
    assert r.status_code == 409 and 'role="alert"' in r.text  # the old one is replaced
    new = [b for b in auctions.auction_view(platform.uow(), aid, reveal=True)["bids"]
           if b["status"] == "open"]
    assert [(b["qty"], b["price"]) for b in new] == [(500, 130_000)]
    _ok(ta.post(f"/enterprises/{A}/auctions/bids/withdraw", data=dict(bid=new[0]["id"]),
                follow_redirects=False))
    assert cash_on_hold(A) == 0
    page = ta.get(f"/enterprises/{A}/auctions").text
    from web.labels import label

    assert label("status", "withdrawn") in page and label("status", "replaced") in page
    assert "withdraw-form" not in page
    assert "报价已撤回" in page  # the confirmation, in Chinese


def test_bid_api_withdraw_replace_and_bureau_sees_names(client, auth, browser, floor,  # type: ignore[no-untyped-def]
                                                       platform) -> None:
    aid = _open_auction(platform, floor["market"], "auc-api")
    r = client.post(f"/api/v1/auctions/{aid}/bids", headers=auth("trader_b"),
                    json=dict(permit=floor["B"], qty=300, price=99_999))
    assert r.status_code == 422 and r.json()["error"] == "bid_below_reserve"
    r = client.post(f"/api/v1/auctions/{aid}/bids", headers=auth("trader_b"),
                    json=dict(permit=floor["B"], qty=300, price=110_000))
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = client.post(f"/api/v1/auctions/{aid}/bids/{bid}/withdraw", headers=auth("trader_a"))
    assert r.status_code == 404 and r.json()["error"] == "bid_not_found"
    r = client.post(f"/api/v1/auctions/{aid}/bids/{bid}/replace", headers=auth("trader_b"),
                    json=dict(qty=600, price=120_000))
    assert r.status_code == 201 and r.json()["replaces"] == bid
    new = r.json()["id"]
    # the bureau sees the bidder's name; another bidder sees only its own bids
    from allocation import service as alloc

    name_b = str(alloc.enterprise_view(platform.uow(), B)["name"])
    officer_page = browser("officer").get("/bureau/auctions").text
    assert name_b in officer_page
    a_page = browser("trader_a").get(f"/enterprises/{A}/auctions").text
    assert name_b not in a_page and floor["B"] not in a_page
    r = client.post(f"/api/v1/auctions/{aid}/bids/{new}/withdraw", headers=auth("trader_b"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_schedule_from_the_page_needs_a_second_officer_and_runs(browser, floor,  # type: ignore[no-untyped-def]
                                                                platform) -> None:
    from identity import service as identity
    from trading import auction_service as auctions

    auctions.create_auction(platform.uow(), market=floor["market"], offered=1_000,
                            reserve_price=100_000, actor="officer", auction_id="auc-sch")
    officer = browser("officer")
    officer.get("/bureau/auctions")
    r = officer.post("/bureau/auctions/schedule", data=dict(
        auction="auc-sch", announce_at="2030-01-02 09:00", open_at="2030-01-02T10:00",
        close_at="tomorrow"))
    assert r.status_code == 422 and "2026-12-06 09:00" in r.text
    r = officer.post("/bureau/auctions/schedule", data=dict(
        auction="auc-sch", announce_at="2030-01-02 09:00", open_at="2030-01-02T10:00",
        close_at="2030-01-02T09:30"))
    assert r.status_code == 422 and 'role="alert"' in r.text
    _ok(officer.post("/bureau/auctions/schedule", data=dict(
        auction="auc-sch", announce_at="2030-01-02 09:00", open_at="2030-01-02T10:00",
        close_at="2030-01-02T16:00"), follow_redirects=False))
    (req,) = [a for a in identity.approvals(platform.uow(), status="pending")["items"]
              if a["action"] == "schedule_auction"]
    assert auctions.auction_view(platform.uow(), "auc-sch")["open_at"] is None
    _ok(browser("officer2").post(f"/bureau/approvals/{req['id']}/approve",
                                 follow_redirects=False))
    view = auctions.auction_view(platform.uow(), "auc-sch")
    open_at = NOW.replace(year=2030, month=1, day=2, hour=2)  # 10:00 Beijing = 02:00 UTC
    assert view["open_at"] == open_at.isoformat()
    page = officer.get("/bureau/auctions").text
    assert 'value="2030-01-02T10:00"' in page  # shown back in Beijing time
    # the server's tick takes the steps (the test gives the time)
    steps = auctions.run_due_auctions(platform.uow, open_at - timedelta(minutes=30))
    assert [s["step"] for s in steps] == ["announce"]
    ta = browser("trader_a")
    page = ta.get(f"/enterprises/{A}/auctions").text
    assert "auc-sch" in page and "2030-01-02 10:00" in page and "bid-form" not in page
    assert [s["step"] for s in auctions.run_due_auctions(platform.uow, open_at)] == ["open"]
    assert "bid-form" in ta.get(f"/enterprises/{A}/auctions").text


def test_the_running_app_ticks_the_schedule(platform, spine) -> None:  # type: ignore[no-untyped-def]
    """The app's lifespan runs `run_due_auctions` every `auction_tick_seconds`."""
    from datetime import UTC, datetime

    from trading import auction_service as auctions
    from web.app import create_app

    auctions.create_auction(platform.uow(), market=spine["market"], offered=100,
                            reserve_price=100_000, actor="officer", auction_id="auc-tick")
    past = datetime.now(UTC) - timedelta(minutes=1)
    auctions.schedule_auction(platform.uow(), "auc-tick", announce_at=past, open_at=None,
                              close_at=None, actor="officer")
    settings = platform.settings.model_copy(update={"auction_tick_seconds": 0.05})
    with TestClient(create_app(settings, platform)):
        for _ in range(200):
            if auctions.auction_view(platform.uow(), "auc-tick")["status"] != "draft":
                break
            time.sleep(0.05)
    assert auctions.auction_view(platform.uow(), "auc-tick")["status"] == "announced"
