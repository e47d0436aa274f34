"""Read-only counts of the allocation context for the workbenches (issue 18): one query
per count, each optionally scoped to a district (a district officer) or an enterprise."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, case, cast, column, func, select, table
from sqlalchemy.orm import Session

from allocation.paid_use_tables import PaidUseBillRow
from allocation.register_tables import PermitImportRow
from allocation.tables import EnterpriseRow, PermitQuantityRow, PermitRow, ScenarioRow


class AllocationCounts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def permits_awaiting_confirmation(self, district: str | None) -> int:
        """Valid permits with a permitted quantity whose rights are not yet confirmed."""
        q = (select(func.count(func.distinct(PermitRow.code)))
             .join(PermitQuantityRow, PermitQuantityRow.permit == PermitRow.code)
             .where(PermitRow.status == "valid", PermitQuantityRow.confirmed.is_(False)))
        if district is not None:
            q = q.join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise).where(
                EnterpriseRow.district == district)
        return int(self.s.scalar(q) or 0)

    def bills_overdue(self, district: str | None, today: date) -> int:
        q = select(func.count()).select_from(PaidUseBillRow).where(
            PaidUseBillRow.status == "unpaid", PaidUseBillRow.due_on < today)
        if district is not None:
            q = q.join(EnterpriseRow, EnterpriseRow.credit_code == PaidUseBillRow.enterprise
                       ).where(EnterpriseRow.district == district)
        return int(self.s.scalar(q) or 0)

    def permit_imports_with_errors(self, since: datetime) -> int:
        return int(self.s.scalar(select(func.count()).select_from(PermitImportRow).where(
            PermitImportRow.status.in_(("partial", "rejected")),
            PermitImportRow.at >= since)) or 0)

    def unpaid_bills(self, enterprise: str, today: date) -> tuple[int, int, int]:
        """(count, amount in fen, overdue count) of the enterprise's unpaid bills."""
        overdue = func.sum(case((PaidUseBillRow.due_on < today, 1), else_=0))
        n, amount, late = self.s.execute(
            select(func.count(), func.coalesce(func.sum(PaidUseBillRow.amount_fen), 0),
                   func.coalesce(overdue, 0))
            .where(PaidUseBillRow.enterprise == enterprise,
                   PaidUseBillRow.status == "unpaid")).one()
        return int(n), int(amount), int(late)

    def scenarios_of(self, author: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many scenarios `author` wrote, and the newest `limit` of them."""
        total = int(self.s.scalar(select(func.count()).select_from(ScenarioRow)
                                  .where(ScenarioRow.created_by == author)) or 0)
        rows = self.s.execute(select(ScenarioRow.id, ScenarioRow.name, ScenarioRow.created_at)
                              .where(ScenarioRow.created_by == author)
                              .order_by(ScenarioRow.id.desc()).limit(limit))
        return total, [dict(id=i, name=n, created_at=c) for i, n, c in rows]


# the notifications' table (notices.tables), named by table: allocation does not import the
# notices context's classes, only asks whether a bill was already reminded
_notification = table("notification", column("kind"), column("ref"))


class BillReminderStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def due_unreminded(self, first: date, last: date) -> list[PaidUseBillRow]:
        """Unpaid bills due between `first` and `last` (inclusive) with no `bill_due`
        notification yet (its ref is the bill id)."""
        reminded = select(_notification.c.ref).where(
            _notification.c.kind == "bill_due",
            _notification.c.ref == cast(PaidUseBillRow.id, String))
        return list(self.s.scalars(select(PaidUseBillRow).where(
            PaidUseBillRow.status == "unpaid", PaidUseBillRow.due_on >= first,
            PaidUseBillRow.due_on <= last, ~reminded.exists()).order_by(PaidUseBillRow.id)))
