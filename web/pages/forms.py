"""Form parsing for pages: every field arrives as text and is checked here, so a malformed
form re-renders with field errors instead of an error page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from kernel.errors import DomainError
from web.messages import error_text


class FieldErrors(dict[str, str]):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, message)

    def from_domain(self, exc: DomainError) -> None:
        self.add(exc.field if exc.field in _SHOWN else "form", error_text(exc))


_SHOWN = {"permit", "market", "side", "qty", "price", "qty_kg", "year", "pollutant", "name",
          "expires_days", "username", "display_name", "role", "enterprise", "password",
          "reason"}


def text(value: str, name: str, errors: FieldErrors, *, max_len: int, required: bool = True
         ) -> str:
    v = (value or "").strip()
    if required and not v:
        errors.add(name, "required")
    elif len(v) > max_len:
        errors.add(name, f"at most {max_len} characters")
    return v[:max_len]


def whole(value: str, name: str, errors: FieldErrors, *, lo: int = 1, hi: int = 10**12,
          required: bool = True) -> int | None:
    v = (value or "").strip().replace(",", "")
    if not v:
        if required:
            errors.add(name, "required")
        return None
    if not v.lstrip("-").isdigit() or len(v) > 16:
        errors.add(name, "must be a whole number")
        return None
    n = int(v)
    if not lo <= n <= hi:
        errors.add(name, f"must be between {lo} and {hi}")
        return None
    return n


def yuan_to_fen(value: str, name: str, errors: FieldErrors) -> int | None:
    """Yuan per tonne as text → fen per tonne; off the 0.01 tick is an error."""
    v = (value or "").strip().replace(",", "")
    if not v:
        errors.add(name, "required")
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        errors.add(name, "must be a number of yuan per tonne")
        return None
    if not d.is_finite() or d <= 0 or d > Decimal(10**10):
        errors.add(name, "must be a positive price")
        return None
    fen = d * 100
    if fen != fen.to_integral_value():
        errors.add(name, "off the tick (0.01 yuan per tonne)")
        return None
    return int(fen)


def choice(value: str, name: str, errors: FieldErrors, options: tuple[str, ...]) -> str:
    if value not in options:
        errors.add(name, "must be one of " + ", ".join(options))
    return value


def day(value: str | None, name: str, errors: FieldErrors, *, required: bool = True
        ) -> date | None:
    """A date YYYY-MM-DD in 1990-2200; empty is an error only when `required`."""
    v = (value or "").strip()
    if not v:
        if required:
            errors.add(name, "required")
        return None
    try:
        d = date.fromisoformat(v)
    except ValueError:
        errors.add(name, "must be a date YYYY-MM-DD")
        return None
    if not 1990 <= d.year <= 2200:
        errors.add(name, "must fall in 1990-2200")
        return None
    return d
