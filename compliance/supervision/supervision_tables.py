"""Supervision tables: monitoring imports, the daily emissions computed from hourly
monitoring data (per permit, outlet, pollutant and day, in grams so that a year sums to kg
with one rounding), and the checks of execution reports against them.

The raw hourly rows are not stored (8.76 million rows a year for 1,000 outlets): the daily
aggregates and the anomaly evidence (problem clues) are what supervision uses. The import
record keeps the file's SHA-256, its counts and the first row errors.

Provenance and authority: each import records its `source` (automatic monitoring system,
bureau upload, enterprise self-monitoring) and each daily row carries its import, source and
authority (2: bureau or automatic, 1: enterprise). For one outlet-day the bureau's rows
supersede the enterprise's: both are kept, the enterprise's marked `superseded_by` the
bureau import. A voided import is never deleted: its rows are marked `voided`. A row is
EFFECTIVE when it is neither voided nor superseded; every read that sums
`monitoring_daily` uses the effective rows only (`EFFECTIVE_DAILY`). Two partial unique
indexes hold this under concurrency: at most one live row per authority and at most one
effective row per permit, outlet, pollutant and day."""

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
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class MonitoringImportRow(Base):
    """One stored import of a monitoring CSV (a rejected all-or-nothing import stores
    nothing, not even this row). A file (by SHA-256) is imported once per source while that
    import is live (not voided). `district`: the importer's (a district officer's, a
    trader's enterprise's; None for the city bureau)."""

    __tablename__ = "monitoring_import"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    enterprise: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    partial: Mapped[bool] = mapped_column(Boolean)
    rows: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    outlets: Mapped[int] = mapped_column(Integer)
    daily_rows: Mapped[int] = mapped_column(Integer)
    anomalies: Mapped[int] = mapped_column(Integer)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the first row errors
    source: Mapped[str] = mapped_column(String(12), default="bureau",
                                        server_default="bureau")
    district: Mapped[str | None] = mapped_column(String(12), nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    voided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (Index("uq_monitoring_import_live_sha256", "sha256", "source",
                            unique=True, sqlite_where=text("voided_at IS NULL"),
                            postgresql_where=text("voided_at IS NULL")),)


class MonitoringDailyRow(Base):
    """Emissions of one outlet and pollutant on one day (CST), computed from the hourly
    monitoring data: sum over the hours of the MEASURED concentration × dry standard flow
    (HJ 75; the O2-corrected concentration only judges limits). `hours` counts the hours
    with a reading or a substituted value (`substituted_hours` of them substituted);
    `power_kwh` is the day's power use of the outlet's unit (0 when not reported).
    `import_id`: the import that stored it (0 for rows written otherwise); `source` and
    `authority` its import's; `superseded_by` the bureau import whose rows replace it;
    `voided` when its import was voided."""

    __tablename__ = "monitoring_daily"
    permit: Mapped[str] = mapped_column(String(22), primary_key=True)
    outlet: Mapped[str] = mapped_column(String(20), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    emitted_g: Mapped[int] = mapped_column(BigInteger)
    hours: Mapped[int] = mapped_column(Integer)
    power_kwh: Mapped[int] = mapped_column(BigInteger)
    #: of `hours`, those whose concentration or flow was substituted (HJ 75 missing-data
    #: rule): never silently dropped, always visible
    substituted_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    import_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=0,
                                           server_default="0")
    source: Mapped[str] = mapped_column(String(12), default="bureau",
                                        server_default="bureau")
    authority: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    superseded_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    voided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_monitoring_daily_import_id", "import_id"),
        Index("uq_monitoring_daily_live", "permit", "outlet", "pollutant", "day",
              "authority", unique=True, sqlite_where=text("NOT voided"),
              postgresql_where=text("NOT voided")),
        Index("uq_monitoring_daily_effective", "permit", "outlet", "pollutant", "day",
              unique=True, sqlite_where=text("NOT voided AND superseded_by IS NULL"),
              postgresql_where=text("NOT voided AND superseded_by IS NULL")),
    )


#: the rows every read of emissions sums: neither voided nor superseded
EFFECTIVE_DAILY = (MonitoringDailyRow.voided.is_(False),
                   MonitoringDailyRow.superseded_by.is_(None))


class ReportCheckRow(Base):
    """An execution-report line compared with the monitored emissions of its period: the
    latest check of a permit, year and period replaces the previous one. Percentages are
    decimal text (no floats stored); `monitored_kg` is None when there is no monitoring
    data for the outlet and pollutant in the period."""

    __tablename__ = "report_check"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(2))
    outlet: Mapped[str] = mapped_column(String(20))
    pollutant: Mapped[str] = mapped_column(String(10))
    reported_kg: Mapped[int] = mapped_column(BigInteger)
    monitored_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    hours: Mapped[int] = mapped_column(Integer)
    period_hours: Mapped[int] = mapped_column(Integer)
    deviation_pct: Mapped[str | None] = mapped_column(String(24), nullable=True)
    tolerance_pct: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(20))  # ok | deviation | no_monitoring_data
    actor: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("permit", "year", "period", "outlet", "pollutant",
                                       name="uq_report_check_line"),)
