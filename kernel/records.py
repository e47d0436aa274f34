"""A trade as a permit records it: what trading hands to the permit registry (see
`trading.ports.Permits.record_trades`), so neither context imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PermitTrade:
    """One side of a trade, for the permit `permit`: a purchase (`side` "buy") joins its
    permitted quantity, a sale ("sell") left it when the surplus was verified."""

    permit: str
    side: str  # buy | sell
    qty_kg: int
    counterparty: str  # the other side's permit
    price: int  # fen per tonne
    reference: str
    at: datetime
