"""Heavy-pollution alerts (pure): levels, each permit's emergency measures, the caps they give
affected permits, the region's total cut, and breaches.

Levels cut ACTUAL emissions by at least yellow 10 %, orange 20 %, red 30 % (DOMAIN.md §2, §5;
the national rule as local plans restate it: SO2, NOx, PM and VOCs cut by 10/20/30 % of the
whole society's emissions during yellow/orange/red alerts, e.g. Tianjin's heavy-pollution
emergency plan, summary at sf850.com/policy/view?id=6387). The bureau may declare a deeper
cut, never a shallower one (at most 90 %).

Each permit's measures come from the emergency emission-reduction list (应急减排清单) by its
performance grade (A/B/C/D or unclassified; 环办大气函〔2020〕340号, the MEE's 2020 technical
guide for key industries' emergency measures): grade A (and leading) enterprises reduce of
their own accord (自主减排) during alerts, lower grades take more measures (MEE answer on
its official account, mirrored at xny365.com/huanbao/article-68143.html; Anhui's list: A no
measures, B fewer, C stops first, yejinzb.com/news/show-49450.html). A permit's measure per
level is a cut in percent of its baseline, optionally with the measure's text (e.g. "stop
sinter line 2"), whose equivalent cut the bureau states.

The cut applied to a permit for a level: its own measure for that level; else its grade's
default (`AlertParameters.grade_cuts`: A 0 %, others the alert's cut, verify); and for a
permit without measures the alert's declared cut (the level's least unless the bureau
declared deeper).

Caps, per permit, pollutant and year, from a baseline of `grams` over `days` days:
- basis "monitoring": the permit's monitored daily emissions (summed over its outlets) on
  the days with data among the `baseline_days` (30) days before the alert's first day;
  the mean is grams / days with data;
- basis "permitted" (no monitoring data in that window): the year's permitted quantity
  (the legal limit from issuance, confirmed or not) over the operating days (the sector's,
  where the parameter table has them, else the days of the year, 365 or 366);
- daily cap = ⌊grams × (100 − cut) / (days × 100 × 1000)⌋ kg, exact in integers (one
  rounding, down: the stricter side);
- monthly cap = daily cap × the alert days in that month (an alert from 28 Jan to 3 Feb
  gives January 4 days and February 3 days), so a month's cap never exceeds its daily caps.

Breaches compare grams (the daily monitoring emission summed over the permit's outlets) with
cap kg × 1000, so the emission is never rounded: a day breaches when emitted_g > 1000 × daily
cap; a month when the sum over its alert days exceeds 1000 × monthly cap."""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from types import MappingProxyType

from allocation.parameters import get_parameters
from compliance.errors import BadAlert, BadEmergencyMeasure


def least_cuts(ratios: Mapping[str, Decimal]) -> dict[str, int]:
    """level → the least cut in whole percent (rounded up: never shallower than the ratio),
    from a parameter set's `alert_cut_ratios` (allocation/params: the one table of them)."""
    return {k: int((r * 100).to_integral_value(ROUND_CEILING)) for k, r in ratios.items()}


#: level → the least cut in percent, from the latest bundled parameter set; a declaration
#: uses the set in force on its first day (`compliance.alerting.alert_service`).
LEVELS: dict[str, int] = least_cuts(get_parameters().alert_cut_ratios)
GRADES = ("A", "B", "C", "D", "unclassified")
MAX_CUT = 90
MAX_DAYS = 92  # an alert longer than a season is a declaration error
MAX_ZONES = 50
MAX_MEASURE = 500
YEARS = (1990, 2200)
CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
MONITORING, PERMITTED = "monitoring", "permitted"
#: where a permit's cut came from
FROM_MEASURE, FROM_GRADE, FROM_ALERT = "measure", "grade", "alert"


# parameters ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertParameters:
    """One version of the alert parameters, in force from `valid_from`."""

    version: str
    valid_from: date
    #: days before the alert's first day whose monitoring data make the baseline
    baseline_days: int
    #: fewest days with data for a monitoring baseline (else the permitted fallback)
    baseline_min_days: int
    #: grade → level → cut % when the permit's list names no cut for the level (None: the
    #: alert's declared cut, i.e. the level's least unless declared deeper)
    grade_cuts: Mapping[str, Mapping[str, int | None]]
    #: sector → operating days a year for the permitted fallback (absent: days of the year)
    operating_days: Mapping[str, int]
    sources: tuple[str, ...] = ()
    unverified: tuple[str, ...] = field(default=())


_VOLUNTARY: Mapping[str, int | None] = MappingProxyType({"yellow": 0, "orange": 0, "red": 0})
_LEAST: Mapping[str, int | None] = MappingProxyType({"yellow": None, "orange": None,
                                                     "red": None})

