"""Anomaly screening of monitoring data (pure): the value every screen produces.

An `Anomaly` is one finding on one outlet over a time window, with JSON-able evidence. The
bureau follows each one up as a problem clue (`compliance.clues`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("exceedance", "flat_line", "missing_data", "emission_power_mismatch", "alert_breach")


@dataclass(frozen=True)
class Anomaly:
    permit: str
    outlet: str
    kind: str  # one of KINDS
    pollutant: str | None
    start: datetime  # first hour of the window (timezone-aware)
    end: datetime  # last hour of the window, inclusive
    evidence: dict[str, object] = field(default_factory=dict)  # JSON-able
