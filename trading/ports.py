"""What trading needs from permits, provided by the composition root (see `app/wiring.py`).

Trading does not import the allocation context: the permit gate and the trade recorder are
passed in, and they run inside trading's own unit of work so a trade and the permits that
record it commit together. The batch forms serve the order pipeline, which checks every
trader of a group and records every trade of a group in a few statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from kernel.errors import DomainError
from kernel.records import PermitAsk, PermitTrade


class Permits(Protocol):
    def check_trading_permit(self, uow: Any, *, enterprise: str, permit: str, pollutant: str,
                             zone: str, year: int, today: date) -> None: ...

    def check_trading_permits(self, uow: Any, *, holders: Sequence[tuple[str, str]],
                              pollutant: str, zone: str, year: int, today: date
                              ) -> dict[tuple[str, str], DomainError | None]: ...

    def check_trading_permits_of(self, uow: Any, *, asks: Sequence[PermitAsk]
                                 ) -> list[dict[tuple[str, str], DomainError | None]]:
        """`check_trading_permits` for several markets (or days) at once: an answer per
        ask, in order."""

    def record_trade(self, uow: Any, *, permit: str, pollutant: str, year: int, side: str,
                     qty_kg: int, counterparty: str, price: int, reference: str,
                     at: datetime) -> None: ...

    def record_trades(self, uow: Any, *, pollutant: str, year: int,
                      trades: Sequence[PermitTrade]) -> None: ...

    def record_trades_of(self, uow: Any, *,
                         trades: Sequence[tuple[str, int, PermitTrade]]) -> None:
        """`record_trades` for trades of several (pollutant, year): each is
        (pollutant, year, trade)."""
