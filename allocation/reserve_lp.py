"""Solving reserve-release problems (the one solver module: PuLP and highspy live here).

Engines (``solver.engine`` in the JSON; `optimise(engine=...)`); ``auto`` is ``highs`` below
``FIXING_FROM`` applicants (or with all-or-nothing grants or applicant-level receptor
coefficients) and ``fixing`` from there:

- ``highs``: the whole LP (MILP when some applicant is all-or-nothing) built
  column-wise with numpy and passed to highspy. The model is reformulated to stay sparse: a
  variable s_pz carries each zone's granted total, and zone-level source-receptor coefficients
  act on s instead of on every applicant, so an applicant column has one entry per pollutant
  it asks for. Receptor rows are scaled to a largest coefficient of 1. ``method`` picks HiGHS's
  ``simplex`` (dual simplex, presolve off: measured fastest here), ``ipm`` or ``pdlp``.
- ``fixing`` (``auto`` from ``FIXING_FROM`` applicants, plain LPs): sample, fix, verify (see
  `solve_fixing`): HiGHS on a random sample gives zone prices, every column is priced in
  numpy, all but a band of a few per cent are fixed at the bound their reduced cost says, the
  band is solved by HiGHS with the fixed use on the right-hand side, and the loop ends when
  pricing every column with the band's prices finds none on the wrong side - a certificate of
  optimality for the whole LP. 1,000,000 applicants: ~6-11 s against ~79 s for ``highs``.
- ``sifting``: exploits that the LP has few rows (pollutants × zones + receptors) and one
  bounded column per applicant, so at an optimum all but at most m columns sit at a bound.
  Each round solves a restricted LP (candidate columns, plus aggregate columns that move the
  remaining columns priced to rise together, grouped by zone and reduced-cost quantile), then
  prices all n columns with the duals in O(nnz) numpy, and stops when every reduced cost
  agrees with its column's position: primal feasible + dual feasible + complementary, a
  certificate of optimality for the full LP (its duality gap is reported). Correct, but in
  measurements it needs ~15-20 rounds and is slower than ``highs``; kept for comparison.
- ``pulp_highs`` / ``pulp_cbc``: the idiomatic PuLP model (one variable per applicant, lpSum
  per constraint): the readable reference and cross-check; far slower at scale.

A run that stops without proof of optimality (time limit, iteration limit, solver trouble)
says so in ``status`` / ``proven_optimal``; its plan, when it has one, is still rounded and
re-checked.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pulp

from allocation.errors import ReserveInputError
from allocation.reserve import (
    Columns,
    FloatArray,
    ReserveProblem,
    build_columns,
    check_plan,
    diagnose,
    max_min_share,
    parse_problem,
    proportionality_gap,
    reduced_costs,
    round_plan,
    row_activity,
)

ENGINES = ("auto", "fixing", "sifting", "highs", "pulp_highs", "pulp_cbc")
#: from this many applicants, ``auto`` uses ``fixing`` (an LP without all-or-nothing grants)
FIXING_FROM = 150_000
HIGHS_METHODS = ("simplex", "ipm", "pdlp", "choose")


@dataclass
class Solution:
    status: str  # optimal | infeasible | time_limit | iteration_limit | not_solved | error
    proven_optimal: bool
    x: FloatArray | None
    duals: FloatArray | None
    objective: float | None
    detail: dict[str, Any]
    col_duals: FloatArray | None = None
    zone_prices: FloatArray | None = None


_HIGHS_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
}


_BANNER_SHOWN = False


def new_highs() -> Any:
    """A quiet `highspy.Highs`. HiGHS prints its banner on stdout (C level) when the first
    instance of a process is built, which would corrupt the JSON the CLI prints: that one
    construction runs with file descriptor 1 pointed at /dev/null."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


class HighsSession:
    """One HiGHS instance reused across solves (a batch of scenarios in one task).

    Each solve passes the new model into the same object; when the previous model had the same
    shape, its optimal basis is set as the starting basis (a warm start: scenarios of one
    municipality differ in bounds and coefficients, rarely in which columns are basic).
    Not thread-safe: one per task.
    """

    def __init__(self) -> None:
        self.highs = new_highs()
        self._shape: tuple[int, int] | None = None
        self._basis: Any = None
        self.solves = 0
        self.warm = 0

    def warm_start(self, h: Any, n: int, m: int, mip: bool) -> bool:
        self.solves += 1
        if mip or self._basis is None or self._shape != (n, m):
            return False
        status = h.setBasis(self._basis)
        ok = status == highspy.HighsStatus.kOk
        self.warm += int(ok)
        return bool(ok)

    def remember(self, h: Any, n: int, m: int) -> None:
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            self._basis = h.getBasis()
            self._shape = (n, m)


