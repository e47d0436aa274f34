"""Problem clue tables: one row per clue (its current state, evidence as JSON) and its
append-only history of events (database triggers refuse UPDATE and DELETE on the history).

A clue follows up one finding: a screening anomaly, an alert breach or a bureau's manual
entry. `outlet` is "" when the finding concerns the whole permit (alert breaches)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class ClueRow(Base):
    __tablename__ = "problem_clue"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(String(22))
    outlet: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(24))
    pollutant: Mapped[str | None] = mapped_column(String(10), nullable=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(40))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_problem_clue_permit_kind_start", "permit", "kind", "start"),
        Index("ix_problem_clue_state", "state"),
    )


class ClueEventRow(Base):
    """One step of a clue's history: who (actor, role) did what (action, from → to state),
    when, with which note. Rows are only ever inserted."""

    __tablename__ = "problem_clue_event"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    clue: Mapped[int] = mapped_column(ForeignKey("problem_clue.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    from_state: Mapped[str | None] = mapped_column(String(10), nullable=True)
    to_state: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
