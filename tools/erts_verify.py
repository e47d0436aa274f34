#!/usr/bin/env python3
"""erts-verify: check the erts ledger's published proofs without the platform.

One file, for an enterprise or an auditor to read whole and run alone. It needs Python 3.9+
and the `cryptography` package (pyca, for Ed25519) and nothing of the erts platform: it
re-implements every check from the published specification, RFC 9162 ("Certificate
Transparency Version 2.0") section 2.1 for the Merkle tree, and the checkpoint format of
docs/ledger-transparency.md.

    python erts_verify.py checkpoint CHECKPOINTS.json [--public-key B64]
    python erts_verify.py inclusion PROOF.json --checkpoints CHECKPOINTS.json [--public-key B64]
    python erts_verify.py consistency PROOF.json --checkpoints CHECKPOINTS.json [--public-key B64]

CHECKPOINTS.json is a saved copy of GET /api/v1/public/ledger/checkpoints; PROOF.json a saved
answer of GET /api/v1/public/ledger/proofs/inclusion?entry=I&size=N (the public proof: the
leaf's hash without its data, so the path is checked from leaf_hash and the leaf's contents
are not), of GET /api/v1/enterprises/CODE/ledger/proofs/inclusion?entry=I&size=N (an
enterprise's own leaf WITH leaf_data: leaf_hash = SHA-256(0x00 || leaf_data) is checked too),
or of /api/v1/public/ledger/proofs/consistency?from=M&to=N. `--public-key` pins the
registry's key (base64 of the raw 32 bytes, obtained from the registry by another channel):
the file's key must then be that one.
Without it the key inside the file is used, which proves only that the file is self-consistent.

Exit codes, with one line `erts-verify: <code>: <message>` on stderr when not 0:
  0  verified (one line `ok: ...` on stdout);
  1  a proof fails: `leaf_hash_mismatch`, `inclusion_proof_invalid`,
     `consistency_proof_invalid`, `root_mismatch` (the proof names another root than the
     signed checkpoint of its size), `checkpoint_fork` (two signed checkpoints of one size
     with different roots);
  2  bad input: `checkpoint_file_invalid`, `proof_file_invalid`, `file_unreadable`,
     `checkpoint_signature_invalid`, `checkpoint_key_mismatch`, `checkpoint_not_found`
     (no signed checkpoint of the proof's tree size in the file), `bad_argument`.
A checkpoint file whose signature or key does not check is bad input (exit 2), as in
`erts ledger verify --checkpoints`: nothing in it may be trusted, so no proof is checked.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EXIT_OK, EXIT_FAILS, EXIT_INPUT = 0, 1, 2

#: the first line of the signed checkpoint text (docs/ledger-transparency.md)
CHECKPOINT_HEADER = "erts-ledger-checkpoint/v1"
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX16 = re.compile(r"[0-9a-f]{16}")
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
MAX_FILE_BYTES = 256 * 1024 * 1024


class Failure(Exception):
    """A check failed: printed as `erts-verify: code: message`, exit `exit_code`."""

    def __init__(self, exit_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.message = message


def fails(code: str, message: str) -> Failure:
    return Failure(EXIT_FAILS, code, message)


def bad_input(code: str, message: str) -> Failure:
    return Failure(EXIT_INPUT, code, message)


# --- RFC 9162 section 2.1.1: the hashes of the tree ---------------------------------------

def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(leaf_data: bytes) -> bytes:
    """MTH({d(0)}) = HASH(0x00 || d(0)): the hash of one leaf (RFC 9162 §2.1.1)."""
    return sha256(b"\x00" + leaf_data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])): an interior node (RFC 9162 §2.1.1)."""
    return sha256(b"\x01" + left + right)


#: MTH({}) = HASH(): the root of the empty tree (RFC 9162 §2.1.1)
EMPTY_ROOT = sha256(b"")


# --- RFC 9162 section 2.1.3.2: verifying an inclusion proof --------------------------------

def root_from_inclusion_proof(leaf_index: int, tree_size: int, leaf: bytes,
                              inclusion_path: list[bytes]) -> bytes | None:
    """The root that `inclusion_path` proves for the leaf hash `leaf` at `leaf_index` in a
    tree of `tree_size` leaves, or None when the path cannot be a valid proof (wrong length,
    index out of range). The caller compares the result with the signed root.

    The steps are those of RFC 9162 §2.1.3.2, numbered as there."""
    # 1. If leaf_index is greater than or equal to tree_size, fail.
    if leaf_index < 0 or leaf_index >= tree_size:
        return None
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = leaf
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return None
        # If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # If LSB(fn) is not set, then right-shift both fn and sn equally until either
            # LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise: set r to HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. If sn is equal to 0 (and r equals root_hash, checked by the caller), the proof holds.
    if sn != 0:
        return None
    return r


