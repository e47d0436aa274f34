"""ledger.canonical: typed, length-prefixed bytes. Decoding gives the values back (so two
different records never share bytes), NULL is not '', and the journal's fast encoders give
exactly what the generic encoder gives."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import (
    CHAIN_V2,
    JOURNAL,
    chain_hash_v2,
    chain_hash_v2_leaf,
    decode,
    encode,
    journal_leaf,
    record_leaf,
)

I64 = st.integers(-(2**63), 2**63 - 1)
TEXT = st.text(max_size=12)  # any characters, 0x1f and NUL included
VALUE = st.one_of(st.none(), st.booleans(), I64, TEXT)
OPT = st.one_of(st.none(), TEXT)


@settings(max_examples=400, deadline=None)
@given(st.lists(VALUE, max_size=12), st.lists(VALUE, max_size=12))
def test_decoding_gives_the_values_back(a: list[object], b: list[object]) -> None:
    assert decode(encode(a)) == a  # type: ignore[arg-type]
    if a != b or [type(x) for x in a] != [type(x) for x in b]:
        assert encode(a) != encode(b)  # type: ignore[arg-type]


def test_null_is_not_empty_and_boundaries_do_not_move() -> None:
    assert encode([None]) != encode([""])
    assert encode(["a\x1f", "b"]) != encode(["a", "\x1fb"])
    assert encode([1]) != encode(["1"]) != encode([True])


@settings(max_examples=300, deadline=None)
@given(st.tuples(I64, TEXT, OPT, TEXT, TEXT, OPT, I64, I64, TEXT, I64, OPT, TEXT, I64,
                 st.one_of(st.none(), I64), TEXT, TEXT, st.integers(1, 2)))
def test_the_journal_encoders_are_the_generic_one(f: tuple[object, ...]) -> None:
    fields, prev, hash_, version = f[:14], f[14], f[15], f[16]
    assert journal_leaf(*f) == encode((JOURNAL, *fields, prev, hash_, version))  # type: ignore[arg-type]
    assert chain_hash_v2(prev, *fields) == hashlib.sha256(  # type: ignore[arg-type]
        encode((CHAIN_V2, prev, *fields))).hexdigest()  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.tuples(I64, TEXT, OPT, TEXT, TEXT, OPT, I64, I64, TEXT, I64, OPT, TEXT, I64,
                 st.one_of(st.none(), I64), TEXT))
def test_the_fused_chain_and_leaf_hashes_are_the_encoded_ones(f: tuple[object, ...]) -> None:
    """The write path's shortcut: the chain hash and the RFC 9162 leaf hash made from one
    encoding are `chain_hash_v2` and the hash of the leaf encoded from the fields."""
    fields, prev = f[:14], f[14]
    h, leaf = chain_hash_v2_leaf(prev, *fields)  # type: ignore[arg-type]
    assert h == chain_hash_v2(prev, *fields)  # type: ignore[arg-type]
    assert leaf == hashlib.sha256(b"\x00" + journal_leaf(*fields, prev, h, 2)).digest()  # type: ignore[arg-type]


def test_records_by_layout() -> None:
    row = dict(permit="P1", pollutant="SO2", year=2026, zone="Z", spec_kg=10, eia_kg=None,
               share_kg=5, binding="spec", cap_kg=10, allocated_kg=5, permitted_kg=7,
               confirmed=True)
    data = record_leaf("permit_quantity", row)
    assert decode(data) == ["erts-ledger/permit_quantity/v1", "P1", "SO2", 2026, "Z", 10, None,
                            5, "spec", 10, 5, 7, True]
    assert record_leaf("permit_quantity", list(row.values())) == data
    assert record_leaf("permit_quantity", {**row, "permitted_kg": 8}) != data
