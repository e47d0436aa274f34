"""Use cases of the permit register (issue 17): import permits from the national platform's
export, and the permit's life (change, renewal, revocation, cancellation).

Each use case is one unit of work (`with uow: ...; uow.commit()`): an import stores all its
permits or none (unless partial is asked: then every permit without an error, each whole);
a change that moves a quantity moves the confirmed rights in the same transaction.

Rules (docs/permit-register.md):
- a permit's quantity row holds the legal limit (`allocated_kg`, `permitted_kg`) from the
  permit; a change moves the limit by the difference, and confirmed rights above the new
  permitted quantity are recovered to the bureau reserve (ledger type "recovery");
- revocation (撤销) and cancellation (注销) end the permit on a date: rights (confirmed and
  tradable, what is not on hold) of vintages after that date's year are recovered to the
  reserve and those years' permitted quantities become 0; the year of the end keeps its
  rights for the true-up of the emissions made before it;
- renewal (延续) extends the permit by a new term of at most 5 years; the new years get the
  last year's limits, as a change the bureau may then make.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from allocation.permits import PermitNotFound
from allocation.register import (
    INDUSTRY_CODES,
    BadLifeStep,
    ImportNotFound,
    Parsed,
    PermitFileRejected,
    PermitNotActive,
    PermitRecord,
    RowError,
    check_term,
    parse_permit_rows,
    renewal_deadline,
    renewal_is_late,
    shown_status,
    site_overlap_errors,
    term_end_limit,
)
from allocation.register_tables import (
    PermitContentRow,
    PermitImportRow,
    PermitLifeEventRow,
    PermitOutletRow,
)
from allocation.store import RegisterStore, RegistryStore
from allocation.tables import EnterpriseRow, PermitQuantityRow, PermitRow, SiteRow
from kernel.clock import system_clock, trading_day
from kernel.errors import InvalidInput
from kernel.pollutants import parse_pollutant
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.service import UoW
from ledger.store import LedgerStore
from ledger.transactions import AccountKind, Initiator

#: errors kept on an import's record (the rest are counted)
KEPT_ERRORS = 1000
#: parameter_version of imported permits: their quantities come from the permit, not from
#: the platform's computation (their sites carry no capacity, so recomputation skips them)
IMPORTED = "import"


def _error_dict(e: RowError) -> dict[str, Any]:
    return dict(line=e.line, field=e.field, code=e.code, message=e.message, permit=e.permit)


_WATER = {"COD", "NH3-N"}


def _zone(zones: Mapping[str, tuple[str, str]], district: str, pollutant: str) -> str:
    """The trading zone of a traded pollutant (canonical code) in a district."""
    air, water = zones[district]
    return water if pollutant in _WATER else air


# --------------------------------------------------------------------------- import


def import_permits(uow: UoW, *, text: str, filename: str, actor: str, partial: bool = False,
                   dry_run: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Import a permit file (CSV text; Excel is converted to it by the caller).

    Returns the summary: counts of permits new, changed, unchanged and rejected, and the row
    errors with line numbers. With errors and not `partial`, nothing is stored but the
    import's record, and `PermitFileRejected` is raised (its `details` carry the summary).
    `dry_run` stores nothing (the page's preview)."""
    now = now or system_clock()
    digest = hashlib.sha256(text.encode()).hexdigest()
    with uow:
        st = RegisterStore(uow.session)
        zones = st.district_zones()
        parsed: Parsed = parse_permit_rows(csv.reader(io.StringIO(text)), districts=zones)
        records = parsed.records
        errors = list(parsed.errors)
        errors += site_overlap_errors(records, st.site_permits({r.credit_code
                                                                for r in records}))
        states = st.permit_states([r.code for r in records])
        for r in records:
            state = states.get(r.code)
            if state and state[0] in ("revoked", "cancelled") and state[1] != r.content_hash():
                errors.append(RowError(r.lines[0], "permit_code", "permit_not_active",
                                       f"permit {r.code} is {state[0]}: it is not changed",
                                       r.code))
        rejected = parsed.rejected | {e.permit for e in errors}
        good = [r for r in records if r.code not in rejected]
        new = [r for r in good if r.code not in states]
        changed = [r for r in good if r.code in states and states[r.code][1]
                   != r.content_hash()]
        errors.sort(key=lambda e: (e.line, e.field))
        status = "rejected" if errors and not partial else ("partial" if errors
                                                            else "imported")
        summary: dict[str, Any] = dict(
            filename=filename, sha256=digest, status=status, partial=partial,
            rows=parsed.rows, permits_new=len(new), permits_changed=len(changed),
            permits_unchanged=len(good) - len(new) - len(changed),
            permits_rejected=len(rejected),
            errors=[_error_dict(e) for e in errors], dry_run=dry_run,
            new=[r.code for r in new[:200]], changed=[r.code for r in changed[:200]])
        if status == "rejected":
            summary.update(permits_new=0, permits_changed=0)
        if dry_run:
            return summary
        if status != "rejected":
            if changed:
                ledger.lock_journal(uow)  # before the permit rows: see ledger.service
            _insert_new(uow, st, new, zones, actor, now, filename)
            for r in changed:
                _apply_change(uow, st, r, zones, actor, now, f"import {filename}")
        row = PermitImportRow(
            filename=filename[:200], sha256=digest, actor=actor[:64], at=now,
            partial=partial, status=status, rows=parsed.rows,
            permits_new=summary["permits_new"], permits_changed=summary["permits_changed"],
            permits_unchanged=summary["permits_unchanged"],
            permits_rejected=summary["permits_rejected"],
            errors=summary["errors"][:KEPT_ERRORS])
        st.add(row)
        summary["id"] = int(row.id)
        uow.commit()
    if status == "rejected":
        first = errors[0]
        raise PermitFileRejected(
            f"{len(errors)} row error(s), nothing imported; line {first.line}: "
            f"{first.message}", field=first.field, summary=summary)
    return summary


