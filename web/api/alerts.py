"""JSON API of heavy-pollution alerts and problem clues under /api/v1.

Alerts: every logged-in user reads alerts; the bureau declares, lifts and runs the check of
monitoring emissions against the caps; caps and breaches are read by the bureau and analysts
in full, by a trader for its own enterprise's permits only.

Clues: the bureau lists every clue, opens clues by hand and sends, verifies, rejects and
closes them; a trader lists and reads its own enterprise's clues and records rectifications
(another enterprise's clue answers 404). Object ids travel as query or body fields.
Routes never commit: each calls one use case.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from compliance.alerting import alert_service as alerts
from compliance.alerting import clue_service as clues
from compliance.alerting.clues import BUREAU as BUREAU_SIDE
from compliance.alerting.clues import ENTERPRISE as ENTERPRISE_SIDE
from identity.roles import Principal
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import own_enterprise as _own
from web.api.common import platform as _p
from web.auth import (
    csrf_protect,
    district_scope,
    ensure_department,
    ensure_enterprise_access,
    ensure_permit_access,
    require,
    require_user,
)

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["alerts"])

Bureau = Depends(require("monitoring:write"))  # writes: the monitoring department
Reader = Depends(require_user)
Party = Depends(require("enterprise:read"))

Id = Annotated[int, Field(ge=1, le=2**53)]
QId = Annotated[int, Query(ge=1, le=2**53)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]
Day = Annotated[date, Field(ge=date(1990, 1, 1), le=date(2200, 12, 31))]
Code = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")]
PermitCode = Annotated[str, Field(min_length=1, max_length=22, pattern=r"^[A-Za-z0-9]+$")]
Note = Annotated[str, Field(max_length=2000)]
Level = Literal["yellow", "orange", "red"]
Kind = Literal["exceedance", "flat_line", "missing_data", "emission_power_mismatch",
               "alert_breach", "manual"]
State = Literal["found", "sent", "rectified", "verified", "closed"]


# models ------------------------------------------------------------------------------------

class AlertIn(Strict):
    level: Level
    zones: list[Code] = Field(min_length=1, max_length=50,
                              description="trading zone or district codes")
    first_day: Day
    last_day: Day
    cut_pct: int | None = Field(None, ge=10, le=90,
                                description="at least the level's cut (10/20/30 %)")
    note: Note | None = None


class AlertOut(BaseModel):
    id: int
    level: str
    cut_pct: int
    zones: list[str]
    first_day: str
    last_day: str
    lifted_on: str | None
    effective_last_day: str
    days: int
    status: str = Field(description="declared, active, lifted or ended")
    declared_by: str
    declared_at: str
    lifted_by: str | None
    note: str | None
    checked_at: str | None
    caps: int | None = Field(None, description="number of caps (permit, pollutant, month)")
    breaches: int | None = None


class AlertPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AlertOut]


class AlertRef(Strict):
    alert: Id


class CheckIn(Strict):
    alert: Id | None = Field(None, description="one alert; all started alerts when absent")


class CapOut(BaseModel):
    permit: str
    enterprise: str
    pollutant: str
    zone: str
    month: str
    permitted_kg: int
    days_in_year: int
    basis: Literal["monitoring", "permitted"] = Field(
        description="monitoring: mean of the days with data in the 30 days before the alert; "
                    "permitted: permitted quantity ÷ operating days")
    baseline_g: int = Field(description="grams over baseline_days days")
    baseline_days: int
    baseline_daily_kg: str = Field(description="mean daily baseline, kg with 3 decimals")
    cut_pct: int = Field(description="the cut applied to this permit")
    cut_source: Literal["measure", "grade", "alert"]
    grade: str | None
    measure: str | None
    daily_cap_kg: int
    days: int
    monthly_cap_kg: int


class RegionItem(BaseModel):
    zone: str
    pollutant: str
    permits: int
    baseline_g: int = Field(description="Σ baseline over the alert's days, grams")
    baseline_kg: str
    cap_kg: int = Field(description="Σ monthly caps")
    achieved_pct: str | None = Field(description="1 − caps ÷ baseline, % (0.1, rounded down)")
    target_pct: int
    meets: bool


class RegionOut(BaseModel):
    alert: int
    level: str
    cut_pct: int
    target_pct: int = Field(description="the level's least cut (10/20/30 %)")
    items: list[RegionItem]


Grade = Literal["A", "B", "C", "D", "unclassified"]


class LevelMeasureIn(Strict):
    cut_pct: int = Field(ge=0, le=100, description="cut in percent of the baseline")
    measure: Annotated[str, Field(max_length=500)] | None = Field(
        None, description="e.g. stopping a named process line; cut_pct is its equivalent")


class LevelsIn(Strict):
    yellow: LevelMeasureIn | None = None
    orange: LevelMeasureIn | None = None
    red: LevelMeasureIn | None = None


class MeasuresIn(Strict):
    permit: PermitCode
    grade: Grade = Field(description="performance grade (绩效分级)")
    levels: LevelsIn = Field(default_factory=LevelsIn)


class LevelMeasureOut(BaseModel):
    cut_pct: int | None = Field(description="the permit's own cut for the level")
    measure: str | None
    applies_pct: int = Field(description="the cut that applies (own, grade default or the "
                                         "level's least)")
    source: Literal["measure", "grade", "alert"]
    measure_text: str | None


class MeasuresOut(BaseModel):
    permit: str
    enterprise: str | None
    grade: str | None
    levels: dict[str, LevelMeasureOut]
    set_by: str | None
    set_at: str | None
    parameters: str


class MeasuresPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MeasuresOut]


class CapPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[CapOut]


class BreachOut(BaseModel):
    id: int | None
    alert: int
    permit: str
    enterprise: str
    pollutant: str
    period: Literal["day", "month"]
    day: str = Field(description="YYYY-MM-DD for a day, YYYY-MM for a month")
    emitted_g: int
    emitted_kg: str
    cap_kg: int
    clue: int | None
    found_at: str


class BreachPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[BreachOut]


class CheckOut(BaseModel):
    alerts_checked: int
    new_breaches: int
    clues_opened: int
    breaches: list[BreachOut]


class ClueEventOut(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    at: str
    note: str | None


class ClueOut(BaseModel):
    id: int
    enterprise: str
    permit: str
    outlet: str
    kind: str
    pollutant: str | None
    start: str
    end: str
    state: str
    source: str
    found_at: str
    updated_at: str
    due: str | None
    message: str | None
    overdue: bool
    evidence: dict[str, Any]
    history: list[ClueEventOut] | None = None


class CluePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ClueOut]


class ManualClueIn(Strict):
    permit: PermitCode
    outlet: Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    pollutant: Annotated[str, Field(max_length=10)] | None = None
    description: Annotated[str, Field(min_length=1, max_length=2000)]


class ClueActionIn(Strict):
    clue: Id
    action: Literal["send", "rectify", "verify", "reject", "close"]
    due: Day | None = Field(None, description="send: the enterprise's deadline")
    note: Note | None = Field(None, description="send: the message; rectify: what was done; "
                                                "reject: the reason; verify, close: a remark")


# alerts ------------------------------------------------------------------------------------

@router.get("/alerts", response_model=AlertPage, responses=READ)
def list_alerts(request: Request, alert: QId | None = None, offset: Offset = 0,
                limit: Limit = 50, _user: Principal = Reader) -> dict[str, Any]:
    """Heavy-pollution alerts, newest first (or the one `alert`, with its counts)."""
    if alert is not None:
        one = alerts.get_alert(_p(request).uow(), alert_id=alert)
        return {"total": 1, "offset": 0, "limit": limit, "items": [one]}
    return alerts.list_alerts(_p(request).uow(), offset=offset, limit=limit)


@router.post("/alerts", status_code=201, response_model=AlertOut, responses=WRITE)
def declare_alert(request: Request, body: AlertIn, user: Principal = Bureau) -> dict[str, Any]:
    """Declare an alert for zones or districts and days (not in the past, at most 92).
    Every affected permit gets, per air pollutant with a permitted quantity that year
    (confirmed or not), a daily cap ⌊baseline daily × (1 − its cut)⌋ kg and a monthly cap =
    daily cap × alert days in the month. Baseline: the mean of its monitored daily emissions
    over the days with data in the 30 before the first day, else permitted ÷ operating
    days; cut: its measure for the level, its grade's default, else the alert's cut."""
    _audit(request, "declare_alert", ",".join(body.zones),
           f"{body.level} {body.first_day}..{body.last_day}")
    return alerts.declare_alert(_p(request).uow(), level=body.level, zones=body.zones,
                                first_day=body.first_day, last_day=body.last_day,
                                cut_pct=body.cut_pct, note=body.note, actor=user.username)


@router.post("/alerts/lift", response_model=AlertOut, responses=WRITE)
def lift_alert(request: Request, body: AlertRef, user: Principal = Bureau) -> dict[str, Any]:
    """Lift an alert early: today becomes its last day; caps are recomputed."""
    _audit(request, "lift_alert", str(body.alert))
    return alerts.lift_alert(_p(request).uow(), alert_id=body.alert, actor=user.username)


@router.post("/alerts/checks", response_model=CheckOut, responses=WRITE)
def check_alerts(request: Request, body: CheckIn, _user: Principal = Bureau
                 ) -> dict[str, Any]:
    """Check daily monitoring emissions against the caps (idempotent: breaches already
    found are not recorded again). Each new breach opens a problem clue."""
    _audit(request, "check_alerts", str(body.alert) if body.alert else "all")
    return alerts.check_alerts(_p(request).uow(), alert_id=body.alert)


@router.get("/alerts/caps", response_model=CapPage, responses=READ)
def alert_caps(request: Request, alert: QId, offset: Offset = 0, limit: Limit = 50,
               user: Principal = Reader) -> dict[str, Any]:
    """An alert's caps per permit, pollutant and month (a trader: its own permits)."""
    return alerts.alert_caps(_p(request).uow(), alert_id=alert, enterprise=_own(user),
                             offset=offset, limit=limit)


