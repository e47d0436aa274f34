"""Environmental protection tax as the law computes it (pure).

From a return input (one quarter; outlets with their medium and source kind; per month and
pollutant the kg, and where known the month's average concentration, the applicable
standard and the month's highest reading) to the lines of the return, per outlet, month and
pollutant. Guarantees:

- equivalents = kg ÷ the pollutant's equivalent value (kg per equivalent, law annex 2, see
  `compliance.reporting.tax_parameters`); the platform's "PM" is smoke dust (2.18) at combustion
  sources and general dust (4) otherwise, and the line says which and why;
- a pollutant without an equivalent value (VOCs, total nitrogen) is listed as not taxed,
  never dropped; an unknown one is refused;
- per outlet and month only the top 3 air pollutants, the top 5 first-class and top 3 other
  water pollutants by equivalents are taxed (Art. 9), and of COD, BOD5 and TOC only the one
  with the most equivalents (annex 2 note);
- Art. 12(3): centralised municipal sewage (water) and household-waste plants are exempt for
  a pollutant whose month's average and highest reading are within the standard; Art. 13:
  75 % payable where the month's average is at most 70 % of the standard, 50 % where at most
  50 %, and neither where any reading exceeds it (Implementing Regulation Art. 10); without
  a concentration nothing is claimed and the line says so;
- each line's tax is quantised once, half-even, to whole fen; month, outlet and return
  totals are sums of lines; the return is due 15 days after the quarter's end (Art. 19).

Bad input raises a domain error naming the field (a JSON path such as
``outlets[0].months[1].pollutants[2].kg``).
"""

from __future__ import annotations

import calendar
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from compliance.errors import (
    BadTaxInput,
    MonthOutsideQuarter,
    RateOutOfBounds,
    UnknownSourceKind,
    UnknownTaxPollutant,
)
from compliance.reporting.tax_parameters import (
    AIR,
    DEFAULT_PROVINCE,
    EXEMPT_MEDIA,
    NO_EQUIVALENT_VALUE,
    ONE_OF,
    PM,
    PM_AS,
    SOURCE_KINDS,
    WATER_1,
    WATER_2,
    TaxParameters,
    TaxPollutant,
    parameters_for,
)

MAX_KG = 10**15
_EXACT = decimal.Context(prec=60)


# --- input ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PollutantFigure:
    pollutant: str  # as given (platform or annex code)
    kg: int
    concentration: Decimal | None = None  # the month's average, in the standard's unit
    limit: Decimal | None = None  # the applicable (strictest national or local) standard
    max_reading: Decimal | None = None  # the month's highest hourly/daily/sampled value


@dataclass(frozen=True)
class MonthFigures:
    month: int | None  # None: the quarter as one period (drafts from quarterly reports)
    pollutants: tuple[PollutantFigure, ...]


@dataclass(frozen=True)
class OutletInput:
    outlet: str
    medium: str
    source_kind: str
    months: tuple[MonthFigures, ...]
    permit: str | None = None
    source_kind_assumed: bool = False  # the draft assumed it (not recorded on the outlet)


@dataclass(frozen=True)
class ReturnInput:
    year: int
    quarter: int
    outlets: tuple[OutletInput, ...]
    province: str = DEFAULT_PROVINCE
    rates_fen: Mapping[str, int] | None = None  # overrides the province's table
    enterprise: str | None = None


def quarter_months(quarter: int) -> tuple[int, int, int]:
    return (3 * quarter - 2, 3 * quarter - 1, 3 * quarter)


def due_date(year: int, quarter: int, params: TaxParameters | None = None) -> date:
    """Art. 19: within 15 days of the quarter's end (Q1 → 15 April)."""
    p = params or parameters_for(date(year, 3 * quarter - 2, 1))
    last = 3 * quarter
    end = date(year, last, calendar.monthrange(year, last)[1])
    return end + timedelta(days=p.filing_days)


