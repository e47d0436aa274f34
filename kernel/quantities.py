"""Integer quantities: emission rights in kilograms, money in fen, prices in fen per tonne.

No float ever becomes a `Kg` or a `Fen`: conversions from decimal text or `Decimal` are
quantised once, half-even.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NewType

from kernel.errors import InvalidInput

Kg = NewType("Kg", int)
Fen = NewType("Fen", int)
#: price in fen per tonne
FenPerT = NewType("FenPerT", int)

KG_PER_T = 1000
FEN_PER_YUAN = 100


def kg(value: int) -> Kg:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"quantity must be a whole number of kg, got {value!r}")
    return Kg(value)


def positive_kg(value: int, field: str = "qty") -> Kg:
    q = kg(value)
    if q <= 0:
        raise InvalidInput(f"{field} must be a positive number of kg", field=field)
    return q


def tonnes_to_kg(t: Decimal | str | int) -> Kg:
    """Tonnes (3 decimals, as published permits give them) to whole kilograms, half-even."""
    d = Decimal(str(t)) * KG_PER_T
    return Kg(int(d.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))


def kg_to_tonnes(q: int) -> Decimal:
    return (Decimal(q) / KG_PER_T).quantize(Decimal("0.001"))


def trade_value(qty_kg: int, price_fen_per_t: int) -> Fen:
    """Value of a trade: qty_kg × price / 1000, rounded half-even, once, in integers."""
    n = qty_kg * price_fen_per_t
    q, r = divmod(n, KG_PER_T)
    twice = 2 * r
    if twice > KG_PER_T or (twice == KG_PER_T and q % 2 == 1):
        q += 1
    return Fen(q)


def yuan(fen: int) -> str:
    """Fen as a yuan string with two decimals, for display."""
    sign = "-" if fen < 0 else ""
    a = abs(fen)
    return f"{sign}{a // 100:,}.{a % 100:02d}"


def decimal_field(value: Any, fld: str, error: Callable[[str, str], Exception], *,
                  lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal:
    """A number from an input document (int, float or text) as a finite Decimal within
    [lo, hi]; anything else raises `error(message, fld)`. Floats go through `repr` so 0.1
    stays 0.1."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise error(f"{fld} must be a number, got {value!r}", fld)
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise error(f"{fld} must be a number, got {value!r}", fld) from None
    if not d.is_finite():
        raise error(f"{fld} must be finite", fld)
    if lo is not None and d < lo:
        raise error(f"{fld} must be at least {lo}", fld)
    if hi is not None and d > hi:
        raise error(f"{fld} must be at most {hi}", fld)
    return d