@router.get("/alerts/region", response_model=RegionOut, responses=READ)
def alert_region(request: Request, alert: QId, _user: Principal = Reader) -> dict[str, Any]:
    """The region's total cut per zone and pollutant: Σ baseline of the affected permits
    over the alert's days against Σ their caps, and the cut achieved against the level's
    10/20/30 % target."""
    return alerts.alert_region(_p(request).uow(), alert_id=alert)


@router.get("/alerts/measures", response_model=MeasuresPage, responses=READ)
def list_measures(request: Request,
                  permit: Annotated[str | None, Query(max_length=22)] = None,
                  offset: Offset = 0, limit: Limit = 50,
                  user: Principal = Reader) -> dict[str, Any]:
    """Permits' emergency measures (a trader: its own permits), or the one `permit`'s
    (with the cut that applies per level even when it has none)."""
    if permit:
        one = alerts.get_measures(_p(request).uow(), permit=permit, enterprise=_own(user))
        return {"total": 1, "offset": 0, "limit": limit, "items": [one]}
    return alerts.list_measures(_p(request).uow(), enterprise=_own(user), offset=offset,
                                limit=limit)


@router.post("/alerts/measures", response_model=MeasuresOut, responses=WRITE)
def set_measures(request: Request, body: MeasuresIn, user: Principal = Bureau
                 ) -> dict[str, Any]:
    """Set (replace) a permit's emergency measures from the emergency emission-reduction
    list: its performance grade and per alert level a cut of 0-100 % of its baseline, with
    the measure's text where it is one (its equivalent cut). Cuts never shallower at a
    higher level. A level left out takes the grade's default (A: 0 %, voluntary; others:
    the alert's cut)."""
    ensure_permit_access(user, body.permit)
    _audit(request, "set_emergency_measures", body.permit, body.grade)
    levels = {lv: (m.model_dump() if m is not None else None)
              for lv, m in (("yellow", body.levels.yellow), ("orange", body.levels.orange),
                            ("red", body.levels.red))}
    return alerts.set_measures(_p(request).uow(), permit=body.permit, grade=body.grade,
                               levels=levels, actor=user.username)


