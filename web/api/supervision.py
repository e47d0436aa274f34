"""JSON API of supervision under /api/v1: monitoring imports (hourly CSV sent inside JSON),
the daily emissions and totals computed from them, and checks of execution reports against
the monitored emissions.

Access: the bureau imports for every permit, reads everything and runs report checks; a
trader imports the online-monitoring data of its own enterprise's permits (rows of another
enterprise's permit are "unknown permit" row errors) and reads its own imports, daily
emissions, totals and report checks (another enterprise's permit answers 404). Object ids
travel as query or body fields. Routes never commit: each calls one use case.

Provenance and authority (see `compliance.supervision.supervision_service`): a trader's import is
`enterprise` data, the bureau's `bureau` (default) or `automatic`; the bureau's data
supersedes the enterprise's for the same outlet-day; an officer voids an import with a
reason (`POST /monitoring/imports/{import_id}/void`). A request is capped per role (an
enterprise 100,000 rows and 16 MiB; 422 `monitoring_import_too_large`). A district officer
lists the imports of its district only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from compliance.errors import MonitoringImportRejected
from compliance.supervision import supervision_service as sup
from identity.roles import Principal
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import own_enterprise as _own
from web.api.common import platform as _p
from web.auth import (
    csrf_protect,
    district_scope,
    ensure_department,
    ensure_permit_access,
    require,
)

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["supervision"])

Bureau = Depends(require("monitoring:write"))  # writes: the monitoring department
Party = Depends(require("enterprise:read"))

Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=500)]
QDay = Annotated[date, Query(ge=date(1990, 1, 1), le=date(2200, 12, 31))]
PermitQ = Annotated[str, Query(min_length=1, max_length=22, pattern=r"^[A-Za-z0-9]+$")]
PermitCode = Annotated[str, Field(min_length=1, max_length=22, pattern=r"^[A-Za-z0-9]+$")]
PollutantQ = Literal["SO2", "NOx", "PM", "VOCs", "COD", "NH3-N"]
Period = Literal["Y", "Q1", "Q2", "Q3", "Q4"]
Status = Literal["ok", "deviation", "no_monitoring_data"]


class RowErrorOut(BaseModel):
    line: int
    field: str | None
    detail: str


class ImportIn(Strict):
    csv: str = Field(min_length=1, max_length=50_000_000, description=(
        "CSV text, one row per outlet and hour (CST): permit,outlet,hour,flow_nm3_h (dry "
        "standard flow),SO2_mg_m3,NOx_mg_m3,PM_mg_m3 (measured),SO2_ref_mg_m3,... "
        "(O2-corrected, optional),o2_pct,o2_ref_pct,flow_m3_h,COD_mg_l,NH3-N_mg_l,"
        "power_kwh,status (columns in any order; the unit is part of the column name). "
        "Mass = measured concentration × dry flow; limits judge the corrected value; "
        "missing and invalid hours are substituted (HJ 75) and counted"))
    partial: bool = Field(False, description="store the valid rows even if others are not")
    source: Literal["automatic", "bureau", "enterprise"] | None = Field(None, description=(
        "where the data comes from: a trader's import is always enterprise (self-"
        "monitoring); the bureau chooses bureau (default) or automatic (the automatic "
        "monitoring system); another choice answers 403 monitoring_source_not_allowed"))


class ImportOut(BaseModel):
    id: int
    sha256: str
    actor: str
    enterprise: str | None
    at: str
    partial: bool
    rows: int
    accepted: int
    rejected: int
    first_day: str | None
    last_day: str | None
    outlets: int
    daily_rows: int
    anomalies: int
    source: str = Field(description="automatic, bureau or enterprise")
    district: str | None
    voided_at: str | None
    voided_by: str | None
    void_reason: str | None


class Superseded(BaseModel):
    by_this: int = Field(description="enterprise daily rows this bureau import superseded")
    stored_superseded: int = Field(description="daily rows of this enterprise import stored "
                                               "superseded by the bureau's data")


class AlertClueOut(BaseModel):
    clue: int = Field(description="the problem clue the breach opened")
    alert: int
    permit: str
    enterprise: str
    pollutant: str
    period: str = Field(description="day or month")
    day: str = Field(description="the day (YYYY-MM-DD) or month (YYYY-MM) breached")
    emitted_kg: str = Field(description="kg emitted in the period, three decimals")
    cap_kg: int = Field(description="the alert's cap for the period, kg")


class ImportResult(ImportOut):
    error_count: int
    alert_breaches: int = Field(0, description="new heavy-pollution alert breaches found "
                                               "after the import")
    alert_clues: list[AlertClueOut] = Field(default_factory=list, description=(
        "the problem clues those breaches opened"))
    errors: list[RowErrorOut] = Field(description="the first 1,000 row errors, by line")
    anomaly_kinds: dict[str, int]
    clues: list[int] = Field(description="problem clues opened, one per new anomaly (the "
                                         "bureau's: empty, as the anomalies and breaches, "
                                         "when a trader imports)")
    substituted_hours: int = Field(description="outlet-pollutant hours substituted by the "
                                               "HJ 75 missing-data rule")
    superseded: Superseded


class ImportListed(ImportOut):
    errors: list[RowErrorOut] = Field(description="the first row errors (partial imports)")


class ImportPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ImportListed]


@router.post("/monitoring/imports", status_code=201, response_model=ImportResult,
             responses=WRITE)
def import_monitoring(request: Request, body: ImportIn, user: Principal = Party) -> Any:
    """Import hourly monitoring data: emissions per outlet, pollutant and day are computed
    and stored (grams), anomalies are screened and each opens a problem clue. Invalid rows
    are listed with their line number; without `partial` nothing is stored when any row is
    invalid (422 `monitoring_import_rejected`, with `error_count` and `errors`). The same
    file twice: 409."""
    ensure_department(user, "monitoring:write")
    _audit(request, "import_monitoring", None, f"partial={body.partial}")
    try:
        out = sup.import_monitoring(_p(request).uow(), csv_data=body.csv,
                                    partial=body.partial, actor=user.username,
                                    enterprise=_own(user), source=body.source,
                                    district=district_scope(request))
        if _own(user) is not None:
            # the clues an import opens are the bureau's until it sends them (issue 18):
            # a trader is told neither the clues nor the anomalies and breaches behind them
            out = dict(out, clues=[], alert_clues=[], alert_breaches=0, anomaly_kinds={})
        return out
    except MonitoringImportRejected as exc:
        return JSONResponse({"error": exc.code, "detail": exc.message, "field": exc.field,
                             "error_count": exc.details.get("error_count", 0),
                             "errors": exc.details.get("errors", [])}, status_code=422)


@router.get("/monitoring/imports", response_model=ImportPage, responses=READ)
def imports(request: Request, offset: Offset = 0, limit: Limit = 50,
            user: Principal = Party) -> Any:
    """Stored imports, newest first (a trader: its own enterprise's; a district officer:
    its district's)."""
    return sup.imports(_p(request).uow(), enterprise=_own(user),
                       district=district_scope(request), offset=offset, limit=limit)


class VoidIn(Strict):
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S",
                        description="why the import is voided (recorded, shown)")


