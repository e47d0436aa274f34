"""Negotiated transfers (协议转让): the seller proposes, the buyer accepts, the bureau approves
or rejects with a reason, and settlement follows at once on approval.

States: proposed → accepted → settled | rejected; proposed → expired (unanswered by
``expires_at``, by the `expire_transfers` sweep) or rejected.

Holds: proposing holds the seller's tradable rights (after the resale-today check);
accepting holds the buyer's headroom and cash (value plus the most its fee can be), exactly
like orders (`trading.settlement.hold_transfers`, prefix ``<transfer id>``), so an approved
transfer always settles. Approval settles with `settle_trade` (venue ``negotiated``) and
releases what the holds still hold; rejection and expiry void every hold. Counterparties
only see their own transfers: for anyone else a transfer is ``transfer_not_found``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from kernel.clock import trading_day
from kernel.errors import InvalidInput
from ledger import errors as LE
from ledger import service as ledger
from ledger.service import UoW
from ledger.transactions import Initiator
from notices import service as notify
from trading.errors import TransferExpired, TransferNotFound, TransferWrongState
from trading.market import MarketNotFound, MarketRules, OrderRejected, SelfDealing, check_value
from trading.ports import Permits
from trading.service import VENUE_ID_MAX, check_id, check_resale, utc
from trading.settlement import (
    Accounts,
    Party,
    hold_transfers,
    lock_ledger,
    release,
    retry_conflicts,
    settle_trade,
    translate,
)
from trading.store import TradingStore
from trading.tables import MarketRow, NegotiatedTransferRow

DEFAULT_TTL = timedelta(hours=72)


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{name} must be a positive whole number", field=name)
    return value


def _market(uow: UoW, store: TradingStore, market_id: str) -> MarketRow:
    m = store.market(market_id, lock=True)
    if m is None:
        raise MarketNotFound(f"no market {market_id!r}", field="market")
    lock_ledger(uow)
    return m


def _dict(t: NegotiatedTransferRow) -> dict[str, Any]:
    return dict(id=t.id, market=t.market, seller=t.seller, seller_permit=t.seller_permit,
                buyer=t.buyer, buyer_permit=t.buyer_permit, qty=t.qty, price=t.price,
                status=t.status, reason=t.reason, expires_at=t.expires_at.isoformat(),
                created_at=t.created_at.isoformat(), decided_by=t.decided_by,
                trade_id=t.trade_id)


def _aware(dt: datetime) -> datetime:
    return utc(dt) if dt.tzinfo is None else dt


@retry_conflicts
def propose_transfer(uow: UoW, *, market: str, seller: str, seller_permit: str, buyer: str,
                     buyer_permit: str, qty: int, price: int, permits: Permits, actor: str,
                     now: datetime | None = None, expires_at: datetime | None = None,
                     transfer_id: str | None = None) -> dict[str, Any]:
    now = utc(now)
    _int(qty, "qty")
    _int(price, "price")
    check_value(qty, price)
    check_id(transfer_id, "transfer_id", VENUE_ID_MAX)
    expires = utc(expires_at) if expires_at is not None else now + DEFAULT_TTL
    if expires <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    if seller == buyer:
        raise SelfDealing("seller and buyer are the same enterprise", field="buyer")
    with uow:
        store = TradingStore(uow.session)
        m = _market(uow, store, market)
        MarketRules(m.state, m.tick, m.min_lot, m.reference_price, m.band_pct).check_open(m.id)
        if qty % m.min_lot:
            raise OrderRejected("below_min_lot", f"quantity {qty} is not a whole number of "
                                f"lots of {m.min_lot}", field="qty")
        if price % m.tick:
            raise OrderRejected("off_tick", f"price {price} is not a multiple of {m.tick}",
                                field="price")
        today = trading_day(now)
        for ent, permit in ((seller, seller_permit), (buyer, buyer_permit)):
            permits.check_trading_permit(uow, enterprise=ent, permit=permit,
                                         pollutant=m.pollutant, zone=m.zone, year=m.vintage,
                                         today=today)
        tid = transfer_id or f"nt-{uuid.uuid4().hex[:16]}"
        if store.transfer(tid) is not None:
            raise InvalidInput(f"transfer id {tid} is taken", field="transfer_id")
        acc = Accounts(uow, m, now)
        check_resale(uow, acc, permit=seller_permit, qty=qty, now=now)
        try:
            ledger.execute(uow, hold_transfers(tid, "sell", qty=qty, price=price,
                                               permit=seller_permit, enterprise=seller,
                                               acc=acc, fee_bps=0, reference=f"transfer:{tid}"),
                           initiator=Initiator.ENTERPRISE, actor=actor, batch=f"{tid}:hold",
                           now=now)
        except LE.LedgerRejection as exc:
            raise translate(exc, "sell") from exc
        row = NegotiatedTransferRow(id=tid, market=m.id, seller=seller,
                                    seller_permit=seller_permit, buyer=buyer,
                                    buyer_permit=buyer_permit, qty=qty, price=price,
                                    status="proposed", reason=None, expires_at=expires,
                                    created_at=now, decided_by=None, trade_id=None)
        store.add(row)
        store.flush()
        notify.to_enterprise(uow, buyer, "transfer_proposed", tid, dict(
            market=m.id, qty=qty, price=price, seller=seller), now=now)
        out = _dict(row)
        uow.commit()
        return out


def _transfer(store: TradingStore, transfer_id: str, *, party: str | None = None
              ) -> NegotiatedTransferRow:
    t = store.transfer(transfer_id, lock=True)
    if t is None or (party is not None and party not in (t.seller, t.buyer)):
        raise TransferNotFound(f"no transfer {transfer_id}", field="transfer")
    return t


@retry_conflicts
def accept_transfer(uow: UoW, *, transfer_id: str, buyer: str, actor: str,
                    now: datetime | None = None, fee_bps: int = 0) -> dict[str, Any]:
    """The buyer accepts: its headroom and cash (with the fee) are held."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        t = _transfer(store, transfer_id, party=buyer)
        if t.buyer != buyer:
            raise TransferWrongState("only the buyer accepts a proposal", field="transfer")
        if t.status != "proposed":
            raise TransferWrongState(f"transfer {transfer_id} is {t.status}")
        if _aware(t.expires_at) <= now:
            raise TransferExpired(f"transfer {transfer_id} expired at "
                                  f"{_aware(t.expires_at).isoformat()}")
        m = _market(uow, store, t.market)
        acc = Accounts(uow, m, now)
        try:
            ledger.execute(uow, hold_transfers(t.id, "buy", qty=t.qty, price=t.price,
                                               permit=t.buyer_permit, enterprise=t.buyer,
                                               acc=acc, fee_bps=fee_bps,
                                               reference=f"transfer:{t.id}"),
                           initiator=Initiator.ENTERPRISE, actor=actor, batch=f"{t.id}:accept",
                           now=now)
        except LE.LedgerRejection as exc:
            raise translate(exc, "buy") from exc
        t.status = "accepted"
        notify.to_officers(uow, "transfer_accepted", t.id, dict(market=t.market, qty=t.qty,
                           price=t.price, seller=t.seller, buyer=t.buyer), now=now)
        out = _dict(t)
        uow.commit()
        return out


