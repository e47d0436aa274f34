"""Paid-use bills falling due (issue 18): each unpaid bill due within `REMIND_DAYS` days is
reminded to its enterprise's users once (a `bill_due` notification whose ref is the bill id),
in one transaction. The server's schedule tick runs it (web.auction_schedule); running it
again reminds nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from allocation.workbench_store import BillReminderStore
from kernel.clock import system_clock, trading_day
from ledger.service import UoW
from notices import service as notify

REMIND_DAYS = 7


def remind_due_bills(uow: UoW, *, days: int = REMIND_DAYS, now: datetime | None = None
                     ) -> int:
    """Remind the bills due from today (Beijing) to `days` days ahead; returns how many."""
    now = now or system_clock()
    today = trading_day(now)
    with uow:
        bills = BillReminderStore(uow.session).due_unreminded(today,
                                                              today + timedelta(days=days))
        notify.to_enterprises(uow, [(b.enterprise, "bill_due", b.id, dict(
            count=1, amount_fen=b.amount_fen, due=b.due_on, permit=b.permit))
            for b in bills], now=now)
        uow.commit()
    return len(bills)
