"""Vectorised permitted quantities for many facilities at once (numpy).

`permit_caps` computes, for every facility and pollutant, the specification basis (outlet by
outlet, each outlet quantised to whole kg, summed per facility), takes the minimum with the EIA
and indicator-share bases, and names the binding basis. It agrees exactly with
`allocation.sheet.compute_sheet` given the same decimal inputs.

Columnar input (one row per outlet; `P` pollutant columns, in the caller's order):

============  =========================================================================
``method``    int codes from `METHOD_CODES`
``activity``  coal/oil: fuel t; gas: fuel 1e4 Nm3; performance: capacity MW;
              steel/cement: production t; wastewater: water m3; direct: 1
``volume``    coal/oil: Nm3/kg; gas: Nm3/Nm3; performance: hours h;
              steel/cement: Nm3/t; wastewater and direct: 1
``rate``      (n, P): concentration mg/Nm3 (mg/L for water), GPS g/kWh (performance) or
              tonnes (direct); NaN where the outlet does not discharge the pollutant
``extra_kwh`` performance only: electricity equivalent D of heat supply, kWh (else 0)
``eia_kg``    (F, P) int64: counted EIA quantity; -1 where there is none or it does not count
``share_kg``  (F, P) int64: indicator share; -1 where there is none
``facility``  (n,) int64 row -> facility 0..F-1 (default: one row per facility)
============  =========================================================================

Per row: kg = (activity × volume + extra_kwh / 1000) × rate × MUL[method] / DIV[method].

How float error is kept out of the result. Each input float is taken to stand for its shortest
round-tripping decimal text, ``Decimal(repr(x))`` (any decimal of at most 15 significant digits
survives the trip), which is what the Decimal path computes with. The float64 evaluation then
has relative error at most 10 u (u = 2^-53: four input representations and six roundings:
MUL/DIV, a×v, x/1000, the sum, ×scale, ×rate), i.e. < 1.2e-15; taking the fractional part is
exact. A row's kg is therefore rounded with `np.rint` only when its fractional part is farther
than ``1e-14 × (1 + |kg|)`` from one half (8 × the error bound) and |kg| < 2^52; every other
value (a true or near tie) is recomputed exactly in `Decimal`, half-even. Sums per facility are
of whole kg held in float64 below 2^53, hence exact, and are returned as int64.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from allocation.errors import SheetError
from allocation.parameters import ParameterSet

METHOD_CODES = {
    "coal_boiler": 0,
    "oil_boiler": 1,
    "gas_boiler": 2,
    "thermal_power_performance": 3,
    "steel_process": 4,
    "cement_process": 5,
    "wastewater": 6,
    "direct": 7,
}
BASES = ("specification", "eia", "indicator_share")
ABSENT = -1

# kg per unit of (activity × volume + extra/1000) × rate, as MUL / DIV (exact powers of ten).
#   coal/oil: t × Nm3/kg × mg/Nm3 × 1e-6 t  -> × 1e-3 kg      gas: × 1e-5 t -> × 1e-2 kg
#   performance: MWh × g/kWh × 1e-3 t -> × 1 kg                steel/cement: × 1e-9 t -> 1e-6 kg
#   wastewater: m3 × mg/L × 1e-6 t -> × 1e-3 kg                direct: t -> × 1e3 kg
_MUL_INT = (1, 1, 1, 1, 1, 1, 1, 1000)
_DIV_INT = (1000, 1000, 100, 1, 1_000_000, 1_000_000, 1000, 1)
_MUL = np.array(_MUL_INT, dtype=np.float64)
_DIV = np.array(_DIV_INT, dtype=np.float64)
_TOL = 1e-14
_EXACT_LIMIT = 2.0**52

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class PermitCaps(NamedTuple):
    """Results, each (F, P): permitted kg, binding basis index into `BASES`, spec basis kg.

    ``permitted_kg`` and ``specification_kg`` are -1 (`ABSENT`) where no basis exists;
    ``binding`` is -1 there. ``exact_fallbacks`` counts the row values recomputed in Decimal.
    """

    permitted_kg: IntArray
    binding: npt.NDArray[np.int8]
    specification_kg: IntArray
    exact_fallbacks: int


def heat_to_kwh(heat_mj: npt.ArrayLike, params: ParameterSet) -> FloatArray:
    """Electricity equivalent D[kWh] = H[MJ] × kwh_per_mj × equivalence (float64).

    For exact agreement with a sheet, pass decimals that survive the float trip (compute D in
    `Decimal` and convert), or check `exact_fallbacks`.
    """
    k = float(params.heat_kwh_per_mj * params.heat_equivalence)
    return np.asarray(heat_mj, dtype=np.float64) * k


def _col(name: str, a: npt.ArrayLike, n: int | None, dtype: type) -> npt.NDArray[Any]:
    arr: npt.NDArray[Any] = np.asarray(a, dtype=dtype)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise SheetError(f"{name} must be a 1-d array of length {n}", field=name)
    return arr


def _exact_row_kg(
    method: int, activity: float, volume: float, extra: float, rate: float
) -> int:
    """The Decimal path for one value: the same formula and rounding as a calculation sheet."""
    def d(x: float) -> Decimal:
        return Decimal(repr(float(x)))

    with localcontext() as ctx:
        ctx.prec = 100
        base = d(activity) * d(volume) + d(extra) / 1000
        kg = base * d(rate) * _MUL_INT[method] / _DIV_INT[method]
        return int(kg.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def permit_caps(
    method: npt.ArrayLike,
    activity: npt.ArrayLike,
    volume: npt.ArrayLike,
    rate: npt.ArrayLike,
    *,
    extra_kwh: npt.ArrayLike | None = None,
    eia_kg: npt.ArrayLike | None = None,
    share_kg: npt.ArrayLike | None = None,
    facility: npt.ArrayLike | None = None,
    n_facilities: int | None = None,
) -> PermitCaps:
    """Permitted quantities of F facilities × P pollutants; see the module docstring."""
    m = _col("method", method, None, np.int64)
    n = m.shape[0]
    if n and (m.min() < 0 or m.max() >= len(_MUL_INT)):
        raise SheetError("unknown method code", field="method")
    a = _col("activity", activity, n, np.float64)
    v = _col("volume", volume, n, np.float64)
    x = (np.zeros(n) if extra_kwh is None else _col("extra_kwh", extra_kwh, n, np.float64))
    r = np.asarray(rate, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] != n:
        raise SheetError("rate must be an (n, P) array", field="rate")
    p_count = r.shape[1]
    for name, arr in (("activity", a), ("volume", v), ("extra_kwh", x)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise SheetError(f"{name} must be finite and non-negative", field=name)
    present = ~np.isnan(r)
    if np.any(np.isinf(r)) or np.any(r[present] < 0):
        raise SheetError("rate must be non-negative (NaN for not discharged)", field="rate")

    if facility is None:
        fac = np.arange(n, dtype=np.int64)
        f_count = n if n_facilities is None else n_facilities
    else:
        fac = _col("facility", facility, n, np.int64)
        f_count = (int(fac.max()) + 1 if n else 0) if n_facilities is None else n_facilities
    if n and (fac.min() < 0 or fac.max() >= f_count):
        raise SheetError("facility index out of range", field="facility")

    # --- per-row specification quantities, float64 then exact rounding
    scale = _MUL[m] / _DIV[m]
    base = a * v + x / 1000.0
    val = (base * scale)[:, None] * r  # NaN where not discharged
    with np.errstate(invalid="ignore"):
        frac = val - np.floor(val)
        unsafe = present & (
            (np.abs(frac - 0.5) <= _TOL * (1.0 + np.abs(val))) | (np.abs(val) >= _EXACT_LIMIT)
        )
    kg = np.where(present, np.rint(val), 0.0)
    rows, cols = np.nonzero(unsafe)
    if len(rows):
        # many rows share their inputs (one profile, one capacity): compute each distinct
        # (method, activity, volume, extra, rate) once in Decimal
        keys = (m[rows].astype(np.float64), a[rows], v[rows], x[rows], r[rows, cols])
        order = np.lexsort(keys[::-1])
        ks = [k[order] for k in keys]
        first = np.ones(len(order), dtype=bool)
        first[1:] = np.any([k[1:] != k[:-1] for k in ks], axis=0)
        group = np.cumsum(first) - 1
        exact = np.array([float(_exact_row_kg(int(ks[0][i]), ks[1][i], ks[2][i], ks[3][i],
                                              ks[4][i])) for i in np.nonzero(first)[0]],
                         dtype=np.float64)
        kg[rows[order], cols[order]] = exact[group]

    # --- per-facility sums (whole kg below 2^53 in float64: exact)
    spec = np.empty((f_count, p_count), dtype=np.int64)
    has_spec = np.empty((f_count, p_count), dtype=bool)
    for j in range(p_count):
        spec[:, j] = np.bincount(fac, weights=kg[:, j], minlength=f_count).astype(np.int64)
        has_spec[:, j] = np.bincount(fac, weights=present[:, j], minlength=f_count) > 0
    spec[~has_spec] = ABSENT

    def basis(name: str, arr: npt.ArrayLike | None) -> IntArray:
        if arr is None:
            return np.full((f_count, p_count), ABSENT, dtype=np.int64)
        b = np.asarray(arr)
        if b.shape != (f_count, p_count) or not np.issubdtype(b.dtype, np.integer):
            raise SheetError(f"{name} must be an int ({f_count}, {p_count}) array", field=name)
        if np.any(b < ABSENT):
            raise SheetError(f"{name} must be >= 0, or -1 for none", field=name)
        return b.astype(np.int64)

    stacked = np.stack([spec, basis("eia_kg", eia_kg), basis("share_kg", share_kg)], axis=-1)
    big = np.iinfo(np.int64).max
    keyed = np.where(stacked == ABSENT, big, stacked)
    binding = np.argmin(keyed, axis=-1).astype(np.int8)  # first minimum: BASES order on ties
    permitted = np.take_along_axis(keyed, binding[..., None].astype(np.int64), axis=-1)[..., 0]
    none = permitted == big
    permitted = np.where(none, ABSENT, permitted).astype(np.int64)
    binding[none] = ABSENT
    return PermitCaps(permitted, binding, spec, len(rows))
