"""Heavy-pollution alert tables: each permit's emergency measures (performance grade and per
alert level a cut and the measure's text), the bureau's declarations, the caps each one gives
the affected permits (per pollutant and month: the baseline and its basis, the cut applied,
the daily cap of that year and the month's cap), and the breaches found by checking daily
monitoring emissions against them.

Quantities: caps in whole kg, emissions in grams (as `monitoring_daily` holds them), so that
comparing never rounds the emission."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
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


class EmergencyPlanRow(Base):
    """A permit's entry in the emergency emission-reduction list (应急减排清单): its
    performance grade, set by the bureau."""

    __tablename__ = "permit_emergency_plan"
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), primary_key=True)
    grade: Mapped[str] = mapped_column(String(12))  # A | B | C | D | unclassified
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmergencyMeasureRow(Base):
    """The permit's measure at one alert level: a cut in percent of its baseline and, where
    the measure is e.g. stopping a named process line, its text (the cut is its equivalent)."""

    __tablename__ = "permit_emergency_measure"
    permit: Mapped[str] = mapped_column(ForeignKey("permit_emergency_plan.permit"),
                                        primary_key=True)
    level: Mapped[str] = mapped_column(String(6), primary_key=True)
    cut_pct: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (CheckConstraint("cut_pct BETWEEN 0 AND 100", name="cut_range"),)


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
    #: the permit quantity's trading zone (the region totals group by it)
    zone: Mapped[str] = mapped_column(String(20), server_default="")
    #: "monitoring" (baseline_g over baseline_days days with data before the alert) or
    #: "permitted" (permitted kg × 1000 over the operating days)
    basis: Mapped[str] = mapped_column(String(12), server_default="permitted")
    baseline_g: Mapped[int] = mapped_column(BigInteger, server_default="0")
    baseline_days: Mapped[int] = mapped_column(Integer, server_default="365")
    cut_pct: Mapped[int] = mapped_column(Integer, server_default="0")
    #: measure | grade | alert: where the cut came from
    cut_source: Mapped[str] = mapped_column(String(8), server_default="alert")
    grade: Mapped[str | None] = mapped_column(String(12), nullable=True)
    measure: Mapped[str | None] = mapped_column(Text, nullable=True)


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
