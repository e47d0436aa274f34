"""Read-only counts of the identity context for the workbenches (issue 18)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.store import _enterprise, _permit
from identity.tables import ApprovalRow


class IdentityCounts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def approvals_waiting_for(self, username: str, district: str | None) -> int:
        """Pending approval requests another officer made (one's own wait for someone
        else); a district officer's: those about its district's permits (as its list)."""
        q = select(func.count()).select_from(ApprovalRow).where(
            ApprovalRow.status == "pending", ApprovalRow.requested_by != username)
        if district is not None:
            q = q.where(ApprovalRow.target.in_(
                select(_permit.c.code).join(_enterprise,
                                            _permit.c.enterprise == _enterprise.c.credit_code)
                .where(_enterprise.c.district == district)))
        return int(self.s.scalar(q) or 0)
