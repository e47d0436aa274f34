"""Supervision repository: all SQL for monitoring imports, daily emissions and report checks
(permits, outlets and reports are read through the compliance and registry tables in the
same session).

Daily rows are written in bulk: PostgreSQL by COPY (psycopg, CSV text made by the caller),
SQLite by the DBAPI's executemany in chunks; both inside the unit of work's transaction. A
primary-key or SHA-256 clash (a concurrent import of the same days or file) is answered as
False so the use case can refuse it; the transaction must then be abandoned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitRow
from compliance.supervision_tables import MonitoringDailyRow, MonitoringImportRow, ReportCheckRow
from compliance.tables import OutletRow

CHUNK = 500
DAILY_COLUMNS = ("permit", "outlet", "pollutant", "day", "emitted_g", "hours", "power_kwh",
                 "substituted_hours", "import_id")


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


class SupervisionStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def dialect(self) -> str:
        return self.s.get_bind().dialect.name

    # registry ----------------------------------------------------------------------------
    def outlets(self, enterprise: str | None = None, district: str | None = None
                ) -> dict[tuple[str, str], str]:
        """(permit, outlet) -> medium, of one enterprise's permits, of one district's, or of
        all."""
        q = select(OutletRow.permit, OutletRow.code, OutletRow.medium)
        if enterprise is not None:
            q = q.join(PermitRow, PermitRow.code == OutletRow.permit).where(
                PermitRow.enterprise == enterprise)
        if district is not None:
            q = q.where(OutletRow.permit.in_(
                select(PermitRow.code).join(EnterpriseRow,
                                            EnterpriseRow.credit_code == PermitRow.enterprise)
                .where(EnterpriseRow.district == district)))
        return {(p, o): m for p, o, m in self.s.execute(q)}

    def permit_profiles(self, permits: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """permit -> (enterprise, sector, parameter version)."""
        out: dict[str, tuple[str, str, str]] = {}
        for chunk in _chunks(sorted(permits)):
            q = (select(PermitRow.code, PermitRow.enterprise, EnterpriseRow.sector,
                        PermitRow.parameter_version)
                 .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
                 .where(PermitRow.code.in_(chunk)))
            out.update({c: (e, s, v) for c, e, s, v in self.s.execute(q)})
        return out

    def permit_sectors(self, permits: Sequence[str]) -> dict[str, str]:
        """permit -> its enterprise's sector."""
        return {p: s for p, (_e, s, _v) in self.permit_profiles(permits).items()}

    def permit_owner(self, permit: str) -> str | None:
        return self.s.scalar(select(PermitRow.enterprise).where(PermitRow.code == permit))

    # imports -----------------------------------------------------------------------------
    def imported_days(self, permits: Sequence[str], first: date, last: date
                      ) -> list[tuple[str, str, date]]:
        M = MonitoringDailyRow
        out: list[tuple[str, str, date]] = []
        for chunk in _chunks(sorted(permits)):
            q = (select(M.permit, M.outlet, M.day).distinct()
                 .where(M.permit.in_(chunk), M.day >= first, M.day <= last))
            out.extend((p, o, d) for p, o, d in self.s.execute(q))
        return out

    def import_by_sha(self, sha256: str) -> MonitoringImportRow | None:
        return self.s.scalar(select(MonitoringImportRow)
                             .where(MonitoringImportRow.sha256 == sha256))

    def add_import(self, row: MonitoringImportRow) -> int | None:
        """The new import's id, or None when the same file was stored concurrently."""
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError:
            return None
        return row.id

    def add_daily(self, chunks: Iterable[list[tuple[Any, ...]]], csv_text: Iterable[bytes]
                  ) -> bool:
        """Insert daily rows (tuples in `DAILY_COLUMNS` order, day as ISO text). On
        PostgreSQL `csv_text` (the same rows as CSV, no header) is streamed by COPY; elsewhere
        `chunks` go through executemany. False on a primary-key clash."""
        conn = self.s.connection()
        raw: Any = conn.connection.dbapi_connection
        try:
            if self.dialect == "postgresql":
                with raw.cursor() as cur, cur.copy(
                        f"COPY monitoring_daily ({', '.join(DAILY_COLUMNS)}) "
                        f"FROM STDIN (FORMAT csv)") as cp:
                    for block in csv_text:
                        cp.write(block)
            else:
                sql = (f"INSERT INTO monitoring_daily ({', '.join(DAILY_COLUMNS)}) "
                       f"VALUES ({', '.join('?' for _ in DAILY_COLUMNS)})")
                cur = raw.cursor()
                try:
                    for rows in chunks:
                        cur.executemany(sql, rows)
                finally:
                    cur.close()
        except Exception as exc:  # the driver's integrity error (unique violation)
            if _is_integrity(exc):
                return False
            raise
        return True

    def imports(self, *, enterprise: str | None = None, offset: int = 0, limit: int = 50
                ) -> tuple[list[MonitoringImportRow], int]:
        conds = [] if enterprise is None else [MonitoringImportRow.enterprise == enterprise]
        total = self.s.scalar(select(func.count()).select_from(MonitoringImportRow)
                              .where(*conds)) or 0
        rows = list(self.s.scalars(select(MonitoringImportRow).where(*conds)
                                   .order_by(MonitoringImportRow.id.desc())
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    # daily emissions ---------------------------------------------------------------------
    def daily(self, permit: str, first: date, last: date, pollutant: str | None = None,
              *, offset: int = 0, limit: int = 100) -> tuple[list[MonitoringDailyRow], int]:
        M = MonitoringDailyRow
        conds = [M.permit == permit, M.day >= first, M.day <= last]
        if pollutant is not None:
            conds.append(M.pollutant == pollutant)
        total = self.s.scalar(select(func.count()).select_from(M).where(*conds)) or 0
        rows = list(self.s.scalars(select(M).where(*conds)
                                   .order_by(M.day, M.outlet, M.pollutant)
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    def totals(self, permit: str, first: date, last: date
               ) -> dict[tuple[str, str], tuple[int, int, int, int]]:
        """(outlet, pollutant) -> (grams, hours, days, substituted hours) between two days."""
        M = MonitoringDailyRow
        q = (select(M.outlet, M.pollutant, func.sum(M.emitted_g), func.sum(M.hours),
                    func.count(), func.sum(M.substituted_hours))
             .where(M.permit == permit, M.day >= first, M.day <= last)
             .group_by(M.outlet, M.pollutant))
        return {(o, p): (int(g or 0), int(h or 0), int(n), int(s or 0))
                for o, p, g, h, n, s in self.s.execute(q)}

    # report checks -----------------------------------------------------------------------
    def replace_checks(self, permit: str, year: int, period: str,
                       rows: Sequence[ReportCheckRow]) -> None:
        R = ReportCheckRow
        self.s.execute(delete(R).where(R.permit == permit, R.year == year,
                                       R.period == period))
        self.s.add_all(list(rows))
        self.s.flush()

    def checks(self, *, permit: str | None = None, enterprise: str | None = None,
               status: str | None = None, year: int | None = None, offset: int = 0,
               limit: int = 50) -> tuple[list[ReportCheckRow], int]:
        R = ReportCheckRow
        conds: list[Any] = []
        if permit is not None:
            conds.append(R.permit == permit)
        if enterprise is not None:
            conds.append(R.permit.in_(select(PermitRow.code)
                                      .where(PermitRow.enterprise == enterprise)))
        if status is not None:
            conds.append(R.status == status)
        if year is not None:
            conds.append(R.year == year)
        total = self.s.scalar(select(func.count()).select_from(R).where(*conds)) or 0
        rows = list(self.s.scalars(select(R).where(*conds)
                                   .order_by(R.checked_at.desc(), R.id)
                                   .offset(offset).limit(limit)))
        return rows, int(total)


def _is_integrity(exc: Exception) -> bool:
    name = type(exc).__name__
    return "Integrity" in name or "UniqueViolation" in name
