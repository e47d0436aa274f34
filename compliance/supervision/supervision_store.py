"""Supervision repository: all SQL for monitoring imports, daily emissions and report checks
(permits, outlets and reports are read through the compliance and registry tables in the
same session).

Daily rows are written in bulk: PostgreSQL by COPY (psycopg, CSV text made by the caller),
SQLite by the DBAPI's executemany in chunks; both inside the unit of work's transaction. A
primary-key or SHA-256 clash (a concurrent import of the same days or file) is answered as
False so the use case can refuse it; the transaction must then be abandoned.

Authority (see `compliance.supervision.supervision_tables`): reads of emissions take the effective
rows only (`EFFECTIVE_DAILY`); `supersede`, `superseding` and `void` keep the marks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allocation.tables import EnterpriseRow, PermitRow
from compliance.reporting.tables import OutletRow
from compliance.supervision.supervision_tables import (
    EFFECTIVE_DAILY,
    MonitoringDailyRow,
    MonitoringImportRow,
    ReportCheckRow,
)

CHUNK = 500
DAILY_COLUMNS = ("permit", "outlet", "pollutant", "day", "emitted_g", "hours", "power_kwh",
                 "substituted_hours", "import_id", "source", "authority", "superseded_by",
                 "voided")


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

    def permit_validity(self, permits: Sequence[str]) -> dict[str, tuple[date, date]]:
        """permit -> (valid from, valid to)."""
        out: dict[str, tuple[date, date]] = {}
        for chunk in _chunks(sorted(permits)):
            q = (select(PermitRow.code, PermitRow.valid_from, PermitRow.valid_to)
                 .where(PermitRow.code.in_(chunk)))
            out.update({c: (f, t) for c, f, t in self.s.execute(q)})
        return out

    def permit_sectors(self, permits: Sequence[str]) -> dict[str, str]:
        """permit -> its enterprise's sector."""
        return {p: s for p, (_e, s, _v) in self.permit_profiles(permits).items()}

    def permit_owner(self, permit: str) -> str | None:
        return self.s.scalar(select(PermitRow.enterprise).where(PermitRow.code == permit))

    # imports -----------------------------------------------------------------------------
    def imported_days(self, permits: Sequence[str], first: date, last: date,
                      authority: int | None = None) -> list[tuple[str, str, date]]:
        """(permit, outlet, day) with live rows (of one authority, or of any)."""
        M = MonitoringDailyRow
        out: list[tuple[str, str, date]] = []
        conds: list[Any] = [M.voided.is_(False)]
        if authority is not None:
            conds.append(M.authority == authority)
        for chunk in _chunks(sorted(permits)):
            q = (select(M.permit, M.outlet, M.day).distinct()
                 .where(M.permit.in_(chunk), M.day >= first, M.day <= last, *conds))
            out.extend((p, o, d) for p, o, d in self.s.execute(q))
        return out

    def live_days(self, permits: Sequence[str], first: date, last: date, authority: int,
                  *, effective: bool = False) -> list[tuple[str, str, date, int]]:
        """(permit, outlet, day, import id) of the live rows of one authority (only the
        effective ones with `effective`)."""
        M = MonitoringDailyRow
        conds: list[Any] = [M.voided.is_(False), M.authority == authority]
        if effective:
            conds.append(M.superseded_by.is_(None))
        out: list[tuple[str, str, date, int]] = []
        for chunk in _chunks(sorted(permits)):
            q = (select(M.permit, M.outlet, M.day, M.import_id).distinct()
                 .where(M.permit.in_(chunk), M.day >= first, M.day <= last, *conds))
            out.extend((p, o, d, int(i)) for p, o, d, i in self.s.execute(q))
        return out

    def supersede(self, days: Sequence[tuple[str, str, date]], by: int) -> int:
        """Mark the effective enterprise rows of these outlet-days superseded by import
        `by`; the number of rows marked."""
        M = MonitoringDailyRow
        by_outlet: dict[tuple[str, str], list[date]] = {}
        for p, o, d in days:
            by_outlet.setdefault((p, o), []).append(d)
        n = 0
        for (p, o), ds in sorted(by_outlet.items()):
            for i in range(0, len(ds), CHUNK):
                res = self.s.execute(
                    update(M).where(M.permit == p, M.outlet == o, M.day.in_(ds[i:i + CHUNK]),
                                    M.authority == 1, *EFFECTIVE_DAILY)
                    .values(superseded_by=by).execution_options(synchronize_session=False))
                n += int(res.rowcount or 0)  # type: ignore[attr-defined]
        return n

    def import_row(self, import_id: int, *, lock: bool = False) -> MonitoringImportRow | None:
        q = select(MonitoringImportRow).where(MonitoringImportRow.id == import_id)
        if lock:
            q = q.with_for_update()
        return self.s.scalar(q)

    def void(self, import_id: int) -> tuple[int, int]:
        """Mark an import's rows voided and make effective again the rows it superseded
        (unless voided themselves); (rows voided, rows restored)."""
        M = MonitoringDailyRow
        voided = self.s.execute(update(M).where(M.import_id == import_id,
                                                M.voided.is_(False))
                                .values(voided=True)
                                .execution_options(synchronize_session=False))
        restored = self.s.execute(update(M).where(M.superseded_by == import_id,
                                                  M.voided.is_(False))
                                  .values(superseded_by=None)
                                  .execution_options(synchronize_session=False))
        return (int(voided.rowcount or 0),  # type: ignore[attr-defined]
                int(restored.rowcount or 0))  # type: ignore[attr-defined]

    def district_of(self, enterprise: str) -> str | None:
        return self.s.scalar(select(EnterpriseRow.district)
                             .where(EnterpriseRow.credit_code == enterprise))

    def import_by_sha(self, sha256: str, source: str) -> MonitoringImportRow | None:
        """The live import of this file from this source, if any."""
        I = MonitoringImportRow  # noqa: E741
        return self.s.scalar(select(I).where(I.sha256 == sha256, I.source == source,
                                             I.voided_at.is_(None)))

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

    def imports(self, *, enterprise: str | None = None, district: str | None = None,
                import_id: int | None = None, offset: int = 0, limit: int = 50
                ) -> tuple[list[MonitoringImportRow], int]:
        """Imports, newest first: of one enterprise, or those of one district (its officers'
        and enterprises', and the city bureau's that stored rows of its permits)."""
        I = MonitoringImportRow  # noqa: E741
        conds: list[Any] = [] if enterprise is None else [I.enterprise == enterprise]
        if import_id is not None:
            conds.append(I.id == import_id)
        if district is not None:
            M = MonitoringDailyRow
            permits = (select(PermitRow.code)
                       .join(EnterpriseRow, EnterpriseRow.credit_code == PermitRow.enterprise)
                       .where(EnterpriseRow.district == district))
            conds.append(or_(I.district == district, and_(
                I.district.is_(None),
                exists().where(M.import_id == I.id, M.permit.in_(permits)))))
        total = self.s.scalar(select(func.count()).select_from(I).where(*conds)) or 0
        rows = list(self.s.scalars(select(I).where(*conds).order_by(I.id.desc())
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    # daily emissions ---------------------------------------------------------------------
    def daily(self, permit: str, first: date, last: date, pollutant: str | None = None,
              *, offset: int = 0, limit: int = 100) -> tuple[list[MonitoringDailyRow], int]:
        M = MonitoringDailyRow
        conds = [M.permit == permit, M.day >= first, M.day <= last, *EFFECTIVE_DAILY]
        if pollutant is not None:
            conds.append(M.pollutant == pollutant)
        total = self.s.scalar(select(func.count()).select_from(M).where(*conds)) or 0
        rows = list(self.s.scalars(select(M).where(*conds)
                                   .order_by(M.day, M.outlet, M.pollutant)
                                   .offset(offset).limit(limit)))
        return rows, int(total)

    def totals(self, permit: str, first: date, last: date
               ) -> dict[tuple[str, str], tuple[int, int, int, int]]:
        """(outlet, pollutant) -> (grams, hours, days, substituted hours) between two days
        (effective rows only)."""
        M = MonitoringDailyRow
        q = (select(M.outlet, M.pollutant, func.sum(M.emitted_g), func.sum(M.hours),
                    func.count(), func.sum(M.substituted_hours))
             .where(M.permit == permit, M.day >= first, M.day <= last, *EFFECTIVE_DAILY)
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
