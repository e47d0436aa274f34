"""Tables of the permit register (issue 17): the permit's content (management class,
industry, EIA approval, noise, solid waste, term and renewal), its outlets, its life events
(issue, change, renewal, revocation, cancellation: who, when, why) and the import history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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


class PermitContentRow(Base):
    """What the permit says beyond its quantities (one row per permit; demo permits have
    none). `content_hash` is the hash of the content last imported: the same file imported
    again changes nothing."""

    __tablename__ = "permit_content"
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), primary_key=True)
    management_class: Mapped[str] = mapped_column(String(16))  # key|simplified|registration
    industry_code: Mapped[str] = mapped_column(String(8))
    eia_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    eia_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: pollutant -> approved kg per year
    eia_kg: Mapped[dict[str, Any]] = mapped_column(JSON)
    eia_requirements: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: [{period: day|night, zone_class, limit_db}]
    noise: Mapped[list[Any]] = mapped_column(JSON)
    #: [{kind, self_disposal, transfer}]
    solid_waste: Mapped[list[Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: the start of the current term (the original valid_from, or the day after the term a
    #: renewal followed)
    term_from: Mapped[date] = mapped_column(Date)
    renewal_applied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    renewal_late: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PermitOutletRow(Base):
    """One outlet and pollutant of a permit: type, medium, limit concentration and the
    annual quantities the outlet carries (year -> kg)."""

    __tablename__ = "permit_outlet"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    # the unique (permit, outlet_id, pollutant) index serves lookups by permit
    permit: Mapped[str] = mapped_column(String(22))
    outlet_id: Mapped[str] = mapped_column(String(20))
    outlet_type: Mapped[str] = mapped_column(String(10))  # main | general | fugitive
    medium: Mapped[str] = mapped_column(String(5))
    pollutant: Mapped[str] = mapped_column(String(30))
    limit_text: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(12))
    quantities: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("permit", "outlet_id", "pollutant"),)


class PermitLifeEventRow(Base):
    """A step of the permit's life: issue, change, renewal, revocation, cancellation."""

    __tablename__ = "permit_life_event"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    permit: Mapped[str] = mapped_column(String(22), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class PermitImportRow(Base):
    """One import of a permit file: who, when, what it did, and its row errors."""

    __tablename__ = "permit_import"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))  # imported | partial | rejected
    rows: Mapped[int] = mapped_column(Integer)
    permits_new: Mapped[int] = mapped_column(Integer)
    permits_changed: Mapped[int] = mapped_column(Integer)
    permits_unchanged: Mapped[int] = mapped_column(Integer)
    permits_rejected: Mapped[int] = mapped_column(Integer)
    #: the first row errors: [{line, field, code, message, permit}]
    errors: Mapped[list[Any]] = mapped_column(JSON)
