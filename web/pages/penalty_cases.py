"""Pages of the administrative penalty procedure. Included by web/pages/disclosure.py.

- the bureau (/bureau/penalty-cases): the cases with their status and deadlines; the advance
  notice form (facts and the Chinese legal basis pre-filled from the violation); for the case
  shown, the form of its next step (the hearing's notice: day and place, at least 7 working
  days ahead; hearing record, decision with the notice's legal basis pre-filled, service
  with its method, payment of the fine and of the late-payment surcharge accrued);
- the enterprise (/enterprises/{code}/penalties): its cases, each with its status, the dated
  steps, the deadlines (Beijing dates) and what it can do now (statement and defence, hearing
  request), answered on the page; the hearing's day and place once notified; a fine unpaid
  after its last day with the surcharge accrued and the total due today. Another
  enterprise's page answers 404.

Plain forms and 303 redirects; every POST carries the CSRF token and leaves an audit row.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalties as P
from compliance.enforcement import penalty_case_service as cases
from compliance.enforcement import penalty_procedure as PP
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError
from web.auth import csrf_protect, ensure_enterprise_access, require
from web.errors import status_of
from web.i18n import translator
from web.messages import error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import lang_of, render
from web.penalty_words import EVENT_LABELS, METHOD_LABELS, STATUS_LABELS, STEP_LABELS

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("penalty:decide"))
Reader = Depends(require("enterprise:read"))
Trader = Depends(require("order:place"))
QId = Annotated[int | None, Query(ge=1, le=2**53)]
SIZE = 50
BUREAU_FORMS = ("notice", "hearing_notice", "hearing", "decision", "service", "payment")
FIELDS = {"violation", "number", "proposed", "noticed_on", "facts", "legal_basis",
          "held_on", "record", "amount", "decided_on", "summary", "method", "served_on",
          "paid_on", "statement", "reason", "hearing_on", "place", "notified_on",
          "surcharge"}


def _field(exc: DomainError, errors: forms.FieldErrors) -> None:
    fld = {"amount_fen": "amount", "proposed_fen": "proposed",
           "surcharge_fen": "surcharge"}.get(exc.field or "", exc.field or "")
    errors.add(fld if fld in FIELDS else "form", error_text(exc))


def _tr(request: Request, text: str) -> str:
    """A confirmation in the reader's language."""
    return translator(lang_of(request))(text)


def _labels() -> dict[str, Any]:
    return dict(STATUS_LABELS=STATUS_LABELS, EVENT_LABELS=EVENT_LABELS,
                METHOD_LABELS=METHOD_LABELS, STEP_LABELS=STEP_LABELS,
                METHODS=PP.SERVICE_METHODS)


# bureau ----------------------------------------------------------------------------------

