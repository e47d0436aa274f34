"""JSON API of disclosure under /api/v1: the public feed (permits, trades, compliance status,
penalty decisions: no credentials needed), the bureau's penalty decisions (decide, correct,
withdraw; violations awaiting a decision) and the Excel import of execution reports.

Access: the feed is public; penalty decisions are the bureau's; the Excel import is the CSV
import's (the bureau, or a trader for its own enterprise's permits). Routes never commit.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from compliance.alerting import clue_service
from compliance.enforcement import disclosure_service as disclosure
from compliance.errors import BadWorkbook, ImportRejected
from compliance.reporting import service as compliance
from compliance.reporting.workbook import xlsx_to_csv
from identity.roles import Principal
from web.api.common import WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import errors as _err
from web.api.common import platform as _p
from web.api.models import Day, ErrorBody
from web.auth import (
    city_bureau,
    csrf_protect,
    current_user,
    district_scope,
    ensure_enterprise_access,
    ensure_permit_access,
    require,
)

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["disclosure"])

# reads: every bureau user; writes: penalty decisions by the enforcement department,
# violations opened and handed over by monitoring or enforcement (identity.roles)
Bureau = Depends(require("penalty:decide"))
Violations = Depends(require("violation:open"))
Public = Depends(current_user)


def _in_scope(request: Request, user: Principal, violation_id: int) -> None:
    """A district officer acts on its district's violations only (404 like a missing one)."""
    if user.is_bureau and user.district is not None:
        v = disclosure.get_violation(_p(request).uow(), violation_id=violation_id)
        ensure_enterprise_access(user, str(v["enterprise"]))
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]
Search = Annotated[str | None, Query(max_length=100, description="enterprise name or code")]
YearQ = Annotated[int | None, Query(ge=1990, le=2200,
                                    description="default: last calendar year")]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                       description="repeat-safe POST: same key, same result")]
MAX_FEN = 10**15


PUBLIC = _err(401, 422)  # 401 only for a bad bearer token sent anyway


class Page(BaseModel):
    total: int
    offset: int
    limit: int
    next_offset: int | None = Field(description="offset of the next page, null on the last")
    updated: str | None = Field(description="latest change among the items (RFC 3339, UTC)")


# public feed -----------------------------------------------------------------------------------

class PublicQuantity(BaseModel):
    pollutant: str
    year: int
    zone: str
    cap_kg: int
    binding: str
    permitted_kg: int
    confirmed: bool


class PublicPermit(BaseModel):
    code: str
    enterprise: str
    enterprise_name: str
    sector: str
    district: str
    valid_from: str
    valid_to: str
    status: str
    quantities: list[PublicQuantity]
    updated: str | None


class PermitFeed(Page):
    items: list[PublicPermit]


class PublicTrade(BaseModel):
    id: int
    market: str = Field(description="pollutant/zone/vintage")
    qty_kg: int
    price_fen_per_t: int
    value_fen: int
    venue: str = Field(description="book | listing | negotiated | auction")
    at: str | None
    updated: str | None


class TradeFeed(Page):
    items: list[PublicTrade]


class PermitStatus(BaseModel):
    permit: str
    status: Literal["compliant", "violation", "pending"]


class PublicCompliance(BaseModel):
    credit_code: str
    name: str
    year: int
    status: Literal["compliant", "violation", "pending"]
    permits: list[PermitStatus]
    violations: int
    penalty_decisions: int = Field(description="published decisions for the year")
    updated: str | None


class ComplianceFeed(Page):
    year: int
    items: list[PublicCompliance]


class HistoryOut(BaseModel):
    kind: Literal["decided", "corrected", "withdrawn"]
    at: str | None
    reason: str | None


class DecisionOut(BaseModel):
    number: str
    violation: int
    enterprise: str
    enterprise_name: str | None
    permit: str
    year: int
    pollutant: str
    amount_fen: int | None = Field(description="null once withdrawn")
    decided_on: str
    legal_basis: str
    summary: str | None = Field(description="null once withdrawn")
    status: Literal["published", "withdrawn"]
    published_at: str | None
    updated: str | None
    withdrawn_reason: str | None
    history: list[HistoryOut]


class DecisionFeed(Page):
    items: list[DecisionOut]


@router.get("/public/permits", response_model=PermitFeed, responses=PUBLIC)
def feed_permits(request: Request, enterprise: Annotated[str | None, Query(max_length=18)]
                 = None, offset: Offset = 0, limit: Limit = 50,
                 _user: Principal | None = Public) -> dict[str, Any]:
    """Permits, their holders and, per pollutant and year, the cap, the binding basis and
    the permitted quantity (kg)."""
    return disclosure.public_permits(_p(request).uow(), enterprise=enterprise or None,
                                     offset=offset, limit=limit)


