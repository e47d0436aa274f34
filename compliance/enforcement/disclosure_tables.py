"""Penalty decisions on violations, and their history of events (decided, corrected,
withdrawn). A decision is never deleted; money in fen (integers)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")
IN_FORCE = text("status = 'published'")


class PenaltyDecisionRow(Base):
    """The bureau's penalty decision on one violation, as currently in force (status
    published) or withdrawn. `updated_at` moves with every event (the public feed's
    `updated`). At most one decision per violation is in force (a partial unique index)."""

    __tablename__ = "penalty_decision"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    violation: Mapped[int] = mapped_column(ForeignKey("violation.id"), index=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(String(22))
    year: Mapped[int] = mapped_column(Integer)
    pollutant: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    decided_on: Mapped[date] = mapped_column(Date)
    legal_basis: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # published | withdrawn
    decided_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_penalty_decision_in_force", "violation", unique=True,
                            sqlite_where=IN_FORCE, postgresql_where=IN_FORCE),)


class PenaltyEventRow(Base):
    """One step of a decision's history, with the values in force after it (none for a
    withdrawal): the earlier values of a corrected decision stay in the earlier events."""

    __tablename__ = "penalty_decision_event"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    decision: Mapped[int] = mapped_column(ForeignKey("penalty_decision.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # decided | corrected | withdrawn
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    legal_basis: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