@retry_conflicts
def approve_transfer(uow: UoW, *, transfer_id: str, permits: Permits, actor: str,
                     now: datetime | None = None, fee_bps: int = 0) -> dict[str, Any]:
    """The bureau approves an accepted transfer; it settles in the same transaction."""
    now = utc(now)
    with uow:
        store = TradingStore(uow.session)
        t = _transfer(store, transfer_id)
        if t.status != "accepted":
            raise TransferWrongState(f"transfer {transfer_id} is {t.status}; only an accepted "
                                     "transfer can be approved")
        m = _market(uow, store, t.market)
        acc = Accounts(uow, m, now)
        trade = settle_trade(uow, store, acc, m,
                             buy=Party(t.buyer, t.buyer_permit, t.id, t.id),
                             sell=Party(t.seller, t.seller_permit, t.id, t.id), price=t.price,
                             qty=t.qty, ref=f"{t.id}:settle", aggressor="buy",
                             venue="negotiated", fee_bps=fee_bps, permits=permits,
                             actor=actor, now=now)
        release(uow, [(t.id, "buy"), (t.id, "sell")], actor=actor, now=now,
                batch=f"{t.id}:release")
        t.status, t.decided_by, t.trade_id = "settled", actor, trade.id
        out = _dict(t)
        uow.commit()
        return out


