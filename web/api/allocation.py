"""JSON API of allocation under /api/v1: calculation sheets, whole-municipality computation,
apportionment, the reserve optimiser and plans, scenarios and standards.

Each route checks the caller's role (web.auth), then calls one use case of
`allocation.service` (or a pure core for the two calculators); routes never commit. Inputs
that the pure cores validate field by field (sheets, reserve problems, scenarios) are taken
as JSON objects and rejected by the core with `{error, detail, field}` naming the JSON path.

Access: calculators and scenarios for the bureau and analysts (a scenario is deleted by its
author or the bureau only; comparing writes nothing); anything that writes permits,
indicators or the ledger (computations, apportionments, standards and the recovery decisions
on their held-back flags, reserve requests, plans and releases) for the bureau. A release
or a recovery decision moves rights: when the approval policy requires a second officer for
its ledger type (``reserve_release``, ``recovery``, ``reserve_buyback``) the answer is 202
with the approval request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from allocation import service as alloc
from identity.roles import BUREAU, Principal, Role
from web import approvals
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.api.models import JsonObject
from web.auth import city_bureau, csrf_protect, ensure_permit_access, require, require_role

router = APIRouter(dependencies=[Depends(csrf_protect)])

Bureau = Depends(require("permit:manage"))  # writes: the approval department
Analysis = Depends(require_role(Role.ANALYST, *BUREAU))
Id = Annotated[int, Path(ge=1, le=2**53)]
Offset = Annotated[int, Query(ge=0, le=10**7)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Year = Annotated[int, Field(ge=1990, le=2200)]
JsonDoc = Annotated[JsonObject, Body(description="a JSON object; see the README")]


# calculators -------------------------------------------------------------------------------

@router.post("/allocation/permitted-quantity", tags=["allocation"], responses=READ)
def permitted_quantity(sheet: JsonDoc, _user: Principal = Analysis) -> dict[str, Any]:
    """Compute a calculation sheet (the same document as `erts permitted-quantity`): every
    basis per pollutant, the binding one and the outlet lines."""
    from allocation.sheet import compute_sheet

    return compute_sheet(sheet)


@router.post("/reserve/optimise", tags=["reserve"], responses=READ)
def reserve_optimise(problem: JsonDoc, _user: Principal = Analysis) -> dict[str, Any]:
    """Optimise a reserve-release problem given as JSON (as `erts reserve optimise`). An
    infeasible problem answers 200 with ``status: infeasible`` and its diagnosis; a solver
    that stops without proof of optimality says so (``proven_optimal: false``)."""
    from allocation.reserve_lp import optimise_json

    return optimise_json(problem)


# whole-municipality computation ------------------------------------------------------------

class ComputationIn(Strict):
    parameter_version: str | None = Field(None, max_length=40, examples=["2025.1"])
    scenario: int | None = Field(None, ge=1, le=2**53,
                                 description="apply a stored scenario's parameter changes "
                                             "(ultra-low, standards, hours)")
    years: list[Year] | None = Field(None, max_length=50)


@router.post("/allocation/computations",
             dependencies=[Depends(city_bureau)], tags=["allocation"], status_code=201,
             responses=WRITE)
def compute(request: Request, body: ComputationIn | None = None,
            user: Principal = Bureau) -> dict[str, Any]:
    """Recompute every permit's specification basis, cap, permitted quantity and binding
    basis in one transaction; the run records who, when, the parameter version, the scenario
    and every changed row."""
    body = body or ComputationIn.model_validate({})
    _audit(request, "compute_permitted_quantities", body.parameter_version,
           f"scenario={body.scenario} years={body.years}")
    out = alloc.compute_permitted_quantities(
        _p(request).uow(), actor=user.username, parameter_version=body.parameter_version,
        scenario=body.scenario, years=body.years)
    request.state.audit["target"] = str(out["id"])
    return out


@router.get("/allocation/computations/{run_id}", tags=["allocation"], responses=READ)
def computation(request: Request, run_id: Id, offset: Offset = 0, limit: Limit = 100,
                _user: Principal = Analysis) -> dict[str, Any]:
    """A computation run and its changed rows (paginated)."""
    return alloc.computation_view(_p(request).uow(), run_id, offset=offset, limit=limit)


class ApportionmentIn(Strict):
    zone: str = Field(min_length=1, max_length=20)
    pollutant: str = Field(min_length=1, max_length=10)
    year: Year
    method: Literal["pro_rata", "grandfathering", "benchmark"] = "pro_rata"
    entries: list[dict[str, Any]] | None = Field(
        None, max_length=100_000, description="grandfathering: {permit, historical_kg}; "
                                              "benchmark: {permit, performance_value, activity}")


@router.post("/allocation/apportionments",
             dependencies=[Depends(city_bureau)], tags=["allocation"], status_code=201,
             responses=WRITE)
def apportionment(request: Request, body: ApportionmentIn,
                  user: Principal = Bureau) -> dict[str, Any]:
    """Apportion a zone's stored indicator, net of its reserve share, to its permits' shares
    (whole kg summing exactly), and recompute permitted quantities and binding bases."""
    _audit(request, "apportion_indicator", f"{body.pollutant}/{body.zone}/{body.year}",
           body.method)
    return alloc.apportion_indicator(_p(request).uow(), zone=body.zone,
                                     pollutant=body.pollutant, year=body.year,
                                     method=body.method, entries=body.entries,
                                     actor=user.username)


# reserve -----------------------------------------------------------------------------------

class ReserveRequestIn(Strict):
    permit: str = Field(min_length=1, max_length=22)
    pollutant: str = Field(min_length=1, max_length=10)
    year: Year
    qty_kg: int = Field(gt=0, le=10**15)
    priority: int = Field(1, ge=1, le=100)
    min_pct: int = Field(0, ge=0, le=100, description="guaranteed minimum, percent")
    all_or_nothing: bool = False
    note: str | None = Field(None, max_length=500)


@router.post("/reserve/requests", tags=["reserve"], status_code=201, responses=WRITE)
def reserve_request(request: Request, body: ReserveRequestIn,
                    user: Principal = Bureau) -> dict[str, Any]:
    """Record a permit's request for reserve rights (planned by POST /reserve/plans)."""
    ensure_permit_access(user, body.permit)
    _audit(request, "request_reserve", body.permit,
           f"{body.qty_kg} kg {body.pollutant} {body.year}")
    return alloc.request_reserve(_p(request).uow(), permit=body.permit,
                                 pollutant=body.pollutant, year=body.year, qty_kg=body.qty_kg,
                                 priority=body.priority, min_pct=body.min_pct,
                                 all_or_nothing=body.all_or_nothing, actor=user.username,
                                 note=body.note)


