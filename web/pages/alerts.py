"""Pages of heavy-pollution alerts and problem clues.

Bureau: `/bureau/alerts` declares an alert (level, zones or districts, days, optional deeper
cut), lists alerts, shows one alert's region totals (the cut achieved against the level's
target), caps (baseline and its basis, the cut applied) and breaches, lifts it early and
runs the check of monitoring emissions against the caps. `/bureau/alerts/measures` sets a
permit's emergency measures (performance grade, per level a cut and the measure's text);
`/bureau/alerts?permit=` fills that form with the permit's current measures.
`/bureau/clues` lists clues with filters (state,
kind, enterprise, permit, pollutant; paginated), opens a clue by hand, and shows one clue
with its evidence, its history and the forms of the steps its state allows.

Enterprise: `/enterprises/{code}/clues` shows a trader its own enterprise's clues and the
rectification form for a clue that was sent to it; another enterprise answers 404.

With `HX-Request: true` the list pages answer only their swapped block (the clue rows, an
alert's detail). Object ids travel as form fields or query parameters, so a malformed form
re-renders with 422 and its field errors. Routes never commit (each calls one use case).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from compliance.alerting import alert_service as alerts
from compliance.alerting import clue_service as clues
from compliance.alerting.alerts import GRADES, LEVELS
from compliance.alerting.clues import BUREAU as BUREAU_SIDE
from compliance.alerting.clues import ENTERPRISE as ENTERPRISE_SIDE
from compliance.alerting.clues import STATES, allowed_actions
from identity.roles import Principal
from kernel.errors import DomainError
from web.auth import csrf_protect, ensure_enterprise_access, ensure_permit_access, require
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import is_htmx, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("monitoring:write"))  # writes: the monitoring department
QId = Annotated[int | None, Query(ge=1, le=2**53)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Short = Annotated[str | None, Query(max_length=22)]
ALERTS_PER_PAGE = 20
CLUES_PER_PAGE = 30
CAPS_SHOWN = 200
MEASURES_SHOWN = 50
KINDS = clues.CLUE_KINDS
ACTIONS = ("send", "verify", "reject", "close")
_SPLIT = re.compile(r"[\s,;，、]+")


def _field(exc: DomainError, errors: forms.FieldErrors, shown: tuple[str, ...]) -> None:
    errors.add(exc.field if exc.field in shown else "form", error_text(exc))


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


# bureau: alerts ----------------------------------------------------------------------------

def _alert_detail(request: Request, alert_id: int | None) -> dict[str, Any] | None:
    if alert_id is None:
        return None
    p = _p(request)
    try:
        a = alerts.get_alert(p.uow(), alert_id=alert_id)
    except DomainError:
        return None
    a["cap_rows"] = alerts.alert_caps(p.uow(), alert_id=alert_id, limit=CAPS_SHOWN)
    a["region"] = alerts.alert_region(p.uow(), alert_id=alert_id)
    a["breach_rows"] = alerts.alert_breaches(p.uow(), alert_id=alert_id, limit=200)
    return a


def _measures_form(request: Request, permit: str | None) -> dict[str, str]:
    """The measures form filled with a permit's current measures (empty when unknown)."""
    if not permit:
        return {}
    try:
        m = alerts.get_measures(_p(request).uow(), permit=permit)
    except DomainError:
        return {"permit": permit}
    form = {"permit": permit, "grade": m["grade"] or ""}
    for lv, v in m["levels"].items():
        form[f"{lv}_cut"] = "" if v["cut_pct"] is None else str(v["cut_pct"])
        form[f"{lv}_measure"] = v["measure"] or ""
    return form


