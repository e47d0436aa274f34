"""Releasing reserve rights to applicants: the problem, the plan and their exact checks.

This module is pure (stdlib, kernel, numpy); `allocation.reserve_lp` solves the problem.

The problem. Applicant i asks for a demand vector d_i (kg per pollutant) in one trading zone and
is granted a fraction x_i of it, the same for every pollutant:

- x_i in [l_i, u_i]: l_i is its guaranteed minimum fraction, u_i = min(1, EIA_ip / d_ip,
  headroom_ip / d_ip) folds its EIA approval and its permit-cap headroom into one bound;
  with ``all_or_nothing`` x_i is 0 or 1;
- reserve: for each pollutant p and zone z, sum over applicants in z of d_ip x_i <= usable_pz,
  usable = available - retained, retained = ceil(available × retained_share) (the strategic
  share is kept whole);
- ambient quality: for each receptor r, sum over i, p of coef_rip d_ip x_i <= headroom_r, with
  source-receptor coefficients per zone (``zone_coefficients``) and/or per applicant;
- objective ``priority``: maximise sum_i priority_i × sum_p weight_p d_ip x_i; or ``max_min``:
  first the largest share t with x_i >= t·u_i for every applicant (computed exactly by bisection
  on a monotone function, see `max_min_share`), then the priority objective with that floor.

Every coefficient is non-negative, so the problem is feasible iff granting every applicant its
minimum fits every constraint: `diagnose` evaluates exactly that and, when it fails, names each
violated constraint with a smallest set of minimum guarantees that alone overflow it.

The plan. `round_plan` turns solver fractions into whole kilograms (floor, after snapping
values within 1e-6 kg of an integer), then repairs any constraint a solver tolerance left
overfull by taking back kilograms from the lowest-priority grants. `check_plan` re-checks a
plan in exact integer / Decimal arithmetic; a plan is reported only with its check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from allocation.errors import ReserveInputError
from kernel.pollutants import Pollutant, find_pollutant
from kernel.quantities import decimal_field

OBJECTIVES = ("priority", "max_min")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SNAP = 1e-6  # kg: solver values this close to an integer are that integer
_MAX_KG = 10**15  # every sum of kg stays exact in float64 (< 2^53)


@dataclass(frozen=True, eq=False)
class ReserveProblem:
    """A columnar reserve-release problem: n applicants, P pollutants, Z zones, R receptors."""

    ids: tuple[str, ...]
    pollutants: tuple[Pollutant, ...]
    zones: tuple[str, ...]
    zone: IntArray  # (n,) zone index of each applicant
    demand_kg: IntArray  # (n, P)
    limit_kg: IntArray  # (n, P) min(demand, EIA approval, cap headroom)
    min_fraction: FloatArray  # (n,) guaranteed minimum fraction
    min_kg: IntArray  # (n, P) floor(min_fraction × demand), exact
    priority: FloatArray  # (n,)
    all_or_nothing: BoolArray  # (n,)
    available_kg: IntArray  # (P, Z)
    retained_kg: IntArray  # (P, Z)
    pollutant_weight: FloatArray  # (P,)
    receptor_ids: tuple[str, ...] = ()
    receptor_headroom: tuple[Decimal, ...] = ()
    zone_coef: FloatArray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # (R, Z, P)
    zone_coef_exact: Mapping[tuple[int, int, int], Decimal] = field(default_factory=dict)
    applicant_coef: tuple[tuple[int, int, int, Decimal], ...] = ()  # (r, i, p, coef)
    objective: str = "priority"

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def usable_kg(self) -> IntArray:
        return self.available_kg - self.retained_kg

    def row_names(self) -> list[str]:
        names = [f"reserve {p.value}/{z}" for p in self.pollutants for z in self.zones]
        return names + [f"receptor {r}" for r in self.receptor_ids]

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """(l, u): bounds on each applicant's fraction, EIA and headroom folded into u."""
        d = self.demand_kg.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.demand_kg > 0, self.limit_kg / np.where(d > 0, d, 1.0), np.inf)
        upper = np.minimum(1.0, ratio.min(axis=1)) if self.pollutants else np.ones(self.n)
        upper[~(self.demand_kg > 0).any(axis=1)] = 0.0
        lower = self.min_fraction.copy()
        lower[self.all_or_nothing & (lower > 0)] = 1.0
        return lower, upper


