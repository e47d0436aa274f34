"""Monitoring data (pure, columnar): read and validate an hourly monitoring CSV, compute the
hourly emissions and their daily aggregates, and compare execution reports with them.

Polars is allowed in this module only (no SQLAlchemy, no web). Every step is vectorised:
there is no Python loop over rows; Python loops only over columns, over error rows that are
shown (at most `MAX_ERRORS`) and over the few report lines of a check.

File format (UTF-8, comma-separated, one row per outlet and hour, China Standard Time):

    permit,outlet,hour,flow_nm3_h,SO2_mg_m3,NOx_mg_m3,PM_mg_m3,flow_m3_h,COD_mg_l,NH3-N_mg_l,power_kwh

- `permit`, `outlet`, `hour` are required. `hour` is `YYYY-MM-DD HH:MM` (or with a `T`),
  on the hour, the start of the hour, CST without an offset.
- Flow: `flow_nm3_h` (flue gas, Nm3/h, air outlets), `flow_m3_h` (waste water, m3/h, water
  outlets). Concentrations: `<pollutant>_mg_m3` (mg/Nm3, also spelled `_mg_nm3`) for air
  pollutants (SO2, NOx, PM, VOCs), `<pollutant>_mg_l` (mg/L) for water pollutants (COD,
  NH3-N); concentrations are those the standards judge (dry flue gas at the reference O2),
  as the monitoring system reports them. `power_kwh`: the power used in the hour by the unit
  of the outlet (optional).
- The unit is part of the column name. A column with a unit other than the medium's (e.g.
  `SO2_mg_l`, `COD_mg_m3`, `flow_m3_s`), an unknown column, a repeated column or a missing
  required column rejects the whole file at line 1 (a header fault is not a row fault, so
  `partial` does not help).
- Columns may be in any order and a file may mix air and water outlets; a cell of the other
  medium's column must be empty. An empty cell means "no reading" for that hour.

Validation (row by row, with the line number in the file; the header is line 1; the first
fault of a row is reported): more cells than header columns, a missing permit, outlet or
hour, a malformed hour, a number that is not a finite non-negative number, an unknown permit
or outlet, a reading in a column of the other medium, a duplicate hour of an outlet in the
file ("duplicate of line N"), a day already imported for the outlet (duplicate period: by
the same authority, see `compliance.supervision.supervision_service`), an hour before 1990,
an hour that has not ended by the registry's `not_after` (now, CST), an hour outside the
validity of its permit, and absurd magnitudes: a flow above `MAX_FLOW`, a concentration
above `MAX_CONC`, power above `MAX_POWER_KWH`, or an hour's mass (concentration × flow) above
`MAX_HOUR_G`.
The bounds are checked on the float readings before anything is cast to an integer: a day
of one outlet and pollutant is then at most 24 × `MAX_HOUR_G` grams, so a year of many
thousands of outlets still sums within a 64-bit integer.
Blank lines are skipped. A field containing a line break makes the file malformed (line
numbers could not be trusted). Permit, outlet and hour are trimmed of spaces; numbers are
not (" 12" is not a number). Errors are counted in full; at most `MAX_ERRORS` are listed.

How (memory). One lazy polars plan, collected by the streaming engine: the CSV is scanned in
chunks, cast (permit and outlet become categoricals, hours datetimes, readings float64),
every check becomes a small integer fault code per row (messages are built only for the rows
shown), joined with the registry, sorted by outlet and hour for the in-file duplicates.

Typed fast path: the readings are parsed as float64 by the CSV reader itself (the keys stay
text), so no text copy of the numeric columns is ever built. The CSV reader and the text
cast accept the same numbers except that the reader skips leading blanks (" 12"), so the
fast path is taken only for a file without quotes and without a field starting with a blank
or a tab; otherwise the whole file takes the text path (every column scanned as text, then
cast). When a reading fails to parse, the fast path falls back row by row: the file is
read again leniently (unparsable readings null) and a streamed text scan, which keeps only
the rows with an unparsable reading, marks those rows "is not a number" on the first such
column, exactly as the text path would. Measured (bench/bench_monitoring.py): 8.76 million
rows under 1.5 GB.

Emissions. Per hour and pollutant: air `g = C[mg/Nm3] × Q[Nm3/h] × 1 h × 1e-3` (i.e. kg =
C × Q × 1e-6), water `g = C[mg/L] × Q[m3/h] × 1 h` (kg = C × Q × 1e-3). An hour counts when
both the concentration and the flow are present. Per outlet, pollutant and day (CST) the
grams are summed in float64 and rounded once, half to even, to whole grams (the day's power
use likewise to whole kWh); a day row exists when at least one hour of it counts. Float64
keeps ~15 significant digits, so a day's error is far below half a gram for any real
magnitude; a year then sums to kg with one more rounding (`grams_to_kg`).

Storage decision (see `compliance.supervision.supervision_service`): the raw hourly rows are
not stored (8.76 million rows a year for 1,000 outlets); the daily aggregates and the anomaly
evidence are what supervision uses. A day is therefore the unit of an import: a day already
imported for an outlet is a duplicate period, whatever hours it had.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# Polars allocates through its own jemalloc, which by default keeps freed pages for seconds:
# the columns this module frees one by one (hourly rows turned into numpy arrays, text
# turned into numbers) would still count in the resident set while the next arrays are
# made. Returning them at once keeps an 8.76 M-row import under 1.5 GB (bench/
# bench_monitoring.py: about 1.7 GB otherwise). Read by jemalloc when polars loads, so set
# before the import; a value set by the operator wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
import polars as pl  # noqa: E402

from compliance.reporting.reports import RowError
from compliance.supervision.monitoring_header import (
    REQUIRED,
    Column,
    Header,
    HeaderError,
    parse_header,
)
from kernel.pollutants import Pollutant

#: at most this many row errors are listed (all are counted)
MAX_ERRORS = 1000
#: a report line deviates when |reported - monitored| exceeds this share of the monitored kg
REPORT_TOLERANCE_PCT = Decimal(10)
#: grams per hour per (concentration unit × flow unit), by medium
GRAMS_FACTOR = {"air": 1e-3, "water": 1.0}
#: HJ 212 data flags of the optional `status` column: N (or empty) a valid hour; F the unit
#: stopped (no emission, nothing substituted); the others mark an invalid hour whose
#: readings are ignored and substituted (calibration, maintenance, fault, over range,
#: communication failure, manual entry)
STATUS_STOPPED = ("F",)
STATUS_INVALID = ("C", "M", "D", "T", "B", "S")
#: a corrected concentration given in the file must agree with
#: C × (21 − O2_ref) / (21 − O2) within the larger of these (our own tolerance: rounding of
#: the monitoring system's display, not a value of HJ 75)
CORRECTED_TOLERANCE_PCT = 1.0
CORRECTED_TOLERANCE_ABS = 0.1
#: Substitution of missing and invalid hours (HJ 75-2017, data of missing periods, as
#: recalled: a gap of at most `short_gap_max_hours` takes the mean of the valid hour before
#: and the valid hour after it; a longer gap takes the largest valid hourly value of the
#: `lookback_valid_hours` valid hours before it; flow likewise). The stored references hold
#: no full text of HJ 75, so the rule is marked "verify"; water outlets (HJ 355/356 have
#: their own rules) use the same rule, also "verify".
SUBSTITUTION_VERSION = "hj75.2017-1"
SUBSTITUTION: dict[str, dict[str, object]] = {
    "hj75.2017-1": {"short_gap_max_hours": 24, "lookback_valid_hours": 720,
                    "source": "HJ 75-2017 (verify); water: HJ 356-2019 not applied (verify)",
                    "verify": True},
}
#: magnitude bounds (far above any real outlet: the largest flue-gas flows are ~1e7 Nm3/h)
MAX_FLOW = 1e8  # Nm3/h or m3/h
MAX_CONC = 1e6  # mg/Nm3 or mg/L (1e6 mg/L is pure substance)
MAX_POWER_KWH = 1e9  # kWh in one hour
MAX_HOUR_G = 1e11  # grams of one pollutant from one outlet in one hour (100 t)
#: no monitoring hour before this (the registry's permits start later anyway)
EARLIEST_HOUR = datetime(1990, 1, 1)
_EXTRA = "__extra"
_HOUR_FORMAT = "%Y-%m-%d %H:%M"
MEDIUM = pl.Enum(["air", "water"])



# ---------------------------------------------------------------------------- loading

#: fault codes of a row (0: valid). Messages are built only for the rows shown.
F_EXTRA, F_NO_PERMIT, F_NO_OUTLET, F_NO_HOUR = 1, 2, 3, 4
F_LONG_PERMIT, F_LONG_OUTLET, F_BAD_HOUR, F_NOT_ON_HOUR = 5, 6, 7, 8
F_NUMBER = 10  # + 4 × column: 0 not a number, 1 not finite, 2 negative, 3 other medium
F_UNKNOWN_PERMIT, F_UNKNOWN_OUTLET, F_DUPLICATE, F_IMPORTED = 100, 101, 102, 103
F_STATUS, F_O2_RANGE, F_REF_RANGE, F_REF_MISMATCH, F_NO_REF, F_NO_O2 = 9, 104, 105, 106, 107, 108
F_CORR = 120  # + 2 × corrected column: 0 disagrees with the formula, 1 without a measured value
F_FUTURE, F_VALIDITY, F_EARLY = 109, 110, 111
F_TOO_LARGE = 160  # + numeric column: above its bound
F_MASS = 200  # + pollutant: concentration × flow above MAX_HOUR_G


@dataclass(frozen=True)
class Registry:
    """What validation needs: the medium of every outlet the caller may import for, and a
    function giving the days already imported, as (permit, outlet, day), between two days."""

    outlets: Mapping[tuple[str, str], str]  # (permit, outlet) -> air | water
    imported: Callable[[date, date], Iterable[tuple[str, str, date]]] = lambda lo, hi: ()
    #: air outlets whose limits refer to a reference O2 (by the permit's sector): the value
    #: in % (None: the sector needs one the table cannot give, so rows must carry
    #: `o2_ref_pct`); an outlet not listed needs no correction
    reference_o2: Mapping[tuple[str, str], Decimal | None] = field(default_factory=dict)
    #: the last instant data may describe (naive CST wall clock): an hour must have ended
    #: by then; None: no bound
    not_after: datetime | None = None
    #: permit -> (first, last) day of its validity; a permit not listed is not checked
    validity: Mapping[str, tuple[date, date]] = field(default_factory=dict)


@dataclass
class Validation:
    header: Header | None
    #: valid rows sorted by permit, outlet and hour: line, permit, outlet (categorical),
    #: hour, medium, the numeric columns (canonical names: flow_nm3_h, SO2, ..., power_kwh)
    frame: pl.DataFrame
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS, by line
    error_count: int = 0
    rows: int = 0  # data rows read (blank lines not counted)

    @property
    def accepted(self) -> int:
        return self.frame.height

    @property
    def period(self) -> tuple[date, date] | None:
        if self.frame.height == 0:
            return None
        lo, hi = self.frame.select(pl.col("hour").min().alias("lo"),
                                   pl.col("hour").max().alias("hi")).row(0)
        return lo.date(), hi.date()

    @property
    def pollutants(self) -> tuple[str, ...]:
        return self.header.pollutants if self.header else ()


def keys_of(v: Validation) -> list[tuple[str, str]]:
    """The distinct (permit, outlet) pairs of the valid rows."""
    if v.frame.height == 0:
        return []
    # the rows are grouped by outlet: the first row of each run names it (a unique over
    # 8.76 M rows would build a hash table of them, ~0.1 GB)
    new = ((pl.col("permit") != pl.col("permit").shift(1))
           | (pl.col("outlet") != pl.col("outlet").shift(1))).fill_null(True)
    u = v.frame.filter(new).select("permit", "outlet")
    return sorted({(str(p), str(o)) for p, o in u.iter_rows()})


def medium_of(pollutant: str) -> str:
    return Pollutant(pollutant).medium


def _failed(err: RowError) -> Validation:
    return Validation(None, pl.DataFrame(), [err], 1, 0)


def _first_line(source: bytes | Path) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return fh.readline()
    nl = source.find(b"\n")
    return source if nl < 0 else source[: nl + 1]


_PADDED = (b", ", b",\t", b"\n ", b"\n\t")


def _scan_bytes(source: bytes | Path) -> tuple[bool, bool]:
    """Whether the data has a quote, and whether a field starts with a blank or a tab
    (either keeps the file off the typed fast path)."""
    if isinstance(source, bytes):
        return b'"' in source, any(p in source for p in _PADDED)
    quoted = padded = False
    tail = b""
    with source.open("rb") as fh:  # buffered: a mapping would count the file in RSS
        for block in iter(lambda: fh.read(1 << 22), b""):
            quoted = quoted or b'"' in block
            joined = tail + block
            padded = padded or any(p in joined for p in _PADDED)
            tail = block[-1:]
            if quoted and padded:
                break
    return quoted, padded


def load(source: bytes | str | Path, registry: Registry, *, typed: bool = True
         ) -> Validation:
    """Read a monitoring CSV (bytes, text or a file path) and validate every row: one lazy
    polars plan (streaming CSV scan, casts, checks as fault codes, registry join, sort,
    duplicate hours), then the days already imported, then messages for the shown errors.
    `typed=False` forces the text path (the fast path gives the same result)."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    if isinstance(source, Path) and (not source.exists() or source.stat().st_size == 0):
        return _failed(RowError(1, None, "empty file: no header"))
    first = _first_line(source)
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
        if isinstance(source, bytes):
            source = source[3:]
    if not first.strip():
        return _failed(RowError(1, None, "empty file: no header"))
    try:
        text = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return _failed(RowError(1, None, "header is not UTF-8 text"))
    try:
        header = parse_header(text.split(","))
    except HeaderError as exc:
        return _failed(RowError(1, exc.field, exc.detail))
    numeric = list(header.numeric)
    quoted, padded = _scan_bytes(source)
    try:
        if quoted or padded or not typed:
            frame = _collect(source, header, registry, quoted, typed=False)
        else:
            try:
                frame = _collect(source, header, registry, quoted, typed=True)
            except pl.exceptions.ComputeError:
                # a reading failed to parse: read leniently, mark the rows it failed in
                bad = _bad_numbers(source, header)
                frame = _collect(source, header, registry, quoted, typed=True, bad=bad)
    except (pl.exceptions.PolarsError, OSError) as exc:
        return _failed(RowError(1, None, f"malformed CSV: {str(exc).splitlines()[0]}"))
    if quoted and frame.height and frame.select(pl.col("__broken").any()).item():
        at = int(frame.filter(pl.col("__broken"))["line"].min())  # type: ignore[arg-type]
        return _failed(RowError(at, None, "malformed CSV: a field contains a line break"))
    rows = frame.height
    # days already imported (asked only for the file's period)
    lo, hi = frame.filter(pl.col("fault") == 0).select(
        pl.col("hour").min().alias("lo"), pl.col("hour").max().alias("hi")).row(0)
    if lo is not None:
        done = pl.DataFrame(list(registry.imported(lo.date(), hi.date())), schema={
            "permit": pl.String, "outlet": pl.String, "__day": pl.Date}, orient="row")
        if done.height:
            done = done.unique().with_columns(
                pl.col("permit").cast(pl.Categorical), pl.col("outlet").cast(pl.Categorical),
                pl.lit(True).alias("__imp"))
            frame = (frame.with_columns(pl.col("hour").dt.date().alias("__day"))
                     .join(done, on=["permit", "outlet", "__day"], how="left",
                           maintain_order="left")
                     .with_columns(pl.when((pl.col("fault") == 0) & pl.col("__imp"))
                                   .then(pl.lit(F_IMPORTED, pl.UInt8))
                                   .otherwise(pl.col("fault")).alias("fault"))
                     .drop("__day", "__imp"))
    bad = frame.filter(pl.col("fault") != 0)
    if bad.height:
        frame = frame.filter(pl.col("fault") == 0)
    frame = frame.drop("fault", "__first", *(["__broken"] if quoted else []))
    shown = bad.sort("line").head(MAX_ERRORS)
    errors = [_message(r, numeric, registry) for r in shown.iter_rows(named=True)]
    return Validation(header, frame, errors, bad.height, rows)


