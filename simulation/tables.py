"""The simulation's table (schema: alembic/versions/0034_simulation_runs.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class SimulationRunRow(Base):
    """A simulation run of a scenario: the versions and options that made it, its results."""

    __tablename__ = "simulation_run"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    scenario: Mapped[int] = mapped_column(BigInt, ForeignKey("scenario.id", ondelete="CASCADE"),
                                          index=True)
    actor: Mapped[str] = mapped_column(String(64))
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    year: Mapped[int] = mapped_column(Integer)
    parameter_version: Mapped[str] = mapped_column(String(40))
    mac_version: Mapped[str] = mapped_column(String(40))
    seeds: Mapped[int] = mapped_column(Integer)
    first_seed: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
