"""Password hashing. New hashes are argon2id (argon2-cffi's RFC 9106 low-memory profile).
`verify_password` also accepts the scrypt format the demo loader writes,
``scrypt$<salt hex>$<hash hex>`` (hashlib.scrypt, n=2**14, r=8, p=1, dklen = hash length),
and ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``; `needs_rehash` is True for those, so a
log-in upgrades them to argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _scrypt_verify(stored: str, password: str) -> bool:
    parts = stored.split("$")
    try:
        if len(parts) == 3:
            n, r, p = 2**14, 8, 1
            salt, digest = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        elif len(parts) == 6:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
        else:
            return False
        if not digest or n > 2**20 or r > 32 or p > 16:
            return False
        got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                             maxmem=256 * 1024 * 1024)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, digest)


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith("scrypt$"):
        return _scrypt_verify(stored, password)
    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    if not stored.startswith("$argon2"):
        return True
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not tell."""
    return hash_password("not a real password")
