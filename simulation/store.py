"""All SQL of the simulation context."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simulation.tables import SimulationRunRow


class SimulationStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: SimulationRunRow) -> None:
        self.s.add(row)
        self.s.flush()

    def run(self, run_id: int) -> SimulationRunRow | None:
        return self.s.get(SimulationRunRow, run_id)

    def runs(self, scenario: int | None, offset: int, limit: int
             ) -> tuple[list[SimulationRunRow], int]:
        q = select(SimulationRunRow)
        count = select(func.count()).select_from(SimulationRunRow)
        if scenario is not None:
            q = q.where(SimulationRunRow.scenario == scenario)
            count = count.where(SimulationRunRow.scenario == scenario)
        rows = list(self.s.scalars(q.order_by(SimulationRunRow.id.desc()).offset(offset)
                                   .limit(limit)))
        return rows, int(self.s.scalar(count) or 0)

    def latest(self, scenario: int) -> SimulationRunRow | None:
        return self.s.scalar(select(SimulationRunRow)
                             .where(SimulationRunRow.scenario == scenario)
                             .order_by(SimulationRunRow.id.desc()).limit(1))
