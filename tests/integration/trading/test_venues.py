"""Reserve auctions, listings and negotiated transfers end to end, on SQLite and PostgreSQL:
money and rights move exactly once, permits record every movement, and no hold is left
behind, whether the venue settles, is cancelled, rejected or expires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from allocation import service as alloc
from kernel.errors import DomainError
from tests.integration.spine import NOW, A, B
from tests.integration.trading.conftest import Floor, assert_no_holds
from trading import auction_service as auctions
from trading import listing_service as listings
from trading import transfer_service as transfers

pytestmark = pytest.mark.db

RESERVE = 6_000  # 20 000 issued - 8 000 (A) - 6 000 (B) confirmed


def _bid(floor: Floor, auction: str, who: str, qty: int, price: int) -> dict:  # type: ignore[type-arg]
    ent, permit = (A, floor.pa) if who == "A" else (B, floor.pb)
    return auctions.place_bid(floor.platform.uow(), auction_id=auction, enterprise=ent,
                              permit=permit, qty=qty, price=price,
                              permits=floor.platform.permits, actor=who, now=NOW)


def test_auction_end_to_end(floor: Floor) -> None:
    p = floor.platform
    with pytest.raises(DomainError) as e:
        auctions.create_auction(p.uow(), market=floor.market, offered=3_000,
                                reserve_price=97_500, actor="bureau", now=NOW)
    assert e.value.code == "reserve_below_base_price"
    a = auctions.create_auction(p.uow(), market=floor.market, offered=3_000,
                                reserve_price=97_600, tie_seed=7, bidder_cap_pct=60,
                                actor="bureau", now=NOW, auction_id="auc-1")
    assert (a["status"], a["tie_seed"]) == ("draft", 7)
    with pytest.raises(DomainError) as e:
        _bid(floor, "auc-1", "B", 100, 200_000)
    assert e.value.code == "auction_wrong_state"
    auctions.open_auction(p.uow(), "auc-1", actor="bureau", now=NOW)
    assert floor.account("BUREAU", "reserve").on_hold == 3_000
    _bid(floor, "auc-1", "B", 1_500, 200_000)   # capped at 60 % = 1 800 per bidder
    _bid(floor, "auc-1", "B", 500, 150_000)     # only 300 fit under B's cap
    _bid(floor, "auc-1", "A", 2_000, 120_000)
    with pytest.raises(DomainError) as e:        # below the reserve price: refused
        _bid(floor, "auc-1", "A", 500, 90_000)
    assert e.value.code == "bid_below_reserve"
    with pytest.raises(DomainError) as e:        # B's cap headroom is 2 000 kg
        _bid(floor, "auc-1", "B", 100, 150_000)
    assert e.value.code == "cap_headroom_exceeded"
    auctions.close_auction(p.uow(), "auc-1", actor="bureau", now=NOW)
    cleared = auctions.clear_auction(p.uow(), "auc-1", actor="bureau", now=NOW)
    assert (cleared["status"], cleared["price"], cleared["sold"]) == ("cleared", 120_000,
                                                                       3_000)
    won = {(b["enterprise"], b["price"]): b["won"] for b in cleared["bids"]}
    assert won == {(B, 200_000): 1_500, (B, 150_000): 300, (A, 120_000): 1_200}
    # losers' deposits are already released; winners' still held
    cash_b_before = floor.balance(B, "cash", "CNY")
    auctions.settle_auction(p.uow(), "auc-1", permits=p.permits, actor="bureau", now=NOW)
    assert floor.balance(B, "cash", "CNY") == cash_b_before - (1_800 * 120)  # uniform price
    assert floor.balance("BUREAU", "cash", "CNY") == 3_000 * 120
    assert floor.balance("BUREAU", "reserve") == RESERVE - 3_000
    assert floor.balance(floor.pb, "confirmed") == 6_000 + 1_800
    public = auctions.auction_view(p.uow(), "auc-1")
    assert public["status"] == "settled" and "bids" not in public
    assert sorted((r["qty"], r["price"]) for r in public["results"]) == [
        (300, 120_000), (1_200, 120_000), (1_500, 120_000)]
    hist = alloc.permit_view(p.uow(), floor.pb)["history"]
    assert hist[0]["counterparty"] == "RESERVE"  # type: ignore[index]
    assert_no_holds(p)
    with pytest.raises(DomainError) as e:
        auctions.settle_auction(p.uow(), "auc-1", permits=p.permits, actor="bureau", now=NOW)
    assert e.value.code == "auction_wrong_state"


def test_auction_cancelled_releases_every_deposit(floor: Floor) -> None:
    p = floor.platform
    aid = "a" * 24  # the longest auction and bid ids still fit the ledger's ids
    auctions.create_auction(p.uow(), market=floor.market, offered=3_000,
                            reserve_price=100_000, rule="pay_as_bid", actor="bureau",
                            now=NOW, auction_id=aid)
    auctions.open_auction(p.uow(), aid, actor="bureau", now=NOW)
    auctions.place_bid(p.uow(), auction_id=aid, enterprise=B, permit=floor.pb, qty=1_000,
                       price=150_000, permits=p.permits, actor="b", now=NOW, bid_id="b" * 24)
    with pytest.raises(DomainError) as e:  # below reserve: refused, nothing held
        _bid(floor, aid, "A", 1_000, 99_000)
    assert e.value.code == "bid_below_reserve"
    auctions.close_auction(p.uow(), aid, actor="bureau", now=NOW)
    out = auctions.clear_auction(p.uow(), aid, actor="bureau", now=NOW)
    assert (out["status"], out["reason"]) == ("cancelled", "undersubscribed")
    assert floor.balance("BUREAU", "reserve") == RESERVE
    assert floor.balance(B, "cash", "CNY") == 10_000_000
    assert_no_holds(p)
    with pytest.raises(DomainError) as e:
        auctions.open_auction(p.uow(), aid, actor="bureau", now=NOW)
    assert e.value.code == "auction_wrong_state"


def test_auction_pay_as_bid_settles_each_at_its_price(floor: Floor) -> None:
    p = floor.platform
    aid = "A" * 24
    auctions.create_auction(p.uow(), market=floor.market, offered=2_000,
                            reserve_price=100_000, rule="pay_as_bid", actor="bureau",
                            now=NOW, auction_id=aid)
    auctions.open_auction(p.uow(), aid, actor="bureau", now=NOW)
    _bid(floor, aid, "B", 1_000, 150_000)
    _bid(floor, aid, "A", 1_500, 120_000)
    auctions.close_auction(p.uow(), aid, actor="bureau", now=NOW)
    out = auctions.clear_auction(p.uow(), aid, actor="bureau", now=NOW)
    assert (out["status"], out["price"]) == ("cleared", 120_000)
    auctions.settle_auction(p.uow(), aid, permits=p.permits, actor="bureau", now=NOW)
    assert floor.balance("BUREAU", "cash", "CNY") == 1_000 * 150 + 1_000 * 120
    assert floor.balance(B, "cash", "CNY") == 10_000_000 - 150_000
    assert floor.balance(floor.pa, "confirmed") == 5_000 + 1_000
    assert_no_holds(p)


def test_auction_offer_beyond_reserve(floor: Floor) -> None:
    p = floor.platform
    auctions.create_auction(p.uow(), market=floor.market, offered=RESERVE + 1,
                            reserve_price=100_000, actor="bureau", now=NOW,
                            auction_id="auc-3")
    with pytest.raises(DomainError) as e:
        auctions.open_auction(p.uow(), "auc-3", actor="bureau", now=NOW)
    assert e.value.code == "insufficient_reserve"
    assert_no_holds(p)


def test_listings_first_come_first_served(floor: Floor) -> None:
    p = floor.platform
    with pytest.raises(DomainError) as e:
        listings.create_listing(p.uow(), market=floor.market, seller=None, permit=None,
                                qty=1_000, price=90_000, permits=p.permits, actor="bureau",
                                now=NOW)
    assert e.value.code == "reserve_below_base_price"
    lid = "L" * 24
    lst = listings.create_listing(p.uow(), market=floor.market, seller=None, permit=None,
                                  qty=1_000, price=100_000, permits=p.permits,
                                  actor="bureau", now=NOW, listing_id=lid)
    assert lst["seller"] == "BUREAU"
    t1 = listings.take_listing(p.uow(), listing_id=lid, enterprise=B, permit=floor.pb,
                               qty=600, permits=p.permits, actor="b", now=NOW, fee_bps=10)
    assert (t1["remaining"], t1["trade"]["value_fen"], t1["trade"]["fee_buyer"]) == (
        400, 60_000, 60)
    with pytest.raises(DomainError) as e:
        listings.take_listing(p.uow(), listing_id=lid, enterprise=A, permit=floor.pa,
                              qty=500, permits=p.permits, actor="a", now=NOW)
    assert e.value.code == "listing_qty_exceeded"
    t2 = listings.take_listing(p.uow(), listing_id=lid, enterprise=A, permit=floor.pa,
                               qty=400, permits=p.permits, actor="a", now=NOW)
    assert t2["status"] == "sold"
    with pytest.raises(DomainError) as e:
        listings.take_listing(p.uow(), listing_id=lid, enterprise=A, permit=floor.pa,
                              qty=10, permits=p.permits, actor="a", now=NOW)
    assert e.value.code == "listing_not_open"
    assert floor.balance("BUREAU", "cash", "CNY") == 100_000
    assert floor.balance("BUREAU", "reserve") == RESERVE - 1_000
    # an enterprise listing from A's tradable rights, withdrawn after one take
    mine = listings.create_listing(p.uow(), market=floor.market, seller=A, permit=floor.pa,
                                   qty=500, price=300_000, permits=p.permits, actor="a",
                                   now=NOW)
    with pytest.raises(DomainError) as e:
        listings.take_listing(p.uow(), listing_id=mine["id"], enterprise=A, permit=floor.pa,
                              qty=100, permits=p.permits, actor="a", now=NOW)
    assert e.value.code == "self_dealing"
    listings.take_listing(p.uow(), listing_id=mine["id"], enterprise=B, permit=floor.pb,
                          qty=100, permits=p.permits, actor="b", now=NOW)
    listings.withdraw_listing(p.uow(), listing_id=mine["id"], seller=A, actor="a", now=NOW)
    assert floor.balance(floor.pa, "tradable") == 2_900
    assert_no_holds(p)


def test_negotiated_transfer_approved_rejected_expired(floor: Floor) -> None:
    p = floor.platform

    def propose(tid: str, qty: int, **kw: object) -> dict:  # type: ignore[type-arg]
        return transfers.propose_transfer(
            p.uow(), market=floor.market, seller=A, seller_permit=floor.pa, buyer=B,
            buyer_permit=floor.pb, qty=qty, price=250_000, permits=p.permits, actor="a",
            transfer_id=tid, **kw)  # type: ignore[arg-type]

    propose("T" * 24, 1_000, now=NOW)
    transfers.reject_transfer(p.uow(), transfer_id="T" * 24, reason="duplicate",
                              actor="bureau", now=NOW)
    propose("T1", 1_000, now=NOW)
    with pytest.raises(DomainError) as e:  # only the bureau approves, and only accepted ones
        transfers.approve_transfer(p.uow(), transfer_id="T1", permits=p.permits,
                                   actor="bureau", now=NOW)
    assert e.value.code == "transfer_wrong_state"
    with pytest.raises(DomainError) as e:  # the seller cannot accept its own proposal
        transfers.accept_transfer(p.uow(), transfer_id="T1", buyer=A, actor="a", now=NOW)
    assert e.value.code == "transfer_wrong_state"
    transfers.accept_transfer(p.uow(), transfer_id="T1", buyer=B, actor="b", now=NOW)
    done = transfers.approve_transfer(p.uow(), transfer_id="T1", permits=p.permits,
                                      actor="bureau", now=NOW)
    assert done["status"] == "settled" and done["trade_id"]
    assert floor.balance(floor.pb, "confirmed") == 7_000
    assert floor.balance(B, "cash", "CNY") == 10_000_000 - 250_000
    # rejected with a reason
    propose("T2", 500, now=NOW)
    transfers.accept_transfer(p.uow(), transfer_id="T2", buyer=B, actor="b", now=NOW)
    with pytest.raises(DomainError) as e:
        transfers.reject_transfer(p.uow(), transfer_id="T2", reason=" ", actor="bureau",
                                  now=NOW)
    assert e.value.code == "invalid_input"
    rej = transfers.reject_transfer(p.uow(), transfer_id="T2", reason="price far from market",
                                    actor="bureau", now=NOW)
    assert (rej["status"], rej["reason"]) == ("rejected", "price far from market")
    # unanswered: expires by the sweep, not before
    propose("T3", 500, now=NOW, expires_at=NOW + timedelta(hours=1))
    assert transfers.expire_transfers(p.uow(), now=NOW + timedelta(minutes=30)) == []
    with pytest.raises(DomainError) as e:
        transfers.accept_transfer(p.uow(), transfer_id="T3", buyer=B, actor="b",
                                  now=NOW + timedelta(hours=2))
    assert e.value.code == "transfer_expired"
    assert transfers.expire_transfers(p.uow(), now=NOW + timedelta(hours=2)) == ["T3"]
    assert transfers.transfer_view(p.uow(), "T3")["status"] == "expired"
    with pytest.raises(DomainError) as e:  # someone else's transfer is not found
        transfers.transfer_view(p.uow(), "T3", party="91500000CCCCCCCC3X")
    assert e.value.code == "transfer_not_found"
    assert floor.balance(floor.pa, "tradable") == 2_000
    assert_no_holds(p)