def _alerts_page(request: Request, status: int = 200, *, alert_id: int | None = None,
                 page: int = 1, permit: str | None = None, **ctx: Any) -> HTMLResponse:
    detail = _alert_detail(request, alert_id)
    if is_htmx(request) and status == 200 and alert_id is not None:
        resp = render(request, "alerts_detail.html", detail=detail, alert_id=alert_id)
        return resp
    res = alerts.list_alerts(_p(request).uow(), offset=(page - 1) * ALERTS_PER_PAGE,
                             limit=ALERTS_PER_PAGE)
    ctx.setdefault("forms", {"declare": {}, "check": {}})
    ctx["forms"].setdefault("measures", _measures_form(request, permit))
    ctx.setdefault("errors", {})
    measures = alerts.list_measures(_p(request).uow(), limit=MEASURES_SHOWN)
    return render(request, "alerts_bureau.html", status_code=status, res=res, detail=detail,
                  alert_id=alert_id, page=page,
                  pages=_pages(int(res["total"]), ALERTS_PER_PAGE),
                  pager_base="/bureau/alerts?", LEVELS=LEVELS, GRADES=GRADES,
                  measures=measures, **ctx)


@router.get("/bureau/alerts", response_class=HTMLResponse)
def bureau_alerts(request: Request, alert: QId = None, page: Page = 1, permit: Short = None,
                  user: Principal = Bureau) -> HTMLResponse:
    return _alerts_page(request, alert_id=alert, page=page, permit=(permit or "").strip())


_MEASURE_FIELDS = ("permit", "grade") + tuple(f"{lv}_{k}" for lv in LEVELS
                                              for k in ("cut", "measure"))