def _scan(source: bytes | Path, header: Header, quoted: bool, *, typed: bool,
          lenient: bool = False) -> pl.LazyFrame:
    """The CSV as a lazy frame (header skipped): every column as text, or (`typed`) the
    readings as float64, unparsable ones null with `lenient` (else an error)."""
    num = pl.Float64 if typed else pl.String
    schema = {c.name: (num if c in header.numeric else pl.String) for c in header.columns}
    return pl.scan_csv(io.BytesIO(source) if isinstance(source, bytes) else source,
                       has_header=False, skip_lines=1, schema=schema | {_EXTRA: pl.String},
                       truncate_ragged_lines=True, quote_char='"' if quoted else None,
                       encoding="utf8-lossy", missing_columns="insert",
                       ignore_errors=lenient)


def _collect(source: bytes | Path, header: Header, registry: Registry, quoted: bool, *,
             typed: bool, bad: pl.DataFrame | None = None) -> pl.DataFrame:
    lf = _scan(source, header, quoted, typed=typed, lenient=bad is not None)
    return _duplicates(_plan(lf, header, registry, quoted, bad).collect(engine="streaming"))


def _bad_numbers(source: bytes | Path, header: Header) -> pl.DataFrame:
    """The rows (line, index of the first numeric column) with a reading the text path
    calls "not a number": a streamed text scan that keeps only those rows."""
    lf = _scan(source, header, False, typed=False).with_row_index("line", offset=2)
    expr: Any = pl
    for i, c in enumerate(header.numeric):
        cell = pl.col(c.name)
        expr = expr.when(cell.is_not_null() & cell.cast(pl.Float64, strict=False).is_null()
                         ).then(pl.lit(i, pl.Int16))
    first = expr.otherwise(pl.lit(None, pl.Int16)).alias("__badnum")
    return (lf.select("line", first).filter(pl.col("__badnum").is_not_null())
            .collect(engine="streaming"))


