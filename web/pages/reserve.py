"""Bureau reserve dashboard and standard changes: reserve balances per pollutant and zone (from
the ledger), reserve requests, the reserve-release optimiser (plan, shadow prices, the
diagnosis of an infeasible problem), release of a plan (second-officer approval when the
policy asks for it), new standards with the permit quantities they flag, and the bureau's
decision on a held-back flag: recover the rights above the new cap to the reserve, or buy
them back at a price (the base price by default)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from allocation.parameters import STANDARD_KINDS, get_parameters
from identity import service as identity
from identity.roles import Principal
from kernel.errors import DomainError
from ledger import service as ledger_service
from trading.prices import base_price
from web import approval_words, approvals
from web.api.allocation import decide_flag
from web.auth import city_bureau, csrf_protect, ensure_permit_access, require
from web.errors import status_of
from web.messages import confirm, error_text
from web.pages import forms
from web.pages.base import _p, audit, see_other
from web.pages.render import POLLUTANTS, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Bureau = Depends(require("permit:manage"))  # writes: the approval department
Id = Annotated[int, Path(ge=1, le=2**53)]
QueryId = Annotated[int | None, Query(ge=1, le=2**53)]
APPLICANTS = ("requests", "headroom")
OBJECTIVES = ("priority", "max_min")
#: a flag's status as shown ("open" alone would read as a market's state)
FLAG_STATUS = {"open": "not applied", "applied": "applied", "held_back": "held_back",
               "recovered": "recovered", "bought_back": "bought_back"}
DECISIONS = ("recover", "buy_back")


def reserve_balances(request: Request) -> list[dict[str, Any]]:
    """The bureau reserve's accounts: pollutant, zone, vintage, balance, on hold, available."""
    out = []
    for h in ledger_service.holdings(_p(request).uow(), [ledger_service.BUREAU]):
        if h["kind"] != "reserve":
            continue
        pollutant, zone, vintage = str(h["asset"]).split("/")
        out.append({"pollutant": pollutant, "zone": zone, "vintage": int(vintage),
                    "balance": h["balance"], "on_hold": h["on_hold"],
                    "available": h["available"], "frozen": h["frozen"]})
    return sorted(out, key=lambda r: (-r["vintage"], r["zone"], r["pollutant"]))


def _reserve_page(request: Request, status: int = 200, *, plan_id: int | None = None,
                  **ctx: Any) -> HTMLResponse:
    p = _p(request)
    plan = alloc.reserve_plan_view(p.uow(), plan_id) if plan_id is not None else None
    ctx.setdefault("forms", {"plan": {}, "request": {}})
    ctx.setdefault("errors", {})
    return render(request, "reserve.html", status_code=status,
                  balances=reserve_balances(request), plan=plan,
                  release_needs_approval=identity.approval_required(p.uow(),
                                                                    "reserve_release"),
                  APPLICANTS=APPLICANTS, OBJECTIVES=OBJECTIVES, **ctx)


@router.get("/bureau/reserve", response_class=HTMLResponse)
def reserve(request: Request, plan: QueryId = None,
            user: Principal = Bureau) -> HTMLResponse:
    return _reserve_page(request, plan_id=plan)


