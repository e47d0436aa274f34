"""Market surveillance (pure): unusual trades flagged for the bureau to look at.

Input is values, not rows: `Deal`s (continuous-market, listing and auction trades, and
negotiated transfers that are still live or settled) and each market's reference price. The
rules, each giving a `Flag`:

- ``price_deviation``: a deal priced more than `pct` % away from the market's reference
  price (the pollutant's base price when the market has none); decided in integers,
  |price − ref| × 100 > pct × ref, so the threshold itself is never flagged.
- ``self_dealing``: one enterprise on both sides (e.g. through two of its permits). The book's
  self-trade prevention cancels such orders and listings refuse their own seller, so on those
  venues this flag means a rule was bypassed; negotiated transfers are flagged as proposed.
- ``round_trip`` (wash trade): A sells to B and B sells back to A in the same market within
  `window_days` trading days (China Standard Time; 1 = the same trading day) at quantities
  within `qty_tolerance_pct` % of the larger one. Both legs are flagged, each naming the other.

Related accounts beyond one enterprise (a group of companies under one owner) are not in the
registry, so they cannot be flagged; the bureau sees the parties on every flag.
The result does not depend on the order of the deals (flags are sorted newest first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from kernel.clock import trading_day

KINDS = ("price_deviation", "self_dealing", "round_trip")
#: parties that are the bureau (reserve sales), never a counterparty of a wash trade
BUREAU_PARTIES = frozenset({"BUREAU", "RESERVE", ""})


@dataclass(frozen=True)
class Deal:
    """A trade (``book #12``, ``listing #13``) or a negotiated transfer (``transfer T1``)."""

    ref: str
    market: str
    venue: str  # book | listing | auction | negotiated
    seller: str
    buyer: str
    qty: int
    price: int  # fen per tonne
    at: datetime


@dataclass(frozen=True)
class Rules:
    pct: int = 20
    window_days: int = 1
    qty_tolerance_pct: int = 20

    def __post_init__(self) -> None:
        for name, lo, hi in (("pct", 1, 1000), ("window_days", 1, 366),
                             ("qty_tolerance_pct", 0, 100)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a whole number in [{lo}, {hi}]")


@dataclass(frozen=True)
class Flag:
    kind: str
    deal: Deal
    ref_price: int | None = None
    deviation_pct: Decimal | None = None  # one decimal, for display
    other: str | None = None  # the other leg of a round trip

    def row(self) -> dict[str, object]:
        """Plain values for pages and the API."""
        d = self.deal
        return dict(kind=self.kind, market=d.market, deal=d.ref, venue=d.venue,
                    at=_aware(d.at).isoformat(), seller=d.seller, buyer=d.buyer, qty=d.qty,
                    price=d.price, ref_price=self.ref_price,
                    deviation_pct=None if self.deviation_pct is None else str(
                        self.deviation_pct), other=self.other)


def _day(at: datetime) -> date:
    return trading_day(at if at.tzinfo is not None else at.replace(tzinfo=UTC))


def deviates(price: int, ref: int, pct: int) -> bool:
    """More than `pct` % away from `ref` (exact, in integers)."""
    return abs(price - ref) * 100 > pct * ref


def deviation_pct(price: int, ref: int) -> Decimal:
    return (Decimal(abs(price - ref) * 100) / Decimal(ref)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def similar(a: int, b: int, tolerance_pct: int) -> bool:
    """|a − b| at most `tolerance_pct` % of the larger quantity."""
    return abs(a - b) * 100 <= tolerance_pct * max(a, b)


def round_trips(deals: Sequence[Deal], rules: Rules) -> dict[str, list[str]]:
    """For each deal that is a leg of a round trip, the refs of its other legs."""
    by_pair: dict[tuple[str, frozenset[str]], list[Deal]] = defaultdict(list)
    for d in deals:
        if d.seller == d.buyer or d.seller in BUREAU_PARTIES or d.buyer in BUREAU_PARTIES:
            continue
        by_pair[d.market, frozenset((d.seller, d.buyer))].append(d)
    legs: dict[str, list[str]] = defaultdict(list)
    for group in by_pair.values():
        if len(group) < 2:
            continue
        days = {d.ref: _day(d.at) for d in group}
        for i, x in enumerate(group):
            for y in group[i + 1:]:
                if (x.seller == y.buyer and abs((days[x.ref] - days[y.ref]).days)
                        < rules.window_days and similar(x.qty, y.qty, rules.qty_tolerance_pct)):
                    legs[x.ref].append(y.ref)
                    legs[y.ref].append(x.ref)
    return {k: sorted(v) for k, v in legs.items()}


def unusual(deals: Iterable[Deal], refs: Mapping[str, int], rules: Rules = Rules()
            ) -> list[Flag]:
    """Every flag of `deals`, newest first. `refs`: market → reference price (fen/t);
    a deal of a market without one is not checked for price."""
    deals = sorted(deals, key=lambda d: (d.market, _aware(d.at), d.ref))
    trips = round_trips(deals, rules)
    flags: list[Flag] = []
    for d in deals:
        ref = refs.get(d.market)
        if ref and deviates(d.price, ref, rules.pct):
            flags.append(Flag("price_deviation", d, ref, deviation_pct(d.price, ref)))
        if d.seller == d.buyer:
            flags.append(Flag("self_dealing", d, ref))
        for other in trips.get(d.ref, ()):
            flags.append(Flag("round_trip", d, ref, other=other))
    flags.sort(key=lambda f: (_aware(f.deal.at), f.deal.ref, f.kind, f.other or ""),
               reverse=True)
    return flags


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