def _plan(lf: pl.LazyFrame, header: Header, registry: Registry, quoted: bool,
          bad: pl.DataFrame | None = None) -> pl.LazyFrame:
    names = [c.name for c in header.columns]
    numeric = list(header.numeric)
    lf = lf.with_row_index("line", offset=2)
    blank = pl.all_horizontal([pl.col(n).is_null() for n in [*names, _EXTRA]])
    if bad is not None:  # lenient typed scan: a row whose readings failed is not blank
        lf = lf.join(bad.lazy(), on="line", how="left", maintain_order="left")
        blank = blank & pl.col("__badnum").is_null()
    lf = lf.filter(~blank)
    keys = {k: pl.col(k).str.strip_chars() for k in REQUIRED}
    lf = lf.with_columns(pl.when(x.str.len_bytes() == 0).then(None).otherwise(x).alias(k)
                         for k, x in keys.items())
    hour = (pl.col("hour").str.replace("T", " ", literal=True)
            .str.to_datetime(_HOUR_FORMAT, strict=False, exact=True, time_unit="us"))
    conds: list[tuple[pl.Expr, int]] = [
        (pl.col(_EXTRA).is_not_null(), F_EXTRA),
        (pl.col("permit").is_null(), F_NO_PERMIT),
        (pl.col("outlet").is_null(), F_NO_OUTLET),
        (pl.col("hour").is_null(), F_NO_HOUR),
        (pl.col("permit").str.len_bytes() > 22, F_LONG_PERMIT),
        (pl.col("outlet").str.len_bytes() > 20, F_LONG_OUTLET),
        (pl.col("__h").is_null(), F_BAD_HOUR),
        (pl.col("__h").dt.minute() != 0, F_NOT_ON_HOUR),
        (pl.col("__h") < EARLIEST_HOUR, F_EARLY),
    ]
    if registry.not_after is not None:
        conds.append((pl.col("__h") + timedelta(hours=1) > registry.not_after, F_FUTURE))
    for i, c in enumerate(numeric):
        v = pl.col("__" + c.name)
        unparsed = (pl.col("__badnum") == i) if bad is not None else pl.lit(False)
        conds += [((pl.col(c.name).is_not_null() & v.is_null()) | unparsed, F_NUMBER + 4 * i),
                  (~v.is_finite(), F_NUMBER + 4 * i + 1),
                  (v < 0, F_NUMBER + 4 * i + 2)]
    for i, c in enumerate(numeric):
        bound = _bound(c)
        if bound is not None:
            conds.append((pl.col("__" + c.name) > bound, F_TOO_LARGE + i))
    for j, p in enumerate(header.pollutants):
        medium = Pollutant(p).medium
        flow = "__flow_nm3_h" if medium == "air" else "__flow_m3_h"
        conds.append((pl.col("__" + p) * pl.col(flow) * GRAMS_FACTOR[medium] > MAX_HOUR_G,
                      F_MASS + j))
    extra = []
    if quoted:
        extra.append(pl.any_horizontal([pl.col(n).str.contains("\n", literal=True)
                                        for n in [*names, _EXTRA]]).fill_null(False)
                     .alias("__broken"))
    if header.has("status"):
        st = pl.col("status").str.strip_chars().str.to_uppercase()
        extra.append(pl.when(st.is_null() | (st == "") | (st == "N")).then(pl.lit(0, pl.UInt8))
                     .when(st.is_in(STATUS_STOPPED)).then(pl.lit(1, pl.UInt8))
                     .when(st.is_in(STATUS_INVALID)).then(pl.lit(2, pl.UInt8))
                     .otherwise(pl.lit(9, pl.UInt8)).alias("__status"))
        conds.append((pl.col("__status") == 9, F_STATUS))
    for name, code in (("o2_pct", F_O2_RANGE), ("o2_ref_pct", F_REF_RANGE)):
        if header.has(name):
            conds.append((pl.col("__" + name) >= 21, code))
    lf = lf.with_columns(hour.alias("__h"),
                         *[pl.col(c.name).cast(pl.Float64, strict=False).alias("__" + c.name)
                           for c in numeric], *extra)
    lf = lf.with_columns(_first_fault(conds).alias("fault"))
    lf = lf.select("line", pl.col("permit").cast(pl.Categorical),
                   pl.col("outlet").cast(pl.Categorical), pl.col("__h").alias("hour"),
                   *[pl.col("__" + c.name).alias(c.name) for c in numeric], "fault",
                   *(["__status"] if header.has("status") else []),
                   *(["__broken"] if quoted else []))
    # the registry: unknown permits and outlets, readings in the other medium's columns
    refs, valid = registry.reference_o2, registry.validity
    reg = pl.DataFrame([(p, o, m, _ref_value(refs, (p, o)), *valid.get(p, (None, None)))
                        for (p, o), m in registry.outlets.items()],
                       schema={"permit": pl.String, "outlet": pl.String, "medium": MEDIUM,
                               "__ref_reg": pl.Float64, "__vf": pl.Date, "__vt": pl.Date},
                       orient="row").with_columns(pl.col("permit").cast(pl.Categorical),
                                                  pl.col("outlet").cast(pl.Categorical))
    known = reg.select("permit").unique().with_columns(pl.lit(True).alias("__known"))
    lf = (lf.join(reg.lazy(), on=["permit", "outlet"], how="left", maintain_order="left")
          .join(known.lazy(), on="permit", how="left", maintain_order="left"))
    conds2: list[tuple[pl.Expr, int]] = [
        (pl.col("fault") != 0, -1),
        (pl.col("__known").is_null(), F_UNKNOWN_PERMIT),
        (pl.col("medium").is_null(), F_UNKNOWN_OUTLET),
        ((pl.col("hour").dt.date() < pl.col("__vf"))
         | (pl.col("hour").dt.date() > pl.col("__vt")), F_VALIDITY),
    ]
    for i, c in enumerate(numeric):
        if c.medium is not None:
            conds2.append(((pl.col("medium") != c.medium) & pl.col(c.name).is_not_null(),
                           F_NUMBER + 4 * i + 3))
    conds2 += _o2_faults(header)
    lf = lf.with_columns(_first_fault(conds2, keep="fault").alias("fault")).drop(
        "__known", "__vf", "__vt")
    # the reference O2 each row refers to (the file's, else the sector's); the readings of
    # invalid hours and stopped hours are not readings (substituted, respectively none)
    ref = (pl.col("o2_ref_pct").fill_null(pl.col("__ref_reg")) if header.has("o2_ref_pct")
           else pl.col("__ref_reg"))
    lf = lf.with_columns(ref.alias("o2_ref")).drop("__ref_reg")
    if header.has("status"):
        lf = lf.with_columns(
            pl.col("__status").alias("status"),
            *[pl.when(pl.col("__status") != 0).then(None).otherwise(pl.col(c.name))
              .alias(c.name) for c in numeric if c.kind != "power"]).drop("__status")
    return lf