# --- RFC 9162 section 2.1.4.2: verifying a consistency proof -------------------------------

def consistency_proof_holds(first: int, second: int, first_hash: bytes, second_hash: bytes,
                            consistency_path: list[bytes]) -> bool:
    """True when `consistency_path` proves that the tree of `second` leaves with root
    `second_hash` extends the tree of `first` leaves with root `first_hash` (its first
    `first` leaves are the same).

    The steps are those of RFC 9162 §2.1.4.2, numbered as there. The RFC's algorithm assumes
    0 < first < second; the two edge cases before it follow from §2.1.4.1 (PROOF(m, D[m]) is
    empty when m = n, and every tree extends the empty one)."""
    if first < 0 or first > second:
        return False
    if first == 0:
        return not consistency_path
    if first == second:
        return not consistency_path and first_hash == second_hash
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not consistency_path:
        return False
    path = list(consistency_path)
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # Set fr to HASH(0x01 || c || fr); set sr to HASH(0x01 || c || sr).
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # If LSB(fn) is not set, then right-shift both fn and sn equally until either
            # LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise: set sr to HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. fr must equal first_hash, sr must equal second_hash, and sn must be 0.
    return fr == first_hash and sr == second_hash and sn == 0


# --- checkpoints (docs/ledger-transparency.md) ---------------------------------------------

def key_id_of(raw_public_key: bytes) -> str:
    """Lowercase hex of the first 8 bytes of SHA-256(raw public key)."""
    return hashlib.sha256(raw_public_key).digest()[:8].hex()


def checkpoint_text(origin: str, tree_size: int, root_hash_hex: str, timestamp: str) -> bytes:
    """The exact UTF-8 text a checkpoint's Ed25519 signature covers."""
    return (f"{CHECKPOINT_HEADER}\n{origin}\n{tree_size}\n{root_hash_hex}\n{timestamp}\n"
            .encode())