@router.get("/alerts/breaches", response_model=BreachPage, responses=READ)
def alert_breaches(request: Request, alert: QId | None = None, offset: Offset = 0,
                   limit: Limit = 50, user: Principal = Reader) -> dict[str, Any]:
    """Breaches found, newest first, of one alert or all (a trader: its own permits)."""
    return alerts.alert_breaches(_p(request).uow(), alert_id=alert, enterprise=_own(user),
                                 offset=offset, limit=limit)


# clues -------------------------------------------------------------------------------------

@router.get("/clues", response_model=CluePage, responses=READ)
def list_clues(request: Request,
               enterprise: Annotated[str | None, Query(max_length=18)] = None,
               permit: Annotated[str | None, Query(max_length=22)] = None,
               state: State | None = None, kind: Kind | None = None,
               pollutant: Annotated[str | None, Query(max_length=10)] = None,
               offset: Offset = 0, limit: Limit = 50,
               user: Principal = Party) -> dict[str, Any]:
    """Problem clues, newest first, filtered; a trader sees its own enterprise's only."""
    if enterprise:
        ensure_enterprise_access(user, enterprise)
    own = _own(user)
    scope = own if own is not None else (enterprise or None)
    return clues.list_clues(_p(request).uow(), enterprise=scope, permit=permit or None,
                            state=state, kind=kind, pollutant=pollutant or None,
                            offset=offset, limit=limit, sent_only=own is not None)


