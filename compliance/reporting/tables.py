"""Compliance tables: outlets of permits, execution reports and their lines, true-ups, their
lines and the vintages each line surrendered, and violations. Quantities in kg, money in fen
(integers)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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


class OutletRow(Base):
    """A discharge outlet of a permit (e.g. DA001 for air, DW001 for water)."""

    __tablename__ = "compliance_outlet"
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    medium: Mapped[str] = mapped_column(String(5))  # air | water
    #: the environmental protection tax's source kind (compliance/reporting/tax_parameters.py
    #: SOURCE_KINDS); None = not recorded (tax drafts assume "process")
    source_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)


class ExecutionReportRow(Base):
    """One execution report: a permit's actual emissions for a year (period "Y") or quarter
    ("Q1".."Q4"). At most one per permit, year and period."""

    __tablename__ = "execution_report"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(2))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))  # api | csv
    submitted_by: Mapped[str] = mapped_column(String(64))
    # --- the specification's structured fields (HJ 944-2018; `compliance.reporting.reports`); None
    # on reports filed before they were asked for, and where the period's kind does not ask
    operating_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    output_unit: Mapped[str | None] = mapped_column(String(8), nullable=True)
    capacity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    facility_normal_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    facility_abnormal_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    abnormal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    monitoring_samples: Mapped[int | None] = mapped_column(Integer, nullable=True)
    monitoring_exceedances: Mapped[int | None] = mapped_column(Integer, nullable=True)
    records_kept: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    tax_paid_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    commitment: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    commitment_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    #: report-level flags (comma-separated), e.g. output_above_capacity
    flags: Mapped[str] = mapped_column(String(120), default="", server_default="")
    #: the management class and report-parameter version the due date was computed under
    management_class: Mapped[str | None] = mapped_column(String(12), nullable=True)
    rules_version: Mapped[str] = mapped_column(String(20), default="2018.1",
                                               server_default="2018.1")

    __table_args__ = (UniqueConstraint("permit", "year", "period",
                                       name="uq_execution_report_permit_year_period"),)


class ReportLineRow(Base):
    __tablename__ = "execution_report_line"
    report: Mapped[int] = mapped_column(ForeignKey("execution_report.id"), primary_key=True)
    outlet: Mapped[str] = mapped_column(String(20), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    actual_kg: Mapped[int] = mapped_column(BigInteger)
    flags: Mapped[str] = mapped_column(String(120), default="")  # comma-separated


class TrueUpRow(Base):
    """A permit's compliance true-up for a year; the primary key makes it run once."""

    __tablename__ = "true_up"
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    status: Mapped[str] = mapped_column(String(12))  # compliant | violation
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: why the bureau ran it before the year and its report deadline had passed
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class TrueUpLineRow(Base):
    __tablename__ = "true_up_line"
    permit: Mapped[str] = mapped_column(String(22), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    actual_kg: Mapped[int] = mapped_column(BigInteger)
    held_kg: Mapped[int] = mapped_column(BigInteger)
    surrendered_kg: Mapped[int] = mapped_column(BigInteger)
    shortfall_kg: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str | None] = mapped_column(String(64))
    #: the part of the exceedance surrendered from vintage year+1 (deduction; 0 without one)
    deducted_kg: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: the legal limit judged: the year's permitted quantity after banking (None: the permit
    #: sets no quantity for the pollutant). `shortfall_kg` is the exceedance above it.
    permitted_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: earlier vintages' rights written into the year's permitted quantity (banking)
    banked_kg: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TrueUpSurrenderRow(Base):
    """Which vintage a true-up line took its rights from: `kind` "surrender" (the year's own
    vintage or a banked earlier one) or "deduction" (vintage year+1, for the shortfall)."""

    __tablename__ = "true_up_surrender"
    permit: Mapped[str] = mapped_column(String(22), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    vintage: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    qty_kg: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str] = mapped_column(String(64))


class ViolationRow(Base):
    """A violation of one kind (compliance/enforcement/violations.py: article, item and penalty
    range in fen); statuses open → decided (a penalty decision) or open → transferred (handed to
    enforcement, then a result recorded). True-up exceedances are quantity_exceedance,
    Art. 34(1)."""

    __tablename__ = "violation"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    pollutant: Mapped[str] = mapped_column(String(10))
    shortfall_kg: Mapped[int] = mapped_column(BigInteger)
    penalty_min_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_max_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    #: the part of the shortfall deducted from next year's rights; the rest is outstanding
    deducted_kg: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # --- by article (compliance/enforcement/violations.py); `pollutant` is "" when none applies
    kind: Mapped[str] = mapped_column(String(32), default="quantity_exceedance",
                                      server_default="quantity_exceedance", index=True)
    article: Mapped[str] = mapped_column(String(12), default="34(1)", server_default="34(1)")
    #: instances fined (Art. 37 fines per instance); the range above is already × instances
    instances: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    occurred_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    facts: Mapped[str | None] = mapped_column(Text, nullable=True)
    opened_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the problem clue the bureau confirmed as this violation (one violation per clue)
    clue: Mapped[int | None] = mapped_column(BigInt, nullable=True, unique=True)
    # --- hand-over to enforcement: status "transferred", then a recorded result
    transferred_to: Mapped[str | None] = mapped_column(String(100), nullable=True)
    transferred_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    transferred_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    result_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
