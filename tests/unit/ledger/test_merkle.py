"""ledger.merkle against a naive transcription of RFC 9162 §2.1 (MTH, PATH, PROOF)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle as M


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def tree(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree of the leaves, built by the frontier as a store would."""
    f = M.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for d in leaves:
        for lv, i, h in f.append(M.leaf_hash(d)):
            nodes[(lv, i)] = h
    return nodes


LEAVES = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


def test_rfc_examples_and_empty_tree() -> None:
    assert M.root([]) == _h(b"") == M.EMPTY_ROOT
    assert M.leaf_hash(b"") == _h(b"\x00")
    # RFC 6962 §2.1.3's seven-leaf example (kept by RFC 9162), in its names: leaves a..f are
    # d0..d5 and j is d6; g = (a, b), h = (c, d), i = (e, f), k = (g, h), l = (i, j)
    d = [bytes([x]) for x in range(7)]
    a, b, c, dd, e, f, j = (M.leaf_hash(x) for x in d)
    g, h, i = M.node_hash(a, b), M.node_hash(c, dd), M.node_hash(e, f)
    k, l_ = M.node_hash(g, h), M.node_hash(i, j)
    nodes = tree(d)
    get = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    assert M.root_from_nodes(7, nodes) == M.node_hash(k, l_) == mth(d)
    assert M.inclusion_proof(1, 7, get) == [a, h, l_]  # PATH(b)
    assert M.inclusion_proof(3, 7, get) == [c, g, l_]  # PATH(d)
    assert M.inclusion_proof(6, 7, get) == [i, k]  # PATH(j)
    assert M.consistency_proof(3, 7, get) == [c, dd, g, l_]
    assert M.consistency_proof(4, 7, get) == [l_]
    assert M.consistency_proof(6, 7, get) == [i, j, k]
    assert M.consistency_proof(7, 7, get) == []


@settings(max_examples=300, deadline=None)
@given(LEAVES, st.data())
def test_root_and_inclusion_match_the_rfc(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    nodes = tree(leaves)
    want = mth(leaves)
    assert M.root([M.leaf_hash(x) for x in leaves]) == want
    assert M.root_from_nodes(n, nodes) == want
    m = data.draw(st.integers(0, n - 1))
    got = M.inclusion_proof(m, n, lambda lv, i: nodes[(lv, i)])
    assert got == path(m, leaves)
    assert M.verify_inclusion(M.leaf_hash(leaves[m]), m, n, got, want)
    # a prefix tree's proofs come from the same stored nodes
    size = data.draw(st.integers(m + 1, n))
    assert M.inclusion_proof(m, size, lambda lv, i: nodes[(lv, i)]) == path(m, leaves[:size])
    # anything tampered fails
    assert not M.verify_inclusion(M.leaf_hash(leaves[m] + b"x"), m, n, got, want)
    if got:
        k = data.draw(st.integers(0, len(got) - 1))
        bad = list(got)
        bad[k] = _h(bad[k])
        assert not M.verify_inclusion(M.leaf_hash(leaves[m]), m, n, bad, want)
        assert not M.verify_inclusion(M.leaf_hash(leaves[m]), m, n, got[:-1], want)
    assert not M.verify_inclusion(M.leaf_hash(leaves[m]), m, n, [*got, want], want)


@settings(max_examples=300, deadline=None)
@given(LEAVES, st.data())
def test_consistency_matches_the_rfc(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    nodes = tree(leaves)
    m = data.draw(st.integers(1, n))
    got = M.consistency_proof(m, n, lambda lv, i: nodes[(lv, i)])
    assert got == subproof(m, leaves, True)
    r1, r2 = mth(leaves[:m]), mth(leaves)
    assert M.verify_consistency(m, n, r1, r2, got)
    assert not M.verify_consistency(m, n, _h(r1), r2, got)
    assert not M.verify_consistency(m, n, r1, _h(r2), got)
    if got:
        k = data.draw(st.integers(0, len(got) - 1))
        bad = list(got)
        bad[k] = _h(bad[k])
        assert not M.verify_consistency(m, n, r1, r2, bad)
        assert not M.verify_consistency(m, n, r1, r2, got[:-1])
    if m < n:
        # a forked history: another leaf inside the first tree
        forked = list(leaves)
        forked[data.draw(st.integers(0, m - 1))] += b"!"
        assert not M.verify_consistency(m, n, mth(forked[:m]), r2, got)
    assert not M.verify_consistency(0, n, r1, r2, got)
    assert not M.verify_consistency(n + 1, n, r1, r2, got)


def test_frontier_names_its_nodes() -> None:
    f = M.Frontier()
    for i in range(13):
        f.append(M.leaf_hash(bytes([i])))
    assert M.Frontier.nodes_of(13) == [(3, 0), (2, 2), (0, 12)] == M.root_plan(13)
    nodes = tree([bytes([i]) for i in range(13)])
    assert f.hashes == [nodes[x] for x in M.Frontier.nodes_of(13)]
    assert f.root() == mth([bytes([i]) for i in range(13)])


@settings(max_examples=150, deadline=None)
@given(LEAVES, st.lists(st.integers(min_value=0, max_value=20), max_size=6),
       st.integers(min_value=1, max_value=4))
def test_extend_builds_the_tree_append_builds(leaves: list[bytes], cuts: list[int],
                                              keep_from: int) -> None:
    """Appending in batches of any sizes (`extend`) gives the frontier, root and complete
    nodes of appending one by one."""
    nodes = tree(leaves)
    f = M.Frontier()
    made: dict[tuple[int, int], bytes] = {}
    hashes = [M.leaf_hash(d) for d in leaves]
    at = 0
    for size in [*cuts, len(hashes)]:
        part = hashes[at:at + size]
        for lv, i, h in f.extend(part, keep_from=keep_from):
            assert (lv, i) not in made  # each node made once
            made[(lv, i)] = h
        at += len(part)
    assert f.size == len(leaves)
    assert f.root() == mth(leaves)
    assert f.hashes == [nodes[x] for x in M.Frontier.nodes_of(len(leaves))]
    assert made == {k: v for k, v in nodes.items() if k[0] >= keep_from}
