"""Halting, resuming and closing a market, each with a stated reason.

A halt stops new orders (`trading.market.MarketRules.check_open`: ``market_halted``); resting
orders stay and can be cancelled. Every change of state names why (1 to 200 characters) and
records who and when on the market row, so the market page and the audit log show it. The
market's version is bumped so cached books pick up the new state. One unit of work.
"""

from __future__ import annotations

from datetime import datetime

from kernel.errors import InvalidInput
from ledger.service import UoW
from trading.errors import MarketAlreadyInState, ReasonRequired
from trading.market import MarketNotFound
from trading.service import utc
from trading.store import TradingStore

STATES = ("open", "halted", "closed")
REASON_MAX = 200


def check_reason(reason: str | None) -> str:
    why = " ".join((reason or "").split())
    if not why:
        raise ReasonRequired("a reason is required to change a market's state", field="reason")
    if len(why) > REASON_MAX:
        raise InvalidInput(f"the reason is at most {REASON_MAX} characters", field="reason")
    return why


def set_market_state(uow: UoW, *, market: str, state: str, reason: str | None, actor: str,
                     now: datetime | None = None) -> dict[str, object]:
    """Set the market's state with the reason, who and when; the new state and reason."""
    now = utc(now)
    if state not in STATES:
        raise InvalidInput("state must be open, halted or closed", field="state")
    why = check_reason(reason)
    with uow:
        store = TradingStore(uow.session)
        m = store.market(market, lock=True)
        if m is None:
            raise MarketNotFound(f"no market {market!r}", field="market")
        if m.state == state:
            raise MarketAlreadyInState(f"market {market} is already {state}", field="state")
        m.state, m.state_reason, m.state_at, m.state_by = state, why, now, actor[:64]
        store.flush()
        store.bump(m.id, None)
        out: dict[str, object] = dict(market=m.id, state=state, reason=why,
                                      at=now.isoformat(), by=m.state_by)
        uow.commit()
        return out


def market_state(uow: UoW, market: str) -> dict[str, object]:
    """The market's state, and why, when and by whom it was last set (None if never)."""
    with uow:
        m = TradingStore(uow.session).market(market)
        if m is None:
            raise MarketNotFound(f"no market {market!r}", field="market")
        return dict(market=m.id, state=m.state, reason=m.state_reason,
                    at=None if m.state_at is None else utc(m.state_at).isoformat(),
                    by=m.state_by)
