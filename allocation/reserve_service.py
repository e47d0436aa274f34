"""The bureau reserve: requests for reserve rights, the release problem built from the
database, its optimised plan (`allocation.reserve`, `allocation.reserve_lp`) and the
plan's release into the permits' confirmed accounts with the paid-use charges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from allocation import errors as alloc_errors
from allocation import paid_use_service as paid_use
from allocation.checks import positive, usable_quantity
from allocation.permits import check_usable
from allocation.store import AllocationStore, RegistryStore
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError, InvalidInput
from kernel.pollutants import parse_pollutant
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator


def request_reserve(uow: UoW, *, permit: str, pollutant: str, year: int, qty_kg: int,
                    priority: int = 1, min_pct: int = 0, all_or_nothing: bool = False,
                    actor: str, note: str | None = None,
                    now: datetime | None = None) -> dict[str, Any]:
    """A permit asks for reserve rights (planned by `plan_reserve_release`)."""
    from allocation.tables import ReserveRequestRow

    now = now or system_clock()
    pol = parse_pollutant(pollutant).value
    qty = positive(qty_kg)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100:
        raise InvalidInput("priority must be a whole number from 1 to 100", field="priority")
    if isinstance(min_pct, bool) or not isinstance(min_pct, int) or not 0 <= min_pct <= 100:
        raise InvalidInput("min_pct must be a whole percentage", field="min_pct")
    with uow:
        store = RegistryStore(uow.session)
        _p, q = usable_quantity(store, permit, pol, year, trading_day(now), lock=False)
        row = ReserveRequestRow(permit=permit, pollutant=pol, year=year, qty_kg=qty,
                                priority=priority, min_pct=min_pct,
                                all_or_nothing=bool(all_or_nothing), status="open",
                                created_by=actor, created_at=now, note=note)
        AllocationStore(uow.session).add(row)
        uow.commit()
        return {"id": row.id, "permit": permit, "pollutant": pol, "year": year,
                "zone": q.zone, "qty_kg": qty, "priority": priority, "min_pct": min_pct,
                "all_or_nothing": bool(all_or_nothing), "status": "open",
                "cap_headroom_kg": max(q.cap_kg - q.permitted_kg, 0)}


def _reserve_balances(uow: UoW, year: int) -> dict[tuple[str, str], int]:
    """(pollutant, zone) -> available kg of the bureau reserve for vintage `year`."""
    out: dict[tuple[str, str], int] = {}
    for a in LedgerStore(uow.session).accounts_of([ledger.BUREAU]):
        if a.kind != AccountKind.RESERVE:
            continue
        pol, zone, vintage = a.asset.split("/")
        if int(vintage) == year:
            out[(pol, zone)] = max(a.available, 0)
    return out


def build_reserve_problem(uow: UoW, *, year: int, applicants: str = "requests",
                          zones: Sequence[str] | None = None,
                          pollutants: Sequence[str] | None = None,
                          retained_share: str = "0", objective: str = "priority",
                          now: datetime | None = None) -> dict[str, Any]:
    """The reserve-release problem (its JSON form, `allocation.reserve.parse_problem`) from
    the database: the bureau's reserve balances of the vintage, and applicants per permit and
    zone: open requests (``requests``) or every usable permit's headroom (``headroom``),
    bounded by cap headroom = cap - permitted quantity."""
    now = now or system_clock()
    if applicants not in ("requests", "headroom"):
        raise InvalidInput("applicants must be requests or headroom", field="applicants")
    pols = {parse_pollutant(p).value for p in pollutants} if pollutants else None
    zone_set = set(zones) if zones else None
    today = trading_day(now)
    with uow:
        store = AllocationStore(uow.session)
        balances = _reserve_balances(uow, year)
        rows = {(q.permit, q.pollutant): q for q in store.quantity_rows([year])}
        info = {code: (st, vf, vt) for code, st, _s, vf, vt, _v, _c, _u in store.facilities()}
        apps: dict[tuple[str, str], dict[str, Any]] = {}
        request_ids: dict[str, list[int]] = {}
        excluded: list[str] = []

        def usable(code: str) -> bool:
            st, vf, vt = info[code]
            return st == "valid" and vf <= today <= vt and vf.year <= year <= vt.year

        def want(q: Any) -> bool:
            return ((pols is None or q.pollutant in pols)
                    and (zone_set is None or q.zone in zone_set))

        if applicants == "requests":
            for r in store.open_requests(year):
                q = rows.get((r.permit, r.pollutant))
                if q is None or not want(q):
                    continue
                if not usable(r.permit):
                    excluded.append(f"request {r.id}: permit {r.permit} is not usable")
                    continue
                a = apps.setdefault((r.permit, q.zone), {
                    "id": f"{r.permit}@{q.zone}", "zone": q.zone, "demand_kg": {},
                    "cap_headroom_kg": {}, "priority": 1, "min_fraction": "0",
                    "all_or_nothing": False})
                a["demand_kg"][r.pollutant] = a["demand_kg"].get(r.pollutant, 0) + r.qty_kg
                a["cap_headroom_kg"][r.pollutant] = max(q.cap_kg - q.permitted_kg, 0)
                a["priority"] = max(a["priority"], r.priority)
                a["min_fraction"] = str(max(Decimal(a["min_fraction"]),
                                            Decimal(r.min_pct) / 100))
                a["all_or_nothing"] = a["all_or_nothing"] or r.all_or_nothing
                request_ids.setdefault(a["id"], []).append(r.id)
        else:
            for (code, pol), q in rows.items():
                head = q.cap_kg - q.permitted_kg
                if head <= 0 or not want(q) or not usable(code):
                    continue
                a = apps.setdefault((code, q.zone), {
                    "id": f"{code}@{q.zone}", "zone": q.zone, "demand_kg": {},
                    "cap_headroom_kg": {}})
                a["demand_kg"][pol] = head
                a["cap_headroom_kg"][pol] = head
        needed = {(p, a["zone"]) for a in apps.values() for p in a["demand_kg"]}
        reserve = [{"pollutant": p, "zone": z, "available_kg": balances.get((p, z), 0)}
                   for p, z in sorted(needed | {k for k in balances if (
                       pols is None or k[0] in pols) and (zone_set is None or k[1] in zone_set)})]
    return {"name": f"reserve release {year} ({applicants})", "objective": objective,
            "retained_share": retained_share, "reserve": reserve,
            "applicants": [apps[k] for k in sorted(apps)],
            "_requests": request_ids, "_excluded": excluded}


def plan_reserve_release(uow_factory: Any, *, year: int, applicants: str = "requests",
                         zones: Sequence[str] | None = None,
                         pollutants: Sequence[str] | None = None,
                         retained_share: str = "0", objective: str = "priority",
                         engine: str = "auto", actor: str,
                         prices: Mapping[str, object] | None = None,
                         now: datetime | None = None) -> dict[str, Any]:
    """Build the problem from the database, optimise it, store the plan and its grants.

    An infeasible problem is stored with its diagnosis (status ``infeasible``); a solver that
    stops without proof of optimality gives status ``not_optimal``; neither can be released.
    """
    from allocation.reserve import parse_problem
    from allocation.reserve_lp import optimise
    from allocation.tables import ReservePlanRow

    now = now or system_clock()
    doc = build_reserve_problem(uow_factory(), year=year, applicants=applicants, zones=zones,
                                pollutants=pollutants, retained_share=retained_share,
                                objective=objective, now=now)
    requests = doc.pop("_requests")
    excluded = doc.pop("_excluded")
    # the price each grantee pays per pollutant, never below a published base price
    plan_prices = paid_use.rules.plan_prices({r["pollutant"] for r in doc["reserve"]}, prices)
    if not doc["applicants"]:
        raise alloc_errors.NothingToCompute(f"no applicant for reserve in {year}",
                                            field="applicants")
    report = optimise(parse_problem(doc), engine=engine)
    grants = report.pop("grants", None) or []
    if report["status"] == "infeasible":
        status = "infeasible"
    elif report.get("proven_optimal") and report.get("check", {}).get("ok"):
        status = "planned"
    else:
        status = "not_optimal"
    report["excluded"] = excluded
    report["requests"] = requests
    with uow_factory() as uow:
        store = AllocationStore(uow.session)
        plan = ReservePlanRow(year=year, applicants=applicants, status=status,
                              created_by=actor, created_at=now, problem=doc, report=report,
                              prices=plan_prices)
        store.add(plan)
        rows = []
        for g in grants:
            permit, zone = g["id"].rsplit("@", 1)
            for pol, kg in g["granted_kg"].items():
                if kg > 0:
                    rows.append(dict(plan=plan.id, permit=permit, pollutant=pol, zone=zone,
                                     year=year, granted_kg=kg, released_kg=0,
                                     status="planned", note=None))
        store.add_grants(rows)
        uow.commit()
        plan_id = plan.id
    return reserve_plan_view(uow_factory(), plan_id)


def reserve_plan_view(uow: UoW, plan_id: int) -> dict[str, Any]:
    with uow:
        store = AllocationStore(uow.session)
        plan = store.plan(plan_id)
        if plan is None:
            raise alloc_errors.ReservePlanNotFound(f"no reserve plan {plan_id}", field="id")
        return {"id": plan.id, "year": plan.year, "applicants": plan.applicants,
                "status": plan.status, "created_by": plan.created_by,
                "created_at": plan.created_at.isoformat(), "released_by": plan.released_by,
                "released_at": plan.released_at.isoformat() if plan.released_at else None,
                "report": plan.report, "prices": plan.prices,
                "grants": [{"permit": g.permit, "pollutant": g.pollutant, "zone": g.zone,
                            "year": g.year, "granted_kg": g.granted_kg,
                            "released_kg": g.released_kg, "status": g.status, "note": g.note,
                            "price": g.price, "amount_fen": g.amount_fen}
                           for g in store.grants(plan_id)]}


def release_reserve_plan(uow: UoW, *, plan_id: int, actor: str,
                         now: datetime | None = None) -> dict[str, Any]:
    """Release a plan's grants from the bureau reserve into the permits' confirmed accounts
    (ledger type ``reserve_release``) in one unit of work: each grant never above the permit's
    cap (clipped to the headroom left at release), the permit's permitted quantity and
    history updated with it. The plan's requests become granted; other plans of the year
    still planned become superseded (the balances they used changed)."""
    from ledger.entries import MAX_BATCH

    now = now or system_clock()
    today = trading_day(now)
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store = AllocationStore(uow.session)
        reg = RegistryStore(uow.session)
        plan = store.plan(plan_id, lock=True)
        if plan is None:
            raise alloc_errors.ReservePlanNotFound(f"no reserve plan {plan_id}", field="id")
        if plan.status != "planned":
            raise alloc_errors.PlanNotReleasable(
                f"reserve plan {plan_id} is {plan.status}: only a planned plan (feasible, "
                "proven optimal, re-checked) can be released", field="id")
        grants = store.grants(plan_id)
        charges = paid_use.ReleaseCharges(uow, plan_id=plan_id, prices=plan.prices, now=now,
                                          pollutants={g.pollutant for g in grants})
        transfers: list[Transfer] = []
        after: list[tuple[Any, int, int, str]] = []
        for g in grants:
            p = reg.permit(g.permit)
            q = reg.quantity(g.permit, g.pollutant, g.year, lock=True)
            if p is None or q is None:
                g.status, g.note = "skipped", "permit or quantity no longer exists"
                continue
            try:
                check_usable(p, g.year, today)
            except DomainError as exc:
                g.status, g.note = "skipped", exc.message
                continue
            accts = ledger.ensure_rights_accounts(
                uow, holder=g.permit, pollutant=g.pollutant, zone=g.zone, vintage=g.year,
                kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
                upper_limit=q.cap_kg)
            reserve = ledger.ensure_rights_accounts(
                uow, holder=ledger.BUREAU, pollutant=g.pollutant, zone=g.zone, vintage=g.year,
                kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
            held = LedgerStore(uow.session).get_account(accts[AccountKind.CONFIRMED])
            assert held is not None
            # released rights join the permit, which never goes above its cap
            room = min(q.cap_kg - held.balance - held.credits_pending,
                       q.cap_kg - q.permitted_kg)
            qty = min(g.granted_kg, room)
            if qty <= 0:
                g.status, g.note = "skipped", f"no headroom left under the cap of {q.cap_kg} kg"
                continue
            pay, unpaid = charges.charge(g, qty, p.enterprise)  # qty × the plan's price
            if unpaid is not None:
                g.status, g.note = "skipped", unpaid
                continue
            tid = f"release:{plan_id}:{g.permit}:{g.pollutant}:{g.year}"
            transfers.append(Transfer(tid, "reserve_release", reserve,
                                      accts[AccountKind.CONFIRMED], qty,
                                      reference=f"reserve_plan:{plan_id}"))
            transfers.extend(pay)
            after.append((g, qty, q.permitted_kg + qty, tid))
            if qty < g.granted_kg:
                g.note = f"clipped to the cap: {g.granted_kg - qty} kg not released"
        for i in range(0, len(transfers), MAX_BATCH):
            ledger.execute(uow, transfers[i:i + MAX_BATCH], initiator=Initiator.BUREAU,
                           actor=actor, now=now)
        released = 0
        for g, qty, permitted_after, tid in after:
            reg.set_permitted(g.permit, g.pollutant, g.year, permitted_after, confirmed=True)
            reg.add_event(permit=g.permit, pollutant=g.pollutant, year=g.year,
                          kind="reserve_release", qty_kg=qty, counterparty="RESERVE",
                          price=None, reference=tid, permitted_after_kg=permitted_after,
                          at=now, note=f"reserve plan {plan_id}")
            g.released_kg, g.status = qty, "released"
            released += qty
        ids = [i for lst in (plan.report or {}).get("requests", {}).values() for i in lst]
        store.set_request_status(ids, "granted")
        plan.status, plan.released_by, plan.released_at = "released", actor, now
        store.supersede_plans(plan.year, plan.id)
        uow.commit()
        return {"id": plan_id, "status": "released", "released_kg": released,
                "grants": len(after), "skipped": sum(g.status == "skipped" for g in grants)}
