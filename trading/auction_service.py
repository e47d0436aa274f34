"""Reserve auctions against the database: the bureau sells reserve rights by sealed bid.

Lifecycle: draft → (announced) → open → closed → cleared | cancelled; cleared → settled.
Each step is one unit of work.

- create (draft): the offer, the reserve price (never below the pollutant's base price,
  `trading.prices`), the rule (uniform or pay-as-bid), the optional per-bidder cap and the
  tie-break seed. The seed is fixed and published when the auction is created, before any
  bid, so the random tie order cannot be chosen after seeing the bids.
- schedule (draft or announced): the Beijing times to announce, open and close, stored as
  UTC instants; `run_due_auctions(uow_factory, now)` (the server's tick, `erts auction
  run-due`) takes each step that is due: announce (enterprises see the auction), open, close
  and clear. Settling stays the bureau's act.
- open: the offered rights are held in the bureau reserve (a pending transfer reserve →
  market settlement), so they cannot be sold twice.
- bid (open only, before the scheduled close): a bid priced below the reserve price is
  refused before anything is held (`bid_below_reserve`). A bid holds a deposit and
  headroom. Deposit: the bid's full value (qty × price, rounded up): a winner pays at most
  its own price, so the deposit always covers the payment and the deposit is also the cash
  check; nothing is left to collect after the auction. Headroom: a pending credit to the
  bidder's confirmed account, so a win can never take the permit above its cap.
- withdraw / replace (open only, the bidder's own open bid): withdrawing voids the bid's
  deposit and headroom holds; replacing voids them and holds the new bid's in the same
  transaction (the old bid is ``replaced``, the new one arrives last).
- close: no more bids.
- clear: `trading.auction.clear` (the same code as `erts auction clear`) over the bids in
  arrival order. Cancelled (undersubscribed): every hold is voided. Cleared: the losing
  bids' deposits and headroom are voided at once; the winners' stay held.
- settle: per winning bid one linked batch posts its headroom hold for the quantity won
  (the rights come from the offer hold: reserve → settlement → confirmed, `reserve_release`),
  takes the payment out of its deposit and pays it to the bureau's cash account, and voids
  the rest of its holds; the unsold part of the offer returns to the reserve. Every win is a
  trade row (venue ``auction``, seller ``BUREAU``) and a record in the winner's permit.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kernel.clock import trading_day
from kernel.errors import DomainError, InvalidInput
from kernel.quantities import trade_value
from ledger import errors as LE
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator
from trading.auction import RULES, Bid, bidder_cap, clear
from trading.errors import (
    AuctionNotFound,
    AuctionScheduleInvalid,
    AuctionWrongState,
    BidBelowReserve,
    BiddingClosed,
    BidNotFound,
    BidNotOpen,
    InsufficientReserve,
    ReserveBelowBasePrice,
)
from trading.market import CapHeadroomExceeded, InsufficientCash, MarketNotFound, check_value
from trading.ports import Permits
from trading.prices import base_price, value_ceiling
from trading.service import VENUE_ID_MAX, check_id, utc
from trading.settlement import (
    BUREAU,
    RESERVE_PARTY,
    Accounts,
    Party,
    lock_ledger,
    record_trade,
    retry_conflicts,
)
from trading.store import TradingStore
from trading.tables import AuctionBidRow, AuctionRow, MarketRow

DEPOSIT_PCT = 100  # of the bid's value; see the module docstring
SCHEDULER = "system:schedule"  # the actor of the steps the server takes by the schedule

log = logging.getLogger(__name__)


def _int(value: object, name: str, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
        raise InvalidInput(f"{name} must be a {'non-negative' if zero else 'positive'} "
                           "whole number", field=name)
    return value


def _auction(uow: UoW, store: TradingStore, auction_id: str, *states: str) -> AuctionRow:
    a = store.auction(auction_id, lock=True)
    if a is None:
        raise AuctionNotFound(f"no auction {auction_id}", field="auction")
    lock_ledger(uow)
    if states and a.status not in states:
        raise AuctionWrongState(f"auction {auction_id} is {a.status}; this needs "
                                f"{' or '.join(states)}")
    return a


def _market(store: TradingStore, market_id: str) -> MarketRow:
    m = store.market(market_id)
    if m is None:
        raise MarketNotFound(f"no market {market_id!r}", field="market")
    return m


def create_auction(uow: UoW, *, market: str, offered: int, reserve_price: int,
                   rule: str = "uniform", bidder_cap_pct: str | int | float | None = None,
                   tie_seed: int | None = None, actor: str, now: datetime | None = None,
                   auction_id: str | None = None) -> dict[str, Any]:
    now = utc(now)
    _int(offered, "offered")
    check_id(auction_id, "auction_id", VENUE_ID_MAX)
    _int(reserve_price, "reserve_price")
    check_value(offered, reserve_price, "offered")
    if rule not in RULES:
        raise InvalidInput("rule must be uniform or pay_as_bid", field="rule")
    cap_text = None
    if bidder_cap_pct is not None:
        try:
            cap_text = str(Decimal(str(bidder_cap_pct)))
        except InvalidOperation:
            raise InvalidInput("bidder_cap_pct must be a number", field="bidder_cap_pct"
                               ) from None
        bidder_cap(offered, cap_text)  # (0, 100] or bad_auction_input
    seed = secrets.randbelow(1 << 62) if tie_seed is None else _int(tie_seed, "tie_seed",
                                                                      zero=True)
    with uow:
        store = TradingStore(uow.session)
        m = _market(store, market)
        floor = base_price(m.pollutant)
        if reserve_price < floor:
            raise ReserveBelowBasePrice(
                f"reserve price {reserve_price} fen/t is below the {m.pollutant} base price "
                f"{floor} fen/t", field="reserve_price")
        aid = auction_id or f"auc-{uuid.uuid4().hex[:16]}"
        if store.auction(aid) is not None:
            raise AuctionWrongState(f"auction {aid} exists", field="auction")
        a = AuctionRow(id=aid, market=m.id, offered=offered, reserve_price=reserve_price,
                       rule=rule, tie_seed=seed, bidder_cap_pct=cap_text,
                       deposit_pct=DEPOSIT_PCT, status="draft", price=None, sold=0,
                       reason=None, created_by=actor, created_at=now, updated_at=now)
        store.add(a)
        store.flush()
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


@retry_conflicts
def open_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Hold the offered rights in the bureau reserve and start taking bids."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "draft", "announced")
        m = _market(store, a.market)
        acc = Accounts(uow, m, now)
        try:
            ledger.execute(uow, [Transfer(f"auction:{a.id}:offer", "transfer", acc.reserve(),
                                          acc.rights_settlement, a.offered, phase="pending",
                                          reference=f"auction:{a.id}")],
                           initiator=Initiator.BUREAU, actor=actor, batch=f"auction:{a.id}:open",
                           now=now)
        except LE.InsufficientBalance as exc:
            raise InsufficientReserve(f"the reserve holds less than {a.offered} kg",
                                      field="offered") from exc
        a.status, a.updated_at = "open", now
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


def _check_bid(store: TradingStore, a: AuctionRow, m: MarketRow, *, qty: int, price: int,
               now: datetime) -> None:
    if a.close_at is not None and now >= utc(a.close_at):
        raise BiddingClosed(f"bidding in auction {a.id} closed at its scheduled close",
                            field="auction")
    if price < a.reserve_price:
        raise BidBelowReserve(f"price {price} fen/t is below the reserve price "
                              f"{a.reserve_price} fen/t", field="price")
    if qty % m.min_lot:
        raise InvalidInput(f"qty must be a whole number of lots of {m.min_lot} kg",
                           field="qty")


def _hold_bid(uow: UoW, store: TradingStore, a: AuctionRow, m: MarketRow, *, bid: str,
              enterprise: str, permit: str, qty: int, price: int, actor: str,
              now: datetime) -> AuctionBidRow:
    """Hold the bid's headroom and deposit and add its row (the caller commits)."""
    if store.bid(bid) is not None:
        raise InvalidInput(f"bid id {bid} is taken", field="bid_id")
    acc = Accounts(uow, m, now)
    deposit = value_ceiling(qty, price) * DEPOSIT_PCT // 100
    try:
        ledger.execute(uow, [
            Transfer(f"{bid}:room", "reserve_release", acc.rights_settlement,
                     acc.rights(permit, AccountKind.CONFIRMED), qty, phase="pending",
                     reference=f"auction:{a.id}"),
            Transfer(f"{bid}:cash", "transfer", acc.cash(enterprise), acc.cash_settlement,
                     deposit, phase="pending", reference=f"auction:{a.id}"),
        ], initiator=Initiator.SYSTEM, actor=actor, batch=f"{bid}:holds", now=now)
    except LE.OverLimit as exc:
        raise CapHeadroomExceeded("winning this bid would take the permit above its cap",
                                  field="qty") from exc
    except LE.InsufficientBalance as exc:
        raise InsufficientCash(f"a deposit of {deposit} fen is needed", field="price"
                               ) from exc
    row = AuctionBidRow(id=bid, auction=a.id, enterprise=enterprise, permit=permit,
                        qty=qty, price=price, deposit=deposit, won=0, pay_price=None,
                        status="open", created_at=now)
    store.add(row)
    store.flush()
    return row


