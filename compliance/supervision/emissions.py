"""Emissions from validated monitoring rows (pure, columnar): the daily mass of each outlet
and pollutant with HJ 75's substitution of missing hours, the rows as stored, the numpy series
the screens read, and the check of an execution report's line against the monitored mass
(see `compliance.supervision.monitoring` for the format and the accounting rules)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from compliance.supervision.monitoring import (
    GRAMS_FACTOR,
    REPORT_TOLERANCE_PCT,
    SUBSTITUTION,
    SUBSTITUTION_VERSION,
    Validation,
)
from compliance.supervision.monitoring_header import FLOW_COLUMNS
from compliance.supervision.screening import DailySeries, HourlySeries


def _flow() -> pl.Expr:
    return pl.when(pl.col("medium") == "air").then(pl.col("flow_nm3_h")) \
        .otherwise(pl.col("flow_m3_h"))


def daily(v: Validation, version: str = SUBSTITUTION_VERSION) -> pl.DataFrame:
    """Daily aggregates: permit, outlet, pollutant, day, emitted_g (int, rounded once, half
    to even), hours (hours counted: measured or substituted), substituted_hours (of which
    the concentration or the flow was substituted), power_kwh (int; 0 when not reported).

    Mass per hour is the MEASURED concentration × the dry standard flow (HJ 75; the
    O2-corrected value only judges limits). Each outlet is laid out on a dense grid of its
    hours, from 00:00 of its first day in the file to 23:00 of its last; missing and invalid
    hours of a pollutant the outlet reports are substituted by `SUBSTITUTION[version]`
    (hours flagged stopped are neither counted nor substituted)."""
    if v.header is None or v.frame.height == 0:
        return _empty_daily()
    rule = SUBSTITUTION[version]
    short, lookback = int(rule["short_gap_max_hours"]), int(rule["lookback_valid_hours"])  # type: ignore[call-overload]
    f = v.frame
    has = set(f.columns)
    new = ((pl.col("permit") != pl.col("permit").shift(1))
           | (pl.col("outlet") != pl.col("outlet").shift(1))).fill_null(True)
    k = f.select((new.cast(pl.Int32).cum_sum() - 1).alias("k"), new.alias("new"))
    firsts = f.filter(k["new"]).select(pl.col("permit").cast(pl.String),
                                       pl.col("outlet").cast(pl.String), "medium")
    kk = k["k"].to_numpy()
    del k
    n_out, n = firsts.height, f.height
    hour = f.select(pl.col("hour").cast(pl.Int64) // _EPOCH_HOUR).to_series().to_numpy()
    first_i = np.searchsorted(kk, np.arange(n_out), side="left")
    last_i = np.searchsorted(kk, np.arange(n_out), side="right") - 1
    lo = (hour[first_i] // 24) * 24
    size = (hour[last_i] // 24) * 24 + 24 - lo
    off = np.zeros(n_out + 1, np.int64)
    np.cumsum(size, out=off[1:])
    grid = int(off[-1])
    # position of each row on the dense grid of hours; every segment is whole days (its
    # offset a multiple of 24), so grid position // 24 is the day-group (no group array).
    # int32 positions and chunked arithmetic keep the peak a few row-sized arrays low.
    idx: Any = np.int32 if grid < 2**31 else np.int64
    base = off[:-1] - lo
    pos = np.empty(n, idx)
    for a in range(0, n, 1 << 20):
        b = min(n, a + (1 << 20))
        pos[a:b] = hour[a:b] + base[kk[a:b]]
    del hour
    n_groups = grid // 24
    stopped = np.zeros(grid, dtype=bool)
    if "status" in has:
        stopped[pos] = f["status"].to_numpy() == 1
    power: Any = np.zeros(n_groups)
    if "power_kwh" in has:
        pw = f["power_kwh"].fill_null(0.0).to_numpy()
        power = np.bincount(pos // 24, weights=pw, minlength=n_groups)
        del pw
    air = (firsts["medium"] == "air").to_numpy()
    air_pos = np.repeat(air, size)
    flow = np.full(grid, np.nan)
    for col, want in (("flow_nm3_h", True), ("flow_m3_h", False)):
        if col in has:
            sel = air[kk] == want
            flow[pos[sel]] = f[col].filter(pl.Series(sel)).to_numpy()  # null -> NaN
            del sel
    del kk
    flow, flow_sub = substitute(flow, off, stopped, short, lookback)
    frames = []
    day_of = np.repeat(np.arange(n_out), size // 24)  # group -> outlet
    day_off = np.zeros(n_out + 1, np.int64)
    np.cumsum(size // 24, out=day_off[1:])
    day_no = (lo[day_of] // 24) + (np.arange(n_groups) - day_off[day_of])
    for p in v.pollutants:
        conc = np.full(grid, np.nan)
        conc[pos] = f[p].to_numpy()  # null -> NaN, no polars copy
        reports = np.logical_or.reduceat(~np.isnan(conc), off[:-1]) if grid else \
            np.zeros(n_out, bool)
        conc, conc_sub = substitute(conc, off, stopped, short, lookback, only=reports)
        grams = np.multiply(conc, flow, out=conc)  # conc is not needed past this
        np.multiply(grams, GRAMS_FACTOR["air"], out=grams, where=air_pos)
        if GRAMS_FACTOR["water"] != 1.0:
            np.multiply(grams, GRAMS_FACTOR["water"], out=grams, where=~air_pos)
        ok = ~np.isnan(grams)
        ok &= ~stopped
        ok &= np.repeat(reports, size)
        grams[~ok] = 0.0
        g = grams.reshape(-1, 24).sum(axis=1)
        h = ok.reshape(-1, 24).sum(axis=1)
        ok &= conc_sub | flow_sub
        sh = ok.reshape(-1, 24).sum(axis=1)
        del conc, conc_sub, grams, ok
        keep = np.flatnonzero(h > 0)
        frames.append(pl.DataFrame({
            "permit": firsts["permit"].gather(day_of[keep]),
            "outlet": firsts["outlet"].gather(day_of[keep]),
            "pollutant": pl.Series([p] * keep.size, dtype=pl.String),
            "day": pl.Series(day_no[keep].astype(np.int32)).cast(pl.Date),
            "g": pl.Series(g[keep], dtype=pl.Float64),
            "hours": pl.Series(h[keep], dtype=pl.Int32),
            "substituted_hours": pl.Series(sh[keep], dtype=pl.Int32),
            "power": pl.Series(power[keep], dtype=pl.Float64)}))
    if not frames:
        return _empty_daily()
    return (pl.concat(frames)
            .select("permit", "outlet", "pollutant", "day",
                    pl.col("g").round(0, mode="half_to_even").cast(pl.Int64)
                    .alias("emitted_g"),
                    pl.col("hours").cast(pl.Int32),
                    pl.col("substituted_hours").cast(pl.Int32),
                    pl.col("power").fill_null(0.0).round(0, mode="half_to_even")
                    .cast(pl.Int64).alias("power_kwh"))
            .sort("permit", "outlet", "pollutant", "day"))


def substitute(x: npt.NDArray[np.float64], off: npt.NDArray[np.int64],
               stopped: npt.NDArray[np.bool_], short_max: int, lookback: int,
               only: npt.NDArray[np.bool_] | None = None
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Fill the gaps (NaN, not stopped) of a dense hourly series laid out by segments
    (segment i is x[off[i]:off[i+1]]) and flag the filled hours. A gap of at most
    `short_max` hours takes the mean of the valid values just before and just after it (the
    one present at the edge of a segment); a longer gap takes the largest of the last
    `lookback` valid values before it (at the start of a segment, of the first `lookback`
    after it: the hours before the file are not stored). `only` limits the filling to some
    segments. Vectorised; Python loops only over the long gaps."""
    n = x.size
    gap = np.isnan(x) & ~stopped
    if only is not None:
        gap &= np.repeat(only, np.diff(off))
    if not gap.any():
        return x, np.zeros(n, dtype=bool)
    # only the segments with a gap are worked on (memory: a year of 1,000 outlets is 8.76 M
    # hours, most of them without a gap)
    sizes = np.diff(off)
    with_gap = np.flatnonzero(np.add.reduceat(gap, off[:-1]) > 0) if n else np.empty(0, int)
    with_gap = with_gap[sizes[with_gap] > 0]
    if with_gap.size < sizes.size:
        take = np.concatenate([np.arange(off[i], off[i + 1]) for i in with_gap])
        sub_off = np.zeros(with_gap.size + 1, np.int64)
        np.cumsum(sizes[with_gap], out=sub_off[1:])
        part, flag = substitute(x[take], sub_off, stopped[take], short_max, lookback)
        out = x.copy()
        out[take] = part
        sub = np.zeros(n, dtype=bool)
        sub[take] = flag
        return out, sub
    valid = ~np.isnan(x)
    seg = np.repeat(np.arange(off.size - 1), np.diff(off))
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(valid, idx, -1))
    nxt = np.minimum.accumulate(np.where(valid, idx, n)[::-1])[::-1]
    cont = np.zeros(n, dtype=bool)
    cont[1:] = gap[1:] & gap[:-1] & (seg[1:] == seg[:-1])
    starts = np.flatnonzero(gap & ~cont)
    nxt_cont = np.zeros(n, dtype=bool)
    nxt_cont[:-1] = cont[1:]
    ends = np.flatnonzero(gap & ~nxt_cont)
    length = ends - starts + 1
    s_lo, s_hi = off[seg[starts]], off[seg[starts] + 1]
    p_i, n_i = prev[starts], nxt[ends]
    before = np.where(p_i >= s_lo, x[np.clip(p_i, 0, n - 1)], np.nan)
    after = np.where(n_i < s_hi, x[np.clip(n_i, 0, n - 1)], np.nan)
    value = np.where(np.isnan(before), after,
                     np.where(np.isnan(after), before, (before + after) / 2))
    for r in np.flatnonzero(length > short_max):  # per long gap, not per row
        a, b, lo_, hi_ = int(starts[r]), int(ends[r]), int(s_lo[r]), int(s_hi[r])
        seen = x[lo_:a][valid[lo_:a]][-lookback:]
        if seen.size == 0:
            seen = x[b + 1:hi_][valid[b + 1:hi_]][:lookback]
        value[r] = float(seen.max()) if seen.size else np.nan
    out = x.copy()
    gap_pos = np.flatnonzero(gap)
    out[gap_pos] = value[np.searchsorted(starts, gap_pos, side="right") - 1]
    return out, gap & ~np.isnan(out)


