"""Anomaly screening of monitoring data (pure, numpy): the value every screen produces, the
screens themselves and the concentration limits they judge by.

An `Anomaly` is one finding on one outlet over a time window, with JSON-able evidence. The
bureau follows each one up as a problem clue (`compliance.alerting.clues`).

The screens work on numpy arrays sorted by outlet and hour (`HourlySeries`, built by
`compliance.supervision.emissions.hourly_series`) or by outlet, pollutant and day (`DailySeries`);
each is vectorised over rows and loops in Python only over the findings. Hours are CST
wall-clock hours since 1970-01-01 00:00 (so a day is 24 consecutive hour numbers starting at
a multiple of 24); days are days since 1970-01-01.

Screens and their thresholds (the constants below; pass others to override):
- exceedance: an episode of consecutive hours whose O2-corrected concentration (HJ 75: the
  corrected value judges the limit, the measured one gives the mass) is above the limit of the
  outlet's pollutant; one anomaly per episode (hours, peak, mean, limit);
- flat_line: `FLAT_LINE_HOURS` or more consecutive hours with the identical non-zero reading
  (a frozen analyser or a written-in value); concentrations and the flow are screened;
- missing_data: a gap of `MISSING_GAP_HOURS` or more consecutive hours without an emission
  (no concentration or no flow) of a pollutant the outlet reports, within the days the file
  covers for that outlet (from 00:00 of its first day to 23:00 of its last);
- emission_power_mismatch: days on which the outlet's power use stays at or above
  `POWER_HIGH_PCT` % of its median day while the pollutant's emissions fall to
  `EMISSION_DROP_PCT` % of its median day or less (a treatment bypass or tampered analyser
  shows as emissions dropping while production goes on); consecutive days make one anomaly.
  The medians are those of the imported file (at least `MIN_BASELINE_DAYS` days).

Limits (`sector_limits`): the registry keeps no per-outlet limit (outlets have only a code
and a medium; calculation sheets are not stored per permit, see `allocation.facilities`), so
the limit of an outlet's pollutant is derived from the permit's sector through the parameter
table the permit was issued under: the sector's limit source (`SECTOR_AIR_SOURCE`; water:
the table's default waste-water source of the sector), the strictest of its national and
local limits and, for the sectors that must meet it, the ultra-low limit (DOMAIN.md §2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from allocation.parameters import ParameterSet
from kernel.clock import CST
from kernel.pollutants import Pollutant

KINDS = ("exceedance", "flat_line", "missing_data", "emission_power_mismatch", "alert_breach")

FLAT_LINE_HOURS = 8
MISSING_GAP_HOURS = 4
POWER_HIGH_PCT = 80
EMISSION_DROP_PCT = 50
MIN_BASELINE_DAYS = 7

#: the air limit source of a sector's main outlets (keys of the parameter table's
#: concentration_limits); None: the sector has no air limit source to judge by
SECTOR_AIR_SOURCE: dict[str, str | None] = {
    "thermal_power": "coal_power",
    "steel": "steel_sinter",
    "cement": "cement_kiln",
    "chemicals": "chemicals_process_heater",
    "paper": "gas_boiler",
    "industrial_boiler": "coal_boiler",
    "sewage": None,
}

#: Reference O2 (% vol, dry flue gas) to which a sector's air limits are corrected, by limit
#: source of `SECTOR_AIR_SOURCE` (versioned: a new table gets a new key, the old stays for
#: recomputing old imports). Per entry: the value (None: the sector needs one but the table
#: cannot give it, so the file must carry `o2_ref_pct`), the standard it comes from and
#: `verify` where the text could not be read in full here (DOMAIN.md §2; a search of the
#: stored references found no full text of the standards, so each is marked "verify").
REFERENCE_O2_VERSION = "hj75.2017-1"
REFERENCE_O2: dict[str, dict[str, tuple[Decimal | None, str, bool]]] = {
    "hj75.2017-1": {
        "coal_power": (Decimal(6), "GB 13223-2011 coal-fired boilers 6 %", True),
        "gas_turbine": (Decimal(15), "GB 13223-2011 gas turbines 15 %", True),
        "cement_kiln": (Decimal(10), "GB 4915-2013 kilns 10 %", True),
        "coal_boiler": (Decimal(9), "GB 13271-2014 coal-fired boilers 9 %", True),
        "gas_boiler": (Decimal("3.5"), "GB 13271-2014 oil- and gas-fired boilers 3.5 %", True),
        "oil_boiler": (Decimal("3.5"), "GB 13271-2014 oil- and gas-fired boilers 3.5 %", True),
        "steel_sinter": (Decimal(16), "GB 28662-2012 / ultra-low opinion (2019) sinter "
                                      "head 16 %", True),
        # the process heaters of chemicals fall under several standards (GB 31570, 31571,
        # 31572 ...): the file must say which reference applies
        "chemicals_process_heater": (None, "depends on the process standard", True),
    },
}


def reference_o2(sector: str, version: str = REFERENCE_O2_VERSION
                 ) -> tuple[bool, Decimal | None, str]:
    """(needs a reference O2, the value or None if the table cannot give it, source) of the
    air outlets of `sector`; a sector without an air limit source needs none."""
    src = SECTOR_AIR_SOURCE.get(sector)
    entry = REFERENCE_O2[version].get(src) if src else None
    if entry is None:
        return False, None, ""
    value, ref, verify = entry
    return True, value, ref + (" (verify)" if verify else "")


_EPOCH = datetime(1970, 1, 1, tzinfo=CST)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Anomaly:
    permit: str
    outlet: str
    kind: str  # one of KINDS
    pollutant: str | None
    start: datetime  # first hour of the window (timezone-aware)
    end: datetime  # last hour of the window, inclusive
    evidence: dict[str, object] = field(default_factory=dict)  # JSON-able


@dataclass(frozen=True)
class HourlySeries:
    keys: Sequence[tuple[str, str]]  # outlet number -> (permit, outlet)
    outlet: npt.NDArray[np.integer]  # per row, sorted
    hour: npt.NDArray[np.integer]  # per row, ascending within an outlet
    flow: F64  # NaN: no reading
    values: Mapping[str, F64]  # pollutant -> measured concentration per row, NaN: no reading
    #: per row, (21 - O2_ref) / (21 - O2): measured × factor is the O2-corrected value the
    #: limits judge (None: no correction, the measured value is judged)
    factor: F64 | None = None
    #: pollutant -> corrected concentration per row where the file gave one (NaN: use
    #: measured × factor)
    corrected: Mapping[str, F64] = field(default_factory=dict)

    def judged(self, pol: str) -> F64:
        """The concentration the limit judges: the O2-corrected value (HJ 75; the measured
        one only where no reference O2 applies)."""
        v = self.values[pol]
        out = v * self.factor if self.factor is not None else v
        given = self.corrected.get(pol)
        if given is not None:
            out = np.where(np.isnan(given), out, given)
        return out  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DailySeries:
    keys: Sequence[tuple[str, str, str]]  # group number -> (permit, outlet, pollutant)
    group: npt.NDArray[np.integer]
    day: npt.NDArray[np.integer]
    emitted_g: npt.NDArray[np.integer]
    power_kwh: npt.NDArray[np.integer]


def hour_at(h: int) -> datetime:
    return _EPOCH + timedelta(hours=int(h))


def _num(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _runs(mask: npt.NDArray[np.bool_], link: npt.NDArray[np.bool_]
          ) -> tuple[I64, I64]:
    """Start and end (inclusive) row indexes of the runs of `mask`, where `link[i]` says row
    i continues row i-1 (same outlet, next hour)."""
    n = mask.size
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    cont = np.zeros(n, dtype=bool)
    cont[1:] = mask[1:] & mask[:-1] & link[1:]
    starts = np.flatnonzero(mask & ~cont)
    nxt = np.zeros(n, dtype=bool)
    nxt[:-1] = cont[1:]
    ends = np.flatnonzero(mask & ~nxt)
    return starts.astype(np.int64), ends.astype(np.int64)


def _link(s: HourlySeries) -> npt.NDArray[np.bool_]:
    link = np.zeros(s.hour.size, dtype=bool)
    link[1:] = (s.outlet[1:] == s.outlet[:-1]) & (s.hour[1:] - s.hour[:-1] == 1)
    return link


def exceedances(s: HourlySeries, limits: Mapping[tuple[str, str, str], Decimal],
                units: Mapping[str, str] | None = None) -> list[Anomaly]:
    """One anomaly per episode of consecutive hours above the limit. `limits` maps
    (permit, outlet, pollutant) to the concentration limit (mg/Nm3 or mg/L)."""
    out: list[Anomaly] = []
    link = _link(s)
    for pol in s.values:
        v = s.judged(pol)  # limits judge the O2-corrected concentration
        lim = np.full(len(s.keys), np.nan)
        for i, (p, o) in enumerate(s.keys):
            x = limits.get((p, o, pol))
            if x is not None:
                lim[i] = float(x)
        if np.isnan(lim).all():
            continue
        row_lim = lim[s.outlet]
        with np.errstate(invalid="ignore"):
            mask = v > row_lim
        starts, ends = _runs(mask, link)
        if starts.size == 0:
            continue
        for a, b in zip(starts, ends, strict=True):  # per finding, not per row
            p, o = s.keys[int(s.outlet[a])]
            n = int(b - a + 1)
            run = v[a:b + 1]
            out.append(Anomaly(p, o, "exceedance", pol, hour_at(s.hour[a]), hour_at(s.hour[b]),
                               {"hours": n, "peak": _num(float(run.max())),
                                "mean": _num(float(run.sum()) / n),
                                "limit": str(limits[(p, o, pol)]),
                                "unit": (units or {}).get(pol, _unit(pol))}))
    return out


def _unit(pol: str) -> str:
    try:
        return "mg/L" if Pollutant(pol).medium == "water" else "mg/Nm3"
    except ValueError:
        return ""


def flat_lines(s: HourlySeries, min_hours: int = FLAT_LINE_HOURS) -> list[Anomaly]:
    """Runs of at least `min_hours` identical non-zero readings in consecutive hours."""
    out: list[Anomaly] = []
    link = _link(s)
    signals: list[tuple[str | None, F64]] = [(p, v) for p, v in s.values.items()]
    signals.append((None, s.flow))
    for pol, v in signals:
        same = np.zeros(v.size, dtype=bool)
        same[1:] = link[1:] & (v[1:] == v[:-1]) & (v[1:] != 0)
        # a run of k "same as before" rows is k + 1 identical readings
        starts, ends = _runs(same, np.ones(v.size, dtype=bool))
        keep = (ends - starts + 2) >= min_hours
        for a, b in zip(starts[keep], ends[keep], strict=True):
            first = a - 1
            p, o = s.keys[int(s.outlet[first])]
            out.append(Anomaly(p, o, "flat_line", pol, hour_at(s.hour[first]),
                               hour_at(s.hour[b]),
                               {"hours": int(b - first + 1), "value": _num(v[first]),
                                "signal": pol or "flow"}))
    return out


def missing_data(s: HourlySeries, min_gap: int = MISSING_GAP_HOURS) -> list[Anomaly]:
    """Gaps of at least `min_gap` hours without an emission of a pollutant the outlet reports
    (at least one hour with a reading in the file), within the outlet's days in the file."""
    out: list[Anomaly] = []
    n_out = len(s.keys)
    if s.hour.size == 0:
        return out
    # the span of each outlet: 00:00 of its first day to 23:00 of its last
    firsts = np.searchsorted(s.outlet, np.arange(n_out), side="left")
    lasts = np.searchsorted(s.outlet, np.arange(n_out), side="right") - 1
    span_lo = (s.hour[firsts] // 24) * 24
    span_hi = (s.hour[lasts] // 24) * 24 + 23
    for pol, v in s.values.items():
        valid = np.flatnonzero(~np.isnan(v) & ~np.isnan(s.flow))
        if valid.size == 0:
            continue
        ko, kh = s.outlet[valid], s.hour[valid]
        gap_lo: list[npt.NDArray[Any]] = []
        gap_hi: list[npt.NDArray[Any]] = []
        gap_k: list[npt.NDArray[Any]] = []
        inner = np.flatnonzero((ko[1:] == ko[:-1]) & (kh[1:] - kh[:-1] - 1 >= min_gap))
        gap_lo.append(kh[inner] + 1)
        gap_hi.append(kh[inner + 1] - 1)
        gap_k.append(ko[inner])
        outs, first_i = np.unique(ko, return_index=True)
        last_i = np.r_[first_i[1:] - 1, ko.size - 1]
        lead = kh[first_i] - span_lo[outs]
        m = lead >= min_gap
        gap_lo.append(span_lo[outs][m])
        gap_hi.append(kh[first_i][m] - 1)
        gap_k.append(outs[m])
        trail = span_hi[outs] - kh[last_i]
        m = trail >= min_gap
        gap_lo.append(kh[last_i][m] + 1)
        gap_hi.append(span_hi[outs][m])
        gap_k.append(outs[m])
        for lo, hi, k in zip(np.concatenate(gap_lo), np.concatenate(gap_hi),
                             np.concatenate(gap_k), strict=True):
            p, o = s.keys[int(k)]
            out.append(Anomaly(p, o, "missing_data", pol, hour_at(lo), hour_at(hi),
                               {"hours": int(hi - lo + 1)}))
    return sorted(out, key=lambda a: (a.permit, a.outlet, a.pollutant or "", a.start))


def power_mismatches(d: DailySeries, power_high_pct: int = POWER_HIGH_PCT,
                     emission_drop_pct: int = EMISSION_DROP_PCT,
                     min_days: int = MIN_BASELINE_DAYS) -> list[Anomaly]:
    """Days where power use stays high while emissions drop, against the medians of the
    outlet's pollutant over the file; consecutive days form one anomaly."""
    out: list[Anomaly] = []
    if d.group.size == 0:
        return out
    n = len(d.keys)
    bounds = np.searchsorted(d.group, np.arange(n + 1), side="left")
    flag = np.zeros(d.group.size, dtype=bool)
    med_e = np.zeros(n)
    med_p = np.zeros(n)
    for k in range(n):  # per series (outlet and pollutant), not per row
        lo, hi = bounds[k], bounds[k + 1]
        if hi - lo < min_days:
            continue
        em = d.emitted_g[lo:hi].astype(np.float64)
        pw = d.power_kwh[lo:hi].astype(np.float64)
        me, mp = float(np.median(em)), float(np.median(pw))
        med_e[k], med_p[k] = me, mp
        if me <= 0 or mp <= 0:
            continue
        flag[lo:hi] = ((pw * 100 >= power_high_pct * mp)
                       & (em * 100 <= emission_drop_pct * me))
    link = np.zeros(d.group.size, dtype=bool)
    link[1:] = (d.group[1:] == d.group[:-1]) & (d.day[1:] - d.day[:-1] == 1)
    starts, ends = _runs(flag, link)
    for a, b in zip(starts, ends, strict=True):
        k = int(d.group[a])
        p, o, pol = d.keys[k]
        out.append(Anomaly(
            p, o, "emission_power_mismatch", pol, hour_at(int(d.day[a]) * 24),
            hour_at(int(d.day[b]) * 24 + 23),
            {"days": int(b - a + 1), "emitted_g": [int(x) for x in d.emitted_g[a:b + 1]],
             "power_kwh": [int(x) for x in d.power_kwh[a:b + 1]],
             "median_emitted_g": _num(med_e[k]), "median_power_kwh": _num(med_p[k])}))
    return out


def screen(hourly: HourlySeries, days: DailySeries,
           limits: Mapping[tuple[str, str, str], Decimal]) -> list[Anomaly]:
    """Every screen, findings ordered by permit, outlet, start and kind."""
    found = (exceedances(hourly, limits) + flat_lines(hourly) + missing_data(hourly)
             + power_mismatches(days))
    return sorted(found, key=lambda a: (a.permit, a.outlet, a.start, a.kind,
                                        a.pollutant or ""))


# ---------------------------------------------------------------------------- limits

def sector_limits(params: ParameterSet, sector: str) -> dict[str, tuple[Decimal, str]]:
    """Pollutant -> (limit, where it comes from) for an enterprise of `sector`: per medium,
    the sector's limit source; the strictest of its national, local and (where the sector
    must meet it) ultra-low limits."""
    out: dict[str, tuple[Decimal, str]] = {}
    names = [SECTOR_AIR_SOURCE.get(sector), params.source_for(sector, "wastewater")]
    for name in names:
        src = params.sources.get(name) if name else None
        if src is None:
            continue
        kinds = ["national", "local"] + (["ultra_low"] if params.uses_ultra_low(sector) else [])
        for p in Pollutant:
            candidates = [(src.limit(k, p), k) for k in kinds]
            present = [(v, k) for v, k in candidates if v is not None]
            if not present:
                continue
            v, k = min(present, key=lambda x: x[0])
            out[p.value] = (v, f"{src.name}.{k} ({src.reference}), parameters "
                               f"{params.version}")
    return out
