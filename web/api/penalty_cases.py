"""JSON API of the administrative penalty procedure under /api/v1/penalties/cases: the
bureau's advance notice, hearing record, decision, service and payment; the enterprise's
statement and defence and hearing request. Included by web/api/disclosure.py.

A requested hearing is notified (day and place) at least 7 working days before it, else 422
penalty_hearing_notice_too_short; a fine unpaid after its 15 days shows the late-payment
surcharge accrued (3 % a day, at most the fine), and the payment records it.

Access: the bureau's steps need "penalty:decide" (the enforcement department; a district
officer only in its district); the enterprise's steps its own trader ("order:place"); reads
the bureau or the enterprise's own users. Wrong order → 409 penalty_step_refused; a period
over → 409 penalty_period_over; a decision before the periods end → 409
penalty_period_open; heavier than the notice → 422 penalty_heavier_than_notice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field

from compliance.enforcement import disclosure_service as disclosure
from compliance.enforcement import penalty_case_service as cases
from identity.roles import Principal
from web.api.common import WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import errors as _err
from web.api.common import platform as _p
from web.api.models import Day
from web.auth import csrf_protect, district_scope, ensure_enterprise_access, require

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["penalty procedure"])
Bureau = Depends(require("penalty:decide"))
Reader = Depends(require("enterprise:read"))
Enterprise = Depends(require("order:place"))
CaseId = Annotated[int, Path(ge=1, le=2**53)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
MAX_FEN = 10**15
Status = Literal["noticed", "hearing_requested", "heard", "decided", "served", "paid"]
Step = Literal["statement", "hearing_request", "hearing_notice", "hearing", "decision",
               "service", "payment"]


class CaseEventOut(BaseModel):
    kind: Literal["notice", "statement", "hearing_request", "hearing_notice", "hearing",
                  "decision", "service", "payment"]
    on: str = Field(description="the day the step took effect (Beijing date)")
    at: str = Field(description="when it was recorded (RFC 3339, UTC)")
    actor: str
    detail: str | None


class CaseOut(BaseModel):
    id: int
    violation: int
    enterprise: str
    enterprise_name: str | None
    permit: str
    status: Status
    periods_version: str
    notice_number: str
    noticed_on: str
    facts: str
    legal_basis: str
    proposed_fen: int
    hearing_right: bool
    statement_due: str = Field(description="last day for a statement (Beijing date)")
    hearing_due: str | None = Field(description="last day for a hearing request")
    statement: str | None
    statement_on: str | None
    hearing_requested_on: str | None
    hearing_fixed_on: str | None = Field(description="the day the hearing is fixed for")
    hearing_place: str | None
    hearing_notified_on: str | None = Field(description="the day the enterprise was notified")
    hearing_earliest: str | None = Field(
        description="the first day the notified hearing may be held (7 working days later)")
    hearing_on: str | None
    hearing_record: str | None
    decision_number: str | None
    amount_fen: int | None
    decided_on: str | None
    decision_basis: str | None
    summary: str | None
    service_due: str | None
    served_on: str | None
    service_method: str | None
    payment_due: str | None
    paid_on: str | None
    paid_fen: int | None
    paid_surcharge_fen: int | None = Field(description="late-payment surcharge paid, fen")
    payment_overdue: bool
    days_late: int = Field(description="days after the payment's last day (to today, or to "
                                       "the payment)")
    surcharge_fen: int = Field(description="late-payment surcharge (Administrative Penalty "
                                           "Law Art. 72(1)): accrued by today while unpaid, "
                                           "the one paid once paid; fen")
    amount_due_fen: int = Field(description="fine plus surcharge due today (0 unless served "
                                            "and unpaid)")
    decision_withdrawn: bool = Field(description="the served decision was withdrawn later")
    published: bool = Field(description="the decision is public (served)")
    enterprise_can: list[Step]
    bureau_can: list[Step]
    opened_by: str
    opened_at: str
    updated: str
    events: list[CaseEventOut]


class CasePage(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None
    items: list[CaseOut]


def _own(user: Principal) -> str | None:
    return None if user.is_bureau else (user.enterprise or "")


def _bureau_case(request: Request, user: Principal, case_id: int) -> None:
    """A district officer acts on its district's cases only (404 like a missing one)."""
    if user.district is not None:
        cases.get_case(_p(request).uow(), case_id=case_id, district=user.district)


