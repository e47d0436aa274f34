"""Auction bids below the reserve refused, bids withdrawn and replaced, schedules run by
`run_due_auctions` with an injected `now`; market halts with a reason (issue 18). SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kernel.errors import DomainError
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import Floor, assert_no_holds
from trading import auction_service as auctions
from trading import halts
from trading import service as trading

pytestmark = pytest.mark.db

RESERVE = 6_000  # the bureau reserve on the spine (see test_venues)


def _bid(floor: Floor, aid: str, who: str, qty: int, price: int, **kw):  # type: ignore[no-untyped-def]
    ent, permit = (A, floor.pa) if who == "A" else (B, floor.pb)
    return auctions.place_bid(floor.platform.uow(), auction_id=aid, enterprise=ent,
                              permit=permit, qty=qty, price=price,
                              permits=floor.platform.permits, actor=who, **kw)


def _open(floor: Floor, aid: str = "auc-x", offered: int = 2_000) -> str:
    p = floor.platform
    auctions.create_auction(p.uow(), market=floor.market, offered=offered,
                            reserve_price=100_000, actor="bureau", now=NOW, auction_id=aid)
    auctions.open_auction(p.uow(), aid, actor="bureau", now=NOW)
    return aid


def _held(floor: Floor, holder: str, kind: str, asset: str | None = None) -> tuple[int, int]:
    """(balance, on hold) of an account."""
    a = floor.account(holder, kind, asset)
    return (0, 0) if a is None else (int(a.balance), int(a.on_hold))


def test_bid_below_reserve_is_refused_and_holds_nothing(floor: Floor) -> None:
    aid = _open(floor)
    cash = _held(floor, B, "cash", "CNY")
    with pytest.raises(DomainError) as e:
        _bid(floor, aid, "B", 1_000, 99_999, now=NOW)
    assert (e.value.code, e.value.field) == ("bid_below_reserve", "price")
    assert _held(floor, B, "cash", "CNY") == cash
    assert auctions.auction_view(floor.platform.uow(), aid, reveal=True)["bids"] == []
    _bid(floor, aid, "B", 1_000, 100_000, now=NOW)  # at the reserve: taken


def test_withdraw_releases_deposit_and_headroom(floor: Floor) -> None:
    p = floor.platform
    aid = _open(floor)
    cash0 = _held(floor, B, "cash", "CNY")
    room0 = floor.account(floor.pb, "confirmed")
    b = _bid(floor, aid, "B", 1_000, 150_000, now=NOW)
    assert _held(floor, B, "cash", "CNY") == (cash0[0], cash0[1] + 150_000)
    # another enterprise cannot touch it: not found, like a missing bid
    with pytest.raises(DomainError) as e:
        auctions.withdraw_bid(p.uow(), bid_id=b["id"], enterprise=A, actor="a", now=NOW)
    assert e.value.code == "bid_not_found"
    with pytest.raises(DomainError) as e:  # named under another auction
        auctions.withdraw_bid(p.uow(), bid_id=b["id"], enterprise=B, auction_id="auc-other",
                              actor="b", now=NOW)
    assert e.value.code == "bid_not_found"
    out = auctions.withdraw_bid(p.uow(), bid_id=b["id"], enterprise=B, actor="b", now=NOW)
    assert out["status"] == "withdrawn"
    assert _held(floor, B, "cash", "CNY") == cash0
    room = floor.account(floor.pb, "confirmed")
    assert (room.balance, room.credits_pending) == (room0.balance, room0.credits_pending)
    with pytest.raises(DomainError) as e:  # twice: it is no longer open
        auctions.withdraw_bid(p.uow(), bid_id=b["id"], enterprise=B, actor="b", now=NOW)
    assert e.value.code == "bid_not_open"
    # a withdrawn bid takes no part in the clearing: with no other bid, undersubscribed
    auctions.close_auction(p.uow(), aid, actor="bureau", now=NOW)
    out = auctions.clear_auction(p.uow(), aid, actor="bureau", now=NOW)
    assert (out["status"], out["reason"]) == ("cancelled", "undersubscribed")
    assert {x["status"] for x in out["bids"]} == {"withdrawn"}
    assert_no_holds(p)


def test_replace_relocks_in_one_transaction(floor: Floor) -> None:
    p = floor.platform
    aid = _open(floor)
    cash0 = _held(floor, B, "cash", "CNY")
    old = _bid(floor, aid, "B", 1_000, 150_000, now=NOW)
    new = auctions.replace_bid(p.uow(), bid_id=old["id"], enterprise=B, qty=2_000,
                               price=120_000, permits=p.permits, actor="b", now=NOW)
    assert new["replaces"] == old["id"] and new["id"] != old["id"]
    assert _held(floor, B, "cash", "CNY") == (cash0[0], cash0[1] + 240_000)
    # a refused replacement (below the reserve) changes nothing: the bid still stands
    with pytest.raises(DomainError) as e:
        auctions.replace_bid(p.uow(), bid_id=new["id"], enterprise=B, qty=2_000,
                             price=50_000, permits=p.permits, actor="b", now=NOW)
    assert e.value.code == "bid_below_reserve"
    # one beyond the cash: the old holds are back too (the whole transaction rolled back)
    with pytest.raises(DomainError) as e:
        auctions.replace_bid(p.uow(), bid_id=new["id"], enterprise=B, qty=2_000,
                             price=10**9, permits=p.permits, actor="b", now=NOW)
    assert e.value.code == "insufficient_cash"
    assert _held(floor, B, "cash", "CNY") == (cash0[0], cash0[1] + 240_000)
    view = auctions.auction_view(p.uow(), aid, reveal=True)
    assert {x["id"]: x["status"] for x in view["bids"]} == {old["id"]: "replaced",
                                                            new["id"]: "open"}
    auctions.close_auction(p.uow(), aid, actor="bureau", now=NOW)
    out = auctions.clear_auction(p.uow(), aid, actor="bureau", now=NOW)
    assert (out["status"], out["price"], out["sold"]) == ("cleared", 120_000, 2_000)
    auctions.settle_auction(p.uow(), aid, permits=p.permits, actor="bureau", now=NOW)
    assert _held(floor, B, "cash", "CNY") == (cash0[0] - 240_000, cash0[1])
    assert_no_holds(p)
    with pytest.raises(DomainError) as e:  # after the auction: not open any more
        auctions.withdraw_bid(p.uow(), bid_id=new["id"], enterprise=B, actor="b", now=NOW)
    assert e.value.code == "auction_wrong_state"


def test_schedule_is_run_by_run_due_auctions(floor: Floor) -> None:
    p = floor.platform
    auctions.create_auction(p.uow(), market=floor.market, offered=1_000,
                            reserve_price=100_000, actor="bureau", now=NOW, auction_id="auc-s")
    h = timedelta(hours=1)
    with pytest.raises(DomainError) as e:  # close before open
        auctions.schedule_auction(p.uow(), "auc-s", announce_at=NOW + h, open_at=NOW + 3 * h,
                                  close_at=NOW + 2 * h, actor="bureau", now=NOW)
    assert (e.value.code, e.value.field) == ("auction_schedule_invalid", "close_at")
    with pytest.raises(DomainError) as e:  # a close without an open
        auctions.schedule_auction(p.uow(), "auc-s", announce_at=None, open_at=None,
                                  close_at=NOW + 2 * h, actor="bureau", now=NOW)
    assert e.value.code == "auction_schedule_invalid"
    s = auctions.schedule_auction(p.uow(), "auc-s", announce_at=NOW + h, open_at=NOW + 2 * h,
                                  close_at=NOW + 3 * h, actor="bureau", now=NOW)
    assert s["open_at"] == (NOW + 2 * h).isoformat()
    assert auctions.run_due_auctions(p.uow, NOW) == []  # nothing due yet
    assert auctions.run_due_auctions(p.uow, NOW + h) == [
        dict(auction="auc-s", step="announce", status="announced")]
    assert auctions.run_due_auctions(p.uow, NOW + h) == []  # taken once
    assert auctions.run_due_auctions(p.uow, NOW + 2 * h) == [
        dict(auction="auc-s", step="open", status="open")]
    assert floor.account("BUREAU", "reserve").on_hold == 1_000
    _bid(floor, "auc-s", "B", 1_000, 130_000, now=NOW + 2 * h)
    with pytest.raises(DomainError) as e:  # the scheduled close has passed: no more bids
        _bid(floor, "auc-s", "A", 1_000, 140_000, now=NOW + 3 * h)
    assert e.value.code == "bidding_closed"
    done = auctions.run_due_auctions(p.uow, NOW + 3 * h + timedelta(seconds=5))
    assert done == [dict(auction="auc-s", step="close", status="closed"),
                    dict(auction="auc-s", step="clear", status="cleared")]
    view = auctions.auction_view(p.uow(), "auc-s", reveal=True)
    assert (view["status"], view["price"], view["sold"]) == ("cleared", 130_000, 1_000)
    # settling stays the bureau's act
    assert auctions.run_due_auctions(p.uow, NOW + 10 * h) == []


def test_a_refused_scheduled_open_is_recorded_not_retried(floor: Floor) -> None:
    p = floor.platform
    auctions.create_auction(p.uow(), market=floor.market, offered=RESERVE + 1,
                            reserve_price=100_000, actor="bureau", now=NOW, auction_id="auc-r")
    auctions.schedule_auction(p.uow(), "auc-r", announce_at=None, open_at=NOW,
                              close_at=NOW + timedelta(hours=1), actor="bureau", now=NOW)
    assert auctions.run_due_auctions(p.uow, NOW) == [
        dict(auction="auc-r", step="open", error="insufficient_reserve")]
    view = auctions.auction_view(p.uow(), "auc-r")
    assert view["status"] == "draft" and view["open_at"] is None
    assert view["reason"] == "open_failed:insufficient_reserve"
    assert auctions.run_due_auctions(p.uow, NOW + timedelta(hours=2)) == []


def test_an_open_auction_takes_only_a_close(floor: Floor) -> None:
    p = floor.platform
    aid = _open(floor)
    with pytest.raises(DomainError) as e:
        auctions.schedule_auction(p.uow(), aid, announce_at=None, open_at=NOW + timedelta(1),
                                  close_at=None, actor="bureau", now=NOW)
    assert e.value.code == "auction_schedule_invalid"
    auctions.schedule_auction(p.uow(), aid, announce_at=None, open_at=None,
                              close_at=NOW + timedelta(minutes=30), actor="bureau", now=NOW)
    assert [d["step"] for d in auctions.run_due_auctions(
        p.uow, NOW + timedelta(minutes=30))] == ["close", "clear"]


def test_halt_needs_a_reason_and_is_recorded(floor: Floor) -> None:
    p = floor.platform
    for bad in ("", "   "):
        with pytest.raises(DomainError) as e:
            halts.set_market_state(p.uow(), market=floor.market, state="halted", reason=bad,
                                   actor="officer", now=NOW)
        assert e.value.code == "reason_required"
    assert halts.market_state(p.uow(), floor.market)["state"] == "open"
    out = halts.set_market_state(p.uow(), market=floor.market, state="halted",
                                 reason="suspected  manipulation", actor="officer", now=NOW)
    assert out["reason"] == "suspected manipulation"
    st = halts.market_state(p.uow(), floor.market)
    assert (st["state"], st["reason"], st["by"], st["at"]) == (
        "halted", "suspected manipulation", "officer", NOW.isoformat())
    with pytest.raises(DomainError) as e:
        floor.place("B", "buy", 100, 300_000)
    assert e.value.code == "market_halted"
    with pytest.raises(DomainError) as e:
        halts.set_market_state(p.uow(), market=floor.market, state="halted", reason="again",
                               actor="officer", now=NOW)
    assert e.value.code == "market_already_in_state"
    halts.set_market_state(p.uow(), market=floor.market, state="open", reason="checked",
                           actor="officer2", now=NOW)
    trading.clear_book_cache()
    floor.place("B", "buy", 100, 300_000)  # open again