@retry_conflicts
def place_bid(uow: UoW, *, auction_id: str, enterprise: str, permit: str, qty: int,
              price: int, permits: Permits, actor: str, now: datetime | None = None,
              bid_id: str | None = None) -> dict[str, Any]:
    """A sealed bid: holds its deposit (full value) and headroom under the permit cap.
    Refused, holding nothing, below the reserve price or after the scheduled close."""
    now = utc(now)
    _int(qty, "qty")
    _int(price, "price")
    check_value(qty, price)
    check_id(bid_id, "bid_id", VENUE_ID_MAX)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "open")
        m = _market(store, a.market)
        _check_bid(store, a, m, qty=qty, price=price, now=now)
        permits.check_trading_permit(uow, enterprise=enterprise, permit=permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        row = _hold_bid(uow, store, a, m, bid=bid_id or f"bid-{uuid.uuid4().hex[:16]}",
                        enterprise=enterprise, permit=permit, qty=qty, price=price,
                        actor=actor, now=now)
        out = _bid_dict(row)
        uow.commit()
        return out


def _own_open_bid(uow: UoW, store: TradingStore, bid_id: str, enterprise: str, now: datetime,
                  auction_id: str | None) -> tuple[AuctionRow, AuctionBidRow]:
    b = store.bid(bid_id)
    if b is None or b.enterprise != enterprise or auction_id not in (None, b.auction):
        raise BidNotFound(f"no bid {bid_id}", field="bid")
    a = _auction(uow, store, b.auction, "open")
    # read again under the auction's lock, from the database: the row read above stays in
    # the session's identity map, and a withdrawal or replacement committed while this one
    # waited for the lock would otherwise go unseen (one bid replaced twice, or a withdrawn
    # bid coming back as a new one)
    uow.session.refresh(b)
    if b.status != "open":
        raise BidNotOpen(f"bid {bid_id} is {b.status}", field="bid")
    if a.close_at is not None and now >= utc(a.close_at):
        raise BiddingClosed(f"bidding in auction {a.id} closed at its scheduled close",
                            field="auction")
    return a, b


@retry_conflicts
def withdraw_bid(uow: UoW, *, bid_id: str, enterprise: str, actor: str,
                 auction_id: str | None = None, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Withdraw the enterprise's open bid while the auction is open: its deposit and
    headroom holds are voided in the same transaction."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a, b = _own_open_bid(uow, store, bid_id, enterprise, now, auction_id)
        _void(uow, [f"{b.id}:room", f"{b.id}:cash"], actor=actor, now=now,
              batch=f"{b.id}:withdraw")
        b.status = "withdrawn"
        store.flush()
        out = _bid_dict(b)
        uow.commit()
        return out


@retry_conflicts
def replace_bid(uow: UoW, *, bid_id: str, enterprise: str, qty: int, price: int,
                permits: Permits, actor: str, permit: str | None = None,
                auction_id: str | None = None, now: datetime | None = None,
                new_bid_id: str | None = None
                ) -> dict[str, Any]:
    """Replace the enterprise's open bid: the old holds are voided and the new bid's held in
    one transaction (all or nothing: a refused new bid leaves the old one standing). The new
    bid arrives last; the old one is ``replaced``."""
    now = utc(now)
    _int(qty, "qty")
    _int(price, "price")
    check_value(qty, price)
    check_id(new_bid_id, "bid_id", VENUE_ID_MAX)
    with uow:
        store = TradingStore(uow.session)
        a, old = _own_open_bid(uow, store, bid_id, enterprise, now, auction_id)
        m = _market(store, a.market)
        _check_bid(store, a, m, qty=qty, price=price, now=now)
        permit = permit or old.permit
        permits.check_trading_permit(uow, enterprise=enterprise, permit=permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        _void(uow, [f"{old.id}:room", f"{old.id}:cash"], actor=actor, now=now,
              batch=f"{old.id}:replace")
        old.status = "replaced"
        row = _hold_bid(uow, store, a, m, bid=new_bid_id or f"bid-{uuid.uuid4().hex[:16]}",
                        enterprise=enterprise, permit=permit, qty=qty, price=price,
                        actor=actor, now=now)
        out = _bid_dict(row)
        out["replaces"] = old.id
        uow.commit()
        return out


def close_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    """open → closed: no more bids; the bureau clears and settles it next."""
    return _move(uow, auction_id, "open", "closed", utc(now))


def _move(uow: UoW, auction_id: str, before: str, after: str, now: datetime
          ) -> dict[str, Any]:
    """A status move that touches nothing but the auction row."""
    with uow:
        a = _auction(uow, TradingStore(uow.session), auction_id, before)
        a.status, a.updated_at = after, now
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


def _void(uow: UoW, ids: list[str], *, actor: str, now: datetime, batch: str) -> None:
    """Void what these pending transfers still hold (a bid's ``:room`` hold is a
    reserve release, the others plain transfers)."""
    pend = LedgerStore(uow.session).load_pendings(ids)
    voids = [Transfer(f"{pid}:void", "reserve_release" if pid.endswith(":room") else "transfer",
                      0, 0, 0, phase="void", pending_id=pid, reference=batch)
             for pid, p in sorted(pend.items()) if p.state == "pending" and p.remaining > 0]
    if voids:
        ledger.execute(uow, voids, initiator=Initiator.SYSTEM, actor=actor, batch=batch,
                       now=now)


@retry_conflicts
def clear_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    """Clear a closed auction with `trading.auction.clear`; release what lost."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "closed")
        bids = [b for b in store.bids(a.id) if b.status == "open"]  # not withdrawn/replaced
        result = clear(a.offered, a.reserve_price,
                       [Bid(b.enterprise, b.qty, b.price) for b in bids], rule=a.rule,  # type: ignore[arg-type]
                       tie_seed=a.tie_seed, bidder_cap_pct=a.bidder_cap_pct)
        won = {f.bid_index: f for f in result.fills}
        losers: list[str] = []
        for i, b in enumerate(bids):
            f = won.get(i)
            if f is None:
                b.status = "lost" if result.status == "cleared" else "released"
                losers.extend([f"{b.id}:room", f"{b.id}:cash"])
            else:
                b.status, b.won, b.pay_price = "won", f.qty, f.price
        if result.status == "cancelled":
            losers.append(f"auction:{a.id}:offer")
            a.status, a.reason = "cancelled", result.reason
        else:
            a.status, a.price, a.sold = "cleared", result.price, sum(
                f.qty for f in result.fills)
        _void(uow, losers, actor=actor, now=now, batch=f"auction:{a.id}:clear")
        a.updated_at = now
        out = _view(a, store.bids(a.id), reveal=True)
        uow.commit()
        return out


@retry_conflicts
def settle_auction(uow: UoW, auction_id: str, *, permits: Permits, actor: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """Deliver the rights and collect the payments of a cleared auction."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "cleared")
        m = _market(store, a.market)
        acc = Accounts(uow, m, now)
        bureau_cash = acc.bureau_cash()
        offer = f"auction:{a.id}:offer"
        first = [Transfer(f"{offer}:post", "transfer", 0, 0, a.sold, phase="post",
                          pending_id=offer, reference=f"auction:{a.id}")]
        if a.sold < a.offered:
            first.append(Transfer(f"{offer}:void", "transfer", 0, 0, 0, phase="void",
                                  pending_id=offer, reference=f"auction:{a.id}"))
        ledger.execute(uow, first, initiator=Initiator.SYSTEM, actor=actor,
                       batch=f"auction:{a.id}:offer", now=now)
        bids = store.bids(a.id)
        for b in bids:
            if b.status != "won":
                continue
            assert b.pay_price is not None
            value = trade_value(b.won, b.pay_price)
            ref = f"{b.id}:settle"
            batch = [Transfer(f"{b.id}:room:post", "reserve_release", 0, 0, b.won,
                              phase="post", pending_id=f"{b.id}:room", reference=ref)]
            if b.won < b.qty:
                batch.append(Transfer(f"{b.id}:room:void", "reserve_release", 0, 0, 0,
                                      phase="void", pending_id=f"{b.id}:room", reference=ref))
            if value:
                batch.append(Transfer(f"{b.id}:cash:post", "transfer", 0, 0, value,
                                      phase="post", pending_id=f"{b.id}:cash", reference=ref))
                batch.append(Transfer(f"{b.id}:pay", "reserve_release", acc.cash_settlement,
                                      bureau_cash, value, reference=ref))
            if value < b.deposit:
                batch.append(Transfer(f"{b.id}:cash:void", "transfer", 0, 0, 0, phase="void",
                                      pending_id=f"{b.id}:cash", reference=ref))
            ledger.execute(uow, batch, initiator=Initiator.SYSTEM, actor=actor, batch=ref,
                           now=now)
            record_trade(uow, store, m, buy=Party(b.enterprise, b.permit, b.id, b.id),
                         sell=Party(BUREAU, RESERVE_PARTY, offer, a.id), price=b.pay_price,
                         qty=b.won, value=value, fee_buyer=0, fee_seller=0, aggressor="buy",
                         venue="auction", permits=permits, now=now)
            b.status = "settled"
        a.status, a.updated_at = "settled", now
        out = _view(a, bids, reveal=True)
        uow.commit()
        return out


def _bid_dict(b: AuctionBidRow) -> dict[str, Any]:
    return dict(id=b.id, auction=b.auction, enterprise=b.enterprise, permit=b.permit,
                qty=b.qty, price=b.price, deposit=b.deposit, won=b.won,
                pay_price=b.pay_price, status=b.status, created_at=b.created_at.isoformat())


def _aware(at: datetime | None) -> datetime | None:
    return None if at is None else utc(at)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else utc(at).isoformat()


def _view(a: AuctionRow, bids: list[AuctionBidRow], *, reveal: bool) -> dict[str, Any]:
    """The auction; results once cleared. Public results are anonymised: quantities and
    prices of the winning bids, no bidders; `reveal` adds every bid (the bureau)."""
    out: dict[str, Any] = dict(
        id=a.id, market=a.market, offered=a.offered, reserve_price=a.reserve_price,
        rule=a.rule, tie_seed=a.tie_seed, bidder_cap_pct=a.bidder_cap_pct,
        deposit_pct=a.deposit_pct, status=a.status, price=a.price, sold=a.sold,
        reason=a.reason, created_at=a.created_at.isoformat(),
        announce_at=_iso(a.announce_at), open_at=_iso(a.open_at), close_at=_iso(a.close_at))
    if a.status in ("cleared", "settled"):
        out["results"] = [dict(qty=b.won, price=b.pay_price) for b in bids if b.won]
    if reveal:
        out["bids"] = [_bid_dict(b) for b in bids]
    return out


def auction_view(uow: UoW, auction_id: str, *, reveal: bool = False,
                 enterprise: str | None = None, district: str | None = None
                 ) -> dict[str, Any]:
    """An auction with its results; `reveal` shows every bid (with `district`, a district
    officer's view: the bids of that district's enterprises only), `enterprise` its own
    bids."""
    with uow:
        store = TradingStore(uow.session)
        a = store.auction(auction_id)
        if a is None:
            raise AuctionNotFound(f"no auction {auction_id}", field="auction")
        bids = store.bids(a.id)
        out = _view(a, bids, reveal=reveal)
        if reveal and district is not None:
            out["bids"] = [_bid_dict(b) for b in store.bids(a.id, district=district)]
        if not reveal and enterprise is not None:
            out["bids"] = [_bid_dict(b) for b in bids if b.enterprise == enterprise]
        return out


def list_auctions(uow: UoW, market: str | None = None) -> list[dict[str, Any]]:
    with uow:
        return [_view(a, [], reveal=False) for a in TradingStore(uow.session).auctions(market)]


# schedule ----------------------------------------------------------------------------------

def schedule_auction(uow: UoW, auction_id: str, *, announce_at: datetime | None,
                     open_at: datetime | None, close_at: datetime | None, actor: str,
                     now: datetime | None = None) -> dict[str, Any]:
    """Set the times the server announces, opens and closes the auction (None: that step is
    taken by hand). A draft or announced auction takes a whole schedule; an open one only
    a close. The times given must run announce ≤ open < close; a time already past is taken
    at the next tick."""
    now = utc(now)
    times = [utc(t) if t is not None else None for t in (announce_at, open_at, close_at)]
    ann, opn, cls = times
    with uow:
        store = TradingStore(uow.session)
        a = _auction(uow, store, auction_id, "draft", "announced", "open")
        if a.status == "open":
            if ann is not None or opn is not None:
                raise AuctionScheduleInvalid(f"auction {a.id} is open: only its close can "
                                             "be scheduled", field="open_at")
            if cls is not None and cls <= now:
                raise AuctionScheduleInvalid("the close must be in the future",
                                             field="close_at")
            ann, opn = _aware(a.announce_at), _aware(a.open_at)
        elif a.status == "announced" and ann is None:
            ann = _aware(a.announce_at)
        given = [(n, t) for n, t in (("announce_at", ann), ("open_at", opn),
                                     ("close_at", cls)) if t is not None]
        for (_n1, t1), (n2, t2) in zip(given, given[1:], strict=False):
            if t2 < t1 or (n2 == "close_at" and t2 == t1):
                raise AuctionScheduleInvalid("the schedule must run announce ≤ open < close",
                                             field=n2)
        if cls is not None and opn is None and a.status != "open":
            raise AuctionScheduleInvalid("a scheduled close needs a scheduled open",
                                         field="open_at")
        a.announce_at, a.open_at, a.close_at, a.updated_at = ann, opn, cls, now
        store.flush()
        out = _view(a, [], reveal=True)
        uow.commit()
        return out


def announce_auction(uow: UoW, auction_id: str, *, actor: str, now: datetime | None = None
                     ) -> dict[str, Any]:
    """draft → announced: enterprises see the auction and its schedule; no bids yet."""
    return _move(uow, auction_id, "draft", "announced", utc(now))


def run_due_auctions(uow_factory: Callable[[], UoW], now: datetime | None = None, *,
                     permits: Permits | None = None) -> list[dict[str, Any]]:
    """Take every scheduled step that is due at `now`: announce, open, close then clear. Each
    step is its own unit of work; a step the rules refuse (the reserve no longer holds the
    offer) is recorded as the auction's reason and its time dropped, so the bureau sees it
    and reschedules, instead of the server retrying every tick. Returns what was done:
    ``[{"auction", "step", "status" | "error"}]``. `permits` is unused (settling is the
    bureau's) and accepted for symmetry with the other jobs."""
    now = utc(now)
    with uow_factory() as uow:
        due = [(a.id, a.status, a.announce_at, a.open_at, a.close_at)
               for a in TradingStore(uow.session).due_auctions(now)]
    done: list[dict[str, Any]] = []

    def step(aid: str, name: str, fn: Callable[..., dict[str, Any]]) -> bool:
        try:
            r = fn(uow_factory(), aid, actor=SCHEDULER, now=now)
        except (AuctionWrongState, AuctionNotFound) as exc:  # moved on by hand meanwhile
            done.append(dict(auction=aid, step=name, error=exc.code))
            return False
        except DomainError as exc:
            _drop_schedule(uow_factory(), aid, name, exc, now)
            done.append(dict(auction=aid, step=name, error=exc.code))
            log.warning("scheduled %s of auction %s refused: %s", name, aid, exc)
            return False
        done.append(dict(auction=aid, step=name, status=r["status"]))
        return True

    for aid, status, ann, opn, cls in due:
        if status == "draft" and ann is not None and utc(ann) <= now and (
                opn is None or utc(opn) > now):
            step(aid, "announce", announce_auction)
            continue
        if status in ("draft", "announced") and opn is not None and utc(opn) <= now:
            if not step(aid, "open", open_auction):
                continue
            status = "open"
        if (status == "open" and cls is not None and utc(cls) <= now
                and step(aid, "close", close_auction)):
            step(aid, "clear", clear_auction)
    return done


def _drop_schedule(uow: UoW, auction_id: str, step: str, exc: DomainError, now: datetime
                   ) -> None:
    with uow:
        store = TradingStore(uow.session)
        a = store.auction(auction_id, lock=True)
        if a is None:
            return
        if step == "open":
            a.open_at = a.close_at = None
        else:
            a.close_at = None
        a.reason, a.updated_at = f"{step}_failed:{exc.code}"[:40], now
        uow.commit()