PARAMETERS: tuple[AlertParameters, ...] = (
    AlertParameters(
        version="2026.1", valid_from=date(1990, 1, 1), baseline_days=30, baseline_min_days=1,
        grade_cuts=MappingProxyType({"A": _VOLUNTARY, "B": _LEAST, "C": _LEAST, "D": _LEAST,
                                     "unclassified": _LEAST}),
        operating_days=MappingProxyType({}),
        sources=(
            "levels 10/20/30 % of actual emissions: 环办大气函〔2019〕648号 as restated by local "
            "plans (Tianjin emergency plan, sf850.com/policy/view?id=6387)",
            "grades A/B/C/D and differentiated measures: 环办大气函〔2020〕340号 (2020 technical "
            "guide); grade A reduces voluntarily (MEE answer, "
            "xny365.com/huanbao/article-68143.html)",
        ),
        unverified=(
            "grade_cuts.B/C/D/unclassified: the guide sets measures per industry (stop "
            "lines, cut output), not one ratio per grade; default = the alert's declared cut, "
            "the bureau sets each permit's list (verify)",
            "baseline_days: 30 days before the alert is a platform choice; local plans take "
            "the emission inventory's base (verify)",
            "operating_days: no sector's operating days confirmed; days of the year (verify)",
        ),
    ),
)


def alert_parameters(on: date | None = None) -> AlertParameters:
    """The parameter version in force on `on` (the latest when None)."""
    ordered = sorted(PARAMETERS, key=lambda p: p.valid_from)
    if on is None:
        return ordered[-1]
    chosen = [p for p in ordered if p.valid_from <= on]
    return chosen[-1] if chosen else ordered[0]


# values --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Declaration:
    level: str
    cut_pct: int
    zones: tuple[str, ...]
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Measure:
    """A permit's measure for one alert level: a cut in percent of its baseline, and the
    measure's text where it is one (e.g. stopping a named process line)."""

    cut_pct: int
    text: str | None = None


@dataclass(frozen=True)
class Plan:
    """A permit's emergency measures: performance grade and per level measures (a level
    may be absent: then the grade's default applies)."""

    grade: str
    levels: Mapping[str, Measure]


@dataclass(frozen=True)
class Baseline:
    """`grams` over `days` days: the mean daily emission is grams / days."""

    basis: str  # monitoring | permitted
    grams: int
    days: int


@dataclass(frozen=True)
class CapInput:
    permit: str
    pollutant: str
    year: int
    zone: str
    permitted_kg: int
    baseline: Baseline
    cut_pct: int
    cut_source: str
    grade: str | None = None
    measure: str | None = None


@dataclass(frozen=True)
class Cap:
    permit: str
    pollutant: str
    month: date  # first day of the month
    permitted_kg: int
    days_in_year: int
    daily_cap_kg: int
    days: int  # alert days in this month
    monthly_cap_kg: int
    zone: str = ""
    basis: str = PERMITTED
    baseline_g: int = 0
    baseline_days: int = 1
    cut_pct: int = 0
    cut_source: str = FROM_ALERT
    grade: str | None = None
    measure: str | None = None


@dataclass(frozen=True)
class Breach:
    permit: str
    pollutant: str
    period: str  # "day" | "month"
    day: date  # the day, or the month's first day
    emitted_g: int
    cap_kg: int


@dataclass(frozen=True)
class RegionTotal:
    """Over the alert's days, in one zone for one pollutant: the affected permits' baseline
    (grams, rounded down once) against their caps, and the cut achieved against the target."""

    zone: str
    pollutant: str
    permits: int
    baseline_g: int
    cap_kg: int
    achieved_pct: Decimal | None  # None when the baseline is 0
    target_pct: int
    meets: bool


# declaration and measures -------------------------------------------------------------------

def declaration(level: str, zones: Iterable[str], first_day: date, last_day: date,
                cut_pct: int | None = None, levels: Mapping[str, int] | None = None
                ) -> Declaration:
    """A validated declaration: a known level, a cut at least the level's, 1-50 distinct
    zone or district codes, first day ≤ last day, at most 92 days."""
    levels = LEVELS if levels is None else levels
    if level not in levels:
        raise BadAlert(f"unknown alert level {level!r} (yellow, orange or red)", field="level")
    least = levels[level]
    cut = least if cut_pct is None else cut_pct
    if not least <= cut <= MAX_CUT:
        raise BadAlert(f"a {level} alert cuts {least}-{MAX_CUT} %", field="cut_pct")
    codes = tuple(sorted({z.strip() for z in zones if z and z.strip()}))
    if not codes:
        raise BadAlert("name at least one zone or district", field="zones")
    if len(codes) > MAX_ZONES or not all(CODE.fullmatch(z) for z in codes):
        raise BadAlert(f"at most {MAX_ZONES} codes of 1-20 letters, digits, '-' or '_'",
                       field="zones")
    for name, d in (("first_day", first_day), ("last_day", last_day)):
        if not YEARS[0] <= d.year <= YEARS[1]:
            raise BadAlert(f"{name} must fall in {YEARS[0]}-{YEARS[1]}", field=name)
    if last_day < first_day:
        raise BadAlert("the last day is before the first day", field="last_day")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise BadAlert(f"an alert lasts at most {MAX_DAYS} days", field="last_day")
    return Declaration(level, cut, codes, first_day, last_day)


