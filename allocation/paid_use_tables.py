"""Tables of the paid use of rights (issue 17): the paid-use bill.

A bill charges an enterprise for rights of one permit, pollutant and year: the paid-use fee
of a confirmation to an existing unit (``confirmation``, unpaid until the enterprise pays),
or the price of a reserve release (``reserve_release``, paid in the release's transaction).
One bill per source and reference (the confirmation's or release's ledger transfer id).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class PaidUseBillRow(Base):
    __tablename__ = "paid_use_bill"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(String(22), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # confirmation | reserve_release
    reference: Mapped[str] = mapped_column(String(64))
    qty_kg: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)  # fen per tonne
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    price_version: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="unpaid")  # unpaid|paid|cancelled
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paid_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    transfer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint("source", "reference", name="uq_paid_use_bill_source_reference"),
        Index("ix_paid_use_bill_permit_pollutant_year", "permit", "pollutant", "year"),
        Index("ix_paid_use_bill_status_due_on", "status", "due_on"),
    )


# --------------------------------------------------------------------------- repository

from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from allocation.tables import EnterpriseRow, PermitRow  # noqa: E402


def _in_district(q: Any, district: str | None) -> Any:
    """Bills of the enterprises of `district` only (a district officer's list)."""
    if district is None:
        return q
    return q.where(PaidUseBillRow.enterprise.in_(
        select(EnterpriseRow.credit_code).where(EnterpriseRow.district == district)))


class PaidUseStore:
    """All SQL of the paid use."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def unit_kind(self, permit: str) -> str | None:
        row = self.s.get(PermitRow, permit)  # usually loaded already: no statement
        return None if row is None else row.unit_kind

    def set_unit_kind(self, permit: str, unit_kind: str) -> bool:
        row = self.s.get(PermitRow, permit, with_for_update=True)
        if row is None:
            return False
        row.unit_kind = unit_kind
        return True

    def add_bills(self, rows: Sequence[dict[str, object]]) -> None:
        for i in range(0, len(rows), 5000):
            self.s.execute(insert(PaidUseBillRow), list(rows[i:i + 5000]))

    def add(self, row: PaidUseBillRow) -> None:
        self.s.add(row)
        self.s.flush()

    def bill(self, bill_id: int, *, lock: bool = False) -> PaidUseBillRow | None:
        return self.s.get(PaidUseBillRow, bill_id, with_for_update=lock or None)

    def unpaid(self, permit: str, pollutant: str, year: int) -> list[PaidUseBillRow]:
        return list(self.s.scalars(select(PaidUseBillRow).where(
            PaidUseBillRow.permit == permit, PaidUseBillRow.pollutant == pollutant,
            PaidUseBillRow.year == year, PaidUseBillRow.status == "unpaid")
            .order_by(PaidUseBillRow.id)))

    def bills(self, *, enterprise: str | None = None, permit: str | None = None,
              status: str | None = None, due_before: date | None = None,
              offset: int = 0, limit: int = 100, district: str | None = None
              ) -> tuple[int, list[PaidUseBillRow]]:
        """Bills newest first; `due_before` keeps unpaid bills due before that day;
        `district` those of that district's enterprises."""
        q = _in_district(select(PaidUseBillRow), district)
        if enterprise is not None:
            q = q.where(PaidUseBillRow.enterprise == enterprise)
        if permit is not None:
            q = q.where(PaidUseBillRow.permit == permit)
        if status is not None:
            q = q.where(PaidUseBillRow.status == status)
        if due_before is not None:
            q = q.where(PaidUseBillRow.status == "unpaid", PaidUseBillRow.due_on < due_before)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(q.order_by(PaidUseBillRow.id.desc()).offset(offset).limit(limit))
        return int(total), list(rows)

    def owed_fen(self, *, enterprise: str | None = None, permit: str | None = None,
                 status: str | None = None, due_before: date | None = None,
                 district: str | None = None) -> int:
        """What the bills `bills` selects with these filters still owe, all pages together."""
        q = _in_district(select(func.coalesce(func.sum(PaidUseBillRow.amount_fen), 0)).where(
            PaidUseBillRow.status == "unpaid"), district)
        if enterprise is not None:
            q = q.where(PaidUseBillRow.enterprise == enterprise)
        if permit is not None:
            q = q.where(PaidUseBillRow.permit == permit)
        if status is not None:
            q = q.where(PaidUseBillRow.status == status)
        if due_before is not None:
            q = q.where(PaidUseBillRow.due_on < due_before)
        return int(self.s.scalar(q) or 0)
