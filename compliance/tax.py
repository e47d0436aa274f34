"""Environmental protection tax (pure): pollution equivalents and tax in integer fen.

equivalents = kg / equivalent value (kg per equivalent, see `compliance.parameters`);
tax = equivalents × rate. Each return line (permit, outlet, pollutant) is computed in Decimal
and quantised once, half-even, to whole fen; the return's total is the sum of its lines, so
the lines always add up to the total.

The law taxes, per outlet, only the three air pollutants (three "other" water pollutants)
with the most equivalents; the platform's taxable pollutants are three air (SO2, NOx, dust)
and two water (COD, NH3-N), so every reported one is within that rule. VOCs have no
equivalent value here and are left out of the return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from compliance.errors import NotTaxable, RateOutOfBounds
from compliance.parameters import (
    DEFAULT_PROVINCE,
    EQUIVALENT_VALUE_KG,
    RATE_BOUNDS_FEN,
    TAX_RATES_FEN,
)
from kernel.pollutants import parse_pollutant


def check_rate(medium: str, rate_fen: int) -> int:
    lo, hi = RATE_BOUNDS_FEN[medium]
    if isinstance(rate_fen, bool) or not isinstance(rate_fen, int) or not lo <= rate_fen <= hi:
        raise RateOutOfBounds(
            f"{medium} rate {rate_fen} fen is outside {lo}-{hi} fen per equivalent",
            field="rate_fen")
    return rate_fen


def rates(province: str = DEFAULT_PROVINCE) -> dict[str, int]:
    """The province's rates per medium, checked against the statutory band."""
    table = TAX_RATES_FEN.get(province)
    if table is None:
        raise RateOutOfBounds(f"no tax rates for province {province!r}", field="province")
    return {m: check_rate(m, r) for m, r in table.items()}


def equivalents(kg: int, pollutant: str) -> Decimal:
    value = EQUIVALENT_VALUE_KG.get(pollutant)
    if value is None:
        raise NotTaxable(f"{pollutant} has no pollution equivalent value", field="pollutant")
    return Decimal(kg) / value


def tax_fen(kg: int, pollutant: str, rate_fen: int) -> int:
    """Tax on `kg` of `pollutant` at `rate_fen` per equivalent: quantised once, half-even."""
    equivalents(kg, pollutant)  # refuses untaxed pollutants
    # multiply first, divide once: an exact half stays exact and rounds half-even
    exact = Decimal(kg * rate_fen) / EQUIVALENT_VALUE_KG[pollutant]
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class TaxLine:
    permit: str
    outlet: str
    pollutant: str
    kg: int
    equivalents: Decimal  # 4 decimals, for display
    rate_fen: int
    tax_fen: int

    def to_dict(self) -> dict[str, object]:
        return {"permit": self.permit, "outlet": self.outlet, "pollutant": self.pollutant,
                "kg": self.kg, "equivalents": str(self.equivalents),
                "rate_fen": self.rate_fen, "tax_fen": self.tax_fen}


def return_lines(figures: Iterable[tuple[str, str, str, int]],
                 rate_table: Mapping[str, int]) -> list[TaxLine]:
    """Lines of a return from (permit, outlet, pollutant, kg); untaxed pollutants (VOCs)
    are left out."""
    out = []
    for permit, outlet, pol, kg in sorted(figures):
        if pol not in EQUIVALENT_VALUE_KG:
            continue
        rate = rate_table[parse_pollutant(pol).medium]
        eq = equivalents(kg, pol).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
        out.append(TaxLine(permit, outlet, pol, kg, eq, rate, tax_fen(kg, pol, rate)))
    return out
