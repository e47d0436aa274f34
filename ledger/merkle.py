"""RFC 9162 (Certificate Transparency 2.0) Merkle tree, §2.1: pure functions, no I/O.

leaf hash = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right); the empty
tree's root is SHA-256 of nothing. Leaves are numbered from 0 in append order.

The tree is stored as its complete subtrees: node (level, index) is the root of leaves
[index * 2**level, (index + 1) * 2**level) (level 0: the leaf hashes). Every hash an
inclusion or consistency proof needs is the root of a complete subtree or of the right edge
of a tree, which is made of complete subtrees: the `*_plan` functions name the stored nodes a
proof needs (so a store fetches them in one query) and `*_from_nodes` fold them into the
proof. `Frontier` keeps the right-most complete subtrees of a growing tree: an append costs
O(log n) hashes and yields the new complete nodes to store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
NodeGetter = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves (given as leaf hashes), by the frontier: O(n) time, O(log n) space."""
    f = Frontier()
    for h in leaf_hashes:
        f.append(h)
    return f.root()


# -- the ranges a proof needs ---------------------------------------------------------------
def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees whose fold is MTH(D[start:end]), left to right. `start` must be
    aligned as in the RFC's recursion (a multiple of the largest power of two below
    end - start, or the range complete): every range PATH and PROOF use is."""
    out: list[Node] = []
    while end - start > 0:
        size = end - start
        if size & (size - 1) == 0:  # a power of two: one complete subtree
            level = size.bit_length() - 1
            out.append((level, start >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        out.append((level, start >> level))
        start += k
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees (left to right): right-nested nodes."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_plan(m: int, n: int) -> list[list[Node]]:
    """PATH(m, D[n]) as ranges: each element of the audit path is the fold of these nodes."""
    if not 0 <= m < n:
        raise ValueError("leaf index out of range")
    out: list[list[Node]] = []
    start, end = 0, n
    # PATH recurses into the half holding m and appends the other half's root afterwards:
    # collect from the top, then reverse (the path is listed from the leaf up)
    while end - start > 1:
        k = _split(end - start)
        if m - start < k:
            out.append(range_nodes(start + k, end))
            end = start + k
        else:
            out.append(range_nodes(start, start + k))
            start += k
    out.reverse()
    return out


def consistency_plan(m: int, n: int) -> list[list[Node]]:
    """PROOF(m, D[n]) as ranges (0 < m <= n; empty when m == n)."""
    if not 0 < m <= n:
        raise ValueError("tree sizes out of range")
    out: list[list[Node]] = []
    start, end, b = 0, n, True
    while True:
        size, mm = end - start, m - start
        if mm == size:
            if not b:
                out.append(range_nodes(start, end))
            break
        k = _split(size)
        if mm <= k:
            out.append(range_nodes(start + k, end))
            end = start + k
        else:
            out.append(range_nodes(start, start + k))
            start, b = start + k, False
    out.reverse()
    return out


def plan_nodes(plan: Iterable[Iterable[Node]]) -> set[Node]:
    return {node for rng in plan for node in rng}


def from_nodes(plan: Sequence[Sequence[Node]], nodes: Mapping[Node, bytes] | NodeGetter
               ) -> list[bytes]:
    """Fold a plan into hashes, from a mapping of the nodes or a getter (level, index)."""
    get: NodeGetter
    if isinstance(nodes, Mapping):
        found = nodes
        get = lambda level, index: found[(level, index)]  # noqa: E731
    else:
        get = nodes
    return [fold([get(lv, i) for lv, i in rng]) for rng in plan]


def root_plan(n: int) -> list[Node]:
    return range_nodes(0, n)


def root_from_nodes(n: int, nodes: Mapping[Node, bytes] | NodeGetter) -> bytes:
    if n == 0:
        return EMPTY_ROOT
    return from_nodes([root_plan(n)], nodes)[0]


def inclusion_proof(m: int, n: int, get: NodeGetter) -> list[bytes]:
    return from_nodes(inclusion_plan(m, n), get)


def consistency_proof(m: int, n: int, get: NodeGetter) -> list[bytes]:
    return from_nodes(consistency_plan(m, n), get)


# -- verification (§2.1.3.2, §2.1.4.2) -------------------------------------------------------
def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes],
                     expected_root: bytes) -> bool:
    """Whether `path` proves the leaf hash `leaf` at `index` in the tree of `size` leaves
    with root `expected_root`."""
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """Whether `path` proves the tree of `first` leaves is a prefix of that of `second`."""
    if first < 1 or first > second:
        return False
    if first == second:
        return len(path) == 0 and first_root == second_root
    if not path:
        return False
    items = list(path)
    if first & (first - 1) == 0:
        items.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = items[0]
    for c in items[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# -- the growing tree ------------------------------------------------------------------------
class Frontier:
    """The right-most complete subtrees of a tree of `size` leaves (largest first): enough to
    append and to give the root. `append` returns the complete nodes it made, level 0 (the
    leaf) first: what a store keeps so proofs need no recomputation."""

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("a frontier has one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)

    @staticmethod
    def nodes_of(size: int) -> list[Node]:
        """The (level, index) of the frontier of a tree of `size` leaves, largest first."""
        return [(lv, (size >> lv) - 1) for lv in range(size.bit_length() - 1, -1, -1)
                if size >> lv & 1]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made = [(0, self.size, leaf)]
        h, idx, level = leaf, self.size, 0
        while idx & 1:  # a left sibling completes a subtree one level up
            h = node_hash(self.hashes.pop(), h)
            idx >>= 1
            level += 1
            made.append((level, idx, h))
        self.hashes.append(h)
        self.size += 1
        return made

    def extend(self, leaves: Sequence[bytes], keep_from: int = 1
               ) -> list[tuple[int, int, bytes]]:
        """Append many leaf hashes at once, a level at a time (the tree `append` builds one
        by one, in far fewer interpreter steps). Returns the complete nodes made at levels
        `keep_from` and up (at least 1: the leaves are the caller's)."""
        made: list[tuple[int, int, bytes]] = []
        if not leaves:
            return made
        keep_from = max(keep_from, 1)
        if len(leaves) <= 8:  # a few: one by one costs fewer steps than a level at a time
            for h in leaves:
                made += self.append(h)[keep_from:]
            return made
        new_size = self.size + len(leaves)
        spare = dict(zip((lv for lv, _ in self.nodes_of(self.size)), self.hashes, strict=True))
        cur, start, level = list(leaves), self.size, 0  # nodes [start, start+len) of a level
        while cur:
            if level >= keep_from:
                made += [(level, start + i, h) for i, h in enumerate(cur)]
            if start & 1:  # the first pairs with the frontier's node of this level
                cur.insert(0, spare.pop(level))
                start -= 1
            if len(cur) & 1:  # the last stays unpaired: the new frontier's node here
                spare[level] = cur.pop()
            cur = [hashlib.sha256(b"\x01" + a + b).digest()
                   for a, b in zip(cur[::2], cur[1::2], strict=True)]
            start >>= 1
            level += 1
        self.size = new_size
        self.hashes = [spare[lv] for lv, _ in self.nodes_of(new_size)]
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        return fold(self.hashes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)
