"""What analysts see (pure): one seed's figures and their distribution over seeds.

Money is whole fen and prices whole fen per tonne (rounded half-even from the curves' float
integrals), quantities whole kg. Per seed: each market's daily close and volume, its reserve
auctions, the abatement and its cost by sector and pollutant, and three costs of the same
year: ``no_trade`` (each facility keeps its permitted quantity plus the scenario's
administrative reserve grant and abates the rest: the world without a market),
``before_trading`` (permitted quantity plus what it won at the auctions, no continuous market:
the same supply as the simulation) and ``simulated``; and the least-cost benchmark at the
simulation's supply (`simulation.least_cost`), with the gap between the simulated cost and it.
Over seeds: percentiles of every market's daily close (the price path's band), of its last
close, and of the costs; the median of the least-cost price (each seed's supply differs by
what its auctions sold).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simulation import mac
from simulation.engine import SeedResult
from simulation.population import Population

PERCENTILES = (5, 25, 50, 75, 95)


def _fen(x: float) -> int:
    return int(np.rint(x))


def seed_summary(pop: Population, res: SeedResult, least: Any | None = None
                 ) -> dict[str, Any]:
    """One seed's figures (see the module docstring); `least` is its `LeastCost`."""
    c = pop.curves
    e0 = pop.emissions_kg
    start = pop.permitted_kg + pop.granted_kg
    no_trade = mac.cost(c, np.clip(e0 - start, 0, e0).astype(np.float64))
    before = mac.cost(c, np.clip(e0 - pop.permitted_kg - res.won, 0, e0).astype(np.float64))
    sectors = sorted(set(pop.sectors))
    s_idx = np.array([sectors.index(s) for s in pop.sectors], dtype=np.int64)
    pols = [m.pollutant for m in pop.markets]
    pol_names = sorted(set(pols))
    p_idx = np.array([pol_names.index(pols[m]) for m in pop.market], dtype=np.int64)
    by_sector = []
    for si, sname in enumerate(sectors):
        for pj, pname in enumerate(pol_names):
            sel = (s_idx == si) & (p_idx == pj)
            if not sel.any():
                continue
            by_sector.append({
                "sector": sname, "pollutant": pname, "agents": int(sel.sum()),
                "emissions_kg": int(e0[sel].sum()), "abated_kg": int(res.abated[sel].sum()),
                "cost_fen": _fen(float(res.cost[sel].sum())),
                "no_trade_cost_fen": _fen(float(no_trade[sel].sum())),
                "net_bought_kg": int((res.holding[sel] - start[sel]).sum())})
    markets = []
    for m, mk in enumerate(pop.markets):
        vol = int(res.volume[m].sum())
        val = int(res.value[m].sum())
        markets.append({
            "market": mk.id, "pollutant": mk.pollutant, "zone": mk.zone,
            "close": res.close[m].tolist(), "volume_kg": res.volume[m].tolist(),
            "traded_kg": vol, "vwap": (val * 1000 // vol) if vol else None,
            "last_close": int(res.close[m, -1]),
            "lp_price": None if least is None else _fen(float(least.price[m])),
            "auctions": [{k: v for k, v in a.items() if k != "market"}
                         for a in res.auctions if a["market"] == m]})
    simulated = _fen(float(res.cost.sum()))
    out: dict[str, Any] = {
        "seed": res.seed, "orders": res.orders, "trades": res.trades,
        "rejected": res.rejected, "fees_fen": res.fees,
        "cost_fen": {"simulated": simulated, "no_trade": _fen(float(no_trade.sum())),
                     "before_trading": _fen(float(before.sum()))},
        "abated_kg": int(res.abated.sum()),
        "by_sector": by_sector, "markets": markets}
    if least is not None and least.status == "optimal":
        lc = _fen(float(least.cost.sum()))
        out["cost_fen"]["least_cost"] = lc
        out["gap_fen"] = simulated - lc
        out["gap_pct"] = round((simulated - lc) / lc * 100, 3) if lc else 0.0
    out["saved_fen"] = out["cost_fen"]["before_trading"] - simulated
    out["saved_vs_no_trade_fen"] = out["cost_fen"]["no_trade"] - simulated
    return out


def _pct(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {f"p{p}": float(np.percentile(arr, p)) for p in PERCENTILES} | {
        "mean": float(arr.mean())}


def combine(pop: Population, seeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The distribution over seeds of the seeds' summaries."""
    if not seeds:
        raise ValueError("no seeds")
    first = seeds[0]
    markets = []
    for m, mk in enumerate(pop.markets):
        closes = np.array([s["markets"][m]["close"] for s in seeds], dtype=np.float64)
        vols = np.array([s["markets"][m]["volume_kg"] for s in seeds], dtype=np.float64)
        band = {f"p{p}": np.rint(np.percentile(closes, p, axis=0)).astype(int).tolist()
                for p in (5, 50, 95)}
        auctions = [a for s in seeds for a in s["markets"][m]["auctions"]]
        cleared = [a["price"] for a in auctions if a["status"] == "cleared"]
        markets.append({
            "market": mk.id, "pollutant": mk.pollutant, "zone": mk.zone,
            "reserve_kg": mk.reserve_kg, "reserve_price": mk.reserve_price,
            "base_price": mk.reserve_price,
            "path": band, "volume_mean_kg": np.rint(vols.mean(axis=0)).astype(int).tolist(),
            "last_close": {k: round(v) for k, v in _pct(closes[:, -1]).items()},
            "traded_kg": {k: round(v) for k, v in _pct(vols.sum(axis=1)).items()},
            "lp_price": (round(float(np.median(lp))) if (lp := [
                s["markets"][m]["lp_price"] for s in seeds
                if s["markets"][m]["lp_price"] is not None]) else None),
            "auctions_held": len(auctions), "auctions_cleared": len(cleared),
            "auction_price": ({k: round(v) for k, v in _pct(cleared).items()}
                              if cleared else None)})
    costs = {k: {q: round(v) for q, v in _pct([s["cost_fen"][k] for s in seeds]).items()}
             for k in first["cost_fen"]}
    by_sector = []
    for r, row in enumerate(first["by_sector"]):
        by_sector.append({
            "sector": row["sector"], "pollutant": row["pollutant"], "agents": row["agents"],
            "emissions_kg": row["emissions_kg"],
            "abated_kg": round(float(np.mean([s["by_sector"][r]["abated_kg"] for s in seeds]))),
            "cost_fen": round(float(np.mean([s["by_sector"][r]["cost_fen"] for s in seeds]))),
            "no_trade_cost_fen": row["no_trade_cost_fen"],
            "net_bought_kg": round(float(np.mean([s["by_sector"][r]["net_bought_kg"]
                                                  for s in seeds])))})
    by_pollutant: dict[str, dict[str, Any]] = {}
    for mk_row in markets:
        agg = by_pollutant.setdefault(mk_row["pollutant"], {"pollutant": mk_row["pollutant"],
                                                            "markets": 0, "traded_kg": 0})
        agg["markets"] += 1
        agg["traded_kg"] += mk_row["traded_kg"]["mean"]
    out = {
        "seeds": [s["seed"] for s in seeds], "agents": pop.n, "markets": markets,
        "cost_fen": costs, "by_sector": by_sector,
        "by_pollutant": [{**v, "traded_kg": round(v["traded_kg"])}
                         for _, v in sorted(by_pollutant.items())],
        "orders": round(float(np.mean([s["orders"] for s in seeds]))),
        "trades": round(float(np.mean([s["trades"] for s in seeds]))),
        "rejected": int(sum(s["rejected"] for s in seeds)),
        "saved_fen": {k: round(v) for k, v in _pct([s["saved_fen"] for s in seeds]).items()},
        "saved_vs_no_trade_fen": {k: round(v) for k, v in _pct(
            [s["saved_vs_no_trade_fen"] for s in seeds]).items()}}
    if all("gap_fen" in s for s in seeds):
        out["gap_fen"] = {k: round(v) for k, v in _pct([s["gap_fen"] for s in seeds]).items()}
        out["gap_pct"] = {k: round(v, 3) for k, v in _pct([s["gap_pct"] for s in seeds]).items()}
    return out
