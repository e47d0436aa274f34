"""Use cases of penalty decisions and public disclosure.

Writing use cases (decide, correct, withdraw) each run in one unit of work: the decision, its
event and the violation's status change commit together. Deciding locks the violation row
(PostgreSQL), so two officers deciding the same violation at once leave one decision; the
unique decision number decides between two decisions numbered alike.

The public reads return only what is published: permits and their quantities, anonymised
trades (market, quantity, price, value, time, venue: no parties, orders or fees), compliance
status per enterprise and penalty decisions. Every list is paginated (offset, limit, total,
next_offset) and carries `updated`: the latest change among its items (RFC 3339, UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from compliance.enforcement import penalties as P
from compliance.enforcement import penalty_procedure as PP
from compliance.enforcement import violations as V
from compliance.enforcement.disclosure_store import DisclosureStore
from compliance.enforcement.disclosure_tables import PenaltyDecisionRow, PenaltyEventRow
from compliance.enforcement.penalty_case_store import PenaltyCaseStore
from compliance.errors import (
    BadPenaltyDecision,
    BadViolation,
    DecisionNotFound,
    DuplicateDecisionNumber,
    PenaltyProcedureOpen,
    ViolationNotFound,
    ViolationNotOpen,
    ViolationStepRefused,
)
from compliance.reporting.tables import ViolationRow
from kernel.clock import system_clock, trading_day
from kernel.pollutants import find_pollutant
from ledger.service import UoW
from notices import service as notify

#: the legal basis of a true-up exceedance, as decisions write it (Chinese, from the table)
ART34_BASIS = V.kind("quantity_exceedance").basis_zh
#: violation statuses: awaiting a decision, decided (a decision in force), handed over
OPEN, DECIDED, TRANSFERRED = "open", "decided", "transferred"
STATUSES = (OPEN, DECIDED, TRANSFERRED)
#: the Regulation is in force from this day; earlier conduct falls under earlier law
IN_FORCE_FROM = date(2021, 3, 1)
FACTS_MAX = 2000
DEPARTMENT_MAX = 100
RESULT_MAX = 2000


def _utc(at: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC; PostgreSQL aware values."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime | None) -> str | None:
    u = _utc(at)
    return u.isoformat() if u is not None else None


def _latest(values: Iterable[str | None]) -> str | None:
    present = [v for v in values if v]
    return max(present) if present else None


def _page(items: list[dict[str, Any]], total: int, offset: int, limit: int,
          **extra: Any) -> dict[str, Any]:
    return dict(total=total, offset=offset, limit=limit,
                next_offset=offset + limit if offset + limit < total else None,
                updated=_latest(str(i.get("updated") or "") for i in items), items=items,
                **extra)


def kind_of(v: ViolationRow) -> V.ViolationKind:
    """The kind a stored violation carries (rows before migration 0016 are
    quantity_exceedance by backfill)."""
    return V.kind(v.kind or "quantity_exceedance", field="kind")


def _range_basis(k: V.ViolationKind, instances: int) -> str:
    per = f", {instances} instance(s)" if k.per_instance else ""
    return f"{k.basis_en}{per}"


def _violation_dict(v: ViolationRow, name: str | None = None) -> dict[str, Any]:
    k = kind_of(v)
    return dict(id=v.id, enterprise=v.enterprise, enterprise_name=name, permit=v.permit,
                year=v.year, pollutant=v.pollutant or None, shortfall_kg=v.shortfall_kg,
                penalty_min_fen=v.penalty_min_fen, penalty_max_fen=v.penalty_max_fen,
                basis=v.basis, status=v.status, at=_iso(v.at),
                kind=k.code, kind_zh=k.name_zh, kind_en=k.name_en, article=v.article,
                legal_basis=k.basis_zh, per_instance=k.per_instance, verify=k.verify,
                instances=v.instances,
                occurred_on=v.occurred_on.isoformat() if v.occurred_on else None,
                facts=v.facts, opened_by=v.opened_by, clue=v.clue,
                transferred_to=v.transferred_to,
                transferred_on=v.transferred_on.isoformat() if v.transferred_on else None,
                transferred_by=v.transferred_by, result=v.result,
                result_on=v.result_on.isoformat() if v.result_on else None,
                result_by=v.result_by)


def _decision_dict(d: PenaltyDecisionRow, name: str | None,
                   events: list[PenaltyEventRow]) -> dict[str, Any]:
    """The published form: a withdrawn decision keeps its number, parties and the reason of
    the withdrawal; its amount and summary are no longer shown (Administrative Penalty Law
    Art. 48)."""
    live = d.status == P.PUBLISHED
    return dict(number=d.number, violation=d.violation, enterprise=d.enterprise,
                enterprise_name=name, permit=d.permit, year=d.year, pollutant=d.pollutant,
                amount_fen=d.amount_fen if live else None,
                decided_on=d.decided_on.isoformat(),
                legal_basis=d.legal_basis, summary=d.summary if live else None,
                status=d.status, published_at=_iso(d.published_at), updated=_iso(d.updated_at),
                withdrawn_reason=d.withdrawn_reason,
                history=[dict(kind=e.kind, at=_iso(e.at), reason=e.reason) for e in events])


def _today(now: datetime) -> date:
    return trading_day(_utc(now) or now)


# decisions -----------------------------------------------------------------------------------

def _no_procedure(uow: UoW, violation_id: int) -> None:
    """A violation whose penalty procedure (compliance/enforcement/penalty_case_service.py) is under
    way is decided through it, not directly."""
    if PenaltyCaseStore(uow.session).active_case(
            violation_id, (PP.NOTICED, PP.HEARING_REQUESTED, PP.HEARD, PP.DECIDED)
    ) is not None:
        raise PenaltyProcedureOpen(
            f"violation {violation_id} has a penalty procedure under way: decide it there",
            field="violation")


def decide_penalty(uow: UoW, *, violation_id: int, number: str, amount_fen: int,
                   decided_on: date | str, legal_basis: str | None = None, summary: str,
                   actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Decide an open violation: the decision is published at once and the violation
    becomes "decided". This records a decision made and served outside the platform; on the
    platform a penalty follows the procedure (compliance/enforcement/penalty_case_service.py:
    notice, statement or hearing, decision, service), which refuses this direct path while it is
    under way (409 penalty_procedure_open)."""
    now = now or system_clock()
    with uow:
        store = DisclosureStore(uow.session)
        v = store.violation(violation_id, lock=True)
        if v is None:
            raise ViolationNotFound(f"no violation {violation_id}", field="violation")
        k = kind_of(v)
        dec = P.check_decision(
            number=number, amount_fen=amount_fen, decided_on=decided_on,
            legal_basis=legal_basis if legal_basis else k.basis_zh, summary=summary,
            penalty_min_fen=v.penalty_min_fen, penalty_max_fen=v.penalty_max_fen,
            violation_day=v.occurred_on or trading_day(_utc(v.at) or now),
            today=_today(now), range_basis=_range_basis(k, v.instances))
        if v.status != OPEN:
            # a transferred violation is decided by the enforcement body it was handed to;
            # the bureau records that result instead (`record_result`)
            raise ViolationNotOpen(f"violation {violation_id} is {v.status}, not open",
                                   field="violation")
        _no_procedure(uow, v.id)
        if store.decision(dec.number) is not None:
            raise DuplicateDecisionNumber(f"decision number {dec.number} is taken",
                                          field="number")
        row = PenaltyDecisionRow(
            number=dec.number, violation=v.id, enterprise=v.enterprise, permit=v.permit,
            year=v.year, pollutant=v.pollutant, amount_fen=dec.amount_fen,
            decided_on=dec.decided_on, legal_basis=dec.legal_basis, summary=dec.summary,
            status=P.PUBLISHED, decided_by=actor, published_at=now, updated_at=now,
            withdrawn_reason=None)
        if store.add_decision(row) is None:
            raise DuplicateDecisionNumber(f"decision number {dec.number} is taken",
                                          field="number")
        ev = PenaltyEventRow(decision=row.id, kind=P.DECIDED, at=now, actor=actor,
                             amount_fen=dec.amount_fen, legal_basis=dec.legal_basis,
                             summary=dec.summary, reason=None)
        store.add_event(ev)
        store.set_violation_status(v.id, "decided")
        notify.to_enterprise(uow, row.enterprise, "penalty_decided", row.number,
                             {"amount_fen": row.amount_fen}, now=now)
        out = _decision_dict(row, None, [ev])
        uow.commit()
        return out