def strict_b64(value: Any, what: str, code: str, length: int | None = None) -> bytes:
    """Standard padded base64, canonical (re-encoding gives the same text, so two texts never
    stand for the same bytes), of `length` bytes when given."""
    if not isinstance(value, str):
        raise bad_input(code, f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise bad_input(code, f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise bad_input(code, f"{what} is not canonical base64")
    if length is not None and len(raw) != length:
        raise bad_input(code, f"{what} is {len(raw)} bytes, not {length}")
    return raw


def hex64(value: Any, what: str, code: str) -> bytes:
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise bad_input(code, f"{what} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


def whole(value: Any, what: str, code: str, minimum: int = 0) -> int:
    # JSON true/false are Python bools, which are ints: refuse them
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise bad_input(code, f"{what} is not a whole number of at least {minimum}")
    return value


def load_json(path: str, code: str) -> Any:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise bad_input("file_unreadable", f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise bad_input(code, f"{path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return json.loads(data.decode("utf-8-sig"))  # a byte order mark is tolerated
    except UnicodeDecodeError:
        raise bad_input(code, f"{path} is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise bad_input(code, f"{path} is not JSON: {str(exc)[:120]}") from None


class Checkpoint:
    """One signed checkpoint of a checkpoints file (after its signature was checked)."""

    def __init__(self, tree_size: int, root_hash: bytes, timestamp: str) -> None:
        self.tree_size = tree_size
        self.root_hash = root_hash
        self.timestamp = timestamp


def load_checkpoints(path: str, pinned_key: str | None) -> tuple[str, str, list[Checkpoint]]:
    """Read a saved checkpoints file, check that key_id is the public key's, that every
    checkpoint is signed by that key over the text above and that checkpoints of one size
    agree. Returns (origin, key_id, checkpoints)."""
    code = "checkpoint_file_invalid"
    doc = load_json(path, code)
    if not isinstance(doc, dict):
        raise bad_input(code, "the checkpoints file is not a JSON object")
    origin = doc.get("origin")
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise bad_input(code, "origin is not a one-line string")
    raw_key = strict_b64(doc.get("public_key"), "public_key", code, 32)
    key_id = doc.get("key_id")
    if not isinstance(key_id, str) or not HEX16.fullmatch(key_id):
        raise bad_input(code, "key_id is not 16 lowercase hex digits")
    if key_id != key_id_of(raw_key):
        raise bad_input("checkpoint_key_mismatch",
                        f"key_id {key_id} is not the public key's ({key_id_of(raw_key)})")
    if pinned_key is not None and doc["public_key"] != pinned_key:
        pinned_id = key_id_of(base64.b64decode(pinned_key))
        raise bad_input("checkpoint_key_mismatch",
                        f"the file's public key (key_id {key_id}) is not the pinned key "
                        f"(key_id {pinned_id})")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw_key)
    except ValueError:
        raise bad_input(code, "public_key is not an Ed25519 public key") from None
    items = doc.get("checkpoints")
    if not isinstance(items, list):
        raise bad_input(code, "checkpoints is not a list")
    out: list[Checkpoint] = []
    for i, item in enumerate(items):
        where = f"checkpoints[{i}]"
        if not isinstance(item, dict):
            raise bad_input(code, f"{where} is not an object")
        size = whole(item.get("tree_size"), f"{where}.tree_size", code)
        root = hex64(item.get("root_hash"), f"{where}.root_hash", code)
        ts = item.get("timestamp")
        if not isinstance(ts, str) or not RFC3339_UTC.fullmatch(ts):
            raise bad_input(code, f"{where}.timestamp is not an RFC 3339 UTC time")
        if item.get("key_id") != key_id:
            raise bad_input("checkpoint_key_mismatch",
                            f"{where} (tree_size {size}) names key_id {item.get('key_id')!r}, "
                            f"not the file's {key_id}")
        signature = strict_b64(item.get("signature"), f"{where}.signature", code, 64)
        try:
            public_key.verify(signature, checkpoint_text(origin, size, root.hex(), ts))
        except InvalidSignature:
            raise bad_input("checkpoint_signature_invalid",
                            f"{where} (tree_size {size}): the signature does not verify "
                            f"with key {key_id}") from None
        if out and size < out[-1].tree_size:
            raise bad_input(code, f"{where}: tree_size {size} after {out[-1].tree_size} "
                                  "(the list must ascend)")
        out.append(Checkpoint(size, root, ts))
    by_size: dict[int, Checkpoint] = {}
    for cp in out:
        seen = by_size.setdefault(cp.tree_size, cp)
        if seen.root_hash != cp.root_hash:
            raise fails("checkpoint_fork",
                        f"two signed checkpoints of tree_size {cp.tree_size} have different "
                        f"roots ({seen.root_hash.hex()} at {seen.timestamp}, "
                        f"{cp.root_hash.hex()} at {cp.timestamp})")
        if cp.tree_size == 0 and cp.root_hash != EMPTY_ROOT:
            raise fails("checkpoint_fork", "a signed checkpoint of tree_size 0 has a root "
                                           "other than SHA-256 of the empty string")
    return origin, key_id, out


def signed_root(checkpoints: list[Checkpoint], tree_size: int, path: str) -> Checkpoint:
    for cp in checkpoints:
        if cp.tree_size == tree_size:
            return cp
    raise bad_input("checkpoint_not_found",
                    f"no signed checkpoint of tree_size {tree_size} in {path}")


# --- the three commands ---------------------------------------------------------------------

def cmd_checkpoint(args: argparse.Namespace) -> str:
    origin, key_id, cps = load_checkpoints(args.file, args.public_key)
    last = f", newest tree_size {cps[-1].tree_size} at {cps[-1].timestamp}" if cps else ""
    return f"ok: {len(cps)} checkpoints of {origin} signed by key {key_id}{last}"


def cmd_inclusion(args: argparse.Namespace) -> str:
    origin, key_id, cps = load_checkpoints(args.checkpoints, args.public_key)
    code = "proof_file_invalid"
    proof = load_json(args.proof, code)
    if not isinstance(proof, dict):
        raise bad_input(code, "the proof is not a JSON object")
    index = whole(proof.get("leaf_index"), "leaf_index", code)
    size = whole(proof.get("tree_size"), "tree_size", code, 1)
    # the public proof carries no leaf_data (only the leaf's hash); an enterprise's own proof
    # carries the leaf's bytes, which are then hashed and checked too
    data = strict_b64(proof["leaf_data"], "leaf_data", code) if "leaf_data" in proof else None
    claimed_leaf = hex64(proof.get("leaf_hash"), "leaf_hash", code)
    claimed_root = hex64(proof.get("root_hash"), "root_hash", code)
    raw_path = proof.get("audit_path")
    if not isinstance(raw_path, list):
        raise bad_input(code, "audit_path is not a list")
    audit_path = [hex64(p, f"audit_path[{i}]", code) for i, p in enumerate(raw_path)]
    cp = signed_root(cps, size, args.checkpoints)
    # the leaf hash is the hash of the leaf's bytes (RFC 9162 §2.1.1)
    if data is not None and leaf_hash(data) != claimed_leaf:
        raise fails("leaf_hash_mismatch",
                    f"leaf_hash is not SHA-256(0x00 || leaf_data) for leaf {index}")
    if claimed_root != cp.root_hash:
        raise fails("root_mismatch",
                    f"the proof's root_hash differs from the signed checkpoint of tree_size "
                    f"{size} ({cp.timestamp})")
    root = root_from_inclusion_proof(index, size, claimed_leaf, audit_path)
    if root is None or root != cp.root_hash:
        raise fails("inclusion_proof_invalid",
                    f"the audit path does not lead from leaf {index} to the signed root of "
                    f"tree_size {size} ({cp.timestamp})")
    # `record` is the registry's label for the leaf, outside the hashes: shown, not proven
    # (the leaf's data are what is proven)
    record = proof.get("record")
    what = ""
    if isinstance(record, dict) and "kind" in record:
        ref = record.get("ref")
        what = f" (labelled {record.get('kind')}{'' if ref is None else ' ' + str(ref)})"
    contents = ("its leaf_data hash to leaf_hash" if data is not None else
                "the leaf's contents were not checked: the proof has no leaf_data, only "
                "leaf_hash")
    return (f"ok: leaf {index}{what} is in the tree of size {size} of {origin} signed by key "
            f"{key_id} at {cp.timestamp} (root {cp.root_hash.hex()}); {contents}")


def cmd_consistency(args: argparse.Namespace) -> str:
    origin, key_id, cps = load_checkpoints(args.checkpoints, args.public_key)
    code = "proof_file_invalid"
    proof = load_json(args.proof, code)
    if not isinstance(proof, dict):
        raise bad_input(code, "the proof is not a JSON object")
    first = whole(proof.get("first"), "first", code, 1)
    second = whole(proof.get("second"), "second", code, 1)
    if first > second:
        raise bad_input(code, f"first ({first}) is greater than second ({second})")
    claimed_first = hex64(proof.get("first_root"), "first_root", code)
    claimed_second = hex64(proof.get("second_root"), "second_root", code)
    raw_path = proof.get("consistency_path")
    if not isinstance(raw_path, list):
        raise bad_input(code, "consistency_path is not a list")
    path = [hex64(p, f"consistency_path[{i}]", code) for i, p in enumerate(raw_path)]
    cp1 = signed_root(cps, first, args.checkpoints)
    cp2 = signed_root(cps, second, args.checkpoints)
    for claimed, cp in ((claimed_first, cp1), (claimed_second, cp2)):
        if claimed != cp.root_hash:
            raise fails("root_mismatch",
                        f"the proof's root for tree_size {cp.tree_size} differs from the "
                        f"signed checkpoint's ({cp.timestamp})")
    if not consistency_proof_holds(first, second, cp1.root_hash, cp2.root_hash, path):
        raise fails("consistency_proof_invalid",
                    f"the tree of size {second} ({cp2.timestamp}) is not proven to extend the "
                    f"tree of size {first} ({cp1.timestamp})")
    return (f"ok: the tree of size {second} signed at {cp2.timestamp} extends the tree of size "
            f"{first} signed at {cp1.timestamp} ({origin}, key {key_id})")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"erts-verify: bad_argument: {message}\n")


def build_parser() -> Parser:
    p = Parser(prog="erts-verify", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("checkpoint", help="check every signature of a saved checkpoints file")
    c.add_argument("file")
    c.set_defaults(func=cmd_checkpoint)
    i = sub.add_parser("inclusion", help="check an inclusion proof against a signed checkpoint")
    i.add_argument("proof")
    i.add_argument("--checkpoints", required=True)
    i.set_defaults(func=cmd_inclusion)
    k = sub.add_parser("consistency", help="check a consistency proof between two signed "
                                           "checkpoints")
    k.add_argument("proof")
    k.add_argument("--checkpoints", required=True)
    k.set_defaults(func=cmd_consistency)
    for s in (c, i, k):
        s.add_argument("--public-key", help="pin the registry's public key (base64)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.public_key is not None:
            strict_b64(args.public_key, "--public-key", "bad_argument", 32)
        print(args.func(args))
    except Failure as exc:
        print(f"erts-verify: {exc.code}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
