"""Canonical, unambiguous bytes of the ledger's log records (pure; no I/O).

Every value is typed and length-prefixed, so no choice of ids or references can move a
boundary between two fields, and NULL is distinct from the empty string:

- NULL:    0x00
- text:    0x01, the UTF-8 length as 4 bytes big-endian, the UTF-8 bytes
- integer: 0x02, 8 bytes big-endian two's complement (amounts in fen or kg, times in µs
           since the Unix epoch, UTC)
- boolean: 0x03, one byte 0 or 1

A record is its domain tag (a text, naming the kind and the layout's version) followed by
its fields in a fixed order (`LAYOUTS`). The same bytes are the leaf data of the
transparency log (docs/ledger-transparency.md) and, for journal entries of hash version 2,
what the hash chain hashes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

_I64 = struct.Struct(">q")
_U32 = struct.Struct(">I")

Value = str | int | bool | None
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(dt: datetime) -> int:
    """Microseconds since the epoch: the hashes' time format, the same on every database
    (naive datetimes, as SQLite gives them back, are UTC: the ledger only writes UTC)."""
    delta = (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_value(v: Value) -> bytes:
    if v is None:
        return b"\x00"
    if isinstance(v, bool):
        return b"\x03\x01" if v else b"\x03\x00"
    if isinstance(v, int):
        return b"\x02" + _I64.pack(v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return b"\x01" + _U32.pack(len(b)) + b
    raise TypeError(f"no canonical form for {type(v).__name__}")


def encode(values: Iterable[Value]) -> bytes:
    return b"".join(encode_value(v) for v in values)


def decode(data: bytes) -> list[Value]:
    """The values back from their bytes (for tests and auditors); ValueError if malformed."""
    out: list[Value] = []
    i, n = 0, len(data)
    while i < n:
        tag = data[i]
        i += 1
        if tag == 0:
            out.append(None)
        elif tag == 1:
            if i + 4 > n:
                raise ValueError("truncated text length")
            (ln,) = _U32.unpack_from(data, i)
            i += 4
            if i + ln > n:
                raise ValueError("truncated text")
            out.append(data[i:i + ln].decode("utf-8"))
            i += ln
        elif tag == 2:
            if i + 8 > n:
                raise ValueError("truncated integer")
            out.append(_I64.unpack_from(data, i)[0])
            i += 8
        elif tag == 3:
            if i + 1 > n or data[i] > 1:
                raise ValueError("bad boolean")
            out.append(data[i] == 1)
            i += 1
        else:
            raise ValueError(f"unknown tag {tag}")
    return out


# -- the journal ---------------------------------------------------------------------------
CHAIN_V2 = "erts-ledger/journal-chain/v2"
JOURNAL = "erts-ledger/journal/v1"


_BI = struct.Struct(">BI").pack
_BQ = struct.Struct(">Bq").pack
_NULL = b"\x00"
#: encoded texts that repeat across entries (types, phases, assets, initiators)
_SHORT: dict[str, bytes] = {}


def _text(v: str | None) -> bytes:
    if v is None:
        return _NULL
    b = v.encode()
    return _BI(1, len(b)) + b


def _word(v: str | None) -> bytes:
    """`_text` for the few values that repeat; kept once encoded."""
    if v is None:
        return _NULL
    got = _SHORT.get(v)
    if got is None:
        got = _text(v)
        if len(_SHORT) < 10_000:
            _SHORT[v] = got
    return got


def _entry_fields(seq: int, id_: str, batch: str | None, type_: str, phase: str,
                  pending_id: str | None, debit_account: int, credit_account: int,
                  asset: str, amount: int, reference: str | None, initiator: str,
                  created_us: int, timeout_us: int | None) -> bytes:
    """The canonical bytes of an entry's fields seq … timeout (what `encode` gives for
    them, spelled out: verification runs this a million times)."""
    return b"".join((
        _BQ(2, seq), _text(id_), _word(batch), _word(type_), _word(phase), _text(pending_id),
        _BQ(2, debit_account), _BQ(2, credit_account), _word(asset), _BQ(2, amount),
        _text(reference), _word(initiator), _BQ(2, created_us),
        _NULL if timeout_us is None else _BQ(2, timeout_us)))


def chain_hash_v2(prev_hash: str, seq: int, id_: str, batch: str | None, type_: str,
                  phase: str, pending_id: str | None, debit_account: int,
                  credit_account: int, asset: str, amount: int, reference: str | None,
                  initiator: str, created_us: int, timeout_us: int | None) -> str:
    """Hash version 2: sha256 over the canonical bytes of the tag, the previous hash and
    every immutable field (times in µs)."""
    fields = _entry_fields(seq, id_, batch, type_, phase, pending_id, debit_account,
                           credit_account, asset, amount, reference, initiator, created_us,
                           timeout_us)
    return hashlib.sha256(_CHAIN_TAG + _text(prev_hash) + fields).hexdigest()


def chain_hash_v2_leaf(prev_hash: str, seq: int, id_: str, batch: str | None, type_: str,
                       phase: str, pending_id: str | None, debit_account: int,
                       credit_account: int, asset: str, amount: int, reference: str | None,
                       initiator: str, created_us: int, timeout_us: int | None
                       ) -> tuple[str, bytes]:
    """`chain_hash_v2` and the RFC 9162 leaf hash of the entry it seals (SHA-256 of 0x00 and
    `journal_leaf`'s bytes, the hash version 2) from one encoding of its fields: what a
    writer keeping the transparency log, and a history check, need of each entry."""
    fields = _entry_fields(seq, id_, batch, type_, phase, pending_id, debit_account,
                           credit_account, asset, amount, reference, initiator, created_us,
                           timeout_us)
    prev = _text(prev_hash)
    got = hashlib.sha256(_CHAIN_TAG + prev + fields).hexdigest()
    return got, hashlib.sha256(b"".join((_LEAF_HEAD, fields, prev, _HEX_HEAD, got.encode(),
                                         _V2))).digest()


def journal_leaf(seq: int, id_: str, batch: str | None, type_: str, phase: str,
                 pending_id: str | None, debit_account: int, credit_account: int, asset: str,
                 amount: int, reference: str | None, initiator: str, created_us: int,
                 timeout_us: int | None, prev_hash: str, hash_: str, hash_version: int
                 ) -> bytes:
    """A journal entry as a log leaf: every stored field, its hashes and hash version."""
    return b"".join((_JOURNAL_TAG, _entry_fields(
        seq, id_, batch, type_, phase, pending_id, debit_account, credit_account, asset,
        amount, reference, initiator, created_us, timeout_us), _text(prev_hash), _text(hash_),
        _BQ(2, hash_version)))


def row_leaf(r: Sequence[Any], off: int) -> bytes:
    """A journal row, as `LedgerStore.journal_rows` reads it (times in µs since `off`), as
    its log leaf."""
    (seq, id_, batch, type_, phase, pid, dr, cr, asset, amount, ref, initiator, created_us,
     timeout_us, prev_hash, hash_, version) = r
    return journal_leaf(seq, id_, batch, type_, phase, pid, dr, cr, asset, amount, ref,
                        initiator, created_us + off,
                        None if timeout_us is None else timeout_us + off, prev_hash, hash_,
                        version)


_CHAIN_TAG = encode_value(CHAIN_V2)
_JOURNAL_TAG = encode_value(JOURNAL)
_V2 = encode_value(2)
_LEAF_HEAD = b"\x00" + _JOURNAL_TAG  # RFC 9162's leaf prefix, then a journal leaf's tag
_HEX_HEAD = _BI(1, 64)  # `_text`'s head of a chain hash (64 hex digits)


# -- the records bound into the log ------------------------------------------------------------
#: kind -> (domain tag, the table's columns in order, the columns that are times)
LAYOUTS: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    "trade": ("erts-ledger/trade/v1", (
        "id", "market", "buy_order", "sell_order", "buyer", "seller", "buyer_permit",
        "seller_permit", "price", "qty", "value_fen", "aggressor", "at", "fee_buyer",
        "fee_seller", "venue"), frozenset({"at"})),
    "permit_quantity": ("erts-ledger/permit_quantity/v1", (
        "permit", "pollutant", "year", "zone", "spec_kg", "eia_kg", "share_kg", "binding",
        "cap_kg", "allocated_kg", "permitted_kg", "confirmed"), frozenset()),
    "permit_event": ("erts-ledger/permit_event/v1", (
        "id", "permit", "pollutant", "year", "kind", "qty_kg", "counterparty", "price",
        "reference", "permitted_after_kg", "at", "note"), frozenset({"at"})),
}
RECORD_KINDS = ("journal", *LAYOUTS)
#: the tables of the bound records (kind -> table)
TABLES = {"trade": "trade", "permit_quantity": "permit_quantity",
          "permit_event": "permit_event"}


def record_ref(kind: str, row: Mapping[str, object]) -> str:
    """The record's id as the log names it: the row id, or permit/pollutant/year."""
    if kind == "permit_quantity":
        return f"{row['permit']}/{row['pollutant']}/{row['year']}"
    return str(row["id"])


def record_leaf(kind: str, row: Mapping[str, object] | Sequence[object]) -> bytes:
    """A bound record's canonical bytes from its row (a mapping by column, or the columns in
    `LAYOUTS` order)."""
    tag, cols, times = LAYOUTS[kind]
    values = [row[c] for c in cols] if isinstance(row, Mapping) else list(row)
    out: list[Value] = [tag]
    for c, v in zip(cols, values, strict=True):
        if c in times and isinstance(v, datetime):
            out.append(micros(v))
        elif isinstance(v, bool) or v is None or isinstance(v, int | str):
            out.append(v)
        else:  # Decimal from some drivers: the integer it holds
            out.append(int(v))  # type: ignore[call-overload]
    return encode(out)