def plan(grade: str, levels: Mapping[str, tuple[object, str | None]]) -> Plan:
    """A validated plan: a known grade; per named level a whole cut of 0-100 % (required,
    also where a measure's text is given: its equivalent cut) and an optional text of at most
    500 characters; cuts never shallower at a higher level (yellow ≤ orange ≤ red)."""
    if grade not in GRADES:
        raise BadEmergencyMeasure(f"unknown performance grade {grade!r} (A, B, C, D or "
                                  "unclassified)", field="grade")
    out: dict[str, Measure] = {}
    for level, (cut, text) in levels.items():
        if level not in LEVELS:
            raise BadEmergencyMeasure(f"unknown alert level {level!r} (yellow, orange or "
                                      "red)", field="levels")
        name = f"levels.{level}.cut_pct"
        if isinstance(cut, bool) or not isinstance(cut, int):
            raise BadEmergencyMeasure(f"the {level} cut must be a whole percent", field=name)
        if not 0 <= cut <= 100:
            raise BadEmergencyMeasure(f"the {level} cut must be 0-100 %", field=name)
        words = (text or "").strip() or None
        if words is not None and len(words) > MAX_MEASURE:
            raise BadEmergencyMeasure(f"the {level} measure has more than {MAX_MEASURE} "
                                      "characters", field=f"levels.{level}.measure")
        out[level] = Measure(cut, words)
    named = [lv for lv in LEVELS if lv in out]
    for lower, higher in zip(named, named[1:], strict=False):
        if out[higher].cut_pct < out[lower].cut_pct:
            raise BadEmergencyMeasure(f"the {higher} cut is shallower than the {lower} cut",
                                      field=f"levels.{higher}.cut_pct")
    return Plan(grade, MappingProxyType(out))


def permit_cut(p: Plan | None, level: str, alert_cut: int, params: AlertParameters
               ) -> tuple[int, str, str | None]:
    """(cut %, where it came from, the measure's text) for a permit at a level: its
    measure; else its grade's default; else (no grade default, or no plan) the alert's cut."""
    if p is None:
        return alert_cut, FROM_ALERT, None
    m = p.levels.get(level)
    if m is not None:
        return m.cut_pct, FROM_MEASURE, m.text
    default = params.grade_cuts.get(p.grade, {}).get(level)
    if default is None:
        return alert_cut, FROM_GRADE, None
    return default, FROM_GRADE, None


# baselines and caps --------------------------------------------------------------------------

def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def baseline_window(first_day: date, params: AlertParameters) -> tuple[date, date]:
    """The days whose monitoring data make the baseline: the `baseline_days` before the
    alert's first day."""
    return first_day - timedelta(days=params.baseline_days), first_day - timedelta(days=1)


def monitored_baseline(daily_g: Mapping[date, int], params: AlertParameters
                       ) -> Baseline | None:
    """The mean of the days with data (None when fewer than `baseline_min_days`)."""
    if len(daily_g) < max(params.baseline_min_days, 1):
        return None
    return Baseline(MONITORING, sum(daily_g.values()), len(daily_g))


def permitted_baseline(permitted_kg: int, year: int, sector: str | None,
                       params: AlertParameters) -> Baseline:
    days = params.operating_days.get(sector or "", days_in_year(year))
    return Baseline(PERMITTED, permitted_kg * 1000, days)


def cap_from_baseline(b: Baseline, cut_pct: int) -> int:
    """⌊grams × (100 − cut) / (days × 100 000)⌋ kg, exact."""
    return b.grams * (100 - cut_pct) // (b.days * 100 * 1000)


def daily_cap_kg(permitted_kg: int, cut_pct: int, year: int) -> int:
    """The fallback cap: ⌊P × (100 − cut) / (100 × days in year)⌋, exact."""
    return cap_from_baseline(Baseline(PERMITTED, permitted_kg * 1000, days_in_year(year)),
                             cut_pct)