@router.get("/clues/detail", response_model=ClueOut, responses=READ)
def clue_detail(request: Request, clue: QId, user: Principal = Party) -> dict[str, Any]:
    """One clue with its evidence and full history (oldest event first)."""
    return clues.get_clue(_p(request).uow(), clue_id=clue, enterprise=_own(user),
                          district=district_scope(request))


@router.post("/clues", status_code=201, response_model=ClueOut, responses=WRITE)
def open_clue(request: Request, body: ManualClueIn, user: Principal = Bureau
              ) -> dict[str, Any]:
    """The bureau opens a clue by hand (kind "manual"), e.g. from a complaint."""
    ensure_permit_access(user, body.permit)
    _audit(request, "open_clue", body.permit, body.description[:80])
    return clues.open_manual(_p(request).uow(), permit=body.permit, outlet=body.outlet,
                             pollutant=body.pollutant, description=body.description,
                             actor=user.username)


@router.post("/clues/actions", response_model=ClueOut, responses=WRITE)
def clue_action(request: Request, body: ClueActionIn, user: Principal = Party
                ) -> dict[str, Any]:
    """One lifecycle step: the bureau sends (with `due` and the message in `note`),
    verifies, rejects (reason in `note`) and closes; the enterprise's trader rectifies
    (what was done in `note`). A step out of order answers 409 clue_transition_refused."""
    ensure_department(user, "monitoring:write")
    _audit(request, f"clue_{body.action}", str(body.clue))
    side = BUREAU_SIDE if user.is_bureau else ENTERPRISE_SIDE
    return clues.act(_p(request).uow(), clue_id=body.clue, action=body.action, side=side,
                     actor=user.username, enterprise=_own(user), note=body.note,
                     due=body.due, district=district_scope(request))