def _obj(v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise BadTaxInput(f"{where or 'the input'} must be a JSON object", field=where or None)
    return v


def _keys(d: dict[str, Any], where: str, required: Sequence[str], optional: Sequence[str]
          ) -> None:
    for k in d:
        if k not in required and k not in optional:
            raise BadTaxInput(f"unknown field {k!r}", field=_join(where, str(k)))
    for k in required:
        if k not in d:
            raise BadTaxInput(f"{_join(where, k)} is required", field=_join(where, k))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _int(v: object, field: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise BadTaxInput(f"{field} must be a whole number from {lo} to {hi}", field=field)
    return v


def _text(v: object, field: str, max_len: int) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > max_len:
        raise BadTaxInput(f"{field} must be a text of 1-{max_len} characters", field=field)
    return v.strip()


def _conc(v: object, field: str) -> Decimal | None:
    """A concentration: a JSON number or a decimal string, finite and not negative."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, str)) or (
            isinstance(v, str) and len(v) > 30):
        raise BadTaxInput(f"{field} must be a number", field=field)
    try:
        d = Decimal(str(v).strip())
    except decimal.InvalidOperation:
        raise BadTaxInput(f"{field} must be a number", field=field) from None
    if not d.is_finite() or d < 0 or d > Decimal(10**9):
        raise BadTaxInput(f"{field} must be a number from 0 to 1e9", field=field)
    return d


def _resolve_code(text: str) -> str | None:
    """The canonical code of a pollutant name (any case), or None when unknown."""
    for code in (*_CODES, PM, *NO_EQUIVALENT_VALUE):
        if text.lower() == code.lower():
            return code
    return None


_CODES: tuple[str, ...] = tuple(parameters_for(date(2018, 1, 1)).pollutants)


def parse_return(data: object) -> ReturnInput:
    """A `ReturnInput` from the documented JSON shape (docs/tax.md); refuses bad input with
    the field's path."""
    d = _obj(data, "")
    _keys(d, "", ("year", "quarter", "outlets"),
          ("province", "rates_fen", "enterprise"))
    year = _int(d["year"], "year", 2018, 2200)
    quarter = _int(d["quarter"], "quarter", 1, 4)
    province = d.get("province", DEFAULT_PROVINCE)
    if not isinstance(province, str) or province not in parameters_for(
            date(year, 3 * quarter - 2, 1)).rates:
        raise RateOutOfBounds(f"no tax rates for province {province!r}", field="province")
    rates: dict[str, int] | None = None
    if d.get("rates_fen") is not None:
        r = _obj(d["rates_fen"], "rates_fen")
        _keys(r, "rates_fen", (), ("air", "water"))
        rates = {}
        for medium, v in r.items():
            if isinstance(v, bool) or not isinstance(v, int):
                raise BadTaxInput(f"rates_fen.{medium} must be whole fen",
                                  field=f"rates_fen.{medium}")
            rates[medium] = v
    enterprise = d.get("enterprise")
    if enterprise is not None:
        enterprise = _text(enterprise, "enterprise", 40)
    outlets_raw = d["outlets"]
    if not isinstance(outlets_raw, list) or not 1 <= len(outlets_raw) <= 500:
        raise BadTaxInput("outlets must be a list of 1-500 outlets", field="outlets")
    months_ok = quarter_months(quarter)
    outlets: list[OutletInput] = []
    seen_outlets: set[tuple[str | None, str]] = set()
    for i, o_raw in enumerate(outlets_raw):
        w = f"outlets[{i}]"
        o = _obj(o_raw, w)
        _keys(o, w, ("outlet", "medium", "source_kind", "months"), ("permit",))
        code = _text(o["outlet"], f"{w}.outlet", 20)
        permit = None if o.get("permit") is None else _text(o["permit"], f"{w}.permit", 22)
        if (permit, code) in seen_outlets:
            raise BadTaxInput(f"outlet {code} is given twice", field=f"{w}.outlet")
        seen_outlets.add((permit, code))
        medium = o["medium"]
        if medium not in ("air", "water"):
            raise BadTaxInput(f"{w}.medium must be air or water", field=f"{w}.medium")
        kind = o["source_kind"]
        if kind not in SOURCE_KINDS:
            raise UnknownSourceKind(
                f"unknown source kind {kind!r}; one of {', '.join(SOURCE_KINDS)}",
                field=f"{w}.source_kind")
        months_raw = o["months"]
        if not isinstance(months_raw, list) or not 1 <= len(months_raw) <= 3:
            raise BadTaxInput(f"{w}.months must list 1-3 months", field=f"{w}.months")
        months: list[MonthFigures] = []
        for j, m_raw in enumerate(months_raw):
            wm = f"{w}.months[{j}]"
            m = _obj(m_raw, wm)
            _keys(m, wm, ("month", "pollutants"), ())
            month = _int(m["month"], f"{wm}.month", 1, 12)
            if month not in months_ok:
                raise MonthOutsideQuarter(
                    f"month {month} is outside Q{quarter} (months {months_ok[0]}-"
                    f"{months_ok[2]})", field=f"{wm}.month")
            if any(x.month == month for x in months):
                raise BadTaxInput(f"month {month} is given twice", field=f"{wm}.month")
            pols_raw = m["pollutants"]
            if not isinstance(pols_raw, list) or len(pols_raw) > 200:
                raise BadTaxInput(f"{wm}.pollutants must be a list of at most 200",
                                  field=f"{wm}.pollutants")
            figures: list[PollutantFigure] = []
            for k, p_raw in enumerate(pols_raw):
                wp = f"{wm}.pollutants[{k}]"
                figures.append(_figure(_obj(p_raw, wp), wp, medium, figures))
            months.append(MonthFigures(month, tuple(figures)))
        outlets.append(OutletInput(code, medium, kind, tuple(months), permit))
    return ReturnInput(year, quarter, tuple(outlets), province, rates, enterprise)


def _figure(p: dict[str, Any], wp: str, medium: str, before: Sequence[PollutantFigure]
            ) -> PollutantFigure:
    _keys(p, wp, ("pollutant", "kg"), ("concentration", "limit", "max_reading"))
    raw = p["pollutant"]
    code = _resolve_code(raw) if isinstance(raw, str) else None
    if code is None:
        raise UnknownTaxPollutant(f"unknown pollutant {raw!r}", field=f"{wp}.pollutant")
    if _medium_of(code) != medium:
        raise BadTaxInput(f"{code} is not a {medium} pollutant", field=f"{wp}.pollutant")
    if any(f.pollutant == code for f in before):
        raise BadTaxInput(f"{code} is given twice in the month", field=f"{wp}.pollutant")
    kg = _int(p["kg"], f"{wp}.kg", 0, MAX_KG)
    conc = _conc(p.get("concentration"), f"{wp}.concentration")
    limit = _conc(p.get("limit"), f"{wp}.limit")
    peak = _conc(p.get("max_reading"), f"{wp}.max_reading")
    if limit is not None and limit == 0:
        raise BadTaxInput(f"{wp}.limit must be above 0", field=f"{wp}.limit")
    if (conc is not None or peak is not None) and limit is None:
        raise BadTaxInput(f"{wp}.limit is required with a concentration", field=f"{wp}.limit")
    if peak is not None and conc is None:
        raise BadTaxInput(f"{wp}.concentration is required with max_reading",
                          field=f"{wp}.concentration")
    return PollutantFigure(code, kg, conc, limit, peak)


def _medium_of(code: str) -> str:
    if code == PM:
        return "air"
    if code in NO_EQUIVALENT_VALUE:
        return NO_EQUIVALENT_VALUE[code][1]
    return parameters_for(date(2018, 1, 1)).pollutants[code].medium


# --- computation ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TaxLine:
    permit: str | None
    outlet: str
    medium: str
    source_kind: str
    month: int | None
    pollutant: str
    taxed_as: str | None  # the annex 2 item (PM → smoke_dust / general_dust)
    klass: str | None
    kg: int
    value_kg: Decimal | None
    value_basis: str
    equivalents: Decimal  # exact
    rank: int | None
    status: str  # taxed | exempt | not_taxed
    reason: str  # full_rate | art13_75 | art13_50 | art12_exempt | beyond_top_n | ...
    rate_fen: int | None
    concentration: Decimal | None
    limit: Decimal | None
    ratio: Decimal | None
    payable_pct: int
    tax_fen: int

    def to_dict(self) -> dict[str, object]:
        return {
            "permit": self.permit, "outlet": self.outlet, "medium": self.medium,
            "source_kind": self.source_kind, "month": self.month,
            "pollutant": self.pollutant, "taxed_as": self.taxed_as, "class": self.klass,
            "kg": self.kg,
            "equivalent_value_kg": None if self.value_kg is None else str(self.value_kg),
            "value_basis": self.value_basis,
            "equivalents": str(self.equivalents.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)),
            "rank": self.rank, "status": self.status, "reason": self.reason,
            "rate_fen": self.rate_fen,
            "concentration": None if self.concentration is None else str(self.concentration),
            "limit": None if self.limit is None else str(self.limit),
            "concentration_ratio": None if self.ratio is None else str(
                self.ratio.quantize(Decimal("0.0001"), ROUND_HALF_EVEN)),
            "payable_pct": self.payable_pct, "tax_fen": self.tax_fen}


@dataclass(frozen=True)
class TaxReturn:
    input: ReturnInput
    params: TaxParameters
    rates_fen: dict[str, int]
    rate_source: str
    lines: tuple[TaxLine, ...]
    notes: tuple[str, ...]

    @property
    def total_fen(self) -> int:
        return sum(ln.tax_fen for ln in self.lines)

    def to_dict(self) -> dict[str, Any]:
        by_month: dict[str, int] = {}
        by_outlet: dict[str, int] = {}
        for ln in self.lines:
            key = "quarter" if ln.month is None else str(ln.month)
            by_month[key] = by_month.get(key, 0) + ln.tax_fen
            o = ln.outlet if ln.permit is None else f"{ln.permit}/{ln.outlet}"
            by_outlet[o] = by_outlet.get(o, 0) + ln.tax_fen
        i = self.input
        return {
            "enterprise": i.enterprise, "year": i.year, "quarter": i.quarter,
            "province": i.province, "parameters_version": self.params.version,
            "due_date": due_date(i.year, i.quarter, self.params).isoformat(),
            "rates_fen": self.rates_fen, "rate_source": self.rate_source,
            "lines": [ln.to_dict() for ln in self.lines],
            "months": [{"month": None if k == "quarter" else int(k), "tax_fen": v}
                       for k, v in by_month.items()],
            "outlets": [{"outlet": k, "tax_fen": v} for k, v in by_outlet.items()],
            "total_kg": sum(ln.kg for ln in self.lines),
            "total_fen": self.total_fen, "notes": list(self.notes)}


def check_rate(medium: str, rate_fen: int, params: TaxParameters) -> int:
    lo, hi = params.bands[medium]
    if isinstance(rate_fen, bool) or not isinstance(rate_fen, int) or not lo <= rate_fen <= hi:
        raise RateOutOfBounds(
            f"{medium} rate {rate_fen} fen is outside {lo}-{hi} fen per equivalent",
            field=f"rates_fen.{medium}")
    return rate_fen


def tax_fen(kg: int, value_kg: Decimal, rate_fen: int, payable_pct: int = 100) -> int:
    """kg ÷ value × rate × payable %, quantised once, half-even (exact arithmetic first)."""
    exact = _EXACT.divide(Decimal(kg * rate_fen * payable_pct), value_kg * 100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=_EXACT))


