"""What trading needs from permits, provided by the composition root (see `app/wiring.py`).

Trading does not import the allocation context: the permit gate and the trade recorder are
passed in, and they run inside trading's own unit of work so a trade and the permits that
record it commit together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol


class Permits(Protocol):
    def check_trading_permit(self, uow: Any, *, enterprise: str, permit: str, pollutant: str,
                             zone: str, year: int, today: date) -> None: ...

    def record_trade(self, uow: Any, *, permit: str, pollutant: str, year: int, side: str,
                     qty_kg: int, counterparty: str, price: int, reference: str,
                     at: datetime) -> None: ...
