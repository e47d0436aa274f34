"""The simulated trading year (pure, in memory, deterministic by seed).

Each trading day, in this order:

1. **Auction days** (``auction_days`` of the table, e.g. one a quarter): each market with
   reserve left offers an equal part of it (all of it on the last auction day) in a sealed-bid
   auction cleared by the real `trading.auction.clear` (uniform price, reserve price = base
   price, tie order seeded by the day); each agent bids up to ``auction_bids`` steps of its own
   demand curve between the reserve price and its shaded marginal value. An undersubscribed
   auction is cancelled and its volume offered again at the next one.
2. **Continuous market**: every market opens a fresh `trading.book.OrderBook` with the
   market's tick, lot and the day's price limits (`trading.market.MarketRules.price_band`
   around the reference price: the previous day's close, the base price on day one). Each
   agent takes part with probability ``participation``; one that does computes its marginal
   value v = MAC at the abatement its holding requires, is a buyer if v is above the reference
   price and a seller if below, and quotes v x (1 - margin) (buy) or v x (1 + margin) (sell),
   clipped to the price limits and rounded to the tick (down for a bid, up for an ask), for the
   quantity its MAC curve says is worth trading at that price (units worth more than the bid,
   or abatement cheaper than the ask), at most ``max_daily_fraction`` of its forecast, in whole
   lots, if at least ``min_order_kg``. Orders arrive in a random order and match by the book's
   price-time priority; every fill settles at once in memory (rights and money, fees by
   `trading.prices.fee_of`). The next day's reference price is the close (the day's last
   trade); on a day without trades it is the best resting quote (the mid-point when both sides
   rest), so that a one-sided market moves: the simulation's stand-in for the bureau's
   reference price. A seller offers at most what it holds minus what it bought today
   (T+1, DOMAIN.md section 4: rights bought today, at the auction or on the book, cannot be
   resold today). At the close every resting order is cancelled (day orders).
3. **Learning**: ZIP agents (Cliff 1997, adapted to one quote a day) move their margin by the
   Widrow-Hoff rule with momentum towards a target around the day's close: a seller whose ask
   was at or below the close (or was filled) raises it, one above it unfilled lowers it; a buyer
   mirrors that; on a day without trades unfilled quotes move towards the other side. Margins
   stay in [0, 0.95]: an agent never quotes beyond its marginal cost. Truthful agents keep
   the table's ``spread`` as their margin.

At the end each agent abates what its holding requires, max(0, forecast - holding), at the
cost its curve gives (fen). With ``trading=False`` there is no market and no auction: each
agent holds its permitted quantity plus the scenario's administrative reserve grant.

The random stream is one `numpy.random.Generator` seeded by `seed`; every draw happens in a
fixed order, so the same population, options and seed give the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kernel.quantities import trade_value
from simulation import mac
from simulation.population import Population
from trading import book as book_module
from trading.auction import Bid, clear
from trading.market import MarketRules
from trading.prices import fee_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Strategy = Literal["truthful", "zip", "mixed"]
STRATEGIES: tuple[Strategy, ...] = ("truthful", "zip", "mixed")
MAX_DAYS = 1000


@dataclass(frozen=True)
class Options:
    days: int = 250
    strategy: Strategy = "mixed"
    trading: bool = True
    auctions: bool = True
    fee_bps: int = 0
    bidder_cap_pct: int | None = None
    #: overrides of the table's ``agents`` settings (participation, spread, ...)
    agents: dict[str, Any] = field(default_factory=dict)


@dataclass
class SeedResult:
    seed: int
    close: IntArray  # (M, D) fen per tonne: the day's last trade, else the reference
    traded: npt.NDArray[np.bool_]  # (M, D) whether the market traded that day
    volume: IntArray  # (M, D) kg
    value: IntArray  # (M, D) fen
    auctions: list[dict[str, Any]]
    holding: IntArray  # (N,) kg at the end
    cash: IntArray  # (N,) fen, + received, - paid (trades, auctions and fees)
    won: IntArray  # (N,) kg bought at the reserve auctions
    abated: IntArray  # (N,) kg
    cost: FloatArray  # (N,) fen
    orders: int = 0
    trades: int = 0
    rejected: int = 0
    fees: int = 0


def settings(table_agents: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = {**table_agents, **overrides}
    for key in ("participation", "spread", "max_daily_fraction"):
        v = float(out[key])
        if not 0 <= v <= 1:
            raise ValueError(f"{key} must be in [0, 1]")
        out[key] = v
    return out


def _auction(pop: Population, s: dict[str, Any], rng_seed: int, day: int, left: IntArray,
             remaining_auctions: int, holding: IntArray, bought: IntArray, won: IntArray,
             cash: IntArray,
             margin: FloatArray, bidder_cap: int | None) -> list[dict[str, Any]]:
    out = []
    c = pop.curves
    e0 = pop.emissions_kg.astype(np.float64)
    k_bids = int(s["auction_bids"])
    req = np.clip(e0 - holding, 0.0, e0)
    v = mac.marginal_cost(c, req) * (1 - margin)
    for m, market in enumerate(pop.markets):
        if left[m] <= 0:
            continue
        offered = int(left[m]) if remaining_auctions <= 1 else int(left[m]) // remaining_auctions
        if offered <= 0:
            continue
        idx = np.nonzero((pop.market == m) & (v > market.reserve_price))[0]
        bids: list[Bid] = []
        owner: list[int] = []
        if len(idx):
            sub = c.take(idx)
            top = v[idx]
            prev = np.zeros(len(idx))
            for k in range(k_bids):  # prices from the top down: demand grows
                price = np.floor(market.reserve_price + (top - market.reserve_price)
                                 * (k_bids - k) / k_bids)
                want = np.maximum(e0[idx] - mac.abatement_at(sub, price) - holding[idx], 0.0)
                qty = np.floor(want - prev)
                prev = np.maximum(prev, np.floor(want))
                for i, q, p in zip(idx.tolist(), qty.tolist(), price.tolist(), strict=True):
                    if q >= 1 and p >= 1:
                        bids.append(Bid(str(i), int(q), int(p)))
                        owner.append(i)
        record: dict[str, Any] = {"market": m, "day": day, "offered_kg": offered,
                                  "bids": len(bids)}
        if not bids:
            record |= {"status": "cancelled", "price": None, "sold_kg": 0,
                       "reason": "undersubscribed"}
            out.append(record)
            continue
        res = clear(offered, market.reserve_price, bids, rule="uniform",
                    tie_seed=rng_seed * 1_009 + day, bidder_cap_pct=bidder_cap)
        sold = 0
        for fill in res.fills:
            i = owner[fill.bid_index]
            holding[i] += fill.qty
            bought[i] += fill.qty
            won[i] += fill.qty
            cash[i] -= trade_value(fill.qty, fill.price)
            sold += fill.qty
        left[m] -= sold
        record |= {"status": res.status, "price": res.price, "sold_kg": sold,
                   "reason": res.reason}
        out.append(record)
    return out


def simulate(pop: Population, table_agents: dict[str, Any], seed: int,
             options: Options | None = None) -> SeedResult:
    """One simulated year of `pop` (see the module docstring)."""
    opt = options or Options()
    if not 1 <= opt.days <= MAX_DAYS:
        raise ValueError(f"days must be from 1 to {MAX_DAYS}")
    if opt.strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
    s = settings(table_agents, opt.agents)
    rng = np.random.default_rng(seed)
    n, n_m, days = pop.n, len(pop.markets), opt.days
    c = pop.curves
    e0 = pop.emissions_kg.astype(np.float64)
    mk = pop.market
    holding = pop.permitted_kg.copy()
    cash = np.zeros(n, dtype=np.int64)
    won = np.zeros(n, dtype=np.int64)
    close = np.zeros((n_m, days), dtype=np.int64)
    traded = np.zeros((n_m, days), dtype=bool)
    volume = np.zeros((n_m, days), dtype=np.int64)
    value = np.zeros((n_m, days), dtype=np.int64)
    auctions: list[dict[str, Any]] = []
    orders = trades = rejected = fees = 0

    if opt.strategy == "truthful":
        is_zip = np.zeros(n, dtype=bool)
    elif opt.strategy == "zip":
        is_zip = np.ones(n, dtype=bool)
    else:
        is_zip = rng.random(n) < 0.5
    lo_m, hi_m = (float(x) for x in s["zip_margin"])
    margin = np.where(is_zip, rng.uniform(lo_m, hi_m, n), float(s["spread"]))
    momentum = np.zeros(n)
    beta, gamma = float(s["zip_beta"]), float(s["zip_gamma"])

    if not opt.trading:
        holding = holding + pop.granted_kg
        close[:, :] = np.array([m.reference_price for m in pop.markets])[:, None]
        abated = np.clip(pop.emissions_kg - holding, 0, pop.emissions_kg)
        return SeedResult(seed, close, traded, volume, value, auctions, holding, cash, won,
                          abated, mac.cost(c, abated.astype(np.float64)))

    ref = np.array([m.reference_price for m in pop.markets], dtype=np.int64)
    left = np.array([m.reserve_kg for m in pop.markets], dtype=np.int64)
    auction_days = sorted(d for d in (int(x) for x in s["auction_days"]) if 0 <= d < days)
    if not opt.auctions:
        auction_days = []
    participation = s["participation"]
    max_frac = s["max_daily_fraction"]
    min_order = int(s["min_order_kg"])
    fee_bps = opt.fee_bps
    ticks = np.array([m.tick for m in pop.markets], dtype=np.int64)
    lots = np.array([m.min_lot for m in pop.markets], dtype=np.int64)
    tick_a, lot_a = ticks[mk], lots[mk]
    OrderBook, REJECTED = book_module.OrderBook, book_module.REJECTED
    oid = 0
    for d in range(days):
        bought = np.zeros(n, dtype=np.int64)
        if d in auction_days:
            auctions += _auction(pop, s, seed, d, left, len(auction_days)
                                 - auction_days.index(d), holding, bought, won, cash, margin,
                                 opt.bidder_cap_pct)
        books = []
        lo = np.empty(n_m, dtype=np.int64)
        hi = np.empty(n_m, dtype=np.int64)
        for m, market in enumerate(pop.markets):
            rules = MarketRules("open", market.tick, market.min_lot, int(ref[m]),
                                market.band_pct)
            band = rules.price_band()
            lo[m], hi[m] = band if band is not None else (market.tick, 10**12)
            books.append(OrderBook(tick=market.tick, min_lot=market.min_lot, price_band=band))
        active = rng.random(n) < participation
        order_of = rng.permutation(n)
        req = np.clip(e0 - holding, 0.0, e0)
        v = mac.marginal_cost(c, req)
        ref_a = ref[mk]
        buyer = v > ref_a
        seller = v < ref_a
        limit = np.where(buyer, v * (1 - margin), v * (1 + margin))
        limit = np.clip(limit, lo[mk], hi[mk])
        limit = np.where(buyer, np.floor(limit / tick_a) * tick_a,
                         np.ceil(limit / tick_a) * tick_a)
        limit = np.clip(limit, lo[mk], hi[mk])
        at_limit = mac.abatement_at(c, limit)
        want = np.where(buyer, e0 - at_limit - holding, holding - e0 + at_limit)
        want = np.minimum(want, max_frac * e0)
        want = np.where(seller, np.minimum(want, holding - bought), want)
        qty = (np.floor(want / lot_a) * lot_a).astype(np.int64)
        quoting = active & (buyer | seller) & (qty >= max(min_order, 1))
        filled = np.zeros(n, dtype=np.int64)
        h = holding.tolist()
        cs = cash.tolist()
        fl = filled.tolist()
        vol = [0] * n_m
        val = [0] * n_m
        last = [0] * n_m
        q_l = qty.tolist()
        p_l = limit.astype(np.int64).tolist()
        side_l = buyer.tolist()
        m_l = mk.tolist()
        for i in order_of[quoting[order_of]].tolist():
            m = m_l[i]
            bk = books[m]
            is_buy = side_l[i]
            oid += 1
            orders += 1
            r = bk.submit_fast(str(oid), str(i), "buy" if is_buy else "sell", q_l[i], p_l[i],
                               "gtc", False, "cancel_newest")
            if r == REJECTED:
                rejected += 1
                continue
            for _mid, mowner, px, fq in bk.fills:
                j = int(mowner)
                tv = trade_value(fq, px)
                fee = fee_of(tv, fee_bps) if fee_bps else 0
                if is_buy:
                    h[i] += fq
                    h[j] -= fq
                    cs[i] -= tv + fee
                    cs[j] += tv - fee
                else:
                    h[i] -= fq
                    h[j] += fq
                    cs[i] += tv - fee
                    cs[j] -= tv + fee
                fees += 2 * fee
                fl[i] += fq
                fl[j] += fq
                vol[m] += fq
                val[m] += tv
                last[m] = px
                trades += 1
        holding = np.array(h, dtype=np.int64)
        cash = np.array(cs, dtype=np.int64)
        filled = np.array(fl, dtype=np.int64)
        did = np.array([x > 0 for x in vol])
        closing = np.where(did, np.array(last, dtype=np.int64), ref)
        for m in np.nonzero(~did)[0].tolist():  # no trade: the quotes move the reference
            bb, ba = books[m].best_bid(), books[m].best_ask()
            if bb is not None and ba is not None:
                mid = (bb + ba) // 2
                closing[m] = mid - mid % int(ticks[m])
            elif bb is not None or ba is not None:
                closing[m] = bb if bb is not None else ba
        close[:, d] = closing
        traded[:, d] = did
        volume[:, d] = vol
        value[:, d] = val
        # learning: ZIP margins move towards a target around the close
        learn = is_zip & quoting
        if learn.any():
            cl = closing[mk].astype(np.float64)
            mdid = did[mk]
            got = filled > 0
            up = rng.uniform(1.0, 1.05, n)
            down = rng.uniform(0.95, 1.0, n)
            # sellers: raise if at or below the close (or filled), lower if above and unfilled
            s_raise = seller & ((limit <= cl) & mdid | got)
            s_lower = seller & ~s_raise
            b_raise = buyer & ((limit >= cl) & mdid | got)  # raise margin = lower the bid
            b_lower = buyer & ~b_raise
            base = np.where(mdid, cl, limit)
            target = np.select([s_raise, s_lower, b_raise, b_lower],
                               [base * up, base * down, base * down, base * up], limit)
            momentum = np.where(learn, gamma * momentum + (1 - gamma) * beta
                                * (target - limit), momentum)
            price = limit + momentum
            vv = np.maximum(v, 1.0)
            new = np.where(seller, price / vv - 1, 1 - price / vv)
            margin = np.where(learn, np.clip(new, 0.0, 0.95), margin)
        ref = closing
    abated = np.clip(pop.emissions_kg - holding, 0, pop.emissions_kg).astype(np.int64)
    return SeedResult(seed, close, traded, volume, value, auctions, holding, cash, won, abated,
                      mac.cost(c, abated.astype(np.float64)), orders, trades, rejected, fees)
