"""Apportioning a regional total-control indicator in whole kilograms.

Guarantees of `largest_remainder` (Hamilton's method), in exact rational arithmetic:
- the parts sum exactly to the total;
- each part is the floor or the ceiling of its exact share total × w_i / Σw, so it is
  within 1 kg of it;
- a zero weight gets zero;
- the leftover kilograms go to the largest fractional remainders, ties to the lower index,
  so the result depends only on the inputs (no hash or float order).

`apportion` first sets the reserve aside (indicator × reserve share, half-even, quantised once)
and apportions the rest by one of three rules: ``pro_rata`` to calculated caps,
``grandfathering`` on historical emissions, ``benchmark`` on performance value × activity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from allocation.errors import ApportionmentError

METHODS = ("pro_rata", "grandfathering", "benchmark")

Weight = int | Decimal | float | Fraction | str


def _exact(w: Weight, field: str) -> Fraction:
    if isinstance(w, bool):
        raise ApportionmentError(f"{field} must be a number, got {w!r}", field=field)
    try:
        if isinstance(w, float):
            if not math.isfinite(w):
                raise ApportionmentError(f"{field} must be finite", field=field)
            f = Fraction(w)
        elif isinstance(w, int | Fraction):
            f = Fraction(w)
        elif isinstance(w, Decimal | str):
            d = Decimal(w)
            if not d.is_finite():
                raise ApportionmentError(f"{field} must be finite", field=field)
            f = Fraction(d)
        else:
            raise ApportionmentError(f"{field} must be a number, got {w!r}", field=field)
    except (InvalidOperation, ValueError):
        raise ApportionmentError(f"{field} must be a number, got {w!r}", field=field) from None
    if f < 0:
        raise ApportionmentError(f"{field} must not be negative", field=field)
    return f


def largest_remainder(total: int, weights: Sequence[Weight]) -> list[int]:
    """Split `total` kg in proportion to `weights`; see the module docstring."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ApportionmentError("total must be a non-negative whole number", field="total")
    exact = [_exact(w, f"weights[{i}]") for i, w in enumerate(weights)]
    if not exact:
        if total:
            raise ApportionmentError("nothing to apportion to", field="weights")
        return []
    # scale to integers: a common denominator keeps every share exact
    denom = math.lcm(*(f.denominator for f in exact))
    ints = [f.numerator * (denom // f.denominator) for f in exact]
    whole = sum(ints)
    if whole == 0:
        if total:
            raise ApportionmentError("all weights are zero", field="weights")
        return [0] * len(ints)
    parts: list[int] = []
    rems: list[int] = []
    for w in ints:
        q, r = divmod(total * w, whole)
        parts.append(q)
        rems.append(r)
    left = total - sum(parts)
    # left < number of positive remainders, so a zero weight (remainder 0) never gets one
    for i in sorted(range(len(ints)), key=lambda i: (-rems[i], i))[:left]:
        parts[i] += 1
    return parts


def reserve_kg(indicator_kg: int, reserve_share: Decimal | str) -> int:
    """The part of an indicator set aside as reserve: indicator × share, half-even."""
    share = _share(reserve_share)
    return int((indicator_kg * share).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _share(reserve_share: Decimal | str) -> Decimal:
    if isinstance(reserve_share, float | bool):
        raise ApportionmentError(
            "reserve_share must be a Decimal or decimal text, not a float", field="reserve_share"
        )
    try:
        share = Decimal(reserve_share)
    except (InvalidOperation, TypeError, ValueError):
        raise ApportionmentError(
            f"reserve_share must be a decimal, got {reserve_share!r}", field="reserve_share"
        ) from None
    if not share.is_finite() or not 0 <= share <= 1:
        raise ApportionmentError("reserve_share must be between 0 and 1", field="reserve_share")
    return share


def _entry_weight(entry: Mapping[str, Any], method: str, at: str) -> Fraction:
    if method == "pro_rata":
        return _exact(_required(entry, "calculated_cap_kg", at), f"{at}.calculated_cap_kg")
    if method == "grandfathering":
        return _exact(_required(entry, "historical_kg", at), f"{at}.historical_kg")
    pv = _exact(_required(entry, "performance_value", at), f"{at}.performance_value")
    activity = _exact(_required(entry, "activity", at), f"{at}.activity")
    return pv * activity


def _required(entry: Mapping[str, Any], key: str, at: str) -> Any:
    if key not in entry:
        raise ApportionmentError(f"{at}.{key} is missing", field=f"{at}.{key}")
    return entry[key]


def apportion(
    indicator_kg: int,
    reserve_share: Decimal | str,
    entries: Sequence[Mapping[str, Any]],
    method: str = "pro_rata",
) -> dict[str, int]:
    """Apportion an indicator, net of the reserve, to entries; id -> kg.

    Each entry is a mapping with ``id`` and, by method: ``calculated_cap_kg`` (pro_rata),
    ``historical_kg`` (grandfathering), ``performance_value`` and ``activity`` (benchmark).
    The parts sum to ``indicator_kg - reserve_kg(indicator_kg, reserve_share)``. A part may
    exceed an entry's calculated cap: the permit takes the minimum of its bases later.
    """
    if isinstance(indicator_kg, bool) or not isinstance(indicator_kg, int) or indicator_kg < 0:
        raise ApportionmentError(
            "indicator_kg must be a non-negative whole number", field="indicator_kg"
        )
    if method not in METHODS:
        raise ApportionmentError(
            f"unknown method {method!r} (use one of: {', '.join(METHODS)})", field="method"
        )
    ids: list[str] = []
    weights: list[Fraction] = []
    for i, entry in enumerate(entries):
        at = f"entries[{i}]"
        if not isinstance(entry, Mapping):
            raise ApportionmentError(f"{at} must be an object", field=at)
        eid = entry.get("id")
        if not isinstance(eid, str) or not eid:
            raise ApportionmentError(f"{at}.id must be a non-empty string", field=f"{at}.id")
        if eid in ids:
            raise ApportionmentError(f"id {eid!r} listed twice", field=f"{at}.id")
        ids.append(eid)
        weights.append(_entry_weight(entry, method, at))
    pool = indicator_kg - reserve_kg(indicator_kg, reserve_share)
    if pool and (not weights or not any(weights)):
        raise ApportionmentError("no entry has a positive weight", field="entries")
    return dict(zip(ids, largest_remainder(pool, weights), strict=True))


def largest_remainder_array(total: int, weights: Any) -> Any:
    """`largest_remainder` for a numpy array of non-negative integer weights (int64 result).

    The same parts, exactly: integer division and remainders in int64 when
    ``total × max(weight)`` and ``Σ weights`` stay below 2^62, else the exact Python path.
    Ties go to the lower index (a stable sort on the remainders).
    """
    import numpy as np

    w = np.asarray(weights)
    if w.ndim != 1 or (w.size and not np.issubdtype(w.dtype, np.integer)):
        raise ApportionmentError("weights must be a 1-d integer array", field="weights")
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 0:
        raise ApportionmentError("total must be a non-negative whole number", field="total")
    total = int(total)
    if w.size == 0:
        if total:
            raise ApportionmentError("nothing to apportion to", field="weights")
        return np.zeros(0, dtype=np.int64)
    if int(w.min()) < 0:
        raise ApportionmentError("weights must not be negative", field="weights")
    whole = int(w.sum(dtype=object)) if w.size else 0
    if whole == 0:
        if total:
            raise ApportionmentError("all weights are zero", field="weights")
        return np.zeros(w.size, dtype=np.int64)
    limit = 2**62
    if total * int(w.max()) >= limit or whole >= limit:
        return np.array(largest_remainder(total, [int(x) for x in w]), dtype=np.int64)
    prod = w.astype(np.int64) * np.int64(total)
    parts = prod // whole
    rems = prod - parts * whole
    left = total - int(parts.sum())
    if left:
        order = np.argsort(-rems, kind="stable")[:left]
        parts[order] += 1
    return parts