def _item(code: str, kind: str, params: TaxParameters) -> tuple[TaxPollutant | None, str]:
    """The annex 2 item a pollutant is taxed as, and why."""
    if code == PM:
        as_ = PM_AS[kind]
        why = ("smoke dust (烟尘): combustion source" if as_ == "smoke_dust"
               else "general dust (一般性粉尘): not a combustion source")
        return params.pollutants[as_], why
    if code in NO_EQUIVALENT_VALUE:
        return None, "no equivalent value in the law's annex 2"
    return params.pollutants[code], "annex 2"


def _relief(fig: PollutantFigure, kind: str, medium: str, params: TaxParameters
            ) -> tuple[str, int, Decimal | None, str]:
    """(status, payable %, concentration ratio, reason) of a taxed line."""
    exempt_kind = medium in EXEMPT_MEDIA.get(kind, ())
    if fig.concentration is None or fig.limit is None:
        return "taxed", 100, None, ("no_concentration_exemption_not_claimed" if exempt_kind
                                    else "no_concentration_no_reduction")
    ratio = _EXACT.divide(fig.concentration, fig.limit)
    exceeds = fig.concentration > fig.limit or (
        fig.max_reading is not None and fig.max_reading > fig.limit)
    if exceeds:
        return "taxed", 100, ratio, "exceeds_standard"
    if exempt_kind:
        return "exempt", 0, ratio, "art12_exempt"
    for threshold, pct in sorted(params.reductions):
        if ratio <= threshold:
            return "taxed", pct, ratio, f"art13_{pct}"
    return "taxed", 100, ratio, "full_rate"


