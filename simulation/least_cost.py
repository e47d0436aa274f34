"""The least-cost benchmark: the abatement a perfect market would choose, by a linear program
on the same MAC curves (HiGHS through highspy, as `allocation.reserve_lp`).

Each agent's curve segment is cut into ``pieces`` blocks; a block's variable is the kg abated
in it (0 to its width) at the block's mean MAC (the exact integral over the full block, so a
whole block costs exactly what the curve says). One row per market: the market's abatement is
at least its forecast emissions minus the rights held in it at the end (the supply). The
cost of the solution is then evaluated on the exact curves (`simulation.mac.cost`), so it is
comparable with the simulation's; the rows' duals are the competitive prices (fen per tonne).
The blocks' mean costs leave the LP up to one block off the exact optimum (a partly used block
costs its mean): with ``refine`` (the default) the LP's price brackets a bisection on the exact
curves, which gives the exact least cost, so the simulation's gap to it is never negative
(a simulation cannot beat the optimum).
`least_cost_pulp` states the same model with PuLP (the idiomatic reference, for tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from allocation.reserve_lp import new_highs
from kernel.quantities import KG_PER_T
from simulation import mac

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LeastCost:
    status: str
    abated: FloatArray  # (N,) kg
    cost: FloatArray  # (N,) fen, on the exact curves
    price: FloatArray  # (M,) fen per tonne: the market rows' shadow prices
    need: IntArray  # (M,) kg each market must abate


def _blocks(c: mac.Curves, pieces: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """(width kg, cost fen per kg, agent) of every block with a positive width."""
    n, k = c.w.shape
    frac = np.arange(pieces + 1) / pieces
    starts = c.x0[:, :, None] + c.w[:, :, None] * frac[None, None, :-1]
    width = np.broadcast_to(c.w[:, :, None] / pieces, starts.shape)
    mid = starts - c.x0[:, :, None] + width / 2  # mean MAC of a block: MAC at its middle
    unit = (c.y0[:, :, None] + c.slope[:, :, None] * mid) / KG_PER_T
    agent = np.broadcast_to(np.arange(n)[:, None, None], starts.shape)
    keep = width > 0
    return width[keep], unit[keep], agent[keep].astype(np.int64)


def need_of(emissions_kg: IntArray, holding_kg: IntArray, market: IntArray, n_markets: int
            ) -> IntArray:
    e = np.bincount(market, weights=emissions_kg, minlength=n_markets)
    h = np.bincount(market, weights=holding_kg, minlength=n_markets)
    return np.maximum(e - h, 0).astype(np.int64)


def least_cost(c: mac.Curves, market: IntArray, need: IntArray, *, pieces: int = 2,
               refine: bool = True) -> LeastCost:
    """Minimise the total abatement cost so that each market abates at least `need` kg."""
    width, unit, agent = _blocks(c, pieces)
    n_m = len(need)
    n = len(width)
    order = np.argsort(market[agent], kind="stable")
    width, unit, agent = width[order], unit[order], agent[order]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_m
    lp.col_cost_ = np.ascontiguousarray(unit)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ascontiguousarray(width)
    lp.row_lower_ = np.ascontiguousarray(need, dtype=np.float64)
    lp.row_upper_ = np.full(n_m, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, n_m
    lp.a_matrix_.start_ = np.arange(n + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.ascontiguousarray(market[agent], dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(n)
    lp.sense_ = highspy.ObjSense.kMinimize
    h = new_highs()
    h.passModel(lp)
    h.run()
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    n_agents = c.n
    if not ok:
        nan = np.full(n_agents, np.nan)
        return LeastCost("infeasible", nan, nan, np.full(n_m, np.nan), need)
    sol = h.getSolution()
    x = np.array(sol.col_value, dtype=np.float64)
    abated: FloatArray = np.bincount(agent, weights=x, minlength=n_agents).astype(
        np.float64)
    price = np.abs(np.array(sol.row_dual, dtype=np.float64) * KG_PER_T)
    if refine:
        abated, price = _refine(c, market, need, price)
    return LeastCost("optimal", abated, mac.cost(c, abated), price, need)


def _refine(c: mac.Curves, market: IntArray, need: IntArray, lp_price: FloatArray
            ) -> tuple[FloatArray, FloatArray]:
    """The exact optimum near the LP's: in each market, the price p at which the agents'
    abatement at MAC = p (`mac.abatement_at`) sums to the need, by bisection from the LP's
    bracket (the blocks' mean costs put the LP within one block of it)."""
    n_m = len(need)
    lo = np.zeros(n_m)
    hi = np.maximum(lp_price * 2, 1.0)
    top = np.zeros(n_m)
    np.maximum.at(top, market, c.y0[:, 0] + (c.slope * c.w).sum(axis=1))
    hi = np.maximum(hi, top + 1)
    for _ in range(60):
        mid = (lo + hi) / 2
        got = np.bincount(market, weights=mac.abatement_at(c, mid[market]), minlength=n_m)
        short = got < need
        lo = np.where(short, mid, lo)
        hi = np.where(short, hi, mid)
    price = np.where(need > 0, hi, 0.0)
    abated = mac.abatement_at(c, price[market])
    return abated, price


def least_cost_pulp(c: mac.Curves, market: IntArray, need: IntArray, *, pieces: int = 2
                    ) -> tuple[str, FloatArray]:
    """The same LP stated with PuLP and solved by its HiGHS interface (small problems)."""
    import pulp

    width, unit, agent = _blocks(c, pieces)
    prob = pulp.LpProblem("least_cost", pulp.LpMinimize)
    xs = [pulp.LpVariable(f"x{i}", 0, float(width[i])) for i in range(len(width))]
    prob += pulp.lpSum(float(unit[i]) * xs[i] for i in range(len(xs)))
    for m in range(len(need)):
        members = [xs[i] for i in range(len(xs)) if market[agent[i]] == m]
        if members:
            prob += pulp.lpSum(members) >= float(need[m])
    solver: Any = pulp.HiGHS(msg=False) if hasattr(pulp, "HiGHS") else None
    prob.solve(solver)
    abated = np.zeros(c.n)
    for i, v in enumerate(xs):
        abated[agent[i]] += v.value() or 0.0
    return pulp.LpStatus[prob.status].lower(), abated
