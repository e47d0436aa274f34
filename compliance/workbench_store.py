"""Read-only counts of the compliance context for the workbenches (issue 18): one query per
count, scoped to a district (a district officer) or an enterprise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, column, func, or_, select, table
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow
from compliance.alerting.alert_tables import AlertRow
from compliance.alerting.clue_tables import ClueRow
from compliance.reporting.tables import ViolationRow
from compliance.supervision.supervision_tables import MonitoringImportRow

# the penalty procedure's cases (compliance.enforcement.penalty_case_tables), named by table so the
# count does not depend on that module's classes
_case = table("penalty_case", column("id"), column("enterprise"), column("status"),
              column("notice_number"), column("hearing_fixed_on", Date),
              column("hearing_place"), column("hearing_notified_on", Date))


class ComplianceCounts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _in_district(self, q: Any, enterprise_col: Any, district: str | None) -> Any:
        if district is None:
            return q
        return q.where(enterprise_col.in_(select(EnterpriseRow.credit_code)
                                          .where(EnterpriseRow.district == district)))

    def clues_in_state(self, state: str, district: str | None) -> int:
        q = select(func.count()).select_from(ClueRow).where(ClueRow.state == state)
        return int(self.s.scalar(self._in_district(q, ClueRow.enterprise, district)) or 0)

    def clues_overdue(self, district: str | None, today: date) -> int:
        """Sent clues past their due date (`compliance.alerting.clues.overdue`)."""
        q = select(func.count()).select_from(ClueRow).where(ClueRow.state == "sent",
                                                            ClueRow.due < today)
        return int(self.s.scalar(self._in_district(q, ClueRow.enterprise, district)) or 0)

    def clues_sent_to(self, enterprise: str, today: date) -> tuple[int, int]:
        """(sent and waiting for the enterprise's rectification, of them overdue)."""
        n, late = self.s.execute(
            select(func.count(), func.count(ClueRow.id).filter(ClueRow.due < today))
            .where(ClueRow.enterprise == enterprise, ClueRow.state == "sent")).one()
        return int(n), int(late)

    def alerts_active(self, today: date) -> int:
        return int(self.s.scalar(select(func.count()).select_from(AlertRow).where(
            AlertRow.first_day <= today,
            func.coalesce(AlertRow.lifted_on, AlertRow.last_day) >= today)) or 0)

    def monitoring_imports_with_errors(self, district: str | None, since: datetime) -> int:
        q = select(func.count()).select_from(MonitoringImportRow).where(
            MonitoringImportRow.rejected > 0, MonitoringImportRow.voided_at.is_(None),
            MonitoringImportRow.at >= since)
        if district is not None:
            q = q.where(MonitoringImportRow.district == district)
        return int(self.s.scalar(q) or 0)

    def violations_open(self, district: str | None) -> int:
        q = select(func.count()).select_from(ViolationRow).where(ViolationRow.status == "open")
        return int(self.s.scalar(self._in_district(q, ViolationRow.enterprise, district)) or 0)

    def penalty_cases_of(self, enterprise: str, statuses: Sequence[str]) -> int:
        """The enterprise's penalty cases in these statuses (the procedure is running)."""
        return int(self.s.scalar(select(func.count()).select_from(_case).where(
            _case.c.enterprise == enterprise, or_(*[_case.c.status == s for s in statuses])
        )) or 0)

    def hearings_upcoming(self, enterprise: str, today: date, status: str,
                          limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(how many, the first `limit` by day) of the enterprise's requested hearings whose
        day and place were notified and whose day is today or later, not yet held (`status`:
        the procedure's hearing_requested)."""
        where = (_case.c.enterprise == enterprise, _case.c.status == status,
                 _case.c.hearing_notified_on.is_not(None), _case.c.hearing_fixed_on >= today)
        n = int(self.s.scalar(select(func.count()).select_from(_case).where(*where)) or 0)
        if not n:
            return 0, []
        rows = self.s.execute(
            select(_case.c.id, _case.c.notice_number, _case.c.hearing_fixed_on,
                   _case.c.hearing_place).where(*where)
            .order_by(_case.c.hearing_fixed_on, _case.c.id).limit(limit)).all()
        return n, [dict(case=int(i), notice=str(num), on=d, place=str(place or ""))
                   for i, num, d, place in rows]