def _rank(entries: list[tuple[PollutantFigure, TaxPollutant, Decimal]], medium: str,
          params: TaxParameters) -> dict[str, tuple[int | None, str | None]]:
    """pollutant → (rank within its class, reason it is not taxed or None)."""
    out: dict[str, tuple[int | None, str | None]] = {}
    pool = list(entries)
    if medium == "water":
        organics = [e for e in pool if e[0].pollutant in ONE_OF]
        if len(organics) > 1:
            keep = max(organics, key=lambda e: (e[2], -ONE_OF.index(e[0].pollutant)))
            for e in organics:
                if e is not keep:
                    out[e[0].pollutant] = (None, "one_of_cod_bod5_toc")
            pool = [e for e in pool if e[0].pollutant not in out]
    for klass in (AIR, WATER_1, WATER_2):
        ranked = sorted((e for e in pool if e[1].klass == klass),
                        key=lambda e: (-e[2], e[0].pollutant))
        for n, e in enumerate(ranked, start=1):
            out[e[0].pollutant] = (n, None if n <= params.top_n[klass] else "beyond_top_n")
    return out


def compute(ri: ReturnInput, params: TaxParameters | None = None,
            notes: Sequence[str] = ()) -> TaxReturn:
    """The return's lines: outlets in input order, months ascending, pollutants by class
    then rank."""
    p = params or parameters_for(date(ri.year, 3 * ri.quarter - 2, 1))
    table = p.rates.get(ri.province)
    if table is None:
        raise RateOutOfBounds(f"no tax rates for province {ri.province!r}", field="province")
    if ri.rates_fen:
        rates = {m: check_rate(m, ri.rates_fen.get(m, table[m].fen), p) for m in table}
        source = "input (rates_fen), checked against the statutory band"
    else:
        rates = {m: check_rate(m, r.fen, p) for m, r in table.items()}
        source = "; ".join(sorted({r.source for r in table.values()}))
    lines: list[TaxLine] = []
    for o in ri.outlets:
        for m in sorted(o.months, key=lambda x: x.month or 0):
            lines.extend(_outlet_month(o, m, p, rates))
    all_notes = list(notes)
    if any(o.source_kind_assumed for o in ri.outlets):
        all_notes.append("source_kind_assumed: outlets without a recorded source kind are "
                         "taken as process sources (PM as general dust)")
    return TaxReturn(ri, p, rates, source, tuple(lines), tuple(all_notes))


