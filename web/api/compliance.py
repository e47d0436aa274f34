"""JSON API of compliance under /api/v1: outlets, execution reports (entered or imported from
CSV sent inside JSON), compliance status, the quarterly tax return draft, the statistics
export, the annual true-up (with the optional deduction from next year) and the lists of
true-ups and violations.

Access: a trader submits, imports and reads the reports of its own enterprise only (another
enterprise's permit or enterprise answers 404); the bureau does everything, including
outlets, true-ups and their lists, violations, tax return drafts and the statistics export.
Routes never commit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from compliance.errors import ImportRejected
from compliance.reporting import service as compliance
from identity.roles import Principal
from kernel.clock import system_clock, trading_day
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import Day, PathId
from web.auth import (
    csrf_protect,
    district_scope,
    ensure_enterprise_access,
    ensure_permit_access,
    require,
)

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["compliance"])

# reads: every bureau user; writes (outlets, true-ups): the approval department
Bureau = Depends(require("rights:confirm"))
Enterprise = Depends(require("enterprise:read"))
Year = Annotated[int, Field(ge=1990, le=2200)]
YearQ = Annotated[int, Query(ge=1990, le=2200)]
Period = Literal["Y", "Q1", "Q2", "Q3", "Q4"]


def _own(user: Principal) -> str | None:
    """The enterprise a caller is restricted to: None for the bureau."""
    return None if user.is_bureau else (user.enterprise or "")


class OutletIn(Strict):
    permit: str = Field(min_length=1, max_length=22)
    outlet: str = Field(min_length=1, max_length=20, examples=["DA001"])
    medium: Literal["air", "water"]


@router.post("/compliance/outlets", status_code=201, responses=WRITE)
def register_outlet(request: Request, body: OutletIn,
                    _user: Principal = Bureau) -> dict[str, str]:
    """Register a discharge outlet of a permit; reports may only name registered outlets."""
    ensure_permit_access(_user, body.permit)
    _audit(request, "register_outlet", body.permit, body.outlet)
    return compliance.register_outlet(_p(request).uow(), permit=body.permit,
                                      outlet=body.outlet, medium=body.medium)


class LineIn(Strict):
    outlet: str = Field(min_length=1, max_length=20)
    pollutant: str = Field(min_length=1, max_length=10)
    quantity: str = Field(min_length=1, max_length=30, examples=["1234", "1.234"],
                          description="a decimal number, as text (no float): a whole "
                                      "number of kg, at most 10^12 kg (10^9 t) per line")
    unit: Literal["kg", "t"] = "kg"


Count = Annotated[int | None, Field(ge=0, le=10**15)]
#: hours of a period (at most 366 × 24) and self-monitoring counts: 32-bit columns
Hours = Annotated[int | None, Field(ge=0, le=8784)]
Samples = Annotated[int | None, Field(ge=0, le=10**7)]


class ReportIn(Strict):
    """An execution report (HJ 944-2018): its lines and its structured fields. An annual
    report needs every field below (the commitment true and signed); a quarterly one
    `facility_abnormal_hours`, `monitoring_samples` and `monitoring_exceedances`."""

    permit: str = Field(min_length=1, max_length=22)
    year: Year
    period: Period = Field(description='"Y" (annual) or "Q1".."Q4"; the period must have '
                                       'ended')
    lines: list[LineIn] = Field(min_length=1, max_length=1000)
    operating_hours: Hours = Field(None, description="hours of production in the period")
    output: Count = Field(None, description="output of the main product, in output_unit")
    output_unit: Literal["t", "MWh", "m3"] | None = None
    capacity: Count = Field(None, description="design capacity for the period, in "
                                              "output_unit (production load = output ÷ "
                                              "capacity)")
    facility_normal_hours: Hours = Field(None, description="treatment facilities: hours "
                                                           "in normal operation")
    facility_abnormal_hours: Hours = Field(None, description="hours of abnormal operation")
    abnormal_reason: str | None = Field(None, max_length=500,
                                        description="required when abnormal hours > 0")
    monitoring_samples: Samples = Field(None, description="self-monitoring results in the "
                                                        "period")
    monitoring_exceedances: Samples = Field(None, description="of which above the limit")
    records_kept: bool | None = Field(None, description="environmental management records "
                                                        "(台账) kept as the permit requires")
    tax_paid_fen: Count = Field(None, description="environmental protection tax paid for "
                                                  "the period, fen")
    commitment: bool | None = Field(None, description="the legal representative's "
                                                      "commitment (承诺书) that the report "
                                                      "is true")
    commitment_by: str | None = Field(None, max_length=60,
                                      description="who signs the commitment")


@router.post("/compliance/reports", status_code=201, responses=WRITE)
def submit_report(request: Request, body: ReportIn,
                  user: Principal = Enterprise) -> dict[str, Any]:
    """Submit an execution report: actual emissions per outlet and pollutant, in kg or t
    (converted to whole kg exactly), and the structured fields of HJ 944-2018. Refused
    (422 naming the field): a period not ended, a missing required field, hours beyond the
    period. The due date follows the permit's management class and sector. Flags: late,
    above_permitted, change_over_50pct, output_above_capacity, monitoring_exceedances,
    facility_abnormal."""
    _audit(request, "submit_report", body.permit, f"{body.year} {body.period}")
    details = body.model_dump(exclude={"permit", "year", "period", "lines"},
                              exclude_none=True)
    return compliance.submit_report(
        _p(request).uow(), permit=body.permit, year=body.year, period=body.period,
        lines=[ln.model_dump() for ln in body.lines], details=details,
        actor=user.username, enterprise=_own(user))


@router.get("/compliance/reports/missing", responses=READ)
def missing_reports(request: Request, on: Day | None = None, since: YearQ | None = None,
                    enterprise: Annotated[str | None, Query(max_length=18)] = None,
                    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    _user: Principal = Bureau) -> dict[str, Any]:
    """Execution reports past their due date on `on` (default: today, Beijing time) and not
    filed, by due date: what each permit owes follows its management class and sector
    (Regulation Art. 37 when a report stays missing). Paginated."""
    day = on or trading_day(system_clock())
    return compliance.missing_report_list(_p(request).uow(), on=day, since=since,
                                          enterprise=enterprise, offset=offset, limit=limit,
                                          district=district_scope(request))


class ImportIn(Strict):
    csv: str = Field(min_length=1, max_length=5_000_000,
                     description="CSV text; header permit,year,period,outlet,pollutant,"
                                 "quantity,unit and the report-level columns (the fields of "
                                 "POST /compliance/reports, once per report)")
    partial: bool = Field(False, description="store the valid rows even if others are not")


@router.post("/compliance/reports/import", status_code=201, responses=WRITE)
def import_reports(request: Request, body: ImportIn,
                   user: Principal = Enterprise) -> Any:
    """Import execution reports from CSV. Invalid rows are listed with their line number
    (`errors`); without `partial` nothing is stored when any row is invalid (422)."""
    _audit(request, "import_reports", None, f"partial={body.partial}")
    try:
        return compliance.import_reports(_p(request).uow(), csv_text=body.csv,
                                         partial=body.partial, actor=user.username,
                                         enterprise=_own(user))
    except ImportRejected as exc:
        return JSONResponse({"error": exc.code, "detail": exc.message,
                             "errors": exc.details.get("errors", [])}, status_code=422)


@router.get("/compliance/enterprises/{code}/reports", responses=READ)
def reports(request: Request, code: PathId, year: YearQ | None = None,
            user: Principal = Enterprise) -> dict[str, Any]:
    ensure_enterprise_access(user, code)
    return compliance.reports_of(_p(request).uow(), enterprise=code, year=year)


@router.get("/compliance/enterprises/{code}/status", responses=READ)
def status(request: Request, code: PathId, year: YearQ | None = None,
           user: Principal = Enterprise) -> dict[str, Any]:
    """Compliance status for a year (default: last year): per permit compliant, violation
    or pending, with open violations and late reports."""
    ensure_enterprise_access(user, code)
    return compliance.compliance_status(_p(request).uow(), enterprise=code, year=year)


@router.get("/compliance/enterprises/{code}/tax-return", responses=READ)
def tax_return(request: Request, code: PathId, year: YearQ,
               quarter: Annotated[int, Query(ge=1, le=4)],
               _user: Principal = Bureau) -> dict[str, Any]:
    """The quarterly environmental protection tax return draft, in fen, from the execution
    reports (compliance.reporting.tax_service.tax_return): quarterly totals, each outlet's recorded
    source kind (else assumed "process", noted), no reduction claimed without concentrations
    (noted). Monthly returns with reductions: POST /compliance/tax-return."""
    ensure_enterprise_access(_user, code)
    return compliance.tax_return(_p(request).uow(), enterprise=code, year=year,
                                 quarter=quarter)


@router.get("/compliance/statistics.csv", responses={
    **READ, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def statistics(request: Request, year: YearQ, period: Period = "Y",
               _user: Principal = Bureau) -> Response:
    """Environmental statistics export: the execution-report figures, in kg."""
    text = compliance.statistics_export(_p(request).uow(), year=year, period=period)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="statistics-{year}-{period}.csv"'})


class TrueUpIn(Strict):
    permit: str = Field(min_length=1, max_length=22)
    year: Year
    deduct_next_year: bool = Field(
        False, description="surrender the exceedance from next year's confirmed rights, up "
                           "to what they hold, lowering next year's permitted quantity (the "
                           "violation is recorded either way)")
    override_reason: str | None = Field(
        None, max_length=500,
        description="required to run before the year and its annual report's deadline "
                    "have passed (409 `true_up_too_early` without it); recorded")


@router.post("/compliance/true-ups", status_code=201, responses=WRITE)
def true_up(request: Request, body: TrueUpIn, user: Principal = Bureau) -> dict[str, Any]:
    """Judge the year's actual emissions against the permit's permitted quantity for the
    year (after every trade, release, recovery and deduction), whether or not its rights are
    confirmed: emissions above it are an exceedance, a violation (Regulation Art. 34),
    whatever rights of other vintages the enterprise holds. The year's confirmed rights are
    surrendered up to the emissions; the permit keeps showing the limit that applied.
    Banking counts only where the bureau's policy allows it, once written into the year's
    permitted quantity (never above its cap). With `deduct_next_year` the exceedance is
    surrendered from next year's vintage. Runs once per permit and year (409
    `true_up_already_run`), after the year and its report deadline (409
    `true_up_too_early`, unless `override_reason` is given)."""
    ensure_permit_access(user, body.permit)
    _audit(request, "true_up", body.permit,
           f"{body.year} deduct_next_year={body.deduct_next_year}"
           + (f" override={body.override_reason}" if body.override_reason else ""))
    return compliance.true_up(_p(request).uow(), permit=body.permit, year=body.year,
                              actor=user.username, deduct_next_year=body.deduct_next_year,
                              override_reason=body.override_reason)


Offset = Annotated[int, Query(ge=0, le=10**7)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/compliance/true-ups", responses=READ)
def true_ups(request: Request, year: YearQ,
             status: Literal["pending", "compliant", "violation"] | None = None,
             offset: Offset = 0, limit: Limit = 50,
             _user: Principal = Bureau) -> dict[str, Any]:
    """Every permit valid in the year with its true-up status ("pending" until it runs),
    whether its annual report is in, and each run's lines with the vintages surrendered and
    the deduction (paginated)."""
    return compliance.true_up_list(_p(request).uow(), year=year, status=status,
                                   offset=offset, limit=limit,
                                   district=district_scope(request))


@router.get("/compliance/violations", responses=READ)
def violations(request: Request, year: YearQ | None = None, offset: Offset = 0,
               limit: Limit = 50, _user: Principal = Bureau) -> dict[str, Any]:
    """Violation records, newest first: shortfall, deducted and outstanding kg and the
    Regulation Art. 34 penalty range in fen (paginated)."""
    return compliance.violation_list(_p(request).uow(), year=year, offset=offset,
                                     limit=limit, district=district_scope(request))
