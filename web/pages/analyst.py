"""Analyst workspace (analysts and the bureau): scenarios built from a form (no JSON, no
JavaScript), run against the database baseline, and two scenarios compared side by side with
server-rendered bar charts (web.charts). Comparing is a GET and writes nothing (a scenario
never run is computed for the page, not stored); running is a POST."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from allocation.parameters import ALERT_LEVELS
from identity.roles import BUREAU, Principal, Role
from kernel.errors import DomainError
from web.api.allocation import compare_without_storing
from web.auth import csrf_protect, require_role
from web.charts import bar_chart
from web.errors import status_of
from web.i18n import translator
from web.labels import label
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import SECTORS, lang_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Analysis = Depends(require_role(Role.ANALYST, *BUREAU))
Id = Annotated[int, Path(ge=1, le=2**53)]
QueryId = Annotated[int | None, Query(ge=1, le=2**53)]

#: figures shown per group row, in order
FIGURES = ("indicator_kg", "reserve_kg", "spec_kg", "cap_kg", "share_kg", "permitted_kg",
           "granted_kg", "alert_cut_kg")
SECTIONS = (("by_zone", ("zone", "pollutant")), ("by_sector", ("sector", "pollutant")),
            ("by_pollutant", ("pollutant",)))
#: a scenario document's field (by prefix) -> the form field that shows its error
_FIELD_OF = (("name", "name"), ("year", "year"), ("indicators", "change_pct"),
             ("ultra_low_sectors", "ultra_low"), ("utilisation_hours", "hours"),
             ("alert.level", "alert_level"), ("alert.days", "alert_days"),
             ("description", "description"))


def _form_field(field: str | None) -> str:
    for prefix, name in _FIELD_OF:
        if field and field.startswith(prefix):
            return name
    return "form"


def _list_page(request: Request, status: int = 200, *, page: int = 1,
               form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None) -> HTMLResponse:
    size = 50
    res = alloc.list_scenarios(_p(request).uow(), offset=(page - 1) * size, limit=size)
    return render(request, "scenarios.html", status_code=status, res=res, page=page,
                  pages=max(1, -(-int(res["total"]) // size)), pager_base="?",
                  form=form or {"year": "2026", "ultra_low": []}, errors=errors or {},
                  ALERT_LEVELS=ALERT_LEVELS)


@router.get("/analyst/scenarios", response_class=HTMLResponse)
def scenarios(request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
              user: Principal = Analysis) -> HTMLResponse:
    return _list_page(request, page=page)


def scenario_doc(form: dict[str, Any], errors: forms.FieldErrors) -> dict[str, Any]:
    """The scenario document (see allocation.scenario) from the builder form's text fields;
    checks what the form itself must (numbers), the core checks the rest."""
    doc: dict[str, Any] = {"name": forms.text(form["name"], "name", errors, max_len=80)}
    desc = forms.text(form["description"], "description", errors, max_len=500, required=False)
    if desc:
        doc["description"] = desc
    year = forms.whole(form["year"], "year", errors, lo=1990, hi=2200, required=False)
    if year is not None:
        doc["year"] = year
    pct = (form["change_pct"] or "").strip()
    if pct:
        doc["indicators"] = [{"change_pct": pct}]
    ultra = [s for s in form["ultra_low"] if s]
    for s in ultra:
        if s not in SECTORS:
            errors.add("ultra_low", f"unknown sector {s[:40]!r}")
    if ultra:
        doc["ultra_low_sectors"] = ultra
    hours = (form["hours"] or "").strip()
    if hours:
        doc["utilisation_hours"] = {"thermal_power": hours}
    level = (form["alert_level"] or "").strip()
    if level:
        forms.choice(level, "alert_level", errors, ALERT_LEVELS)
        days = forms.whole(form["alert_days"], "alert_days", errors, lo=0, hi=366)
        doc["alert"] = {"level": level, "days": days}
    return doc


@router.post("/analyst/scenarios", response_model=None)
def create_scenario(request: Request, name: Annotated[str, Form()] = "",
                    description: Annotated[str, Form()] = "",
                    year: Annotated[str, Form()] = "",
                    change_pct: Annotated[str, Form()] = "",
                    ultra_low: Annotated[list[str] | None, Form()] = None,
                    hours: Annotated[str, Form()] = "",
                    alert_level: Annotated[str, Form()] = "",
                    alert_days: Annotated[str, Form()] = "",
                    user: Principal = Analysis) -> RedirectResponse | HTMLResponse:
    form: dict[str, Any] = dict(name=name, description=description, year=year,
                                change_pct=change_pct, ultra_low=list(ultra_low or [])[:20],
                                hours=hours, alert_level=alert_level, alert_days=alert_days)
    errors = forms.FieldErrors()
    doc = scenario_doc(form, errors)
    audit(request, "create_scenario", doc["name"] or None)
    status = 422
    if not errors:
        try:
            out = alloc.create_scenario(_p(request).uow(), doc=doc, actor=user.username)
        except DomainError as exc:
            errors.add(_form_field(exc.field), error_text(exc))
            status = status_of(exc)
        else:
            request.state.audit["target"] = str(out["id"])
            return see_other(f"/analyst/scenarios/{out['id']}",
                             msg=confirm("Scenario #{id} {name} created.", id=out["id"],
                                         name=out["name"]))
    return _list_page(request, status, form=form, errors=errors)


def result_sections(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The run's group rows, each with its change of permitted kg against the baseline."""
    deltas = result.get("deltas") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for section, keys in SECTIONS:
        change = {tuple(r[k] for k in keys): int(r.get("permitted_kg", 0))
                  for r in deltas.get(section, [])}
        out[section] = [{**r, "delta_permitted": change.get(tuple(r[k] for k in keys), 0)}
                        for r in result.get(section, [])]
    return out