def _outlet_month(o: OutletInput, m: MonthFigures, p: TaxParameters,
                  rates: Mapping[str, int]) -> list[TaxLine]:
    valued: list[tuple[PollutantFigure, TaxPollutant, Decimal]] = []
    unvalued: list[tuple[PollutantFigure, str]] = []
    basis: dict[str, str] = {}
    for fig in m.pollutants:
        item, why = _item(fig.pollutant, o.source_kind, p)
        basis[fig.pollutant] = why
        if item is None:
            unvalued.append((fig, why))
        else:
            valued.append((fig, item, _EXACT.divide(Decimal(fig.kg), item.value_kg)))
    ranks = _rank(valued, o.medium, p)
    order = {AIR: 0, WATER_1: 1, WATER_2: 2}
    out: list[TaxLine] = []
    for fig, item, eq in sorted(valued, key=lambda e: (
            order[e[1].klass], ranks[e[0].pollutant][0] or 10**6, e[0].pollutant)):
        rank, not_taxed = ranks[fig.pollutant]
        rate = rates[item.medium]
        if not_taxed is not None:
            status, pct, ratio, reason = "not_taxed", 0, None, not_taxed
        else:
            status, pct, ratio, reason = _relief(fig, o.source_kind, item.medium, p)
        out.append(TaxLine(
            o.permit, o.outlet, o.medium, o.source_kind, m.month, fig.pollutant, item.code,
            item.klass, fig.kg, item.value_kg, basis[fig.pollutant], eq, rank, status, reason,
            rate, fig.concentration, fig.limit, ratio, pct,
            tax_fen(fig.kg, item.value_kg, rate, pct) if pct else 0))
    for fig, why in sorted(unvalued, key=lambda e: e[0].pollutant):
        out.append(TaxLine(
            o.permit, o.outlet, o.medium, o.source_kind, m.month, fig.pollutant, None, None,
            fig.kg, None, why, Decimal(0), None, "not_taxed", "no_equivalent_value", None,
            fig.concentration, fig.limit, None, 0, 0))
    return out


def compute_json(data: object) -> dict[str, Any]:
    """The CLI's and the API's one entry point: parse, compute, answer as JSON."""
    return compute(parse_return(data)).to_dict()