def _empty_daily() -> pl.DataFrame:
    return pl.DataFrame(schema={"permit": pl.String, "outlet": pl.String,
                                "pollutant": pl.String, "day": pl.Date, "emitted_g": pl.Int64,
                                "hours": pl.Int32, "substituted_hours": pl.Int32,
                                "power_kwh": pl.Int64})


@dataclass(frozen=True)
class Provenance:
    """What each stored daily row says of where it comes from: its import, source and
    authority (2: bureau or automatic, 1: enterprise). A `superseded_by` column of the
    daily frame (an import id or null), if present, is stored as it is."""

    import_id: int
    source: str = "bureau"
    authority: int = 2


def _for_storage(days: pl.DataFrame, prov: Provenance | int) -> pl.DataFrame:
    if isinstance(prov, int):
        prov = Provenance(prov)
    sup = (pl.col("superseded_by").cast(pl.Int64) if "superseded_by" in days.columns
           else pl.lit(None, pl.Int64).alias("superseded_by"))
    return days.select("permit", "outlet", "pollutant", pl.col("day").cast(pl.String),
                       "emitted_g", "hours", "power_kwh", "substituted_hours",
                       pl.lit(prov.import_id, pl.Int64).alias("import_id"),
                       pl.lit(prov.source, pl.String).alias("source"),
                       pl.lit(prov.authority, pl.Int32).alias("authority"), sup,
                       pl.lit(False).alias("voided"))


