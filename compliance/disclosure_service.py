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

from compliance import penalties as P
from compliance.disclosure_store import DisclosureStore
from compliance.disclosure_tables import PenaltyDecisionRow, PenaltyEventRow
from compliance.errors import (
    BadPenaltyDecision,
    DecisionNotFound,
    DuplicateDecisionNumber,
    ViolationNotFound,
    ViolationNotOpen,
)
from compliance.tables import ViolationRow
from kernel.clock import system_clock, trading_day
from ledger.service import UoW

ART34_BASIS = "《排污许可管理条例》第三十四条 (Regulation on Pollutant Discharge Permits, Art. 34)"


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


def _violation_dict(v: ViolationRow, name: str | None = None) -> dict[str, Any]:
    return dict(id=v.id, enterprise=v.enterprise, enterprise_name=name, permit=v.permit,
                year=v.year, pollutant=v.pollutant, shortfall_kg=v.shortfall_kg,
                penalty_min_fen=v.penalty_min_fen, penalty_max_fen=v.penalty_max_fen,
                basis=v.basis, status=v.status, at=_iso(v.at))


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

def decide_penalty(uow: UoW, *, violation_id: int, number: str, amount_fen: int,
                   decided_on: date | str, legal_basis: str | None = None, summary: str,
                   actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Decide an open violation: the decision is published at once and the violation
    becomes "decided"."""
    now = now or system_clock()
    with uow:
        store = DisclosureStore(uow.session)
        v = store.violation(violation_id, lock=True)
        if v is None:
            raise ViolationNotFound(f"no violation {violation_id}", field="violation")
        dec = P.check_decision(
            number=number, amount_fen=amount_fen, decided_on=decided_on,
            legal_basis=legal_basis if legal_basis else ART34_BASIS, summary=summary,
            penalty_min_fen=v.penalty_min_fen, penalty_max_fen=v.penalty_max_fen,
            violation_day=trading_day(_utc(v.at) or now), today=_today(now))
        if v.status != "open":
            raise ViolationNotOpen(f"violation {violation_id} is {v.status}, not open",
                                   field="violation")
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
            d.amount_fen = P.check_amount(amount_fen, v.penalty_min_fen, v.penalty_max_fen)
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


def violations(uow: UoW, *, status: str | None = "open", offset: int = 0, limit: int = 50
               ) -> dict[str, Any]:
    """Violations (by default those awaiting a decision), oldest first."""
    with uow:
        rows, total = DisclosureStore(uow.session).violations(status=status, offset=offset,
                                                              limit=limit)
        items = [_violation_dict(v, n) for v, n in rows]
    return _page([dict(i, updated=i["at"]) for i in items], total, offset, limit)


def penalty_decisions(uow: UoW, *, q: str | None = None, enterprise: str | None = None,
                      status: str | None = None, offset: int = 0, limit: int = 50
                      ) -> dict[str, Any]:
    """Penalty decisions, newest first (public: withdrawn ones show number and reason)."""
    with uow:
        store = DisclosureStore(uow.session)
        rows, total = store.decisions(q=q, enterprise=enterprise, status=status,
                                      offset=offset, limit=limit)
        events = store.events([d.id for d, _ in rows])
        items = [_decision_dict(d, n, events.get(d.id, [])) for d, n in rows]
    return _page(items, total, offset, limit)


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
    with uow:
        store = DisclosureStore(uow.session)
        rows, total = store.permits(enterprise=enterprise, offset=offset, limit=limit)
        codes = [p.code for p, _ in rows]
        qs = store.quantities(codes)
        last = store.last_events(codes)
        items = [dict(code=p.code, enterprise=e.credit_code, enterprise_name=e.name,
                      sector=e.sector, district=e.district, valid_from=p.valid_from.isoformat(),
                      valid_to=p.valid_to.isoformat(), status=p.status,
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
