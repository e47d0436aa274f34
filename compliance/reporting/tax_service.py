"""Use cases of the environmental protection tax.

- `compute_return`: one quarterly return from the documented JSON input (docs/tax.md); the
  CLI (`erts tax compute`) and `POST /api/v1/compliance/tax-return` both call it, so the two
  give the same figures for the same data. Nothing is stored.
- `tax_return`: the bureau's draft of an enterprise's quarterly return from its stored
  quarterly execution report lines (the same lines the report and the statistics read, so
  the three agree to the kilogram). Execution reports carry quarterly totals and no
  concentrations: the draft treats the quarter as one period (month null), claims no
  Art. 13 reduction or Art. 12 exemption, and says both in its notes. An outlet without a
  recorded source kind is taken as a process source (PM as general dust) and the draft says
  so: the bureau records the kind with `set_outlet_source_kind`.
- `set_outlet_source_kind`: records an outlet's source kind (one transaction).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from compliance.errors import BadReport, OutletNotFound, UnknownSourceKind
from compliance.reporting.store import ComplianceStore
from compliance.reporting.tax import (
    MonthFigures,
    OutletInput,
    PollutantFigure,
    ReturnInput,
    compute,
    compute_json,
)
from compliance.reporting.tax_parameters import (
    DEFAULT_PROVINCE,
    NO_EQUIVALENT_VALUE,
    PM,
    SOURCE_KINDS,
)
from compliance.reporting.tax_parameters import VERSIONS as TAX_VERSIONS
from ledger.service import UoW

ASSUMED_KIND = "process"

DRAFT_NOTES = (
    "quarterly_figures: execution reports give quarterly totals; the law computes monthly, "
    "so the draft treats the quarter as one period (month null)",
    "no_concentrations: execution reports carry no concentrations, so no Art. 13 reduction "
    "and no Art. 12 exemption is claimed",
)


def compute_return(data: object) -> dict[str, Any]:
    """One quarterly return from the JSON input of docs/tax.md (pure; nothing stored)."""
    return compute_json(data)


def _medium(pollutant: str) -> str:
    if pollutant == PM:
        return "air"
    if pollutant in NO_EQUIVALENT_VALUE:
        return NO_EQUIVALENT_VALUE[pollutant][1]
    return next(iter(TAX_VERSIONS.values())).pollutants[pollutant].medium


def tax_return(uow: UoW, *, enterprise: str, year: int, quarter: int,
               province: str = DEFAULT_PROVINCE) -> dict[str, Any]:
    """The quarterly environmental protection tax return draft of an enterprise, from its
    quarterly execution reports."""
    if quarter not in (1, 2, 3, 4):
        raise BadReport("quarter must be 1-4", field="quarter")
    if not 2018 <= year <= 2200:
        raise BadReport("year must be 2018-2200 (the tax applies from 2018)", field="year")
    with uow:
        store = ComplianceStore(uow.session)
        figures = store.figures(year, f"Q{quarter}", enterprise)
        by_outlet: dict[tuple[str, str], list[PollutantFigure]] = defaultdict(list)
        for _e, permit, _y, _q, outlet, pol, kg in sorted(figures):
            by_outlet[(permit, outlet)].append(PollutantFigure(pol, kg))
        outlets = []
        for (permit, code), figs in sorted(by_outlet.items()):
            row = store.outlet(permit, code)
            kind = row.source_kind if row is not None else None
            medium = row.medium if row is not None else _medium(figs[0].pollutant)
            outlets.append(OutletInput(code, medium, kind or ASSUMED_KIND,
                                       (MonthFigures(None, tuple(figs)),), permit,
                                       source_kind_assumed=kind is None))
    ri = ReturnInput(year, quarter, tuple(outlets), province, None, enterprise)
    out = compute(ri, notes=DRAFT_NOTES).to_dict()
    out["status"] = "draft"
    return out


def set_outlet_source_kind(uow: UoW, *, permit: str, outlet: str, source_kind: str
                           ) -> dict[str, str]:
    if source_kind not in SOURCE_KINDS:
        raise UnknownSourceKind(
            f"unknown source kind {source_kind!r}; one of {', '.join(SOURCE_KINDS)}",
            field="source_kind")
    with uow:
        row = ComplianceStore(uow.session).outlet(permit, outlet)
        if row is None:
            raise OutletNotFound(f"permit {permit} has no outlet {outlet}", field="outlet")
        row.source_kind = source_kind
        uow.commit()
        return {"permit": permit, "outlet": outlet, "medium": row.medium,
                "source_kind": source_kind}


def parameters() -> list[dict[str, Any]]:
    """The versioned parameter table, for `erts tax parameters` and the docs."""
    return [{"version": v.version, "effective": v.effective.isoformat(),
             "rates_fen": {prov: {m: {"fen": r.fen, "source": r.source,
                                      "effective": r.effective.isoformat(),
                                      "verify": r.verify} for m, r in t.items()}
                           for prov, t in v.rates.items()},
             "bands_fen": {m: list(b) for m, b in v.bands.items()},
             "top_n": v.top_n,
             "reductions": [{"ratio_at_most": str(r), "payable_pct": p}
                            for r, p in v.reductions],
             "filing_days": v.filing_days,
             "pollutants": [{"code": p.code, "name_zh": p.name_zh, "class": p.klass,
                             "value_kg": str(p.value_kg), "verify": p.verify}
                            for p in v.pollutants.values()],
             "no_equivalent_value": sorted(NO_EQUIVALENT_VALUE)}
            for v in TAX_VERSIONS.values()]
