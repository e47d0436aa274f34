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
here are ignored. Lines are `str` or UTF-8 `bytes` (the CLI reads bytes: lines end at ``\\n``).

Output: one compact JSON line per fill, in execution order::

    {"maker":..,"taker":..,"price":..,"qty":..}

Guarantees: same input, same output. Cancelling an order that is not live changes nothing.
An order the book's rules reject (duplicate id, below the minimum lot, outside the price band,
post-only on a non-GTC order) produces no fills and no error, as in the live market.
A line that is not a well-formed command (bad JSON, bad UTF-8, unknown op, missing or mistyped
field, non-positive quantity or price, a string id that is not Unicode text) raises
`ReplayInputError` naming the line number.

How a line is read: msgspec decodes it straight into a typed command (`_Limit`, `_Market`,
`_Cancel`), checking types, choices and positive quantities in C. Any line that fast path
refuses is read again by the reference path (the standard library's ``json`` and the checks
below), which either accepts it (JSON the typed decoder does not take: a repeated key, a NaN
in an ignored key, a lone surrogate in an owner) or raises the error this module always gave
for it. So the typed decoder only ever accelerates: the output and the errors are those of the
reference path, which ``decoder="json"`` runs alone (tests compare the two; the bench
`bench/bench_replay.py` times them, and ``decoder="orjson"``, orjson's dicts checked in
Python, which measured slower than msgspec's typed decode, see docs/benchmarks.md).

Compatibility with the stdlib-only replay: the same fills, byte for byte, and the same error
messages. Two inputs that used to end in a traceback in `erts replay` are now bad lines: a
line that is not UTF-8 (`ReplayNotText`, code ``not_text`` as for any binary input to
`erts`: ``line L: not valid UTF-8 (byte N)``, N counted from 0 in the line) and a
string id holding a lone surrogate such as ``"\\ud800"`` (no UTF-8 form to print). The CLI
reads bytes, so only ``\\n`` (or ``\\r\\n``) ends a line; a bare ``\\r`` no longer does. A
line holding a raw control character (U+0000 to U+001F but tab, line feed and carriage
return; never valid JSON) is refused as binary, ``not_text``, where it used to be ``not valid
JSON``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Literal

import msgspec

from trading.book import OrderBook
from trading.errors import ReplayInputError

_SIDES = ("buy", "sell")
_TIFS = ("gtc", "ioc", "fok")
_STPS = ("cancel_newest", "cancel_oldest", "cancel_both")

_Positive = Annotated[int, msgspec.Meta(gt=0)]
_Side = Literal["buy", "sell"]
_Tif = Literal["gtc", "ioc", "fok"]
_Stp = Literal["cancel_newest", "cancel_oldest", "cancel_both"]


class _Limit(msgspec.Struct, tag_field="op", tag="limit"):
    id: int | str
    side: _Side
    price: _Positive
    qty: _Positive
    owner: str | int | None = None
    tif: _Tif = "gtc"
    post_only: bool = False
    stp: _Stp = "cancel_newest"


class _Market(msgspec.Struct, tag_field="op", tag="market"):
    id: int | str
    side: _Side
    qty: _Positive
    price: None = None
    owner: str | int | None = None
    tif: _Tif = "ioc"
    post_only: bool = False
    stp: _Stp = "cancel_newest"


class _Cancel(msgspec.Struct, tag_field="op", tag="cancel"):
    id: int | str


_decode_typed = msgspec.json.Decoder(_Limit | _Market | _Cancel).decode
_encode = msgspec.json.encode  # a str's JSON text, as json.dumps(s, ensure_ascii=False)

#: C0 controls other than JSON's whitespace: never in a JSON text (in a string they must be
#: escaped), so a line holding one is binary content, reported as such (``not_text``)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: what a command reads as: ("cancel", id) or the `OrderBook.submit_fast` arguments
_Command = tuple[Any, ...]


class ReplayNotText(ReplayInputError):
    """A line of the stream is not UTF-8 text: the code every `erts` command gives binary input
    (``not_text``), with the line number replay adds."""

    code = "not_text"


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
        try:
            return _encode(value).decode()
        except UnicodeEncodeError:  # a lone surrogate ("\ud800"): no UTF-8 output for it
            raise _bad(lineno, f"'id' must be Unicode text, got {value!r}", "id") from None
    raise _bad(lineno, f"'id' must be a string or an integer, got {value!r}", "id")


def _choice(cmd: dict[str, Any], key: str, allowed: tuple[str, ...], lineno: int) -> Any:
    value = cmd[key]
    if value not in allowed:
        raise _bad(lineno, f"{key!r} must be one of {', '.join(allowed)}; got {value!r}", key)
    return value


def _order(cmd: dict[str, Any], op: str, oid: str, lineno: int) -> _Command:
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


def _checked(cmd: Any, lineno: int) -> _Command:
    """The reference checks of a decoded line (a dict from ``json`` or orjson)."""
    if type(cmd) is not dict:
        raise _bad(lineno, "expected a JSON object")
    op = cmd.get("op")
    if op == "cancel":
        return ("cancel", _id(cmd, lineno))
    if op != "limit" and op != "market":
        raise _bad(lineno, f"'op' must be limit, market or cancel; got {op!r}", "op")
    return _order(cmd, op, _id(cmd, lineno), lineno)


def _reference(line: str | bytes, lineno: int) -> _Command | None:
    """The reference path: ``json`` and the checks above; None for a blank line."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReplayNotText(f"line {lineno}: not valid UTF-8 (byte {exc.start})",
                                line=lineno) from None
    if not line.strip():
        return None
    binary = _CONTROL.search(line)
    if binary is not None:
        raise ReplayNotText(f"line {lineno}: not text: control character "
                            f"U+{ord(binary.group()):04X} (character {binary.start()})",
                            line=lineno)
    try:
        cmd = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _bad(lineno, f"not valid JSON ({exc.msg})") from None
    return _checked(cmd, lineno)


def _orjson_reader() -> Callable[[str | bytes, int], _Command | None]:
    import orjson  # bench comparison only: not a dependency

    loads = orjson.loads

    def read(line: str | bytes, lineno: int) -> _Command | None:
        try:
            cmd = loads(line)
        except orjson.JSONDecodeError:
            return _reference(line, lineno)
        return _checked(cmd, lineno)

    return read


Decoder = Literal["msgspec", "json", "orjson"]


def replay(
    lines: Iterable[str | bytes],
    *,
    min_lot: int | None = None,
    price_band: tuple[int, int] | None = None,
    decoder: Decoder = "msgspec",
) -> Iterator[str]:
    """Yield one JSON line (without newline) per fill, lazily, as the input is read.

    `decoder`: "msgspec" (the default, the fast path), "json" (the reference path alone),
    "orjson" (orjson's dicts checked in Python; needs orjson, for the bench comparison; it
    reads integers beyond 64 bits as floats, so such ids and quantities are refused).
    """
    book = OrderBook(min_lot=min_lot or 1, price_band=price_band)
    if decoder == "msgspec":
        return _replay_typed(lines, book)
    if decoder == "json":
        return _replay_read(lines, book, _reference)
    if decoder == "orjson":
        return _replay_read(lines, book, _orjson_reader())
    raise ValueError(f"unknown decoder {decoder!r}")


def _replay_typed(lines: Iterable[str | bytes], book: OrderBook) -> Iterator[str]:
    """The fast path, inlined: msgspec's typed decode, the reference path for what it refuses."""
    submit = book.submit_fast
    cancel = book.cancel_fast
    fills = book.fills
    decode = _decode_typed
    encode = _encode
    refused = msgspec.MsgspecError
    cancel_type = _Cancel
    lineno = 0
    for line in lines:
        lineno += 1
        try:
            c = decode(line)
        except refused:
            cmd = _reference(line, lineno)
            if cmd is None:
                continue
            if len(cmd) == 2:  # ("cancel", id)
                cancel(cmd[1])
                continue
            taker = cmd[0]
            submit(*cmd)
        else:
            i = c.id
            taker = str(i) if type(i) is int else encode(i).decode()
            if type(c) is cancel_type:
                cancel(taker)
                continue
            owner = c.owner
            if owner is None:
                owner = "\x00" + taker  # an owner of its own: no self-trade prevention
            elif type(owner) is int:
                owner = str(owner)
            submit(taker, owner, c.side, c.qty, c.price, c.tif, c.post_only, c.stp)
        for maker, _owner, price, qty in fills:
            yield f'{{"maker":{maker},"taker":{taker},"price":{price},"qty":{qty}}}'


def _replay_read(lines: Iterable[str | bytes], book: OrderBook,
                 read: Callable[[str | bytes, int], _Command | None]) -> Iterator[str]:
    """Any other reader: one checked command tuple per line."""
    submit = book.submit_fast
    cancel = book.cancel_fast
    fills = book.fills
    lineno = 0
    for line in lines:
        lineno += 1
        cmd = read(line, lineno)
        if cmd is None:
            continue
        if len(cmd) == 2:  # ("cancel", id)
            cancel(cmd[1])
            continue
        taker = cmd[0]
        submit(*cmd)
        for maker, _owner, price, qty in fills:
            yield f'{{"maker":{maker},"taker":{taker},"price":{price},"qty":{qty}}}'