def daily_tuples(days: pl.DataFrame, prov: Provenance | int, chunk: int = 50_000
                 ) -> Iterator[list[tuple[Any, ...]]]:
    """The daily rows as tuples (day as ISO text), `chunk` at a time."""
    for part in _for_storage(days, prov).iter_slices(chunk):
        yield part.rows()


def daily_csv(days: pl.DataFrame, prov: Provenance | int, chunk: int = 200_000
              ) -> Iterator[bytes]:
    """The daily rows as CSV text without a header (for COPY), `chunk` rows at a time."""
    for part in _for_storage(days, prov).iter_slices(chunk):
        yield part.write_csv(include_header=False).encode("utf-8")


def daily_extent(days: pl.DataFrame) -> tuple[list[str], date, date]:
    """The permits, first and last day of non-empty daily rows."""
    lo, hi = days.select(pl.col("day").min().alias("lo"), pl.col("day").max().alias("hi")
                         ).row(0)
    return sorted(days["permit"].unique().to_list()), lo, hi


def outlet_days(days: pl.DataFrame) -> set[tuple[str, str, date]]:
    return set(days.select("permit", "outlet", "day").unique().iter_rows())


def mark_superseded(days: pl.DataFrame, held: Iterable[tuple[str, str, date, int]]
                    ) -> tuple[pl.DataFrame, int]:
    """Give daily rows a `superseded_by` column: the import id `held` names for their
    outlet-day (null elsewhere); and the number of rows so marked."""
    over = pl.DataFrame(list(held), schema={"permit": pl.String, "outlet": pl.String,
                                            "day": pl.Date, "superseded_by": pl.Int64},
                        orient="row").unique(subset=["permit", "outlet", "day"])
    out = days.join(over, on=["permit", "outlet", "day"], how="left", maintain_order="left")
    return out, int(out["superseded_by"].is_not_null().sum())