def _published(store: DisclosureStore, number: str) -> PenaltyDecisionRow:
    num = P.clean_text(number, "number", max_len=P.NUMBER_MAX)
    d = store.decision(num, lock=True)
    if d is None:
        raise DecisionNotFound(f"no penalty decision {num}", field="number")
    P.check_change(d.status)
    return d


def correct_penalty(uow: UoW, *, number: str, reason: str, actor: str,
                    amount_fen: int | None = None, legal_basis: str | None = None,
                    summary: str | None = None, now: datetime | None = None
                    ) -> dict[str, Any]:
    """Correct a published decision's amount, legal basis or summary; the correction is an
    event carrying the new values and the reason (earlier values stay in earlier events)."""
    now = now or system_clock()
    why = P.clean_text(reason, "reason", max_len=P.REASON_MAX)
    if amount_fen is None and legal_basis is None and summary is None:
        raise BadPenaltyDecision("a correction changes the amount, legal basis or summary",
                                 field="amount_fen")
    with uow:
        store = DisclosureStore(uow.session)
        d = _published(store, number)
        v = store.violation(d.violation)
        assert v is not None  # a decision's violation is a foreign key
        if amount_fen is not None:
            d.amount_fen = P.check_amount(amount_fen, v.penalty_min_fen, v.penalty_max_fen,
                                          basis=_range_basis(kind_of(v), v.instances))
        if legal_basis is not None:
            d.legal_basis = P.clean_text(legal_basis, "legal_basis", max_len=P.BASIS_MAX)
        if summary is not None:
            d.summary = P.clean_text(summary, "summary", max_len=P.SUMMARY_MAX)
        d.updated_at = now
        store.add_event(PenaltyEventRow(decision=d.id, kind=P.CORRECTED, at=now, actor=actor,
                                        amount_fen=d.amount_fen, legal_basis=d.legal_basis,
                                        summary=d.summary, reason=why))
        out = _decision_dict(d, None, store.events([d.id])[d.id])
        uow.commit()
        return out