@retry_conflicts
def reject_transfer(uow: UoW, *, transfer_id: str, reason: str, actor: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """The bureau rejects a proposed or accepted transfer, with a reason; holds are voided."""
    now = utc(now)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("a rejection needs a reason", field="reason")
    with uow:
        store = TradingStore(uow.session)
        t = _transfer(store, transfer_id)
        if t.status not in ("proposed", "accepted"):
            raise TransferWrongState(f"transfer {transfer_id} is {t.status}")
        _market(uow, store, t.market)  # lock order: transfer → market → ledger head
        release(uow, [(t.id, "sell"), (t.id, "buy")], actor=actor, now=now,
                batch=f"{t.id}:reject")
        t.status, t.reason, t.decided_by = "rejected", reason.strip()[:200], actor
        out = _dict(t)
        uow.commit()
        return out


def expire_transfers(uow: UoW, *, actor: str = "system", now: datetime | None = None,
                     limit: int = 500) -> list[str]:
    """The sweep: proposals still unanswered at their expiry become expired and release the
    seller's hold. Returns the ids expired. Each expiry is its own transaction (transfer →
    market → ledger head, the lock order of every transfer use case), so the sweep never
    holds the ledger while waiting for another transfer. Safe to run at any time, and
    concurrently: a proposal answered meanwhile is left alone."""
    now = utc(now)
    with uow:
        due = TradingStore(uow.session).expired_transfers(now, limit)
    return [tid for tid in due if _expire_one(uow, tid, actor=actor, now=now)]


@retry_conflicts
def _expire_one(uow: UoW, transfer_id: str, *, actor: str, now: datetime) -> bool:
    with uow:
        store = TradingStore(uow.session)
        t = store.transfer(transfer_id, lock=True)
        if t is None or t.status != "proposed" or _aware(t.expires_at) > now:
            return False
        _market(uow, store, t.market)
        release(uow, [(t.id, "sell")], actor=actor, now=now, batch=f"{t.id}:expire")
        t.status, t.reason = "expired", "unanswered before expiry"
        uow.commit()
        return True


def transfer_view(uow: UoW, transfer_id: str, *, party: str | None = None,
                  district: str | None = None) -> dict[str, Any]:
    """One transfer: `party`'s own only, or with `district` (a district officer's) one with
    a party of that district only (TransferNotFound else, as a missing one)."""
    with uow:
        store = TradingStore(uow.session)
        t = store.transfer(transfer_id)
        if t is None or (party is not None and party not in (t.seller, t.buyer)) or (
                district is not None and not store.in_district((t.seller, t.buyer), district)):
            raise TransferNotFound(f"no transfer {transfer_id}", field="transfer")
        return _dict(t)


def transfers_of(uow: UoW, enterprise: str | None = None, status: str | None = None,
                 *, district: str | None = None) -> list[dict[str, Any]]:
    """Newest first: an enterprise's, those with a party of `district` (a district
    officer's list), or all."""
    with uow:
        return [_dict(t) for t in TradingStore(uow.session).transfers_of(
            enterprise, status, district=district)]
