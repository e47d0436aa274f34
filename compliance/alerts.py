"""Heavy-pollution alerts (pure): levels, the caps they give affected permits, and breaches.

Levels cut emissions by at least yellow 10 %, orange 20 %, red 30 % (DOMAIN.md §2); the
bureau may declare a deeper cut, never a shallower one (at most 90 %).

Caps, per permit, pollutant and year of the permitted quantity `P` (kg):
- baseline daily = P / days in that year (365 or 366);
- daily cap = ⌊P × (100 − cut) / (100 × days in year)⌋ kg, computed exactly in integers
  (one rounding, down: the stricter side);
- monthly cap = daily cap × the number of alert days in that month (an alert from 28 Jan to
  3 Feb gives January 4 days and February 3 days), so a month's cap never exceeds the sum of
  its daily caps.

Breaches compare grams (the daily monitoring emission summed over the permit's outlets) with
cap kg × 1000, so the emission is never rounded: a day breaches when emitted_g > 1000 × daily
cap; a month when the sum over its alert days exceeds 1000 × monthly cap."""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from allocation.parameters import get_parameters
from compliance.errors import BadAlert


def least_cuts(ratios: Mapping[str, Decimal]) -> dict[str, int]:
    """level → the least cut in whole percent (rounded up: never shallower than the ratio),
    from a parameter set's `alert_cut_ratios` (allocation/params: the one table of them)."""
    return {k: int((r * 100).to_integral_value(ROUND_CEILING)) for k, r in ratios.items()}


#: level → the least cut in percent, from the latest bundled parameter set; a declaration
#: uses the set in force on its first day (`compliance.alert_service`).
LEVELS: dict[str, int] = least_cuts(get_parameters().alert_cut_ratios)
MAX_CUT = 90
MAX_DAYS = 92  # an alert longer than a season is a declaration error
MAX_ZONES = 50
YEARS = (1990, 2200)
CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")


@dataclass(frozen=True)
class Declaration:
    level: str
    cut_pct: int
    zones: tuple[str, ...]
    first_day: date
    last_day: date


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


@dataclass(frozen=True)
class Breach:
    permit: str
    pollutant: str
    period: str  # "day" | "month"
    day: date  # the day, or the month's first day
    emitted_g: int
    cap_kg: int


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


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def daily_cap_kg(permitted_kg: int, cut_pct: int, year: int) -> int:
    """⌊P × (100 − cut) / (100 × days in year)⌋, exact."""
    return permitted_kg * (100 - cut_pct) // (100 * days_in_year(year))


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


def caps(permitted: Mapping[tuple[str, str, int], int], cut_pct: int, first_day: date,
         last_day: date) -> list[Cap]:
    """The caps of every (permit, pollutant, year) → permitted kg over the alert's months.
    A month whose year has no permitted quantity for the pollutant gets no cap."""
    months = days_by_month(first_day, last_day)
    out: list[Cap] = []
    for (permit, pollutant, year), kg in sorted(permitted.items()):
        for m, n in months.items():
            if m.year != year:
                continue
            daily = daily_cap_kg(kg, cut_pct, year)
            out.append(Cap(permit, pollutant, m, kg, days_in_year(year), daily, n, daily * n))
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
