"""Registry and allocation tables: zones, districts, enterprises, sites, permits, permitted
quantities, the permit's history and total-control indicators."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class ZoneRow(Base):
    """A trading zone: the area within which trading is free (air: district group;
    water: a watershed)."""

    __tablename__ = "zone"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    medium: Mapped[str] = mapped_column(String(5))  # air | water


class DistrictRow(Base):
    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    air_zone: Mapped[str] = mapped_column(ForeignKey("zone.code"))
    water_zone: Mapped[str] = mapped_column(ForeignKey("zone.code"))


class EnterpriseRow(Base):
    __tablename__ = "enterprise"
    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    sector: Mapped[str] = mapped_column(String(30), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="active")


class SiteRow(Base):
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    enterprise: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(ForeignKey("district.code"))
    capacity: Mapped[int] = mapped_column(BigInteger)  # in the sector's activity unit
    capacity_unit: Mapped[str] = mapped_column(String(12))


class PermitRow(Base):
    __tablename__ = "permit"
    code: Mapped[str] = mapped_column(String(22), primary_key=True)
    enterprise: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    site: Mapped[int] = mapped_column(ForeignKey("site.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="valid")  # valid|revoked|expired
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    parameter_version: Mapped[str] = mapped_column(String(20))
    #: existing | new | expanded (现有, 新建, 改扩建): new and expanded units obtain rights
    #: only by purchase (allocation.paid_use)
    unit_kind: Mapped[str] = mapped_column(String(10), default="existing",
                                           server_default="existing")


class PermitQuantityRow(Base):
    """Per permit, pollutant and year: every basis, the cap and the permitted quantity (kg).

    cap_kg = min(specification, EIA): the most the confirmed rights may ever reach.
    allocated_kg = min of all three bases at issue (the initial permitted quantity).
    permitted_kg = the current permitted quantity = the confirmed rights in the ledger; it
    follows every confirmation and trade in the same transaction.
    """

    __tablename__ = "permit_quantity"
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone: Mapped[str] = mapped_column(ForeignKey("zone.code"))
    spec_kg: Mapped[int] = mapped_column(BigInteger)
    eia_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    share_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    binding: Mapped[str] = mapped_column(String(20))
    cap_kg: Mapped[int] = mapped_column(BigInteger)
    allocated_kg: Mapped[int] = mapped_column(BigInteger)
    permitted_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    confirmed: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_permit_quantity_zone_pollutant_year", "zone", "pollutant",
                            "year"),)


class PermitEventRow(Base):
    """The permit's history: confirmations, verifications, trades in and out, releases."""

    __tablename__ = "permit_event"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    # no row-level foreign key on PostgreSQL (migration 0014): permits are never deleted (a
    # trigger refuses it there)
    permit: Mapped[str] = mapped_column(String(22), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    qty_kg: Mapped[int] = mapped_column(BigInteger)  # signed: + joins the permit, - leaves it
    counterparty: Mapped[str | None] = mapped_column(String(40))
    price: Mapped[int | None] = mapped_column(BigInteger)  # fen per tonne
    reference: Mapped[str | None] = mapped_column(String(64))
    permitted_after_kg: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class IndicatorRow(Base):
    """Total-control indicator per zone, pollutant and year; Σ permitted + reserve ≤ total."""

    __tablename__ = "indicator"
    zone: Mapped[str] = mapped_column(ForeignKey("zone.code"), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    total_kg: Mapped[int] = mapped_column(BigInteger)
    reserve_share_pct: Mapped[int] = mapped_column(Integer)  # reserve share, percent
    issued: Mapped[bool] = mapped_column(default=False)


# --------------------------------------------------------------------------- computation runs
# (issue 5: whole-municipality computation, apportionment, scenarios, standards, reserve plans)

from typing import Any  # noqa: E402

from sqlalchemy import JSON, Boolean  # noqa: E402


class ComputationRunRow(Base):
    """One run that rewrote stored quantities: who, when, with which parameters, what changed.

    kind: compute (permitted quantities from the parameter table), apportionment (an
    indicator's shares), standard (a registered standard applied).
    """

    __tablename__ = "computation_run"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    parameter_version: Mapped[str] = mapped_column(String(40))
    scenario: Mapped[int | None] = mapped_column(ForeignKey("scenario.id"), nullable=True)
    facilities: Mapped[int] = mapped_column(Integer)
    quantities: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    held_back: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class ComputationChangeRow(Base):
    """A permitted-quantity row a run changed (applied) or would have changed (held back)."""

    __tablename__ = "computation_change"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    run: Mapped[int] = mapped_column(ForeignKey("computation_run.id"), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # applied | held_back
    old_spec_kg: Mapped[int] = mapped_column(BigInteger)
    new_spec_kg: Mapped[int] = mapped_column(BigInteger)
    old_share_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    new_share_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    old_cap_kg: Mapped[int] = mapped_column(BigInteger)
    new_cap_kg: Mapped[int] = mapped_column(BigInteger)
    old_allocated_kg: Mapped[int] = mapped_column(BigInteger)
    new_allocated_kg: Mapped[int] = mapped_column(BigInteger)
    old_binding: Mapped[str] = mapped_column(String(20))
    new_binding: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScenarioRow(Base):
    """A named set of changes against the baseline (the JSON form of allocation.scenario)."""

    __tablename__ = "scenario"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScenarioRunRow(Base):
    """A scenario run's results: permitted quantities, reserve plan and deltas (JSON)."""

    __tablename__ = "scenario_run"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    scenario: Mapped[int] = mapped_column(ForeignKey("scenario.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    year: Mapped[int] = mapped_column(Integer)
    parameter_version: Mapped[str] = mapped_column(String(40))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class StandardRow(Base):
    """A new standard (concentration limits) registered before its effective date."""

    __tablename__ = "standard"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    effective: Mapped[date] = mapped_column(Date)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameter_version: Mapped[str] = mapped_column(String(40))
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="registered")  # | applied
    applied_run: Mapped[int | None] = mapped_column(ForeignKey("computation_run.id"),
                                                    nullable=True)


class StandardFlagRow(Base):
    """A permitted-quantity row a registered standard changes, with the old and new values."""

    __tablename__ = "standard_flag"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    standard: Mapped[int] = mapped_column(ForeignKey("standard.id"), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(20))
    old_spec_kg: Mapped[int] = mapped_column(BigInteger)
    new_spec_kg: Mapped[int] = mapped_column(BigInteger)
    old_cap_kg: Mapped[int] = mapped_column(BigInteger)
    new_cap_kg: Mapped[int] = mapped_column(BigInteger)
    old_allocated_kg: Mapped[int] = mapped_column(BigInteger)
    new_allocated_kg: Mapped[int] = mapped_column(BigInteger)
    new_binding: Mapped[str] = mapped_column(String(20))
    permitted_kg: Mapped[int] = mapped_column(BigInteger)  # confirmed rights when flagged
    #: open | applied | held_back, then (the bureau's decision) recovered | bought_back
    status: Mapped[str] = mapped_column(String(12), default="open")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: held back: the confirmed rights above the new cap, marked for recovery or buy-back
    recovery_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)  # recover|buy_back
    moved_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # fen per tonne
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    transfer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                        nullable=True)


class ReserveRequestRow(Base):
    """A permit's (or project's) request for reserve rights."""

    __tablename__ = "reserve_request"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    qty_kg: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    min_pct: Mapped[int] = mapped_column(Integer, default=0)  # guaranteed minimum, percent
    all_or_nothing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="open")  # | planned | granted
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReservePlanRow(Base):
    """An optimised reserve-release plan built from the database, and its report."""

    __tablename__ = "reserve_plan"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    applicants: Mapped[str] = mapped_column(String(10))  # requests | headroom
    status: Mapped[str] = mapped_column(String(16))  # planned | infeasible | not_optimal | released
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    problem: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: pollutant -> price, fen per tonne, each grantee pays at release (allocation.paid_use)
    prices: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ReserveGrantRow(Base):
    """One permit's grant of one pollutant in a plan; released_kg once released."""

    __tablename__ = "reserve_grant"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    plan: Mapped[int] = mapped_column(ForeignKey("reserve_plan.id"), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    zone: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    granted_kg: Mapped[int] = mapped_column(BigInteger)
    released_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default="planned")  # | released | skipped
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # fen per tonne
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
