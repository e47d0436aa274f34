"""Problem clue use cases: open by hand (kind "manual"), send, rectify, verify, reject,
close; list with filters and pagination; one clue with its evidence and history.

Scoping: `enterprise` set means the caller is that enterprise's trader. It sees and acts on
its own clues only: another enterprise's clue is answered as missing (`ClueNotFound`), never
as forbidden, so that ids do not reveal what exists. Each writing use case runs in one unit of
work and locks the clue row, so two concurrent steps on one clue cannot both succeed."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from compliance.alerting import clues as C
from compliance.alerting.clue_store import ClueStore, utc
from compliance.alerting.clue_tables import ClueEventRow, ClueRow
from compliance.enforcement import disclosure_service as D
from compliance.enforcement import violations as V
from compliance.enforcement.disclosure_store import DisclosureStore
from compliance.errors import (
    BadClue,
    ClueAlreadyConfirmed,
    ClueNotFound,
    ClueUnknownPermit,
    UnknownViolationKind,
)
from compliance.reporting import reports as R
from compliance.reporting.report_parameters import report_parameters
from compliance.supervision.screening import KINDS, Anomaly
from kernel.clock import CST, system_clock, trading_day
from kernel.pollutants import find_pollutant
from ledger.service import UoW
from notices import service as notify

CLUE_KINDS = (*KINDS, C.MANUAL, C.REPORT_MISSING)
MAX_LIMIT = 200


def _iso(t: datetime | None) -> str | None:
    return None if t is None else utc(t).isoformat()


def clue_dict(row: ClueRow, today: date) -> dict[str, Any]:
    return {"id": row.id, "enterprise": row.enterprise, "permit": row.permit,
            "outlet": row.outlet, "kind": row.kind, "pollutant": row.pollutant,
            "start": _iso(row.start), "end": _iso(row.end), "state": row.state,
            "source": row.source, "found_at": _iso(row.found_at),
            "updated_at": _iso(row.updated_at),
            "due": row.due.isoformat() if row.due else None, "message": row.message,
            "overdue": C.overdue(row.state, row.due, today), "evidence": row.evidence}


def event_dict(e: ClueEventRow) -> dict[str, Any]:
    return {"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
            "actor": e.actor, "role": e.role, "at": _iso(e.at), "note": e.note}


def _visible(store: ClueStore, clue_id: int, enterprise: str | None, *, lock: bool = False,
             district: str | None = None) -> ClueRow:
    """The clue, if visible: an enterprise sees its own once the bureau has sent them (a
    clue still `found` is the bureau's suspicion, not yet the enterprise's business), a
    district officer those of its district's enterprises; anything else answers as
    missing."""
    row = store.get(clue_id, lock=lock)
    if row is None or (enterprise is not None and (row.enterprise != enterprise
                                                   or row.state not in C.SENT_STATES)):
        raise ClueNotFound(f"no clue {clue_id}", field="clue")
    if district is not None and store.district_of(row.enterprise) != district:
        raise ClueNotFound(f"no clue {clue_id}", field="clue")
    return row


def open_manual(uow: UoW, *, permit: str, description: str, actor: str,
                outlet: str = "", pollutant: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """The bureau opens a clue by hand (kind "manual"), e.g. from a complaint or an
    inspection; `description` becomes its evidence."""
    now = now or system_clock()
    text = (description or "").strip()
    if not text or len(text) > C.MAX_NOTE:
        raise BadClue(f"a description of 1-{C.MAX_NOTE} characters is required",
                      field="description")
    if not C.printable(text):
        raise BadClue("the description contains characters that cannot be stored",
                      field="description")
    outlet = (outlet or "").strip()
    if len(outlet) > 20 or not C.printable(outlet):
        raise BadClue("outlet code: at most 20 characters", field="outlet")
    if not permit or len(permit) > 22 or not C.printable(permit):
        raise ClueUnknownPermit(f"unknown permit {permit!r}", field="permit")
    pol: str | None = None
    if pollutant:
        p = find_pollutant(pollutant)
        if p is None:
            raise BadClue(f"unknown pollutant {pollutant!r}", field="pollutant")
        pol = p.value
    with uow:
        store = ClueStore(uow.session)
        if store.permit_owner(permit) is None:
            raise ClueUnknownPermit(f"unknown permit {permit}", field="permit")
        a = Anomaly(permit=permit, outlet=outlet, kind=C.MANUAL, pollutant=pol, start=now,
                    end=now, evidence={"description": text, "opened_by": actor})
        (cid,) = store.open_from_anomalies([a], now=now, source="manual", actor=actor,
                                           role=C.BUREAU, dedupe=False)
        row = _visible(store, cid, None)
        out = clue_dict(row, trading_day(now))
        uow.commit()
    return out


def act(uow: UoW, *, clue_id: int, action: str, side: str, actor: str,
        enterprise: str | None = None, note: str | None = None, due: date | None = None,
        district: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Take one lifecycle step on a clue (see `compliance.alerting.clues`) and append its event."""
    now = now or system_clock()
    with uow:
        store = ClueStore(uow.session)
        row = _visible(store, clue_id, enterprise, lock=True, district=district)
        out = C.step(row.state, action, side=side, actor=actor, at=now,
                     today=trading_day(now), note=note, due=due)
        before = row.state
        row.state = out.state
        if action == "send":
            row.due, row.message = out.due, out.message
            notify.to_enterprise(uow, row.enterprise, "clue_sent", row.id, {"due": row.due},
                                 now=now)
        store.record(row, action=action, from_state=before, actor=actor, role=side,
                     at=utc(now), note=out.event.note)
        result = clue_dict(row, trading_day(now))
        result["history"] = [event_dict(e) for e in store.history(clue_id)]
        uow.commit()
    return result