def withdraw_penalty(uow: UoW, *, number: str, reason: str, actor: str,
                     now: datetime | None = None) -> dict[str, Any]:
    """Withdraw a published decision (final): its information is withdrawn and the reason
    published; the violation is open again for a new decision."""
    now = now or system_clock()
    why = P.clean_text(reason, "reason", max_len=P.REASON_MAX)
    with uow:
        store = DisclosureStore(uow.session)
        d = _published(store, number)
        d.status = P.WITHDRAWN
        d.withdrawn_reason = why
        d.updated_at = now
        store.add_event(PenaltyEventRow(decision=d.id, kind=P.WITHDRAWN, at=now, actor=actor,
                                        amount_fen=None, legal_basis=None, summary=None,
                                        reason=why))
        store.set_violation_status(d.violation, "open")
        out = _decision_dict(d, None, store.events([d.id])[d.id])
        uow.commit()
        return out


def violations(uow: UoW, *, status: str | None = "open", kind: str | None = None,
               offset: int = 0, limit: int = 50, district: str | None = None
               ) -> dict[str, Any]:
    """Violations (by default those awaiting a decision), oldest first; `kind` filters by
    violation kind (an unknown kind is refused, naming "kind"), `district` by the
    enterprise's district (a district officer's list)."""
    if kind is not None:
        kind = V.kind(kind).code
    if status is not None and status not in STATUSES:
        raise BadViolation(f"unknown status {status!r}", field="status")
    with uow:
        rows, total = DisclosureStore(uow.session).violations(
            status=status, kind=kind, offset=offset, limit=limit, district=district)
        items = [_violation_dict(v, n) for v, n in rows]
    return _page([dict(i, updated=i["at"]) for i in items], total, offset, limit)


