"""Permit rules (pure): validity, the cap and the permitted quantity.

- cap = min(specification basis, EIA approval): confirmed rights never exceed it;
- the initial permitted quantity (allocated) = min of all three bases, and the basis that
  gives it is named (`binding`);
- a permit that is revoked, cancelled or past its validity (whatever its stored status
  says) can neither be confirmed nor trade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kernel.errors import Conflict, InvalidInput, NotFound


class PermitNotFound(NotFound):
    code = "permit_not_found"


class EnterpriseNotFound(NotFound):
    code = "enterprise_not_found"


class QuantityNotFound(NotFound):
    code = "permitted_quantity_not_found"


class PermitExpired(Conflict):
    code = "permit_expired"


class PermitNotValid(Conflict):
    code = "permit_not_valid"


class PermitRevoked(PermitNotValid):
    """Revoked (撤销): the permit carries no rights and cannot trade."""

    code = "permit_revoked"


class PermitCancelled(PermitNotValid):
    """Cancelled (注销): the permit no longer exists."""

    code = "permit_cancelled"


class YearOutsidePermit(InvalidInput):
    code = "year_outside_permit"


class ConfirmationAboveCap(Conflict):
    code = "confirmation_above_cap"


class NotPermitHolder(NotFound):
    """The enterprise does not hold this permit. A 404, so nothing leaks."""

    code = "permit_not_found"


class ZoneMismatch(InvalidInput):
    code = "zone_mismatch"


class IndicatorNotFound(NotFound):
    code = "indicator_not_found"


class IndicatorAlreadyIssued(Conflict):
    code = "indicator_already_issued"


@dataclass(frozen=True, slots=True)
class PermitView:
    code: str
    enterprise: str
    valid_from: date
    valid_to: date
    status: str


def check_usable(p: PermitView, year: int, today: date) -> None:
    """Raise unless the permit may carry rights for `year` today."""
    if p.status == "expired" or today > p.valid_to:
        raise PermitExpired(f"permit {p.code} expired on {p.valid_to.isoformat()}",
                            field="permit_code")
    if p.status != "valid":
        error = {"revoked": PermitRevoked, "cancelled": PermitCancelled}.get(p.status,
                                                                           PermitNotValid)
        raise error(f"permit {p.code} is {p.status}", field="permit_code")
    if not p.valid_from.year <= year <= p.valid_to.year:
        raise YearOutsidePermit(
            f"year {year} is outside the permit's validity "
            f"{p.valid_from.isoformat()}..{p.valid_to.isoformat()}", field="year")


def cap_and_allocation(spec_kg: int, eia_kg: int | None, share_kg: int | None
                       ) -> tuple[int, int, str]:
    """(cap, allocated, binding basis) from the three bases; ties name the earlier basis."""
    cap = spec_kg if eia_kg is None else min(spec_kg, eia_kg)
    candidates = [("specification", spec_kg)]
    if eia_kg is not None:
        candidates.append(("eia", eia_kg))
    if share_kg is not None:
        candidates.append(("indicator_share", share_kg))
    binding, allocated = min(candidates, key=lambda c: c[1])
    return cap, allocated, binding