def _bureau_page(request: Request, user: Principal, status: int = 200, *,
                 case_id: int | None = None, violation: int | None = None, page: int = 1,
                 forms_in: dict[str, dict[str, str]] | None = None,
                 errs: dict[str, forms.FieldErrors] | None = None) -> HTMLResponse:
    p = _p(request)
    res = cases.cases(p.uow(), district=user.district, offset=(page - 1) * SIZE, limit=SIZE)
    case = None
    if case_id is not None:
        with contextlib.suppress(DomainError):  # unknown or another district's: no detail
            case = cases.get_case(p.uow(), case_id=case_id, district=user.district)
    today = trading_day(system_clock()).isoformat()
    notice = {"violation": str(violation or ""), "noticed_on": today}
    if violation is not None:
        with contextlib.suppress(DomainError):
            v = disclosure.get_violation(p.uow(), violation_id=violation)
            notice.update(facts=str(v["facts"] or ""), legal_basis=str(v["legal_basis"]))
    given = forms_in or {}
    f = {name: given.get(name) for name in BUREAU_FORMS}
    f["notice"] = f["notice"] or notice
    if case is not None:
        first = PP.earliest_hearing(trading_day(system_clock())).isoformat()
        f["hearing_notice"] = f["hearing_notice"] or {
            "notified_on": today, "hearing_on": case["hearing_fixed_on"] or first,
            "place": case["hearing_place"] or ""}
        f["hearing"] = f["hearing"] or {"held_on": case["hearing_fixed_on"] or today}
        f["decision"] = f["decision"] or {
            "decided_on": today, "legal_basis": case["legal_basis"],
            "amount_yuan": P.yuan_text(int(case["proposed_fen"])).replace(",", "")}
        f["service"] = f["service"] or {"served_on": today}
        f["payment"] = f["payment"] or {"paid_on": today}
    waiting = disclosure.violations(p.uow(), status="open", offset=0, limit=500,
                                    district=user.district)
    busy = cases.under_way(p.uow(), [int(v["id"]) for v in waiting["items"]])
    waiting["items"] = [v for v in waiting["items"] if v["id"] not in busy]
    return render(request, "penalty_cases_bureau.html", status_code=status, res=res,
                  case=case, case_id=case_id, fs={k: v or {} for k, v in f.items()},
                  errs=errs or {}, waiting=waiting, page=page, pager_base="?",
                  pages=max(1, -(-int(res["total"]) // SIZE)), **_labels())


@router.get("/bureau/penalty-cases", response_class=HTMLResponse)
def bureau_cases(request: Request, case: QId = None, violation: QId = None,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                 user: Principal = Bureau) -> HTMLResponse:
    return _bureau_page(request, user, case_id=case, violation=violation, page=page)


def _step(request: Request, user: Principal, name: str, form: dict[str, str],
          errors: forms.FieldErrors, case_id: int | None, run: Any,
          msg: str) -> RedirectResponse | HTMLResponse:
    status = 422
    if not errors:
        try:
            if case_id is not None and user.district is not None:
                cases.get_case(_p(request).uow(), case_id=case_id, district=user.district)
            out = run()
        except DomainError as exc:
            _field(exc, errors)
            status = status_of(exc)
        else:
            return see_other(f"/bureau/penalty-cases?case={out['id']}", msg=_tr(request, msg))
    return _bureau_page(request, user, status, case_id=case_id, forms_in={name: form},
                        errs={name: errors})


def _yuan(text: str, name: str, errors: forms.FieldErrors) -> int | None:
    try:
        return P.yuan_to_fen(text, name)
    except DomainError as exc:
        errors.add(name, error_text(exc))
        return None


@router.post("/bureau/penalty-cases/notice", response_model=None)
def notice(request: Request, violation: Annotated[str, Form()] = "",
           number: Annotated[str, Form()] = "", proposed_yuan: Annotated[str, Form()] = "",
           noticed_on: Annotated[str, Form()] = "", facts: Annotated[str, Form()] = "",
           legal_basis: Annotated[str, Form()] = "",
           user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(violation=violation, number=number, proposed_yuan=proposed_yuan,
                noticed_on=noticed_on, facts=facts, legal_basis=legal_basis)
    errors = forms.FieldErrors()
    vid = forms.whole(violation, "violation", errors, hi=2**53)
    forms.text(number, "number", errors, max_len=P.NUMBER_MAX)
    day = forms.day(noticed_on, "noticed_on", errors, required=False)
    fen = _yuan(proposed_yuan, "proposed", errors)
    audit(request, "penalty_notice", number[:60], f"violation {violation[:20]}: "
                                                  f"{proposed_yuan[:20]} yuan")

    def run() -> dict[str, Any]:
        assert vid is not None and fen is not None
        if user.district is not None:
            v = disclosure.get_violation(_p(request).uow(), violation_id=vid)
            ensure_enterprise_access(user, str(v["enterprise"]))
        return cases.issue_notice(_p(request).uow(), violation_id=vid, number=number,
                                  proposed_fen=fen, noticed_on=day, facts=facts or None,
                                  legal_basis=legal_basis or None, actor=user.username)
    return _step(request, user, "notice", form, errors, None, run,
                 "Advance notice given")


@router.post("/bureau/penalty-cases/hearing-notice", response_model=None)
def hearing_notice(request: Request, case: Annotated[str, Form()] = "",
                   hearing_on: Annotated[str, Form()] = "", place: Annotated[str, Form()] = "",
                   notified_on: Annotated[str, Form()] = "",
                   user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(case=case, hearing_on=hearing_on, place=place, notified_on=notified_on)
    errors = forms.FieldErrors()
    cid = forms.whole(case, "case", errors, hi=2**53)
    day = forms.day(hearing_on, "hearing_on", errors)
    told = forms.day(notified_on, "notified_on", errors, required=False)
    forms.text(place, "place", errors, max_len=PP.PLACE_MAX)
    audit(request, "penalty_hearing_notice", case[:20], f"{hearing_on[:10]} {place[:100]}")

    def run() -> dict[str, Any]:
        assert cid is not None and day is not None
        return cases.notify_hearing(_p(request).uow(), case_id=cid, hearing_on=day,
                                    place=place, notified_on=told, actor=user.username)
    return _step(request, user, "hearing_notice", form, errors, cid, run,
                 "Hearing fixed and notified")


@router.post("/bureau/penalty-cases/hearing", response_model=None)
def hearing(request: Request, case: Annotated[str, Form()] = "",
            held_on: Annotated[str, Form()] = "", record: Annotated[str, Form()] = "",
            user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(case=case, held_on=held_on, record=record)
    errors = forms.FieldErrors()
    cid = forms.whole(case, "case", errors, hi=2**53)
    day = forms.day(held_on, "held_on", errors)
    forms.text(record, "record", errors, max_len=P.SUMMARY_MAX)
    audit(request, "penalty_hearing", case[:20], held_on[:10])

    def run() -> dict[str, Any]:
        assert cid is not None and day is not None
        return cases.record_hearing(_p(request).uow(), case_id=cid, held_on=day,
                                    record=record, actor=user.username)
    return _step(request, user, "hearing", form, errors, cid, run, "Hearing recorded")


@router.post("/bureau/penalty-cases/decision", response_model=None)
def decision(request: Request, case: Annotated[str, Form()] = "",
             number: Annotated[str, Form()] = "", amount_yuan: Annotated[str, Form()] = "",
             decided_on: Annotated[str, Form()] = "", legal_basis: Annotated[str, Form()] = "",
             summary: Annotated[str, Form()] = "",
             user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(case=case, number=number, amount_yuan=amount_yuan, decided_on=decided_on,
                legal_basis=legal_basis, summary=summary)
    errors = forms.FieldErrors()
    cid = forms.whole(case, "case", errors, hi=2**53)
    forms.text(number, "number", errors, max_len=P.NUMBER_MAX)
    forms.text(summary, "summary", errors, max_len=P.SUMMARY_MAX)
    day = forms.day(decided_on, "decided_on", errors, required=False)
    fen = _yuan(amount_yuan, "amount", errors)
    audit(request, "penalty_case_decision", number[:60], f"case {case[:20]}: "
                                                         f"{amount_yuan[:20]} yuan")

    def run() -> dict[str, Any]:
        assert cid is not None and fen is not None
        return cases.decide_case(_p(request).uow(), case_id=cid, number=number,
                                 amount_fen=fen, decided_on=day,
                                 legal_basis=legal_basis or None, summary=summary,
                                 actor=user.username)
    return _step(request, user, "decision", form, errors, cid, run,
                 "Decision made: it is published once served")


@router.post("/bureau/penalty-cases/service", response_model=None)
def service(request: Request, case: Annotated[str, Form()] = "",
            method: Annotated[str, Form()] = "", served_on: Annotated[str, Form()] = "",
            user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(case=case, method=method, served_on=served_on)
    errors = forms.FieldErrors()
    cid = forms.whole(case, "case", errors, hi=2**53)
    forms.choice(method, "method", errors, PP.SERVICE_METHODS)
    day = forms.day(served_on, "served_on", errors, required=False)
    audit(request, "penalty_service", case[:20], method[:20])

    def run() -> dict[str, Any]:
        assert cid is not None
        return cases.serve_decision(_p(request).uow(), case_id=cid, method=method,
                                    served_on=day, actor=user.username)
    return _step(request, user, "service", form, errors, cid, run,
                 "Decision served and published")


@router.post("/bureau/penalty-cases/payment", response_model=None)
def payment(request: Request, case: Annotated[str, Form()] = "",
            paid_on: Annotated[str, Form()] = "", surcharge_yuan: Annotated[str, Form()] = "",
            user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(case=case, paid_on=paid_on, surcharge_yuan=surcharge_yuan)
    errors = forms.FieldErrors()
    cid = forms.whole(case, "case", errors, hi=2**53)
    day = forms.day(paid_on, "paid_on", errors, required=False)
    extra = _yuan(surcharge_yuan, "surcharge", errors) if surcharge_yuan.strip() else None
    audit(request, "penalty_payment", case[:20], f"{paid_on[:10]} {surcharge_yuan[:20]}")

    def run() -> dict[str, Any]:
        assert cid is not None
        return cases.record_payment(_p(request).uow(), case_id=cid, paid_on=day,
                                    surcharge_fen=extra, actor=user.username)
    return _step(request, user, "payment", form, errors, cid, run, "Payment recorded")


# enterprise ------------------------------------------------------------------------------

def _enterprise_page(request: Request, code: str, user: Principal, status: int = 200, *,
                     form: dict[str, str] | None = None,
                     errors: forms.FieldErrors | None = None,
                     err_case: int | None = None) -> HTMLResponse:
    res = cases.cases(_p(request).uow(), enterprise=code, offset=0, limit=200)
    return render(request, "penalty_cases_enterprise.html", status_code=status, code=code,
                  res=res, can_act=user.enterprise == code, form=form or {},
                  errs=errors or {}, err_case=err_case, **_labels())


@router.get("/enterprises/{code}/penalties", response_class=HTMLResponse)
def enterprise_cases(request: Request, code: str, user: Principal = Reader) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _enterprise_page(request, code, user)


def _answer(request: Request, code: str, user: Principal, case: str, form: dict[str, str],
            errors: forms.FieldErrors, run: Any, msg: str) -> RedirectResponse | HTMLResponse:
    cid = forms.whole(case, "case", errors, hi=2**53)
    status = 422
    if not errors and cid is not None:
        try:
            run(cid)
        except DomainError as exc:
            _field(exc, errors)
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/penalties#case-{cid}",
                             msg=_tr(request, msg))
    return _enterprise_page(request, code, user, status, form=form, errors=errors,
                            err_case=cid)


@router.post("/enterprises/{code}/penalties/statement", response_model=None)
def statement(request: Request, code: str, case: Annotated[str, Form()] = "",
              statement: Annotated[str, Form()] = "",
              user: Principal = Trader) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    errors = forms.FieldErrors()
    text = forms.text(statement, "statement", errors, max_len=P.SUMMARY_MAX)
    audit(request, "penalty_statement", case[:20], text[:200])
    return _answer(request, code, user, case, dict(case=case, statement=statement), errors,
                   lambda cid: cases.file_statement(
                       _p(request).uow(), case_id=cid, statement=text, enterprise=code,
                       actor=user.username),
                   "Statement and defence filed")


@router.post("/enterprises/{code}/penalties/hearing-request", response_model=None)
def hearing_request(request: Request, code: str, case: Annotated[str, Form()] = "",
                    reason: Annotated[str, Form()] = "",
                    user: Principal = Trader) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    errors = forms.FieldErrors()
    text = forms.text(reason, "reason", errors, max_len=P.REASON_MAX, required=False)
    audit(request, "penalty_hearing_request", case[:20], text[:200])
    return _answer(request, code, user, case, dict(case=case, reason=reason), errors,
                   lambda cid: cases.request_hearing(
                       _p(request).uow(), case_id=cid, enterprise=code, reason=text or None,
                       actor=user.username),
                   "Hearing requested")