@router.post("/bureau/reserve/requests", response_model=None)
def reserve_request(request: Request, permit: Annotated[str, Form()] = "",
                    pollutant: Annotated[str, Form()] = "", year: Annotated[str, Form()] = "",
                    qty_kg: Annotated[str, Form()] = "", priority: Annotated[str, Form()] = "",
                    min_pct: Annotated[str, Form()] = "",
                    all_or_nothing: Annotated[str, Form()] = "",
                    user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(permit=permit, pollutant=pollutant, year=year, qty_kg=qty_kg,
                priority=priority, min_pct=min_pct, all_or_nothing=all_or_nothing)
    errors = forms.FieldErrors()
    permit = forms.text(permit, "permit", errors, max_len=22)
    forms.choice(pollutant, "pollutant", errors, tuple(POLLUTANTS))
    y = forms.whole(year, "year", errors, lo=1990, hi=2200)
    qty = forms.whole(qty_kg, "qty_kg", errors)
    prio = forms.whole(priority, "priority", errors, lo=1, hi=100, required=False) or 1
    pct = forms.whole(min_pct, "min_pct", errors, lo=0, hi=100, required=False) or 0
    audit(request, "request_reserve", permit, f"{qty_kg} kg {pollutant} {year}")
    status = 422
    if not errors and y is not None and qty is not None:
        try:
            ensure_permit_access(user, permit)
            out = alloc.request_reserve(_p(request).uow(), permit=permit, pollutant=pollutant,
                                        year=y, qty_kg=qty, priority=prio, min_pct=pct,
                                        all_or_nothing=all_or_nothing == "on",
                                        actor=user.username)
        except DomainError as exc:
            errors.from_domain(exc)
            status = status_of(exc)
        else:
            return see_other("/bureau/reserve", msg=confirm(
                "Reserve request #{id}: {qty} t of {pollutant} {year} for {permit}.",
                id=out["id"], qty_kg=qty, pollutant=("pollutant", pollutant), year=y,
                permit=permit))
    return _reserve_page(request, status, forms={"plan": {}, "request": form},
                         errors={"request": errors})


@router.post("/bureau/reserve/plans",
             dependencies=[Depends(city_bureau)], response_model=None)
def reserve_plan(request: Request, year: Annotated[str, Form()] = "",
                 applicants: Annotated[str, Form()] = "requests",
                 retained_share: Annotated[str, Form()] = "0",
                 objective: Annotated[str, Form()] = "priority",
                 user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(year=year, applicants=applicants, retained_share=retained_share,
                objective=objective)
    errors = forms.FieldErrors()
    y = forms.whole(year, "year", errors, lo=1990, hi=2200)
    forms.choice(applicants, "applicants", errors, APPLICANTS)
    forms.choice(objective, "objective", errors, OBJECTIVES)
    share = (retained_share or "0").strip()
    audit(request, "plan_reserve_release", year, applicants)
    status = 422
    if not errors and y is not None:
        try:
            out = alloc.plan_reserve_release(
                _p(request).uow, year=y, applicants=applicants, retained_share=share,
                objective=objective, actor=user.username)
        except DomainError as exc:
            errors.add("form", error_text(exc))
            status = status_of(exc)
        else:
            request.state.audit["target"] = str(out["id"])
            return see_other(f"/bureau/reserve?plan={out['id']}",
                             msg=confirm("Reserve plan #{id}: {status}.", id=out["id"],
                                         status=("status", out["status"])))
    return _reserve_page(request, status, forms={"plan": form, "request": {}},
                         errors={"plan": errors})


@router.post("/bureau/reserve/plans/{plan_id}/release",
             dependencies=[Depends(city_bureau)], response_model=None)
def release(request: Request, plan_id: Id, user: Principal = Bureau) -> RedirectResponse:
    p = _p(request)
    summary = f"release reserve plan {plan_id}"
    audit(request, "release_reserve_plan", str(plan_id), summary)
    alloc.reserve_plan_view(p.uow(), plan_id)
    outcome, result = approvals.run_or_request(
        p, user, tx_type="reserve_release", action="release_reserve_plan",
        target=str(plan_id), payload={"plan": plan_id}, summary=summary)
    if outcome == "pending":
        request.state.audit["action"] = "request_approval"
        return see_other(f"/bureau/reserve?plan={plan_id}",
                         msg=approval_words.request_message(request, p, result))
    return see_other(f"/bureau/reserve?plan={plan_id}",
                     msg=confirm("Plan {id} released.", id=plan_id))


# standards ---------------------------------------------------------------------------------

def _base_price_yuan(pollutant: str) -> str:
    """The base price (trading.prices) as yuan per tonne: the buy-back form's default."""
    try:
        fen = base_price(pollutant)
    except KeyError:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


def _standards_page(request: Request, status: int = 200, *, standard: int | None = None,
                    flag_status: str | None = None, form: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None,
                    decide: dict[str, Any] | None = None) -> HTMLResponse:
    p = _p(request)
    flags = alloc.standard_flags(p.uow(), standard=standard, status=flag_status, limit=500)
    return render(request, "standards.html", status_code=status, flags=flags,
                  standard=standard, flag_status=flag_status or "",
                  SOURCES=list(get_parameters().sources), KINDS=STANDARD_KINDS,
                  FLAG_STATUS=FLAG_STATUS, DECISIONS=DECISIONS, form=form or {},
                  errors=errors or {}, decide=decide or {"form": {}, "errors": {}},
                  base_price=_base_price_yuan,
                  decision_needs_approval={
                      d: identity.approval_required(p.uow(), alloc.RECOVERY_DECISIONS[d][0])
                      for d in DECISIONS})


@router.get("/bureau/standards", response_class=HTMLResponse)
def standards(request: Request, standard: QueryId = None,
              status: Annotated[str | None, Query(
                  pattern="^(open|applied|held_back|recovered|bought_back)?$")] = None,
              user: Principal = Bureau) -> HTMLResponse:
    return _standards_page(request, standard=standard, flag_status=status or None)


def _price_fen(value: str, errors: forms.FieldErrors) -> int | None:
    """Yuan per tonne as text → fen per tonne, at least 0, on the 0.01 tick."""
    v = (value or "").strip().replace(",", "")
    if not v:
        errors.add("price", "required for a buy-back")
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        errors.add("price", "must be a number of yuan per tonne")
        return None
    if not d.is_finite() or d < 0 or d > Decimal(10**10):
        errors.add("price", "must be a price of at least 0 yuan per tonne")
        return None
    fen = d * 100
    if fen != fen.to_integral_value():
        errors.add("price", "off the tick (0.01 yuan per tonne)")
        return None
    return int(fen)


@router.post("/bureau/standards/decisions",
             dependencies=[Depends(city_bureau)], response_model=None)
def decide_standard_flag(request: Request, flag: Annotated[str, Form()] = "",
                         decision: Annotated[str, Form()] = "",
                         price: Annotated[str, Form()] = "",
                         back: Annotated[str, Form()] = "",
                         user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    """Recover or buy back a held-back flag's rights above the new cap (through the
    second-officer approval when the policy asks for it)."""
    form = dict(flag=flag, decision=decision, price=price)
    errors = forms.FieldErrors()
    flag_id = forms.whole(flag, "flag", errors, lo=1, hi=2**53)
    forms.choice(decision, "decision", errors, DECISIONS)
    fen = _price_fen(price, errors) if decision == "buy_back" else None
    audit(request, "decide_standard_flag", flag, decision)
    standard = int(back) if back.isdigit() and 0 < len(back) < 16 else None
    url = f"/bureau/standards?standard={standard}" if standard else "/bureau/standards"
    status = 422
    if not errors and flag_id is not None:
        try:
            outcome, result = decide_flag(_p(request), user, flag=flag_id, decision=decision,
                                          price=fen)
        except DomainError as exc:
            errors.add(exc.field if exc.field in ("price", "decision") else "form",
                       error_text(exc))
            status = status_of(exc)
        else:
            if outcome == "pending":
                request.state.audit["action"] = "request_approval"
                return see_other(url, msg=approval_words.request_message(
                    request, _p(request), result))
            return see_other(url, msg=confirm("Flag {id}: {moved} t {status}.", id=flag_id,
                                                  moved_kg=result["moved_kg"],
                                                  status=("status", result["status"])))
    return _standards_page(request, status, standard=standard,
                           decide={"form": form, "errors": errors, "flag": flag})


@router.post("/bureau/standards",
             dependencies=[Depends(city_bureau)], response_model=None)
def register_standard(request: Request, name: Annotated[str, Form()] = "",
                      effective: Annotated[str, Form()] = "",
                      source: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "",
                      pollutant: Annotated[str, Form()] = "",
                      limit: Annotated[str, Form()] = "",
                      user: Principal = Bureau) -> RedirectResponse | HTMLResponse:
    form = dict(name=name, effective=effective, source=source, kind=kind,
                pollutant=pollutant, limit=limit)
    errors = forms.FieldErrors()
    name = forms.text(name, "name", errors, max_len=80)
    effective = forms.text(effective, "effective", errors, max_len=10)
    forms.choice(source, "source", errors, tuple(get_parameters().sources))
    forms.choice(kind, "kind", errors, tuple(STANDARD_KINDS))
    forms.choice(pollutant, "pollutant", errors, tuple(POLLUTANTS))
    value = forms.text(limit, "limit", errors, max_len=20)
    audit(request, "register_standard", name, effective)
    status = 422
    if not errors:
        try:
            out = alloc.register_standard(
                _p(request).uow(), name=name, effective=effective,
                limits={source: {kind: {pollutant: value}}}, actor=user.username)
        except DomainError as exc:
            fld = exc.field or ""
            errors.add("effective" if fld == "effective" else "name" if fld == "name"
                       else "limit" if fld.startswith("limits") else "form",
                       error_text(exc))
            status = status_of(exc)
        else:
            request.state.audit["target"] = str(out["id"])
            return see_other(f"/bureau/standards?standard={out['id']}",
                             msg=confirm("Standard #{id} {name}: {flagged} quantities of {permits} "
                                         "permits flagged.", id=out["id"], name=out["name"],
                                         flagged=out["flagged"], permits=out["permits"]))
    return _standards_page(request, status, form=form, errors=errors)


@router.post("/bureau/standards/{standard_id}/apply",
             dependencies=[Depends(city_bureau)], response_model=None)
def apply_standard(request: Request, standard_id: Id,
                   user: Principal = Bureau) -> RedirectResponse:
    audit(request, "apply_standard", str(standard_id))
    out = alloc.apply_standard(_p(request).uow(), standard_id=standard_id,
                               actor=user.username)
    return see_other(f"/bureau/standards?standard={standard_id}",
                     msg=confirm("Standard {name}: {applied} applied, {held} held back.",
                                 name=out["name"], applied=out["applied"],
                                 held=out["held_back"]))
