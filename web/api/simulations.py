"""JSON API of the market simulation under /api/v1 (issue 21).

- ``POST /simulations`` runs the simulation of a stored scenario (seeds, days, strategy, MAC
  parameter version) and stores the run: 201 with the whole run;
- ``GET /simulations`` lists runs (``?scenario=``), ``GET /simulations/{id}`` reads one,
  ``GET /simulations/compare?a=&b=`` puts two runs side by side (writes nothing);
- ``GET /simulations/parameters`` gives the MAC table in force (each row's source and
  whether it is an assumption).

Prices are fen per tonne and money fen in the JSON (as everywhere in the API); quantities kg.
Access: analysts and the bureau. A request runs the seeds in the web worker: the API takes at
most `MAX_API_SEEDS` seeds (the CLI, `erts simulate`, takes more and may use Dask).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from identity.roles import BUREAU, Principal, Role
from simulation import service as sim
from simulation.mac import load_table
from web.api.common import READ, WRITE, Strict
from web.api.common import audit as _audit
from web.api.common import platform as _p
from web.auth import csrf_protect, require_role

router = APIRouter(dependencies=[Depends(csrf_protect)], tags=["simulations"])
Analysis = Depends(require_role(Role.ANALYST, *BUREAU))
Id = Annotated[int, Path(ge=1, le=2**53)]
QueryId = Annotated[int, Query(ge=1, le=2**53)]
MAX_API_SEEDS = 50


class SimulationIn(Strict):
    scenario: int = Field(ge=1, le=2**53, description="a stored scenario's id")
    seeds: int = Field(5, ge=1, le=MAX_API_SEEDS, description="how many seeds")
    first_seed: int = Field(0, ge=0, le=2**31 - 1)
    days: int = Field(250, ge=1, le=250, description="trading days (250: one year)")
    strategy: Literal["truthful", "zip", "mixed"] = "mixed"
    mac_version: str | None = Field(None, max_length=40, examples=["2026.1"])


@router.post("/simulations", status_code=201, responses=WRITE)
def run_simulation(request: Request, body: SimulationIn,
                   user: Principal = Analysis) -> dict[str, Any]:
    """Simulate a stored scenario's market and store the run (see docs/simulation.md)."""
    _audit(request, "run_simulation", str(body.scenario),
           f"seeds={body.seeds} days={body.days} strategy={body.strategy}")
    return sim.run_simulation(_p(request).uow, scenario_id=body.scenario, actor=user.username,
                              seeds=body.seeds, days=body.days, strategy=body.strategy,
                              first_seed=body.first_seed, mac_version=body.mac_version)


@router.get("/simulations", responses=READ)
def list_simulations(request: Request,
                     scenario: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                     offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                     _user: Principal = Analysis) -> dict[str, Any]:
    return sim.list_runs(_p(request).uow(), scenario=scenario, offset=offset, limit=limit)


@router.get("/simulations/parameters", responses=READ)
def parameters(_user: Principal = Analysis) -> dict[str, Any]:
    """The MAC parameter table in force: curves per sector and pollutant with their source
    and assumption flag, size and technology scaling, the emissions forecast, agents."""
    return load_table().raw


@router.get("/simulations/compare", responses=READ)
def compare(request: Request, a: QueryId, b: QueryId,
            _user: Principal = Analysis) -> dict[str, Any]:
    """Two stored runs side by side, with the differences of their headline figures."""
    return sim.compare_runs(_p(request).uow(), a, b)


@router.get("/simulations/{run_id}", responses=READ)
def get_simulation(request: Request, run_id: Id,
                   _user: Principal = Analysis) -> dict[str, Any]:
    return sim.run_view(_p(request).uow(), run_id)