class VoidResult(ImportOut):
    voided_rows: int = Field(description="daily rows that stopped counting")
    restored_rows: int = Field(description="enterprise daily rows it had superseded, "
                                           "effective again")


@router.post("/monitoring/imports/{import_id}/void", response_model=VoidResult,
             responses=WRITE)
def void_import(request: Request, body: VoidIn,
                import_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                user: Principal = Bureau) -> Any:
    """Void an import (the monitoring department): recorded who, when and why, never
    deleted; its daily rows stop counting and the enterprise rows it superseded count
    again. 404 for an import the officer cannot list, 409 if voided already."""
    _audit(request, "void_monitoring_import", str(import_id), body.reason[:200])
    return sup.void_import(_p(request).uow(), import_id=import_id, actor=user.username,
                           reason=body.reason, district=district_scope(request))


class DailyOut(BaseModel):
    outlet: str
    pollutant: str
    day: str
    emitted_g: int = Field(description="measured concentration × dry standard flow, grams")
    hours: int = Field(description="hours counted (measured or substituted)")
    substituted_hours: int = Field(description="of which substituted (HJ 75)")
    power_kwh: int
    import_id: int = Field(description="the import the row comes from (0: none)")
    source: str = Field(description="automatic, bureau or enterprise")


class DailyPage(BaseModel):
    permit: str
    first: str
    last: str
    total: int
    offset: int
    limit: int
    items: list[DailyOut]