def penalty_decisions(uow: UoW, *, q: str | None = None, enterprise: str | None = None,
                      status: str | None = None, offset: int = 0, limit: int = 50,
                      district: str | None = None) -> dict[str, Any]:
    """Penalty decisions, newest first (public: withdrawn ones show number and reason;
    `district`: that district's enterprises', a district officer's bureau list)."""
    with uow:
        store = DisclosureStore(uow.session)
        rows, total = store.decisions(q=q, enterprise=enterprise, status=status,
                                      offset=offset, limit=limit, district=district)
        events = store.events([d.id for d, _ in rows])
        items = [_decision_dict(d, n, events.get(d.id, [])) for d, n in rows]
    return _page(items, total, offset, limit)


def penalty_decision(uow: UoW, *, number: str) -> dict[str, Any]:
    """One decision by its number, with its enterprise's name and its events."""
    num = P.clean_text(number, "number", max_len=P.NUMBER_MAX)
    with uow:
        store = DisclosureStore(uow.session)
        d = store.decision(num)
        if d is None:
            raise DecisionNotFound(f"no penalty decision {num}", field="number")
        rows, _total = store.decisions(enterprise=d.enterprise, limit=1_000)
        name = next((n for row, n in rows if row.id == d.id), None)
        return _decision_dict(d, name, store.events([d.id]).get(d.id, []))


# violations by kind: opening, hand-over to enforcement, result ----------------------------

def _clean(value: object, fld: str, max_len: int, *, required: bool = True) -> str:
    try:
        return P.clean_text(value, fld, max_len=max_len, required=required)
    except BadPenaltyDecision as exc:
        raise BadViolation(exc.message, field=fld) from None


def _day(value: object, fld: str, *, today: date, earliest: date) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise BadViolation(f"{fld} must be a date (YYYY-MM-DD)", field=fld) from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BadViolation(f"{fld} must be a date", field=fld)
    if value > today:
        raise BadViolation(f"{fld} may not be in the future", field=fld)
    if value < earliest:
        raise BadViolation(f"{fld} may not precede {earliest}", field=fld)
    return value


def new_violation(store: DisclosureStore, *, permit: str, kind: str, occurred_on: object,
                  facts: object, actor: str, now: datetime, pollutant: str | None = None,
                  instances: int = 1, exceedance_kg: int = 0, clue: int | None = None
                  ) -> ViolationRow:
    """Validate and add an open violation of `kind` (inside the caller's unit of work): its
    range is the kind's statutory range × instances (per-instance kinds only)."""
    k = V.kind(kind)
    lo, hi = k.range_fen(instances)
    day = _day(occurred_on, "occurred_on", today=_today(now), earliest=IN_FORCE_FROM)
    text = _clean(facts, "facts", FACTS_MAX)
    pol = ""
    if pollutant:
        p = find_pollutant(pollutant)
        if p is None:
            raise BadViolation(f"unknown pollutant {str(pollutant)[:20]!r}", field="pollutant")
        pol = p.value
    if isinstance(exceedance_kg, bool) or not isinstance(exceedance_kg, int) \
            or exceedance_kg < 0:
        raise BadViolation("exceedance_kg must be a whole number of kg >= 0",
                           field="exceedance_kg")
    if not isinstance(permit, str) or not permit.strip() or len(permit) > 22:
        raise BadViolation("permit: a permit code is required", field="permit")
    owner = store.permit_owner(permit.strip())
    if owner is None:
        raise BadViolation(f"unknown permit {permit.strip()}", field="permit")
    row = ViolationRow(
        enterprise=owner, permit=permit.strip(), year=day.year, pollutant=pol,
        shortfall_kg=exceedance_kg, penalty_min_fen=lo, penalty_max_fen=hi,
        basis=k.basis_en, status=OPEN, at=now, note=None, deducted_kg=0, kind=k.code,
        article=k.article_ref, instances=instances, occurred_on=day, facts=text,
        opened_by=actor, clue=clue)
    store.add_violation(row)
    return row


