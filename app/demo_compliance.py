"""The demo's compliance data (`app.demo`): outlets and emergency measures for the demo
traders' permits, so execution reports, monitoring imports and alerts can be tried at
once. Each step skips what an interrupted load already wrote.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.demo_municipality import SECTOR_POLLUTANTS
from app.demo_plan import DemoPlan, at_beijing
from compliance.alerting import alert_service
from compliance.reporting import service as compliance
from compliance.reporting.tables import OutletRow

if TYPE_CHECKING:
    from app.wiring import Platform

#: emergency measures the demo gives its traders' air permits, by turn: (grade, levels)
DEMO_MEASURES: tuple[tuple[str, dict[str, dict[str, Any]]], ...] = (
    ("B", {"orange": {"cut_pct": 20, "measure": None},
           "red": {"cut_pct": 35, "measure": "limit the main line to 65 % load"}}),
    ("C", {"yellow": {"cut_pct": 15, "measure": None},
           "orange": {"cut_pct": 30, "measure": "stop process line 2"},
           "red": {"cut_pct": 50, "measure": "stop process lines 2 and 3"}}),
    ("A", {}),
)


def _traders(plan: DemoPlan) -> set[str]:
    return {u[3] for u in plan.users if u[3]}


def register_trader_outlets(platform: Platform, plan: DemoPlan) -> None:
    """The demo traders' permits get their outlets (DA001 air, DW001 water, by the
    sector's pollutants)."""
    traders = _traders(plan)
    with platform.uow() as uow:
        outlets = {(p, o) for p, o in uow.session.execute(
            select(OutletRow.permit, OutletRow.code))}
    for p in plan.permits:
        if p.enterprise not in traders:
            continue
        pols = SECTOR_POLLUTANTS[p.sector]
        for code, medium, used in (("DA001", "air", {"SO2", "NOx", "PM"} & set(pols)),
                                   ("DW001", "water", {"COD", "NH3-N"} & set(pols))):
            if used and (p.code, code) not in outlets:
                compliance.register_outlet(platform.uow(), permit=p.code, outlet=code,
                                           medium=medium)


def set_trader_measures(platform: Platform, plan: DemoPlan, *, today: date,
                        actor: str) -> None:
    """The demo traders' air permits carry emergency measures from the emergency
    emission-reduction list (grades B, C, A in turn; A reduces of its own accord), so an
    alert declared in the walk shows a measure's cut beside the default (replacing the
    measures is idempotent, so a resumed load sets the same ones)."""
    traders = _traders(plan)
    at = at_beijing(today - timedelta(days=5), 9, 0)
    graded = [p for p in plan.permits if p.enterprise in traders
              and {"SO2", "NOx", "PM", "VOCs"} & set(SECTOR_POLLUTANTS[p.sector])]
    for i, p in enumerate(sorted(graded, key=lambda p: p.code)):
        grade, levels = DEMO_MEASURES[i % len(DEMO_MEASURES)]
        alert_service.set_measures(platform.uow(), permit=p.code, grade=grade, levels=levels,
                                   actor=actor, now=at + timedelta(seconds=i))
