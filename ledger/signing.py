"""Ed25519 checkpoint signing and the checkpoint file (docs/ledger-transparency.md).

Public key: base64 (standard, padded) of the raw 32 bytes; key id: lowercase hex of the first
8 bytes of SHA-256(raw public key). A checkpoint signs, in UTF-8, exactly

    erts-ledger-checkpoint/v1\\n<origin>\\n<tree size>\\n<root hash hex>\\n<timestamp>\\n

(timestamp RFC 3339 UTC like 2026-12-06T03:00:00Z); the signature is base64 of the 64 bytes.
A private key is read as PEM (PKCS#8, what `erts ledger keygen` writes) or as base64 of the
32-byte seed (the form `ERTS_LEDGER_SIGNING_KEY` takes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger import errors as E

HEADER = "erts-ledger-checkpoint/v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def checkpoint_text(origin: str, tree_size: int, root_hex: str, timestamp: str) -> bytes:
    return (f"{HEADER}\n{origin}\n{tree_size}\n{root_hex}\n{timestamp}\n").encode()


def rfc3339(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).digest()[:8].hex()


def _raw(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.raw_public = _raw(key.public_key())
        self.public_key = base64.b64encode(self.raw_public).decode()
        self.key_id = key_id(self.raw_public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode()


def generate_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def load_signer(data: bytes | str, *, source: str) -> Signer:
    """A signer from PEM or base64 of the 32-byte seed; SigningKeyInvalid naming `source`."""
    blob = data.encode() if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in blob:
            key = serialization.load_pem_private_key(blob, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return Signer(key)
        seed = base64.b64decode(blob.strip(), validate=True)
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return Signer(Ed25519PrivateKey.from_private_bytes(seed))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise E.SigningKeyInvalid(f"{source} is not an Ed25519 private key: {exc}") from None


def verify_signature(raw_public: bytes, message: bytes, signature_b64: str) -> bool:
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(raw_public).verify(sig, message)
        return True
    except (InvalidSignature, ValueError, binascii.Error):
        return False


# -- the checkpoints file -------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, object]:
        return dict(tree_size=self.tree_size, root_hash=self.root_hash,
                    timestamp=self.timestamp, key_id=self.key_id, signature=self.signature)


@dataclass(frozen=True)
class CheckpointsDoc:
    origin: str
    public_key: str
    key_id: str
    checkpoints: list[Checkpoint]

    def as_dict(self) -> dict[str, object]:
        return dict(origin=self.origin, public_key=self.public_key, key_id=self.key_id,
                    checkpoints=[c.as_dict() for c in self.checkpoints])


def _bad(msg: str) -> E.LedgerRejection:
    return E.CheckpointFileInvalid(msg, field="checkpoints")


def parse_checkpoints(text: str | bytes, *, expect_key: str | None = None) -> CheckpointsDoc:
    """A saved checkpoints file, checked: its shape (CheckpointFileInvalid), its key
    (CheckpointKeyMismatch: the key id is not the public key's, a checkpoint names another
    key, or the public key is not `expect_key`) and every signature
    (CheckpointSignatureInvalid)."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _bad("the file is not a JSON object")
    origin, pub, kid, items = (doc.get("origin"), doc.get("public_key"), doc.get("key_id"),
                               doc.get("checkpoints"))
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise _bad("origin must be a one-line string")
    if not isinstance(pub, str) or not isinstance(kid, str) or not _HEX16.fullmatch(kid):
        raise _bad("public_key must be base64 and key_id 16 lowercase hex digits")
    try:
        raw = base64.b64decode(pub, validate=True)
    except (ValueError, binascii.Error):
        raise _bad("public_key is not base64") from None
    if len(raw) != 32:
        raise _bad("public_key is not 32 bytes")
    if not isinstance(items, list):
        raise _bad("checkpoints must be a list")
    cps: list[Checkpoint] = []
    for n, c in enumerate(items):
        if not isinstance(c, dict):
            raise _bad(f"checkpoint {n} is not an object")
        size, root, stamp, ckid, sig = (c.get("tree_size"), c.get("root_hash"),
                                        c.get("timestamp"), c.get("key_id"),
                                        c.get("signature"))
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _bad(f"checkpoint {n}: tree_size must be a positive integer")
        if not isinstance(root, str) or not _HEX64.fullmatch(root):
            raise _bad(f"checkpoint {n}: root_hash must be 64 lowercase hex digits")
        if not isinstance(stamp, str) or not _STAMP.fullmatch(stamp):
            raise _bad(f"checkpoint {n}: timestamp must be RFC 3339 UTC (…Z)")
        if not isinstance(ckid, str) or not isinstance(sig, str):
            raise _bad(f"checkpoint {n}: key_id and signature must be strings")
        if cps and size < cps[-1].tree_size:
            raise _bad(f"checkpoint {n}: checkpoints must ascend by tree_size")
        cps.append(Checkpoint(size, root, stamp, ckid, sig))
    if key_id(raw) != kid:
        raise E.CheckpointKeyMismatch(f"key_id {kid} is not the id of the public key "
                                      f"({key_id(raw)})")
    if expect_key is not None and pub != expect_key:
        raise E.CheckpointKeyMismatch("the file's public key is not the expected key")
    for c in cps:
        if c.key_id != kid:
            raise E.CheckpointKeyMismatch(f"checkpoint at tree size {c.tree_size} names key "
                                          f"{c.key_id}, the file's key is {kid}")
        if not verify_signature(raw, checkpoint_text(origin, c.tree_size, c.root_hash,
                                                     c.timestamp), c.signature):
            raise E.CheckpointSignatureInvalid(
                f"the signature of the checkpoint at tree size {c.tree_size} does not verify "
                "with the file's public key")
    return CheckpointsDoc(origin, pub, kid, cps)


def write_key_file(path: Path) -> Signer:
    """A new private key written to `path` (PEM, mode 0600; refuses to overwrite)."""
    pem = generate_pem()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return load_signer(pem, source=str(path))


def resolve_signer(key: str, key_file: str, *, dev_file: Path | None) -> Signer:
    """The signer from a key (base64 seed or PEM) or a key file; else, when `dev_file` is
    given (development), the key in that file, made on first use; else SigningKeyMissing."""
    if key:
        return load_signer(key, source="ERTS_LEDGER_SIGNING_KEY")
    if key_file:
        try:
            data = Path(key_file).read_bytes()
        except OSError as exc:
            raise E.SigningKeyInvalid(f"cannot read the ledger signing key file {key_file}: "
                                      f"{exc.strerror or exc}") from None
        return load_signer(data, source=key_file)
    if dev_file is None:
        raise E.SigningKeyMissing(
            "no ledger signing key: set ERTS_LEDGER_SIGNING_KEY_FILE (make one with `erts "
            "ledger keygen --out FILE`) or ERTS_LEDGER_SIGNING_KEY")
    if dev_file.is_file():
        return load_signer(dev_file.read_bytes(), source=str(dev_file))
    try:
        return write_key_file(dev_file)
    except FileExistsError:  # another process made it first
        return load_signer(dev_file.read_bytes(), source=str(dev_file))
