"""Compliance true-up (pure): the year's emissions judged against the permit, and the rights
they consume.

The legal limit of a permit for a pollutant and year Y is its permitted quantity for Y, after
every trade, release, recovery and deduction (DOMAIN §3; Regulation Art. 34). It binds from
issuance, whether or not its rights have been confirmed. Rules for one permit, pollutant and
year (the service applies them per pollutant, within the zone of the year-Y quantity):

1. Exceedance: actual emissions above the limit are an exceedance, whatever rights of other
   vintages the enterprise holds.
2. Banking is off by default (`compliance.parameters.BANKING_ALLOWED`). Where the bureau's
   policy turns it on, rights of earlier vintages Y-max_age..Y-1 left over after their own
   year's true-up (a vintage is eligible only once its year was trued up) may be written
   into year Y's permitted quantity, oldest first, only as far as the exceedance needs and
   never above the year's cap; only then do they count. What is written in is surrendered.
3. Surrender consumes rights, not the limit: vintage Y's confirmed rights settle the
   emissions up to what is held (banked rights written in settle their part first). A
   permit whose rights are not confirmed surrenders nothing and is still judged on its limit.
   Emissions within the limit that no rights back are reported (`unbacked_kg`), not a
   violation.
4. No borrowing: a vintage after Y never raises year Y's limit.
5. Deduction (optional, `next_year_held` given): the exceedance is surrendered from vintage
   Y+1 up to what that account holds (as the US Acid Rain programme deducts excess emissions
   from the next year's allowances). The year is still an exceedance (the penalty range is
   kept); only the part that could not be deducted is outstanding. The service lowers year
   Y+1's permitted quantity by what was deducted.
6. Tradable (verified surplus) rights are never surrendered: they left the permit.

Guarantees: surrendered ≤ actual; exceedance = max(actual - (permitted + banked), 0);
banked ≤ max(cap - permitted, 0); no draw exceeds its vintage's holding; nothing after Y is
drawn except the Y+1 deduction, and that only when asked for.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from compliance.parameters import BANKING_ALLOWED, BANKING_MAX_AGE

SURRENDER, BANKED, DEDUCTION = "surrender", "banked", "deduction"


@dataclass(frozen=True)
class VintagePolicy:
    banking: bool = BANKING_ALLOWED
    max_age: int = BANKING_MAX_AGE

    def __post_init__(self) -> None:
        if self.max_age < 0:
            raise ValueError("max_age is never negative")


@dataclass(frozen=True)
class Draw:
    """Rights taken from one vintage: `kind` surrender (vintage Y), banked (an earlier vintage
    written into year Y's permit) or deduction (vintage Y+1, for the exceedance)."""

    vintage: int
    kg: int
    kind: str = SURRENDER


@dataclass(frozen=True)
class Settlement:
    pollutant: str
    actual_kg: int
    permitted_kg: int  # the year's permitted quantity before anything was banked into it
    held_kg: int  # vintage Y's confirmed rights available
    surrendered_kg: int  # vintage Y's and banked rights surrendered
    exceedance_kg: int
    draws: tuple[Draw, ...] = ()
    banked_kg: int = 0
    deducted_kg: int = 0

    @property
    def limit_kg(self) -> int:
        """The legal limit the emissions were judged against."""
        return self.permitted_kg + self.banked_kg

    @property
    def outstanding_kg(self) -> int:
        """The exceedance that no deduction covered."""
        return self.exceedance_kg - self.deducted_kg

    @property
    def unbacked_kg(self) -> int:
        """Emissions within the limit that no rights settled (rights not yet confirmed)."""
        return max(self.actual_kg - self.exceedance_kg - self.surrendered_kg, 0)


def eligible_banked(year: int, vintages: Collection[int], *, settled: Collection[int] = (),
                    policy: VintagePolicy = VintagePolicy()) -> list[int]:
    """The earlier vintages whose rights may be written into year `year`'s permit, oldest
    first (within the age limit and already trued up); none when banking is off."""
    if not policy.banking:
        return []
    return sorted(v for v in vintages if year - policy.max_age <= v < year and v in settled)


def settle(pollutant: str, year: int, actual_kg: int, *, permitted_kg: int, cap_kg: int,
           holdings: Mapping[int, int], settled: Collection[int] = (),
           policy: VintagePolicy = VintagePolicy(),
           next_year_held: int | None = None) -> Settlement:
    """Judge `actual_kg` of year `year` against `permitted_kg` and settle it from `holdings`
    (vintage → kg available) by the rules above; `next_year_held` (vintage Y+1's available
    kg) asks for the deduction."""
    if actual_kg < 0 or permitted_kg < 0 or cap_kg < 0 or any(
            kg < 0 for kg in holdings.values()) or (
            next_year_held is not None and next_year_held < 0):
        raise ValueError("quantities are never negative")
    draws: list[Draw] = []
    need = max(actual_kg - permitted_kg, 0)
    room = max(cap_kg - permitted_kg, 0)
    banked = 0
    for v in eligible_banked(year, [v for v, kg in holdings.items() if kg > 0],
                             settled=settled, policy=policy):
        kg = min(need - banked, room - banked, holdings[v])
        if kg <= 0:
            break
        draws.append(Draw(v, kg, BANKED))
        banked += kg
    held = holdings.get(year, 0)
    own = min(actual_kg - banked, held)
    if own > 0:
        draws.insert(0, Draw(year, own))
    exceedance = max(actual_kg - permitted_kg - banked, 0)
    deducted = 0
    if next_year_held is not None and exceedance > 0:
        deducted = min(exceedance, next_year_held)
        if deducted > 0:
            draws.append(Draw(year + 1, deducted, DEDUCTION))
    return Settlement(pollutant, actual_kg, permitted_kg, held, own + banked, exceedance,
                      tuple(draws), banked, deducted)
