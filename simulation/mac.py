"""Marginal abatement cost (MAC) curves (pure): the versioned table and vectorised curve
arithmetic.

A curve is piecewise linear in the abated share of a facility's forecast emissions: points
``(fraction, yuan per tonne)`` from fraction 0 (the first tonne) to 1 (all of it), the cost
strictly increasing. `params/<version>.json` holds one row per sector and pollutant (``*``: the
fallback of a pollutant) with its ``version``, ``source`` and ``assumption`` flag, and the
scaling by facility size and current technology. `curves` turns the rows of many agents into
arrays in kg and fen per tonne; `marginal_cost`, `abatement_at` (its inverse) and `cost` (its
integral, in fen) work on every agent at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kernel.quantities import FEN_PER_YUAN, KG_PER_T

FloatArray = npt.NDArray[np.float64]
PARAMS_DIR = Path(__file__).resolve().parent / "params"
DEFAULT_VERSION = "2026.1"


class MacTableError(ValueError):
    """A parameter table that breaks the rules (names the row)."""


@dataclass(frozen=True)
class MacTable:
    version: str
    #: (sector, pollutant) -> (fractions, yuan per tonne); sector "*" is the fallback
    rows: dict[tuple[str, str], tuple[tuple[float, ...], tuple[float, ...]]]
    size_elasticity: dict[str, float]
    size_clip: tuple[float, float]
    technology: dict[str, float]
    #: sector -> (emission_to_cap, growth); "*" is the fallback
    emissions: dict[str, tuple[float, float]]
    agents: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def curve(self, sector: str, pollutant: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        row = self.rows.get((sector, pollutant)) or self.rows.get(("*", pollutant))
        if row is None:
            raise KeyError(f"no MAC curve for {pollutant} (sector {sector})")
        return row

    def source_of(self, sector: str, pollutant: str) -> dict[str, Any]:
        """The table row a sector and pollutant use (its source and assumption flag)."""
        for r in self.raw.get("curves", []):
            if r["pollutant"] == pollutant and (
                    r["sector"] == sector
                    or (r["sector"] == "*" and (sector, pollutant) not in self.rows)):
                return dict(r)
        raise KeyError(f"no MAC curve for {pollutant} (sector {sector})")

    def elasticity(self, pollutant: str) -> float:
        return self.size_elasticity.get(pollutant, self.size_elasticity.get("*", 0.0))

    def emission(self, sector: str) -> tuple[float, float]:
        return self.emissions.get(sector) or self.emissions.get("*", (1.0, 0.0))


def parse_table(raw: dict[str, Any]) -> MacTable:
    """A `MacTable` from its JSON form; `MacTableError` names a bad row."""
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise MacTableError("version must be a non-empty string")
    rows: dict[tuple[str, str], tuple[tuple[float, ...], tuple[float, ...]]] = {}
    for i, r in enumerate(raw.get("curves", [])):
        at = f"curves[{i}]"
        for key in ("sector", "pollutant", "points", "version", "source", "assumption"):
            if key not in r:
                raise MacTableError(f"{at}: missing {key!r}")
        pts = r["points"]
        if not isinstance(pts, list) or len(pts) < 2:
            raise MacTableError(f"{at}: at least two points")
        fr = tuple(float(p[0]) for p in pts)
        ys = tuple(float(p[1]) for p in pts)
        if fr[0] != 0 or fr[-1] != 1 or any(b <= a for a, b in zip(fr, fr[1:], strict=False)):
            raise MacTableError(f"{at}: fractions must rise strictly from 0 to 1")
        if ys[0] < 0 or any(b <= a for a, b in zip(ys, ys[1:], strict=False)):
            raise MacTableError(f"{at}: costs must be non-negative and rise strictly")
        row_key = (str(r["sector"]), str(r["pollutant"]))
        if row_key in rows:
            raise MacTableError(f"{at}: {row_key} given twice")
        rows[row_key] = (fr, ys)
    size = raw.get("size", {})
    tech = raw.get("technology", {})
    em = raw.get("emissions", {}).get("sectors", {})
    lo, hi = size.get("clip", [1.0, 1.0])
    return MacTable(
        version=version, rows=rows,
        size_elasticity={k: float(v) for k, v in size.get("elasticity", {}).items()},
        size_clip=(float(lo), float(hi)),
        technology={k: float(v) for k, v in tech.get("factors", {}).items()},
        emissions={k: (float(v["emission_to_cap"]), float(v["growth"])) for k, v in em.items()},
        agents=dict(raw.get("agents", {})), raw=raw)


def versions() -> list[str]:
    return sorted(p.stem for p in PARAMS_DIR.glob("*.json"))


@cache
def load_table(version: str | None = None) -> MacTable:
    """The table of a version (default: `DEFAULT_VERSION`); KeyError for an unknown one."""
    version = version or DEFAULT_VERSION
    path = PARAMS_DIR / f"{version}.json"
    if version not in versions():
        raise KeyError(f"no MAC parameter version {version!r} (known: {', '.join(versions())})")
    return parse_table(json.loads(path.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- curve arrays


@dataclass(frozen=True, eq=False)
class Curves:
    """N agents' curves as segments: segment k of agent i starts at abatement ``x0[i, k]`` kg,
    is ``w[i, k]`` kg wide, starts at ``y0[i, k]`` fen per tonne and rises by ``slope[i, k]``
    fen per tonne per kg. ``top[i]`` is the agent's whole forecast (the most it can abate)."""

    x0: FloatArray
    w: FloatArray
    y0: FloatArray
    slope: FloatArray
    top: FloatArray

    @property
    def n(self) -> int:
        return len(self.top)

    def take(self, idx: npt.NDArray[np.int64]) -> Curves:
        return Curves(self.x0[idx], self.w[idx], self.y0[idx], self.slope[idx], self.top[idx])


