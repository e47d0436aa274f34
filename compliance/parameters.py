"""Parameter tables of compliance that have no table of their own (pure data; change here,
never in formulas). The tax has `compliance.reporting.tax_parameters`, execution reports
`compliance.reporting.report_parameters`, violations and their penalty ranges
`compliance.enforcement.violations`, heavy-pollution measures `compliance.alerting.alerts`.

- `BANKING_ALLOWED`, `BANKING_MAX_AGE`: whether rights of earlier vintages left over after
  their own year's true-up may be written into a later year's permitted quantity (never
  above its cap) to cover its emissions, and how many vintages back. Off by default: the
  legal limit is the year's permitted quantity (Regulation Art. 34); banking counts only
  where the bureau allows it (DOMAIN §3). Five years matches one permit term.
- `CHANGE_FLAG_PCT`: a year-on-year change above this share flags a report as implausible.
- `UNITS_TO_KG`: the units an execution report's quantity may be given in.
"""

from __future__ import annotations

from decimal import Decimal

#: Vintage eligibility of the true-up (see compliance/reporting/trueup.py): banking of earlier
#: vintages off unless the bureau's policy allows it; at most this many vintages back
#: (vintage Y-5..Y-1 for year Y).
BANKING_ALLOWED = False
BANKING_MAX_AGE = 5

CHANGE_FLAG_PCT = 50

UNITS_TO_KG: dict[str, Decimal] = {"kg": Decimal(1), "t": Decimal(1000)}
