"""Identifiers: unified social credit codes (18 chars) and permit codes (22 chars).

A permit code is the holder's credit code + a 3-digit site sequence + 1 check character,
e.g. ``91500000XXXXXXXXXX001P``. The check character here is computed by `permit_check_char`
(a weighted mod-21 checksum over the first 21 characters, giving a letter), so every code
the platform issues validates; codes from elsewhere are accepted if they have the right shape.
"""

from __future__ import annotations

import re

from kernel.errors import InvalidInput

# GB 32100-2015 alphabet: digits and upper-case letters except I, O, Z, S, V.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_PERMIT_RE = re.compile(r"^([0-9A-HJ-NPQRTUWXY]{18})([0-9]{3})([0-9A-Z])$")
_PERMIT_CHECK = "ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def make_credit_code(first17: str) -> str:
    return first17 + credit_check_char(first17)


def validate_credit_code(code: str, field: str = "credit_code") -> str:
    if not isinstance(code, str) or not _CREDIT_RE.match(code):
        raise InvalidInput(
            f"{code!r} is not an 18-character unified social credit code", field=field
        )
    return code


def permit_check_char(first21: str) -> str:
    total = sum((i + 1) * int(c, 36) for i, c in enumerate(first21))
    return _PERMIT_CHECK[total % len(_PERMIT_CHECK)]


def make_permit_code(credit_code: str, site_seq: int) -> str:
    if not 1 <= site_seq <= 999:
        raise InvalidInput("site sequence must be 1..999", field="site_seq")
    first21 = f"{credit_code}{site_seq:03d}"
    return first21 + permit_check_char(first21)


def validate_permit_code(code: str, field: str = "permit_code") -> str:
    if not isinstance(code, str) or not _PERMIT_RE.match(code):
        raise InvalidInput(f"{code!r} is not a 22-character permit code", field=field)
    return code


#: Ids a user may choose (client order ids, listing, transfer, auction and bid ids): an ASCII
#: letter or digit first, then letters, digits and ``. _ : -``, at most 64 characters. The
#: first character can never be ``=``, ``+``, ``-``, ``@`` (a spreadsheet formula), and no
#: id holds a space, a control character or anything a CSV, URL path or log line must quote.
#: Services add their own, shorter length limits.
USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_USER_ID_RE = re.compile(USER_ID_PATTERN)


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and _USER_ID_RE.fullmatch(value) is not None


def validate_user_id(value: object, field: str = "id", most: int = 64) -> str:
    """`value` when it matches `USER_ID_PATTERN` and has at most `most` characters."""
    if not is_user_id(value) or len(value) > most:  # type: ignore[arg-type]
        raise InvalidInput(
            f"{field} must be 1 to {most} letters, digits or . _ : - starting with a letter "
            "or digit", field=field)
    return value  # type: ignore[return-value]
