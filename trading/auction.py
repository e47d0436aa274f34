"""Sealed-bid auction clearing (DOMAIN.md section 4): uniform price or pay-as-bid.

Rules, in the order they are applied:

1. Bids priced below the reserve price are ignored.
2. The remaining bids are ranked by price, highest first; equal prices are ranked by a random
   order fixed by ``tie_seed`` before looking at the bids' contents:
   ``perm = list(range(len(bids))); random.Random(tie_seed).shuffle(perm)`` and bid ``i`` has
   tie rank ``perm[i]`` (lower goes first). Same bids and seed, same result.
3. Walking the ranking, each bid is filled up to its quantity, up to what is left of the
   offer, and, with ``bidder_cap_pct``, up to what is left of its bidder's cap
   ``floor(offered * pct / 100)`` (computed exactly from the decimal text of ``pct``). A bid
   cut by the cap takes what fits; the excess is skipped and later bids can fill it.
4. The bid at which the cumulative allocation reaches ``offered`` is the marginal bid; it
   gets the remainder, and its price is the clearing price. If the walk ends first (demand at
   or above the reserve, within the caps, is short of the offer) the auction is cancelled with
   reason ``"undersubscribed"`` and nothing is allocated.
5. Uniform price: every winner pays the clearing price. Pay-as-bid: each pays its own bid, and
   ``price`` reports the lowest accepted bid (the marginal bid's price).

Quantities are kg, prices fen per tonne, all integers. Errors are `AuctionInputError`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal, NamedTuple

from trading.errors import AuctionInputError

Rule = Literal["uniform", "pay_as_bid"]
RULES: tuple[Rule, ...] = ("uniform", "pay_as_bid")


@dataclass(frozen=True, slots=True)
class Bid:
    bidder: str
    qty: int  # kg
    price: int  # fen per tonne


class AuctionFill(NamedTuple):
    """One accepted bid, for settlement: what bid `bid_index` receives and pays per tonne."""

    bid_index: int
    bidder: str
    qty: int
    price: int


@dataclass(frozen=True, slots=True)
class AuctionResult:
    status: Literal["cleared", "cancelled"]
    price: int | None
    allocations: dict[str, int] = field(default_factory=dict)  # bidder -> kg, only > 0
    fills: list[AuctionFill] = field(default_factory=list)  # in ranking order
    reason: str | None = None


def bidder_cap(offered: int, pct: float | int | str | Decimal) -> int:
    """floor(offered * pct / 100), exact for the decimal text of pct (25.1 means 25.1)."""
    try:
        exact = Fraction(Decimal(str(pct)))
    except (InvalidOperation, ValueError, OverflowError):
        raise AuctionInputError(
            f"bidder cap must be a number: {pct!r}", field="bidder_cap_pct"
        ) from None
    if not 0 < exact <= 100:
        raise AuctionInputError(
            f"bidder cap must be in (0, 100] percent: {pct!r}", field="bidder_cap_pct"
        )
    return int(offered * exact // 100)


def _is_int(v: object) -> bool:
    return type(v) is int


def clear(
    offered: int,
    reserve_price: int,
    bids: Sequence[Bid],
    *,
    rule: Rule = "uniform",
    tie_seed: int = 0,
    bidder_cap_pct: float | int | str | Decimal | None = None,
) -> AuctionResult:
    """Clear one sealed-bid auction. See the module docstring for the rules."""
    if not _is_int(offered) or offered <= 0:
        raise AuctionInputError(f"offered must be a positive integer: {offered!r}", field="offered")
    if not _is_int(reserve_price) or reserve_price < 0:
        raise AuctionInputError(
            f"reserve price must be a non-negative integer: {reserve_price!r}",
            field="reserve_price",
        )
    if rule not in RULES:
        raise AuctionInputError(f"rule must be uniform or pay_as_bid: {rule!r}", field="rule")
    if not _is_int(tie_seed):
        raise AuctionInputError(f"tie seed must be an integer: {tie_seed!r}", field="tie_seed")
    cap = None if bidder_cap_pct is None else bidder_cap(offered, bidder_cap_pct)

    n = len(bids)
    prices = [b.price for b in bids]
    qtys = [b.qty for b in bids]
    if n and not (
        all(type(x) is int for x in prices)
        and all(type(x) is int for x in qtys)
        and min(prices) > 0
        and min(qtys) > 0
    ):
        for i in range(n):
            if not _is_int(qtys[i]) or qtys[i] <= 0:
                raise AuctionInputError(
                    f"bid {i}: qty must be a positive integer", field=f"bids[{i}].qty"
                )
            if not _is_int(prices[i]) or prices[i] <= 0:
                raise AuctionInputError(
                    f"bid {i}: price must be a positive integer", field=f"bids[{i}].price"
                )

    perm = list(range(n))
    random.Random(tie_seed).shuffle(perm)
    # One int key per bid: price descending, then tie rank ascending.
    keys = [rank - price * n for rank, price in zip(perm, prices, strict=True)]
    ranking = sorted(range(n), key=keys.__getitem__)

    remaining = offered
    allocations: dict[str, int] = {}
    taken: list[tuple[int, str, int]] = []
    marginal_price: int | None = None
    for i in ranking:
        b = bids[i]
        if b.price < reserve_price:
            break
        take = b.qty
        if cap is not None:
            room = cap - allocations.get(b.bidder, 0)
            if room <= 0:
                continue
            if take > room:
                take = room
        if take > remaining:
            take = remaining
        allocations[b.bidder] = allocations.get(b.bidder, 0) + take
        taken.append((i, b.bidder, take))
        remaining -= take
        if not remaining:
            marginal_price = b.price
            break

    if marginal_price is None:
        return AuctionResult("cancelled", None, {}, [], "undersubscribed")
    if rule == "uniform":
        fills = [AuctionFill(i, bidder, q, marginal_price) for i, bidder, q in taken]
    else:
        fills = [AuctionFill(i, bidder, q, bids[i].price) for i, bidder, q in taken]
    return AuctionResult("cleared", marginal_price, allocations, fills, None)


def _field(doc: Mapping[str, Any], key: str, *, required: bool = True, default: Any = None) -> Any:
    if key not in doc:
        if required:
            raise AuctionInputError(f"missing {key!r}", field=key)
        return default
    return doc[key]


def clear_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Clear an auction described by a JSON document.

    Input: ``{"offered": kg, "reserve_price": fen_per_t, "rule": "uniform"|"pay_as_bid",
    "tie_seed": int, "bidder_cap_pct": number|null, "bids": [{"bidder", "qty", "price"}]}``;
    ``rule`` defaults to uniform, ``tie_seed`` to 0, ``bidder_cap_pct`` to none.
    Output: ``{"status", "price", "allocations", "reason"}``, allocations sorted by bidder.
    Malformed input raises `AuctionInputError` with `field` naming the culprit (``bids[3].qty``).
    """
    if not isinstance(doc, Mapping):
        raise AuctionInputError("expected a JSON object")
    offered = _field(doc, "offered")
    if not _is_int(offered) or offered <= 0:
        raise AuctionInputError(f"offered must be a positive integer: {offered!r}", field="offered")
    reserve = _field(doc, "reserve_price")
    if not _is_int(reserve) or reserve < 0:
        raise AuctionInputError(
            f"reserve_price must be a non-negative integer: {reserve!r}", field="reserve_price"
        )
    rule = _field(doc, "rule", required=False, default="uniform")
    if rule not in RULES:
        raise AuctionInputError(f"rule must be uniform or pay_as_bid: {rule!r}", field="rule")
    seed = _field(doc, "tie_seed", required=False, default=0)
    if not _is_int(seed):
        raise AuctionInputError(f"tie_seed must be an integer: {seed!r}", field="tie_seed")
    pct = _field(doc, "bidder_cap_pct", required=False, default=None)
    if pct is not None and type(pct) not in (int, float):
        raise AuctionInputError(
            f"bidder_cap_pct must be a number or null: {pct!r}", field="bidder_cap_pct"
        )
    raw_bids = _field(doc, "bids")
    if not isinstance(raw_bids, list):
        raise AuctionInputError("bids must be a list", field="bids")
    bids: list[Bid] = []
    for i, rb in enumerate(raw_bids):
        if not isinstance(rb, Mapping):
            raise AuctionInputError(f"bid {i} must be an object", field=f"bids[{i}]")
        for key in ("bidder", "qty", "price"):
            if key not in rb:
                raise AuctionInputError(f"bid {i}: missing {key!r}", field=f"bids[{i}].{key}")
        bidder, qty, price = rb["bidder"], rb["qty"], rb["price"]
        if type(bidder) is not str or not bidder:
            raise AuctionInputError(
                f"bid {i}: bidder must be a non-empty string", field=f"bids[{i}].bidder"
            )
        if not _is_int(qty) or qty <= 0:
            raise AuctionInputError(
                f"bid {i}: qty must be a positive integer (kg)", field=f"bids[{i}].qty"
            )
        if not _is_int(price) or price <= 0:
            raise AuctionInputError(
                f"bid {i}: price must be a positive integer (fen per tonne)",
                field=f"bids[{i}].price",
            )
        bids.append(Bid(bidder, qty, price))
    result = clear(offered, reserve, bids, rule=rule, tie_seed=seed, bidder_cap_pct=pct)
    return {
        "status": result.status,
        "price": result.price,
        "allocations": dict(sorted(result.allocations.items())),
        "reason": result.reason,
    }
