"""Penalty case repository: all SQL of penalty cases and their events. The violation and
the published decision are written through `DisclosureStore`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow
from compliance.enforcement.disclosure_tables import PenaltyDecisionRow
from compliance.enforcement.penalty_case_tables import PenaltyCaseEventRow, PenaltyCaseRow


class PenaltyCaseStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def case(self, case_id: int, *, lock: bool = False) -> PenaltyCaseRow | None:
        q = select(PenaltyCaseRow).where(PenaltyCaseRow.id == case_id)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def active_case(self, violation_id: int, statuses: Sequence[str]) -> PenaltyCaseRow | None:
        return self.s.scalar(select(PenaltyCaseRow).where(
            PenaltyCaseRow.violation == violation_id,
            PenaltyCaseRow.status.in_(list(statuses))).limit(1))

    def under_way(self, violation_ids: Sequence[int], statuses: Sequence[str]) -> set[int]:
        """Those of the violations with a case in one of `statuses`."""
        if not violation_ids:
            return set()
        return set(self.s.scalars(select(PenaltyCaseRow.violation).where(
            PenaltyCaseRow.violation.in_(list(violation_ids)),
            PenaltyCaseRow.status.in_(list(statuses)))))

    def notice_number_taken(self, number: str) -> bool:
        return self.s.scalar(select(func.count()).where(
            PenaltyCaseRow.notice_number == number)) != 0

    def decision_number_taken(self, number: str) -> bool:
        """Taken by a case's (unserved) decision or by any decision on record."""
        in_cases = self.s.scalar(select(func.count()).where(
            PenaltyCaseRow.decision_number == number))
        in_decisions = self.s.scalar(select(func.count()).where(
            PenaltyDecisionRow.number == number))
        return bool(in_cases) or bool(in_decisions)

    def add(self, row: PenaltyCaseRow) -> None:
        self.s.add(row)
        self.s.flush()

    def add_event(self, row: PenaltyCaseEventRow) -> None:
        self.s.add(row)
        self.s.flush()

    def events(self, case_ids: Sequence[int]) -> dict[int, list[PenaltyCaseEventRow]]:
        out: dict[int, list[PenaltyCaseEventRow]] = defaultdict(list)
        if case_ids:
            for e in self.s.scalars(select(PenaltyCaseEventRow)
                                    .where(PenaltyCaseEventRow.case_id.in_(list(case_ids)))
                                    .order_by(PenaltyCaseEventRow.id)):
                out[e.case_id].append(e)
        return out

    def cases(self, *, enterprise: str | None = None, status: str | None = None,
              district: str | None = None, offset: int = 0, limit: int = 50
              ) -> tuple[list[tuple[PenaltyCaseRow, str]], int]:
        """(case, enterprise name), newest first."""
        q = (select(PenaltyCaseRow, EnterpriseRow.name)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PenaltyCaseRow.enterprise))
        if enterprise is not None:
            q = q.where(PenaltyCaseRow.enterprise == enterprise.replace("\x00", ""))
        if status is not None:
            q = q.where(PenaltyCaseRow.status == status)
        if district is not None:
            q = q.where(EnterpriseRow.district == district)
        total = int(self.s.scalar(select(func.count()).select_from(
            q.order_by(None).subquery())) or 0)
        rows = self.s.execute(q.order_by(PenaltyCaseRow.id.desc()).offset(offset).limit(limit))
        return [(c, n) for c, n in rows], total

    def decision_statuses(self, numbers: Sequence[str]) -> dict[str, str]:
        """decision number → published | withdrawn (served decisions only)."""
        if not numbers:
            return {}
        q = select(PenaltyDecisionRow.number, PenaltyDecisionRow.status).where(
            PenaltyDecisionRow.number.in_(list(numbers)))
        return {n: st for n, st in self.s.execute(q)}

    def enterprise_name(self, code: str) -> str | None:
        return self.s.scalar(select(EnterpriseRow.name).where(EnterpriseRow.credit_code == code))