class PlanIn(Strict):
    year: Year
    applicants: Literal["requests", "headroom"] = Field(
        "requests", description="open requests, or every usable permit's cap headroom")
    zones: list[str] | None = Field(None, max_length=200)
    pollutants: list[str] | None = Field(None, max_length=6)
    retained_share: str = Field("0", max_length=12, pattern=r"^(0(\.\d+)?|1(\.0+)?)$")
    objective: Literal["priority", "max_min"] = "priority"
    engine: Literal["auto", "highs", "sifting", "pulp_highs", "pulp_cbc"] = "auto"


@router.post("/reserve/plans",
             dependencies=[Depends(city_bureau)], tags=["reserve"], status_code=201,
             responses=WRITE)
def reserve_plan(request: Request, body: PlanIn, user: Principal = Bureau) -> dict[str, Any]:
    """Build the reserve problem from the database (reserve balances from the ledger,
    applicants with their cap headroom), optimise, store the plan and its grants. An
    infeasible problem is stored with status ``infeasible`` and its diagnosis."""
    _audit(request, "plan_reserve_release", str(body.year), body.applicants)
    out = alloc.plan_reserve_release(
        _p(request).uow, year=body.year, applicants=body.applicants, zones=body.zones,
        pollutants=body.pollutants, retained_share=body.retained_share,
        objective=body.objective, engine=body.engine, actor=user.username)
    request.state.audit["target"] = str(out["id"])
    return out


