"""Read-only counts of the trading context for the workbenches (issue 18), one query each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trading.tables import NegotiatedTransferRow


class TradingCounts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def transfers_awaiting_approval(self) -> int:
        """Accepted by the buyer, waiting for the bureau."""
        return int(self.s.scalar(select(func.count()).select_from(NegotiatedTransferRow)
                                 .where(NegotiatedTransferRow.status == "accepted")) or 0)

    def transfers_proposed_to(self, enterprise: str, now: datetime) -> int:
        """Proposals to this buyer that it may still accept."""
        return int(self.s.scalar(select(func.count()).select_from(NegotiatedTransferRow).where(
            NegotiatedTransferRow.buyer == enterprise,
            NegotiatedTransferRow.status == "proposed",
            NegotiatedTransferRow.expires_at > now)) or 0)