def _content_values(r: PermitRecord, now: datetime, term_from: date) -> dict[str, Any]:
    c = r.content()
    return dict(permit=r.code, management_class=r.management_class,
                industry_code=r.industry_code, eia_number=r.eia_number or None,
                eia_date=r.eia_date, eia_kg=c["eia_kg"],
                eia_requirements=r.eia_requirements or None, noise=c["noise"],
                solid_waste=c["solid_waste"], content_hash=r.content_hash(),
                term_from=term_from, renewal_applied_on=None, renewal_late=False,
                ended_on=None, updated_at=now)


def _outlet_values(r: PermitRecord) -> list[dict[str, Any]]:
    return [dict(permit=r.code, outlet_id=o.outlet_id, outlet_type=o.outlet_type,
                 medium=o.medium, pollutant=o.pollutant, limit_text=o.limit, unit=o.unit,
                 quantities={str(y): kg for y, kg in o.quantities}) for o in r.outlets]


def _insert_new(uow: UoW, st: RegisterStore, new: Sequence[PermitRecord],
                zones: Mapping[str, tuple[str, str]], actor: str, now: datetime,
                filename: str) -> None:
    if not new:
        return
    known = st.enterprises_among({r.credit_code for r in new})
    ents: dict[str, dict[str, Any]] = {}
    for r in new:
        if r.credit_code not in known and r.credit_code not in ents:
            ents[r.credit_code] = dict(credit_code=r.credit_code, name=r.enterprise_name,
                                       sector=INDUSTRY_CODES[r.industry_code][0],
                                       district=r.district, status="active")
    st.insert(EnterpriseRow, list(ents.values()))
    sites = st.sites({r.credit_code for r in new})
    missing = sorted({(r.credit_code, r.site_seq) for r in new} - set(sites))
    first = {(r.credit_code, r.site_seq): r for r in reversed(new)}
    ids = st.insert(SiteRow, [dict(enterprise=e, seq=seq, name=first[(e, seq)].enterprise_name,
                                   district=first[(e, seq)].district, capacity=0,
                                   capacity_unit=IMPORTED) for e, seq in missing],
                    returning="id")
    sites.update(dict(zip(missing, (int(i) for i in ids), strict=True)))
    st.insert(PermitRow, [dict(code=r.code, enterprise=r.credit_code,
                               site=sites[(r.credit_code, r.site_seq)],
                               valid_from=r.valid_from, valid_to=r.valid_to, status="valid",
                               issued_at=now, parameter_version=IMPORTED) for r in new])
    st.insert(PermitContentRow, [_content_values(r, now, r.valid_from) for r in new])
    st.insert(PermitOutletRow, [o for r in new for o in _outlet_values(r)])
    quantities = []
    for r in new:
        for (pol, year), kg in sorted(r.quantities().items()):
            quantities.append(dict(permit=r.code, pollutant=pol, year=year,
                                   zone=_zone(zones, r.district, pol), spec_kg=kg,
                                   eia_kg=r.eia_kg.get(pol), share_kg=None, binding="permit",
                                   cap_kg=kg, allocated_kg=kg, permitted_kg=kg,
                                   confirmed=False))
    st.insert(PermitQuantityRow, quantities)
    st.insert(PermitLifeEventRow, [dict(
        permit=r.code, kind="issue", actor=actor[:64], at=now,
        reason=f"import {filename}",
        detail=dict(management_class=r.management_class, valid_from=r.valid_from.isoformat(),
                    valid_to=r.valid_to.isoformat(), lines=r.lines[:20]))
        for r in new])