def open_violation(uow: UoW, *, permit: str, kind: str, occurred_on: date | str,
                   facts: str, actor: str, pollutant: str | None = None,
                   instances: int = 1, exceedance_kg: int = 0, now: datetime | None = None
                   ) -> dict[str, Any]:
    """The bureau opens a violation of a kind by hand (an inspection's findings)."""
    now = now or system_clock()
    with uow:
        store = DisclosureStore(uow.session)
        row = new_violation(store, permit=permit, kind=kind, occurred_on=occurred_on,
                            facts=facts, actor=actor, now=now, pollutant=pollutant,
                            instances=instances, exceedance_kg=exceedance_kg)
        out = _violation_dict(row)
        uow.commit()
    return out


def _locked(store: DisclosureStore, violation_id: int) -> ViolationRow:
    v = store.violation(violation_id, lock=True)
    if v is None:
        raise ViolationNotFound(f"no violation {violation_id}", field="violation")
    return v


def transfer_violation(uow: UoW, *, violation_id: int, department: str,
                       transferred_on: date | str, actor: str, now: datetime | None = None
                       ) -> dict[str, Any]:
    """Hand an open violation to enforcement (e.g. the ecological-environment enforcement
    corps, or the public security organ for detention under Art. 44): status "transferred"
    with the receiving department, the date and the officer. A decided violation is not
    transferred (its decision is in force); a transferred one is not decided by the bureau."""
    now = now or system_clock()
    dept = _clean(department, "department", DEPARTMENT_MAX)
    with uow:
        store = DisclosureStore(uow.session)
        v = _locked(store, violation_id)
        day = _day(transferred_on, "transferred_on", today=_today(now),
                   earliest=v.occurred_on or trading_day(_utc(v.at) or now))
        if v.status != OPEN:
            raise ViolationStepRefused(
                f"violation {violation_id} is {v.status}: only an open violation is "
                "transferred", field="violation", status=v.status)
        _no_procedure(uow, v.id)
        v.status, v.transferred_to, v.transferred_on, v.transferred_by = (
            TRANSFERRED, dept, day, actor)
        store.s.flush()
        out = _violation_dict(v)
        uow.commit()
    return out