@router.get("/penalties/cases", response_model=CasePage, responses=_err(401, 403, 422))
def list_cases(request: Request, status: Status | None = None,
               enterprise: Annotated[str | None, Query(max_length=18)] = None,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               user: Principal = Reader) -> dict[str, Any]:
    """Penalty cases, newest first: the bureau's (a district officer's district), or the
    caller's own enterprise's."""
    own = _own(user)
    if own is not None:
        enterprise = own
    elif enterprise:
        ensure_enterprise_access(user, enterprise)
    return cases.cases(_p(request).uow(), enterprise=enterprise or None, status=status,
                       district=district_scope(request), offset=offset, limit=limit)


@router.get("/penalties/cases/{case_id}", response_model=CaseOut,
            responses=_err(401, 403, 404))
def get_case(request: Request, case_id: CaseId, user: Principal = Reader) -> dict[str, Any]:
    return cases.get_case(_p(request).uow(), case_id=case_id, enterprise=_own(user),
                          district=district_scope(request))


class NoticeIn(Strict):
    violation: int = Field(ge=1, le=2**53)
    number: str = Field(min_length=1, max_length=60, examples=["渝环罚告〔2026〕12号"])
    proposed_fen: int = Field(ge=0, le=MAX_FEN, description="inside the violation's range")
    noticed_on: Day | None = Field(None, description="default: today (Beijing)")
    facts: str | None = Field(None, max_length=2000, description="default: the violation's")
    legal_basis: str | None = Field(None, max_length=200,
                                    description="default: the kind's article, in Chinese")


@router.post("/penalties/cases", status_code=201, response_model=CaseOut, responses=WRITE)
def notice(request: Request, body: NoticeIn, idempotency_key: IdemKey = None,
           user: Principal = Bureau) -> dict[str, Any]:
    """Advance notice (事先告知) on an open violation: starts the enterprise's periods
    (statement 3 working days; hearing 5 working days where the fine gives the right)."""
    if user.district is not None:
        v = disclosure.get_violation(_p(request).uow(), violation_id=body.violation)
        ensure_enterprise_access(user, str(v["enterprise"]))
    _audit(request, "penalty_notice", body.number, f"violation {body.violation}: "
                                                   f"{body.proposed_fen} fen")
    return cases.issue_notice(
        _p(request).uow(), violation_id=body.violation, number=body.number,
        proposed_fen=body.proposed_fen, noticed_on=body.noticed_on, facts=body.facts,
        legal_basis=body.legal_basis, actor=user.username)


class StatementIn(Strict):
    statement: str = Field(min_length=1, max_length=2000)


@router.post("/penalties/cases/{case_id}/statement", status_code=201, response_model=CaseOut,
             responses=WRITE)
def statement(request: Request, case_id: CaseId, body: StatementIn,
              idempotency_key: IdemKey = None, user: Principal = Enterprise) -> dict[str, Any]:
    """The enterprise's statement and defence (陈述申辩), once, within its period."""
    _audit(request, "penalty_statement", str(case_id), body.statement[:200])
    return cases.file_statement(_p(request).uow(), case_id=case_id, statement=body.statement,
                                enterprise=user.enterprise or "", actor=user.username)


class HearingRequestIn(Strict):
    reason: str | None = Field(None, max_length=500)


@router.post("/penalties/cases/{case_id}/hearing-request", status_code=201,
             response_model=CaseOut, responses=WRITE)
def hearing_request(request: Request, case_id: CaseId, body: HearingRequestIn,
                    idempotency_key: IdemKey = None,
                    user: Principal = Enterprise) -> dict[str, Any]:
    """The enterprise asks for a hearing (听证), within 5 working days of the notice."""
    _audit(request, "penalty_hearing_request", str(case_id), (body.reason or "")[:200])
    return cases.request_hearing(_p(request).uow(), case_id=case_id,
                                 enterprise=user.enterprise or "", reason=body.reason,
                                 actor=user.username)


class HearingNoticeIn(Strict):
    hearing_on: Day = Field(description="the hearing's day: at least 7 working days after "
                                        "the notice")
    place: str = Field(min_length=1, max_length=200)
    notified_on: Day | None = Field(None, description="default: today (Beijing)")


@router.post("/penalties/cases/{case_id}/hearing-notice", status_code=201,
             response_model=CaseOut, responses=WRITE)