@router.get("/analyst/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario(request: Request, scenario_id: Id, run: QueryId = None,
             user: Principal = Analysis) -> HTMLResponse:
    p = _p(request)
    view = alloc.scenario_view(p.uow(), scenario_id)
    result = None
    run_id = run or (view["runs"][0]["id"] if view["runs"] else None)
    if run_id is not None:
        result = alloc.scenario_run_view(p.uow(), run_id)
        if result["scenario"] != scenario_id:
            result = None
    return render(request, "scenario.html", s=view, result=result,
                  sections=result_sections(result) if result else {}, SECTIONS=SECTIONS,
                  FIGURES=FIGURES, others=alloc.list_scenarios(p.uow(), limit=200)["items"])


@router.post("/analyst/scenarios/{scenario_id}/runs", response_model=None)
def run_scenario(request: Request, scenario_id: Id,
                 user: Principal = Analysis) -> RedirectResponse:
    audit(request, "run_scenario", str(scenario_id))
    p = _p(request)
    alloc.scenario_view(p.uow(), scenario_id)
    try:
        out = alloc.run_scenario(p.uow, scenario_id=scenario_id, actor=user.username)
    except DomainError as exc:
        request.state.audit["detail"] = f"{exc.code}: {exc.message}"
        return see_other(f"/analyst/scenarios/{scenario_id}",
                         err=error_text(exc)[:400])
    return see_other(f"/analyst/scenarios/{scenario_id}?run={out['id']}",
                     msg=confirm("Run #{id}: {status}.", id=out["id"],
                                 status=("status", out["reserve_plan"]["status"])))


def _charts(cmp: dict[str, Any], lang: str) -> dict[str, Any]:
    """One bar chart per section: permitted kg of a and b per group row."""
    _ = translator(lang)
    titles = {"by_zone": _("Permitted kg by zone"), "by_sector": _("Permitted kg by sector"),
              "by_pollutant": _("Permitted kg by pollutant")}
    out = {}
    for section, keys in SECTIONS:
        rows = cmp.get(section, [])
        cats = [" · ".join(label(k, r[k], lang) for k in keys) for r in rows]
        a = [int(r.get("permitted_kg", {}).get("a", 0)) for r in rows]
        b = [int(r.get("permitted_kg", {}).get("b", 0)) for r in rows]
        out[section] = bar_chart(cats, [(f"A · {cmp['a']}", a), (f"B · {cmp['b']}", b)],
                                 title=titles[section], empty_text=_("No results"))
    return out


@router.get("/analyst/compare", response_class=HTMLResponse)
def compare(request: Request, a: QueryId = None, b: QueryId = None,
            user: Principal = Analysis) -> HTMLResponse:
    p = _p(request)
    choices = alloc.list_scenarios(p.uow(), limit=200)["items"]
    cmp, err, status = None, None, 200
    if a is not None and b is not None:
        try:
            cmp = compare_without_storing(p, a=a, b=b)
        except DomainError as exc:
            err, status = error_text(exc), status_of(exc)
    charts = _charts(cmp, lang_of(request)) if cmp else {}
    return render(request, "compare.html", status_code=status, cmp=cmp, charts=charts,
                  choices=choices, a=a, b=b, SECTIONS=SECTIONS, err=err)
