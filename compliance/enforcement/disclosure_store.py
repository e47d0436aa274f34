"""Disclosure repository: all SQL of penalty decisions and of the public lists. Trading and
allocation tables are only read here; the one write outside our own tables is the status of
a violation (open → decided, and back to open when its decision is withdrawn); violations
opened by hand or from a confirmed clue, and their hand-over to enforcement, are written
here too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitEventRow, PermitQuantityRow, PermitRow
from compliance.enforcement.disclosure_tables import PenaltyDecisionRow, PenaltyEventRow
from compliance.reporting.tables import TrueUpRow, ViolationRow
from trading.tables import TradeRow


def _clean(text: str) -> str:
    """A filter value without NUL (PostgreSQL refuses it in text; no stored value has it)."""
    return text.replace("\x00", "")


def _like(text: str) -> str:
    """A LIKE pattern matching `text` literally (its % and _ are escaped)."""
    esc = _clean(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"


class DisclosureStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def _count(self, q: Select) -> int:  # type: ignore[type-arg]
        return int(self.s.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
                   or 0)

    @staticmethod
    def _enterprise_filter(q: Select, text: str | None) -> Select:  # type: ignore[type-arg]
        if text:
            like = _like(text)
            q = q.where(or_(EnterpriseRow.name.like(like, escape="\\"),
                            EnterpriseRow.credit_code.like(like, escape="\\")))
        return q

    # violations --------------------------------------------------------------------------
    def violation(self, violation_id: int, *, lock: bool = False) -> ViolationRow | None:
        q = select(ViolationRow).where(ViolationRow.id == violation_id)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def add_violation(self, row: ViolationRow) -> None:
        self.s.add(row)
        self.s.flush()

    def violation_of_clue(self, clue_id: int) -> ViolationRow | None:
        return self.s.scalar(select(ViolationRow).where(ViolationRow.clue == clue_id))

    def permit_owner(self, permit: str) -> str | None:
        return self.s.scalar(select(PermitRow.enterprise).where(PermitRow.code == _clean(permit)))

    def set_violation_status(self, violation_id: int, status: str) -> None:
        self.s.execute(update(ViolationRow).where(ViolationRow.id == violation_id)
                       .values(status=status))

    def violations(self, *, status: str | None, offset: int, limit: int,
                   kind: str | None = None, district: str | None = None
                   ) -> tuple[list[tuple[ViolationRow, str]], int]:
        """(violation, enterprise name), oldest first; `district` filters by the
        enterprise's district."""
        q = (select(ViolationRow, EnterpriseRow.name)
             .join(EnterpriseRow, EnterpriseRow.credit_code == ViolationRow.enterprise))
        if district is not None:
            q = q.where(EnterpriseRow.district == district)
        if status is not None:
            q = q.where(ViolationRow.status == status)
        if kind is not None:
            q = q.where(ViolationRow.kind == kind)
        total = self._count(q)
        rows = self.s.execute(q.order_by(ViolationRow.id).offset(offset).limit(limit))
        return [(v, n) for v, n in rows], total

    # decisions ---------------------------------------------------------------------------
    def decision(self, number: str, *, lock: bool = False) -> PenaltyDecisionRow | None:
        q = select(PenaltyDecisionRow).where(PenaltyDecisionRow.number == number)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def add_decision(self, row: PenaltyDecisionRow) -> int | None:
        """The new decision's id, or None when its number is taken (the unique key decides
        between concurrent writers; the transaction must then be abandoned)."""
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError:
            return None
        return row.id

    def add_event(self, row: PenaltyEventRow) -> None:
        self.s.add(row)
        self.s.flush()

    def events(self, decision_ids: Sequence[int]) -> dict[int, list[PenaltyEventRow]]:
        out: dict[int, list[PenaltyEventRow]] = defaultdict(list)
        if decision_ids:
            for e in self.s.scalars(select(PenaltyEventRow)
                                    .where(PenaltyEventRow.decision.in_(list(decision_ids)))
                                    .order_by(PenaltyEventRow.id)):
                out[e.decision].append(e)
        return out

    def decisions(self, *, q: str | None = None, enterprise: str | None = None,
                  status: str | None = None, offset: int = 0, limit: int = 50,
                  district: str | None = None
                  ) -> tuple[list[tuple[PenaltyDecisionRow, str]], int]:
        """(decision, enterprise name), newest first; `q` searches the enterprise's name or
        credit code; `district` keeps that district's enterprises (a district officer's)."""
        query = (select(PenaltyDecisionRow, EnterpriseRow.name)
                 .join(EnterpriseRow, EnterpriseRow.credit_code == PenaltyDecisionRow.enterprise))
        query = self._enterprise_filter(query, q)
        if enterprise is not None:
            query = query.where(PenaltyDecisionRow.enterprise == _clean(enterprise))
        if status is not None:
            query = query.where(PenaltyDecisionRow.status == status)
        if district is not None:
            query = query.where(EnterpriseRow.district == district)
        total = self._count(query)
        rows = self.s.execute(query.order_by(PenaltyDecisionRow.decided_on.desc(),
                                             PenaltyDecisionRow.id.desc())
                              .offset(offset).limit(limit))
        return [(d, n) for d, n in rows], total

    # public compliance -------------------------------------------------------------------
    def enterprises_with_permits(self, *, q: str | None, offset: int, limit: int
                                 ) -> tuple[list[tuple[str, str]], int]:
        query = (select(EnterpriseRow.credit_code, EnterpriseRow.name)
                 .where(exists().where(PermitRow.enterprise == EnterpriseRow.credit_code)))
        query = self._enterprise_filter(query, q)
        total = self._count(query)
        rows = self.s.execute(query.order_by(EnterpriseRow.credit_code)
                              .offset(offset).limit(limit))
        return [(c, n) for c, n in rows], total

    def permits_by_enterprise(self, enterprises: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for code, ent in self.s.execute(select(PermitRow.code, PermitRow.enterprise)
                                        .where(PermitRow.enterprise.in_(list(enterprises)))
                                        .order_by(PermitRow.code)):
            out[ent].append(code)
        return out

    def true_ups(self, enterprises: Sequence[str], year: int) -> list[TrueUpRow]:
        return list(self.s.scalars(select(TrueUpRow).where(
            TrueUpRow.enterprise.in_(list(enterprises)), TrueUpRow.year == year)))

    def violation_counts(self, enterprises: Sequence[str], year: int) -> dict[str, int]:
        q = (select(ViolationRow.enterprise, func.count())
             .where(ViolationRow.enterprise.in_(list(enterprises)), ViolationRow.year == year)
             .group_by(ViolationRow.enterprise))
        return {e: int(n) for e, n in self.s.execute(q)}

    def decision_summary(self, enterprises: Sequence[str], year: int
                         ) -> dict[str, tuple[int, datetime | None]]:
        """enterprise → (published decisions for the year, last change of any decision)."""
        D = PenaltyDecisionRow
        q = (select(D.enterprise, func.count().filter(D.status == "published"),
                    func.max(D.updated_at))
             .where(D.enterprise.in_(list(enterprises)), D.year == year)
             .group_by(D.enterprise))
        return {e: (int(n), at) for e, n, at in self.s.execute(q)}

    # public trades -----------------------------------------------------------------------
    def trades(self, *, market: str | None, offset: int, limit: int
               ) -> tuple[list[TradeRow], int]:
        q = select(TradeRow)
        if market:
            q = q.where(TradeRow.market == _clean(market))
        total = self._count(q)
        rows = self.s.scalars(q.order_by(TradeRow.id.desc()).offset(offset).limit(limit))
        return list(rows), total

    # public permits ----------------------------------------------------------------------
    def permits(self, *, enterprise: str | None, offset: int, limit: int
                ) -> tuple[list[tuple[PermitRow, EnterpriseRow]], int]:
        q = select(PermitRow, EnterpriseRow).join(
            EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
        if enterprise:
            q = q.where(PermitRow.enterprise == _clean(enterprise))
        total = self._count(q)
        rows = self.s.execute(q.order_by(PermitRow.code).offset(offset).limit(limit))
        return [(p, e) for p, e in rows], total

    def quantities(self, permits: Sequence[str]) -> dict[str, list[PermitQuantityRow]]:
        out: dict[str, list[PermitQuantityRow]] = defaultdict(list)
        if permits:
            for r in self.s.scalars(select(PermitQuantityRow)
                                    .where(PermitQuantityRow.permit.in_(list(permits)))
                                    .order_by(PermitQuantityRow.permit,
                                              PermitQuantityRow.pollutant,
                                              PermitQuantityRow.year)):
                out[r.permit].append(r)
        return out

    def last_events(self, permits: Sequence[str]) -> dict[str, datetime]:
        if not permits:
            return {}
        q = (select(PermitEventRow.permit, func.max(PermitEventRow.at))
             .where(PermitEventRow.permit.in_(list(permits))).group_by(PermitEventRow.permit))
        return {p: at for p, at in self.s.execute(q)}