def hearing_notice(request: Request, case_id: CaseId, body: HearingNoticeIn,
                   idempotency_key: IdemKey = None,
                   user: Principal = Bureau) -> dict[str, Any]:
    """Fix the requested hearing's day and place and notify the enterprise (听证通知, Art.
    64(2)); a later notice moves the hearing."""
    _bureau_case(request, user, case_id)
    _audit(request, "penalty_hearing_notice", str(case_id),
           f"{body.hearing_on.isoformat()} {body.place[:100]}")
    return cases.notify_hearing(_p(request).uow(), case_id=case_id,
                                hearing_on=body.hearing_on, place=body.place,
                                notified_on=body.notified_on, actor=user.username)


class HearingIn(Strict):
    held_on: Day
    record: str = Field(min_length=1, max_length=2000)


@router.post("/penalties/cases/{case_id}/hearing", status_code=201, response_model=CaseOut,
             responses=WRITE)
def hearing(request: Request, case_id: CaseId, body: HearingIn,
            idempotency_key: IdemKey = None, user: Principal = Bureau) -> dict[str, Any]:
    """Record the hearing held (date and record)."""
    _bureau_case(request, user, case_id)
    _audit(request, "penalty_hearing", str(case_id), body.held_on.isoformat())
    return cases.record_hearing(_p(request).uow(), case_id=case_id, held_on=body.held_on,
                                record=body.record, actor=user.username)


class CaseDecisionIn(Strict):
    number: str = Field(min_length=1, max_length=60, examples=["渝环罚〔2026〕12号"])
    amount_fen: int = Field(ge=0, le=MAX_FEN,
                            description="inside the range and at most the notice's proposal")
    decided_on: Day | None = None
    legal_basis: str | None = Field(None, max_length=200,
                                    description="default: the notice's (Chinese)")
    summary: str = Field(min_length=1, max_length=2000)


@router.post("/penalties/cases/{case_id}/decision", status_code=201, response_model=CaseOut,
             responses=WRITE)
def decision(request: Request, case_id: CaseId, body: CaseDecisionIn,
             idempotency_key: IdemKey = None, user: Principal = Bureau) -> dict[str, Any]:
    """The decision (决定书): not public until served."""
    _bureau_case(request, user, case_id)
    _audit(request, "penalty_case_decision", body.number, f"case {case_id}: "
                                                          f"{body.amount_fen} fen")
    return cases.decide_case(_p(request).uow(), case_id=case_id, number=body.number,
                             amount_fen=body.amount_fen, decided_on=body.decided_on,
                             legal_basis=body.legal_basis, summary=body.summary,
                             actor=user.username)


class ServiceIn(Strict):
    method: Literal["direct", "post", "electronic", "left_at_premises", "announcement"]
    served_on: Day | None = None


@router.post("/penalties/cases/{case_id}/service", status_code=201, response_model=CaseOut,
             responses=WRITE)
def service(request: Request, case_id: CaseId, body: ServiceIn,
            idempotency_key: IdemKey = None, user: Principal = Bureau) -> dict[str, Any]:
    """Service (送达) of the decision: dated, with its method; the decision is published."""
    _bureau_case(request, user, case_id)
    _audit(request, "penalty_service", str(case_id), body.method)
    return cases.serve_decision(_p(request).uow(), case_id=case_id, method=body.method,
                                served_on=body.served_on, actor=user.username)


class PaymentIn(Strict):
    paid_on: Day | None = None
    surcharge_fen: int | None = Field(
        None, ge=0, le=MAX_FEN, description="late-payment surcharge paid; default: the one "
                                            "accrued by paid_on, and never more")


@router.post("/penalties/cases/{case_id}/payment", status_code=201, response_model=CaseOut,
             responses=WRITE)
def payment(request: Request, case_id: CaseId, body: PaymentIn,
            idempotency_key: IdemKey = None, user: Principal = Bureau) -> dict[str, Any]:
    """Record the fine paid in full (dated) with the late-payment surcharge paid."""
    _bureau_case(request, user, case_id)
    _audit(request, "penalty_payment", str(case_id),
           f"{body.paid_on or ''} surcharge {body.surcharge_fen}")
    return cases.record_payment(_p(request).uow(), case_id=case_id, paid_on=body.paid_on,
                                surcharge_fen=body.surcharge_fen, actor=user.username)
