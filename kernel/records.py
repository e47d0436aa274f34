"""What trading hands to the permit registry (see `trading.ports.Permits`), so neither
context imports the other: a trade as a permit records it, and a market's question of which
holders may trade in it today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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


@dataclass(frozen=True)
class PermitAsk:
    """May each (enterprise, permit) of `holders` trade rights of `pollutant` and `year` in
    `zone` on `today`?"""

    pollutant: str
    zone: str
    year: int
    today: date
    holders: tuple[tuple[str, str], ...]