@router.post("/bureau/alerts/measures", response_model=None)
def set_measures(request: Request, permit: Annotated[str, Form()] = "",
                 grade: Annotated[str, Form()] = "",
                 yellow_cut: Annotated[str, Form()] = "",
                 yellow_measure: Annotated[str, Form()] = "",
                 orange_cut: Annotated[str, Form()] = "",
                 orange_measure: Annotated[str, Form()] = "",
                 red_cut: Annotated[str, Form()] = "",
                 red_measure: Annotated[str, Form()] = "",
                 user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    """A permit's grade and, per level, a cut of 0-100 % (blank: the grade's default) and
    the measure's text (then its equivalent cut is required)."""
    raw = {"yellow": (yellow_cut, yellow_measure), "orange": (orange_cut, orange_measure),
           "red": (red_cut, red_measure)}
    form = dict(permit=permit, grade=grade, **{f"{lv}_{k}": v for lv, (c, m) in raw.items()
                                               for k, v in (("cut", c), ("measure", m))})
    errors = forms.FieldErrors()
    code = forms.text(permit, "permit", errors, max_len=22)
    forms.choice(grade, "grade", errors, GRADES)
    levels: dict[str, dict[str, Any]] = {}
    for lv, (cut_text, measure_text) in raw.items():
        cut = forms.whole(cut_text, f"{lv}_cut", errors, lo=0, hi=100, required=False)
        words = forms.text(measure_text, f"{lv}_measure", errors, max_len=500,
                           required=False)
        if words and cut is None and f"{lv}_cut" not in errors:
            errors.add(f"{lv}_cut", "give the measure's equivalent cut")
        if cut is not None:
            levels[lv] = {"cut_pct": cut, "measure": words or None}
    audit(request, "set_emergency_measures", code[:22], grade[:12])
    status = 422
    if not errors:
        try:
            ensure_permit_access(user, code)
            alerts.set_measures(_p(request).uow(), permit=code, grade=grade, levels=levels,
                                actor=user.username)
        except DomainError as exc:
            # "levels.orange.cut_pct" → the form's "orange_cut"
            parts = (exc.field or "").split(".")
            name = exc.field or "form"
            if len(parts) == 3:
                name = f"{parts[1]}_{'cut' if parts[2] == 'cut_pct' else 'measure'}"
            errors.add(name if name in _MEASURE_FIELDS else "form",
                       error_text(exc))
            status = status_of(exc)
        else:
            return see_other(f"/bureau/alerts?permit={code}",
                             msg=confirm("Emergency measures of {permit} set (grade {grade}).",
                                         permit=code, grade=grade))
    return _alerts_page(request, status, forms={"declare": {}, "check": {}, "measures": form},
                        errors={"measures": errors})


@router.post("/bureau/alerts", response_model=None)
def declare_alert(request: Request, level: Annotated[str, Form()] = "",
                  zones: Annotated[str, Form()] = "", first_day: Annotated[str, Form()] = "",
                  last_day: Annotated[str, Form()] = "", cut_pct: Annotated[str, Form()] = "",
                  note: Annotated[str, Form()] = "",
                  user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(level=level, zones=zones, first_day=first_day, last_day=last_day,
                cut_pct=cut_pct, note=note)
    errors = forms.FieldErrors()
    forms.choice(level, "level", errors, tuple(LEVELS))
    forms.text(zones, "zones", errors, max_len=1000)
    codes = [z for z in _SPLIT.split(zones or "") if z]
    first = forms.day(first_day, "first_day", errors)
    last = forms.day(last_day, "last_day", errors)
    cut = forms.whole(cut_pct, "cut_pct", errors, lo=10, hi=90, required=False)
    text = forms.text(note, "note", errors, max_len=2000, required=False)
    audit(request, "declare_alert", ",".join(codes)[:200], f"{level} {first_day}..{last_day}")
    status = 422
    if not errors and first is not None and last is not None:
        try:
            out = alerts.declare_alert(_p(request).uow(), level=level, zones=codes,
                                       first_day=first, last_day=last, cut_pct=cut,
                                       note=text or None, actor=user.username)
        except DomainError as exc:
            _field(exc, errors, ("level", "zones", "first_day", "last_day", "cut_pct", "note"))
            status = status_of(exc)
        else:
            request.state.audit["target"] = str(out["id"])
            return see_other(f"/bureau/alerts?alert={out['id']}",
                             msg=confirm("Alert #{id} declared ({level}, {cut} %): "
                                         "{caps} caps set.", id=out["id"],
                                         level=("alert_level", out["level"]),
                                         cut=out["cut_pct"], caps=out["caps"]))
    return _alerts_page(request, status, forms={"declare": form, "check": {}},
                        errors={"declare": errors})


@router.post("/bureau/alerts/lift", response_model=None)
def lift_alert(request: Request, alert: Annotated[str, Form()] = "",
               user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    aid = forms.whole(alert, "alert", errors, lo=1, hi=2**53)
    audit(request, "lift_alert", alert[:20])
    status = 422
    if not errors and aid is not None:
        try:
            out = alerts.lift_alert(_p(request).uow(), alert_id=aid, actor=user.username)
        except DomainError as exc:
            errors.add("form", error_text(exc))
            status = status_of(exc)
        else:
            return see_other(f"/bureau/alerts?alert={aid}",
                             msg=confirm("Alert #{id} lifted; last day {day}.", id=aid,
                                         day=out["effective_last_day"]))
    return _alerts_page(request, status, alert_id=aid,
                        forms={"declare": {}, "check": {"alert": alert}},
                        errors={"check": errors})


@router.post("/bureau/alerts/check", response_model=None)
def check_alerts(request: Request, alert: Annotated[str, Form()] = "",
                 user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    errors = forms.FieldErrors()
    aid = forms.whole(alert, "alert", errors, lo=1, hi=2**53, required=False)
    audit(request, "check_alerts", alert[:20] or "all")
    status = 422
    if not errors:
        try:
            out = alerts.check_alerts(_p(request).uow(), alert_id=aid)
        except DomainError as exc:
            errors.add("alert" if exc.field == "alert" else "form",
                       error_text(exc))
            status = status_of(exc)
        else:
            url = f"/bureau/alerts?alert={aid}" if aid else "/bureau/alerts"
            return see_other(url, msg=confirm(
                "{alerts} alerts checked: {breaches} new breaches, {clues} clues opened.",
                alerts=out["alerts_checked"], breaches=out["new_breaches"],
                clues=out["clues_opened"]))
    return _alerts_page(request, status, forms={"declare": {}, "check": {"alert": alert}},
                        errors={"check": errors})


# bureau: clues -----------------------------------------------------------------------------

def _filters(state: str | None, kind: str | None, enterprise: str | None,
             permit: str | None, pollutant: str | None) -> dict[str, str]:
    return {"state": state if state in STATES else "",
            "kind": kind if kind in KINDS else "",
            "enterprise": (enterprise or "").strip()[:18],
            "permit": (permit or "").strip()[:22],
            "pollutant": (pollutant or "").strip()[:10]}


def _clue_list(request: Request, f: dict[str, str], page: int, *,
               enterprise: str | None = None, size: int = CLUES_PER_PAGE) -> dict[str, Any]:
    try:
        return clues.list_clues(_p(request).uow(), enterprise=enterprise or f["enterprise"]
                                or None, permit=f["permit"] or None, state=f["state"] or None,
                                kind=f["kind"] or None, pollutant=f["pollutant"] or None,
                                offset=(page - 1) * size, limit=size,
                                sent_only=enterprise is not None)  # the enterprise's view
    except DomainError as exc:  # an unknown pollutant in the filter: show nothing
        return {"items": [], "total": 0, "offset": 0, "limit": size,
                "error": error_text(exc)}


def _clue(request: Request, clue_id: int | None, enterprise: str | None
          ) -> dict[str, Any] | None:
    if clue_id is None:
        return None
    try:
        return clues.get_clue(_p(request).uow(), clue_id=clue_id, enterprise=enterprise)
    except DomainError:
        return None


def _clues_page(request: Request, status: int = 200, *, f: dict[str, str] | None = None,
                page: int = 1, clue_id: int | None = None, **ctx: Any) -> HTMLResponse:
    f = f or _filters(None, None, None, None, None)
    clue = _clue(request, clue_id, None)
    actions = allowed_actions(clue["state"], BUREAU_SIDE) if clue else []
    if is_htmx(request) and status == 200:
        if clue_id is not None:
            return render(request, "clues_detail.html", clue=clue, clue_id=clue_id,
                          actions=actions, act_url="/bureau/clues/act", side="bureau",
                          forms={"manual": {}, "act": {}})
        res = _clue_list(request, f, page)
        return render(request, "clues_rows.html", res=res, f=f, page=page,
                      pages=_pages(int(res["total"]), CLUES_PER_PAGE),
                      list_url="/bureau/clues")
    res = _clue_list(request, f, page)
    ctx.setdefault("forms", {"manual": {}, "act": {}})
    ctx.setdefault("errors", {})
    return render(request, "clues_bureau.html", status_code=status, res=res, f=f,
                  page=page, pages=_pages(int(res["total"]), CLUES_PER_PAGE), clue=clue,
                  clue_id=clue_id, actions=actions, act_url="/bureau/clues/act",
                  side="bureau", list_url="/bureau/clues", STATES=STATES, KINDS=KINDS,
                  **ctx)


@router.get("/bureau/clues", response_class=HTMLResponse)
def bureau_clues(request: Request, state: Annotated[str | None, Query(max_length=12)] = None,
                 kind: Annotated[str | None, Query(max_length=30)] = None,
                 enterprise: Annotated[str | None, Query(max_length=18)] = None,
                 permit: Short = None,
                 pollutant: Annotated[str | None, Query(max_length=10)] = None,
                 clue: QId = None, page: Page = 1,
                 user: Principal = Bureau) -> HTMLResponse:
    return _clues_page(request, f=_filters(state, kind, enterprise, permit, pollutant),
                       page=page, clue_id=clue)


@router.post("/bureau/clues", response_model=None)
def open_clue(request: Request, permit: Annotated[str, Form()] = "",
              outlet: Annotated[str, Form()] = "", pollutant: Annotated[str, Form()] = "",
              description: Annotated[str, Form()] = "",
              user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, outlet=outlet, pollutant=pollutant, description=description)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    outlet = forms.text(outlet, "outlet", errors, max_len=20, required=False)
    desc = forms.text(description, "description", errors, max_len=2000)
    audit(request, "open_clue", permit, desc[:80])
    status = 422
    if not errors:
        try:
            ensure_permit_access(user, permit)
            out = clues.open_manual(_p(request).uow(), permit=permit, outlet=outlet,
                                    pollutant=pollutant or None, description=desc,
                                    actor=user.username)
        except DomainError as exc:
            _field(exc, errors, ("permit", "outlet", "pollutant", "description"))
            status = status_of(exc)
        else:
            return see_other(f"/bureau/clues?clue={out['id']}",
                             msg=confirm("Clue #{id} opened.", id=out["id"]))
    return _clues_page(request, status, forms={"manual": form, "act": {}},
                       errors={"manual": errors})


@router.post("/bureau/clues/act", response_model=None)
def act_on_clue(request: Request, clue: Annotated[str, Form()] = "",
                action: Annotated[str, Form()] = "", due: Annotated[str, Form()] = "",
                note: Annotated[str, Form()] = "",
                user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(clue=clue, action=action, due=due, note=note)
    errors = forms.FieldErrors()
    cid = forms.whole(clue, "clue", errors, lo=1, hi=2**53)
    forms.choice(action, "action", errors, ACTIONS)
    when = forms.day(due, "due", errors, required=action == "send")
    text = forms.text(note, "note", errors, max_len=2000, required=False)
    audit(request, f"clue_{action[:12]}", clue[:20])
    status = 422
    if not errors and cid is not None:
        try:
            clues.act(_p(request).uow(), clue_id=cid, action=action, side=BUREAU_SIDE,
                      actor=user.username, note=text or None, due=when,
                      district=user.district)
        except DomainError as exc:
            fld = exc.field
            errors.add("note" if fld in ("message", "reason", "note") else
                       "due" if fld == "due" else "form", error_text(exc))
            status = status_of(exc)
        else:
            return see_other(f"/bureau/clues?clue={cid}", msg=confirm(
                "Clue #{id}: {action}.", id=cid, action=("clue_action", action)))
    return _clues_page(request, status, clue_id=cid, forms={"manual": {}, "act": form},
                       errors={"act": errors})


# enterprise: its own clues -----------------------------------------------------------------

def _enterprise_page(request: Request, code: str, user: Principal, status: int = 200, *,
                     state: str | None = None, page: int = 1, clue_id: int | None = None,
                     **ctx: Any) -> HTMLResponse:
    f = _filters(state, None, None, None, None)
    clue = _clue(request, clue_id, code)
    can_act = user.enterprise == code
    actions = allowed_actions(clue["state"], ENTERPRISE_SIDE) if clue and can_act else []
    act_url = f"/enterprises/{code}/clues/rectify"
    if is_htmx(request) and status == 200 and clue_id is not None:
        return render(request, "clues_detail.html", clue=clue, clue_id=clue_id,
                      actions=actions, act_url=act_url, side="enterprise")
    res = _clue_list(request, f, page, enterprise=code)
    ctx.setdefault("form", {})
    ctx.setdefault("errors", {})
    return render(request, "clues_enterprise.html", status_code=status, code=code, res=res,
                  f=f, page=page, pages=_pages(int(res["total"]), CLUES_PER_PAGE),
                  clue=clue, clue_id=clue_id, actions=actions, act_url=act_url,
                  side="enterprise", list_url=f"/enterprises/{code}/clues", STATES=STATES,
                  **ctx)


@router.get("/enterprises/{code}/clues", response_class=HTMLResponse)
def enterprise_clues(request: Request, code: str,
                     state: Annotated[str | None, Query(max_length=12)] = None,
                     clue: QId = None, page: Page = 1,
                     user: Principal = Depends(require("enterprise:read"))) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    return _enterprise_page(request, code, user, state=state, page=page, clue_id=clue)


@router.post("/enterprises/{code}/clues/rectify", response_model=None)
def rectify_clue(request: Request, code: str, clue: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "",
                 user: Principal = Depends(require("order:place"))
                 ) -> RedirectResponse | HTMLResponse:
    ensure_enterprise_access(user, code)
    form = dict(clue=clue, note=note)
    errors = forms.FieldErrors()
    cid = forms.whole(clue, "clue", errors, lo=1, hi=2**53)
    text = forms.text(note, "note", errors, max_len=2000)
    audit(request, "clue_rectify", clue[:20])
    status = 422
    if not errors and cid is not None:
        try:
            clues.rectify(_p(request).uow(), clue_id=cid, note=text, actor=user.username,
                          enterprise=code)
        except DomainError as exc:
            errors.add("note" if exc.field == "note" else "form",
                       error_text(exc))
            status = status_of(exc)
        else:
            return see_other(f"/enterprises/{code}/clues?clue={cid}",
                             msg=confirm("Clue #{id}: rectification recorded.", id=cid))
    return _enterprise_page(request, code, user, status, clue_id=cid, form=form,
                            errors=errors)