@router.get("/public/trades", response_model=TradeFeed, responses=PUBLIC)
def feed_trades(request: Request, market: Annotated[str | None, Query(max_length=40)] = None,
                offset: Offset = 0, limit: Limit = 50,
                _user: Principal | None = Public) -> dict[str, Any]:
    """Trades, newest first: market, quantity, price, value, venue and time (no parties)."""
    return disclosure.public_trades(_p(request).uow(), market=market or None, offset=offset,
                                    limit=limit)


@router.get("/public/compliance", response_model=ComplianceFeed, responses=PUBLIC)
def feed_compliance(request: Request, year: YearQ = None, q: Search = None,
                    offset: Offset = 0, limit: Limit = 50,
                    _user: Principal | None = Public) -> dict[str, Any]:
    """Compliance status per enterprise for a year: compliant, violation or pending."""
    return disclosure.public_compliance(_p(request).uow(), year=year, q=q or None,
                                        offset=offset, limit=limit)


@router.get("/public/penalties", response_model=DecisionFeed, responses=PUBLIC)
def feed_penalties(request: Request, q: Search = None, offset: Offset = 0, limit: Limit = 50,
                   _user: Principal | None = Public) -> dict[str, Any]:
    """Penalty decisions, newest first. A withdrawn decision keeps its number and the reason
    of the withdrawal; its amount and summary are withdrawn."""
    return disclosure.penalty_decisions(_p(request).uow(), q=q or None, offset=offset,
                                        limit=limit)


# bureau: penalty decisions -----------------------------------------------------------------

class ViolationOut(BaseModel):
    id: int
    enterprise: str
    enterprise_name: str | None
    permit: str
    year: int
    pollutant: str | None
    shortfall_kg: int
    penalty_min_fen: int = Field(description="the kind's statutory minimum × instances")
    penalty_max_fen: int
    basis: str
    status: Literal["open", "decided", "transferred"]
    at: str | None
    updated: str | None = None
    kind: str
    kind_zh: str
    kind_en: str
    article: str = Field(description='article and item, e.g. "34(1)"')
    legal_basis: str = Field(description="Chinese legal basis, as a decision writes it")
    per_instance: bool
    verify: bool = Field(description="the range could not be confirmed against the text")
    instances: int
    occurred_on: str | None
    facts: str | None
    opened_by: str | None
    clue: int | None
    transferred_to: str | None
    transferred_on: str | None
    transferred_by: str | None
    result: str | None
    result_on: str | None
    result_by: str | None


class ViolationPage(Page):
    items: list[ViolationOut]


class KindOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    article: int
    item: int | None
    article_ref: str
    min_fen: int
    max_fen: int
    per_instance: bool
    basis_zh: str
    source: str
    verify: bool
    version: str


KindQ = Annotated[str | None, Query(max_length=40, description="violation kind code")]


@router.get("/penalties/violation-kinds", response_model=list[KindOut],
            responses=_err(401, 403))
def violation_kinds(_user: Principal = Bureau) -> list[dict[str, object]]:
    """The table of violation kinds: article and item of the Regulation on Pollutant
    Discharge Permits, statutory range in fen, per-instance flag, Chinese legal basis."""
    return disclosure.violation_kinds()


@router.get("/penalties/violations", response_model=ViolationPage,
            responses=_err(401, 403, 422))
def pending(request: Request,
            status: Literal["open", "decided", "transferred", "all"] = "open",
            kind: KindQ = None,
            offset: Offset = 0, limit: Limit = 50, _user: Principal = Bureau) -> dict[str, Any]:
    """Violations; by default those awaiting a penalty decision. `kind` filters by kind
    (422 unknown_violation_kind)."""
    return disclosure.violations(_p(request).uow(), status=None if status == "all" else status,
                                 kind=kind or None, offset=offset, limit=limit,
                                 district=district_scope(request))


class OpenViolationIn(Strict):
    permit: str = Field(min_length=1, max_length=22)
    kind: str = Field(min_length=1, max_length=40, examples=["monitoring_failure"])
    occurred_on: Day
    facts: str = Field(min_length=1, max_length=2000)
    pollutant: str | None = Field(None, max_length=10)
    instances: int = Field(1, ge=1, le=1000,
                           description="Art. 37 kinds fine per instance; 1 for the others")
    exceedance_kg: int = Field(0, ge=0, le=10**15)


@router.post("/penalties/violations", status_code=201, response_model=ViolationOut,
             responses=WRITE)