def record_result(uow: UoW, *, violation_id: int, result: str, result_on: date | str,
                  actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Record what the enforcement body decided on a transferred violation (once)."""
    now = now or system_clock()
    text = _clean(result, "result", RESULT_MAX)
    with uow:
        store = DisclosureStore(uow.session)
        v = _locked(store, violation_id)
        if v.status != TRANSFERRED or v.transferred_on is None:
            raise ViolationStepRefused(
                f"violation {violation_id} is {v.status}: a result is recorded on a "
                "transferred violation", field="violation", status=v.status)
        if v.result_on is not None:
            raise ViolationStepRefused(f"violation {violation_id} already has a result",
                                       field="violation", status=v.status)
        day = _day(result_on, "result_on", today=_today(now), earliest=v.transferred_on)
        v.result, v.result_on, v.result_by = text, day, actor
        store.s.flush()
        out = _violation_dict(v)
        uow.commit()
    return out


def get_violation(uow: UoW, *, violation_id: int) -> dict[str, Any]:
    with uow:
        v = DisclosureStore(uow.session).violation(violation_id)
        if v is None:
            raise ViolationNotFound(f"no violation {violation_id}", field="violation")
        return _violation_dict(v)


def violation_kinds() -> list[dict[str, object]]:
    """The table of violation kinds in force (article, range in fen, legal basis)."""
    return [k.to_dict() for k in V.kinds()]


# public lists --------------------------------------------------------------------------------

def default_year(now: datetime | None = None) -> int:
    """The year a true-up settles by default: last calendar year (as compliance_status)."""
    return trading_day(now or system_clock()).year - 1


def public_compliance(uow: UoW, *, year: int | None = None, q: str | None = None,
                      offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """Compliance status per enterprise holding a permit, for a year: compliant, violation
    or pending, per permit, with counts of violations and published penalty decisions."""
    year = year if year is not None else default_year()
    with uow:
        store = DisclosureStore(uow.session)
        ents, total = store.enterprises_with_permits(q=q, offset=offset, limit=limit)
        codes = [c for c, _ in ents]
        permits = store.permits_by_enterprise(codes)
        done: dict[str, tuple[str, datetime]] = {t.permit: (t.status, t.at)
                                                 for t in store.true_ups(codes, year)}
        counts = store.violation_counts(codes, year)
        decided = store.decision_summary(codes, year)
    items = []
    for code, name in ents:
        per = [dict(permit=p, status=done[p][0] if p in done else "pending")
               for p in permits.get(code, [])]
        n_dec, dec_at = decided.get(code, (0, None))
        updated = _latest([*(_iso(done[p][1]) for p in permits.get(code, []) if p in done),
                           _iso(dec_at)])
        items.append(dict(credit_code=code, name=name, year=year,
                          status=P.enterprise_status(x["status"] for x in per), permits=per,
                          violations=counts.get(code, 0), penalty_decisions=n_dec,
                          updated=updated))
    return _page(items, total, offset, limit, year=year)


def public_trades(uow: UoW, *, market: str | None = None, offset: int = 0, limit: int = 50
                  ) -> dict[str, Any]:
    """Trades, newest first, as an exchange publishes them: no parties, orders or fees."""
    with uow:
        rows, total = DisclosureStore(uow.session).trades(market=market, offset=offset,
                                                          limit=limit)
        items = [dict(id=t.id, market=t.market, qty_kg=t.qty, price_fen_per_t=t.price,
                      value_fen=t.value_fen, venue=t.venue, at=_iso(t.at), updated=_iso(t.at))
                 for t in rows]
    return _page(items, total, offset, limit)


def public_permits(uow: UoW, *, enterprise: str | None = None, offset: int = 0,
                   limit: int = 50) -> dict[str, Any]:
    """Permits with their holder and per pollutant and year the cap, the binding basis and
    the permitted quantity; `updated` is the permit's last recorded change."""
    from allocation.register import permit_status

    with uow:
        store = DisclosureStore(uow.session)
        rows, total = store.permits(enterprise=enterprise, offset=offset, limit=limit)
        codes = [p.code for p, _ in rows]
        qs = store.quantities(codes)
        last = store.last_events(codes)
        items = [dict(code=p.code, enterprise=e.credit_code, enterprise_name=e.name,
                      sector=e.sector, district=e.district, valid_from=p.valid_from.isoformat(),
                      valid_to=p.valid_to.isoformat(),
                      status=permit_status(p.status, p.valid_to),  # issues 17, 18
                      quantities=[dict(pollutant=q.pollutant, year=q.year, zone=q.zone,
                                       cap_kg=q.cap_kg, binding=q.binding,
                                       permitted_kg=q.permitted_kg, confirmed=q.confirmed)
                                  for q in qs.get(p.code, [])],
                      updated=_iso(last.get(p.code) or p.issued_at))
                 for p, e in rows]
    return _page(items, total, offset, limit)


def enterprise_disclosure(uow: UoW, *, enterprise: str, year: int | None = None
                          ) -> dict[str, Any]:
    """One enterprise's public compliance status for a year and all its penalty decisions."""
    year = year if year is not None else default_year()
    with uow:
        store = DisclosureStore(uow.session)
        permits = store.permits_by_enterprise([enterprise]).get(enterprise, [])
        done = {t.permit: t.status for t in store.true_ups([enterprise], year)}
        rows, _total = store.decisions(enterprise=enterprise, offset=0, limit=500)
        events = store.events([d.id for d, _ in rows])
        decisions = [_decision_dict(d, n, events.get(d.id, [])) for d, n in rows]
    per = [dict(permit=p, status=done.get(p, "pending")) for p in permits]
    return dict(enterprise=enterprise, year=year,
                status=P.enterprise_status(x["status"] for x in per), permits=per,
                decisions=decisions)
