"""The enterprise's order form offers only what its permits can trade (issue 18).

A permit can trade a market (pollutant/zone/vintage) when it is valid today and carries a
permitted quantity for that pollutant, zone and year, or holds rights of that market. Beside
the inputs the form shows, for each such (permit, market): the sellable quantity (the
available balance of the permit's tradable account, in tonnes), the day's price band
(yuan/t) and the trading fee. The order's time in force is offered in words. The order gate
(`Permits.check_trading_permit`) stays the rule; this only keeps the form from offering
markets the gate would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trading.market import MarketRules

#: time in force, in words (the codes are the API's)
TIFS: tuple[tuple[str, str], ...] = (
    ("gtc", "Good till cancelled"),
    ("ioc", "Fill what you can now, cancel the rest"),
    ("fok", "Fill it all now or cancel it"),
)


def _band(m: Mapping[str, Any]) -> tuple[int, int] | None:
    return MarketRules(str(m.get("state", "open")), int(m.get("tick") or 1),
                       int(m.get("min_lot") or 1), m.get("reference_price"),
                       m.get("band_pct")).price_band()


def tradable_positions(permits: Sequence[Mapping[str, Any]], markets: Iterable[Mapping[str, Any]],
                       holdings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (permit, market) the permit can trade, in permit then market order:
    the market's data, ``sellable_kg`` and ``price_band`` (fen/t, or None)."""
    by_id = {str(m["id"]): m for m in markets}
    sellable: dict[tuple[str, str], int] = {}
    held: set[tuple[str, str]] = set()
    for h in holdings:
        key = (str(h["holder"]), str(h["asset"]))
        if h["kind"] == "tradable":
            sellable[key] = int(h["available"])  # type: ignore[call-overload]
        if int(h["balance"]) > 0:  # type: ignore[call-overload]
            held.add(key)
    rows: list[dict[str, Any]] = []
    for p in permits:
        if p.get("status", "valid") != "valid":
            continue  # expired, revoked or cancelled: the gate refuses every order
        code = str(p["code"])
        ids = {f"{q['pollutant']}/{q['zone']}/{q['year']}" for q in p.get("quantities", ())}
        ids |= {asset for holder, asset in held if holder == code}
        for mid in sorted(i for i in ids if i in by_id):
            m = by_id[mid]
            rows.append(dict(permit=code, market=mid, pollutant=m["pollutant"],
                             zone=m["zone"], vintage=m["vintage"], state=m["state"],
                             min_lot=m.get("min_lot") or 1,
                             sellable_kg=sellable.get((code, mid), 0), price_band=_band(m),
                             reference_price=m.get("reference_price")))
    return rows


def order_entry(permits: Sequence[Mapping[str, Any]], markets: Sequence[Mapping[str, Any]],
                holdings: Iterable[Mapping[str, Any]], *, fee_bps: int,
                wanted_market: str | None) -> dict[str, Any]:
    """What the order form offers: the positions, the markets and permits among them, and
    the market selected (the one asked for if tradable, else the first)."""
    rows = tradable_positions(permits, markets, holdings)
    ids = sorted({r["market"] for r in rows})
    selected = wanted_market if wanted_market in ids else (ids[0] if ids else None)
    labels = {r["market"]: dict(pollutant=r["pollutant"], zone=r["zone"], vintage=r["vintage"])
              for r in rows}
    return dict(positions=rows, markets=ids, labels=labels,
                permits=sorted({r["permit"] for r in rows}),
                selected=selected, fee_bps=fee_bps, fee_pct=f"{fee_bps / 100:.2f}",
                tifs=TIFS)
