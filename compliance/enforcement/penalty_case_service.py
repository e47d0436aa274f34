"""Use cases of the administrative penalty procedure (compliance/enforcement/penalty_procedure.py).

Each step is one unit of work: the state check, the case's new fields, its dated event and
(where the step concerns the enterprise) its notification commit together, or nothing does.
Steps on one case lock its row (PostgreSQL); a notice locks the violation, so two officers
cannot open two procedures on one violation. "Today" is the Beijing date of `now`.

The decision is published (written to `penalty_decision`, with its "decided" event) only when
it is served: until then it is the case's and visible to the bureau and the enterprise only.
An enterprise acts on its own cases only (another's case answers as missing).

A requested hearing is fixed and notified (`notify_hearing`: day, place, the day of the notice;
the enterprise is told in the same transaction) at least 7 working days before it; it is
recorded on that day. A served fine unpaid after its last day shows the late-payment
surcharge accrued by today (`surcharge_fen`, `amount_due_fen`); the payment records the fine
and the surcharge paid (by default the one accrued by the day of payment).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from compliance.enforcement import penalties as P
from compliance.enforcement import penalty_procedure as PP
from compliance.enforcement.disclosure_service import kind_of
from compliance.enforcement.disclosure_store import DisclosureStore
from compliance.enforcement.disclosure_tables import PenaltyDecisionRow, PenaltyEventRow
from compliance.enforcement.penalty_case_store import PenaltyCaseStore
from compliance.enforcement.penalty_case_tables import PenaltyCaseEventRow, PenaltyCaseRow
from compliance.errors import (
    BadPenaltyCase,
    BadPenaltyDecision,
    DuplicateDecisionNumber,
    PenaltyCaseNotFound,
    PenaltyStepRefused,
    ViolationNotFound,
    ViolationNotOpen,
)
from kernel.clock import system_clock, trading_day
from ledger.service import UoW
from notices import service as notices

#: cases that block a new procedure on the same violation (before service)
OPEN_STATUSES = (PP.NOTICED, PP.HEARING_REQUESTED, PP.HEARD, PP.DECIDED)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _today(now: datetime) -> date:
    return trading_day(_utc(now))


def _text(value: object, fld: str, max_len: int, *, required: bool = True) -> str:
    try:
        return P.clean_text(value, fld, max_len=max_len, required=required)
    except BadPenaltyDecision as exc:
        raise BadPenaltyCase(exc.message, field=fld) from None


def _day(value: object, fld: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise BadPenaltyCase(f"{fld} must be a date (YYYY-MM-DD)", field=fld) from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BadPenaltyCase(f"{fld} must be a date", field=fld)
    return value


def _deadlines(c: PenaltyCaseRow) -> PP.Deadlines:
    return PP.Deadlines(c.statement_due, c.hearing_due)


def case_dict(c: PenaltyCaseRow, events: list[PenaltyCaseEventRow], *, name: str | None,
              today: date, withdrawn: bool = False) -> dict[str, Any]:
    """A case as its parties read it: dates (Beijing), deadlines and what each side can do
    now (`enterprise_can`, `bureau_can`). `withdrawn`: its served decision was withdrawn
    later (disclosure_service.withdraw_penalty): nothing is due any more."""
    def iso(d: date | None) -> str | None:
        return d.isoformat() if d else None

    dl = _deadlines(c)
    filed = c.statement_on is not None
    overdue = (c.status == PP.SERVED and c.payment_due is not None and today > c.payment_due
               and not withdrawn)
    bureau_can = [] if withdrawn else PP.next_steps(c.status, side="bureau", deadlines=dl,
                                                    statement_filed=filed, today=today,
                                                    hearing_fixed_on=c.hearing_fixed_on)
    # the surcharge: accrued by today while unpaid; the one paid once paid
    if c.status == PP.PAID:
        late = PP.days_late(c.payment_due, c.paid_on) if c.payment_due and c.paid_on else 0
        surcharge = c.paid_surcharge_fen or 0
    elif overdue and c.amount_fen is not None and c.payment_due is not None:
        late = PP.days_late(c.payment_due, today)
        surcharge = PP.surcharge_fen(c.amount_fen, c.payment_due, today)
    else:
        late, surcharge = 0, 0
    due_now = ((c.amount_fen or 0) + surcharge
               if c.status == PP.SERVED and not withdrawn else 0)
    return dict(
        id=c.id, violation=c.violation, enterprise=c.enterprise, enterprise_name=name,
        permit=c.permit, status=c.status, periods_version=c.periods_version,
        notice_number=c.notice_number, noticed_on=iso(c.noticed_on), facts=c.facts,
        legal_basis=c.legal_basis, proposed_fen=c.proposed_fen, hearing_right=c.hearing_right,
        statement_due=iso(c.statement_due), hearing_due=iso(c.hearing_due),
        statement=c.statement, statement_on=iso(c.statement_on),
        hearing_requested_on=iso(c.hearing_requested_on),
        hearing_fixed_on=iso(c.hearing_fixed_on), hearing_place=c.hearing_place,
        hearing_notified_on=iso(c.hearing_notified_on),
        hearing_earliest=(iso(PP.earliest_hearing(c.hearing_notified_on))
                          if c.hearing_notified_on else None),
        hearing_on=iso(c.hearing_on),
        hearing_record=c.hearing_record, decision_number=c.decision_number,
        amount_fen=c.amount_fen, decided_on=iso(c.decided_on),
        decision_basis=c.decision_basis, summary=c.summary, service_due=iso(c.service_due),
        served_on=iso(c.served_on), service_method=c.service_method,
        payment_due=iso(c.payment_due), paid_on=iso(c.paid_on), paid_fen=c.paid_fen,
        paid_surcharge_fen=c.paid_surcharge_fen,
        payment_overdue=overdue, days_late=late, surcharge_fen=surcharge,
        amount_due_fen=due_now, decision_withdrawn=withdrawn,
        published=c.status in (PP.SERVED, PP.PAID) and not withdrawn,
        enterprise_can=PP.next_steps(c.status, side="enterprise", deadlines=dl,
                                     statement_filed=filed, today=today),
        bureau_can=bureau_can,
        opened_by=c.opened_by, opened_at=_utc(c.opened_at).isoformat(),
        updated=_utc(c.updated_at).isoformat(),
        events=[dict(kind=e.kind, on=e.on_day.isoformat(), at=_utc(e.at).isoformat(),
                     actor=e.actor, detail=e.detail) for e in events])


def _event(store: PenaltyCaseStore, c: PenaltyCaseRow, kind: str, on: date, actor: str,
           now: datetime, detail: str | None = None) -> None:
    c.updated_at = now
    store.add_event(PenaltyCaseEventRow(case_id=c.id, kind=kind, on_day=on, at=now,
                                        actor=actor, detail=detail))


def _withdrawn(store: PenaltyCaseStore, rows: list[PenaltyCaseRow]) -> set[int]:
    served = {c.decision_number: c.id for c in rows
              if c.status in (PP.SERVED, PP.PAID) and c.decision_number}
    return {served[n] for n, st in store.decision_statuses(list(served)).items()
            if st == P.WITHDRAWN}


def _out(store: PenaltyCaseStore, c: PenaltyCaseRow, now: datetime) -> dict[str, Any]:
    return case_dict(c, store.events([c.id])[c.id], name=store.enterprise_name(c.enterprise),
                     today=_today(now), withdrawn=bool(_withdrawn(store, [c])))


def _case(store: PenaltyCaseStore, case_id: int, enterprise: str | None = None
          ) -> PenaltyCaseRow:
    c = store.case(case_id, lock=True)
    if c is None or (enterprise is not None and c.enterprise != enterprise):
        raise PenaltyCaseNotFound(f"no penalty case {case_id}", field="case")
    return c


# bureau: advance notice ------------------------------------------------------------------

def issue_notice(uow: UoW, *, violation_id: int, number: str, proposed_fen: int,
                 noticed_on: date | str | None = None, facts: str | None = None,
                 legal_basis: str | None = None, actor: str, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Give the advance notice on an open violation: the proposed penalty (inside the
    violation's statutory range), the facts (default: the violation's), the legal basis
    (default: the kind's article, in Chinese) and the enterprise's periods."""
    now = now or system_clock()
    today = _today(now)
    num = _text(number, "number", P.NUMBER_MAX)
    day = today if noticed_on in (None, "") else _day(noticed_on, "noticed_on")
    with uow:
        dstore = DisclosureStore(uow.session)
        store = PenaltyCaseStore(uow.session)
        v = dstore.violation(violation_id, lock=True)
        if v is None:
            raise ViolationNotFound(f"no violation {violation_id}", field="violation")
        k = kind_of(v)
        P.check_amount(proposed_fen, v.penalty_min_fen, v.penalty_max_fen,
                       basis=f"{k.basis_en}" + (f", {v.instances} instance(s)"
                                                 if k.per_instance else ""))
        if v.status != "open":
            raise ViolationNotOpen(f"violation {violation_id} is {v.status}, not open",
                                   field="violation")
        if store.active_case(v.id, OPEN_STATUSES) is not None:
            raise PenaltyStepRefused(f"violation {violation_id} has a procedure under way",
                                     field="violation", status="noticed", step="notice")
        earliest = v.occurred_on or trading_day(_utc(v.at))
        if day > today or day < earliest:
            raise BadPenaltyCase(f"noticed_on must lie between {earliest} and today",
                                 field="noticed_on")
        if store.notice_number_taken(num):
            raise DuplicateDecisionNumber(f"notice number {num} is taken", field="number")
        # default facts: the violation's, else its kind in Chinese (never the English basis)
        text = _text(facts if facts else (v.facts or f"{k.name_zh}（{k.basis_zh}）"),
                     "facts", P.SUMMARY_MAX)
        basis = _text(legal_basis if legal_basis else k.basis_zh, "legal_basis",
                      P.BASIS_MAX)
        dl = PP.notice_deadlines(day, proposed_fen)
        c = PenaltyCaseRow(
            violation=v.id, enterprise=v.enterprise, permit=v.permit, status=PP.NOTICED,
            periods_version=PP.PERIODS_VERSION, notice_number=num, noticed_on=day,
            facts=text, legal_basis=basis, proposed_fen=proposed_fen,
            hearing_right=dl.hearing_due is not None, statement_due=dl.statement_due,
            hearing_due=dl.hearing_due, opened_by=actor, opened_at=now, updated_at=now)
        store.add(c)
        _event(store, c, PP.EV_NOTICE, day, actor, now, f"{num}: {proposed_fen} fen")
        notices.to_enterprise(uow, v.enterprise, "penalty_notice", num,
                              dict(amount_fen=proposed_fen, case=c.id,
                                   due=dl.statement_due), now=now)
        out = _out(store, c, now)
        uow.commit()
    return out


