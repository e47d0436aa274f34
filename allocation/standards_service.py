"""New standards and the recovery they may need: register a standard (flag the permits it
changes before its effective date), apply it, and decide each held-back flag (recover or
buy back the confirmed rights above the new cap).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from allocation import errors as alloc_errors
from allocation.computation_service import (
    Municipality,
    confirmed_holdings,
    load_municipality,
    parameters_for,
    quantity_change,
    record_run,
    write_changes,
)
from allocation.facilities import derive
from allocation.parameters import ParameterSet
from allocation.permits import QuantityNotFound, cap_and_allocation
from allocation.scenario import Changes, parse_standard, specification
from allocation.store import AllocationStore, RegistryStore
from allocation.tables import StandardRow
from kernel.clock import system_clock, trading_day
from kernel.pollutants import Pollutant
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator


def register_standard(uow: UoW, *, name: str, effective: str | date,
                      limits: Mapping[str, Any], actor: str,
                      parameter_version: str | None = None,
                      now: datetime | None = None) -> dict[str, Any]:
    """Register a new standard (concentration limits from an effective date) before that
    date: every permitted-quantity row of a year the standard reaches whose cap or permitted
    quantity it changes is flagged with the old and new quantity (a year it enters part-way
    takes the day-weighted mean). Returns the standard and its flags."""
    now = now or system_clock()
    params = parameters_for(parameter_version, now)
    eff = effective.isoformat() if isinstance(effective, date) else effective
    std = parse_standard({"name": name, "effective": eff, "limits": limits}, "", params)
    today = trading_day(now)
    if std.effective <= today:
        raise alloc_errors.ScenarioError(
            f"the effective date {std.effective} must be after today ({today}): permits are "
            "flagged before a standard takes effect", field="effective")
    with uow:
        store = AllocationStore(uow.session)
        if store.standard_named(std.name) is not None:
            raise alloc_errors.NameTaken(f"a standard named {std.name!r} exists", field="name")
        years = [y for y in store.years() if y >= std.effective.year]
        town = load_municipality(store, params, years)
        row = StandardRow(name=std.name, effective=std.effective, limits=dict(limits),
                             parameter_version=params.version, registered_by=actor,
                             registered_at=now, status="registered", applied_run=None)
        store.add(row)
        flags = _standard_flags(town, params, std, int(row.id))
        store.add_flags(flags)
        uow.commit()
        return {"id": row.id, "name": std.name, "effective": std.effective.isoformat(),
                "parameter_version": params.version, "flagged": len(flags),
                "permits": len({f["permit"] for f in flags}),
                "flags": [{k: v for k, v in f.items() if k != "standard"} for f in flags]}


def _standard_flags(town: Municipality, params: ParameterSet, std: Any, standard_id: int
                    ) -> list[dict[str, Any]]:
    if not town.rows:
        return []
    rows = derive(town.sites, params)
    pollutants = tuple(Pollutant)
    years = sorted({q.year for q in town.rows})
    before = {y: specification(rows, params, pollutants, year=y) for y in years}
    after = {y: specification(rows, params, pollutants, year=y,
                              changes=Changes(standards=(std,))) for y in years}
    flags = []
    for q in town.rows:
        f, j = town.index[q.permit], pollutants.index(Pollutant(q.pollutant))
        old, new = int(before[q.year][f, j]), int(after[q.year][f, j])
        if old < 0 or new < 0 or old == new:
            continue
        old_cap, old_alloc, _ = cap_and_allocation(old, q.eia_kg, q.share_kg)
        cap, alloc, binding = cap_and_allocation(new, q.eia_kg, q.share_kg)
        if (cap, alloc) == (old_cap, old_alloc):
            continue
        flags.append(dict(standard=standard_id, permit=q.permit, pollutant=q.pollutant,
                          year=q.year, zone=q.zone, old_spec_kg=q.spec_kg, new_spec_kg=new,
                          old_cap_kg=q.cap_kg, new_cap_kg=cap, old_allocated_kg=q.allocated_kg,
                          new_allocated_kg=alloc, new_binding=binding,
                          permitted_kg=q.permitted_kg, status="open", note=None))
    return flags


def apply_standard(uow: UoW, *, standard_id: int, actor: str, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Change the flagged permits' quantities to the standard's (before its effective date),
    in one unit of work recorded as a computation run; caps below confirmed rights are held
    back and their flags say so."""
    now = now or system_clock()
    with uow:
        store = AllocationStore(uow.session)
        std = store.standard(standard_id, lock=True)
        if std is None:
            raise alloc_errors.StandardNotFound(f"no standard {standard_id}", field="id")
        if std.status == "applied":
            raise alloc_errors.StandardAlreadyApplied(f"standard {std.name} was applied")
        flags, _ = store.flags(standard=standard_id, status="open", limit=10**9)
        reg = RegistryStore(uow.session)
        found: list[dict[str, Any]] = []
        by_key: dict[tuple[str, str, int], int] = {}
        for fl in flags:
            q = reg.quantity(fl.permit, fl.pollutant, fl.year, lock=True)
            if q is None:
                continue
            c = quantity_change(q, fl.new_spec_kg, q.share_kg)
            if c is not None:
                found.append(c)
                by_key[(fl.permit, fl.pollutant, fl.year)] = fl.id
        applied, held = write_changes(uow, store, found)
        store.set_flag_status([by_key[(c["permit"], c["pollutant"], c["year"])]
                               for c in applied], "applied")
        for c in held:
            store.set_flag_status([by_key[(c["permit"], c["pollutant"], c["year"])]],
                                  "held_back", c["note"])
        recovery = _mark_recovery(uow, store, held, by_key)
        summary = {"standard": std.name, "effective": std.effective.isoformat()}
        run_id = record_run(store, kind="standard", actor=actor, started=now,
                            version=f"{std.parameter_version}+{std.name}", scenario=None,
                            facilities=len({f.permit for f in flags}), quantities=len(flags),
                            applied=applied, held=held, skipped=0, summary=summary)
        std.status = "applied"
        std.applied_run = run_id
        uow.commit()
        return {"id": std.id, "name": std.name, "run": run_id, "applied": len(applied),
                "held_back": len(held), "recovery_kg": recovery}


