"""Bureau pages of penalty decisions: violations awaiting a decision (filtered by kind), the
decision form (published on decision; the legal basis pre-filled in Chinese from the
violation's kind), corrections and withdrawals (recorded as events, never deleted), the
decisions made; opening a violation of a kind by hand, confirming a problem clue as a
violation, handing a violation to enforcement and recording its result. The public pages
are in web/pages/public.py."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance.alerting import clue_service
from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalties as P
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from web.auth import (
    csrf_protect,
    district_scope,
    ensure_enterprise_access,
    ensure_permit_access,
    require,
)
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
# reads: every bureau user; penalty decisions by enforcement, violations opened and handed
# over by monitoring or enforcement (identity.roles.DEPARTMENTS)
Bureau = Depends(require("penalty:decide"))
Violations = Depends(require("violation:open"))
SIZE = 50
PageNo = Annotated[int, Query(ge=1, le=100_000)]
#: form fields a domain error may name; others are shown at the top of the form
FIELDS = {"violation", "number", "amount_fen", "decided_on", "legal_basis", "summary",
          "reason", "permit", "kind", "occurred_on", "facts", "pollutant", "instances",
          "department", "transferred_on", "result", "result_on", "clue"}
FORMS = ("decide", "correct", "withdraw", "open", "transfer", "result", "confirm")


def _errors_of(exc: DomainError, errors: forms.FieldErrors) -> None:
    fld = exc.field if exc.field in FIELDS else "form"
    errors.add("amount" if fld == "amount_fen" else fld, error_text(exc))


def _in_scope(request: Request, user: Principal, violation_id: int) -> None:
    """A district officer acts on its district's violations only (404 like a missing one)."""
    if user.district is not None:
        v = disclosure.get_violation(_p(request).uow(), violation_id=violation_id)
        ensure_enterprise_access(user, str(v["enterprise"]))


def _forms(**given: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: given.get(name, {}) for name in FORMS}


