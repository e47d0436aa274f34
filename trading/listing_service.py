"""Listings (挂牌): a seller posts a quantity at a fixed price; buyers take it, first come,
first served.

- A listing holds what it offers: an enterprise's tradable rights (after the resale-today
  check, like a sell order), or, for a bureau listing (``seller=None``), rights in the bureau
  reserve, priced never below the pollutant's base price.
- A take locks the listing row (PostgreSQL ``FOR UPDATE``; SQLite serialises writers), so
  concurrent takes are served one after the other in arrival order and none can take more
  than remains (``listing_qty_exceeded``). It settles at once as one linked batch: the
  listing's hold is posted for the quantity taken into market settlement and on to the
  buyer's confirmed account (``transfer`` from an enterprise, ``reserve_release`` from the
  reserve), the buyer pays value plus fee into settlement, the seller gets value less its fee
  (the bureau pays none), fees go to the bureau's fee account. Trade row (venue
  ``listing``) and both permits' records in the same transaction.
- Withdrawing voids what is left of the hold.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kernel.clock import trading_day
from kernel.errors import InvalidInput
from kernel.quantities import trade_value
from ledger import errors as LE
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.transactions import AccountKind, Initiator
from trading.errors import (
    ListingNotFound,
    ListingNotOpen,
    ListingQtyExceeded,
    ReserveBelowBasePrice,
)
from trading.market import (
    CapHeadroomExceeded,
    InsufficientCash,
    MarketNotFound,
    MarketRules,
    OrderRejected,
    SelfDealing,
    check_value,
)
from trading.ports import Permits
from trading.prices import base_price, fee_of
from trading.service import VENUE_ID_MAX, check_id, check_resale, utc
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
from trading.tables import ListingRow, MarketRow


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{name} must be a positive whole number", field=name)
    return value


def _open_market(uow: UoW, store: TradingStore, market_id: str) -> MarketRow:
    m = store.market(market_id, lock=True)
    if m is None:
        raise MarketNotFound(f"no market {market_id!r}", field="market")
    lock_ledger(uow)
    MarketRules(m.state, m.tick, m.min_lot, m.reference_price, m.band_pct).check_open(m.id)
    return m


def _lot_and_tick(m: MarketRow, qty: int, price: int) -> None:
    if qty % m.min_lot:
        raise OrderRejected("below_min_lot", f"quantity {qty} is not a whole number of lots "
                            f"of {m.min_lot}", field="qty")
    if price % m.tick:
        raise OrderRejected("off_tick", f"price {price} is not a multiple of {m.tick}",
                            field="price")


def _dict(r: ListingRow) -> dict[str, Any]:
    return dict(id=r.id, market=r.market, seller=r.seller, seller_permit=r.seller_permit,
                price=r.price, qty=r.qty, remaining=r.remaining, status=r.status,
                created_at=r.created_at.isoformat())


@retry_conflicts
def create_listing(uow: UoW, *, market: str, seller: str | None, permit: str | None, qty: int,
                   price: int, permits: Permits, actor: str, now: datetime | None = None,
                   listing_id: str | None = None) -> dict[str, Any]:
    """Post a listing. ``seller=None`` lists from the bureau reserve."""
    now = utc(now)
    _int(qty, "qty")
    _int(price, "price")
    check_value(qty, price)
    check_id(listing_id, "listing_id", VENUE_ID_MAX)
    with uow:
        store = TradingStore(uow.session)
        m = _open_market(uow, store, market)
        _lot_and_tick(m, qty, price)
        lid = listing_id or f"lst-{uuid.uuid4().hex[:16]}"
        if store.listing(lid) is not None:
            raise InvalidInput(f"listing id {lid} is taken", field="listing_id")
        acc = Accounts(uow, m, now)
        if seller is None:
            floor = base_price(m.pollutant)
            if price < floor:
                raise ReserveBelowBasePrice(
                    f"a reserve listing may not be priced below the {m.pollutant} base price "
                    f"{floor} fen/t", field="price")
            source = acc.reserve()
            initiator = Initiator.BUREAU
        else:
            if permit is None:
                raise InvalidInput("an enterprise listing names the selling permit",
                                   field="permit")
            permits.check_trading_permit(uow, enterprise=seller, permit=permit,
                                         pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                         today=trading_day(now))
            check_resale(uow, acc, permit=permit, qty=qty, now=now)
            source = acc.rights(permit, AccountKind.TRADABLE)
            initiator = Initiator.ENTERPRISE
        try:
            ledger.execute(uow, [Transfer(f"{lid}:hold", "transfer", source,
                                          acc.rights_settlement, qty, phase="pending",
                                          reference=f"listing:{lid}")],
                           initiator=initiator, actor=actor, batch=f"{lid}:hold", now=now)
        except LE.InsufficientBalance as exc:
            from trading.errors import InsufficientReserve
            from trading.market import InsufficientTradable

            raise (InsufficientReserve if seller is None else InsufficientTradable)(
                f"not enough rights to list {qty} kg", field="qty") from exc
        row = ListingRow(id=lid, market=m.id, seller=seller or BUREAU,
                         seller_permit=permit if seller else None, price=price, qty=qty,
                         remaining=qty, status="open", hold_id=lid, created_at=now)
        store.add(row)
        store.flush()
        out = _dict(row)
        uow.commit()
        return out


@retry_conflicts
def take_listing(uow: UoW, *, listing_id: str, enterprise: str, permit: str, qty: int,
                 permits: Permits, actor: str, now: datetime | None = None,
                 fee_bps: int = 0) -> dict[str, Any]:
    """Buy `qty` of a listing at its price, settled at once."""
    now = utc(now)
    _int(qty, "qty")
    with uow:
        store = TradingStore(uow.session)
        r = store.listing(listing_id, lock=True)
        if r is None:
            raise ListingNotFound(f"no listing {listing_id}", field="listing")
        if r.status != "open":
            raise ListingNotOpen(f"listing {listing_id} is {r.status}")
        m = _open_market(uow, store, r.market)
        if qty > r.remaining:
            raise ListingQtyExceeded(f"{r.remaining} kg remain on listing {listing_id}",
                                     field="qty")
        if qty % m.min_lot:
            raise OrderRejected("below_min_lot", f"quantity {qty} is not a whole number of "
                                f"lots of {m.min_lot}", field="qty")
        if r.seller == enterprise:
            raise SelfDealing("an enterprise cannot take its own listing", field="listing")
        permits.check_trading_permit(uow, enterprise=enterprise, permit=permit,
                                     pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                     today=trading_day(now))
        acc = Accounts(uow, m, now)
        reserve = r.seller_permit is None
        value = trade_value(qty, r.price)
        fee_b = fee_of(value, fee_bps)
        fee_s = 0 if reserve else fee_of(value, fee_bps)
        ref = f"{r.id}:take:{r.qty - r.remaining}"
        batch = [
            Transfer(f"{ref}:rights-out", "transfer", 0, 0, qty, phase="post",
                     pending_id=f"{r.hold_id}:hold", reference=ref),
            Transfer(f"{ref}:rights-in", "reserve_release" if reserve else "transfer",
                     acc.rights_settlement, acc.rights(permit, AccountKind.CONFIRMED), qty,
                     reference=ref),
            Transfer(f"{ref}:cash-in", "transfer", acc.cash(enterprise), acc.cash_settlement,
                     value + fee_b, reference=ref),
        ]
        if value - fee_s:
            batch.append(Transfer(f"{ref}:cash-out", "reserve_release" if reserve else
                                  "transfer", acc.cash_settlement,
                                  acc.bureau_cash() if reserve else acc.cash(r.seller),
                                  value - fee_s, reference=ref))
        if fee_b + fee_s:
            batch.append(Transfer(f"{ref}:fees", "transfer", acc.cash_settlement, acc.fees(),
                                  fee_b + fee_s, reference=ref))
        try:
            ledger.execute(uow, batch, initiator=Initiator.SYSTEM, actor=actor, batch=ref,
                           now=now)
        except LE.OverLimit as exc:
            raise CapHeadroomExceeded("buying this quantity would take the permit above its "
                                      "cap", field="qty") from exc
        except LE.InsufficientBalance as exc:
            raise InsufficientCash("not enough cash to take this quantity", field="qty"
                                   ) from exc
        t = record_trade(uow, store, m, buy=Party(enterprise, permit, ref, ref),
                         sell=Party(r.seller, r.seller_permit or RESERVE_PARTY, r.hold_id,
                                    r.id),
                         price=r.price, qty=qty, value=value, fee_buyer=fee_b,
                         fee_seller=fee_s, aggressor="buy", venue="listing", permits=permits,
                         now=now)
        r.remaining -= qty
        if r.remaining == 0:
            r.status = "sold"
        out = dict(_dict(r), trade=dict(id=t.id, qty=qty, price=r.price, value_fen=value,
                                        fee_buyer=fee_b, fee_seller=fee_s))
        uow.commit()
        return out


@retry_conflicts
def withdraw_listing(uow: UoW, *, listing_id: str, seller: str | None, actor: str,
                     now: datetime | None = None) -> dict[str, Any]:
    """Withdraw what is left of a listing (its seller, or the bureau for a reserve one)."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        r = store.listing(listing_id, lock=True)
        lock_ledger(uow)
        if r is None or r.seller != (seller or BUREAU):
            raise ListingNotFound(f"no listing {listing_id}", field="listing")
        if r.status != "open":
            raise ListingNotOpen(f"listing {listing_id} is {r.status}")
        ledger.execute(uow, [Transfer(f"{r.hold_id}:hold:void", "transfer", 0, 0, 0,
                                      phase="void", pending_id=f"{r.hold_id}:hold",
                                      reference=f"listing:{r.id}")],
                       initiator=Initiator.SYSTEM, actor=actor, batch=f"{r.id}:withdraw",
                       now=now)
        r.status = "withdrawn"
        out = _dict(r)
        uow.commit()
        return out


def listings(uow: UoW, market: str | None = None, status: str | None = "open"
             ) -> list[dict[str, Any]]:
    """Open listings (public: a listing names its seller, as a posted offer does)."""
    with uow:
        return [_dict(r) for r in TradingStore(uow.session).listings(market, status)]