def grams_to_kg(grams: int) -> int:
    """Whole kg from whole grams, rounded once, half to even."""
    return int((Decimal(grams) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# ---------------------------------------------------------------------------- to screening

_EPOCH_HOUR = 3_600_000_000  # microseconds per hour


def hourly_series(v: Validation, *, release: bool = False) -> HourlySeries:
    """The numpy view the screens work on (the valid rows are already sorted by outlet and
    hour): outlets numbered, hours as CST wall-clock hours since 1970-01-01 00:00, NaN for a
    missing reading, the flow of the outlet's medium. With `release`, the rows are taken out
    of `v` and freed column by column as they are converted (the peak stays one column above
    the rows' own size)."""
    f = v.frame
    if release:
        v.frame = f.clear()
    if f.height == 0:
        e = np.empty(0)
        return HourlySeries([], np.empty(0, np.int32), np.empty(0, np.int32), e,
                            {p: e for p in v.pollutants})
    # the arrays are zero-copy views of single-chunk polars columns (read-only), and each
    # column of the rows is dropped as soon as it is converted: memory polars frees is
    # reused for the next array instead of numpy allocating beside it
    has = set(f.columns)
    f = f.drop(*[c for c in ("line", "__first", "status", "power_kwh") if c in has])
    new = ((pl.col("permit") != pl.col("permit").shift(1))
           | (pl.col("outlet") != pl.col("outlet").shift(1))).fill_null(True)
    k = f.select((new.cast(pl.Int32).cum_sum() - 1).alias("k"), new.alias("new"))
    keys = [(str(p), str(o)) for p, o in
            f.filter(k["new"]).select("permit", "outlet").iter_rows()]
    outlet = k["k"].rechunk().to_numpy()
    del k
    f = f.drop("permit", "outlet")
    hour = f.select((pl.col("hour").cast(pl.Int64) // _EPOCH_HOUR).cast(pl.Int32)
                    ).to_series().rechunk().to_numpy()
    f = f.drop("hour")
    flow_expr = (_flow() if {"flow_nm3_h", "flow_m3_h"} <= has
                 else pl.col("flow_nm3_h" if "flow_nm3_h" in has else "flow_m3_h"))
    flow = f.select(flow_expr.fill_null(np.nan).alias("flow")).to_series().rechunk().to_numpy()
    f = f.drop(*[c for c in (*FLOW_COLUMNS, "medium") if c in has])
    # (21 - O2_ref) / (21 - O2) where a reference O2 applies (NaN without a measured O2),
    # 1 where none does
    factor = None
    if "o2_ref" in has and f["o2_ref"].null_count() < f.height:
        o2 = pl.col("o2_pct") if "o2_pct" in has else pl.lit(None, pl.Float64)
        factor = (f.select(pl.when(pl.col("o2_ref").is_null()).then(1.0)
                           .otherwise((21 - pl.col("o2_ref")) / (21 - o2))
                           .fill_null(np.nan).cast(pl.Float32).alias("x")).to_series()
                  .rechunk().to_numpy())
    f = f.drop(*[c for c in ("o2_pct", "o2_ref", "o2_ref_pct") if c in has])
    corrected = {}
    for p in (v.header.corrected if v.header else ()):
        corrected[p] = f[p + "_ref"].fill_null(np.nan).rechunk().to_numpy()
        f = f.drop(p + "_ref")
    values = {}
    for p in v.pollutants:
        values[p] = f[p].fill_null(np.nan).rechunk().to_numpy()
        f = f.drop(p)
    return HourlySeries(keys=keys, outlet=outlet, hour=hour, flow=flow, values=values,
                        factor=factor, corrected=corrected)


def daily_series(days: pl.DataFrame) -> DailySeries:
    """The daily aggregates as numpy arrays (`days` sorted by outlet, pollutant and day)."""
    new = ((pl.col("permit") != pl.col("permit").shift(1))
           | (pl.col("outlet") != pl.col("outlet").shift(1))
           | (pl.col("pollutant") != pl.col("pollutant").shift(1))).fill_null(True)
    k = days.select((new.cast(pl.Int32).cum_sum() - 1).alias("k"), new.alias("new"))
    keys = [(str(p), str(o), str(q)) for p, o, q in
            days.filter(k["new"]).select("permit", "outlet", "pollutant").iter_rows()]
    return DailySeries(keys=keys, group=k["k"].to_numpy(),
                       day=days["day"].cast(pl.Int32).to_numpy(),
                       emitted_g=days["emitted_g"].to_numpy(),
                       power_kwh=days["power_kwh"].to_numpy())



# ---------------------------------------------------------------------------- reports

@dataclass(frozen=True)
class ReportCheck:
    outlet: str
    pollutant: str
    reported_kg: int
    monitored_kg: int | None
    hours: int
    deviation_pct: Decimal | None  # (reported - monitored) / monitored × 100, 2 decimals
    status: str  # ok | deviation | no_monitoring_data


def check_report_line(outlet: str, pollutant: str, reported_kg: int, monitored_g: int | None,
                      hours: int, tolerance_pct: Decimal = REPORT_TOLERANCE_PCT
                      ) -> ReportCheck:
    """Compare one report line with the monitored emissions of its period. Deviation when
    |reported - monitored| > tolerance × monitored (exact integer arithmetic on kg; a
    monitored 0 kg with anything reported deviates)."""
    if monitored_g is None or hours == 0:
        return ReportCheck(outlet, pollutant, reported_kg, None, hours, None,
                           "no_monitoring_data")
    mon = grams_to_kg(monitored_g)
    diff = reported_kg - mon
    pct = (None if mon == 0 else
           (Decimal(diff) * 100 / Decimal(mon)).quantize(Decimal("0.01"),
                                                         rounding=ROUND_HALF_EVEN))
    deviates = abs(diff) * 100 > tolerance_pct * mon if mon else diff != 0
    return ReportCheck(outlet, pollutant, reported_kg, mon, hours, pct,
                       "deviation" if deviates else "ok")