def days_by_month(first_day: date, last_day: date) -> dict[date, int]:
    """Alert days per month (keyed by the month's first day); empty when last < first."""
    out: dict[date, int] = {}
    d = first_day
    while d <= last_day:
        m = d.replace(day=1)
        month_end = d.replace(day=calendar.monthrange(d.year, d.month)[1])
        end = min(month_end, last_day)
        out[m] = (end - d).days + 1
        d = end + timedelta(days=1)
    return out


def caps(inputs: Iterable[CapInput], first_day: date, last_day: date) -> list[Cap]:
    """The caps of every (permit, pollutant, year) input over the alert's months of that
    year (a month whose year has no input for the pollutant gets no cap)."""
    months = days_by_month(first_day, last_day)
    out: list[Cap] = []
    for i in sorted(inputs, key=lambda i: (i.permit, i.pollutant, i.year)):
        daily = cap_from_baseline(i.baseline, i.cut_pct)
        for m, n in months.items():
            if m.year != i.year:
                continue
            out.append(Cap(i.permit, i.pollutant, m, i.permitted_kg, days_in_year(i.year),
                           daily, n, daily * n, i.zone, i.baseline.basis, i.baseline.grams,
                           i.baseline.days, i.cut_pct, i.cut_source, i.grade, i.measure))
    return out


def fallback_caps(permitted: Mapping[tuple[str, str, int], int], cut_pct: int,
                  first_day: date, last_day: date) -> list[Cap]:
    """Caps of permits with neither monitoring data nor measures: permitted ÷ days of the
    year, the alert's cut (kept for callers and tests of the fallback arithmetic)."""
    params = alert_parameters(first_day)
    return caps([CapInput(p, pol, y, "", kg, permitted_baseline(kg, y, None, params),
                          cut_pct, FROM_ALERT) for (p, pol, y), kg in permitted.items()],
                first_day, last_day)


def region_totals(caps_: Iterable[Cap], target_pct: int) -> list[RegionTotal]:
    """Per zone and pollutant over the alert's days: Σ baseline (mean daily × alert days,
    exact, rounded down to the gram once) against Σ monthly caps. Achieved cut = 1 − caps /
    baseline, in percent rounded down to 0.1 (never overstated); `meets` compares exactly:
    Σ caps ≤ Σ baseline × (100 − target) / 100."""
    base: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    capped: dict[tuple[str, str], int] = defaultdict(int)
    permits: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c in caps_:
        key = (c.zone, c.pollutant)
        base[key] += Fraction(c.baseline_g * c.days, c.baseline_days)
        capped[key] += c.monthly_cap_kg
        permits[key].add(c.permit)
    out = []
    for key in sorted(base):
        b, cap_g = base[key], capped[key] * 1000
        if b == 0:
            achieved = None
        else:
            frac = (1 - Fraction(cap_g) / b) * 100
            achieved = (Decimal(frac.numerator) / Decimal(frac.denominator)).quantize(
                Decimal("0.1"), rounding=ROUND_FLOOR)
        meets = cap_g * 100 <= b * (100 - target_pct)
        out.append(RegionTotal(key[0], key[1], len(permits[key]), int(b), capped[key],
                               achieved, target_pct, bool(meets)))
    return out


def breaches(caps_: Iterable[Cap], emitted_g: Mapping[tuple[str, str, date], int],
             first_day: date, last_day: date) -> list[Breach]:
    """Days and months whose emissions exceed the caps. `emitted_g` maps (permit,
    pollutant, day) to the day's grams summed over the permit's outlets; days outside the
    alert, and pairs without a cap, are ignored."""
    by_month = {(c.permit, c.pollutant, c.month): c for c in caps_}
    month_total: dict[tuple[str, str, date], int] = defaultdict(int)
    out: list[Breach] = []
    for (permit, pollutant, day), g in sorted(emitted_g.items()):
        if not first_day <= day <= last_day:
            continue
        cap = by_month.get((permit, pollutant, day.replace(day=1)))
        if cap is None:
            continue
        month_total[(permit, pollutant, cap.month)] += g
        if g > cap.daily_cap_kg * 1000:
            out.append(Breach(permit, pollutant, "day", day, g, cap.daily_cap_kg))
    for key, total in sorted(month_total.items()):
        cap = by_month[key]
        if total > cap.monthly_cap_kg * 1000:
            out.append(Breach(cap.permit, cap.pollutant, "month", cap.month, total,
                              cap.monthly_cap_kg))
    return out


def effective_last_day(last_day: date, lifted_on: date | None) -> date:
    """The last day the alert applies: the declared last day, or the day it was lifted
    (lifting takes effect from the next day)."""
    return last_day if lifted_on is None else min(last_day, lifted_on)
