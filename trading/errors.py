"""Errors of the trading context.

Order-book rejections are values (`trading.book.Rejected`), not exceptions: a rejected order is
a normal outcome of matching; the service raises them as `trading.market.OrderRejected` with
the book's code. Exceptions here: malformed input to the batch tools (replay, auction
clearing) and the rules of the venues (auctions, listings, negotiated transfers), each with a
stable `code`, a `kind` for the web's status table and, where known, the offending `field`.
The continuous market's rejections are in `trading.market`.
"""

from __future__ import annotations

from kernel.errors import DomainError


class TradingError(DomainError):
    """Base of all trading rejections."""

    code = "trading_rejected"
    kind = "invalid"


class ReplayInputError(TradingError):
    """A line of a replay stream is not a valid command; the message names the line number."""

    code = "bad_replay_input"
    kind = "invalid"


class AuctionInputError(TradingError):
    """An auction document is malformed; `field` names the offending field."""

    code = "bad_auction_input"
    kind = "invalid"


class AuctionNotFound(TradingError):
    code = "auction_not_found"
    kind = "not_found"


class AuctionWrongState(TradingError):
    """The auction is not in the state this step needs (draft→open→closed→cleared|cancelled
    →settled)."""

    code = "auction_wrong_state"
    kind = "conflict"


class ReserveBelowBasePrice(TradingError):
    """Reserve sales never clear below the pollutant's base price (DOMAIN.md §4)."""

    code = "reserve_below_base_price"
    kind = "invalid"


class InsufficientReserve(TradingError):
    code = "insufficient_reserve"
    kind = "conflict"


class ListingNotFound(TradingError):
    code = "listing_not_found"
    kind = "not_found"


class ListingNotOpen(TradingError):
    code = "listing_not_open"
    kind = "conflict"


class ListingQtyExceeded(TradingError):
    code = "listing_qty_exceeded"
    kind = "conflict"


class TradeNotFound(TradingError):
    """No such trade, or (for an enterprise) a trade it is no party to."""

    code = "trade_not_found"
    kind = "not_found"


class TransferNotFound(TradingError):
    code = "transfer_not_found"
    kind = "not_found"


class TransferWrongState(TradingError):
    code = "transfer_wrong_state"
    kind = "conflict"


class TransferExpired(TradingError):
    code = "transfer_expired"
    kind = "conflict"


class BidBelowReserve(TradingError):
    """A bid priced below the auction's reserve price: refused before anything is held."""

    code = "bid_below_reserve"
    kind = "invalid"


class BidNotFound(TradingError):
    """No such bid of this enterprise (another enterprise's bid answers the same)."""

    code = "bid_not_found"
    kind = "not_found"


class BidNotOpen(TradingError):
    """The bid was already withdrawn, replaced or decided: it can no longer change."""

    code = "bid_not_open"
    kind = "conflict"


class BiddingClosed(TradingError):
    """The auction's scheduled close has passed: no more bids or changes."""

    code = "bidding_closed"
    kind = "conflict"


class AuctionScheduleInvalid(TradingError):
    """The schedule is not announce ≤ open < close, or changes a step already taken."""

    code = "auction_schedule_invalid"
    kind = "invalid"


class ReasonRequired(TradingError):
    """Halting, resuming or closing a market must say why."""

    code = "reason_required"
    kind = "invalid"


class MarketAlreadyInState(TradingError):
    code = "market_already_in_state"
    kind = "conflict"
