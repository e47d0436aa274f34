"""Problem clue repository: all SQL for clues and their history.

`open_from_anomalies` is the one door through which findings (screening anomalies, alert
breaches) become clues; the state machine itself is pure (`compliance.alerting.clues`) and the use
cases that move clues live in `compliance.alerting.clue_service`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitRow
from compliance.alerting.clue_tables import ClueEventRow, ClueRow
from compliance.errors import ClueUnknownPermit
from compliance.reporting.tables import ExecutionReportRow
from compliance.supervision.screening import Anomaly

#: the state every new clue starts in, and the state after which a clue is no longer open.
FOUND = "found"
CLOSED = "closed"

#: the actor and role recorded when the platform itself opens a clue.
SYSTEM_ACTOR = "system"
SYSTEM_ROLE = "system"


def _json(evidence: dict[str, object]) -> dict[str, Any]:
    """The evidence as plain JSON (dates and Decimals become strings), so that it reads back
    identically on SQLite and PostgreSQL."""
    out: dict[str, Any] = json.loads(json.dumps(evidence, default=str, sort_keys=True))
    return out


def _key(permit: str, outlet: str, kind: str, pollutant: str | None, start: datetime
         ) -> tuple[str, str, str, str | None, datetime]:
    return permit, outlet, kind, pollutant, start


class ClueStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def district_of(self, enterprise: str) -> str | None:
        """The enterprise's district (None: no such enterprise)."""
        return self.s.scalar(select(EnterpriseRow.district).where(
            EnterpriseRow.credit_code == enterprise))

    # opening -----------------------------------------------------------------------------
    def open_from_anomalies(self, anomalies: Sequence[Anomaly], *, now: datetime, source: str,
                            actor: str = SYSTEM_ACTOR, role: str = SYSTEM_ROLE,
                            dedupe: bool = True) -> list[int]:
        """Open one clue in state "found" per anomaly, with its evidence and a first history
        event ("open"). An anomaly identical to a clue that is still open (same permit,
        outlet, kind, pollutant and start), or to an earlier anomaly of the same batch, opens
        nothing. Returns the ids of the clues opened, in the order of the anomalies.
        An anomaly of a permit that does not exist raises `ClueUnknownPermit`.

        `dedupe=False` opens one clue per anomaly whatever exists (for callers that keep
        their own key, as alert breaches do: the returned ids then match the anomalies)."""
        if not anomalies:
            return []
        at = utc(now)
        permits = sorted({a.permit for a in anomalies})
        owners: dict[str, str] = {}
        for chunk in _chunks(permits, 500):
            owners.update({c: e for c, e in self.s.execute(
                select(PermitRow.code, PermitRow.enterprise).where(PermitRow.code.in_(chunk)))})
        missing = [p for p in permits if p not in owners]
        if missing:
            raise ClueUnknownPermit(f"unknown permit {missing[0]}", field="permit",
                                    permit=missing[0])
        seen: set[tuple[str, str, str, str | None, datetime]] = set()
        for chunk in (_chunks(permits, 500) if dedupe else []):
            for r in self.s.execute(
                    select(ClueRow.permit, ClueRow.outlet, ClueRow.kind, ClueRow.pollutant,
                           ClueRow.start)
                    .where(ClueRow.permit.in_(chunk), ClueRow.state != CLOSED)):
                seen.add(_key(r[0], r[1], r[2], r[3], utc(r[4])))
        rows: list[ClueRow] = []
        for a in anomalies:
            start, end = utc(a.start), utc(a.end)
            k = _key(a.permit, a.outlet, a.kind, a.pollutant, start)
            if dedupe and k in seen:
                continue
            seen.add(k)
            rows.append(ClueRow(
                enterprise=owners[a.permit], permit=a.permit, outlet=a.outlet, kind=a.kind,
                pollutant=a.pollutant, start=start, end=end, state=FOUND,
                evidence=_json(a.evidence), source=source[:40], found_at=at, updated_at=at))
        if not rows:
            return []
        self.s.add_all(rows)
        self.s.flush()
        self.s.add_all([ClueEventRow(clue=r.id, action="open", from_state=None, to_state=FOUND,
                                     actor=actor, role=role, at=at, note=source[:200])
                        for r in rows])
        self.s.flush()
        return [r.id for r in rows]

    # reading -----------------------------------------------------------------------------
    def get(self, clue_id: int, *, lock: bool = False) -> ClueRow | None:
        if lock:
            return self.s.scalar(select(ClueRow).where(ClueRow.id == clue_id)
                                 .with_for_update())
        return self.s.get(ClueRow, clue_id)

    def history(self, clue_id: int) -> list[ClueEventRow]:
        return list(self.s.scalars(select(ClueEventRow).where(ClueEventRow.clue == clue_id)
                                   .order_by(ClueEventRow.id)))

    def search(self, *, enterprise: str | None = None, permit: str | None = None,
               state: str | None = None, kind: str | None = None,
               pollutant: str | None = None, offset: int = 0, limit: int = 50,
               states: Sequence[str] | None = None) -> tuple[list[ClueRow], int]:
        """Clues matching every given filter (`states`: any of them), newest first, and the
        total count."""
        conds: list[ColumnElement[bool]] = []
        if states is not None:
            conds.append(ClueRow.state.in_(list(states)))
        if enterprise is not None:
            conds.append(ClueRow.enterprise == enterprise)
        if permit is not None:
            conds.append(ClueRow.permit == permit)
        if state is not None:
            conds.append(ClueRow.state == state)
        if kind is not None:
            conds.append(ClueRow.kind == kind)
        if pollutant is not None:
            conds.append(ClueRow.pollutant == pollutant)
        total = self.s.scalar(select(func.count()).select_from(ClueRow).where(*conds)) or 0
        rows = list(self.s.scalars(select(ClueRow).where(*conds)
                                   .order_by(ClueRow.id.desc()).offset(offset).limit(limit)))
        return rows, int(total)

    def permit_owner(self, permit: str) -> str | None:
        return self.s.scalar(select(PermitRow.enterprise).where(PermitRow.code == permit))

    def permits_overlapping(self, first: date, last: date
                            ) -> list[tuple[str, str | None, date, date]]:
        """(permit, sector, valid_from, valid_to) of permits valid on any day of the
        period, by permit code."""
        q = (select(PermitRow.code, EnterpriseRow.sector, PermitRow.valid_from,
                    PermitRow.valid_to)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
             .where(PermitRow.valid_from <= last, PermitRow.valid_to >= first)
             .order_by(PermitRow.code))
        return [(c, s, f, t) for c, s, f, t in self.s.execute(q)]

    def reported_permits(self, year: int, period: str) -> set[str]:
        return set(self.s.scalars(select(ExecutionReportRow.permit).where(
            ExecutionReportRow.year == year, ExecutionReportRow.period == period)))

    # writing -----------------------------------------------------------------------------
    def record(self, row: ClueRow, *, action: str, from_state: str | None, actor: str,
               role: str, at: datetime, note: str | None) -> None:
        """Persist a clue's new state (already set on `row`) and append its history event."""
        row.updated_at = at
        self.s.add(ClueEventRow(clue=row.id, action=action, from_state=from_state,
                                to_state=row.state, actor=actor, role=role, at=at, note=note))
        self.s.flush()


def utc(t: datetime) -> datetime:
    """Times are stored in UTC; SQLite gives them back naive (they are UTC)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _chunks(items: Sequence[str], n: int) -> list[Sequence[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]
