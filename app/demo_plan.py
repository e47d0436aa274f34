"""The demo's plan (`app.demo`): everything the load writes, computed in memory first
from the registry of `app.demo_municipality`: indicators and shares, confirmations,
verified surplus, cash, markets, the order book and trades, users.

Pure and deterministic: the same seed, size and day give the same plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from app.demo_municipality import (
    AIR_POLLUTANTS,
    AIR_ZONES,
    BASE_PRICE_YUAN,
    DISTRICTS,
    PRICE_MULTIPLE,
    RESERVE_PCT,
    SECTOR_POLLUTANTS,
    VINTAGE,
    WATER,
    WATER_ZONES,
    PlannedEnterprise,
    PlannedPermit,
    div_half_even,
    largest_remainder,
    plan_registry,
    stream,
)
from kernel.clock import CST
from kernel.quantities import trade_value
from ledger.service import asset_code


@dataclass(frozen=True)
class PlannedOrder:
    id: str
    enterprise: str
    permit: str
    market: str
    side: str
    qty: int
    price: int
    at: datetime


@dataclass
class DemoPlan:
    seed: int
    today: date
    enterprises: list[PlannedEnterprise]
    permits: list[PlannedPermit]
    zone_of: dict[str, tuple[str, str]]  # district -> (air zone, water zone)
    indicators: list[tuple[str, str, int, int]] = field(default_factory=list)
    confirmations: list[tuple[str, str]] = field(default_factory=list)  # (permit, pollutant)
    verifications: list[tuple[str, str, int]] = field(default_factory=list)
    deposits: list[tuple[str, int, str]] = field(default_factory=list)  # enterprise, fen, ref
    markets: list[tuple[str, str, int]] = field(default_factory=list)  # pol, zone, ref price
    orders: list[PlannedOrder] = field(default_factory=list)
    #: the orders left open (the others fill whole)
    resting: list[PlannedOrder] = field(default_factory=list)
    trades: int = 0
    showcase_market: str | None = None
    users: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    #: bureau users' level and department: username -> (district or None, department)
    scopes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def zone(self, permit: PlannedPermit, pol: str) -> str:
        air, water = self.zone_of[permit.district]
        return water if pol in WATER else air


def _reference_price(pol: str) -> int:
    """fen per tonne"""
    return div_half_even(BASE_PRICE_YUAN[pol] * PRICE_MULTIPLE, 10) * 10 * 100


def _business_days_before(day: date, n: int) -> date:
    d = day
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def at_beijing(day: date, hh: int, mm: int, seconds: int = 0) -> datetime:
    return (datetime.combine(day, time(hh, mm), tzinfo=CST)
            + timedelta(seconds=seconds)).astimezone(UTC)


def _round_qty(q: int) -> int:
    return q if q < 1000 else q // 100 * 100


def _round_price(p: int) -> int:
    return max(100, div_half_even(p, 100) * 100)


def plan_demo(seed: int, enterprises: int, today: date) -> DemoPlan:
    """Everything the load writes, in memory. Pure and deterministic."""
    ents, permits = plan_registry(seed, enterprises)
    zone_of = {d[0]: (d[2], d[3]) for d in DISTRICTS}
    plan = DemoPlan(seed, today, ents, permits, zone_of)
    by_code = {p.code: p for p in permits}

    # indicators and shares: per zone, pollutant and year, Σ spec × U(0.85, 0.95), 10 % reserve,
    # the rest apportioned pro rata to the specification basis
    groups: dict[tuple[str, str, int], list[PlannedPermit]] = defaultdict(list)
    for p in permits:
        for pol in SECTOR_POLLUTANTS[p.sector]:
            for y in p.years():
                groups[(plan.zone(p, pol), pol, y)].append(p)
    rng = stream(seed, "indicators")
    for key in sorted(groups):
        zone, pol, y = key
        members = groups[key]
        total = sum(p.spec[pol] for p in members) * rng.randint(850, 950) // 1000
        reserve = int((Decimal(total) * RESERVE_PCT / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN))
        parts = largest_remainder(total - reserve, [p.spec[pol] for p in members])
        for p, part in zip(members, parts, strict=True):
            p.share[(pol, y)] = part
        plan.indicators.append((zone, pol, y, max(total, 1)))

    # 2026 confirmations: ~95 % of the valid permits
    rng = stream(seed, "confirm")
    confirmed: set[str] = set()
    for p in permits:
        if rng.randrange(100) < 95 and not p.expired and VINTAGE in p.years():
            confirmed.add(p.code)
            for pol in SECTOR_POLLUTANTS[p.sector]:
                if p.allocated(pol) > 0:
                    plan.confirmations.append((p.code, pol))
    permitted: dict[tuple[str, str], int] = {
        (c, pol): by_code[c].allocated(pol) for c, pol in plan.confirmations}

    # verified surplus: ~15 % of the enterprises, SO2 / NOx / COD, 5-20 % of the confirmed
    rng = stream(seed, "verify")
    tradable: dict[tuple[str, str], int] = {}
    permits_of: dict[str, list[PlannedPermit]] = defaultdict(list)
    for p in permits:
        permits_of[p.enterprise].append(p)
    for e in ents:
        if rng.randrange(100) >= 15:
            continue
        for p in (q for q in permits_of[e.code] if q.code in confirmed):
            for pol in ("SO2", "NOx", "COD"):
                held = permitted.get((p.code, pol), 0)
                qty = held * rng.randint(50, 200) // 1000
                if qty > 0:
                    plan.verifications.append((p.code, pol, qty))
                    permitted[(p.code, pol)] = held - qty
                    tradable[(p.code, pol)] = qty

    # cash: every enterprise, 0.5-20 million yuan (large emitters hold more)
    rng = stream(seed, "cash")
    cash: dict[str, int] = {}
    for i, e in enumerate(ents):
        big = e.sector in ("thermal_power", "steel", "cement")
        wan = rng.randint(300, 2000) if big else rng.randint(50, 800)  # 10 000 yuan
        cash[e.code] = wan * 10_000 * 100
        plan.deposits.append((e.code, cash[e.code], f"demo-s{seed}-cash-{i:05d}"))

    # markets: every zone × pollutant of its medium, vintage 2026
    for z, _n in AIR_ZONES:
        for pol in AIR_POLLUTANTS:
            plan.markets.append((pol, z, _reference_price(pol)))
    for z, _n in WATER_ZONES:
        for pol in WATER:
            plan.markets.append((pol, z, _reference_price(pol)))

    _plan_book(plan, by_code, permitted, tradable, cash)
    _plan_users(plan, by_code, confirmed)
    return plan


def _plan_book(plan: DemoPlan, by_code: dict[str, PlannedPermit],
               permitted: dict[tuple[str, str], int],
               tradable: dict[tuple[str, str], int], cash: dict[str, int]) -> None:
    """In the markets with most sellers: executed trades on the last two business days, a
    resting non-crossing book this morning (asks at reference × 1.00-1.12, bids at
    × 0.88-0.99), then one of today's trades against the best ask.

    The model is conservative (sale proceeds are not counted as cash), so executing the
    orders in time order across markets never meets a check the plan did not foresee."""
    rng = stream(plan.seed, "book")
    sellers: dict[str, list[str]] = defaultdict(list)  # market -> permits with tradable
    holders: dict[str, list[str]] = defaultdict(list)  # market -> confirmed permits
    for (code, pol), _qty in permitted.items():
        m = asset_code(pol, plan.zone(by_code[code], pol), VINTAGE)
        holders[m].append(code)
        if tradable.get((code, pol), 0) > 0:
            sellers[m].append(code)
    ranked = sorted(sellers, key=lambda m: (-len(sellers[m]), m))[:6]
    ref = {asset_code(pol, z, VINTAGE): price for pol, z, price in plan.markets}
    pending_room: dict[tuple[str, str], int] = defaultdict(int)
    drafts: list[tuple[datetime, int, str, str, str, int, int, bool]] = []

    def add(at: datetime, permit: str, m: str, side: str, qty: int, price: int,
            fills: bool) -> int:
        drafts.append((at, len(drafts), permit, m, side, qty, price, fills))
        return len(drafts) - 1

    def headroom(code: str, pol: str) -> int:
        return by_code[code].cap(pol) - permitted[(code, pol)] - pending_room[(code, pol)]

    def buyer_qty(code: str, pol: str, want: int, price: int) -> int:
        q = min(want, headroom(code, pol), cash[by_code[code].enterprise] * 1000 // price)
        return _round_qty(q) if q > 0 else 0

    days = [_business_days_before(plan.today, 2), _business_days_before(plan.today, 1)]
    for mi, m in enumerate(ranked):
        pol, r = m.split("/")[0], ref[m]
        sell_list = sorted(sellers[m])
        rng.shuffle(sell_list)
        seller_ents = {by_code[c].enterprise for c in sell_list}
        buy_list = sorted(c for c in holders[m] if by_code[c].enterprise not in seller_ents
                          and headroom(c, pol) > 0)
        rng.shuffle(buy_list)
        # 1) executed trades: a sell at p, then a buy of the same quantity at p: both fill
        n_trades = min(2, len(sell_list), len(buy_list))
        for k in range(n_trades):
            s, b = sell_list[k], buy_list[k]
            price = _round_price(r * rng.randint(970, 1050) // 1000)
            want = _round_qty(tradable[(s, pol)] * rng.randint(20, 45) // 100)
            qty = buyer_qty(b, pol, want, price)
            if qty <= 0:
                continue
            at = at_beijing(days[k % 2], 10, 0, 600 * mi + 60 * k)
            add(at, s, m, "sell", qty, price, True)
            add(at + timedelta(seconds=30), b, m, "buy", qty, price, True)
            tradable[(s, pol)] -= qty
            permitted[(b, pol)] += qty
            cash[by_code[b].enterprise] -= _trade_fen(qty, price)
            plan.trades += 1
        # 2) this morning's resting book
        asks: list[tuple[int, int, int]] = []  # price, arrival, qty
        for k, s in enumerate(sell_list[:6]):
            qty = _round_qty(tradable[(s, pol)] * rng.randint(40, 100) // 100)
            if qty <= 0:
                continue
            price = _round_price(r * rng.randint(1000, 1120) // 1000)
            i = add(at_beijing(plan.today, 9, 30, 900 * mi + 60 * k), s, m, "sell", qty,
                    price, False)
            tradable[(s, pol)] -= qty
            asks.append((price, i, qty))
        bidders = buy_list[n_trades:n_trades + 6]
        for k, b in enumerate(bidders):
            price = _round_price(r * rng.randint(880, 990) // 1000)
            want = _round_qty(by_code[b].cap(pol) * rng.randint(2, 6) // 100)
            qty = buyer_qty(b, pol, want, price)
            if qty <= 0:
                continue
            add(at_beijing(plan.today, 9, 30, 900 * mi + 60 * k + 30), b, m, "buy", qty, price,
                False)
            pending_room[(b, pol)] += qty
            cash[by_code[b].enterprise] -= -(-qty * price // 1000)
        # 3) one of today's trades: a buyer takes part of the best ask (which stays open)
        rest = buy_list[n_trades + len(bidders):]
        if asks and rest:
            price, _i, ask_qty = min(asks)
            b = rest[0]
            qty = buyer_qty(b, pol, _round_qty(ask_qty * rng.randint(30, 60) // 100), price)
            if 0 < qty < ask_qty:
                add(at_beijing(plan.today, 11, 0, 600 * mi), b, m, "buy", qty, price, True)
                permitted[(b, pol)] += qty
                cash[by_code[b].enterprise] -= _trade_fen(qty, price)
                plan.trades += 1
    # execute in time order (stable within a market); ids follow that order
    for n, (at, _i, permit, m, side, qty, price, fills) in enumerate(sorted(drafts), start=1):
        o = PlannedOrder(f"demo-s{plan.seed}-o{n:05d}", by_code[permit].enterprise, permit,
                         m, side, qty, price, at)
        plan.orders.append(o)
        if not fills:
            plan.resting.append(o)
    live: dict[str, int] = defaultdict(int)
    for o in plan.resting:
        live[o.market] += 1
    plan.showcase_market = min(live, key=lambda m: (-live[m], m)) if live else None


def _trade_fen(qty: int, price: int) -> int:
    return int(trade_value(qty, price))


def _plan_users(plan: DemoPlan, by_code: dict[str, PlannedPermit], confirmed: set[str]) -> None:
    """officer, officer2 (the second pair of eyes for approvals), admin, analyst,
    district_officer (the district bureau of trader1's enterprise), enforcer (the city's
    enforcement department) and trader1..5 bound to enterprises that show the platform's
    cases."""
    chosen: list[str] = []

    def pick(cands: Sequence[str]) -> None:
        for c in cands:
            if c not in chosen:
                chosen.append(c)
                return

    show = [o for o in plan.resting if o.market == plan.showcase_market]
    pick([o.enterprise for o in show if o.side == "sell"])  # trader1: a resting seller
    pick([o.enterprise for o in show if o.side == "buy"])  # trader2: a resting buyer
    with_orders = {o.enterprise for o in plan.orders}
    pick([by_code[c].enterprise for c, _pol, _q in plan.verifications
          if by_code[c].enterprise not in with_orders])  # trader3: surplus, no order yet
    has_confirmed = {by_code[c].enterprise for c in confirmed}
    pick([p.enterprise for p in plan.permits if p.enterprise not in has_confirmed
          and not p.expired])  # trader4: its 2026 rights wait for the bureau
    pick([p.enterprise for p in plan.permits if p.expired])  # trader5: an expired permit
    for e in plan.enterprises:  # small demos: fill up
        if len(chosen) >= 5:
            break
        pick([e.code])
    names = {e.code: e.name for e in plan.enterprises}
    plan.users = [
        ("officer", "王建国(市生态环境局 排污权管理处)", "bureau_officer", None),
        ("officer2", "李晓梅(市生态环境局 排污权管理处)", "bureau_officer", None),
        ("admin", "系统管理员(市生态环境局)", "bureau_admin", None),
        ("analyst", "张研(市环境科学研究院)", "analyst", None),
    ]
    districts = {e.code: e.district for e in plan.enterprises}
    dnames = {d[0]: d[1] for d in DISTRICTS}
    if chosen:
        home = districts[chosen[0]]
        plan.users.append(("district_officer", f"赵区(区生态环境局 {dnames.get(home, home)})"[:80],
                           "bureau_officer", None))
        plan.scopes["district_officer"] = (home, None)
    plan.users.append(("enforcer", "陈执(市生态环境保护综合行政执法总队)", "bureau_officer", None))
    plan.scopes["enforcer"] = (None, "enforcement")
    for i, code in enumerate(chosen[:5], start=1):
        plan.users.append((f"trader{i}", f"交易员{i} · {names[code]}"[:80], "trader", code))

