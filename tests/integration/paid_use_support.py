"""Test support: fund and pay a permit's paid-use bills (rights become tradable only once
their paid-use fee is paid), leaving the enterprise's cash as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from allocation import paid_use_service as paid_use
from allocation import service as alloc


def fund_and_pay(platform: Any, permit: str, now: datetime | None = None) -> int:
    """Deposit each unpaid bill's amount and pay it; returns the fen paid."""
    with platform.uow() as uow:
        from allocation.tables import PermitRow

        enterprise = uow.session.get(PermitRow, permit).enterprise
    paid = 0
    for b in paid_use.list_bills(platform.uow(), permit=permit, status="unpaid",
                                 limit=1000)["items"]:
        alloc.deposit_cash(platform.uow(), enterprise=enterprise, amount_fen=b["amount_fen"],
                           actor="bureau", reference=f"paid-use-fund-{b['id']}", now=now)
        paid_use.pay_bill(platform.uow(), bill_id=b["id"], actor="test", now=now)
        paid += b["amount_fen"]
    return paid
