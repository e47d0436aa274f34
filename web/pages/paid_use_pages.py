"""Pages of the paid use of rights (issue 17): an enterprise's paid-use bills with a pay
button (its own trader pays; the bureau sees them), and the bureau's list of every bill,
overdue ones first on request. Amounts in yuan, quantities in tonnes, times in Beijing time.

Access: an enterprise's bills, the bureau or the enterprise's own trader (another enterprise
answers 404); paying, the enterprise's own trader; the bureau's list, the bureau (a
district officer: its district's bills only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from identity.roles import Principal
from kernel.clock import CST
from kernel.errors import DomainError, InvalidInput
from web.auth import csrf_protect, district_scope, ensure_enterprise_access, require
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages.base import _p, audit, see_other
from web.pages.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Reader = Depends(require("enterprise:read"))
Payer = Depends(require("order:place"))
Bureau = Depends(require("rights:confirm"))
STATUSES = ("unpaid", "paid", "cancelled")


def _beijing(iso: str | None) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b | {"issued_bj": _beijing(b["issued_at"]), "paid_bj": _beijing(b["paid_at"])}
            for b in items]


def _enterprise_page(request: Request, code: str, status: int = 200,
                     **ctx: Any) -> HTMLResponse:
    p = _p(request)
    view = alloc.enterprise_view(p.uow(), code)
    bills = paid_use.list_bills(p.uow(), enterprise=code, limit=500)
    return render(request, "paid_use_bills.html", status_code=status, e=view,
                  bills=_rows(bills["items"]), owed_fen=bills["owed_fen"], **ctx)


@router.get("/enterprises/{code}/bills", response_class=HTMLResponse)
def enterprise_bills(request: Request, code: str, user: Principal = Reader) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _enterprise_page(request, code, can_pay=user.enterprise == code)


@router.post("/enterprises/{code}/bills/pay", response_model=None)
def pay(request: Request, code: str, bill: Annotated[str, Form()] = "",
        user: Principal = Payer) -> HTMLResponse | RedirectResponse:
    ensure_enterprise_access(user, code)
    audit(request, "pay_paid_use_bill", bill)
    try:
        if not bill.isdigit() or not 1 <= int(bill) <= 2**53:
            raise InvalidInput("bill must be a bill number", field="bill")
        out = paid_use.pay_bill(_p(request).uow(), bill_id=int(bill), actor=user.username,
                                enterprise=code)
    except DomainError as exc:
        return _enterprise_page(request, code, status_of(exc), can_pay=True,
                                error=error_text(exc))
    return see_other(f"/enterprises/{code}/bills", msg=confirm("Bill {id} paid.", id=out["id"]))


@router.get("/bureau/paid-use", response_class=HTMLResponse)
def bureau_bills(request: Request,
                 status: Annotated[str | None, Query(max_length=10)] = None,
                 overdue: Annotated[str | None, Query(max_length=5)] = None,
                 user: Principal = Bureau) -> HTMLResponse:
    st = status if status in STATUSES else None
    late = overdue in ("1", "on", "true")
    bills = paid_use.list_bills(_p(request).uow(), status=st, overdue=late, limit=500,
                                district=district_scope(request))
    return render(request, "paid_use_bureau.html", bills=_rows(bills["items"]),
                  total=bills["total"], owed_fen=bills["owed_fen"], status=st, overdue=late,
                  STATUSES=STATUSES, prices=paid_use.base_prices())