@router.get("/reserve/plans/{plan_id}", tags=["reserve"], responses=READ)
def get_reserve_plan(request: Request, plan_id: Id,
                     _user: Principal = Analysis) -> dict[str, Any]:
    return alloc.reserve_plan_view(_p(request).uow(), plan_id)


def _release(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return alloc.release_reserve_plan(platform.uow(), plan_id=int(payload["plan"]),
                                      actor=actor)


approvals.register("release_reserve_plan", _release)


@router.post("/reserve/plans/{plan_id}/release",
             dependencies=[Depends(city_bureau)], tags=["reserve"],
             responses={**WRITE, 202: {"description": "a second officer must approve"}})
def release_plan(request: Request, plan_id: Id, user: Principal = Bureau) -> Any:
    """Release a planned plan's grants from the reserve into the permits' confirmed rights
    (never above a cap), in one transaction with the permits' history."""
    p = _p(request)
    alloc.reserve_plan_view(p.uow(), plan_id)
    summary = f"release reserve plan {plan_id}"
    _audit(request, "release_reserve_plan", str(plan_id), summary)
    outcome, result = approvals.run_or_request(
        p, user, tx_type="reserve_release", action="release_reserve_plan",
        target=str(plan_id), payload={"plan": plan_id}, summary=summary)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(result, status_code=202)
    return result


# scenarios ---------------------------------------------------------------------------------

@router.post("/allocation/scenarios", tags=["scenarios"], status_code=201, responses=WRITE)
def create_scenario(request: Request, scenario: JsonDoc,
                    user: Principal = Analysis) -> dict[str, Any]:
    """Store a named scenario (changes against the baseline; see the README)."""
    _audit(request, "create_scenario", str(scenario.get("name")))
    return alloc.create_scenario(_p(request).uow(), doc=scenario, actor=user.username)


@router.get("/allocation/scenarios", tags=["scenarios"], responses=READ)
def list_scenarios(request: Request, offset: Offset = 0, limit: Limit = 50,
                   _user: Principal = Analysis) -> dict[str, Any]:
    return alloc.list_scenarios(_p(request).uow(), offset=offset, limit=limit)


def compare_without_storing(platform: Any, *, a: int, b: int) -> dict[str, Any]:
    """Two scenarios side by side, writing nothing (a GET must not write): each from its
    latest stored run, or, never run, computed now and not stored (its entry in `runs` is
    null; POST .../runs stores a run)."""
    from allocation.errors import ScenarioError, ScenarioNotFound
    from allocation.scenario import compare, run_json

    results: list[tuple[int | None, dict[str, Any]]] = []
    for which, sid in (("a", a), ("b", b)):
        try:
            view = alloc.scenario_view(platform.uow(), sid)
        except ScenarioNotFound:
            raise ScenarioNotFound(f"no scenario {sid}", field=which) from None
        if view["runs"]:
            run = alloc.scenario_run_view(platform.uow(), view["runs"][0]["id"])
            results.append((run["id"], run))
            continue
        doc = dict(view["changes"])
        year = doc.get("year")
        year = year if isinstance(year, int) and not isinstance(year, bool) else None
        base = alloc.load_baseline(platform.uow(), year=year,
                                   parameter_version=doc.get("parameter_version"))
        results.append((None, run_json(base, doc)))
    if results[0][1].get("year") != results[1][1].get("year"):
        raise ScenarioError("the two scenarios are for different years", field="b")
    out = compare(results[0][1], results[1][1])
    out["runs"] = {"a": results[0][0], "b": results[1][0]}
    return out


def ensure_scenario_owner(platform: Any, user: Principal, scenario_id: int) -> None:
    """Who may change or delete a stored scenario: the user who created it, or a city
    bureau user who may manage permits (`permit:manage`: general officers and the approval
    department; district officers act on their district only). Another analyst may read
    and run it (a run is the runner's own record) but not delete it: 403 ``forbidden``.
    Scenarios are not an enterprise's data: every analyst and bureau user lists them, so a
    missing one answers 404 before this check."""
    from identity.errors import NotAllowed
    from identity.roles import allowed

    view = alloc.scenario_view(platform.uow(), scenario_id)
    if view["created_by"] == user.username:
        return
    if (user.role in BUREAU and user.district is None
            and allowed(user.role, "permit:manage", user.department)):
        return
    raise NotAllowed(f"scenario {scenario_id} belongs to {view['created_by']}: only its "
                     f"author or the bureau may delete it", field="id")


@router.get("/allocation/scenarios/compare", tags=["scenarios"], responses=READ)
def compare_scenarios(request: Request, a: Annotated[int, Query(ge=1, le=2**53)],
                      b: Annotated[int, Query(ge=1, le=2**53)],
                      _user: Principal = Analysis) -> dict[str, Any]:
    """Two scenarios side by side: their latest stored runs; a scenario never run is
    computed for the comparison and not stored (`runs` gives null for it). Writes nothing."""
    return compare_without_storing(_p(request), a=a, b=b)


@router.get("/allocation/scenarios/{scenario_id}", tags=["scenarios"], responses=READ)
def get_scenario(request: Request, scenario_id: Id,
                 _user: Principal = Analysis) -> dict[str, Any]:
    return alloc.scenario_view(_p(request).uow(), scenario_id)


@router.delete("/allocation/scenarios/{scenario_id}", tags=["scenarios"], status_code=204,
               responses=WRITE)
def delete_scenario(request: Request, scenario_id: Id,
                    user: Principal = Analysis) -> Response:
    """Delete a scenario and its runs: its author, or the bureau (see
    `ensure_scenario_owner`); anyone else 403."""
    _audit(request, "delete_scenario", str(scenario_id))
    ensure_scenario_owner(_p(request), user, scenario_id)
    alloc.delete_scenario(_p(request).uow(), scenario_id)
    return Response(status_code=204)


@router.post("/allocation/scenarios/{scenario_id}/runs", tags=["scenarios"], status_code=201,
             responses=WRITE)
def run_scenario(request: Request, scenario_id: Id, permits: bool = False,
                 user: Principal = Analysis) -> dict[str, Any]:
    """Run a scenario against the database baseline of its year: permitted quantities, the
    reserve plan and the deltas by zone, sector and pollutant (``permits=true``: per permit
    too)."""
    _audit(request, "run_scenario", str(scenario_id))
    return alloc.run_scenario(_p(request).uow, scenario_id=scenario_id, actor=user.username,
                              permits=permits)


@router.get("/allocation/scenario-runs/{run_id}", tags=["scenarios"], responses=READ)
def get_scenario_run(request: Request, run_id: Id,
                     _user: Principal = Analysis) -> dict[str, Any]:
    return alloc.scenario_run_view(_p(request).uow(), run_id)


# standards ---------------------------------------------------------------------------------

class StandardIn(Strict):
    name: str = Field(min_length=1, max_length=80, examples=["GB 13271-2027"])
    effective: str = Field(description="ISO date, after today", examples=["2027-07-01"])
    limits: dict[str, dict[str, dict[str, str | None]]] = Field(
        description="source -> national | local | ultra_low -> pollutant -> mg/Nm3 (mg/L)",
        examples=[{"gas_boiler": {"national": {"NOx": "150"}}}])
    parameter_version: str | None = Field(None, max_length=40)


@router.post("/allocation/standards",
             dependencies=[Depends(city_bureau)], tags=["allocation"], status_code=201,
             responses=WRITE)
def register_standard(request: Request, body: StandardIn,
                      user: Principal = Bureau) -> dict[str, Any]:
    """Register a new standard before its effective date: the answer lists every permit
    quantity it changes with the old and new quantity (stored as flags)."""
    _audit(request, "register_standard", body.name, body.effective)
    return alloc.register_standard(_p(request).uow(), name=body.name, effective=body.effective,
                                   limits=body.limits, actor=user.username,
                                   parameter_version=body.parameter_version)


@router.post("/allocation/standards/{standard_id}/apply",
             dependencies=[Depends(city_bureau)], tags=["allocation"],
             responses=WRITE)
def apply_standard(request: Request, standard_id: Id,
                   user: Principal = Bureau) -> dict[str, Any]:
    """Change the flagged quantities to the standard's (caps below confirmed rights are held
    back and flagged so)."""
    _audit(request, "apply_standard", str(standard_id))
    return alloc.apply_standard(_p(request).uow(), standard_id=standard_id,
                                actor=user.username)


@router.get("/allocation/standard-flags", tags=["allocation"], responses=READ)
def standard_flags(request: Request, standard: int | None = Query(None, ge=1, le=2**53),
                   status: str | None = Query(
                       None, pattern="^(open|applied|held_back|recovered|bought_back)$"),
                   permit: str | None = Query(None, max_length=22), offset: Offset = 0,
                   limit: Limit = 100, _user: Principal = Analysis) -> dict[str, Any]:
    """Permit quantities flagged by registered standards; a held-back flag carries the
    `recovery_kg` above its new cap, and a decided one the decision, the kg moved, the price
    and the amount paid."""
    return alloc.standard_flags(_p(request).uow(), standard=standard, status=status,
                                permit=permit, offset=offset, limit=limit)


def _decide(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return alloc.decide_standard_flag(platform.uow(), flag_id=int(payload["flag"]),
                                      decision=payload["decision"],
                                      price=payload.get("price"), actor=actor)


approvals.register("decide_standard_flag", _decide)


def decide_flag(platform: Any, user: Principal, *, flag: int, decision: str,
                price: int | None) -> tuple[str, dict[str, Any]]:
    """Check the decision, then run it, or store an approval request when the policy asks a
    second officer for its ledger type ("recovery" or "reserve_buyback")."""
    fl = alloc.check_recovery_decision(platform.uow(), flag_id=flag, decision=decision,
                                       price=price)
    tx_type = alloc.RECOVERY_DECISIONS[decision][0]
    what = ("recover" if decision == "recover" else
            f"buy back at {price} fen/t")
    summary = (f"{what} {fl['recovery_kg']} kg {fl['pollutant']} {fl['year']} of "
               f"{fl['permit']} (standard flag {flag})")
    return approvals.run_or_request(
        platform, user, tx_type=tx_type, action="decide_standard_flag", target=str(flag),
        payload={"flag": flag, "decision": decision, "price": price}, summary=summary)


class DecisionIn(Strict):
    flag: int = Field(ge=1, le=2**53, description="a held-back standard flag")
    decision: Literal["recover", "buy_back"]
    price: int | None = Field(None, ge=0, le=10**12,
                              description="buy-back price, fen per tonne (required for "
                                          "buy_back; default shown: the base price)")


@router.post("/allocation/standard-decisions",
             dependencies=[Depends(city_bureau)], tags=["allocation"], status_code=201,
             responses={**WRITE, 202: {"description": "a second officer must approve"}})
def decide_standard_flag(request: Request, body: DecisionIn,
                         user: Principal = Bureau) -> Any:
    """Decide a held-back flag: the confirmed rights above the new cap go to the reserve,
    recovered (ledger type ``recovery``) or bought back at `price` (``reserve_buyback``:
    money from the bureau's cash to the enterprise's); then the permit takes the new cap and
    quantity, with a history event, in one transaction. A flag is decided once (409). When
    the approval policy requires a second officer for the type, the answer is 202 with the
    approval request."""
    _audit(request, "decide_standard_flag", str(body.flag), body.decision)
    outcome, result = decide_flag(_p(request), user, flag=body.flag, decision=body.decision,
                                  price=body.price)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return JSONResponse(result, status_code=202)
    return result
