"""Bureau pages of penalty decisions: violations awaiting a decision, the decision form
(published on decision), corrections and withdrawals (recorded as events, never deleted),
and the decisions made. The public pages are in web/pages/public.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance import disclosure_service as disclosure
from compliance import penalties as P
from identity.roles import BUREAU, Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from kernel.quantities import yuan
from web.auth import csrf_protect, require_role
from web.errors import status_of
from web.pages import forms
from web.pages.render import render
from web.pages.routes import _p, audit, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require_role(*BUREAU))
SIZE = 50
PageNo = Annotated[int, Query(ge=1, le=100_000)]
#: form fields a domain error may name; others are shown at the top of the form
FIELDS = {"violation", "number", "amount_fen", "decided_on", "legal_basis", "summary",
          "reason"}


def _errors_of(exc: DomainError, errors: forms.FieldErrors) -> None:
    fld = exc.field if exc.field in FIELDS else "form"
    errors.add("amount" if fld == "amount_fen" else fld, f"{exc.code}: {exc.message}")


def _page(request: Request, status: int = 200, *, violation: int | None = None,
          page: int = 1, dpage: int = 1, **ctx: Any) -> HTMLResponse:
    p = _p(request)
    open_v = disclosure.violations(p.uow(), status="open", offset=(page - 1) * SIZE,
                                   limit=SIZE)
    decided = disclosure.penalty_decisions(p.uow(), offset=(dpage - 1) * SIZE, limit=SIZE)
    ctx.setdefault("forms", {"decide": {"violation": str(violation or ""),
                                        "decided_on": trading_day(system_clock()).isoformat(),
                                        "legal_basis": disclosure.ART34_BASIS},
                             "correct": {}, "withdraw": {}})
    ctx.setdefault("errs", {})
    return render(request, "penalties.html", status_code=status, open_v=open_v,
                  decided=decided, page=page, dpage=dpage,
                  pages=max(1, -(-int(open_v["total"]) // SIZE)),
                  dpages=max(1, -(-int(decided["total"]) // SIZE)), **ctx)


@router.get("/bureau/penalties", response_class=HTMLResponse)
def penalties(request: Request,
              violation: Annotated[int | None, Query(ge=1, le=2**53)] = None,
              page: PageNo = 1, dpage: PageNo = 1, user: Principal = Bureau) -> HTMLResponse:
    return _page(request, violation=violation, page=page, dpage=dpage)


@router.post("/bureau/penalties", response_model=None)
def decide(request: Request, violation: Annotated[str, Form()] = "",
           number: Annotated[str, Form()] = "", amount_yuan: Annotated[str, Form()] = "",
           decided_on: Annotated[str, Form()] = "", legal_basis: Annotated[str, Form()] = "",
           summary: Annotated[str, Form()] = "",
           user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(violation=violation, number=number, amount_yuan=amount_yuan,
                decided_on=decided_on, legal_basis=legal_basis, summary=summary)
    errors = forms.FieldErrors()
    vid = forms.whole(violation, "violation", errors, hi=2**53)
    forms.text(number, "number", errors, max_len=P.NUMBER_MAX)
    forms.text(summary, "summary", errors, max_len=P.SUMMARY_MAX)
    forms.text(decided_on, "decided_on", errors, max_len=10)
    amount = None
    try:
        amount = P.yuan_to_fen(amount_yuan, "amount")
    except DomainError as exc:
        errors.add("amount", exc.message)
    audit(request, "decide_penalty", number[:60], f"violation {violation}: {amount_yuan} yuan")
    status = 422
    if not errors and vid is not None and amount is not None:
        try:
            out = disclosure.decide_penalty(
                _p(request).uow(), violation_id=vid, number=number, amount_fen=amount,
                decided_on=decided_on, legal_basis=legal_basis or None, summary=summary,
                actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties",
                             msg=f"{out['number']}: {yuan(out['amount_fen'])} yuan, published")
    return _page(request, status, forms={"decide": form, "correct": {}, "withdraw": {}},
                 errs={"decide": errors})


@router.post("/bureau/penalties/correct", response_model=None)
def correct(request: Request, number: Annotated[str, Form()] = "",
            amount_yuan: Annotated[str, Form()] = "", legal_basis: Annotated[str, Form()] = "",
            summary: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
            user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(number=number, amount_yuan=amount_yuan, legal_basis=legal_basis,
                summary=summary, reason=reason)
    errors = forms.FieldErrors()
    forms.text(number, "number", errors, max_len=P.NUMBER_MAX)
    forms.text(reason, "reason", errors, max_len=P.REASON_MAX)
    amount = None
    if amount_yuan.strip():
        try:
            amount = P.yuan_to_fen(amount_yuan, "amount")
        except DomainError as exc:
            errors.add("amount", exc.message)
    audit(request, "correct_penalty", number[:60], reason[:200])
    status = 422
    if not errors:
        try:
            out = disclosure.correct_penalty(
                _p(request).uow(), number=number, amount_fen=amount,
                legal_basis=legal_basis if legal_basis.strip() else None,
                summary=summary if summary.strip() else None, reason=reason,
                actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties", msg=f"{out['number']}: corrected")
    return _page(request, status, forms={"decide": {}, "correct": form, "withdraw": {}},
                 errs={"correct": errors})


@router.post("/bureau/penalties/withdraw", response_model=None)
def withdraw(request: Request, number: Annotated[str, Form()] = "",
             reason: Annotated[str, Form()] = "",
             user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(number=number, reason=reason)
    errors = forms.FieldErrors()
    forms.text(number, "number", errors, max_len=P.NUMBER_MAX)
    forms.text(reason, "reason", errors, max_len=P.REASON_MAX)
    audit(request, "withdraw_penalty", number[:60], reason[:200])
    status = 422
    if not errors:
        try:
            out = disclosure.withdraw_penalty(_p(request).uow(), number=number,
                                              reason=reason, actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties", msg=f"{out['number']}: withdrawn")
    return _page(request, status, forms={"decide": {}, "correct": {}, "withdraw": form},
                 errs={"withdraw": errors})