def _in_order(frame: pl.DataFrame) -> bool:
    """Whether the rows are already grouped by outlet (each outlet in one run) with hours
    strictly increasing within each run: then no hour repeats and no sort is needed (the
    usual file: a sort would hold a second copy of every row)."""
    if frame.height < 2:
        return True
    same_key = ((pl.col("permit") == pl.col("permit").shift(1))
                & (pl.col("outlet") == pl.col("outlet").shift(1))).fill_null(False)
    back = frame.select((same_key & ~(pl.col("hour") > pl.col("hour").shift(1))
                         .fill_null(False)).any()).item()
    if back:
        return False
    # each outlet in one run: the first rows of the runs (one per run) name distinct keys
    firsts = frame.filter(~same_key).select("permit", "outlet")
    return not firsts.is_duplicated().any()


def _duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Order rows by outlet and hour and mark repeated hours: valid rows first within a
    key, the lowest line stays valid; `__first` is the line a duplicate repeats. A file
    already in order is left as it is (`_in_order`)."""
    if _in_order(frame):
        return frame.with_columns(pl.col("line").alias("__first"))
    frame = frame.sort(["permit", "outlet", "hour", "fault", "line"], nulls_last=True)
    same = ((pl.col("permit") == pl.col("permit").shift(1))
            & (pl.col("outlet") == pl.col("outlet").shift(1))
            & (pl.col("hour") == pl.col("hour").shift(1))).fill_null(False)
    frame = frame.with_columns(
        pl.when(~same).then(pl.col("line")).forward_fill().alias("__first"),
        (same & (pl.col("fault").shift(1) == 0)).fill_null(False).alias("__dup"))
    return frame.with_columns(
        pl.when((pl.col("fault") == 0) & pl.col("__dup")).then(pl.lit(F_DUPLICATE, pl.UInt8))
        .otherwise(pl.col("fault")).alias("fault")).drop("__dup")


def _bound(c: Column) -> float | None:
    """The largest plausible value of a numeric column (O2 has its own range check)."""
    return {"flow": MAX_FLOW, "conc": MAX_CONC, "corr": MAX_CONC,
            "power": MAX_POWER_KWH}.get(c.kind)


def _ref_value(refs: Mapping[tuple[str, str], Decimal | None], key: tuple[str, str]
               ) -> float | None:
    """The registry's reference O2 of an outlet as a float: None when the outlet needs no
    correction, NaN when it needs one the table cannot give."""
    if key not in refs:
        return None
    value = refs[key]
    return float("nan") if value is None else float(value)


def _o2_faults(header: Header) -> list[tuple[pl.Expr, int]]:
    """Faults of the O2 correction (after the registry join: `__ref_reg` is the sector's
    reference O2, null: none needed, NaN: needed but unknown)."""
    out: list[tuple[pl.Expr, int]] = []
    has_ref, has_o2 = header.has("o2_ref_pct"), header.has("o2_pct")
    reg = pl.col("__ref_reg")
    air = [c.name for c in header.columns if c.kind == "conc" and c.medium == "air"]
    any_air = (pl.any_horizontal([pl.col(p).is_not_null() for p in air]) if air
               else pl.lit(False))
    normal = (pl.col("__status") == 0) if header.has("status") else pl.lit(True)
    if has_ref:
        out.append((pl.col("o2_ref_pct").is_not_null() & reg.is_not_nan()
                    & ((pl.col("o2_ref_pct") - reg).abs() > 1e-9), F_REF_MISMATCH))
    given_ref = pl.col("o2_ref_pct").is_not_null() if has_ref else pl.lit(False)
    out.append((reg.is_nan() & ~given_ref & any_air & normal, F_NO_REF))
    resolved = pl.col("o2_ref_pct").fill_null(reg) if has_ref else reg
    corr = set(header.corrected)
    lacking = [pl.col(p).is_not_null() & (pl.col(p + "_ref").is_null() if p in corr
                                          else pl.lit(True)) for p in air]
    if lacking:
        o2_missing = pl.col("o2_pct").is_null() if has_o2 else pl.lit(True)
        out.append((reg.is_not_null() & o2_missing & pl.any_horizontal(lacking) & normal,
                    F_NO_O2))
    for j, p in enumerate(header.corrected):
        c, m = pl.col(p + "_ref"), pl.col(p)
        out.append((c.is_not_null() & m.is_null() & normal, F_CORR + 2 * j + 1))
        if has_o2:
            expect = m * (21 - resolved) / (21 - pl.col("o2_pct"))
            tol = pl.max_horizontal(expect.abs() * (CORRECTED_TOLERANCE_PCT / 100),
                                    pl.lit(CORRECTED_TOLERANCE_ABS))
            out.append((c.is_not_null() & expect.is_not_null() & expect.is_not_nan()
                        & ((c - expect).abs() > tol), F_CORR + 2 * j))
    return out


def _first_fault(conds: list[tuple[pl.Expr, int]], keep: str | None = None) -> pl.Expr:
    """The code of the first condition that holds (0 if none); code -1 keeps column `keep`."""
    expr: Any = pl
    for cond, code in conds:
        val = pl.col(keep) if code < 0 and keep else pl.lit(code, pl.UInt8)
        expr = expr.when(cond.fill_null(False)).then(val)
    return expr.otherwise(pl.lit(0, pl.UInt8)).cast(pl.UInt8)  # type: ignore[no-any-return]


def _message(r: Mapping[str, Any], numeric: list[Column], registry: Registry | None = None
             ) -> RowError:
    code, line = int(r["fault"]), int(r["line"])
    permit, outlet, hour = r.get("permit"), r.get("outlet"), r.get("hour")
    if code >= F_MASS:
        p = [c for c in numeric if c.kind == "conc"][code - F_MASS]
        return RowError(line, p.header, f"concentration × flow exceeds {MAX_HOUR_G:.0e} g "
                                        f"in one hour: not a plausible reading")
    if code >= F_TOO_LARGE:
        col = numeric[code - F_TOO_LARGE]
        return RowError(line, col.header, f"must be at most {_bound(col):.0e}: not a "
                                          f"plausible reading")
    if code == F_VALIDITY:
        vf, vt = (registry.validity.get(str(permit), (None, None)) if registry
                  else (None, None))
        return RowError(line, "hour", f"{hour.date() if hour else ''} is outside the validity "
                                      f"of permit {permit} ({vf} to {vt})")
    if code == F_FUTURE:
        shown = f"{hour:%Y-%m-%d %H:%M}" if isinstance(hour, datetime) else str(hour)
        now = (f" (now {registry.not_after:%Y-%m-%d %H:%M})"
               if registry is not None and registry.not_after is not None else "")
        return RowError(line, "hour", f"hour {shown} (Beijing time) has not ended yet{now}: "
                                      f"data for hours that have not happened are refused")
    if code == F_EARLY:
        return RowError(line, "hour", f"hour must be {EARLIEST_HOUR.date()} or later")
    fixed = {
        F_EXTRA: (None, "more cells than header columns"),
        F_NO_PERMIT: ("permit", "missing value"), F_NO_OUTLET: ("outlet", "missing value"),
        F_NO_HOUR: ("hour", "missing value"),
        F_LONG_PERMIT: ("permit", "at most 22 characters"),
        F_LONG_OUTLET: ("outlet", "at most 20 characters"),
        F_BAD_HOUR: ("hour", "hour must be YYYY-MM-DD HH:MM (CST)"),
        F_NOT_ON_HOUR: ("hour", "hour must be on the hour (minute 00)"),
        F_UNKNOWN_PERMIT: ("permit", f"unknown permit {permit}"),
        F_UNKNOWN_OUTLET: ("outlet", f"permit {permit} has no outlet {outlet}"),
        F_DUPLICATE: ("hour", f"duplicate of line {r.get('__first')}"),
        F_IMPORTED: ("hour", f"{hour.date() if hour else ''} already imported for "
                             f"{permit} {outlet}"),
        F_STATUS: ("status", "status must be empty, N (valid), F (stopped) or one of "
                             + ", ".join(STATUS_INVALID) + " (invalid hour)"),
        F_O2_RANGE: ("o2_pct", "O2 must be below 21 %"),
        F_REF_RANGE: ("o2_ref_pct", "reference O2 must be below 21 %"),
        F_REF_MISMATCH: ("o2_ref_pct", f"differs from the reference O2 of the permit's "
                                       f"sector for {outlet}"),
        F_NO_REF: ("o2_ref_pct", f"the sector of {permit} needs a reference O2 the parameter "
                                 f"table cannot give: give o2_ref_pct"),
        F_NO_O2: ("o2_pct", f"{outlet}: limits refer to a reference O2, so each hour needs "
                            f"the measured O2 (o2_pct) or the corrected concentrations"),
    }
    if code in fixed:
        fld, detail = fixed[code]
        return RowError(line, fld, detail)
    if code >= F_CORR:
        col = [c for c in numeric if c.kind == "corr"][(code - F_CORR) // 2]
        if (code - F_CORR) % 2:
            return RowError(line, col.header, "a corrected concentration needs the measured "
                                              "one of the same hour")
        return RowError(line, col.header, "disagrees with the measured concentration "
                                          "corrected to the reference O2: "
                                          "C × (21 − O2_ref) / (21 − O2)")
    col = numeric[(code - F_NUMBER) // 4]
    detail = ("is not a number", "must be a finite number", "must not be negative",
              f"does not apply to {'a water' if col.medium == 'air' else 'an air'} outlet "
              f"({outlet})")[(code - F_NUMBER) % 4]
    return RowError(line, col.header, detail)