def _page(request: Request, status: int = 200, *, violation: int | None = None,
          page: int = 1, dpage: int = 1, kind: str | None = None, **ctx: Any
          ) -> HTMLResponse:
    p = _p(request)
    known = {k["code"] for k in disclosure.violation_kinds()}
    kind = kind if kind in known else None
    scope = district_scope(request)
    open_v = disclosure.violations(p.uow(), status="open", kind=kind,
                                   offset=(page - 1) * SIZE, limit=SIZE, district=scope)
    handed = disclosure.violations(p.uow(), status="transferred", kind=kind, offset=0,
                                   limit=SIZE, district=scope)
    decided = disclosure.penalty_decisions(p.uow(), offset=(dpage - 1) * SIZE, limit=SIZE,
                                           district=scope)
    today = trading_day(system_clock()).isoformat()
    basis = disclosure.ART34_BASIS
    if violation is not None:
        with contextlib.suppress(DomainError):  # an unknown id: the form says so on submit
            basis = str(disclosure.get_violation(p.uow(), violation_id=violation)
                        ["legal_basis"])
    ctx.setdefault("forms", _forms(
        decide={"violation": str(violation or ""), "decided_on": today,
                "legal_basis": basis},
        open={"occurred_on": today, "instances": "1"},
        transfer={"transferred_on": today}, result={"result_on": today}))
    ctx.setdefault("errs", {})
    return render(request, "penalties.html", status_code=status, open_v=open_v,
                  handed=handed, decided=decided, page=page, dpage=dpage,
                  kinds=disclosure.violation_kinds(), kind=kind or "",
                  pages=max(1, -(-int(open_v["total"]) // SIZE)),
                  dpages=max(1, -(-int(decided["total"]) // SIZE)), **ctx)


@router.get("/bureau/penalties", response_class=HTMLResponse)
def penalties(request: Request,
              violation: Annotated[int | None, Query(ge=1, le=2**53)] = None,
              kind: Annotated[str | None, Query(max_length=40)] = None,
              page: PageNo = 1, dpage: PageNo = 1, user: Principal = Bureau) -> HTMLResponse:
    return _page(request, violation=violation, page=page, dpage=dpage, kind=kind or None)


def _whole(text: str, fld: str, errors: forms.FieldErrors, hi: int) -> int | None:
    return forms.whole(text, fld, errors, hi=hi)


@router.post("/bureau/penalties/violations", response_model=None)
def open_violation(request: Request, permit: Annotated[str, Form()] = "",
                   kind: Annotated[str, Form()] = "", occurred_on: Annotated[str, Form()] = "",
                   facts: Annotated[str, Form()] = "", pollutant: Annotated[str, Form()] = "",
                   instances: Annotated[str, Form()] = "1",
                   user: Principal = Violations) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, kind=kind, occurred_on=occurred_on, facts=facts,
                pollutant=pollutant, instances=instances)
    errors = forms.FieldErrors()
    forms.text(permit, "permit", errors, max_len=22)
    forms.text(facts, "facts", errors, max_len=disclosure.FACTS_MAX)
    n = _whole(instances or "1", "instances", errors, 1000)
    audit(request, "open_violation", permit[:22], f"{kind[:40]} {occurred_on[:10]}")
    status = 422
    if not errors and n is not None:
        try:
            ensure_permit_access(user, permit.strip())
            out = disclosure.open_violation(
                _p(request).uow(), permit=permit.strip(), kind=kind, occurred_on=occurred_on,
                facts=facts, pollutant=pollutant or None, instances=n, actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties",
                             msg=confirm("Violation #{id} opened: {kind} ({basis}).", id=out["id"],
                                         kind=out["kind_zh"], basis=out["legal_basis"]))
    return _page(request, status, forms=_forms(open=form), errs={"open": errors})


@router.post("/bureau/penalties/transfer", response_model=None)
def transfer(request: Request, violation: Annotated[str, Form()] = "",
             department: Annotated[str, Form()] = "",
             transferred_on: Annotated[str, Form()] = "",
             user: Principal = Violations) -> RedirectResponse | HTMLResponse:
    form = dict(violation=violation, department=department, transferred_on=transferred_on)
    errors = forms.FieldErrors()
    vid = _whole(violation, "violation", errors, 2**53)
    forms.text(department, "department", errors, max_len=disclosure.DEPARTMENT_MAX)
    audit(request, "transfer_violation", violation[:20], department[:100])
    status = 422
    if not errors and vid is not None:
        try:
            _in_scope(request, user, vid)
            disclosure.transfer_violation(_p(request).uow(), violation_id=vid,
                                          department=department,
                                          transferred_on=transferred_on, actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties",
                             msg=confirm("Violation #{id} transferred.", id=vid))
    return _page(request, status, forms=_forms(transfer=form), errs={"transfer": errors})


@router.post("/bureau/penalties/result", response_model=None)
def result(request: Request, violation: Annotated[str, Form()] = "",
           result: Annotated[str, Form()] = "", result_on: Annotated[str, Form()] = "",
           user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(violation=violation, result=result, result_on=result_on)
    errors = forms.FieldErrors()
    vid = _whole(violation, "violation", errors, 2**53)
    forms.text(result, "result", errors, max_len=disclosure.RESULT_MAX)
    audit(request, "violation_result", violation[:20], result[:200])
    status = 422
    if not errors and vid is not None:
        try:
            _in_scope(request, user, vid)
            disclosure.record_result(_p(request).uow(), violation_id=vid, result=result,
                                     result_on=result_on, actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties", msg=confirm("Violation #{id}: result recorded.",
                                                                  id=vid))
    return _page(request, status, forms=_forms(result=form), errs={"result": errors})


@router.post("/bureau/penalties/confirm-clue", response_model=None)
def confirm_clue(request: Request, clue: Annotated[str, Form()] = "",
                 kind: Annotated[str, Form()] = "", facts: Annotated[str, Form()] = "",
                 user: Principal = Violations) -> RedirectResponse | HTMLResponse:
    form = dict(clue=clue, kind=kind, facts=facts)
    errors = forms.FieldErrors()
    cid = _whole(clue, "clue", errors, 2**53)
    audit(request, "confirm_clue", clue[:20], kind[:40])
    status = 422
    if not errors and cid is not None:
        try:
            if user.district is not None:  # another district's clue: as missing
                clue_service.get_clue(_p(request).uow(), clue_id=cid, district=user.district)
            out = clue_service.confirm_violation(
                _p(request).uow(), clue_id=cid, kind=kind or None, facts=facts or None,
                actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties",
                             msg=confirm("Violation #{id} opened: {kind} ({basis}).", id=out["id"],
                                         kind=out["kind_zh"], basis=out["legal_basis"]))
    return _page(request, status, forms=_forms(confirm=form), errs={"confirm": errors})


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
        errors.add("amount", error_text(exc))
    audit(request, "decide_penalty", number[:60], f"violation {violation}: {amount_yuan} yuan")
    status = 422
    if not errors and vid is not None and amount is not None:
        try:
            _in_scope(request, user, vid)
            out = disclosure.decide_penalty(
                _p(request).uow(), violation_id=vid, number=number, amount_fen=amount,
                decided_on=decided_on, legal_basis=legal_basis or None, summary=summary,
                actor=user.username)
        except DomainError as exc:
            _errors_of(exc, errors)
            status = status_of(exc)
        else:
            return see_other("/bureau/penalties",
                             msg=confirm("Decision {number} published: a fine of {amount} yuan.",
                                         number=out["number"], amount_fen=out["amount_fen"]))
    return _page(request, status, forms=_forms(decide=form), errs={"decide": errors})


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
            errors.add("amount", error_text(exc))
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
            return see_other("/bureau/penalties", msg=confirm("Decision {number} corrected.",
                                                                  number=out["number"]))
    return _page(request, status, forms=_forms(correct=form), errs={"correct": errors})


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
            return see_other("/bureau/penalties", msg=confirm("Decision {number} withdrawn.",
                                                                  number=out["number"]))
    return _page(request, status, forms=_forms(withdraw=form), errs={"withdraw": errors})


# the administrative penalty procedure's pages live in their own module, mounted with these
from web.pages import penalty_cases as _penalty_cases  # noqa: E402

router.include_router(_penalty_cases.router)
