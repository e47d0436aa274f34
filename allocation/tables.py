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
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
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
