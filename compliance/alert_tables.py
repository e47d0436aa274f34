"""Heavy-pollution alert tables: the bureau's declarations, the caps each one gives the
affected permits (per pollutant and month: the daily cap of that year and the month's cap),
and the breaches found by checking daily monitoring emissions against them.

Quantities: caps in whole kg, emissions in grams (as `monitoring_daily` holds them), so that
comparing never rounds the emission."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class AlertRow(Base):
    """A declared heavy-pollution alert. `last_day` is the declared last day; when the
    bureau lifts it early `lifted_on` is the last day it applies (caps are recomputed)."""

    __tablename__ = "pollution_alert"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    level: Mapped[str] = mapped_column(String(6))  # yellow | orange | red
    cut_pct: Mapped[int] = mapped_column(Integer)
    zones: Mapped[list[str]] = mapped_column(JSON)  # trading zone and district codes
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertCapRow(Base):
    """One affected permit's cap for one pollutant and one month of an alert."""

    __tablename__ = "pollution_alert_cap"
    alert: Mapped[int] = mapped_column(ForeignKey("pollution_alert.id"), primary_key=True)
    permit: Mapped[str] = mapped_column(String(22), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permitted_kg: Mapped[int] = mapped_column(BigInteger)  # permitted quantity of the year
    days_in_year: Mapped[int] = mapped_column(Integer)
    daily_cap_kg: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer)  # days of the alert in this month
    monthly_cap_kg: Mapped[int] = mapped_column(BigInteger)


class AlertBreachRow(Base):
    """Emissions above a cap: `period` "day" (then `day` is that day) or "month" (then `day`
    is the month's first day). One row per alert, permit, pollutant, period and day, so that
    re-checking never duplicates; `clue` is the problem clue it opened."""

    __tablename__ = "alert_breach"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    alert: Mapped[int] = mapped_column(ForeignKey("pollution_alert.id"), index=True)
    permit: Mapped[str] = mapped_column(String(22), index=True)
    enterprise: Mapped[str] = mapped_column(String(18))
    pollutant: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(5))
    day: Mapped[date] = mapped_column(Date)
    emitted_g: Mapped[int] = mapped_column(BigInteger)
    cap_kg: Mapped[int] = mapped_column(BigInteger)
    clue: Mapped[int | None] = mapped_column(ForeignKey("problem_clue.id"), nullable=True)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("alert", "permit", "pollutant", "period", "day",
                                       name="uq_alert_breach_key"),)