# --------------------------------------------------------------------------- parsing


def _err(message: str, field: str) -> ReserveInputError:
    return ReserveInputError(message, field=field)


def _dec(value: Any, fld: str, *, lo: Decimal | None = Decimal(0), hi: Decimal | None = None,
         ) -> Decimal:
    return decimal_field(value, fld, _err, lo=lo, hi=hi)


def _kg(value: Any, fld: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(f"{fld} must be a whole number of kg", fld)
    if not 0 <= value <= _MAX_KG:
        raise _err(f"{fld} must be between 0 and {_MAX_KG} kg", fld)
    return value


def _obj(value: Any, fld: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _err(f"{fld} must be an object", fld)
    return value


def _list(value: Any, fld: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise _err(f"{fld} must be a list", fld)
    return value


def _pollutant(text: Any, fld: str) -> Pollutant:
    found = find_pollutant(text)
    if found is None:
        raise _err(f"unknown pollutant {text!r}", fld)
    return found


def _share_retained(available: int, share: Decimal) -> int:
    return int((available * share).to_integral_value(rounding=ROUND_CEILING))


def parse_problem(doc: Mapping[str, Any]) -> ReserveProblem:
    """A `ReserveProblem` from its JSON form; bad input raises `ReserveInputError`."""
    doc = _obj(doc, "$")
    known = {"objective", "retained_share", "reserve", "applicants", "receptors",
             "pollutant_weights", "all_or_nothing", "solver", "name", "notes"}
    for key in doc:
        if key not in known:
            raise _err(f"unknown key {key!r}", str(key))
    objective = doc.get("objective", "priority")
    if objective not in OBJECTIVES:
        raise _err(f"objective must be one of {', '.join(OBJECTIVES)}", "objective")
    default_share = _dec(doc.get("retained_share", "0"), "retained_share", hi=Decimal(1))
    default_aon = doc.get("all_or_nothing", False)
    if not isinstance(default_aon, bool):
        raise _err("all_or_nothing must be true or false", "all_or_nothing")

    # reserve rows
    reserve_raw = _list(doc.get("reserve"), "reserve")
    entries: dict[tuple[Pollutant, str], tuple[int, Decimal]] = {}
    for k, raw in enumerate(reserve_raw):
        at = f"reserve[{k}]"
        e = _obj(raw, at)
        p = _pollutant(e.get("pollutant"), f"{at}.pollutant")
        zone = e.get("zone")
        if not isinstance(zone, str) or not zone:
            raise _err("zone must be a non-empty string", f"{at}.zone")
        if (p, zone) in entries:
            raise _err(f"reserve {p.value}/{zone} listed twice", at)
        share = (_dec(e["retained_share"], f"{at}.retained_share", hi=Decimal(1))
                 if "retained_share" in e else default_share)
        entries[(p, zone)] = (_kg(e.get("available_kg"), f"{at}.available_kg"), share)

    # applicants
    apps = _list(doc.get("applicants"), "applicants")
    ids: list[str] = []
    seen: set[str] = set()
    zone_names = sorted({z for _, z in entries})
    pollutants_used: set[Pollutant] = {p for p, _ in entries}
    parsed: list[dict[str, Any]] = []
    for i, raw in enumerate(apps):
        at = f"applicants[{i}]"
        a = _obj(raw, at)
        aid = a.get("id")
        if not isinstance(aid, str) or not aid:
            raise _err("id must be a non-empty string", f"{at}.id")
        if aid in seen:
            raise _err(f"applicant {aid} listed twice", f"{at}.id")
        seen.add(aid)
        ids.append(aid)
        zone = a.get("zone")
        if not isinstance(zone, str) or zone not in zone_names:
            raise _err(f"zone {zone!r} has no reserve", f"{at}.zone")
        demand = {}
        for key, v in _obj(a.get("demand_kg"), f"{at}.demand_kg").items():
            p = _pollutant(key, f"{at}.demand_kg.{key}")
            if (p, zone) not in entries:
                raise _err(f"no {p.value} reserve in zone {zone}", f"{at}.demand_kg.{key}")
            demand[p] = _kg(v, f"{at}.demand_kg.{key}")
        bounds: dict[Pollutant, int] = {}
        for name in ("eia_kg", "cap_headroom_kg"):
            if a.get(name) is None:
                continue
            for key, v in _obj(a[name], f"{at}.{name}").items():
                p = _pollutant(key, f"{at}.{name}.{key}")
                q = _kg(v, f"{at}.{name}.{key}")
                bounds[p] = min(bounds.get(p, q), q)
        aon = a.get("all_or_nothing", default_aon)
        if not isinstance(aon, bool):
            raise _err("all_or_nothing must be true or false", f"{at}.all_or_nothing")
        parsed.append({
            "zone": zone_names.index(zone), "demand": demand, "bounds": bounds,
            "priority": _dec(a.get("priority", 1), f"{at}.priority"),
            "min_fraction": _dec(a.get("min_fraction", 0), f"{at}.min_fraction", hi=Decimal(1)),
            "aon": aon,
        })
    pollutants = tuple(p for p in Pollutant if p in pollutants_used)
    n, n_p, n_z = len(ids), len(pollutants), len(zone_names)
    demand_kg = np.zeros((n, n_p), dtype=np.int64)
    limit_kg = np.zeros((n, n_p), dtype=np.int64)
    min_kg = np.zeros((n, n_p), dtype=np.int64)
    for i, a in enumerate(parsed):
        for j, p in enumerate(pollutants):
            d = a["demand"].get(p, 0)
            demand_kg[i, j] = d
            limit_kg[i, j] = min(d, a["bounds"].get(p, d))
            min_kg[i, j] = int((a["min_fraction"] * d).to_integral_value(rounding=ROUND_FLOOR))
    available = np.zeros((n_p, n_z), dtype=np.int64)
    retained = np.zeros((n_p, n_z), dtype=np.int64)
    for (p, z), (avail, share) in entries.items():
        j, k = pollutants.index(p), zone_names.index(z)
        available[j, k] = avail
        retained[j, k] = _share_retained(avail, share)

    weights = np.ones(n_p)
    if doc.get("pollutant_weights") is not None:
        for key, v in _obj(doc["pollutant_weights"], "pollutant_weights").items():
            p = _pollutant(key, f"pollutant_weights.{key}")
            if p in pollutants:
                weights[pollutants.index(p)] = float(_dec(v, f"pollutant_weights.{key}"))

    # receptors
    receptor_ids: list[str] = []
    headrooms: list[Decimal] = []
    zone_coef = np.zeros((0, n_z, n_p))
    zone_exact: dict[tuple[int, int, int], Decimal] = {}
    app_coef: list[tuple[int, int, int, Decimal]] = []
    if doc.get("receptors") is not None:
        recs = _list(doc["receptors"], "receptors")
        zone_coef = np.zeros((len(recs), n_z, n_p))
        index = {aid: i for i, aid in enumerate(ids)}
        for r, raw in enumerate(recs):
            at = f"receptors[{r}]"
            e = _obj(raw, at)
            rid = e.get("id")
            if not isinstance(rid, str) or not rid or rid in receptor_ids:
                raise _err("receptor id must be a unique non-empty string", f"{at}.id")
            receptor_ids.append(rid)
            headrooms.append(_dec(e.get("headroom"), f"{at}.headroom", lo=None))
            for z, coefs in _obj(e.get("zone_coefficients", {}), f"{at}.zone_coefficients").items():
                if z not in zone_names:
                    raise _err(f"unknown zone {z!r}", f"{at}.zone_coefficients.{z}")
                for key, v in _obj(coefs, f"{at}.zone_coefficients.{z}").items():
                    where = f"{at}.zone_coefficients.{z}.{key}"
                    p = _pollutant(key, where)
                    c = _dec(v, where)
                    if p in pollutants and c:
                        zone_coef[r, zone_names.index(z), pollutants.index(p)] = float(c)
                        zone_exact[(r, zone_names.index(z), pollutants.index(p))] = c
            for aid, coefs in _obj(e.get("coefficients", {}), f"{at}.coefficients").items():
                if aid not in index:
                    raise _err(f"unknown applicant {aid!r}", f"{at}.coefficients.{aid}")
                for key, v in _obj(coefs, f"{at}.coefficients.{aid}").items():
                    where = f"{at}.coefficients.{aid}.{key}"
                    p = _pollutant(key, where)
                    c = _dec(v, where)
                    if p in pollutants and c:
                        app_coef.append((r, index[aid], pollutants.index(p), c))
    return ReserveProblem(
        ids=tuple(ids), pollutants=pollutants, zones=tuple(zone_names),
        zone=np.array([a["zone"] for a in parsed], dtype=np.int64),
        demand_kg=demand_kg, limit_kg=limit_kg,
        min_fraction=np.array([float(a["min_fraction"]) for a in parsed], dtype=np.float64),
        min_kg=min_kg,
        priority=np.array([float(a["priority"]) for a in parsed], dtype=np.float64),
        all_or_nothing=np.array([a["aon"] for a in parsed], dtype=bool),
        available_kg=available, retained_kg=retained, pollutant_weight=weights,
        receptor_ids=tuple(receptor_ids), receptor_headroom=tuple(headrooms),
        zone_coef=zone_coef, zone_coef_exact=zone_exact, applicant_coef=tuple(app_coef),
        objective=objective,
    )


# --------------------------------------------------------------------------- LP columns


@dataclass(frozen=True, eq=False)
class Columns:
    """The LP in column form: maximise cost·x, A x <= row_upper, lower <= x <= upper."""

    cost: FloatArray  # (n,)
    start: IntArray  # (n + 1,) CSC column starts
    index: npt.NDArray[np.int32]  # row of each non-zero
    value: FloatArray
    row_upper: FloatArray  # (m,)
    receptor_matrix: FloatArray  # (n, R) receptor row coefficients, dense
    n_rows: int


def receptor_matrix(problem: ReserveProblem) -> FloatArray:
    """(n, R): each applicant's contribution per unit fraction to each receptor."""
    n_r = len(problem.receptor_ids)
    d = problem.demand_kg.astype(np.float64)
    out = np.zeros((problem.n, n_r))
    if n_r:
        by_zone = np.transpose(problem.zone_coef, (1, 2, 0))  # (Z, P, R)
        for j in range(len(problem.pollutants)):
            out += d[:, j, None] * by_zone[problem.zone, j, :]
    for r, i, p, c in problem.applicant_coef:
        out[i, r] += float(c) * d[i, p]
    return out


def build_columns(problem: ReserveProblem, *, matrix: bool = True) -> Columns:
    """The constraint matrix, built column-wise with numpy (no per-applicant Python loop).

    With ``matrix=False`` only costs, right-hand sides and the receptor matrix are built
    (enough for `row_activity`, `reduced_costs` and the HiGHS path, which builds its own).
    """
    n, n_p, n_z = problem.n, len(problem.pollutants), len(problem.zones)
    n_r = len(problem.receptor_ids)
    d = problem.demand_kg.astype(np.float64)
    rec = receptor_matrix(problem)
    row_upper = np.concatenate([
        problem.usable_kg.astype(np.float64).ravel(),
        np.array([float(h) for h in problem.receptor_headroom], dtype=np.float64),
    ])
    cost = problem.priority * (d @ problem.pollutant_weight) if n_p else np.zeros(n)
    if not matrix:
        return Columns(cost=cost, start=np.zeros(1, dtype=np.int64),
                       index=np.zeros(0, dtype=np.int32), value=np.zeros(0),
                       row_upper=row_upper, receptor_matrix=rec, n_rows=n_p * n_z + n_r)
    res_rows = np.arange(n_p)[None, :] * n_z + problem.zone[:, None]  # (n, P)
    rows = np.concatenate(
        [np.where(problem.demand_kg > 0, res_rows, -1),
         np.where(rec != 0, n_p * n_z + np.arange(n_r)[None, :], -1)], axis=1)
    vals = np.concatenate([d, rec], axis=1)
    keep = rows >= 0
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=start[1:])
    return Columns(cost=cost, start=start, index=rows[keep].astype(np.int32),
                   value=vals[keep], row_upper=row_upper, receptor_matrix=rec,
                   n_rows=n_p * n_z + n_r)


def row_activity(problem: ReserveProblem, cols: Columns, x: FloatArray) -> FloatArray:
    """A x, by the problem's structure (O(nnz) numpy)."""
    n_p, n_z = len(problem.pollutants), len(problem.zones)
    out = np.zeros(cols.n_rows)
    d = problem.demand_kg.astype(np.float64)
    for j in range(n_p):
        out[j * n_z:(j + 1) * n_z] = np.bincount(problem.zone, weights=d[:, j] * x,
                                                 minlength=n_z)
    if cols.receptor_matrix.shape[1]:
        out[n_p * n_z:] = x @ cols.receptor_matrix
    return out


def reduced_costs(problem: ReserveProblem, cols: Columns, y: FloatArray) -> FloatArray:
    """c_i - a_i·y for every applicant (row prices y), by structure."""
    n_p, n_z = len(problem.pollutants), len(problem.zones)
    y_res = y[: n_p * n_z].reshape(n_p, n_z)
    priced = (problem.demand_kg * y_res[:, problem.zone].T).sum(axis=1)
    if cols.receptor_matrix.shape[1]:
        priced = priced + cols.receptor_matrix @ y[n_p * n_z:]
    return np.asarray(cols.cost - priced, dtype=np.float64)


# --------------------------------------------------------------------------- feasibility


@dataclass(frozen=True)
class Conflict:
    constraint: str
    limit: str
    required: str
    applicants: tuple[str, ...]
    message: str


def diagnose(problem: ReserveProblem) -> list[Conflict]:
    """Conflicts that make the problem infeasible (empty list: feasible).

    Exact: minimum grants d_ip × min_fraction_i are evaluated in Decimal against every row.
    For each violated row the reported applicants are a smallest set of minimum guarantees
    whose sum alone exceeds the row's limit (largest first gives the fewest).
    """
    conflicts: list[Conflict] = []
    lower, upper = problem.bounds()
    for i in np.nonzero(lower > upper + 1e-12)[0].tolist():
        conflicts.append(Conflict(
            constraint=f"applicant {problem.ids[i]}", limit=f"{upper[i]:.6f}",
            required=f"{lower[i]:.6f}", applicants=(problem.ids[i],),
            message=(f"applicant {problem.ids[i]}: guaranteed fraction {lower[i]:.6g} exceeds "
                     f"what its EIA approval and cap headroom allow ({upper[i]:.6g})"
                     + (" (all-or-nothing)" if problem.all_or_nothing[i] else "")),
        ))
    need = np.nonzero(lower > 0)[0].tolist()
    eff = {i: (Decimal(1) if problem.all_or_nothing[i]
               else Decimal(repr(float(problem.min_fraction[i])))) for i in need}
    usable = problem.usable_kg
    n_z = len(problem.zones)
    if not need:  # nothing is guaranteed: only a limit below zero can conflict
        near = np.concatenate([usable.ravel() < 0,
                               np.array([h < 0 for h in problem.receptor_headroom], dtype=bool)])
    else:
        # float pre-screen: only rows the minimum grants nearly fill are checked exactly
        cols = build_columns(problem, matrix=False)
        act = row_activity(problem, cols, lower)
        near = act >= cols.row_upper - 1e-6 * np.maximum(1.0, np.abs(cols.row_upper)) - 1.0
    for j, p in enumerate(problem.pollutants):
        for k, z in enumerate(problem.zones):
            if not near[j * n_z + k]:
                continue
            members = [(eff[i] * int(problem.demand_kg[i, j]), i) for i in need
                       if problem.zone[i] == k and problem.demand_kg[i, j] > 0]
            conflicts.extend(_row_conflict(f"reserve {p.value}/{z}", Decimal(int(usable[j, k])),
                                           members, problem, f"{p.value} in zone {z}"))
    for r, rid in enumerate(problem.receptor_ids):
        if not near[len(problem.pollutants) * n_z + r]:
            continue
        contrib: dict[int, Decimal] = {}
        for i in need:
            total = Decimal(0)
            for j in range(len(problem.pollutants)):
                c = problem.zone_coef_exact.get((r, int(problem.zone[i]), j))
                if c:
                    total += c * int(problem.demand_kg[i, j])
            contrib[i] = total
        for rr, i, j, c in problem.applicant_coef:
            if rr == r and i in contrib:
                contrib[i] += c * int(problem.demand_kg[i, j])
        members = [(eff[i] * contrib[i], i) for i in need if contrib[i] > 0]
        conflicts.extend(_row_conflict(f"receptor {rid}", problem.receptor_headroom[r], members,
                                       problem, f"ambient headroom at {rid}"))
    return conflicts


def _row_conflict(name: str, limit: Decimal, members: list[tuple[Decimal, int]],
                  problem: ReserveProblem, what: str) -> list[Conflict]:
    required = sum((q for q, _ in members), Decimal(0))
    if required <= limit:
        return []
    chosen: list[int] = []
    acc = Decimal(0)
    for q, i in sorted(members, key=lambda m: (-m[0], m[1])):
        if acc > limit:
            break
        chosen.append(i)
        acc += q
    names = tuple(problem.ids[i] for i in chosen)
    if limit < 0:
        message = f"{name}: the limit is already exceeded ({limit}) before any grant"
        names = ()
    else:
        message = (f"{name}: minimum guaranteed grants need {required.normalize():f} but only "
                   f"{limit.normalize():f} is available ({what}); the guarantees of "
                   f"{', '.join(names)} alone exceed it")
    return [Conflict(constraint=name, limit=f"{limit.normalize():f}",
                     required=f"{required.normalize():f}", applicants=names, message=message)]


# --------------------------------------------------------------------------- max-min


def max_min_share(problem: ReserveProblem, cols: Columns, iterations: int = 60) -> float:
    """The largest t in [0, 1] such that x_i = max(l_i, t·u_i) fits every row.

    Row activity is non-decreasing in t, so bisection finds it; the returned t is on the
    feasible side. All-or-nothing applicants take no part in the fairness floor.
    """
    lower, upper = problem.bounds()
    fair = ~problem.all_or_nothing
    # strictly inside, with a margin, so that the floors it sets never trouble the solver
    margin = 1e-9 * np.maximum(1.0, np.abs(cols.row_upper))

    def fits(t: float) -> bool:
        x = np.where(fair, np.maximum(lower, t * upper), lower)
        return bool(np.all(row_activity(problem, cols, x) <= cols.row_upper - margin))

    if not fits(0.0):
        return 0.0
    if fits(1.0):
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------- rounding and check


def round_plan(problem: ReserveProblem, x: FloatArray) -> tuple[IntArray, int]:
    """Whole-kg grants from fractions, repaired to fit exactly; (grants, kg taken back)."""
    d = problem.demand_kg
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    raw = d * x[:, None]
    g = np.floor(raw + _SNAP).astype(np.int64)
    aon = problem.all_or_nothing
    if aon.any():
        g[aon] = np.where(x[aon, None] > 0.5, d[aon], 0)
    g = np.minimum(g, problem.limit_kg)
    g = np.maximum(g, np.where(aon[:, None], 0, np.minimum(problem.min_kg, problem.limit_kg)))
    taken = _repair(problem, g)
    return g, taken


def _repair(problem: ReserveProblem, g: IntArray) -> int:
    """Take back kilograms where a row is overfull (solver tolerance), lowest priority first."""
    taken = 0
    order = np.lexsort((-np.arange(problem.n), problem.priority))  # low priority, late index
    usable = problem.usable_kg
    for j in range(len(problem.pollutants)):
        used = np.bincount(problem.zone, weights=g[:, j], minlength=len(problem.zones))
        for k in np.nonzero(used > usable[j])[0].tolist():
            excess = int(used[k]) - int(usable[j, k])
            for i in order.tolist():
                if excess <= 0:
                    break
                if problem.zone[i] != k or g[i, j] == 0:
                    continue
                floor_kg = 0 if problem.all_or_nothing[i] else int(problem.min_kg[i, j])
                cut = min(excess, int(g[i, j]) - floor_kg)
                if problem.all_or_nothing[i]:
                    cut = 0  # cannot shave an all-or-nothing grant; see receptor pass below
                if cut > 0:
                    g[i, j] -= cut
                    excess -= cut
                    taken += cut
            if excess > 0:  # only all-or-nothing grants left: withdraw whole grants
                for i in order.tolist():
                    if excess <= 0:
                        break
                    if problem.zone[i] == k and g[i, j] > 0 and problem.all_or_nothing[i]:
                        excess -= int(g[i, j])
                        taken += int(g[i].sum())
                        g[i] = 0
    for r in range(len(problem.receptor_ids)):
        contributes = (problem.zone_coef[r][problem.zone] > 0).any(axis=1)
        for rr, i, _, _ in problem.applicant_coef:
            if rr == r:
                contributes[i] = True
        while _receptor_load(problem, g, r) > problem.receptor_headroom[r]:
            i = next((int(i) for i in order if contributes[i] and g[int(i)].any()), None)
            if i is None:
                break
            before = int(g[i].sum())
            g[i] = np.maximum(g[i] - np.maximum(1, g[i] // 1000), 0)
            if problem.all_or_nothing[i]:
                g[i] = 0
            taken += before - int(g[i].sum())
    return taken


def _receptor_load(problem: ReserveProblem, g: IntArray, r: int) -> Decimal:
    """Exact sum of coef × granted kg at receptor r (integer sums per zone, then Decimal)."""
    n_z, n_p = len(problem.zones), len(problem.pollutants)
    per_zone = np.zeros((n_z, n_p), dtype=np.int64)
    for j in range(n_p):
        np.add.at(per_zone[:, j], problem.zone, g[:, j])
    total = Decimal(0)
    for (rr, k, j), c in problem.zone_coef_exact.items():
        if rr == r:
            total += c * int(per_zone[k, j])
    for rr, i, j, c in problem.applicant_coef:
        if rr == r:
            total += c * int(g[i, j])
    return total


@dataclass(frozen=True)
class Violation:
    constraint: str
    detail: str


def check_plan(problem: ReserveProblem, g: IntArray) -> list[Violation]:
    """Every rule a plan must keep, re-checked in exact integer / Decimal arithmetic."""
    out: list[Violation] = []
    g = np.asarray(g)
    if g.shape != problem.demand_kg.shape or not np.issubdtype(g.dtype, np.integer):
        return [Violation("plan", "grants must be an int (n, P) array")]
    ids = problem.ids
    for i in sorted(set(np.nonzero(g < 0)[0].tolist())):
        out.append(Violation(f"applicant {ids[i]}", "negative grant"))
    for i, j in zip(*np.nonzero(g > problem.limit_kg), strict=True):
        out.append(Violation(f"applicant {ids[i]}",
                             f"{problem.pollutants[j].value}: {g[i, j]} kg exceeds demand, "
                             f"EIA approval or cap headroom ({problem.limit_kg[i, j]} kg)"))
    fits = problem.min_kg <= problem.limit_kg
    short = (g < problem.min_kg) & fits & ~problem.all_or_nothing[:, None]
    for i, j in zip(*np.nonzero(short), strict=True):
        out.append(Violation(f"applicant {ids[i]}",
                             f"{problem.pollutants[j].value}: {g[i, j]} kg is below the "
                             f"guaranteed {problem.min_kg[i, j]} kg"))
    aon = np.nonzero(problem.all_or_nothing)[0]
    for i in aon.tolist():
        if g[i].any() and not np.array_equal(g[i], problem.demand_kg[i]):
            out.append(Violation(f"applicant {ids[i]}", "all-or-nothing grant is partial"))
    usable = problem.usable_kg
    for j, p in enumerate(problem.pollutants):
        used = np.zeros(len(problem.zones), dtype=np.int64)
        np.add.at(used, problem.zone, g[:, j])
        for k in np.nonzero(used > usable[j])[0].tolist():
            out.append(Violation(f"reserve {p.value}/{problem.zones[k]}",
                                 f"granted {used[k]} kg > usable {usable[j, k]} kg"))
    for r, rid in enumerate(problem.receptor_ids):
        load = _receptor_load(problem, g, r)
        if load > problem.receptor_headroom[r]:
            out.append(Violation(f"receptor {rid}",
                                 f"load {load} > headroom {problem.receptor_headroom[r]}"))
    return out


def proportionality_gap(problem: ReserveProblem, g: IntArray, x: FloatArray) -> int:
    """Largest |granted - d × x| in kg (the rounding and repair left-over; informative)."""
    if not problem.n:
        return 0
    diff = np.abs(g - problem.demand_kg * np.asarray(x)[:, None])
    return int(math.ceil(float(diff.max()))) if diff.size else 0