def open_violation(request: Request, body: OpenViolationIn, idempotency_key: IdemKey = None,
                   user: Principal = Violations) -> dict[str, Any]:
    """Open a violation of a kind by hand (an inspection's findings): its range is the
    kind's statutory range (× instances for per-instance kinds)."""
    ensure_permit_access(user, body.permit)
    _audit(request, "open_violation", body.permit, f"{body.kind} {body.occurred_on}")
    return disclosure.open_violation(
        _p(request).uow(), permit=body.permit, kind=body.kind, occurred_on=body.occurred_on,
        facts=body.facts, pollutant=body.pollutant, instances=body.instances,
        exceedance_kg=body.exceedance_kg, actor=user.username)


class TransferIn(Strict):
    department: str = Field(min_length=1, max_length=100,
                            examples=["重庆市生态环境保护综合行政执法总队"])
    transferred_on: Day


@router.post("/penalties/violations/{violation_id}/transfer", status_code=201,
             response_model=ViolationOut, responses=WRITE)
def transfer(request: Request, violation_id: Annotated[int, Path(ge=1, le=2**53)],
             body: TransferIn, idempotency_key: IdemKey = None,
             user: Principal = Violations) -> dict[str, Any]:
    """Hand an open violation to enforcement (409 violation_step_refused otherwise)."""
    _in_scope(request, user, violation_id)
    _audit(request, "transfer_violation", str(violation_id), body.department[:100])
    return disclosure.transfer_violation(
        _p(request).uow(), violation_id=violation_id, department=body.department,
        transferred_on=body.transferred_on, actor=user.username)


class ResultIn(Strict):
    result: str = Field(min_length=1, max_length=2000)
    result_on: Day


@router.post("/penalties/violations/{violation_id}/result", status_code=201,
             response_model=ViolationOut, responses=WRITE)
def result(request: Request, violation_id: Annotated[int, Path(ge=1, le=2**53)],
           body: ResultIn, idempotency_key: IdemKey = None,
           user: Principal = Bureau) -> dict[str, Any]:
    """Record the enforcement result of a transferred violation (once)."""
    _in_scope(request, user, violation_id)
    _audit(request, "violation_result", str(violation_id), body.result[:200])
    return disclosure.record_result(_p(request).uow(), violation_id=violation_id,
                                    result=body.result, result_on=body.result_on,
                                    actor=user.username)


class ConfirmClueIn(Strict):
    clue: int = Field(ge=1, le=2**53)
    kind: str | None = Field(None, min_length=1, max_length=40,
                             description="default: the clue kind's violation kind")
    facts: str | None = Field(None, max_length=2000)
    occurred_on: Day | None = None
    instances: int = Field(1, ge=1, le=1000)


@router.post("/penalties/violations/from-clue", status_code=201, response_model=ViolationOut,
             responses=WRITE)
def confirm_clue(request: Request, body: ConfirmClueIn, idempotency_key: IdemKey = None,
                 user: Principal = Violations) -> dict[str, Any]:
    """Confirm a problem clue as a violation: screening exceedance → concentration
    exceedance (Art. 34), monitoring gap or flat line → monitoring failure (Art. 36), alert
    breach → special-period breach (Art. 35), missing report → report missing (Art. 37).
    A clue is confirmed once (409 clue_already_confirmed)."""
    _audit(request, "confirm_clue", str(body.clue), body.kind or "")
    if user.is_bureau and user.district is not None:  # another district's: as missing
        clue_service.get_clue(_p(request).uow(), clue_id=body.clue, district=user.district)
    return clue_service.confirm_violation(
        _p(request).uow(), clue_id=body.clue, kind=body.kind, facts=body.facts,
        occurred_on=body.occurred_on, instances=body.instances, actor=user.username)


class MissingReportsIn(Strict):
    year: int = Field(ge=2000, le=2200)
    period: Literal["Y", "Q1", "Q2", "Q3", "Q4"] = "Y"


class MissingReportsOut(BaseModel):
    year: int
    period: str
    missing: int
    clues: list[int]


@router.post("/penalties/missing-reports",
             dependencies=[Depends(city_bureau)], status_code=201, response_model=MissingReportsOut,
             responses=WRITE)
def missing_reports(request: Request, body: MissingReportsIn, idempotency_key: IdemKey = None,
                    user: Principal = Violations) -> dict[str, Any]:
    """Open a report_missing problem clue for every permit whose execution report for the
    period is past its due date and not filed (re-running opens nothing new)."""
    _audit(request, "missing_reports", None, f"{body.year} {body.period}")
    return clue_service.find_missing_reports(_p(request).uow(), year=body.year,
                                             period=body.period, actor=user.username)


class DecideIn(Strict):
    violation: int = Field(ge=1, le=2**53)
    number: str = Field(min_length=1, max_length=60, examples=["渝环罚〔2026〕12号"])
    amount_fen: int = Field(ge=0, le=MAX_FEN,
                            description="within the violation's range (its kind's article, "
                                        "e.g. Art. 34: 200 000-1 000 000 yuan; Art. 37: "
                                        "5 000-20 000 yuan per instance), else 422 "
                                        "penalty_out_of_range")
    decided_on: Day
    legal_basis: str | None = Field(None, max_length=200,
                                    description="default: the kind's article, in Chinese")
    summary: str = Field(min_length=1, max_length=2000)