def _mark_recovery(uow: UoW, store: AllocationStore, held: list[dict[str, Any]],
                   by_key: dict[tuple[str, str, int], int]) -> int:
    """Mark each held-back flag with the confirmed rights above its new cap (to recover or
    buy back before the change can be written). Returns the total kg marked."""
    if not held:
        return 0
    holdings = confirmed_holdings(uow, {(c["permit"], c["pollutant"], c["zone"], c["year"])
                                         for c in held})
    total = 0
    for c in held:
        acct = holdings.get((c["permit"], c["pollutant"], c["zone"], c["year"]))
        kg = max((acct[1] if acct else 0) - c["new_cap_kg"], 0)
        store.set_recovery(by_key[(c["permit"], c["pollutant"], c["year"])], kg)
        total += kg
    return total


#: decision → (ledger transaction type, the flag's status afterwards)
RECOVERY_DECISIONS = {"recover": ("recovery", "recovered"),
                      "buy_back": ("reserve_buyback", "bought_back")}
FLAG_FIELDS = ("id", "standard", "permit", "pollutant", "year", "zone", "old_spec_kg",
               "new_spec_kg", "old_cap_kg", "new_cap_kg", "old_allocated_kg",
               "new_allocated_kg", "new_binding", "permitted_kg", "status", "note",
               "recovery_kg", "decision", "moved_kg", "price", "amount_fen", "transfer_id",
               "decided_by")


def _flag_dict(r: Any) -> dict[str, Any]:
    return {k: getattr(r, k) for k in FLAG_FIELDS} | {
        "decided_at": r.decided_at.isoformat() if r.decided_at else None}


def standard_flags(uow: UoW, *, standard: int | None = None, status: str | None = None,
                   permit: str | None = None, offset: int = 0, limit: int = 100
                   ) -> dict[str, Any]:
    with uow:
        rows, total = AllocationStore(uow.session).flags(
            standard=standard, status=status, permit=permit, offset=offset, limit=limit)
        return {"total": total, "offset": offset, "limit": limit,
                "items": [_flag_dict(r) for r in rows]}


def _decidable(store: AllocationStore, flag_id: int, *, lock: bool = False) -> Any:
    fl = store.flag(flag_id, lock=lock)
    if fl is None:
        raise alloc_errors.StandardFlagNotFound(f"no standard flag {flag_id}", field="flag")
    if fl.status in ("recovered", "bought_back"):
        raise alloc_errors.FlagAlreadyDecided(
            f"flag {flag_id} was decided already ({fl.status})", field="flag")
    if fl.status != "held_back":
        raise alloc_errors.FlagNotHeldBack(
            f"flag {flag_id} is {fl.status}: only held-back flags await a decision",
            field="flag")
    return fl


def check_recovery_decision(uow: UoW, *, flag_id: int, decision: str,
                            price: int | None = None) -> dict[str, Any]:
    """Validate a decision on a held-back flag without writing (for routes that must ask a
    second officer first); returns the flag."""
    _decision_args(decision, price)
    with uow:
        return _flag_dict(_decidable(AllocationStore(uow.session), flag_id))


def _decision_args(decision: str, price: int | None) -> int | None:
    if decision not in RECOVERY_DECISIONS:
        raise alloc_errors.BadRecoveryDecision(
            f"decision must be one of {', '.join(RECOVERY_DECISIONS)}", field="decision")
    if decision == "recover":
        return None
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= 10**12:
        raise alloc_errors.BadRecoveryDecision(
            "a buy-back needs a price of 0 to 10^12 fen per tonne", field="price")
    return price


