"""Compliance true-up (pure): which vintages are surrendered, what is deducted, what is short.

Rules for a permit's emissions of one pollutant in year Y (the service applies them per
pollutant, within the zone of the permit's year-Y quantity):

1. Vintage Y first: the confirmed rights of vintage Y settle the emissions first.
2. Banking: when `VintagePolicy.banking` is on (`compliance.parameters.BANKING_ALLOWED`),
   confirmed rights of earlier vintages Y-max_age..Y-1 (`BANKING_MAX_AGE`, default 5: one
   permit term) of the same pollutant and zone cover the rest, oldest first (the ones that
   age out first are used first). A banked vintage is eligible only once its own year's
   true-up of the permit has run: what is banked is what was left after that year's
   emissions were settled, so a late year can never take rights its own true-up needs.
3. No borrowing: a vintage after Y never settles year Y's emissions.
4. Tradable (verified surplus) rights are never surrendered: they left the permit to be
   sold, may be on hold for an order, and the enterprise can move them back to its confirmed
   account itself before the true-up if it wants to use them.
5. Deduction (optional, `next_year_held` given): the shortfall left after 1-3 is surrendered
   from vintage Y+1 up to what that account holds (as the US Acid Rain programme deducts
   excess emissions from the next year's allowances). It is a deduction, not borrowing: the
   year is still in violation (the Regulation Art. 34 penalty range is kept either way);
   only the part that could not be deducted is outstanding.

Guarantees: surrendered + deducted + outstanding = actual; surrendered + shortfall = actual;
no draw exceeds its vintage's holding; no draw is from a vintage after Y except the Y+1
deduction, and no draw from Y+1 happens without asking for one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from compliance.parameters import BANKING_ALLOWED, BANKING_MAX_AGE, PENALTY_FEN

SURRENDER, DEDUCTION = "surrender", "deduction"


@dataclass(frozen=True)
class VintagePolicy:
    banking: bool = BANKING_ALLOWED
    max_age: int = BANKING_MAX_AGE

    def __post_init__(self) -> None:
        if self.max_age < 0:
            raise ValueError("max_age is never negative")


@dataclass(frozen=True)
class Draw:
    """Rights taken from one vintage: `kind` surrender (year Y or banked) or deduction."""

    vintage: int
    kg: int
    kind: str = SURRENDER


@dataclass(frozen=True)
class Settlement:
    pollutant: str
    actual_kg: int
    held_kg: int  # the eligible holdings (vintage Y and eligible banked vintages)
    surrendered_kg: int
    shortfall_kg: int
    draws: tuple[Draw, ...] = ()
    deducted_kg: int = 0

    @property
    def outstanding_kg(self) -> int:
        """The shortfall that no deduction covered."""
        return self.shortfall_kg - self.deducted_kg

    @property
    def penalty_fen(self) -> tuple[int, int] | None:
        return PENALTY_FEN if self.shortfall_kg > 0 else None


def eligible_vintages(year: int, vintages: Collection[int], *,
                      settled: Collection[int] = (),
                      policy: VintagePolicy = VintagePolicy()) -> list[int]:
    """The vintages that may settle year `year`, in the order of use: `year` itself, then
    banked vintages (within the age limit and already trued up) oldest first."""
    out = [year] if year in vintages else []
    if policy.banking:
        out += sorted(v for v in vintages
                      if year - policy.max_age <= v < year and v in settled)
    return out


def settle(pollutant: str, actual_kg: int, held_kg: int) -> Settlement:
    """One vintage, no deduction: surrender up to what is held."""
    if actual_kg < 0 or held_kg < 0:
        raise ValueError("actual and held quantities are never negative")
    surrendered = min(actual_kg, held_kg)
    return Settlement(pollutant, actual_kg, held_kg, surrendered, actual_kg - surrendered)


def settle_vintages(pollutant: str, year: int, actual_kg: int, holdings: Mapping[int, int],
                    *, settled: Collection[int] = (),
                    policy: VintagePolicy = VintagePolicy(),
                    next_year_held: int | None = None) -> Settlement:
    """Settle `actual_kg` of year `year` from `holdings` (vintage → kg available) by the
    rules above; `next_year_held` (vintage Y+1's available kg) asks for the deduction."""
    if actual_kg < 0 or any(kg < 0 for kg in holdings.values()) or (
            next_year_held is not None and next_year_held < 0):
        raise ValueError("actual and held quantities are never negative")
    order = eligible_vintages(year, [v for v, kg in holdings.items() if kg > 0],
                              settled=settled, policy=policy)
    rest, draws = actual_kg, []
    for v in order:
        if rest == 0:
            break
        kg = min(rest, holdings[v])
        draws.append(Draw(v, kg))
        rest -= kg
    held = sum(holdings[v] for v in order)
    surrendered = actual_kg - rest
    deducted = 0
    if next_year_held is not None and rest > 0:
        deducted = min(rest, next_year_held)
        if deducted > 0:
            draws.append(Draw(year + 1, deducted, DEDUCTION))
    return Settlement(pollutant, actual_kg, held, surrendered, rest, tuple(draws), deducted)
