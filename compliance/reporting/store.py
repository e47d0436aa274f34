"""Compliance repository: all SQL of the context. Permit data (owner, permitted quantity)
is read through allocation's `RegistryStore`, in the same session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitRow
from compliance.reporting.tables import (
    ExecutionReportRow,
    OutletRow,
    ReportLineRow,
    TrueUpLineRow,
    TrueUpRow,
    TrueUpSurrenderRow,
    ViolationRow,
)


class ComplianceStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    # outlets -----------------------------------------------------------------------------
    def outlet(self, permit: str, code: str) -> OutletRow | None:
        return self.s.get(OutletRow, (permit, code))

    def outlets(self, permits: Sequence[str] | None = None) -> dict[tuple[str, str], str]:
        q = select(OutletRow)
        if permits is not None:
            q = q.where(OutletRow.permit.in_(list(permits)))
        return {(o.permit, o.code): o.medium for o in self.s.scalars(q)}

    def permit_codes(self, enterprise: str | None = None) -> dict[str, str]:
        """permit code → enterprise, for one enterprise or all."""
        q = select(PermitRow.code, PermitRow.enterprise)
        if enterprise is not None:
            q = q.where(PermitRow.enterprise == enterprise)
        return {c: e for c, e in self.s.execute(q)}

    # reports -----------------------------------------------------------------------------
    def reported(self, permits: Sequence[str]) -> set[tuple[str, int, str]]:
        q = select(ExecutionReportRow.permit, ExecutionReportRow.year,
                   ExecutionReportRow.period).where(ExecutionReportRow.permit.in_(list(permits)))
        return {(p, y, per) for p, y, per in self.s.execute(q)}

    def add_report(self, row: ExecutionReportRow, lines: Sequence[ReportLineRow]) -> int | None:
        """The new report's id, or None when a concurrent writer stored the same permit, year
        and period first (the unique key decides; the transaction must then be abandoned)."""
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError:
            return None
        for ln in lines:
            ln.report = row.id
        self.s.add_all(list(lines))
        self.s.flush()
        return row.id

    def report(self, permit: str, year: int, period: str) -> ExecutionReportRow | None:
        return self.s.scalar(select(ExecutionReportRow).where(
            ExecutionReportRow.permit == permit, ExecutionReportRow.year == year,
            ExecutionReportRow.period == period))

    def lines(self, report_id: int) -> list[ReportLineRow]:
        return list(self.s.scalars(select(ReportLineRow).where(ReportLineRow.report == report_id)
                                   .order_by(ReportLineRow.outlet, ReportLineRow.pollutant)))

    def reports_of(self, permits: Sequence[str], year: int | None = None
                   ) -> list[ExecutionReportRow]:
        q = select(ExecutionReportRow).where(ExecutionReportRow.permit.in_(list(permits)))
        if year is not None:
            q = q.where(ExecutionReportRow.year == year)
        return list(self.s.scalars(q.order_by(ExecutionReportRow.permit,
                                              ExecutionReportRow.year,
                                              ExecutionReportRow.period)))

    def figures(self, year: int, period: str, enterprise: str | None = None
                ) -> list[tuple[str, str, int, str, str, str, int]]:
        """(enterprise, permit, year, period, outlet, pollutant, kg) of stored reports."""
        R, L = ExecutionReportRow, ReportLineRow
        q = (select(PermitRow.enterprise, R.permit, R.year, R.period, L.outlet, L.pollutant,
                    L.actual_kg)
             .join(L, L.report == R.id).join(PermitRow, PermitRow.code == R.permit)
             .where(R.year == year, R.period == period))
        if enterprise is not None:
            q = q.where(PermitRow.enterprise == enterprise)
        return [tuple(r) for r in self.s.execute(q)]  # type: ignore[misc]

    # true-ups ----------------------------------------------------------------------------
    def claim_true_up(self, row: TrueUpRow) -> bool:
        """Insert the true-up's head row; False when one exists for the permit and year (the
        primary key decides between concurrent runs; the transaction must be abandoned)."""
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError:
            return False
        return True

    def true_up(self, permit: str, year: int) -> TrueUpRow | None:
        return self.s.get(TrueUpRow, (permit, year))

    def true_ups(self, enterprise: str, year: int) -> list[TrueUpRow]:
        return list(self.s.scalars(select(TrueUpRow).where(
            TrueUpRow.enterprise == enterprise, TrueUpRow.year == year)
            .order_by(TrueUpRow.permit)))

    def true_up_lines(self, permit: str, year: int) -> list[TrueUpLineRow]:
        return list(self.s.scalars(select(TrueUpLineRow).where(
            TrueUpLineRow.permit == permit, TrueUpLineRow.year == year)
            .order_by(TrueUpLineRow.pollutant)))

    def violations(self, enterprise: str, year: int | None = None) -> list[ViolationRow]:
        q = select(ViolationRow).where(ViolationRow.enterprise == enterprise)
        if year is not None:
            q = q.where(ViolationRow.year == year)
        return list(self.s.scalars(q.order_by(ViolationRow.id)))

    def trued_up_years(self, permit: str, years: Sequence[int]) -> set[int]:
        """The years among `years` whose true-up of the permit has run."""
        return set(self.s.scalars(select(TrueUpRow.year).where(
            TrueUpRow.permit == permit, TrueUpRow.year.in_(list(years)))))

    def surrenders(self, permits: Sequence[str], year: int) -> list[TrueUpSurrenderRow]:
        S = TrueUpSurrenderRow
        return list(self.s.scalars(select(S).where(S.permit.in_(list(permits)), S.year == year)
                                   .order_by(S.permit, S.pollutant, S.kind.desc(), S.vintage)))

    def lines_of(self, permits: Sequence[str], year: int) -> list[TrueUpLineRow]:
        L = TrueUpLineRow
        return list(self.s.scalars(select(L).where(L.permit.in_(list(permits)), L.year == year)
                                   .order_by(L.permit, L.pollutant)))

    def status_page(self, year: int, status: str | None, offset: int, limit: int,
                    district: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Permits valid in `year` with their true-up (status "pending" when none ran) and
        whether an annual report exists, in enterprise-name and permit order."""
        P, T, R = PermitRow, TrueUpRow, ExecutionReportRow
        q = (select(P.code, P.enterprise, EnterpriseRow.name, T.status, T.at, T.actor,
                    R.id.label("report"))
             .join(EnterpriseRow, EnterpriseRow.credit_code == P.enterprise)
             .outerjoin(T, and_(T.permit == P.code, T.year == year))
             .outerjoin(R, and_(R.permit == P.code, R.year == year, R.period == "Y"))
             .where(P.valid_from <= date(year, 12, 31), P.valid_to >= date(year, 1, 1)))
        if district is not None:  # a district officer's list
            q = q.where(EnterpriseRow.district == district)
        if status == "pending":
            q = q.where(T.permit.is_(None))
        elif status is not None:
            q = q.where(T.status == status)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.execute(q.order_by(EnterpriseRow.name, P.code).offset(offset)
                              .limit(limit))
        return [dict(permit=r.code, enterprise=r.enterprise, name=r.name,
                     status=r.status or "pending", at=r.at, actor=r.actor,
                     reported=r.report is not None) for r in rows], int(total)

    def violations_page(self, year: int | None, offset: int, limit: int,
                        district: str | None = None) -> tuple[list[ViolationRow], int]:
        q = select(ViolationRow)
        if year is not None:
            q = q.where(ViolationRow.year == year)
        if district is not None:  # a district officer's list
            q = q.join(EnterpriseRow, EnterpriseRow.credit_code == ViolationRow.enterprise
                       ).where(EnterpriseRow.district == district)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(ViolationRow.id.desc()).offset(offset).limit(limit))
        return list(rows), int(total)

    def add(self, *rows: object) -> None:
        self.s.add_all(list(rows))
        self.s.flush()
