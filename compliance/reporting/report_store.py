"""Execution-report queries that the report use cases need beyond `ComplianceStore`: a
permit's sector (its management class defaults by sector) and, for the bureau's list of
missing reports, every permit with its validity and the reports filed. All SQL of the
report use cases that `ComplianceStore` does not hold lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitRow
from compliance.reporting.tables import ExecutionReportRow


class ReportStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def sectors(self, permits: Sequence[str]) -> dict[str, str]:
        """permit → the sector of its enterprise."""
        q = (select(PermitRow.code, EnterpriseRow.sector)
             .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
             .where(PermitRow.code.in_(list(permits))))
        return {c: s for c, s in self.s.execute(q)}

    def validity(self, permits: Sequence[str]) -> dict[str, tuple[date, date]]:
        """permit → (valid_from, valid_to)."""
        q = select(PermitRow.code, PermitRow.valid_from, PermitRow.valid_to).where(
            PermitRow.code.in_(list(permits)))
        return {c: (f, t) for c, f, t in self.s.execute(q)}

    def permits_valid(self, first: date, last: date, district: str | None = None
                      ) -> list[tuple[str, str, str, date, date]]:
        """(permit, enterprise, sector, valid_from, valid_to) of every permit valid on some
        day from `first` to `last` (with `district`, of that district's enterprises only),
        in permit order."""
        P = PermitRow
        q = (select(P.code, P.enterprise, EnterpriseRow.sector, P.valid_from, P.valid_to)
             .join(EnterpriseRow, EnterpriseRow.credit_code == P.enterprise)
             .where(P.valid_from <= last, P.valid_to >= first).order_by(P.code))
        if district is not None:
            q = q.where(EnterpriseRow.district == district)
        return [tuple(r) for r in self.s.execute(q)]  # type: ignore[misc]

    def filed(self, first_year: int, last_year: int) -> set[tuple[str, int, str]]:
        """(permit, year, period) of every report filed for the years."""
        R = ExecutionReportRow
        q = select(R.permit, R.year, R.period).where(R.year >= first_year,
                                                     R.year <= last_year)
        return {(p, y, per) for p, y, per in self.s.execute(q)}