# enterprise: statement and defence, hearing request --------------------------------------

def file_statement(uow: UoW, *, case_id: int, statement: str, enterprise: str, actor: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """The enterprise's statement and defence (once, within its period)."""
    now = now or system_clock()
    today = _today(now)
    text = _text(statement, "statement", P.SUMMARY_MAX)
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = _case(store, case_id, enterprise)
        PP.check_statement(c.status, c.statement_due, today, c.statement_on is not None)
        c.statement, c.statement_on = text, today
        _event(store, c, PP.EV_STATEMENT, today, actor, now, text[:200])
        out = _out(store, c, now)
        uow.commit()
    return out


def request_hearing(uow: UoW, *, case_id: int, enterprise: str, actor: str,
                    reason: str | None = None, now: datetime | None = None
                    ) -> dict[str, Any]:
    """The enterprise asks for a hearing (where the notice gives the right, within 5
    working days)."""
    now = now or system_clock()
    today = _today(now)
    why = _text(reason or "", "reason", P.REASON_MAX, required=False) or None
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = _case(store, case_id, enterprise)
        PP.check_hearing_request(c.status, c.hearing_due, today)
        c.status, c.hearing_requested_on = PP.HEARING_REQUESTED, today
        _event(store, c, PP.EV_HEARING_REQUEST, today, actor, now, why)
        out = _out(store, c, now)
        uow.commit()
    return out


# bureau: hearing notice and hearing, decision, service, payment ---------------------------

def notify_hearing(uow: UoW, *, case_id: int, hearing_on: date | str, place: str, actor: str,
                   notified_on: date | str | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Fix the requested hearing's day and place and notify the enterprise (Art. 64(2)): at
    least 7 working days before the hearing, else 422 penalty_hearing_notice_too_short. A
    new notice moves the hearing (each is a dated event and an in-app notice)."""
    now = now or system_clock()
    today = _today(now)
    day = _day(hearing_on, "hearing_on")
    told = today if notified_on in (None, "") else _day(notified_on, "notified_on")
    where = _text(place, "place", PP.PLACE_MAX)
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = _case(store, case_id)
        PP.check_hearing_notice(c.status, c.hearing_requested_on, told, day, today)
        c.hearing_fixed_on, c.hearing_place, c.hearing_notified_on = day, where, told
        _event(store, c, PP.EV_HEARING_NOTICE, told, actor, now,
               f"{day.isoformat()} {where}"[:200])
        notices.to_enterprise(uow, c.enterprise, "penalty_hearing", c.notice_number,
                              dict(case=c.id, due=day, place=where), now=now)
        out = _out(store, c, now)
        uow.commit()
    return out


def record_hearing(uow: UoW, *, case_id: int, held_on: date | str, record: str, actor: str,
                   now: datetime | None = None) -> dict[str, Any]:
    now = now or system_clock()
    today = _today(now)
    day = _day(held_on, "held_on")
    text = _text(record, "record", P.SUMMARY_MAX)
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = _case(store, case_id)
        PP.check_hearing(c.status, c.hearing_requested_on, day, today,
                         fixed_on=c.hearing_fixed_on, notified_on=c.hearing_notified_on)
        c.status, c.hearing_on, c.hearing_record = PP.HEARD, day, text
        _event(store, c, PP.EV_HEARING, day, actor, now, text[:200])
        out = _out(store, c, now)
        uow.commit()
    return out


def decide_case(uow: UoW, *, case_id: int, number: str, amount_fen: int,
                decided_on: date | str | None = None, legal_basis: str | None = None,
                summary: str, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """The decision: inside the statutory range, never heavier than the notice, after the
    enterprise's periods (or its hearing). Not public until served."""
    now = now or system_clock()
    today = _today(now)
    num = _text(number, "number", P.NUMBER_MAX)
    day = today if decided_on in (None, "") else _day(decided_on, "decided_on")
    text = _text(summary, "summary", P.SUMMARY_MAX)
    with uow:
        store = PenaltyCaseStore(uow.session)
        dstore = DisclosureStore(uow.session)
        c = _case(store, case_id)
        PP.check_decision_step(c.status, _deadlines(c), c.statement_on is not None, today)
        v = dstore.violation(c.violation, lock=True)
        assert v is not None  # a case's violation is a foreign key
        k = kind_of(v)
        P.check_amount(amount_fen, v.penalty_min_fen, v.penalty_max_fen, basis=k.basis_en)
        PP.check_not_heavier(amount_fen, c.proposed_fen)
        if day > today or day < (c.hearing_on or c.noticed_on):
            raise BadPenaltyCase("decided_on must lie between the notice (the hearing, if "
                                 "held) and today", field="decided_on")
        if store.decision_number_taken(num):
            raise DuplicateDecisionNumber(f"decision number {num} is taken", field="number")
        basis = _text(legal_basis if legal_basis else c.legal_basis, "legal_basis",
                      P.BASIS_MAX)
        c.status, c.decision_number, c.amount_fen, c.decided_on = (
            PP.DECIDED, num, amount_fen, day)
        c.decision_basis, c.summary, c.service_due = basis, text, PP.service_due(day)
        dstore.set_violation_status(v.id, "decided")
        _event(store, c, PP.EV_DECISION, day, actor, now, f"{num}: {amount_fen} fen")
        out = _out(store, c, now)
        uow.commit()
    return out


def serve_decision(uow: UoW, *, case_id: int, method: str, actor: str,
                   served_on: date | str | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Serve the decision (dated, with its method): it is published now and the payment
    period (15 days) begins."""
    now = now or system_clock()
    today = _today(now)
    day = today if served_on in (None, "") else _day(served_on, "served_on")
    how = str(method or "").strip()
    with uow:
        store = PenaltyCaseStore(uow.session)
        dstore = DisclosureStore(uow.session)
        c = _case(store, case_id)
        if c.decided_on is None or c.decision_number is None or c.amount_fen is None:
            raise PenaltyStepRefused(f"service: the case is {c.status}; a decision is served "
                                     "once, after it is made", field="case",
                                     status=c.status, step="service")
        PP.check_service(c.status, c.decided_on, day, how, today)
        v = dstore.violation(c.violation)
        assert v is not None
        row = PenaltyDecisionRow(
            number=c.decision_number, violation=v.id, enterprise=v.enterprise,
            permit=v.permit, year=v.year, pollutant=v.pollutant, amount_fen=c.amount_fen,
            decided_on=c.decided_on, legal_basis=c.decision_basis or c.legal_basis,
            summary=c.summary or "", status=P.PUBLISHED, decided_by=actor, published_at=now,
            updated_at=now, withdrawn_reason=None)
        if dstore.add_decision(row) is None:
            raise DuplicateDecisionNumber(f"decision number {c.decision_number} is taken",
                                          field="number")
        dstore.add_event(PenaltyEventRow(decision=row.id, kind=P.DECIDED, at=now, actor=actor,
                                         amount_fen=c.amount_fen,
                                         legal_basis=row.legal_basis, summary=row.summary,
                                         reason=None))
        c.status, c.served_on, c.service_method = PP.SERVED, day, how
        c.payment_due = PP.payment_due(day)
        _event(store, c, PP.EV_SERVICE, day, actor, now, how)
        notices.to_enterprise(uow, c.enterprise, "penalty_decided", c.decision_number,
                              dict(amount_fen=c.amount_fen, case=c.id, due=c.payment_due),
                              now=now)
        out = _out(store, c, now)
        uow.commit()
    return out


def record_payment(uow: UoW, *, case_id: int, actor: str, paid_on: date | str | None = None,
                   surcharge_fen: int | None = None, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Record the fine paid in full (dated) with the late-payment surcharge paid (Art. 72(1)):
    by default the one accrued by the day of payment; the bureau may record less (Art. 72
    says "may"), never more. The case is closed."""
    now = now or system_clock()
    today = _today(now)
    day = today if paid_on in (None, "") else _day(paid_on, "paid_on")
    if surcharge_fen is not None and (isinstance(surcharge_fen, bool)
                                      or not isinstance(surcharge_fen, int)):
        raise BadPenaltyCase("surcharge_fen must be a whole number of fen",
                             field="surcharge_fen")
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = _case(store, case_id)
        PP.check_payment(c.status, c.served_on, day, today)
        if _withdrawn(store, [c]):
            raise PenaltyStepRefused("payment: the decision was withdrawn", field="case",
                                     status=c.status, step="payment")
        assert c.amount_fen is not None and c.payment_due is not None  # served
        accrued = PP.surcharge_fen(c.amount_fen, c.payment_due, day)
        extra = accrued if surcharge_fen is None else surcharge_fen
        PP.check_surcharge(extra, accrued)
        c.status, c.paid_on, c.paid_fen = PP.PAID, day, c.amount_fen
        c.paid_surcharge_fen = extra
        _event(store, c, PP.EV_PAYMENT, day, actor, now,
               f"{c.amount_fen} fen + surcharge {extra} fen")
        out = _out(store, c, now)
        uow.commit()
    return out


# reads -----------------------------------------------------------------------------------

def get_case(uow: UoW, *, case_id: int, enterprise: str | None = None,
             district: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """One case; `enterprise` restricts to that enterprise's (others answer as missing),
    `district` to a district officer's."""
    now = now or system_clock()
    with uow:
        store = PenaltyCaseStore(uow.session)
        c = store.case(case_id)
        if c is None or (enterprise is not None and c.enterprise != enterprise):
            raise PenaltyCaseNotFound(f"no penalty case {case_id}", field="case")
        if district is not None:
            rows, _ = store.cases(enterprise=c.enterprise, district=district, limit=1)
            if not rows:
                raise PenaltyCaseNotFound(f"no penalty case {case_id}", field="case")
        return _out(store, c, now)


def cases(uow: UoW, *, enterprise: str | None = None, status: str | None = None,
          district: str | None = None, offset: int = 0, limit: int = 50,
          now: datetime | None = None) -> dict[str, Any]:
    """Cases, newest first, with their events."""
    now = now or system_clock()
    if status is not None and status not in PP.STATUSES:
        raise BadPenaltyCase(f"unknown status {status[:20]!r}", field="status")
    with uow:
        store = PenaltyCaseStore(uow.session)
        rows, total = store.cases(enterprise=enterprise, status=status, district=district,
                                  offset=offset, limit=limit)
        events = store.events([c.id for c, _ in rows])
        gone = _withdrawn(store, [c for c, _ in rows])
        items = [case_dict(c, events.get(c.id, []), name=n, today=_today(now),
                           withdrawn=c.id in gone) for c, n in rows]
    return dict(total=total, offset=offset, limit=limit,
                next_offset=offset + limit if offset + limit < total else None, items=items)


def under_way(uow: UoW, violation_ids: list[int]) -> set[int]:
    """Those of the violations with a procedure under way (no new notice on them)."""
    with uow:
        return PenaltyCaseStore(uow.session).under_way(violation_ids, OPEN_STATUSES)


def waiting(uow: UoW, *, enterprise: str | None = None, district: str | None = None,
            now: datetime | None = None) -> dict[str, int]:
    """To-do counts for a workbench: cases where the enterprise can answer now (its own
    when `enterprise` is given) and cases where the bureau has a step to take."""
    now = now or system_clock()
    today = _today(now)
    with uow:
        store = PenaltyCaseStore(uow.session)
        out = {"enterprise": 0, "bureau": 0}
        for status in OPEN_STATUSES + (PP.SERVED,):
            rows, _ = store.cases(enterprise=enterprise, status=status, district=district,
                                  limit=10_000)
            gone = _withdrawn(store, [c for c, _n in rows])
            for c, _n in rows:
                if c.id in gone:
                    continue
                dl, filed = _deadlines(c), c.statement_on is not None
                out["enterprise"] += bool(PP.next_steps(c.status, side="enterprise",
                                                        deadlines=dl, statement_filed=filed,
                                                        today=today))
                out["bureau"] += bool(PP.next_steps(c.status, side="bureau", deadlines=dl,
                                                    statement_filed=filed, today=today,
                                                    hearing_fixed_on=c.hearing_fixed_on))
    return out