def send(uow: UoW, *, clue_id: int, due: date | None, message: str | None, actor: str,
         now: datetime | None = None) -> dict[str, Any]:
    return act(uow, clue_id=clue_id, action="send", side=C.BUREAU, actor=actor, note=message,
               due=due, now=now)


def rectify(uow: UoW, *, clue_id: int, note: str | None, actor: str, enterprise: str | None,
            now: datetime | None = None) -> dict[str, Any]:
    """The enterprise's trader records the rectification (`enterprise` scopes the clue)."""
    return act(uow, clue_id=clue_id, action="rectify", side=C.ENTERPRISE, actor=actor,
               enterprise=enterprise, note=note, now=now)


def verify(uow: UoW, *, clue_id: int, actor: str, note: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    return act(uow, clue_id=clue_id, action="verify", side=C.BUREAU, actor=actor, note=note,
               now=now)


def reject(uow: UoW, *, clue_id: int, reason: str | None, actor: str,
           now: datetime | None = None) -> dict[str, Any]:
    return act(uow, clue_id=clue_id, action="reject", side=C.BUREAU, actor=actor, note=reason,
               now=now)


def close(uow: UoW, *, clue_id: int, actor: str, note: str | None = None,
          now: datetime | None = None) -> dict[str, Any]:
    return act(uow, clue_id=clue_id, action="close", side=C.BUREAU, actor=actor, note=note,
               now=now)


def list_clues(uow: UoW, *, enterprise: str | None = None, permit: str | None = None,
               state: str | None = None, kind: str | None = None,
               pollutant: str | None = None, offset: int = 0, limit: int = 50,
               now: datetime | None = None, sent_only: bool = False) -> dict[str, Any]:
    """Clues matching the filters, newest first; `enterprise` restricts to one enterprise.
    `sent_only` lists what the enterprise itself sees: the clues the bureau has sent it
    (issue 18), never those still `found`."""
    if state is not None and state not in C.STATES:
        raise BadClue(f"unknown state {state!r}", field="state")
    if kind is not None and kind not in CLUE_KINDS:
        raise BadClue(f"unknown kind {kind!r}", field="kind")
    if pollutant is not None:
        p = find_pollutant(pollutant)
        if p is None:
            raise BadClue(f"unknown pollutant {pollutant!r}", field="pollutant")
        pollutant = p.value
    for name, value, size in (("permit", permit, 22), ("enterprise", enterprise, 18)):
        if value is not None and (len(value) > size or not C.printable(value)):
            raise BadClue(f"{name}: at most {size} characters", field=name)
    if offset < 0:
        raise BadClue("offset must not be negative", field="offset")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadClue(f"limit must be 1-{MAX_LIMIT}", field="limit")
    today = trading_day(now or system_clock())
    with uow:
        rows, total = ClueStore(uow.session).search(
            enterprise=enterprise, permit=permit or None, state=state, kind=kind,
            pollutant=pollutant, offset=offset, limit=limit,
            states=C.SENT_STATES if sent_only else None)
        items = [clue_dict(r, today) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def get_clue(uow: UoW, *, clue_id: int, enterprise: str | None = None,
             district: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """One clue with its evidence and full history (oldest event first)."""
    today = trading_day(now or system_clock())
    with uow:
        store = ClueStore(uow.session)
        row = _visible(store, clue_id, enterprise, district=district)
        out = clue_dict(row, today)
        out["history"] = [event_dict(e) for e in store.history(clue_id)]
    return out


# confirming a clue as a violation ---------------------------------------------------------

def confirm_violation(uow: UoW, *, clue_id: int, actor: str, kind: str | None = None,
                      facts: str | None = None, occurred_on: date | str | None = None,
                      instances: int = 1, now: datetime | None = None) -> dict[str, Any]:
    """The bureau confirms a clue as a violation: the violation's kind is the clue kind's
    default (`compliance.alerting.clues.VIOLATION_KIND`) unless the bureau names another; its date
    is the day the finding began (CST) unless given; its facts default to the clue's kind
    and evidence. The clue keeps its lifecycle (rectification goes on) and records a
    "confirm" event; a clue is confirmed once."""
    now = now or system_clock()
    with uow:
        store = ClueStore(uow.session)
        row = _visible(store, clue_id, None, lock=True)
        code = kind or C.violation_kind_of(row.kind)
        if code is None:
            raise UnknownViolationKind(
                f"a {row.kind} clue has no default violation kind: name one", field="kind")
        k = V.kind(code)
        ds = DisclosureStore(uow.session)
        if ds.violation_of_clue(row.id) is not None:
            raise ClueAlreadyConfirmed(f"clue {clue_id} is already a violation",
                                       field="clue")
        evidence = json.dumps(row.evidence, ensure_ascii=False, sort_keys=True)
        text = (facts or "").strip() or f"{row.kind} clue #{row.id}: {evidence}"[:D.FACTS_MAX]
        day = occurred_on if occurred_on not in (None, "") else trading_day(utc(row.start))
        v = D.new_violation(ds, permit=row.permit, kind=k.code, occurred_on=day,
                            facts=text, actor=actor, now=now, pollutant=row.pollutant,
                            instances=instances, clue=row.id)
        store.record(row, action="confirm", from_state=row.state, actor=actor,
                     role=C.BUREAU, at=utc(now),
                     note=f"violation #{v.id}: {k.code}, Art. {k.article_ref}")
        out = D._violation_dict(v)
        uow.commit()
    return out


def find_missing_reports(uow: UoW, *, year: int, period: str = "Y", actor: str,
                         now: datetime | None = None) -> dict[str, Any]:
    """Open a "report_missing" clue for each permit whose execution report for (year,
    period) was due (by its class and sector, under the current report parameters) and is
    not filed by the day after its due date. Re-running opens nothing new while the clue
    is open (same permit, kind and period start)."""
    now = now or system_clock()
    if period not in R.PERIODS:
        raise BadClue(f"period must be one of {', '.join(R.PERIODS)}", field="period")
    if not 2000 <= year <= C.MAX_YEAR:
        raise BadClue("year out of range", field="year")
    today = trading_day(now)
    params = report_parameters()
    first, last = R.period_bounds(year, period)
    with uow:
        store = ClueStore(uow.session)
        # what the permit owes is the bureau's missing-report rule (`reports.missing_periods`:
        # its class and sector, the shortest holding, an annual report covering Q4)
        filed = {(year, period): store.reported_permits(year, period)}
        if period == "Q4":
            filed[(year, "Y")] = store.reported_permits(year, "Y")
        start = datetime.combine(first, datetime.min.time(), tzinfo=CST)
        found = []
        for permit, sector, vf, vt in store.permits_overlapping(first, last):
            rule = params.rule(params.management_class(sector), sector)
            owed = {(y, per): d for y, per, d in R.missing_periods(
                vf, vt, rule, params, on=today, first_year=year,
                filed={k for k, permits in filed.items() if permit in permits})}
            due = owed.get((year, period))
            if due is None:
                continue
            end = datetime.combine(due, datetime.min.time(), tzinfo=CST)
            found.append(Anomaly(permit=permit, outlet="", kind=C.REPORT_MISSING,
                                 pollutant=None, start=start, end=end,
                                 evidence={"year": year, "period": period,
                                           "due": due.isoformat(),
                                           "rules_version": params.version}))
        ids = store.open_from_anomalies(found, now=now, source=f"reports {year} {period}",
                                        actor=actor, role=C.BUREAU)
        uow.commit()
    return {"year": year, "period": period, "missing": len(found), "clues": ids}
