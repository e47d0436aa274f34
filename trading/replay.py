"""Replay a stream of order commands through an `OrderBook` and emit the fills.

Input: one JSON object per line (blank lines skipped)::

    {"op":"limit","id":..,"side":"buy"|"sell","price":..,"qty":..,"owner":..,"tif":"gtc"|"ioc"|"fok"}
    {"op":"market","id":..,"side":"buy"|"sell","qty":..,"owner":..}
    {"op":"cancel","id":..}

Optional on limit and market: ``"post_only"`` (bool), ``"stp"`` (a self-trade policy); on
limit ``"tif"`` defaults to ``"gtc"``; on market ``"tif"`` may be ``"fok"`` (all or nothing),
anything else behaves as a plain market order. ``"owner"`` may be omitted: the order then gets
an owner of its own, so self-trade prevention never applies to it. Ids are JSON strings or
integers and are echoed exactly as given (``1`` and ``"1"`` are different ids). Keys not listed
here are ignored.

Output: one compact JSON line per fill, in execution order::

    {"maker":..,"taker":..,"price":..,"qty":..}

Guarantees: same input, same output. Cancelling an order that is not live changes nothing.
An order the book's rules reject (duplicate id, below the minimum lot, outside the price band,
post-only on a non-GTC order) produces no fills and no error, as in the live market.
A line that is not a well-formed command (bad JSON, unknown op, missing or mistyped field,
non-positive quantity or price) raises `ReplayInputError` naming the line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from trading.book import OrderBook
from trading.errors import ReplayInputError

_SIDES = ("buy", "sell")
_TIFS = ("gtc", "ioc", "fok")
_STPS = ("cancel_newest", "cancel_oldest", "cancel_both")


def _bad(lineno: int, message: str, field: str | None = None) -> ReplayInputError:
    return ReplayInputError(f"line {lineno}: {message}", field=field, line=lineno)


def _positive_int(cmd: dict[str, Any], key: str, lineno: int) -> int:
    if key not in cmd:
        raise _bad(lineno, f"missing {key!r}", key)
    value = cmd[key]
    if type(value) is not int or value <= 0:
        raise _bad(lineno, f"{key!r} must be a positive integer, got {value!r}", key)
    return value


def _id(cmd: dict[str, Any], lineno: int) -> str:
    """The id as its JSON text: keeps 1 and "1" apart and is ready for the output line."""
    if "id" not in cmd:
        raise _bad(lineno, "missing 'id'", "id")
    value = cmd["id"]
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return json.dumps(value, ensure_ascii=False)
    raise _bad(lineno, f"'id' must be a string or an integer, got {value!r}", "id")


def _choice(cmd: dict[str, Any], key: str, allowed: tuple[str, ...], lineno: int) -> Any:
    value = cmd[key]
    if value not in allowed:
        raise _bad(lineno, f"{key!r} must be one of {', '.join(allowed)}; got {value!r}", key)
    return value


def _order(cmd: dict[str, Any], op: str, oid: str, lineno: int) -> tuple[Any, ...]:
    if "side" not in cmd:
        raise _bad(lineno, "missing 'side'", "side")
    side = _choice(cmd, "side", _SIDES, lineno)
    qty = _positive_int(cmd, "qty", lineno)
    tif: Any
    if op == "limit":
        price: int | None = _positive_int(cmd, "price", lineno)
        tif = _choice(cmd, "tif", _TIFS, lineno) if "tif" in cmd else "gtc"
    else:
        if cmd.get("price") is not None:
            raise _bad(lineno, "a market order has no price", "price")
        price = None
        tif = _choice(cmd, "tif", _TIFS, lineno) if "tif" in cmd else "ioc"
    owner = cmd.get("owner")
    if owner is None:
        owner = "\x00" + oid  # an owner of its own: no self-trade prevention
    elif type(owner) is int:
        owner = str(owner)
    elif type(owner) is not str:
        raise _bad(lineno, f"'owner' must be a string, got {owner!r}", "owner")
    post_only = cmd.get("post_only", False)
    if type(post_only) is not bool:
        raise _bad(lineno, f"'post_only' must be true or false, got {post_only!r}", "post_only")
    stp: Any = _choice(cmd, "stp", _STPS, lineno) if "stp" in cmd else "cancel_newest"
    return (oid, owner, side, qty, price, tif, post_only, stp)


def replay(
    lines: Iterable[str],
    *,
    min_lot: int | None = None,
    price_band: tuple[int, int] | None = None,
) -> Iterator[str]:
    """Yield one JSON line (without newline) per fill, lazily, as the input is read."""
    book = OrderBook(min_lot=min_lot or 1, price_band=price_band)
    submit = book.submit_fast
    fills = book.fills
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad(lineno, f"not valid JSON ({exc.msg})") from None
        if type(cmd) is not dict:
            raise _bad(lineno, "expected a JSON object")
        op = cmd.get("op")
        if op == "cancel":
            book.cancel(_id(cmd, lineno))
            continue
        if op != "limit" and op != "market":
            raise _bad(lineno, f"'op' must be limit, market or cancel; got {op!r}", "op")
        order = _order(cmd, op, _id(cmd, lineno), lineno)
        submit(*order)
        taker = order[0]
        for maker, _owner, price, qty in fills:
            yield f'{{"maker":{maker},"taker":{taker},"price":{price},"qty":{qty}}}'
