"""Checks the allocation use cases share: a positive whole quantity, a permit quantity usable
today.
"""

from __future__ import annotations

from datetime import date

from allocation.permits import PermitNotFound, QuantityNotFound, check_usable
from allocation.store import RegistryStore
from kernel.errors import InvalidInput


def positive(qty: object, field: str = "qty_kg") -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise InvalidInput(f"{field} must be a positive whole number of kg", field=field)
    return qty


def usable_quantity(store: RegistryStore, permit: str, pollutant: str, year: int,
                    today: date, lock: bool = True):  # type: ignore[no-untyped-def]
    p = store.permit(permit)
    if p is None:
        raise PermitNotFound(f"no permit {permit}", field="permit_code")
    check_usable(p, year, today)
    q = store.quantity(permit, pollutant, year, lock=lock)
    if q is None:
        raise QuantityNotFound(f"permit {permit} has no {pollutant} quantity for {year}",
                               field="pollutant")
    return p, q
