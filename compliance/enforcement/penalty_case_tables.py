"""Penalty cases (the administrative penalty procedure on one violation) and their dated
events. Money in fen (integers); dates are Beijing dates; instants UTC. The decision becomes a
`penalty_decision` row (published) only when it is served."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class PenaltyCaseRow(Base):
    """One penalty procedure: notice, statement, hearing (its notice and record), decision,
    service, payment (the fine and any late-payment surcharge)."""

    __tablename__ = "penalty_case"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    violation: Mapped[int] = mapped_column(ForeignKey("violation.id"), index=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(String(22))
    status: Mapped[str] = mapped_column(String(20))
    periods_version: Mapped[str] = mapped_column(String(20))
    # advance notice
    notice_number: Mapped[str] = mapped_column(String(60), unique=True)
    noticed_on: Mapped[date] = mapped_column(Date)
    facts: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(200))
    proposed_fen: Mapped[int] = mapped_column(BigInteger)
    hearing_right: Mapped[bool] = mapped_column(Boolean)
    statement_due: Mapped[date] = mapped_column(Date)
    hearing_due: Mapped[date | None] = mapped_column(Date)
    # the enterprise's answers
    statement: Mapped[str | None] = mapped_column(Text)
    statement_on: Mapped[date | None] = mapped_column(Date)
    hearing_requested_on: Mapped[date | None] = mapped_column(Date)
    # the hearing's notice (Art. 64(2)): the day and place fixed, the day notified
    hearing_fixed_on: Mapped[date | None] = mapped_column(Date)
    hearing_place: Mapped[str | None] = mapped_column(String(200))
    hearing_notified_on: Mapped[date | None] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    hearing_record: Mapped[str | None] = mapped_column(Text)
    # decision, service, payment
    decision_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_basis: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    service_due: Mapped[date | None] = mapped_column(Date)
    served_on: Mapped[date | None] = mapped_column(Date)
    service_method: Mapped[str | None] = mapped_column(String(20))
    payment_due: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    #: the late-payment surcharge paid with the fine (Art. 72(1)), fen
    paid_surcharge_fen: Mapped[int | None] = mapped_column(BigInteger)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PenaltyCaseEventRow(Base):
    """One dated step of a case: who did it, when it was recorded, the day it took effect."""

    __tablename__ = "penalty_case_event"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("penalty_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    on_day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
