"""Market rules (pure): states, tick, lot and daily price limits, and the service's
rejection codes.

A market is one pollutant, zone and vintage. Its id is the ledger asset code
``POLLUTANT/ZONE/VINTAGE``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.errors import Conflict, InvalidInput, NotFound
from trading.errors import TradingError


class MarketNotFound(TradingError, NotFound):
    code = "market_not_found"
    kind = "not_found"


class MarketHalted(TradingError, Conflict):
    code = "market_halted"
    kind = "conflict"


class MarketClosed(TradingError, Conflict):
    code = "market_closed"
    kind = "conflict"


class OrderRejected(TradingError, InvalidInput):
    """The book rejected the order; `code` is the book's reject code."""

    kind = "invalid"

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


class InsufficientTradable(TradingError, Conflict):
    code = "insufficient_tradable_rights"
    kind = "conflict"


class InsufficientCash(TradingError, Conflict):
    code = "insufficient_cash"
    kind = "conflict"


class CapHeadroomExceeded(TradingError, Conflict):
    code = "cap_headroom_exceeded"
    kind = "conflict"


class OrderNotFound(TradingError, NotFound):
    code = "order_not_found"
    kind = "not_found"


class OrderNotLive(TradingError, Conflict):
    code = "order_not_live"
    kind = "conflict"


class DuplicateOrderId(TradingError, Conflict):
    code = "duplicate_order_id"
    kind = "conflict"


class OrderValueTooLarge(TradingError, InvalidInput):
    """qty × price beyond `MAX_ORDER_VALUE`: the holds, fills and money columns are 64-bit
    integers, and an order (or listing, bid, transfer) that large is a mistake."""

    code = "order_value_too_large"
    kind = "invalid"


class ClientIdNotAllowed(TradingError, InvalidInput):
    """A trader may not choose the id of a listing, negotiated transfer or auction bid: ids
    are one namespace, so a taken one would tell that another enterprise used it (issue 19).
    The platform assigns them; the bureau may still choose ids (reserve listings,
    auctions)."""

    code = "client_id_not_allowed"
    kind = "invalid"


#: the most qty (kg) × price (fen per tonne) of one order, listing, bid or transfer: 10^15,
#: far inside the 64-bit money columns (each of qty and price alone may be up to 10^12)
MAX_ORDER_VALUE = 10**15


def check_value(qty: int, price: int | None, field: str = "qty") -> None:
    """Refuse qty × price above `MAX_ORDER_VALUE` (``order_value_too_large``). A missing
    price (a sell market order without a protective price) bounds nothing."""
    if price is not None and qty * price > MAX_ORDER_VALUE:
        raise OrderValueTooLarge(
            f"qty × price is {qty * price}; at most {MAX_ORDER_VALUE} is accepted",
            field=field)


@dataclass(frozen=True, slots=True)
class MarketRules:
    state: str
    tick: int
    min_lot: int
    reference_price: int | None
    band_pct: int | None

    def price_band(self) -> tuple[int, int] | None:
        """Daily price limits (inclusive) around the reference price, on the tick grid."""
        if self.reference_price is None or self.band_pct is None:
            return None
        span = self.reference_price * self.band_pct // 100
        low = -(-(self.reference_price - span) // self.tick) * self.tick
        high = (self.reference_price + span) // self.tick * self.tick
        return max(low, self.tick), high

    def check_open(self, market_id: str) -> None:
        if self.state == "halted":
            raise MarketHalted(f"market {market_id} is halted")
        if self.state != "open":
            raise MarketClosed(f"market {market_id} is closed")


def parse_market_id(market_id: str) -> tuple[str, str, int]:
    parts = market_id.split("/")
    if len(parts) != 3 or not parts[2].isdigit():
        raise MarketNotFound(f"no market {market_id!r}", field="market")
    return parts[0], parts[1], int(parts[2])


class ProtectivePriceRequired(TradingError, InvalidInput):
    """A buy market order needs a price to hold cash against: its own protective price or
    the market's upper daily limit."""

    code = "protective_price_required"
    kind = "invalid"


class BoughtTodayNotResellable(TradingError, Conflict):
    """Rights bought today cannot be resold today (DOMAIN.md §4)."""

    code = "bought_today_not_resellable"
    kind = "conflict"


class SelfDealing(TradingError, InvalidInput):
    """A listing taken, or a transfer proposed, by the seller itself."""

    code = "self_dealing"
    kind = "invalid"