@router.post("/penalties", status_code=201, response_model=DecisionOut, responses=WRITE)
def decide(request: Request, body: DecideIn, idempotency_key: IdemKey = None,
           user: Principal = Bureau) -> dict[str, Any]:
    """Decide a violation: the decision is published at once; its number is unique (409
    duplicate_decision_number); the violation becomes "decided"."""
    _in_scope(request, user, body.violation)
    _audit(request, "decide_penalty", body.number, f"violation {body.violation}: "
                                                   f"{body.amount_fen} fen")
    return disclosure.decide_penalty(
        _p(request).uow(), violation_id=body.violation, number=body.number,
        amount_fen=body.amount_fen, decided_on=body.decided_on, legal_basis=body.legal_basis,
        summary=body.summary, actor=user.username)


class CorrectIn(Strict):
    number: str = Field(min_length=1, max_length=60)
    amount_fen: int | None = Field(None, ge=0, le=MAX_FEN)
    legal_basis: str | None = Field(None, min_length=1, max_length=200)
    summary: str | None = Field(None, min_length=1, max_length=2000)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/penalties/corrections", status_code=201, response_model=DecisionOut,
             responses=WRITE)
def correct(request: Request, body: CorrectIn, idempotency_key: IdemKey = None,
            user: Principal = Bureau) -> dict[str, Any]:
    """Correct a published decision (amount, legal basis, summary): recorded as an event
    with its reason; nothing is deleted."""
    _audit(request, "correct_penalty", body.number, body.reason[:200])
    return disclosure.correct_penalty(
        _p(request).uow(), number=body.number, amount_fen=body.amount_fen,
        legal_basis=body.legal_basis, summary=body.summary, reason=body.reason,
        actor=user.username)


class WithdrawIn(Strict):
    number: str = Field(min_length=1, max_length=60)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/penalties/withdrawals", status_code=201, response_model=DecisionOut,
             responses=WRITE)
def withdraw(request: Request, body: WithdrawIn, idempotency_key: IdemKey = None,
             user: Principal = Bureau) -> dict[str, Any]:
    """Withdraw a decision (final): the reason is published, the violation reopens."""
    _audit(request, "withdraw_penalty", body.number, body.reason[:200])
    return disclosure.withdraw_penalty(_p(request).uow(), number=body.number,
                                       reason=body.reason, actor=user.username)


# Excel import of execution reports ---------------------------------------------------------

class RowErrorOut(BaseModel):
    line: int
    field: str | None
    detail: str


class ImportOut(BaseModel):
    stored_reports: int
    stored_lines: int
    errors: list[RowErrorOut]
    reports: list[dict[str, Any]]


class ImportErrorBody(ErrorBody):
    errors: list[RowErrorOut] = Field(default_factory=list,
                                      description="invalid rows with their line numbers")


class XlsxIn(Strict):
    xlsx_base64: str = Field(min_length=1, max_length=8_000_000,
                             description="the .xlsx file, base64; its first sheet has the "
                                         "CSV import's header row")
    partial: bool = Field(False, description="store the valid rows even if others are not")


@router.post("/compliance/reports/import-xlsx", status_code=201, response_model=ImportOut,
             responses={**WRITE, 422: {"model": ImportErrorBody}})
def import_xlsx(request: Request, body: XlsxIn, idempotency_key: IdemKey = None,
                user: Principal = Depends(require("enterprise:read"))) -> Any:
    """Import execution reports from an Excel workbook: its first sheet is read as the CSV
    import reads a file (row n is line n). Invalid rows are listed with their line number;
    without `partial` nothing is stored when any row is invalid (422)."""
    _audit(request, "import_reports", None, f"xlsx partial={body.partial}")
    try:
        data = base64.b64decode(body.xlsx_base64, validate=True)
    except (binascii.Error, ValueError):
        raise BadWorkbook("xlsx_base64 is not valid base64", field="xlsx_base64") from None
    text = xlsx_to_csv(data)
    try:
        return compliance.import_reports(
            _p(request).uow(), csv_text=text, partial=body.partial, actor=user.username,
            enterprise=None if user.is_bureau else (user.enterprise or ""))
    except ImportRejected as exc:
        return JSONResponse({"error": exc.code, "detail": exc.message,
                             "errors": exc.details.get("errors", [])}, status_code=422)


# the administrative penalty procedure (notice → statement/hearing → decision → service →
# payment): its routes live in their own module, mounted with these
from web.api import penalty_cases as _penalty_cases  # noqa: E402

router.include_router(_penalty_cases.router)
