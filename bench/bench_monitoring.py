"""Monitoring import: a year of hourly data for 1,000 outlets (8.76 million rows).

A child process first writes the synthetic CSV to a temp file (not timed; its peak memory
is reported apart as `children_peak_rss_mb`): ``--outlets`` outlets (4 per permit: three air
outlets DA001-DA003 and one water outlet DW001) × ``--hours`` hours from 2026-01-01 00:00
CST, with flow, SO2/NOx/PM and O2 (air) or COD/NH3-N (water) and power use, and a few planted
anomalies (an exceedance episode, a flat line, a gap, a week of emissions falling while
power stays). Then, in this process, it times the steps of the import pipeline that
`compliance.supervision.supervision_service.import_monitoring` runs, and prints one JSON line per
figure:

- ``read``: parse, type-check and validate every row against the registry
  (`compliance.supervision.monitoring.load`);
- ``emissions``: hourly emissions and their daily aggregation (`daily`);
- ``screening``: the numpy views and the four screens (`hourly_series`, `daily_series`,
  `compliance.supervision.screening.screen`);
- ``pipeline``: the three together (goal: < 60 s and, issue 22, a peak under 1.5 GB);
- ``store``: separately, the whole use case `import_monitoring` on a database built by the
  migrations (SQLite temp file, or ``--db`` a PostgreSQL admin URL: a fresh database is
  created and dropped), i.e. read, validate, compute, screen again, and write the daily rows,
  the import record and one clue per anomaly, in one transaction.

Each line: {"bench": "monitoring", "figure": ..., "rows": ..., "seconds": ...,
"rows_per_s": ..., "peak_rss_mb": ..., "children_peak_rss_mb": ...}. Each phase (pipeline,
store) runs in a fresh interpreter, so peak RSS (resource.getrusage ru_maxrss, this process;
children: processes it waited for) is the phase's own maximum resident set up to that line.

Usage: python bench/bench_monitoring.py [--outlets 1000] [--hours 8760]
       [--db postgresql://postgres@127.0.0.1:5432/postgres] [--no-store] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

# as compliance.supervision.monitoring does (it must be set before polars loads; see there): polars'
# jemalloc returns freed pages at once, so the peak RSS is what the import really holds
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from compliance.supervision import emissions as E  # noqa: E402
from compliance.supervision import monitoring as M  # noqa: E402
from compliance.supervision import screening as S  # noqa: E402
from kernel.ids import make_credit_code, make_permit_code  # noqa: E402

YEAR = 2026
HEADER = ["permit", "outlet", "hour", "flow_nm3_h", "SO2_mg_m3", "NOx_mg_m3", "PM_mg_m3",
          "o2_pct", "flow_m3_h", "COD_mg_l", "NH3-N_mg_l", "power_kwh"]
AIR = ("DA001", "DA002", "DA003")
WATER = ("DW001",)
SECTOR = "thermal_power"


def permits(n_outlets: int) -> list[tuple[str, str]]:
    """(credit code, permit code) of the bench permits, 4 outlets each."""
    out = []
    for i in range((n_outlets + 3) // 4):
        credit = make_credit_code(f"91500000MNT{i:06d}")
        out.append((credit, make_permit_code(credit, 1)))
    return out


def outlets(n_outlets: int) -> list[tuple[str, str, str]]:
    rows = []
    for _credit, permit in permits(n_outlets):
        for o in AIR:
            rows.append((permit, o, "air"))
        for o in WATER:
            rows.append((permit, o, "water"))
    return rows[:n_outlets]


def generate(path: Path, n_outlets: int, hours: int, seed: int = 7) -> int:
    """Write the synthetic CSV; returns the number of data rows."""
    rng = np.random.default_rng(seed)
    outs = outlets(n_outlets)
    n = len(outs) * hours
    k = np.repeat(np.arange(len(outs)), hours)
    h = np.tile(np.arange(hours), len(outs))
    water = np.array([m == "water" for _p, _o, m in outs])[k]

    def r2(lo: float, hi: float) -> np.ndarray:
        return np.round(rng.uniform(lo, hi, n), 2)

    flow_air, flow_w = r2(200_000, 400_000), r2(50, 300)
    so2, nox, pm = r2(5, 30), r2(15, 45), r2(1, 8)
    cod, nh3 = r2(10, 45), r2(0.5, 4.5)
    power = r2(40_000, 60_000)
    o2 = r2(3, 6)  # measured O2 at or below the 6 % reference: corrected <= measured
    # planted anomalies (outlet numbers are air outlets when n_outlets >= 16)
    def at(outlet: int, hour: int) -> int:
        return outlet * hours + hour
    if len(outs) >= 16 and hours >= 24 * 40:
        so2[at(1, 100):at(1, 106)] = 80.0  # exceedance, 6 h above 35 mg/Nm3
        nox[at(2, 200):at(2, 212)] = 33.33  # flat line, 12 h
        day0 = 30  # emissions fall to a tenth for 7 days, power unchanged
        so2[at(5, day0 * 24):at(5, (day0 + 7) * 24)] /= 10
    frame = pl.DataFrame({
        "permit": pl.Series([p for p, _o, _m in outs])[k],
        "outlet": pl.Series([o for _p, o, _m in outs])[k],
        "h": h,
    })
    frame = frame.with_columns(
        (pl.lit(datetime(YEAR, 1, 1)) + pl.duration(hours=pl.col("h")))
        .dt.strftime("%Y-%m-%d %H:%M").alias("hour"),
        pl.Series("flow_nm3_h", np.where(water, np.nan, flow_air)).fill_nan(None),
        pl.Series("SO2_mg_m3", np.where(water, np.nan, np.round(so2, 2))).fill_nan(None),
        pl.Series("NOx_mg_m3", np.where(water, np.nan, nox)).fill_nan(None),
        pl.Series("PM_mg_m3", np.where(water, np.nan, pm)).fill_nan(None),
        pl.Series("o2_pct", np.where(water, np.nan, o2)).fill_nan(None),
        pl.Series("flow_m3_h", np.where(water, flow_w, np.nan)).fill_nan(None),
        pl.Series("COD_mg_l", np.where(water, cod, np.nan)).fill_nan(None),
        pl.Series("NH3-N_mg_l", np.where(water, nh3, np.nan)).fill_nan(None),
        pl.Series("power_kwh", power),
    )
    if len(outs) >= 16 and hours >= 24 * 40:
        gap = (pl.col("permit") == outs[3][0]) & (pl.col("outlet") == outs[3][1]) & \
            pl.col("h").is_between(300, 305)  # 6 missing hours
        frame = frame.filter(~gap)
    frame.select(HEADER).write_csv(path)
    return frame.height


def _gen_child(path: str, n_outlets: int, hours: int, q: multiprocessing.Queue) -> None:
    q.put(generate(Path(path), n_outlets, hours))


def peak_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(me, 1), round(kids, 1)


def emit(figure: str, rows: int, seconds: float, **extra: object) -> None:
    me, kids = peak_mb()
    print(json.dumps({"bench": "monitoring", "figure": figure, "rows": rows,
                      "seconds": round(seconds, 3),
                      "rows_per_s": round(rows / seconds) if seconds else None,
                      "peak_rss_mb": me, "children_peak_rss_mb": kids, **extra}), flush=True)


def limits_for(outs: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], object]:
    from allocation.parameters import get_parameters

    table = S.sector_limits(get_parameters(on=date(YEAR, 1, 1)), SECTOR)
    return {(p, o, pol): v for p, o, m in outs for pol, (v, _src) in table.items()
            if (pol in ("COD", "NH3-N")) == (m == "water")}


def pipeline(csv: Path, outs: list[tuple[str, str, str]]) -> tuple[int, list[S.Anomaly]]:
    reg = M.Registry(outlets={(p, o): m for p, o, m in outs},
                     reference_o2={(p, o): S.reference_o2(SECTOR)[1] for p, o, m in outs
                                   if m == "air"})
    t0 = time.perf_counter()
    v = M.load(csv, reg)
    t1 = time.perf_counter()
    assert v.error_count == 0, v.errors[:3]
    emit("read", v.rows, t1 - t0, accepted=v.accepted, rejected=v.error_count)
    days = E.daily(v)
    t2 = time.perf_counter()
    emit("emissions", v.rows, t2 - t1, daily_rows=days.height,
         substituted_hours=int(days["substituted_hours"].sum()),
         total_kg=E.grams_to_kg(int(days["emitted_g"].sum())))
    limits = limits_for(outs)
    hs = E.hourly_series(v, release=True)
    ds = E.daily_series(days)
    found = S.screen(hs, ds, limits)  # type: ignore[arg-type]
    t3 = time.perf_counter()
    kinds: dict[str, int] = {}
    for a in found:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    emit("screening", v.rows, t3 - t2, anomalies=kinds)
    emit("pipeline", v.rows, t3 - t0)
    return v.rows, found


def store(csv: Path, n_outlets: int, pg: str | None) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from allocation import service as alloc
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build
    from compliance.reporting import service as compliance
    from compliance.supervision import supervision_service as sup

    tmp = tempfile.TemporaryDirectory()
    admin = dbname = None
    if pg:
        base = make_url(pg.replace("postgresql://", "postgresql+psycopg://", 1))
        dbname = f"erts_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base.render_as_string(hide_password=False),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        url = base.set(database=dbname).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
    try:
        upgrade(url)
        platform = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
        now = datetime(YEAR + 1, 1, 2, tzinfo=UTC)
        alloc.register_area(platform.uow(), zones=[("MZ", "Bench air", "air"),
                                                   ("MW", "Bench water", "water")],
                            districts=[("MD", "Bench district", "MZ", "MW")])
        for credit, permit in permits(n_outlets):
            alloc.register_enterprise(platform.uow(), credit_code=credit, name=credit,
                                      sector=SECTOR, district="MD")
            code = alloc.issue_permit(
                platform.uow(), enterprise=credit, site_seq=1, site_name="site",
                district="MD", capacity=300, capacity_unit="MW", valid_from=date(2025, 1, 1),
                valid_to=date(2029, 12, 31), parameter_version="2025.1", bases=[], now=now)
            assert code == permit
        for permit, o, m in outlets(n_outlets):
            compliance.register_outlet(platform.uow(), permit=permit, outlet=o, medium=m)
        t0 = time.perf_counter()
        out = sup.import_monitoring(platform.uow(), csv_data=csv, actor="bench", now=now)
        t1 = time.perf_counter()
        emit("store", out["rows"], t1 - t0, db="postgresql" if pg else "sqlite",
             daily_rows=out["daily_rows"], clues=len(out["clues"]),
             timings=out.get("timings"))
        platform.close()
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()
        tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outlets", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=8760)
    ap.add_argument("--db", default=None, help="PostgreSQL admin URL (default: SQLite)")
    ap.add_argument("--no-store", action="store_true")
    ap.add_argument("--csv", default=None, help="reuse (or keep) the CSV at this path")
    ap.add_argument("--phase", choices=("all", "pipeline", "store"), default="all",
                    help="all: generate, then each phase in a fresh process")
    a = ap.parse_args()
    if a.phase == "pipeline":
        pipeline(Path(a.csv), outlets(a.outlets))
        return
    if a.phase == "store":
        store(Path(a.csv), a.outlets, a.db)
        return
    tmp = tempfile.TemporaryDirectory()
    csv = Path(a.csv) if a.csv else Path(tmp.name) / "monitoring.csv"
    if not csv.exists():
        q: multiprocessing.Queue = multiprocessing.Queue()
        t = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(
            target=_gen_child, args=(str(csv), a.outlets, a.hours, q))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generator failed (exit {child.exitcode})")
        rows = q.get(timeout=5)
        emit("generate (not part of the import)", rows, time.perf_counter() - t,
             csv_mb=round(csv.stat().st_size / 2**20, 1))
    # each phase in a fresh interpreter, so that its peak RSS is its own
    base = [sys.executable, __file__, "--csv", str(csv), "--outlets", str(a.outlets)]
    subprocess.run([*base, "--phase", "pipeline"], check=True)
    if not a.no_store:
        subprocess.run([*base, "--phase", "store", *(["--db", a.db] if a.db else [])],
                       check=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
