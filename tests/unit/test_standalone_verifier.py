"""tools/erts_verify.py, the standalone verifier (issue 16): proofs built by an independent,
naive implementation of RFC 9162 §2.1 (the recursive definitions, written here from the RFC)
verify; every tampered byte of a path, a leaf, a root or a signature fails; malformed files
exit 2. When ledger/merkle.py exists its proofs are checked too."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

TOOL = Path(__file__).resolve().parents[2] / "tools" / "erts_verify.py"
_spec = importlib.util.spec_from_file_location("erts_verify", TOOL)
assert _spec is not None and _spec.loader is not None
V: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


# --- an independent, naive tree: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 as written ----------

def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _split(len(d))
    return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = _split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def leaves(n: int) -> list[bytes]:
    return [f"entry {i}".encode() * (i % 3 + 1) for i in range(n)]


# --- signed checkpoints, built here from the spec -----------------------------------------

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ORIGIN = "erts.local/ledger"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def checkpoint(key: Ed25519PrivateKey, size: int, root: bytes, ts: str,
               origin: str = ORIGIN) -> dict[str, Any]:
    text = f"erts-ledger-checkpoint/v1\n{origin}\n{size}\n{root.hex()}\n{ts}\n".encode()
    return {"tree_size": size, "root_hash": root.hex(), "timestamp": ts,
            "key_id": hashlib.sha256(raw_public(key)).digest()[:8].hex(),
            "signature": b64(key.sign(text))}


def checkpoints_doc(d: list[bytes], sizes: list[int],
                    key: Ed25519PrivateKey = KEY) -> dict[str, Any]:
    pub = raw_public(key)
    return {"origin": ORIGIN, "public_key": b64(pub),
            "key_id": hashlib.sha256(pub).digest()[:8].hex(),
            "checkpoints": [checkpoint(key, s, mth(d[:s]), f"2026-12-06T0{i}:00:00Z")
                            for i, s in enumerate(sizes)]}


def inclusion_doc(d: list[bytes], index: int, size: int) -> dict[str, Any]:
    return {"leaf_index": index, "tree_size": size, "leaf_data": b64(d[index]),
            "leaf_hash": _h(b"\x00" + d[index]).hex(), "root_hash": mth(d[:size]).hex(),
            "audit_path": [p.hex() for p in path(index, d[:size])],
            "record": {"kind": "journal", "ref": str(index + 1)}}


def consistency_doc(d: list[bytes], m: int, n: int) -> dict[str, Any]:
    return {"first": m, "second": n, "first_root": mth(d[:m]).hex(),
            "second_root": mth(d[:n]).hex(),
            "consistency_path": [p.hex() for p in proof(m, d[:n])]}


# --- the RFC algorithms against the naive tree --------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_of_the_naive_tree_verify(n_i: tuple[int, int]) -> None:
    n, i = n_i
    d = leaves(n)
    got = V.root_from_inclusion_proof(i, n, _h(b"\x00" + d[i]), path(i, d))
    assert got == mth(d)


def test_every_consistency_proof_up_to_40_leaves_verifies() -> None:
    d = leaves(40)
    roots = [mth(d[:k]) for k in range(41)]
    for n in range(1, 41):
        for m in range(1, n + 1):
            assert V.consistency_proof_holds(m, n, roots[m], roots[n], proof(m, d[:n])), (m, n)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 2000).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_of_larger_trees_verify(m_n: tuple[int, int]) -> None:
    m, n = m_n
    d = leaves(n)
    assert V.consistency_proof_holds(m, n, mth(d[:m]), mth(d), proof(m, d))


def flips(items: list[bytes]) -> list[list[bytes]]:
    """Every variant of `items` with one byte changed."""
    out = []
    for j, item in enumerate(items):
        for k in range(len(item)):
            changed = bytearray(item)
            changed[k] ^= 0x01
            out.append(items[:j] + [bytes(changed)] + items[j + 1:])
    return out


@pytest.mark.parametrize("n,i", [(1, 0), (2, 1), (7, 3), (8, 7), (13, 12), (64, 0), (100, 57)])
def test_every_tampered_byte_of_an_inclusion_proof_fails(n: int, i: int) -> None:
    d = leaves(n)
    leaf, p, root = _h(b"\x00" + d[i]), path(i, d), mth(d)
    assert V.root_from_inclusion_proof(i, n, leaf, p) == root
    for bad in flips(p):
        assert V.root_from_inclusion_proof(i, n, leaf, bad) != root
    for [bad_leaf] in flips([leaf]):
        assert V.root_from_inclusion_proof(i, n, bad_leaf, p) != root
    # another index, a path too long or too short (a wrong size is caught by the signed
    # checkpoint, which binds the size to the root: see the command-line tests)
    for j in range(n):
        if j != i:
            assert V.root_from_inclusion_proof(j, n, leaf, p) != root
    assert V.root_from_inclusion_proof(i, n, leaf, p + [root]) is None
    if p:
        assert V.root_from_inclusion_proof(i, n, leaf, p[:-1]) != root
    assert V.root_from_inclusion_proof(n, n, leaf, p) is None


@pytest.mark.parametrize("m,n", [(1, 2), (3, 7), (4, 8), (6, 8), (7, 13), (64, 100), (99, 100)])
def test_every_tampered_byte_of_a_consistency_proof_fails(m: int, n: int) -> None:
    d = leaves(n)
    r1, r2, p = mth(d[:m]), mth(d), proof(m, d)
    assert V.consistency_proof_holds(m, n, r1, r2, p)
    for bad in flips(p):
        assert not V.consistency_proof_holds(m, n, r1, r2, bad)
    for [bad1] in flips([r1]):
        assert not V.consistency_proof_holds(m, n, bad1, r2, p)
    for [bad2] in flips([r2]):
        assert not V.consistency_proof_holds(m, n, r1, bad2, p)
    assert not V.consistency_proof_holds(m, n, r1, r2, p + [r1])
    assert not V.consistency_proof_holds(m, n, r1, r2, p[:-1])
    assert not V.consistency_proof_holds(m, n, r1, r2, [])
    # a forked history: leaf m-1 differs, so the old tree is not a prefix of the new one
    forked = d[:m - 1] + [b"rewritten"] + d[m:]
    assert not V.consistency_proof_holds(m, n, r1, mth(forked), proof(m, forked))
    assert not V.consistency_proof_holds(m, n, mth(forked[:m]), r2, p)


def test_edge_sizes() -> None:
    d = leaves(5)
    r = mth(d)
    assert V.consistency_proof_holds(5, 5, r, r, [])
    assert not V.consistency_proof_holds(5, 5, r, mth(d[:4]), [])
    assert not V.consistency_proof_holds(5, 5, r, r, [r])
    assert V.consistency_proof_holds(0, 5, V.EMPTY_ROOT, r, [])
    assert not V.consistency_proof_holds(6, 5, r, r, [])
    assert mth([]) == V.EMPTY_ROOT
    assert V.root_from_inclusion_proof(0, 0, r, []) is None


# --- the command line ------------------------------------------------------------------------

class Files:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0

    def write(self, doc: Any) -> str:
        self.n += 1
        p = self.tmp / f"f{self.n}.json"
        p.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
        return str(p)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = V.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


D = leaves(21)
SIZES = [1, 8, 13, 21]


def test_valid_files_verify(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    code, out, err = run(["checkpoint", cps], capsys)
    assert (code, err) == (0, "") and out.startswith("ok: 4 checkpoints")
    for size in SIZES:
        for i in range(size):
            code, out, err = run(["inclusion", files.write(inclusion_doc(D, i, size)),
                                  "--checkpoints", cps], capsys)
            assert (code, err) == (0, ""), (i, size, err)
            assert f"leaf {i} (labelled journal {i + 1})" in out
    for a in SIZES:
        for b in SIZES:
            if a <= b:
                code, _, err = run(["consistency", files.write(consistency_doc(D, a, b)),
                                    "--checkpoints", cps], capsys)
                assert (code, err) == (0, ""), (a, b, err)
    pinned = b64(raw_public(KEY))
    assert run(["checkpoint", cps, "--public-key", pinned], capsys)[0] == 0
    # saved by an editor that writes a byte order mark
    bom = files.write(b"\xef\xbb\xbf" + json.dumps(checkpoints_doc(D, SIZES)).encode())
    assert run(["checkpoint", bom], capsys)[0] == 0


def test_a_proof_without_leaf_data_is_checked_from_its_leaf_hash(
        files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    """The public proof carries the leaf's hash, not its data: the path is checked from
    leaf_hash, and the verifier says the contents were not checked; a changed leaf_hash
    does not reach the signed root."""
    cps = files.write(checkpoints_doc(D, SIZES))
    for size in SIZES:
        for i in range(size):
            doc = {k: v for k, v in inclusion_doc(D, i, size).items() if k != "leaf_data"}
            doc["record"] = {"kind": "permit_quantity", "ref": None}
            code, out, err = run(["inclusion", files.write(doc), "--checkpoints", cps], capsys)
            assert (code, err) == (0, ""), (i, size, err)
            assert f"leaf {i} (labelled permit_quantity)" in out
            assert "contents were not checked" in out
    good = {k: v for k, v in inclusion_doc(D, 9, 13).items() if k != "leaf_data"}
    for k in range(0, 64, 2):
        digit = "0" if good["leaf_hash"][k] != "0" else "1"
        bad = {**good, "leaf_hash": good["leaf_hash"][:k] + digit + good["leaf_hash"][k + 1:]}
        expect(1, "inclusion_proof_invalid",
               run(["inclusion", files.write(bad), "--checkpoints", cps], capsys))
    # with the data, the output says they were hashed
    code, out, _ = run(["inclusion", files.write(inclusion_doc(D, 9, 13)), "--checkpoints",
                        cps], capsys)
    assert code == 0 and "leaf_data hash to leaf_hash" in out


def expect(code: int, err_code: str, result: tuple[int, str, str]) -> None:
    got, out, err = result
    assert (got, out) == (code, ""), err
    assert err.startswith(f"erts-verify: {err_code}: "), err


def test_tampered_inclusion_files_fail(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    good = inclusion_doc(D, 9, 13)

    def check(doc: dict[str, Any], err_code: str) -> None:
        expect(1, err_code, run(["inclusion", files.write(doc), "--checkpoints", cps], capsys))

    for j, p in enumerate(good["audit_path"]):
        for k in range(0, 64, 2):  # every byte (two hex digits) of every path element
            digit = "0" if p[k] != "0" else "1"
            check({**good, "audit_path": good["audit_path"][:j] + [p[:k] + digit + p[k + 1:]]
                   + good["audit_path"][j + 1:]}, "inclusion_proof_invalid")
    data = D[9]
    for k in range(len(data)):  # every byte of the leaf's data
        bad = bytearray(data)
        bad[k] ^= 0x20
        check({**good, "leaf_data": b64(bytes(bad))}, "leaf_hash_mismatch")
        # the data and its hash changed together: the path no longer reaches the root
        check({**good, "leaf_data": b64(bytes(bad)), "leaf_hash": _h(b"\x00" + bad).hex()},
              "inclusion_proof_invalid")
    for k in range(0, 64, 2):
        flip = "f" if good["root_hash"][k] != "f" else "e"
        check({**good, "root_hash": good["root_hash"][:k] + flip + good["root_hash"][k + 1:]},
              "root_mismatch")
    check({**good, "leaf_index": 8}, "inclusion_proof_invalid")
    check({**good, "audit_path": good["audit_path"][:-1]}, "inclusion_proof_invalid")
    check({**good, "audit_path": good["audit_path"] + [good["root_hash"]]},
          "inclusion_proof_invalid")
    check({**good, "leaf_index": 13}, "inclusion_proof_invalid")
    check({**good, "tree_size": 21}, "root_mismatch")
    check({**good, "tree_size": 21, "root_hash": mth(D).hex()}, "inclusion_proof_invalid")
    # a proof that is right for another tree of the same size, whose root was never signed
    other = leaves(13)[:12] + [b"another history"]
    forged = {**inclusion_doc(other, 9, 13), "leaf_data": good["leaf_data"],
              "leaf_hash": good["leaf_hash"]}
    check(forged, "root_mismatch")


def test_tampered_consistency_files_fail(files: Files,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    good = consistency_doc(D, 13, 21)

    def check(doc: dict[str, Any], err_code: str) -> None:
        expect(1, err_code, run(["consistency", files.write(doc), "--checkpoints", cps],
                                capsys))

    for j, p in enumerate(good["consistency_path"]):
        for k in range(0, 64, 2):
            digit = "0" if p[k] != "0" else "1"
            changed = list(good["consistency_path"])
            changed[j] = p[:k] + digit + p[k + 1:]
            check({**good, "consistency_path": changed}, "consistency_proof_invalid")
    for field in ("first_root", "second_root"):
        for k in range(0, 64, 2):
            flip = "f" if good[field][k] != "f" else "e"
            check({**good, field: good[field][:k] + flip + good[field][k + 1:]},
                  "root_mismatch")
    check({**good, "consistency_path": []}, "consistency_proof_invalid")
    check({**good, "consistency_path": good["consistency_path"][1:]},
          "consistency_proof_invalid")


def test_a_forked_history_fails_against_signed_checkpoints(
        files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    # the log signed size 8 of D, then rewrote leaf 5 and signed size 21 of the new history
    forked = D[:5] + [b"rewritten"] + D[6:]
    doc = checkpoints_doc(D, [8])
    doc["checkpoints"] += checkpoints_doc(forked, [21])["checkpoints"]
    cps = files.write(doc)
    assert run(["checkpoint", cps], capsys)[0] == 0  # each signature on its own is fine
    # the honest proof for the forked tree cannot link it to the signed size-8 root
    lie = {**consistency_doc(forked, 8, 21), "first_root": mth(D[:8]).hex()}
    expect(1, "consistency_proof_invalid",
           run(["consistency", files.write(lie), "--checkpoints", cps], capsys))
    honest = consistency_doc(forked, 8, 21)
    expect(1, "root_mismatch",
           run(["consistency", files.write(honest), "--checkpoints", cps], capsys))


def test_tampered_checkpoints_fail(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    good = checkpoints_doc(D, SIZES)
    proof_file = files.write(inclusion_doc(D, 3, 13))

    def result(doc: dict[str, Any]) -> tuple[int, str, str]:
        return run(["inclusion", proof_file, "--checkpoints", files.write(doc)], capsys)

    sig = good["checkpoints"][2]["signature"]
    for k in range(len(sig)):  # every character of the signature's text
        for c in {"A", "g", "/"} - {sig[k]}:
            cp = {**good["checkpoints"][2], "signature": sig[:k] + c + sig[k + 1:]}
            got, out, err = result({**good, "checkpoints": good["checkpoints"][:2] + [cp]
                                    + good["checkpoints"][3:]})
            assert got == 2 and out == "", (k, c)
            assert err.split(":")[1].strip() in {"checkpoint_signature_invalid",
                                                 "checkpoint_file_invalid"}
    raw = base64.b64decode(sig)
    for k in range(64):  # every byte of the signature
        bad = bytearray(raw)
        bad[k] ^= 0x80
        cp = {**good["checkpoints"][2], "signature": b64(bytes(bad))}
        expect(2, "checkpoint_signature_invalid",
               result({**good, "checkpoints": good["checkpoints"][:2] + [cp]
                       + good["checkpoints"][3:]}))
    root = good["checkpoints"][2]["root_hash"]
    for k in range(0, 64, 2):  # a signed root changed: its signature no longer verifies
        cp = {**good["checkpoints"][2],
              "root_hash": root[:k] + ("0" if root[k] != "0" else "1") + root[k + 1:]}
        expect(2, "checkpoint_signature_invalid",
               result({**good, "checkpoints": good["checkpoints"][:2] + [cp]
                       + good["checkpoints"][3:]}))
    for field, value in (("tree_size", 12), ("timestamp", "2026-12-06T02:00:01Z")):
        cp = {**good["checkpoints"][2], field: value}
        expect(2, "checkpoint_signature_invalid",
               result({**good, "checkpoints": good["checkpoints"][:2] + [cp]
                       + good["checkpoints"][3:]}))
    expect(2, "checkpoint_signature_invalid", result({**good, "origin": "other/ledger"}))
    # signed by another key, presented under the registry's key
    other = checkpoints_doc(D, SIZES, OTHER_KEY)
    expect(2, "checkpoint_signature_invalid",
           result({**other, "public_key": good["public_key"], "key_id": good["key_id"],
                   "checkpoints": [{**c, "key_id": good["key_id"]}
                                   for c in other["checkpoints"]]}))
    expect(2, "checkpoint_key_mismatch", result({**good, "key_id": other["key_id"]}))
    expect(2, "checkpoint_key_mismatch",
           result({**good, "checkpoints": [{**c, "key_id": other["key_id"]}
                                           for c in good["checkpoints"]]}))
    # a whole file made with another key verifies alone, but not against the pinned key
    other_file = files.write(other)
    assert run(["checkpoint", other_file], capsys)[0] == 0
    expect(2, "checkpoint_key_mismatch",
           run(["checkpoint", other_file, "--public-key", good["public_key"]], capsys))


def test_two_signed_roots_for_one_size_are_a_fork(files: Files,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    forked = D[:5] + [b"rewritten"] + D[6:]
    doc = checkpoints_doc(D, [8, 13])
    doc["checkpoints"].insert(2, checkpoints_doc(forked, [13])["checkpoints"][0])
    expect(1, "checkpoint_fork", run(["checkpoint", files.write(doc)], capsys))


MALFORMED_CHECKPOINTS: list[Callable[[dict[str, Any]], Any]] = [
    lambda d: [d],
    lambda d: {**d, "origin": ""},
    lambda d: {**d, "origin": 7},
    lambda d: {**d, "public_key": d["public_key"][:-4]},
    lambda d: {**d, "public_key": d["public_key"].rstrip("=")},
    lambda d: {**d, "public_key": "not base64!"},
    lambda d: {**d, "key_id": d["key_id"].upper()},
    lambda d: {k: v for k, v in d.items() if k != "key_id"},
    lambda d: {**d, "checkpoints": {}},
    lambda d: {**d, "checkpoints": [1]},
    lambda d: {**d, "checkpoints": list(reversed(d["checkpoints"]))},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0], "tree_size": True}]},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0], "tree_size": -1}]},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0], "tree_size": "1"}]},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0],
                                     "root_hash": d["checkpoints"][0]["root_hash"].upper()}]},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0], "timestamp": "yesterday"}]},
    lambda d: {**d, "checkpoints": [{**d["checkpoints"][0], "signature": "AAAA"}]},
    lambda d: {**d, "checkpoints": [{k: v for k, v in d["checkpoints"][0].items()
                                     if k != "signature"}]},
]


@pytest.mark.parametrize("mangle", MALFORMED_CHECKPOINTS)
def test_malformed_checkpoint_files_exit_2(mangle: Callable[[dict[str, Any]], Any],
                                           files: Files,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    expect(2, "checkpoint_file_invalid",
           run(["checkpoint", files.write(mangle(checkpoints_doc(D, SIZES)))], capsys))


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe{}", b"[" * 100000 + b"]" * 100000,
                                     b"null", b'"text"'])
def test_unreadable_content_exits_2(content: bytes, files: Files,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    expect(2, "checkpoint_file_invalid", run(["checkpoint", files.write(content)], capsys))
    cps = files.write(checkpoints_doc(D, SIZES))
    expect(2, "proof_file_invalid",
           run(["inclusion", files.write(content), "--checkpoints", cps], capsys))
    expect(2, "proof_file_invalid",
           run(["consistency", files.write(content), "--checkpoints", cps], capsys))


MALFORMED_INCLUSION: list[Callable[[dict[str, Any]], Any]] = [
    lambda p: {k: v for k, v in p.items() if k != "audit_path"},
    lambda p: {**p, "audit_path": "abc"},
    lambda p: {**p, "audit_path": [p["root_hash"][:-2]]},
    lambda p: {**p, "audit_path": [p["root_hash"].upper()]},
    lambda p: {**p, "leaf_index": -1},
    lambda p: {**p, "leaf_index": 1.5},
    lambda p: {**p, "tree_size": 0},
    lambda p: {**p, "tree_size": False},
    lambda p: {**p, "leaf_data": p["leaf_data"] + "="},
    lambda p: {**p, "leaf_data": None},
    lambda p: {**p, "leaf_hash": "00"},
    lambda p: {**p, "root_hash": None},
]


@pytest.mark.parametrize("mangle", MALFORMED_INCLUSION)
def test_malformed_inclusion_proofs_exit_2(mangle: Callable[[dict[str, Any]], Any],
                                           files: Files,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    doc = mangle(inclusion_doc(D, 2, 8))
    expect(2, "proof_file_invalid",
           run(["inclusion", files.write(doc), "--checkpoints", cps], capsys))


MALFORMED_CONSISTENCY: list[Callable[[dict[str, Any]], Any]] = [
    lambda p: {**p, "first": 0},
    lambda p: {**p, "first": p["second"] + 1},
    lambda p: {**p, "second": "21"},
    lambda p: {**p, "consistency_path": None},
    lambda p: {**p, "consistency_path": [1]},
    lambda p: {k: v for k, v in p.items() if k != "first_root"},
]


@pytest.mark.parametrize("mangle", MALFORMED_CONSISTENCY)
def test_malformed_consistency_proofs_exit_2(mangle: Callable[[dict[str, Any]], Any],
                                             files: Files,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    doc = mangle(consistency_doc(D, 8, 21))
    expect(2, "proof_file_invalid",
           run(["consistency", files.write(doc), "--checkpoints", cps], capsys))


def test_a_size_without_a_signed_checkpoint_exits_2(
        files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    expect(2, "checkpoint_not_found",
           run(["inclusion", files.write(inclusion_doc(D, 2, 9)), "--checkpoints", cps],
               capsys))
    expect(2, "checkpoint_not_found",
           run(["consistency", files.write(consistency_doc(D, 8, 20)), "--checkpoints", cps],
               capsys))


def test_bad_arguments_and_missing_files_exit_2(
        files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cps = files.write(checkpoints_doc(D, SIZES))
    expect(2, "file_unreadable", run(["checkpoint", str(tmp_path / "nope.json")], capsys))
    expect(2, "file_unreadable",
           run(["inclusion", str(tmp_path / "nope.json"), "--checkpoints", cps], capsys))
    expect(2, "bad_argument", run(["checkpoint", cps, "--public-key", "short"], capsys))
    with pytest.raises(SystemExit) as exc:
        V.main(["inclusion", cps])  # --checkpoints missing
    assert exc.value.code == 2
    assert "erts-verify: bad_argument:" in capsys.readouterr().err


def test_it_runs_alone_as_a_script(files: Files, tmp_path: Path) -> None:
    """Run as an auditor would: a copy of the one file in an empty folder, isolated mode
    (no project folder on the path)."""
    copy = tmp_path / "erts_verify.py"
    copy.write_bytes(TOOL.read_bytes())
    cps = files.write(checkpoints_doc(D, SIZES))
    ok = subprocess.run([sys.executable, "-I", str(copy), "inclusion",
                         files.write(inclusion_doc(D, 20, 21)), "--checkpoints", cps],
                        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith("ok: leaf 20 ")
    bad = inclusion_doc(D, 20, 21)
    bad["audit_path"][0] = "00" * 32
    failed = subprocess.run([sys.executable, "-I", str(copy), "inclusion", files.write(bad),
                             "--checkpoints", cps],
                            capture_output=True, text=True, cwd=tmp_path, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("erts-verify: inclusion_proof_invalid: ")


def test_it_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            names.add((node.module or "").split(".")[0])
    assert "cryptography" in names
    assert names - {"cryptography"} <= set(sys.stdlib_module_names) | {"__future__"}


def test_proofs_built_by_ledger_merkle_verify(files: Files,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The platform's own tree (ledger/merkle.py, its stored complete subtrees) answers
    proofs that the standalone verifier accepts, byte for byte the naive tree's."""
    from ledger import merkle

    d = leaves(77)
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = merkle.Frontier()
    for data in d:
        for level, index, h in frontier.append(merkle.leaf_hash(data)):
            nodes[(level, index)] = h

    def get(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    sizes = [1, 2, 31, 32, 33, 64, 77]
    cps = files.write(checkpoints_doc(d, sizes))
    for size in sizes:
        assert merkle.root_from_nodes(size, nodes) == mth(d[:size])
        for i in range(size):
            p = merkle.inclusion_proof(i, size, get)
            assert p == path(i, d[:size])
            assert V.root_from_inclusion_proof(i, size, merkle.leaf_hash(d[i]), p) == mth(
                d[:size])
        doc = {**inclusion_doc(d, size - 1, size),
               "audit_path": [h.hex() for h in merkle.inclusion_proof(size - 1, size, get)]}
        assert run(["inclusion", files.write(doc), "--checkpoints", cps], capsys)[0] == 0
    for m in sizes:
        for n in sizes:
            if m <= n:
                p = merkle.consistency_proof(m, n, get)
                assert p == proof(m, d[:n])
                doc = {**consistency_doc(d, m, n), "consistency_path": [h.hex() for h in p]}
                code, _, err = run(["consistency", files.write(doc), "--checkpoints", cps],
                                   capsys)
                assert code == 0, (m, n, err)
