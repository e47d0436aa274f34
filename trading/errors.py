"""Errors of the trading context.

Order-book rejections are values (`trading.book.Rejected`), not exceptions: a rejected order is
a normal outcome of matching. Exceptions here are for malformed input to the batch tools
(replay, auction clearing), each with a stable `code` and, where known, the offending `field`.
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