@router.get("/monitoring/daily", response_model=DailyPage, responses=READ)
def daily(request: Request, permit: PermitQ, first: QDay, last: QDay,
          pollutant: PollutantQ | None = None, offset: Offset = 0, limit: Limit = 100,
          user: Principal = Party) -> Any:
    """Daily emissions of a permit (grams per outlet, pollutant and day), at most 366 days."""
    return sup.daily_emissions(_p(request).uow(), permit=permit, first=first, last=last,
                               pollutant=pollutant, enterprise=_own(user), offset=offset,
                               limit=limit)


class TotalOut(BaseModel):
    outlet: str
    pollutant: str
    emitted_g: int
    kg: int = Field(description="whole kg, rounded once (half to even)")
    hours: int
    substituted_hours: int
    days: int


class Totals(BaseModel):
    permit: str
    first: str
    last: str
    lines: list[TotalOut]


@router.get("/monitoring/totals", response_model=Totals, responses=READ)
def totals(request: Request, permit: PermitQ, first: QDay, last: QDay,
           user: Principal = Party) -> Any:
    """Monitored emissions of a permit per outlet and pollutant between two days."""
    return sup.monitoring_totals(_p(request).uow(), permit=permit, first=first, last=last,
                                 enterprise=_own(user))


class CheckIn(Strict):
    permit: PermitCode
    year: int = Field(ge=1990, le=2200)
    period: Period = Field(description='"Y" (annual) or "Q1".."Q4"')
    tolerance_pct: str | None = Field(None, max_length=12, pattern=r"^[0-9]+(\.[0-9]+)?$",
                                      description="default 10 (%)", examples=["10"])


class CheckOut(BaseModel):
    permit: str
    year: int
    period: str
    outlet: str
    pollutant: str
    reported_kg: int
    monitored_kg: int | None
    hours: int
    period_hours: int
    deviation_pct: str | None
    tolerance_pct: str
    status: str = Field(description="ok, deviation or no_monitoring_data")
    actor: str
    checked_at: str


class CheckResult(BaseModel):
    permit: str
    year: int
    period: str
    tolerance_pct: str
    deviations: int
    lines: list[CheckOut]


class CheckPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[CheckOut]


@router.post("/monitoring/report-checks", status_code=201, response_model=CheckResult,
             responses=WRITE)
def check_reports(request: Request, body: CheckIn, user: Principal = Bureau) -> Any:
    """Compare a permit's execution report for a year or quarter with the monitored
    emissions; lines deviating beyond the tolerance are flagged `deviation`."""
    ensure_permit_access(user, body.permit)
    _audit(request, "check_reports", body.permit, f"{body.year} {body.period}")
    return sup.check_reports(_p(request).uow(), permit=body.permit, year=body.year,
                             period=body.period, tolerance_pct=body.tolerance_pct,
                             actor=user.username)


@router.get("/monitoring/report-checks", response_model=CheckPage, responses=READ)
def report_checks(request: Request, permit: PermitQ | None = None,
                  status: Status | None = None,
                  year: Annotated[int | None, Query(ge=1990, le=2200)] = None,
                  offset: Offset = 0, limit: Limit = 50, user: Principal = Party) -> Any:
    """Stored report checks, newest first (a trader: its own enterprise's permits)."""
    return sup.report_checks(_p(request).uow(), permit=permit, enterprise=_own(user),
                             status=status, year=year, offset=offset, limit=limit)
