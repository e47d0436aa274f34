"""The facts of a transaction confirmation (成交确认书): one trade of any venue (order book,
listing sale, negotiated transfer, auction award) with its parties, fees, market and the
ledger entry that moved its rights.

Guarantees: a party (`party`, a credit code) sees only a trade it bought or sold
(`TradeNotFound` otherwise, as if missing). The ledger entry is the rights leg
(`…:rights-out`) of the trade's settlement batch: trades and journal entries written at the
same instant are paired in the order written, and the pairing is kept only when every pair
has the trade's quantity; otherwise `entry` is None (the document then says so).
"""

from __future__ import annotations

from typing import Any

from ledger.service import UoW
from ledger.store import LedgerStore
from trading.errors import TradeNotFound
from trading.store import TradingStore


def trade_confirmation(uow: UoW, trade_id: int, *, party: str | None = None
                       ) -> dict[str, Any]:
    with uow:
        store = TradingStore(uow.session)
        t = store.trade(trade_id)
        if t is None or (party is not None and party not in (t.buyer, t.seller)):
            raise TradeNotFound(f"no trade {trade_id}", field="trade")
        m = store.market(t.market)
        entry = None
        same = store.trades_at(t.at)
        legs = LedgerStore(uow.session).entries_at(t.at, ":rights-out")
        if len(same) == len(legs) and all(a.qty == e.amount for a, e in zip(same, legs,
                                                                               strict=True)):
            e = legs[[x.id for x in same].index(t.id)]
            entry = dict(id=e.id, seq=e.seq, hash=e.hash, batch=e.batch)
        return dict(id=t.id, market=t.market, pollutant=m.pollutant if m else None,
                    zone=m.zone if m else None, vintage=m.vintage if m else None,
                    venue=t.venue, buyer=t.buyer, seller=t.seller,
                    buyer_permit=t.buyer_permit, seller_permit=t.seller_permit,
                    qty=t.qty, price=t.price, value_fen=t.value_fen, fee_buyer=t.fee_buyer,
                    fee_seller=t.fee_seller, at=t.at, entry=entry)
