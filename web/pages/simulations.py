"""Analyst pages of the market simulation (issue 21): run a stored scenario's simulation from a
form, list the runs, and see two runs side by side: price paths over trading days with their
band over seeds (per pollutant), the markets' closing, least-cost and auction prices, the costs
against no trading and against the least-cost benchmark, abatement by sector. Prices in yuan
per tonne, money in yuan, quantities in tonnes; charts are server-rendered SVG
(`web.simulation_charts`). Viewing is a GET and writes nothing; running is a POST."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from identity.roles import BUREAU, Principal, Role
from kernel.errors import DomainError
from simulation import service as sim
from simulation.engine import STRATEGIES
from web.api.simulations import MAX_API_SEEDS
from web.auth import csrf_protect, require_role
from web.errors import status_of
from web.i18n import translator
from web.labels import label
from web.messages import error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.l10n import tonnes_text, yuan_text
from web.pages.render import lang_of, render
from web.simulation_charts import path_chart, value_bars

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Analysis = Depends(require_role(Role.ANALYST, *BUREAU))
QueryId = Annotated[int | None, Query(ge=1, le=2**53)]
#: the costs shown, in order (keys of the result's cost_fen)
COSTS = ("simulated", "least_cost", "before_trading", "no_trade")


def pollutant_paths(result: dict[str, Any]) -> dict[str, tuple[list[int], list[int], list[int]]]:
    """Per pollutant, the mean over its markets (zones) of the p5, p50 and p95 daily close."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in result.get("markets", []):
        groups.setdefault(m["pollutant"], []).append(m["path"])
    out = {}
    for pol, paths in sorted(groups.items()):
        n = len(paths)
        out[pol] = tuple([round(sum(p[q][d] for p in paths) / n)
                          for d in range(len(paths[0][q]))]
                         for q in ("p5", "p50", "p95"))
    return out  # type: ignore[return-value]


def _side(run: dict[str, Any], tag: str) -> str:
    return f"{tag} · #{run['id']} {run['result'].get('scenario_name') or ''}".strip()


def charts(runs: list[tuple[str, dict[str, Any]]], lang: str) -> dict[str, Any]:
    """The comparison's charts: one price path per pollutant, costs, abatement by sector."""
    _ = translator(lang)
    paths = {tag: pollutant_paths(r["result"]) for tag, r in runs}
    pols = sorted({p for v in paths.values() for p in v})
    out: dict[str, Any] = {"paths": {}}
    for pol in pols:
        series = [(_side(r, tag), *paths[tag][pol]) for tag, r in runs if pol in paths[tag]]
        out["paths"][pol] = path_chart(
            series, title=_("Price path of %(pollutant)s (yuan per tonne; median and 5th-95th "
                            "percentile over seeds)") % {
                                "pollutant": label("pollutant", pol, lang)},
            day_label=_("Day"), empty_text=_("No results"))
    names = {"simulated": _("Simulated"), "least_cost": _("Least cost (LP)"),
             "before_trading": _("Before trading"), "no_trade": _("No trading")}
    cats = [names[c] for c in COSTS]
    out["costs"] = value_bars(
        cats, [(_side(r, tag), [int(r["result"]["cost_fen"].get(c, {}).get("mean", 0))
                                for c in COSTS]) for tag, r in runs],
        title=_("Total abatement cost (yuan, mean over seeds)"),
        fmt=lambda v: yuan_text(v, lang), empty_text=_("No results"))
    keys = sorted({(row["sector"], row["pollutant"]) for _t, r in runs
                   for row in r["result"].get("by_sector", [])})
    cats = [f"{label('sector', s, lang)} · {label('pollutant', p, lang)}" for s, p in keys]
    bars: list[tuple[str, list[int]]] = []
    for tag, r in runs:
        rows = {(row["sector"], row["pollutant"]): row for row in r["result"]["by_sector"]}
        bars.append((_side(r, tag), [int(rows[k]["abated_kg"]) if k in rows else 0
                                       for k in keys]))
    out["abatement"] = value_bars(cats, bars, title=_("Abatement by sector (tonnes)"),
                                  fmt=lambda v: tonnes_text(v, lang),
                                  empty_text=_("No results"))
    return out


def _page(request: Request, status: int = 200, *, a: int | None = None,
          b: int | None = None, form: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, err: str | None = None) -> HTMLResponse:
    p = _p(request)
    runs = sim.list_runs(p.uow(), limit=200)
    scenarios = alloc.list_scenarios(p.uow(), limit=200)["items"]
    shown: list[tuple[str, dict[str, Any]]] = []
    for tag, rid in (("A", a), ("B", b)):
        if rid is None:
            continue
        try:
            shown.append((tag, sim.run_view(p.uow(), rid)))
        except DomainError as exc:
            err, status = error_text(exc, lang_of(request)), status_of(exc)
    return render(request, "simulations.html", status_code=status, runs=runs,
                  scenarios=scenarios, shown=shown, a=a, b=b,
                  charts=charts(shown, lang_of(request)) if shown else {},
                  paths={tag: pollutant_paths(r["result"]) for tag, r in shown},
                  COSTS=COSTS, STRATEGIES=STRATEGIES, MAX_SEEDS=MAX_API_SEEDS,
                  form=form or {"seeds": "5", "days": "250", "strategy": "mixed"},
                  errors=errors or {}, err=err)


@router.get("/analyst/simulations", response_class=HTMLResponse)
def simulations(request: Request, a: QueryId = None, b: QueryId = None,
                user: Principal = Analysis) -> HTMLResponse:
    return _page(request, a=a, b=b)


@router.post("/analyst/simulations", response_model=None)
def run_simulation(request: Request, scenario: Annotated[str, Form()] = "",
                   seeds: Annotated[str, Form()] = "", days: Annotated[str, Form()] = "",
                   strategy: Annotated[str, Form()] = "",
                   user: Principal = Analysis) -> RedirectResponse | HTMLResponse:
    form = {"scenario": scenario, "seeds": seeds, "days": days, "strategy": strategy}
    errors = forms.FieldErrors()
    sid = forms.whole(scenario, "scenario", errors, lo=1, hi=2**53)
    n = forms.whole(seeds, "seeds", errors, lo=1, hi=MAX_API_SEEDS)
    d = forms.whole(days, "days", errors, lo=1, hi=250)
    strat = forms.choice(strategy, "strategy", errors, STRATEGIES)
    audit(request, "run_simulation", scenario[:20] or None)
    if errors or sid is None or n is None or d is None:
        return _page(request, 422, form=form, errors=errors)
    try:
        out = sim.run_simulation(_p(request).uow, scenario_id=sid, actor=user.username,
                                 seeds=n, days=d, strategy=strat)
    except DomainError as exc:
        errors.add(exc.field if exc.field in form else "form", error_text(exc, lang_of(request)))
        return _page(request, status_of(exc), form=form, errors=errors)
    request.state.audit["target"] = str(out["id"])
    _ = translator(lang_of(request))
    return see_other(f"/analyst/simulations?a={out['id']}",
                     msg=_("Simulation run #%(id)s stored.") % {"id": out["id"]})