def _apply_change(uow: UoW, st: RegisterStore, r: PermitRecord,
                  zones: Mapping[str, tuple[str, str]], actor: str, now: datetime,
                  reason: str) -> None:
    """A changed row of an existing permit: a permit change (变更) with its history."""
    p = st.permit_row(r.code, lock=True)
    assert p is not None
    old = st.content(r.code)
    diff: dict[str, Any] = {}
    if (p.valid_from, p.valid_to) != (r.valid_from, r.valid_to):
        diff["validity"] = [f"{p.valid_from}..{p.valid_to}", f"{r.valid_from}..{r.valid_to}"]
        p.valid_from, p.valid_to = r.valid_from, r.valid_to
    values = _content_values(r, now, old.term_from if old else r.valid_from)
    if old is None:
        st.add(PermitContentRow(**values))
        diff["content"] = "recorded"
    else:
        for k in ("management_class", "industry_code", "eia_number", "eia_date", "eia_kg",
                  "eia_requirements", "noise", "solid_waste"):
            if getattr(old, k) != values[k]:
                diff[k] = [_jsonable(getattr(old, k)), _jsonable(values[k])]
                setattr(old, k, values[k])
        old.content_hash, old.updated_at = values["content_hash"], now
    olds = {(o.outlet_id, o.pollutant): (o.outlet_type, o.limit_text, o.unit, o.quantities)
            for o in st.outlets([r.code])}
    news = {(o["outlet_id"], o["pollutant"]): (o["outlet_type"], o["limit_text"], o["unit"],
                                               o["quantities"]) for o in _outlet_values(r)}
    if olds != news:
        diff["outlets"] = sorted(f"{k[0]}/{k[1]}" for k in set(olds) ^ set(news)
                                 | {k for k in set(olds) & set(news) if olds[k] != news[k]})
        st.delete_outlets([r.code])
        uow.session.flush()
        st.insert(PermitOutletRow, _outlet_values(r))
    moves = _move_quantities(uow, r.code, r.quantities(),
                             {pol: _zone(zones, r.district, pol) for pol, _ in r.quantities()},
                             actor, now, reason, replace=True)
    if moves:
        diff["quantities"] = moves
    st.add(PermitLifeEventRow(permit=r.code, kind="change", actor=actor[:64], at=now,
                              reason=reason, detail=diff))


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _move_quantities(uow: UoW, permit: str, new: Mapping[tuple[str, int], int],
                     zone_of: Mapping[str, str], actor: str, now: datetime, reason: str, *,
                     replace: bool) -> list[dict[str, Any]]:
    """Set the permit's limits to `new` ((pollutant, year) -> kg; with `replace`, a stored
    quantity not in `new` becomes 0). The limit moves by the difference; confirmed rights
    above the new permitted quantity are recovered to the reserve in this transaction.
    Returns what moved. The caller took the journal lock first."""
    reg = RegistryStore(uow.session)
    old = {(q.pollutant, q.year): q for q in reg.quantities(permit)}
    keys = sorted(set(new) | (set(old) if replace else set()))
    moves = []
    lstore = LedgerStore(uow.session)
    for key in keys:
        pol, year = key
        kg = new.get(key, 0)
        q = old.get(key)
        if q is None:
            if kg == 0:
                continue
            uow.session.add(PermitQuantityRow(
                permit=permit, pollutant=pol, year=year, zone=zone_of[pol], spec_kg=kg,
                eia_kg=None, share_kg=None, binding="permit", cap_kg=kg, allocated_kg=kg,
                permitted_kg=kg, confirmed=False))
            reg.add_event(permit=permit, pollutant=pol, year=year, kind="change", qty_kg=kg,
                          counterparty=None, price=None, reference=None,
                          permitted_after_kg=kg, at=now, note=f"{reason}: limit 0 → {kg} kg")
            moves.append(dict(pollutant=pol, year=year, old_kg=0, new_kg=kg, recovered_kg=0))
            continue
        if kg == q.allocated_kg:
            continue
        q = reg.quantity(permit, pol, year, lock=True)
        assert q is not None
        old_kg, old_permitted = q.allocated_kg, q.permitted_kg
        delta = kg - old_kg
        new_cap = max(q.cap_kg + delta, kg)
        new_permitted = max(min(old_permitted + delta, new_cap), 0)
        recovered, tid = 0, None
        if q.confirmed:
            accts = ledger.ensure_rights_accounts(
                uow, holder=permit, pollutant=pol, zone=q.zone, vintage=year,
                kinds=[AccountKind.CONFIRMED, AccountKind.TRADABLE], now=now,
                upper_limit=q.cap_kg)
            held = lstore.get_account(accts[AccountKind.CONFIRMED])
            assert held is not None
            consumed = reg.surrendered_kg(permit, pol, year)
            recovered = min(max(held.balance + consumed - new_permitted, 0), held.available)
            if recovered > 0:
                reserve = ledger.ensure_rights_accounts(
                    uow, holder=ledger.BUREAU, pollutant=pol, zone=q.zone, vintage=year,
                    kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
                tid = f"recovery:{permit}:{pol}:{year}:{held.debits_posted + recovered}"
                ledger.execute(uow, [Transfer(tid, "recovery", accts[AccountKind.CONFIRMED],
                                              reserve, recovered,
                                              reference=f"permit-change:{permit}")],
                               initiator=Initiator.BUREAU, actor=actor, now=now)
            lstore.set_upper_limit(accts[AccountKind.CONFIRMED], new_cap)
        uow.session.execute(
            PermitQuantityRow.__table__.update().where(  # type: ignore[attr-defined]
                (PermitQuantityRow.permit == permit) & (PermitQuantityRow.pollutant == pol)
                & (PermitQuantityRow.year == year))
            .values(allocated_kg=kg, cap_kg=new_cap, permitted_kg=new_permitted,
                    binding="permit_change",
                    spec_kg=kg if q.binding in ("permit", "permit_change") else q.spec_kg))
        uow.session.expire(q)
        note = f"{reason}: limit {old_kg} → {kg} kg"
        if recovered:
            note += f", {recovered} kg confirmed rights recovered to the reserve"
        reg.add_event(permit=permit, pollutant=pol, year=year, kind="change",
                      qty_kg=new_permitted - old_permitted, counterparty="RESERVE"
                      if recovered else None, price=None, reference=tid,
                      permitted_after_kg=new_permitted, at=now, note=note)
        moves.append(dict(pollutant=pol, year=year, old_kg=old_kg, new_kg=kg,
                          recovered_kg=recovered))
    return moves


# --------------------------------------------------------------------------- the life


def _active(st: RegisterStore, permit: str, allowed: Iterable[str] = ("valid",)) -> PermitRow:
    p = st.permit_row(permit, lock=True)
    if p is None:
        raise PermitNotFound(f"no permit {permit}", field="permit_code")
    if p.status not in allowed:
        raise PermitNotActive(f"permit {permit} is {p.status}", field="permit_code")
    return p


def check_active(uow: UoW, permit: str, allowed: Iterable[str] = ("valid",)) -> None:
    """Raise unless the permit exists with one of these statuses (before asking a second
    officer to approve a step on it)."""
    with uow:
        _active(RegisterStore(uow.session), permit, allowed)


def check_reason(reason: str) -> str:
    """The why of a step: 1-500 characters."""
    return _reason(reason)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise BadLifeStep("reason must be 1-500 characters (why this step)", field="reason")
    return reason


def change_permit(uow: UoW, *, permit: str, quantities: Sequence[Mapping[str, Any]],
                  actor: str, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """A permit change (变更) of permitted quantities: each item {pollutant, year, qty_kg}
    sets that year's limit; confirmed rights follow in the same transaction."""
    now = now or system_clock()
    reason = _reason(reason)
    if not quantities:
        raise BadLifeStep("a change needs at least one quantity", field="quantities")
    with uow:
        ledger.lock_journal(uow)
        st = RegisterStore(uow.session)
        p = _active(st, permit)
        if trading_day(now) > p.valid_to:
            raise PermitNotActive(f"permit {permit} expired on {p.valid_to}",
                                  field="permit_code")
        district = RegistryStore(uow.session).site(p.site)
        zones = st.district_zones()
        new: dict[tuple[str, int], int] = {}
        for i, item in enumerate(quantities):
            pol = parse_pollutant(str(item.get("pollutant", "")),
                                  field=f"quantities[{i}].pollutant").value
            year, kg = item.get("year"), item.get("qty_kg")
            if isinstance(year, bool) or not isinstance(year, int) or not (
                    p.valid_from.year <= year <= p.valid_to.year):
                raise BadLifeStep(f"year must be within the permit's validity "
                                  f"{p.valid_from.year}-{p.valid_to.year}",
                                  field=f"quantities[{i}].year")
            if isinstance(kg, bool) or not isinstance(kg, int) or not 0 <= kg <= 10**13:
                raise BadLifeStep("qty_kg must be a whole number of kg ≥ 0",
                                  field=f"quantities[{i}].qty_kg")
            new[(pol, year)] = kg
        assert district is not None
        zone_of = {pol: _zone(zones, district.district, pol) for pol, _ in new}
        moves = _move_quantities(uow, permit, new, zone_of, actor, now, reason, replace=False)
        st.add(PermitLifeEventRow(permit=permit, kind="change", actor=actor[:64], at=now,
                                  reason=reason, detail=dict(quantities=moves)))
        uow.commit()
        return dict(permit=permit, moves=moves)


def renew_permit(uow: UoW, *, permit: str, applied_on: date, actor: str, reason: str,
                 valid_to: date | None = None, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Renewal (延续): applied for at least 60 days before expiry (Regulation Art. 14); later
    but before expiry it is granted and flagged late; after expiry refused. The new term
    starts the day after the old one ends and lasts at most 5 years; its years get the last
    year's limits."""
    now = now or system_clock()
    reason = _reason(reason)
    with uow:
        st = RegisterStore(uow.session)
        p = _active(st, permit)
        late = renewal_is_late(applied_on, p.valid_to)
        start = p.valid_to + timedelta(days=1)
        end = valid_to or term_end_limit(start)
        check_term(start, end)
        reg = RegistryStore(uow.session)
        rows = reg.quantities(permit)
        last: dict[str, PermitQuantityRow] = {}
        for q in rows:
            if q.pollutant not in last or q.year > last[q.pollutant].year:
                last[q.pollutant] = q
        added = []
        for pol, q in sorted(last.items()):
            for year in range(max(q.year + 1, start.year), end.year + 1):
                added.append(dict(permit=permit, pollutant=pol, year=year, zone=q.zone,
                                  spec_kg=q.allocated_kg, eia_kg=q.eia_kg, share_kg=None,
                                  binding="permit", cap_kg=q.allocated_kg,
                                  allocated_kg=q.allocated_kg, permitted_kg=q.allocated_kg,
                                  confirmed=False))
        st.insert(PermitQuantityRow, added)
        old_to = p.valid_to
        p.valid_to = end
        c = st.content(permit)
        if c is not None:
            c.term_from, c.renewal_applied_on, c.renewal_late = start, applied_on, late
            c.updated_at = now
        st.add(PermitLifeEventRow(
            permit=permit, kind="renewal", actor=actor[:64], at=now, reason=reason,
            detail=dict(applied_on=applied_on.isoformat(), late=late,
                        deadline=renewal_deadline(old_to).isoformat(),
                        old_valid_to=old_to.isoformat(), term_from=start.isoformat(),
                        valid_to=end.isoformat(), years_added=len(added))))
        uow.commit()
        return dict(permit=permit, late=late, term_from=start.isoformat(),
                    valid_to=end.isoformat(), quantities_added=len(added))


END_STEPS = {"revocation": ("revoked", ("valid",)),
             "cancellation": ("cancelled", ("valid", "revoked", "expired"))}


def end_permit(uow: UoW, *, permit: str, step: str, actor: str, reason: str,
               on: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Revocation (撤销) or cancellation (注销) on `on` (default today): rights of vintages
    after that year are recovered to the reserve (confirmed and tradable, what is not on
    hold) and those years' permitted quantities become 0."""
    now = now or system_clock()
    reason = _reason(reason)
    if step not in END_STEPS:
        raise BadLifeStep("step must be revocation or cancellation", field="step")
    status, allowed = END_STEPS[step]
    end = on or trading_day(now)
    with uow:
        ledger.lock_journal(uow)
        st = RegisterStore(uow.session)
        p = _active(st, permit, allowed)
        reg, lstore = RegistryStore(uow.session), LedgerStore(uow.session)
        transfers = []
        recovered: dict[tuple[str, int], int] = {}
        for a in lstore.accounts_of([permit]):
            if a.kind not in (AccountKind.CONFIRMED, AccountKind.TRADABLE) or a.available <= 0:
                continue
            pol, zone, vintage = a.asset.split("/")
            if int(vintage) <= end.year:
                continue
            reserve = ledger.ensure_rights_accounts(
                uow, holder=ledger.BUREAU, pollutant=pol, zone=zone, vintage=int(vintage),
                kinds=[AccountKind.RESERVE], now=now)[AccountKind.RESERVE]
            transfers.append(Transfer(f"recovery:{step}:{permit}:{a.id}",
                                      "recovery", a.id, reserve, a.available,
                                      reference=f"permit-{step}:{permit}"))
            key = (pol, int(vintage))
            recovered[key] = recovered.get(key, 0) + a.available
        if transfers:
            ledger.execute(uow, transfers, initiator=Initiator.BUREAU, actor=actor, now=now)
        events = []
        for q in reg.quantities(permit):
            if q.year <= end.year or (q.permitted_kg == 0 and (q.pollutant, q.year)
                                      not in recovered):
                continue
            events.append(dict(permit=permit, pollutant=q.pollutant, year=q.year, kind=step,
                               qty_kg=-q.permitted_kg, counterparty="RESERVE", price=None,
                               reference=None, permitted_after_kg=0, at=now,
                               note=f"{step} on {end}: "
                                    f"{recovered.get((q.pollutant, q.year), 0)} kg rights "
                                    "recovered to the reserve"))
            reg.set_permitted(permit, q.pollutant, q.year, 0)
        reg.add_events(events)
        p.status = status
        c = st.content(permit)
        if c is not None:
            c.ended_on, c.updated_at = end, now
        detail = dict(on=end.isoformat(), recovered=[
            dict(pollutant=k[0], year=k[1], qty_kg=v) for k, v in sorted(recovered.items())])
        st.add(PermitLifeEventRow(permit=permit, kind=step, actor=actor[:64], at=now,
                                  reason=reason, detail=detail))
        uow.commit()
        return dict(permit=permit, status=status, **detail)


# --------------------------------------------------------------------------- views


def _life_dict(e: PermitLifeEventRow) -> dict[str, Any]:
    return dict(kind=e.kind, actor=e.actor, at=e.at.isoformat(), reason=e.reason,
                detail=e.detail)


def register_views(uow: UoW, codes: Sequence[str], *, today: date | None = None
                   ) -> dict[str, dict[str, Any]]:
    """Per permit: shown status, content, outlets by type, life events (newest first)."""
    today = today or trading_day(system_clock())
    out: dict[str, dict[str, Any]] = {}
    with uow:
        st = RegisterStore(uow.session)
        contents = st.contents(list(codes))
        outlets = st.outlets(list(codes))
        for code in codes:
            p = st.permit_row(code)
            if p is None:
                continue
            c = contents.get(code)
            out[code] = dict(
                permit=code, status=shown_status(p.status, p.valid_to, today),
                stored_status=p.status, valid_from=p.valid_from.isoformat(),
                valid_to=p.valid_to.isoformat(),
                renewal_deadline=renewal_deadline(p.valid_to).isoformat(),
                content=None if c is None else dict(
                    management_class=c.management_class, industry_code=c.industry_code,
                    industry_name=INDUSTRY_CODES.get(c.industry_code, ("", ""))[1],
                    eia_number=c.eia_number,
                    eia_date=c.eia_date.isoformat() if c.eia_date else None,
                    eia_kg=c.eia_kg, eia_requirements=c.eia_requirements, noise=c.noise,
                    solid_waste=c.solid_waste, term_from=c.term_from.isoformat(),
                    renewal_applied_on=c.renewal_applied_on.isoformat()
                    if c.renewal_applied_on else None, renewal_late=c.renewal_late,
                    ended_on=c.ended_on.isoformat() if c.ended_on else None),
                outlets=[dict(outlet_id=o.outlet_id, outlet_type=o.outlet_type,
                              medium=o.medium, pollutant=o.pollutant, limit=o.limit_text,
                              unit=o.unit, quantities=o.quantities)
                         for o in outlets if o.permit == code],
                life=[_life_dict(e) for e in st.life_events([code])])
    return out


def register_view(uow: UoW, code: str, *, today: date | None = None) -> dict[str, Any]:
    got = register_views(uow, [code], today=today)
    if code not in got:
        raise PermitNotFound(f"no permit {code}", field="permit_code")
    return got[code]


def expiring_permits(uow: UoW, *, today: date | None = None,
                     district: str | None = None) -> list[dict[str, Any]]:
    """Valid permits within 60 days of expiry, or past it, not renewed: the bureau's list
    (`district`: a district officer's, of its district's enterprises)."""
    from allocation.register import RENEWAL_NOTICE_DAYS

    today = today or trading_day(system_clock())
    with uow:
        rows = RegisterStore(uow.session).expiring(today + timedelta(days=RENEWAL_NOTICE_DAYS),
                                                   district=district)
        return [dict(permit=c, enterprise=e, name=n, valid_from=vf.isoformat(),
                     valid_to=vt.isoformat(), days_left=(vt - today).days,
                     status=shown_status("valid", vt, today)) for c, e, n, vf, vt in rows]


def _import_dict(r: PermitImportRow) -> dict[str, Any]:
    return dict(id=r.id, filename=r.filename, sha256=r.sha256, actor=r.actor,
                at=r.at.isoformat(), partial=r.partial, status=r.status, rows=r.rows,
                permits_new=r.permits_new, permits_changed=r.permits_changed,
                permits_unchanged=r.permits_unchanged, permits_rejected=r.permits_rejected,
                errors=r.errors)


def list_imports(uow: UoW, *, limit: int = 50) -> list[dict[str, Any]]:
    with uow:
        return [_import_dict(r) for r in RegisterStore(uow.session).imports(limit)]


def import_view(uow: UoW, import_id: int) -> dict[str, Any]:
    with uow:
        r = RegisterStore(uow.session).import_row(import_id)
        if r is None:
            raise ImportNotFound(f"no permit import {import_id}", field="import_id")
        return _import_dict(r)


def parse_day(text: object, field: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field) from None
