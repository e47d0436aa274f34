"""Parameter tables of compliance (pure data; change here, never in formulas).

- `EQUIVALENT_VALUE_KG`: the pollution equivalent value of each pollutant, in kg per pollution
  equivalent (Environmental Protection Tax Law of the PRC, annex 2: SO2 0.95, NOx 0.95,
  general dust 4, COD 1, NH3-N 0.8). DOMAIN.md §5 calls them "equivalents per kg"; the law's
  table is "污染当量值 (千克)", i.e. kilograms that make one equivalent, so
  equivalents = kg / value (1 kg SO2 = 1/0.95 = 1.0526 equivalents).
- `TAX_RATES_FEN`: the rate per province and medium, in fen per pollution equivalent.
  Chongqing: air 2.4 yuan, water 3 yuan (Chongqing People's Congress decision, 2017).
- `RATE_BOUNDS_FEN`: the statutory band the province must stay in (law annex 1).
- `DUE_DAY`: execution reports are due by this day of the month following the period's end
  (annual reports by 15 January of the next year; quarterly by the 15th of the month after
  the quarter).
- `PENALTY_FEN`: Regulation on Permit Administration of Pollutant Discharge, Art. 34:
  200 000 to 1 000 000 yuan for discharging beyond the permitted quantity.
- `BANKING_ALLOWED`, `BANKING_MAX_AGE`: whether rights of earlier vintages left over after
  their own year's true-up may be written into a later year's permitted quantity (never
  above its cap) to cover its emissions, and how many vintages back. Off by default: the
  legal limit is the year's permitted quantity (Regulation Art. 34); banking counts only
  where the bureau allows it (DOMAIN §3). Five years matches one permit term.
- `CHANGE_FLAG_PCT`: a year-on-year change above this share flags a report as implausible.
"""

from __future__ import annotations

from decimal import Decimal

EQUIVALENT_VALUE_KG: dict[str, Decimal] = {
    "SO2": Decimal("0.95"),
    "NOx": Decimal("0.95"),
    "PM": Decimal("4"),  # general dust (一般性粉尘)
    "COD": Decimal("1"),
    "NH3-N": Decimal("0.8"),
}

TAX_RATES_FEN: dict[str, dict[str, int]] = {
    "CQ": {"air": 240, "water": 300},
}

RATE_BOUNDS_FEN: dict[str, tuple[int, int]] = {
    "air": (120, 1200),
    "water": (140, 1400),
}

DEFAULT_PROVINCE = "CQ"

DUE_DAY: dict[str, int] = {"annual": 15, "quarterly": 15}

PENALTY_FEN: tuple[int, int] = (200_000_00, 1_000_000_00)

#: Vintage eligibility of the true-up (see compliance/trueup.py): banking of earlier
#: vintages off unless the bureau's policy allows it; at most this many vintages back
#: (vintage Y-5..Y-1 for year Y).
BANKING_ALLOWED = False
BANKING_MAX_AGE = 5

CHANGE_FLAG_PCT = 50

UNITS_TO_KG: dict[str, Decimal] = {"kg": Decimal(1), "t": Decimal(1000)}