# --------------------------------------------------------------------------- HiGHS, whole model


def _highs(
    cost: FloatArray, lower: FloatArray, upper: FloatArray, start: Any, index: Any, value: Any,
    row_upper: FloatArray, *, integer: Any = None, method: str = "choose",
    time_limit_s: float | None = None, presolve: bool = True, row_lower: Any = None,
    session: HighsSession | None = None,
) -> Solution:
    n, m = len(cost), len(row_upper)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.ascontiguousarray(cost, dtype=np.float64)
    lp.col_lower_ = np.ascontiguousarray(lower, dtype=np.float64)
    lp.col_upper_ = np.ascontiguousarray(upper, dtype=np.float64)
    lp.row_lower_ = (np.full(m, -highspy.kHighsInf) if row_lower is None
                     else np.ascontiguousarray(row_lower, dtype=np.float64))
    lp.row_upper_ = np.ascontiguousarray(row_upper, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.start_ = np.ascontiguousarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.ascontiguousarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ascontiguousarray(value, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize
    mip = integer is not None and bool(np.any(integer))
    if mip:
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in integer]
    h = session.highs if session is not None else new_highs()
    h.setOptionValue("output_flag", False)
    if not mip:
        h.setOptionValue("solver", method)
    else:
        h.setOptionValue("mip_rel_gap", 1e-9)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    if not presolve:
        h.setOptionValue("presolve", "off")
    h.passModel(lp)
    warm = session is not None and session.warm_start(h, n, m, mip)
    h.run()
    if session is not None and not mip:
        session.remember(h, n, m)
    model_status = h.getModelStatus()
    status = _HIGHS_STATUS.get(model_status, "not_solved")
    info = h.getInfo()
    sol = h.getSolution()
    has_x = bool(sol.value_valid) and status != "infeasible"
    x = np.array(sol.col_value, dtype=np.float64) if has_x else None
    duals = (np.array(sol.row_dual, dtype=np.float64)
             if sol.dual_valid and not mip and status == "optimal" else None)
    col_duals = (np.array(sol.col_dual, dtype=np.float64) if duals is not None else None)
    detail: dict[str, Any] = {"highs_status": h.modelStatusToString(model_status),
                              "simplex_iterations": int(info.simplex_iteration_count)}
    if session is not None:
        detail["warm_start"] = warm
    if mip:
        detail["mip_gap"] = float(info.mip_gap)
    return Solution(status, status == "optimal", x, duals,
                    float(info.objective_function_value) if has_x else None, detail, col_duals)


def solve_highs(problem: ReserveProblem, cols: Columns, lower: FloatArray, upper: FloatArray,
                *, method: str = "simplex", time_limit_s: float | None = None,
                session: HighsSession | None = None) -> Solution:
    """The whole model to HiGHS (MILP when some applicant is all-or-nothing).

    Reformulated to keep the matrix sparse: one variable s_pz per reserve row carries the
    zone's granted total (sum_i d_ip x_i - s_pz = 0, 0 <= s_pz <= usable_pz), and zone-level
    source-receptor coefficients apply to s instead of to every applicant, so each applicant
    column has one entry per pollutant it asks for (the dense receptor rows made HiGHS's
    simplex iterations ~10x slower). The shadow price of usable_pz is s_pz's reduced cost.
    """
    n, n_r = problem.n, len(problem.receptor_ids)
    extra = None
    if problem.applicant_coef:
        ex = np.zeros((n, n_r))
        for r, i, j, c in problem.applicant_coef:
            ex[i, r] += float(c) * float(problem.demand_kg[i, j])
        ei, er = np.nonzero(ex)
        extra = (ei, er, ex[ei, er])
    integer = problem.all_or_nothing if problem.all_or_nothing.any() else None
    return _structured(problem.zone, problem.demand_kg, cols.cost, lower, upper,
                       problem.usable_kg.astype(np.float64), problem.zone_coef,
                       np.array([float(h) for h in problem.receptor_headroom]),
                       extra=extra, integer=integer, method=method,
                       time_limit_s=time_limit_s, session=session)


def _structured(zone: Any, demand: Any, cost: FloatArray, lower: FloatArray,
                upper: FloatArray, usable: FloatArray, coef: FloatArray, headroom: FloatArray,
                *, extra: Any = None, integer: Any = None, method: str = "simplex",
                time_limit_s: float | None = None,
                session: HighsSession | None = None) -> Solution:
    """`solve_highs` on arrays: applicants' zone (n,), demand (n, P), cost and bounds; the
    usable reserve (P, Z); zone-level receptor coefficients (R, Z, P) and headroom (R,);
    optional applicant-level receptor entries (rows i, receptors r, values). The solution's
    ``zone_prices`` are the row duals of sum_i d_ip x_i - s_pz = 0: the price of a kg of p
    in zone z, receptors included (what an applicant's reduced cost is priced with)."""
    n = len(cost)
    n_p, n_z = usable.shape
    n_r = len(headroom)
    n_s = n_p * n_z
    d = np.asarray(demand)
    res_rows = np.arange(n_p)[None, :] * n_z + np.asarray(zone)[:, None]
    keep = d > 0
    col = np.nonzero(keep)[0]
    row = res_rows[keep]
    val = d[keep].astype(np.float64)
    if extra is not None:
        ei, er, ev = extra
        col = np.concatenate([col, ei])
        row = np.concatenate([row, n_s + er])
        val = np.concatenate([val, ev])
        order = np.argsort(col, kind="stable")
        col, row, val = col[order], row[order], val[order]
    # s columns: -1 in their own row, zone coefficients in the receptor rows
    sc, sr, sv = [np.arange(n_s)], [np.arange(n_s)], [np.full(n_s, -1.0)]
    if n_r:
        rr, zz, pp = np.nonzero(coef)
        sc.append(pp * n_z + zz)
        sr.append(n_s + rr)
        sv.append(coef[rr, zz, pp])
    scol, srow, sval = np.concatenate(sc), np.concatenate(sr), np.concatenate(sv)
    # scale each receptor row to a largest coefficient of 1: source-receptor coefficients are
    # tiny (e.g. 1e-9 per kg) and HiGHS's absolute feasibility tolerance would otherwise let
    # the rows overflow by far more than it should
    peak = np.zeros(n_r)
    for arr_row, arr_val in ((row, val), (srow, sval)):
        is_rec = arr_row >= n_s
        np.maximum.at(peak, arr_row[is_rec] - n_s, np.abs(arr_val[is_rec]))
    rec_scale = np.where(peak > 0, 1.0 / np.where(peak > 0, peak, 1.0), 1.0)
    if n_r:
        val = np.where(row >= n_s, val * rec_scale[np.maximum(row - n_s, 0)], val)
        sval = np.where(srow >= n_s, sval * rec_scale[np.maximum(srow - n_s, 0)], sval)
    order = np.argsort(scol, kind="stable")
    scol, srow, sval = scol[order], srow[order], sval[order]
    counts = np.bincount(col, minlength=n)
    s_counts = np.bincount(scol, minlength=n_s)
    start = np.zeros(n + n_s + 1, dtype=np.int64)
    np.cumsum(np.concatenate([counts, s_counts]), out=start[1:])
    index = np.concatenate([row, srow]).astype(np.int32)
    value = np.concatenate([val, sval])
    all_cost = np.concatenate([cost, np.zeros(n_s)])
    col_lower = np.concatenate([lower, np.zeros(n_s)])
    col_upper = np.concatenate([upper, np.maximum(usable, 0.0).ravel()])
    row_lower = np.concatenate([np.zeros(n_s), np.full(n_r, -highspy.kHighsInf)])
    row_upper = np.concatenate([np.zeros(n_s), headroom * rec_scale])
    mip = None
    if integer is not None:
        mip = np.concatenate([integer, np.zeros(n_s, dtype=bool)])
    sol = _highs(all_cost, col_lower, col_upper, start, index, value, row_upper,
                 row_lower=row_lower, integer=mip, method=method,
                 time_limit_s=time_limit_s, presolve=False, session=session)
    if sol.x is not None:
        sol.x = sol.x[:n]
    if sol.duals is not None and sol.col_duals is not None:
        sol.zone_prices = sol.duals[:n_s].copy()
        sol.duals = np.concatenate([sol.col_duals[n:], sol.duals[n_s:] * rec_scale])
    return sol


# --------------------------------------------------------------------------- fixing


def _zone_totals(zone: Any, d: FloatArray, x: FloatArray, n_z: int) -> FloatArray:
    """(P, Z): sum over applicants of d_ip x_i per zone."""
    return np.stack([np.bincount(zone, weights=d[:, j] * x, minlength=n_z)
                     for j in range(d.shape[1])]) if d.shape[1] else np.zeros((0, n_z))


def solve_fixing(problem: ReserveProblem, cols: Columns, lower: FloatArray, upper: FloatArray,
                 *, time_limit_s: float | None = None, sample: int = 100_000,
                 band: float = 0.03, max_rounds: int = 12) -> Solution:
    """Exact LP optimum for many applicants: sample, fix, verify.

    At an optimum all but a few columns sit at a bound, and which bound follows from the sign
    of the reduced cost c_i - d_i·pi with the zone prices pi (receptors included). So:
    (1) solve the LP on a random sample with the reserve and receptor headroom scaled to the
    sample's share: approximate prices; (2) price every column in O(nnz) numpy, keep the band
    of columns whose reduced cost is nearest zero (relative to their cost) free, fix the rest
    at the bound their sign says, and solve the LP of the band with the fixed columns' use
    moved to the right-hand side; (3) price every column with the band LP's prices: when no
    fixed column is priced to the other side, the combined point is primal feasible, dual
    feasible and complementary - optimal for the whole LP (the duality gap is reported); else
    the wrongly fixed columns join the band and (2) repeats. Whole-model HiGHS on the band is
    what makes each round fast; the band is a few per cent of the columns.
    """
    t_start = time.perf_counter()
    n, n_p, n_z = problem.n, len(problem.pollutants), len(problem.zones)
    n_r = len(problem.receptor_ids)
    d = problem.demand_kg.astype(np.float64)
    usable = problem.usable_kg.astype(np.float64)
    headroom = np.array([float(h) for h in problem.receptor_headroom])
    coef = problem.zone_coef
    zone = problem.zone
    width = np.maximum(upper - lower, 0.0)
    movable = width > 0
    scale = np.maximum(1.0, np.abs(cols.cost))
    tol = 1e-9 * scale

    def remaining() -> float | None:
        if time_limit_s is None:
            return None
        return max(0.01, time_limit_s - (time.perf_counter() - t_start))

    # (1) prices from a sample
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(n, size=min(sample, max(n // 3, 1)), replace=False))
    share = len(idx) / n
    base_use = _zone_totals(zone, d, lower, n_z)
    sub = _structured(zone[idx], d[idx], cols.cost[idx], lower[idx], upper[idx],
                      (usable - base_use) * share + _zone_totals(zone[idx], d[idx], lower[idx],
                                                                 n_z),
                      coef, headroom * share, method="simplex", time_limit_s=remaining())
    if sub.zone_prices is None:  # the scaled sample is no guide: solve the whole model
        return solve_highs(problem, cols, lower, upper, time_limit_s=remaining())
    prices = sub.zone_prices.reshape(n_p, n_z)

    def reduced(pz: FloatArray) -> FloatArray:
        return np.asarray(cols.cost - (d * pz[:, zone].T).sum(axis=1), dtype=np.float64)

    r = reduced(prices)
    k = int(min(n, max(20 * (n_p * n_z + n_r), band * n, 2000)))
    key = np.where(movable, np.abs(r) / scale, np.inf)
    free = np.zeros(n, dtype=bool)
    free[np.argpartition(key, min(k, n - 1))[:k]] = True
    free &= movable
    rounds = 0
    iterations = int(sub.detail.get("simplex_iterations", 0))
    while True:
        rounds += 1
        up = movable & ~free & (r > 0)
        x = np.where(up, upper, lower)
        fixed = ~free
        use = _zone_totals(zone[fixed], d[fixed], x[fixed], n_z)
        rec_use = (np.einsum("rzp,pz->r", coef, use) if n_r else np.zeros(0))
        left, left_rec = usable - use, headroom - rec_use
        if (left < -1e-9 * np.maximum(1.0, usable)).any() or (left_rec < -1e-12).any():
            # the columns fixed at their upper bound overfill a row: free that row's zone
            bad_z = np.nonzero((left < 0).any(axis=0))[0]
            add = up & np.isin(zone, bad_z) if len(bad_z) else up
            if not add.any() or rounds >= max_rounds:
                return solve_highs(problem, cols, lower, upper, time_limit_s=remaining())
            free |= add
            continue
        fi = np.nonzero(free)[0]
        band_sol = _structured(zone[fi], d[fi], cols.cost[fi], lower[fi], upper[fi],
                               left, coef, left_rec, method="simplex", time_limit_s=remaining())
        iterations += int(band_sol.detail.get("simplex_iterations", 0))
        if band_sol.x is None or band_sol.zone_prices is None:
            status = band_sol.status if band_sol.status != "optimal" else "not_solved"
            return Solution(status, False, None, None, None,
                            {"rounds": rounds, "engine_note": "band LP failed",
                             **band_sol.detail})
        x[fi] = band_sol.x
        prices = band_sol.zone_prices.reshape(n_p, n_z)
        r = reduced(prices)
        at_low = x <= lower + 1e-12
        at_up = x >= upper - 1e-12
        wrong = movable & (((r > tol) & ~at_up) | ((r < -tol) & ~at_low))
        if not wrong.any():
            primal = float(cols.cost @ x)
            y_rows = band_sol.duals if band_sol.duals is not None else np.zeros(0)
            s_price = y_rows[: n_p * n_z]
            w = y_rows[n_p * n_z:]
            dual = float(usable.ravel() @ np.maximum(s_price, 0) + headroom @ w
                         + np.maximum(r, 0.0) @ width + cols.cost @ lower
                         - (d * prices[:, zone].T).sum(axis=1) @ lower)
            return Solution("optimal", True, x, np.concatenate([s_price, w]), primal, {
                "rounds": rounds, "band": int(free.sum()), "sample": int(len(idx)),
                "simplex_iterations": iterations,
                "duality_gap": abs(dual - primal) / max(1.0, abs(primal)),
                "seconds": time.perf_counter() - t_start})
        if rounds >= max_rounds or (time_limit_s is not None
                                    and time.perf_counter() - t_start > time_limit_s):
            return Solution("iteration_limit" if rounds >= max_rounds else "time_limit",
                            False, x, None, float(cols.cost @ x),
                            {"rounds": rounds, "wrong_sign_columns": int(wrong.sum())})
        free |= wrong
        key = np.where(movable & ~free, np.abs(r) / scale, np.inf)
        extra = min(k // 2, int((movable & ~free).sum()))
        if extra > 0:
            free[np.argpartition(key, extra - 1)[:extra]] = True


# --------------------------------------------------------------------------- sifting


def _closest(idx: Any, r: FloatArray, scale: FloatArray, k: int) -> Any:
    """The k columns of `idx` with reduced cost nearest zero (relative to their cost)."""
    if len(idx) <= k:
        return idx
    key = np.abs(r[idx]) / scale[idx]
    return idx[np.argpartition(key, k)[:k]]


def _sub_columns(cols: Columns, idx: Any) -> tuple[Any, Any, Any]:
    """CSC arrays of the columns `idx` (vectorised gather)."""
    starts, ends = cols.start[idx], cols.start[idx + 1]
    lengths = ends - starts
    new_start = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_start[1:])
    offsets = np.repeat(starts - new_start[:-1], lengths)
    take = np.arange(new_start[-1], dtype=np.int64) + offsets
    return new_start, cols.index[take], cols.value[take]


def solve_sifting(problem: ReserveProblem, cols: Columns, lower: FloatArray, upper: FloatArray,
                  *, time_limit_s: float | None = None, max_rounds: int = 40) -> Solution:
    """Exact LP optimum by sifting with aggregate columns; see the module docstring."""
    t_start = time.perf_counter()
    n, m = problem.n, cols.n_rows
    n_z, n_p = len(problem.zones), len(problem.pollutants)
    width = np.maximum(upper - lower, 0.0)
    rhs = cols.row_upper - row_activity(problem, cols, lower)
    tol = 1e-9 * np.maximum(1.0, np.abs(cols.cost))
    scale_r = np.maximum(1.0, np.abs(cols.cost))
    movable = width > 0
    mov_idx = np.nonzero(movable)[0]
    band = max(8 * m, 2000)
    buckets = int(min(256, max(4, n // (max(n_z, 1) * 50))))
    d = problem.demand_kg.astype(np.float64)
    rec = cols.receptor_matrix
    n_r = rec.shape[1]

    # starting prices: a sample LP with right-hand sides scaled to the sample's share
    if len(mov_idx) > 4 * band:
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(mov_idx, size=band, replace=False))
        s_start, s_index, s_value = _sub_columns(cols, sample)
        s = _highs(cols.cost[sample], np.zeros(len(sample)), width[sample], s_start, s_index,
                   s_value, np.maximum(rhs * len(sample) / len(mov_idx), 0.0),
                   method="simplex", presolve=False)
        y = s.duals if s.duals is not None else np.zeros(m)
    else:
        y = np.zeros(m)
    r = reduced_costs(problem, cols, y)
    cand = np.zeros(n, dtype=bool)
    cand[_closest(mov_idx, r, scale_r, band)] = True
    rounds = 0
    result: Solution | None = None
    while True:
        rounds += 1
        # columns outside the candidates priced to rise are grouped by zone and by how
        # strongly they are priced; each group moves together (one aggregate column)
        up = movable & ~cand & (r > 0)
        u_idx = np.nonzero(up)[0]
        key = r[u_idx] / scale_r[u_idx]
        if len(u_idx):
            edges = np.quantile(key, np.linspace(0, 1, buckets + 1)[1:-1])
            bucket = np.searchsorted(edges, key)
        else:
            bucket = np.zeros(0, dtype=np.int64)
        group = problem.zone[u_idx] * buckets + bucket
        n_g = n_z * buckets
        w = width[u_idx]
        g_vals = np.empty((n_g, n_p + n_r))
        for j in range(n_p):
            g_vals[:, j] = np.bincount(group, weights=d[u_idx, j] * w, minlength=n_g)
        for k in range(n_r):
            g_vals[:, n_p + k] = np.bincount(group, weights=rec[u_idx, k] * w, minlength=n_g)
        g_cost = np.bincount(group, weights=cols.cost[u_idx] * w, minlength=n_g)
        g_zone = np.arange(n_g) // buckets
        g_rows = np.concatenate([np.arange(n_p)[None, :] * n_z + g_zone[:, None],
                                 np.broadcast_to(n_p * n_z + np.arange(n_r), (n_g, n_r))], axis=1)
        keep = g_vals != 0
        g_start = np.zeros(n_g + 1, dtype=np.int64)
        np.cumsum(keep.sum(axis=1), out=g_start[1:])

        c_idx = np.nonzero(cand)[0]
        s_start, s_index, s_value = _sub_columns(cols, c_idx)
        start = np.concatenate([s_start, s_start[-1] + g_start[1:]])
        index = np.concatenate([s_index, g_rows[keep].astype(np.int32)])
        value = np.concatenate([s_value, g_vals[keep]])
        cost = np.concatenate([cols.cost[c_idx], g_cost])
        col_upper = np.concatenate([width[c_idx], np.ones(n_g)])
        remaining = None
        if time_limit_s is not None:
            remaining = max(0.01, time_limit_s - (time.perf_counter() - t_start))
        sub = _highs(cost, np.zeros(len(cost)), col_upper, start, index, value, rhs,
                     method="simplex", time_limit_s=remaining, presolve=False)
        if sub.x is None or sub.duals is None:
            result = Solution(sub.status, False, None, None, None, {"rounds": rounds, **sub.detail})
            break
        y = sub.duals
        theta = sub.x[len(c_idx):]
        z = np.zeros(n)
        z[c_idx] = sub.x[: len(c_idx)]
        z[u_idx] = theta[group] * w
        r = reduced_costs(problem, cols, y)
        # optimality: every column's reduced cost agrees with where it sits
        at_low = z <= 1e-12
        at_up = z >= width - 1e-12
        wrong = movable & (((r > tol) & ~at_up) | ((r < -tol) & ~at_low))
        if not wrong.any():
            x = lower + z
            primal = float(cols.cost @ x)
            dual = float(rhs @ y + np.maximum(r, 0.0) @ width + cols.cost @ lower)
            result = Solution("optimal", True, x, y, primal, {
                "rounds": rounds, "candidates": int(cand.sum()),
                "duality_gap": abs(dual - primal) / max(1.0, abs(primal)),
            })
            break
        if rounds >= max_rounds or (
            time_limit_s is not None and time.perf_counter() - t_start > time_limit_s
        ):
            x = lower + z
            result = Solution("iteration_limit" if rounds >= max_rounds else "time_limit",
                              False, x, None, float(cols.cost @ x),
                              {"rounds": rounds, "wrong_sign_columns": int(wrong.sum())})
            break
        # next candidates: columns strictly inside their bounds, every column priced to the
        # wrong side, and the band closest to zero reduced cost
        inside = movable & ~at_low & ~at_up
        cand = inside | wrong
        cand[_closest(mov_idx, r, scale_r, band)] = True
    result.detail["seconds"] = time.perf_counter() - t_start
    return result


# --------------------------------------------------------------------------- PuLP (idiomatic)


def _variable(prob: Any, name: str, lo: float, up: float, cat: str) -> Any:
    """A PuLP variable attached to `prob` (PuLP 4 style when available)."""
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lowBound=lo, upBound=up, cat=cat)
    return pulp.LpVariable(name, lowBound=lo, upBound=up, cat=cat)


def _constraint(prob: Any, name: str) -> Any:
    if hasattr(prob, "get_constraint_by_name"):
        return prob.get_constraint_by_name(name)
    return prob.constraints[name]


def solve_pulp(problem: ReserveProblem, cols: Columns, lower: FloatArray, upper: FloatArray,
               *, solver: str = "HiGHS", time_limit_s: float | None = None) -> Solution:
    """The readable model: one LpVariable per applicant, one lpSum per constraint."""
    prob = pulp.LpProblem("reserve_release", pulp.LpMaximize)
    x = []
    for i in range(problem.n):
        if problem.all_or_nothing[i]:
            x.append(_variable(prob, f"x_{i}", float(lower[i]), 1.0 if upper[i] >= 1 else 0.0,
                               pulp.LpBinary))
        else:
            x.append(_variable(prob, f"x_{i}", float(lower[i]), float(upper[i]),
                               pulp.LpContinuous))
    prob += pulp.lpSum(float(cols.cost[i]) * x[i] for i in range(problem.n))
    usable = problem.usable_kg
    names: list[str] = []
    for j in range(len(problem.pollutants)):
        for k in range(len(problem.zones)):
            name = f"reserve_{j}_{k}"
            members = [i for i in np.nonzero(problem.zone == k)[0].tolist()
                       if problem.demand_kg[i, j] > 0]
            prob += (pulp.lpSum(int(problem.demand_kg[i, j]) * x[i] for i in members)
                     <= int(usable[j, k]), name)
            names.append(name)
    rec = cols.receptor_matrix
    for r in range(len(problem.receptor_ids)):
        name = f"receptor_{r}"
        prob += (pulp.lpSum(float(rec[i, r]) * x[i] for i in range(problem.n) if rec[i, r])
                 <= float(problem.receptor_headroom[r]), name)
        names.append(name)
    if solver == "CBC":
        with warnings.catch_warnings():  # the bundled CBC binary is what this platform ships
            warnings.simplefilter("ignore", DeprecationWarning)
            engine: Any = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)
    else:
        engine = pulp.HiGHS(msg=False, timeLimit=time_limit_s)
    prob.solve(engine)
    status_text = pulp.LpStatus[prob.status]
    status = {"Optimal": "optimal", "Infeasible": "infeasible"}.get(status_text, "not_solved")
    # a variable in no constraint with zero cost is dropped by PuLP: it stays at its lower bound
    values = np.array([v.value() if v.value() is not None else lower[i]
                       for i, v in enumerate(x)], dtype=float)
    has_x = status == "optimal"
    mip = bool(problem.all_or_nothing.any())
    duals = None
    if status == "optimal" and not mip:
        # <= rows of a maximisation have non-negative duals; PuLP's HiGHS binding reports
        # them negated, CBC does not: take the magnitude.
        duals = np.abs(np.array([_constraint(prob, nm).pi or 0.0 for nm in names], dtype=float))
    objective = pulp.value(prob.objective) if has_x else None
    return Solution(status, status == "optimal", values if has_x else None, duals,
                    float(objective) if objective is not None else None,
                    {"pulp_status": status_text, "pulp_solver": solver})


# --------------------------------------------------------------------------- end to end


def optimise(problem: ReserveProblem, *, engine: str = "auto", method: str = "simplex",
             time_limit_s: float | None = None, include_grants: bool = True) -> dict[str, Any]:
    """Solve, round to kg, re-check; a JSON-able report (see `optimise_json`)."""
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ReserveInputError(f"engine must be one of {', '.join(ENGINES)}",
                                field="solver.engine")
    if method not in HIGHS_METHODS:
        raise ReserveInputError(f"method must be one of {', '.join(HIGHS_METHODS)}",
                                field="solver.method")
    report: dict[str, Any] = {"objective": problem.objective, "applicants": problem.n}
    conflicts = diagnose(problem)
    if conflicts:
        report.update({
            "status": "infeasible", "proven_optimal": False, "plan": None,
            "diagnosis": {
                "summary": "; ".join(c.message for c in conflicts),
                "conflicts": [c.__dict__ for c in conflicts],
            },
        })
        report["seconds"] = time.perf_counter() - t0
        return report
    mip = bool(problem.all_or_nothing.any())
    plain_lp = not mip and not problem.applicant_coef
    if engine == "auto":
        chosen = "fixing" if plain_lp and problem.n >= FIXING_FROM else "highs"
    elif (engine == "sifting" and mip) or (engine == "fixing" and not plain_lp):
        chosen = "highs"
    else:
        chosen = engine
    cols = build_columns(problem, matrix=chosen == "sifting")
    lower, upper = problem.bounds()
    if problem.objective == "max_min":
        share = max_min_share(problem, cols)
        fair = ~problem.all_or_nothing
        lower = np.where(fair, np.maximum(lower, share * upper), lower)
        report["fair_share"] = share
    t_build = time.perf_counter() - t0
    if chosen == "sifting":
        sol = solve_sifting(problem, cols, lower, upper, time_limit_s=time_limit_s)
    elif chosen == "fixing":
        sol = solve_fixing(problem, cols, lower, upper, time_limit_s=time_limit_s)
    elif chosen == "highs":
        sol = solve_highs(problem, cols, lower, upper, method=method, time_limit_s=time_limit_s)
    else:
        sol = solve_pulp(problem, cols, lower, upper,
                         solver="CBC" if chosen == "pulp_cbc" else "HiGHS",
                         time_limit_s=time_limit_s)
    t_solve = time.perf_counter() - t0 - t_build
    report.update({
        "status": sol.status, "proven_optimal": sol.proven_optimal,
        "solver": {"engine": chosen, "method": method if chosen == "highs" else None,
                   "mip": mip, **sol.detail},
        "objective_value": sol.objective,
    })
    if sol.status != "optimal":
        report["note"] = ("the solver stopped without proof of optimality"
                          if sol.x is not None else "the solver found no plan")
    if sol.x is None:
        report["plan"] = None
        report["seconds"] = time.perf_counter() - t0
        return report
    x = np.clip(sol.x, lower, upper)
    grants, taken_back = round_plan(problem, x)
    violations = check_plan(problem, grants)
    usable = problem.usable_kg
    used = np.zeros_like(usable)
    for j in range(len(problem.pollutants)):
        np.add.at(used[j], problem.zone, grants[:, j])
    n_pz = len(problem.pollutants) * len(problem.zones)
    reserve_rows = []
    for j, p in enumerate(problem.pollutants):
        for k, z in enumerate(problem.zones):
            price = (None if sol.duals is None
                     else float(sol.duals[j * len(problem.zones) + k]) + 0.0)
            reserve_rows.append({
                "pollutant": p.value, "zone": z,
                "available_kg": int(problem.available_kg[j, k]),
                "retained_kg": int(problem.retained_kg[j, k]), "usable_kg": int(usable[j, k]),
                "granted_kg": int(used[j, k]), "left_kg": int(usable[j, k] - used[j, k]),
                "shadow_price": price,
            })
    report.update({
        "reserve": reserve_rows,
        "receptors": [
            {"id": rid, "headroom": str(problem.receptor_headroom[r]),
             "shadow_price": None if sol.duals is None else float(sol.duals[n_pz + r]) + 0.0}
            for r, rid in enumerate(problem.receptor_ids)
        ],
        "check": {"ok": not violations, "violations": [v.__dict__ for v in violations],
                  "kg_taken_back_in_rounding": taken_back,
                  "max_rounding_kg": proportionality_gap(problem, grants, x)},
        "granted_total_kg": {p.value: int(grants[:, j].sum())
                             for j, p in enumerate(problem.pollutants)},
        "timing": {"build_s": t_build, "solve_s": t_solve,
                   "round_check_s": time.perf_counter() - t0 - t_build - t_solve},
    })
    if include_grants:
        report["grants"] = [
            {"id": aid, "fraction": round(float(x[i]), 9),
             "granted_kg": {p.value: int(grants[i, j])
                            for j, p in enumerate(problem.pollutants)
                            if problem.demand_kg[i, j] > 0}}
            for i, aid in enumerate(problem.ids)
        ]
    report["seconds"] = time.perf_counter() - t0
    return report


def optimise_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Parse, solve, round, re-check: the CLI/API entry point. Bad input: ReserveInputError."""
    problem = parse_problem(doc)
    opts = doc.get("solver") or {}
    if not isinstance(opts, Mapping):
        raise ReserveInputError("solver must be an object", field="solver")
    for key in opts:
        if key not in ("engine", "method", "time_limit_s"):
            raise ReserveInputError(f"unknown solver option {key!r}", field=f"solver.{key}")
    limit = opts.get("time_limit_s")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float)
                              or limit <= 0):
        raise ReserveInputError("time_limit_s must be a positive number",
                                field="solver.time_limit_s")
    return optimise(problem, engine=opts.get("engine", "auto"),
                    method=opts.get("method", "simplex"),
                    time_limit_s=float(limit) if limit is not None else None)


@dataclass
class PlanArrays:
    """A solved, rounded and re-checked plan as arrays (scenario runs and sweeps)."""

    status: str
    proven_optimal: bool
    grants: Any  # (n, P) int64 kg, or None without a plan
    check_ok: bool
    detail: dict[str, Any]


def plan_arrays(problem: ReserveProblem, *, solver: HighsSession | None = None,
                time_limit_s: float | None = None) -> PlanArrays:
    """`optimise` without the JSON report: HiGHS (reusing `solver` when given), rounding to
    kg and the exact re-check. An infeasible problem returns its diagnosis in ``detail``."""
    conflicts = diagnose(problem)
    if conflicts:
        return PlanArrays("infeasible", False, None, False,
                          {"diagnosis": "; ".join(c.message for c in conflicts)})
    cols = build_columns(problem, matrix=False)
    lower, upper = problem.bounds()
    detail: dict[str, Any] = {}
    if problem.objective == "max_min":
        share = max_min_share(problem, cols)
        fair = ~problem.all_or_nothing
        lower = np.where(fair, np.maximum(lower, share * upper), lower)
        detail["fair_share"] = share
    sol = solve_highs(problem, cols, lower, upper, time_limit_s=time_limit_s, session=solver)
    detail |= {"objective_value": sol.objective, **sol.detail}
    if sol.x is None:
        return PlanArrays(sol.status, False, None, False, detail)
    x = np.clip(sol.x, lower, upper)
    grants, taken = round_plan(problem, x)
    violations = check_plan(problem, grants)
    detail["kg_taken_back_in_rounding"] = taken
    if violations:
        detail["violations"] = [v.__dict__ for v in violations[:20]]
    return PlanArrays(sol.status, sol.proven_optimal, grants, not violations, detail)
