"""Supervision tables: monitoring imports and the daily emissions computed from hourly
monitoring data (per permit, outlet, pollutant and day, in grams so that a year sums to kg
with one rounding)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base


class MonitoringDailyRow(Base):
    """Emissions of one outlet and pollutant on one day (CST), computed from the hourly
    monitoring data: sum over the hours of concentration × flow. `hours` counts the hours
    with a valid reading; `power_kwh` is the day's power use of the outlet's unit (0 when not
    reported)."""

    __tablename__ = "monitoring_daily"
    permit: Mapped[str] = mapped_column(String(22), primary_key=True)
    outlet: Mapped[str] = mapped_column(String(20), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    emitted_g: Mapped[int] = mapped_column(BigInteger)
    hours: Mapped[int] = mapped_column(Integer)
    power_kwh: Mapped[int] = mapped_column(BigInteger)