def decide_standard_flag(uow: UoW, *, flag_id: int, decision: str, actor: str,
                         price: int | None = None, now: datetime | None = None
                         ) -> dict[str, Any]:
    """The bureau's decision on a held-back flag, in one unit of work: the confirmed rights
    above the new cap go to the bureau reserve, either recovered (ledger type "recovery") or
    bought back (a linked batch: "verification" confirmed → tradable, then
    "reserve_buyback" tradable → reserve and bureau cash → the enterprise's cash at `price`
    fen per tonne, qty × price / 1000 half-even). Then the permit's quantity takes the
    standard's values (cap, allocation, binding basis), the confirmed account's upper limit
    the new cap, the permitted quantity the rights left, and the history an event. A flag is
    decided once (409 `flag_already_decided`)."""
    from kernel.quantities import trade_value

    now = now or system_clock()
    price = _decision_args(decision, price)
    tx_type, status = RECOVERY_DECISIONS[decision]
    with uow:
        ledger.lock_journal(uow)  # before the permit rows: see ledger.service
        store, reg = AllocationStore(uow.session), RegistryStore(uow.session)
        fl = _decidable(store, flag_id, lock=True)
        std = store.standard(fl.standard)
        p = reg.permit(fl.permit)
        q = reg.quantity(fl.permit, fl.pollutant, fl.year, lock=True)
        if p is None or q is None or std is None:
            raise QuantityNotFound(f"permit {fl.permit} has no {fl.pollutant} quantity for "
                                   f"{fl.year}", field="flag")
        c = quantity_change(q, fl.new_spec_kg, q.share_kg)
        new_cap = c["new_cap_kg"] if c is not None else q.cap_kg
        accts = ledger.ensure_rights_accounts(
            uow, holder=fl.permit, pollutant=fl.pollutant, zone=q.zone, vintage=fl.year,
            kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
            upper_limit=q.cap_kg)
        lstore = LedgerStore(uow.session)
        held = lstore.get_account(accts[AccountKind.CONFIRMED])
        assert held is not None
        qty = max(held.balance + held.credits_pending - new_cap, 0)
        tid, amount = None, None
        ref = f"standard-flag:{flag_id}"
        if qty > 0:
            reserve = ledger.ensure_rights_accounts(
                uow, holder=ledger.BUREAU, pollutant=fl.pollutant, zone=q.zone,
                vintage=fl.year, kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
            if price is None:
                tid = f"recovery:flag:{flag_id}"
                transfers = [Transfer(tid, tx_type, accts[AccountKind.CONFIRMED], reserve,
                                      qty, reference=ref)]
            else:
                tid, amount = f"buyback:flag:{flag_id}", int(trade_value(qty, price))
                transfers = [
                    Transfer(f"{tid}:verify", "verification", accts[AccountKind.CONFIRMED],
                             accts[AccountKind.TRADABLE], qty, reference=ref),
                    Transfer(tid, tx_type, accts[AccountKind.TRADABLE], reserve, qty,
                             reference=ref)]
                if amount > 0:
                    transfers.append(Transfer(
                        f"{tid}:pay", tx_type, ledger.ensure_cash_account(uow, ledger.BUREAU,
                                                                          now),
                        ledger.ensure_cash_account(uow, p.enterprise, now), amount,
                        reference=ref))
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        if c is not None:
            store.update_quantities([dict(
                permit=fl.permit, pollutant=fl.pollutant, year=fl.year,
                spec_kg=c["new_spec_kg"], share_kg=c["new_share_kg"], cap_kg=c["new_cap_kg"],
                allocated_kg=c["new_allocated_kg"], binding=c["new_binding"])])
        lstore.set_upper_limit(accts[AccountKind.CONFIRMED], new_cap)
        # the recovered or bought-back rights leave the permit, which never stays above the
        # new cap
        after = min(q.permitted_kg - qty, new_cap)
        reg.set_permitted(fl.permit, fl.pollutant, fl.year, after)
        note = (f"standard {std.name}: cap {q.cap_kg if c is None else c['old_cap_kg']} → "
                f"{new_cap} kg, {qty} kg {'recovered' if price is None else 'bought back'}")
        reg.add_event(permit=fl.permit, pollutant=fl.pollutant, year=fl.year,
                      kind="recovery" if price is None else "buy_back", qty_kg=-qty,
                      counterparty="RESERVE", price=price, reference=tid or ref,
                      permitted_after_kg=after, at=now, note=note)
        fl.note = note
        fl.status, fl.decision, fl.moved_kg = status, decision, qty
        fl.price, fl.amount_fen, fl.transfer_id = price, amount, tid
        fl.decided_by, fl.decided_at = actor, now
        uow.session.flush()
        out = _flag_dict(fl) | {"permitted_after_kg": after, "enterprise": p.enterprise}
        uow.commit()
        return out