def build_curves(fractions: FloatArray, yuan: FloatArray, emissions_kg: FloatArray,
                 scale: FloatArray) -> Curves:
    """Curves from (N, K) fractions and yuan per tonne (rows padded by repeating their last
    point), each agent's forecast emissions (kg) and cost scale factor."""
    e = np.asarray(emissions_kg, dtype=np.float64)
    xs = np.asarray(fractions, dtype=np.float64) * e[:, None]
    ys = np.asarray(yuan, dtype=np.float64) * FEN_PER_YUAN * np.asarray(scale)[:, None]
    w = np.diff(xs, axis=1)
    dy = np.diff(ys, axis=1)
    slope = np.divide(dy, w, out=np.zeros_like(dy), where=w > 0)
    return Curves(xs[:, :-1].copy(), w, ys[:, :-1].copy(), slope, xs[:, -1].copy())


def marginal_cost(c: Curves, abated: FloatArray) -> FloatArray:
    """The MAC (fen per tonne) of each agent at its abatement (kg, clipped to [0, top])."""
    t = np.clip(np.asarray(abated, dtype=np.float64)[:, None] - c.x0, 0.0, c.w)
    return np.asarray(c.y0[:, 0] + (c.slope * t).sum(axis=1))


def abatement_at(c: Curves, price: FloatArray | float) -> FloatArray:
    """How much each agent abates when it stops where its MAC reaches `price` (fen per
    tonne): the inverse of `marginal_cost` (0 below the first point, all above the last)."""
    p = np.asarray(price, dtype=np.float64)
    p = np.broadcast_to(p, c.top.shape)[:, None]
    span = c.slope * c.w
    part = np.divide((p - c.y0) * c.w, span, out=np.where(p >= c.y0, c.w, 0.0),
                     where=span > 0)
    return np.asarray(np.clip(part, 0.0, c.w).sum(axis=1))


def cost(c: Curves, abated: FloatArray) -> FloatArray:
    """The cost (fen) of abating `abated` kg: the integral of the MAC from 0."""
    t = np.clip(np.asarray(abated, dtype=np.float64)[:, None] - c.x0, 0.0, c.w)
    return np.asarray(((c.y0 + c.slope * t / 2) * t).sum(axis=1) / KG_PER_T)


def pad_points(rows: list[tuple[tuple[float, ...], tuple[float, ...]]]
               ) -> tuple[FloatArray, FloatArray]:
    """(N, K) fraction and cost arrays from rows of different lengths (last point repeated)."""
    k = max(len(f) for f, _ in rows)
    fr = np.array([list(f) + [f[-1]] * (k - len(f)) for f, _ in rows], dtype=np.float64)
    ys = np.array([list(y) + [y[-1]] * (k - len(y)) for _, y in rows], dtype=np.float64)
    return fr, ys
