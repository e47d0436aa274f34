"""The workbenches (issue 18): what waits for a bureau officer, an enterprise or an analyst,
as counts. Read-only; one query per count (the context's `workbench_store`), all in one read
transaction, so the figures are of one moment. Compliance composes them because it is the
one domain layer that may read every context below it.

Each item is {"key", "count", ...}: the web layer gives it its words and its link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from allocation.workbench_store import AllocationCounts
from compliance.enforcement import penalty_procedure as PP
from compliance.reporting import report_service
from compliance.workbench_store import ComplianceCounts
from identity.workbench_store import IdentityCounts
from kernel.clock import system_clock, trading_day
from ledger.service import UoW
from trading.workbench_store import TradingCounts

#: imports with errors are shown for this long (they have no "resolved" state)
IMPORT_WINDOW = timedelta(days=30)
#: penalty cases in these statuses wait for the enterprise (a statement, a hearing, the
#: service or the payment: compliance.enforcement.penalty_procedure.ACTIVE)
PENALTY_ACTIVE = ("noticed", "hearing_requested", "heard", "decided", "served")
#: upcoming hearings listed by day and place on the enterprise's workbench (the rest counted)
HEARINGS_LISTED = 5


def bureau_workbench(uow: UoW, *, username: str, district: str | None,
                     now: datetime | None = None) -> list[dict[str, Any]]:
    """A bureau user's to-do list; a district officer's is scoped to its district."""
    now = now or system_clock()
    today = trading_day(now)
    with uow:
        a, c = AllocationCounts(uow.session), ComplianceCounts(uow.session)
        t, i = TradingCounts(uow.session), IdentityCounts(uow.session)
        return [
            dict(key="approvals_waiting",
                 count=i.approvals_waiting_for(username, district)),
            dict(key="permits_awaiting_confirmation",
                 count=a.permits_awaiting_confirmation(district)),
            dict(key="transfers_awaiting_approval",
                 count=t.transfers_awaiting_approval() if district is None else 0),
            dict(key="clues_new", count=c.clues_in_state("found", district)),
            dict(key="clues_rectified", count=c.clues_in_state("rectified", district)),
            dict(key="clues_overdue", count=c.clues_overdue(district, today), urgent=True),
            dict(key="alerts_active", count=c.alerts_active(today), urgent=True),
            dict(key="monitoring_imports_with_errors",
                 count=c.monitoring_imports_with_errors(district, now - IMPORT_WINDOW)),
            dict(key="permit_imports_with_errors",
                 count=a.permit_imports_with_errors(now - IMPORT_WINDOW)
                 if district is None else 0),
            dict(key="violations_open", count=c.violations_open(district)),
            dict(key="bills_overdue", count=a.bills_overdue(district, today)),
        ]


def enterprise_workbench(uow: UoW, *, enterprise: str, now: datetime | None = None
                         ) -> list[dict[str, Any]]:
    """What waits for an enterprise: bills to pay, clues sent to it, transfers proposed to
    it, execution reports past due, penalty procedures running against it, and the hearings
    it asked for whose day and place the bureau notified (not yet held), by day."""
    now = now or system_clock()
    today = trading_day(now)
    with uow:
        a, c = AllocationCounts(uow.session), ComplianceCounts(uow.session)
        bills, owed, late_bills = a.unpaid_bills(enterprise, today)
        clues, late_clues = c.clues_sent_to(enterprise, today)
        items = [
            dict(key="bills_to_pay", count=bills, amount_fen=owed, overdue=late_bills,
                 urgent=late_bills > 0),
            dict(key="clues_assigned", count=clues, overdue=late_clues, urgent=late_clues > 0),
            dict(key="transfers_proposed",
                 count=TradingCounts(uow.session).transfers_proposed_to(enterprise, now)),
            dict(key="penalty_notices", count=c.penalty_cases_of(enterprise, PENALTY_ACTIVE),
                 urgent=True),
        ]
        hearings, upcoming = c.hearings_upcoming(enterprise, today, PP.HEARING_REQUESTED,
                                                 HEARINGS_LISTED)
        # a notified hearing is a dated appointment: listed with its day and place
        items.append(dict(key="hearings_upcoming", count=hearings, urgent=hearings > 0,
                          items=[dict(h, on=h["on"].isoformat()) for h in upcoming]))
    # the missing-report rule is the report service's (class, sector, shortest holding)
    missing = report_service.missing_reports(uow, on=today, since=today.year - 1,
                                             enterprise=enterprise)
    items.insert(3, dict(key="reports_due", count=len(missing), urgent=bool(missing),
                         items=[dict(permit=m.permit, year=m.year, period=m.period,
                                     due=m.due.isoformat()) for m in missing[:5]]))
    return items


def analyst_workbench(uow: UoW, *, username: str, limit: int = 10) -> dict[str, Any]:
    """The analyst's own scenarios, newest first."""
    with uow:
        total, rows = AllocationCounts(uow.session).scenarios_of(username, limit)
        return dict(total=total, items=[dict(r, created_at=r["created_at"].isoformat()
                                             if r["created_at"] else None) for r in rows])
