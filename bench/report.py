"""Run every benchmark under bench/ and write docs/benchmarks.md from that one run (issue 20).

    .venv/bin/python bench/report.py              # the quick sizes: under 15 minutes on 2 cores
    .venv/bin/python bench/report.py --full       # the goals' sizes (much longer)
    .venv/bin/python bench/report.py --only book,ledger --dry-run

Each benchmark runs as its own process (`python bench/bench_*.py ...`, as a person would run
it) and prints JSON lines; this script keeps every line (``--raw``, default
``var/benchmarks.json``), reads the figures from them (`figures`) and renders the page
(`render`). Both are pure: ``--render RAW`` writes the page again from a kept run without
running anything, and tests/unit/test_bench_report.py checks them on canned lines.

Per figure the page gives the goal, the measured value, the reference measured in the same run
where there is one (liquibook and the minimal pure-Python book for the order book, the plain
Python book for `erts replay`, the raw PostgreSQL commit rate for the ledger, HiGHS through
highspy on the whole model for the reserve LP, polars' plain read of the same CSV for the
monitoring import, pgbench for orders on PostgreSQL), the speed ratio to that reference, and
whether the goal is met. A goal stated for a size (1,000,000 entries in < 10 s) is judged only
when the run used that size (``--full``); the quick run says "not judged" there. The machine
(CPU model, cores, memory, load average at the start and the end of the run and of each
benchmark) and the date (Beijing time) head the page.

Three references are measured by this script itself, each in its own process
(``--probe NAME``): ``pg_commit`` (one-row INSERT and COMMIT in a loop, 1 and 8 clients: the
database's raw commit rate), ``pgbench`` (TPC-B-like, scale 10, 32 clients; `bench_api.py`
measures it too, beside its own figures) and ``polars_read`` (``polars.read_csv`` of
the CSV `bench_monitoring.py` generated).

A benchmark that needs PostgreSQL is skipped when ``--pg`` does not answer, one that needs wrk
when wrk is not installed; a benchmark that fails is reported as failed with its last error
line, and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEIJING = timezone(timedelta(hours=8))
PG_DEFAULT = os.environ.get("TEST_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
#: seconds one benchmark process may take before it is stopped
TIMEOUT_QUICK, TIMEOUT_FULL = 900, 7200


# ---------------------------------------------------------------------------- what runs


@dataclass(frozen=True)
class Bench:
    """One item of the run: a benchmark script (or a reference probe of this script).

    `quick` and `full` are the argument lists of each process it starts (after
    ``python``); ``{pg}`` and ``{tmp}`` are replaced by the PostgreSQL URL and the run's
    temporary folder. `references`: the probes whose figures its rows compare with (run
    with it)."""

    name: str
    about: str
    quick: tuple[tuple[str, ...], ...]
    full: tuple[tuple[str, ...], ...]
    needs: frozenset[str] = frozenset()
    references: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    probe: bool = False


def _b(script: str, *args: str) -> tuple[str, ...]:
    return (f"bench/{script}", *args)


def _probe(name: str, *args: str) -> tuple[str, ...]:
    return ("bench/report.py", "--probe", name, *args)


PG = frozenset({"pg"})
BENCHES: tuple[Bench, ...] = (
    Bench("book", "order book: the service's engine, liquibook and a minimal book",
          quick=(_b("bench_book.py", "--events", "300000", "--repeat", "2", "--clock", "cpu"),),
          full=(_b("bench_book.py", "--events", "1000000", "--repeat", "3", "--clock", "cpu"),)),
    Bench("replay", "`erts replay` against a plain Python book with the same I/O",
          quick=(_b("bench_replay.py", "--events", "300000", "--repeat", "2", "--clock",
                    "cpu"),),
          full=(_b("bench_replay.py", "--events", "1000000", "--repeat", "3", "--clock",
                   "cpu"),)),
    Bench("auction", "auction clearing",
          quick=(_b("bench_auction.py", "--bids", "100000", "--reps", "5"),),
          full=(_b("bench_auction.py", "--bids", "100000", "--reps", "15"),)),
    Bench("quantities", "permitted quantities, vectorised",
          quick=(_b("bench_quantities.py", "1000000"),),
          full=(_b("bench_quantities.py", "1000000"),)),
    Bench("reserve", "reserve release LP against HiGHS on the whole model",
          quick=(_b("bench_reserve.py", "--n", "100000", "--engines", "auto", "highs"),),
          full=(_b("bench_reserve.py", "--n", "100000", "--engines", "auto", "highs",
                   "pulp_highs"),
                _b("bench_reserve.py", "--n", "1000000", "--engines", "auto"))),
    Bench("sweep", "scenario sweep on 1 and 2 Dask workers",
          quick=(_b("bench_sweep.py", "--scenarios", "200", "--facilities", "10000",
                    "--workers", "1", "2"),),
          full=(_b("bench_sweep.py", "--scenarios", "1000", "--facilities", "10000",
                   "--workers", "1", "2"),)),
    Bench("simulation", "agent-based market simulation: one year, and seeds on Dask",
          quick=(_b("bench_simulation.py", "--facilities", "1000", "--days", "250", "--seeds",
                    "10", "--sweep-days", "50", "--workers", "1", "2"),),
          full=(_b("bench_simulation.py", "--facilities", "1000", "--days", "250", "--seeds",
                   "100", "--sweep-days", "250", "--workers", "1", "2"),)),
    Bench("xlsx", ".xlsx reading: the streaming reader against openpyxl (bounded)",
          quick=(_b("bench_xlsx.py", "--rows", "1000", "--repeat", "3"),),
          full=(_b("bench_xlsx.py", "--rows", "1000", "--repeat", "5"),)),
    Bench("monitoring", "monitoring import of hourly data",
          quick=(_b("bench_monitoring.py", "--outlets", "150", "--csv",
                    "{tmp}/monitoring.csv"),),
          full=(_b("bench_monitoring.py", "--outlets", "1000", "--csv",
                   "{tmp}/monitoring.csv"),),
          references=("polars_read",)),
    Bench("polars_read", "reference: polars.read_csv of the monitoring CSV",
          quick=(_probe("polars_read", "--csv", "{tmp}/monitoring.csv"),),
          full=(_probe("polars_read", "--csv", "{tmp}/monitoring.csv"),), probe=True),
    Bench("pg_commit", "reference: PostgreSQL's raw commit rate (1 and 8 clients)",
          quick=(_probe("pg_commit", "--pg", "{pg}", "--seconds", "3"),),
          full=(_probe("pg_commit", "--pg", "{pg}", "--seconds", "5"),), needs=PG,
          probe=True),
    Bench("ledger", "ledger writes on PostgreSQL and SQLite",
          quick=(_b("bench_ledger.py", "--db", "both", "--seconds", "2", "--repeat", "1",
                    "--figures", "single,batch", "--pg-url", "{pg}"),),
          full=(_b("bench_ledger.py", "--db", "both", "--seconds", "4", "--repeat", "3",
                   "--pg-url", "{pg}"),),
          needs=PG, references=("pg_commit",)),
    Bench("verify", "`erts ledger verify` on a large journal",
          quick=(_b("bench_verify.py", "--db", "both", "--entries", "200000", "--repeat", "1",
                    "--pg-url", "{pg}"),),
          full=(_b("bench_verify.py", "--db", "both", "--entries", "1000000", "--repeat",
                   "3", "--pg-url", "{pg}"),), needs=PG),
    Bench("transparency", "the ledger's transparency log: append cost, proofs, checkpoints",
          quick=(_b("bench_transparency.py", "--leaves", "200000", "--samples", "500",
                    "--entries", "100000", "--seconds", "2", "--append-repeat", "2",
                    "--repeat", "1", "--pg-url", "{pg}"),),
          full=(_b("bench_transparency.py", "--pg-url", "{pg}"),), needs=PG),
    Bench("permit_import", "permit file import on PostgreSQL",
          quick=(_b("bench_permit_import.py", "--rows", "20000", "--pg", "{pg}"),),
          full=(_b("bench_permit_import.py", "--rows", "100000", "--pg", "{pg}"),), needs=PG),
    Bench("pgbench", "reference: pgbench TPC-B-like, scale 10, 32 clients",
          quick=(_probe("pgbench", "--pg", "{pg}", "--seconds", "10"),),
          full=(_probe("pgbench", "--pg", "{pg}", "--seconds", "15"),), needs=PG, probe=True),
    Bench("service", "orders through the trading service in process (group commit)",
          quick=(_b("bench_service.py", "--pg", "{pg}", "--orders", "4000", "--threads", "32",
                    "--pipeline"),),
          full=(_b("bench_service.py", "--pg", "{pg}", "--orders", "10000", "--threads",
                   "32", "--pipeline"),
                _b("bench_service.py", "--pg", "{pg}", "--orders", "10000", "--threads",
                   "32", "--pipeline", "--markets", "4", "--traders", "40")),
          needs=PG, references=("pgbench",)),
    Bench("api", "orders over HTTP: `erts serve` on PostgreSQL driven by wrk",
          quick=(_b("bench_api.py", "--pg", "{pg}", "--scenarios", "1x1,4x2",
                    "--step-seconds", "5", "--max-steps", "2"),),
          full=(_b("bench_api.py", "--pg", "{pg}", "--scenarios", "1x1,1x2,4x2"),),
          needs=frozenset({"pg", "wrk"})),
    Bench("pages", "page p95 with the demo municipality loaded",
          quick=(_b("bench_pages.py", "--enterprises", "2000", "--seconds", "5", "--warmup",
                    "2"),),
          full=(_b("bench_pages.py", "--enterprises", "10000"),), needs=frozenset({"wrk"})),
    Bench("demo", "`erts demo` into a fresh SQLite database",
          quick=(("-m", "app.cli", "demo", "--enterprises", "1200"),),
          full=(("-m", "app.cli", "demo", "--enterprises", "1200"),),
          env=(("DATABASE_URL", "sqlite:///{tmp}/demo.sqlite3"),)),
)
BY_NAME = {b.name: b for b in BENCHES}


def select(only: Iterable[str] | None) -> list[Bench]:
    """The items to run, in `BENCHES` order: `only` (all when None) plus the reference
    probes they need. Unknown names raise ValueError."""
    if only is None:
        wanted = {b.name for b in BENCHES}
    else:
        wanted = set(only)
        unknown = sorted(wanted - set(BY_NAME))
        if unknown:
            raise ValueError(f"unknown benchmark {', '.join(unknown)} (known: "
                             f"{', '.join(BY_NAME)})")
    for n in list(wanted):
        wanted |= set(BY_NAME[n].references)
    return [b for b in BENCHES if b.name in wanted]


def commands(bench: Bench, *, full: bool, pg: str, tmp: str) -> list[list[str]]:
    return [[a.replace("{pg}", pg).replace("{tmp}", tmp) for a in argv]
            for argv in (bench.full if full else bench.quick)]


def shown(bench: Bench, *, full: bool) -> list[str]:
    """Its commands as a person would type them (``$PG``, ``$TMP`` for the run's values)."""
    env = "".join(f"{k}={v.replace('{tmp}', '$TMP').replace('{pg}', '$PG')} "
                  for k, v in bench.env)
    return [env + " ".join([".venv/bin/python", *c])
            for c in commands(bench, full=full, pg="$PG", tmp="$TMP")]


# ---------------------------------------------------------------------------- running


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among a process's output lines (other lines ignored)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def _beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pg_answers(url: str) -> str | None:
    """None when PostgreSQL answers at `url`, else why not."""
    try:
        import psycopg

        with psycopg.connect(_plain(url), connect_timeout=5) as c:
            c.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: skip what needs it
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def run_bench(bench: Bench, *, full: bool, pg: str, tmp: str, timeout: float,
              skip: str | None = None) -> dict[str, Any]:
    """Run one item's processes in turn and keep what they printed."""
    record: dict[str, Any] = {
        "name": bench.name, "about": bench.about, "probe": bench.probe,
        "commands": shown(bench, full=full),
        "started": _beijing(datetime.now(UTC)), "load_start": _load(), "lines": [],
        "seconds": 0.0, "error": None, "skipped": skip}
    if skip is not None:
        record["load_end"] = record["load_start"]
        return record
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.update({k: v.replace("{tmp}", tmp).replace("{pg}", pg) for k, v in bench.env})
    t0 = time.perf_counter()
    for argv in commands(bench, full=full, pg=pg, tmp=tmp):
        try:
            done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, text=True,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            record["lines"] += json_lines(out)
            record["error"] = f"stopped after {timeout:.0f} s"
            break
        record["lines"] += json_lines(done.stdout)
        if done.returncode != 0:
            last = [x for x in (done.stderr or done.stdout).splitlines() if x.strip()]
            record["error"] = f"exit {done.returncode}: " + (last[-1][:300] if last else "")
            break
    record["seconds"] = round(time.perf_counter() - t0, 1)
    record["load_end"] = _load()
    return record


def machine(pg: str | None) -> dict[str, Any]:
    """The machine the run is on: CPU model, cores, memory, system, Python, PostgreSQL."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        kb = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        memory = round(int(kb.group(1)) / 1024**2, 1) if kb else None
    except OSError:
        pass
    system = platform.platform(terse=True)
    try:
        pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(),
                           re.M)
        system = pretty.group(1) if pretty else system
    except OSError:
        pass
    postgresql = None
    if pg is not None:
        try:
            import psycopg

            with psycopg.connect(_plain(pg), connect_timeout=5) as c:
                row = c.execute("SHOW server_version").fetchone()
                postgresql = str(row[0]) if row else None
        except Exception:  # noqa: BLE001 - the version is only shown
            postgresql = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory, "system": system,
            "python": platform.python_version(), "postgresql": postgresql}


def run_all(items: Sequence[Bench], *, full: bool, pg: str, timeout: float,
            log: Callable[[str], None]) -> dict[str, Any]:
    started = datetime.now(UTC)
    pg_down = pg_answers(pg) if any("pg" in b.needs for b in items) else None
    has_wrk = shutil.which("wrk") is not None
    report: dict[str, Any] = {
        "full": full, "started": _beijing(started), "load_start": _load(),
        "machine": machine(None if pg_down else pg), "runs": []}
    with tempfile.TemporaryDirectory(prefix="erts-bench-report-") as tmp:
        for i, b in enumerate(items, start=1):
            skip = None
            if "pg" in b.needs and pg_down:
                skip = f"PostgreSQL does not answer at --pg ({pg_down})"
            elif "wrk" in b.needs and not has_wrk:
                skip = "wrk is not installed (apt-get install wrk)"
            log(f"[{i}/{len(items)}] {b.name}: {'skipped: ' + skip if skip else 'running'}")
            rec = run_bench(b, full=full, pg=pg, tmp=tmp, timeout=timeout, skip=skip)
            if skip is None:
                log(f"[{i}/{len(items)}] {b.name}: {rec['seconds']} s"
                    + (f", FAILED: {rec['error']}" if rec["error"] else ""))
            report["runs"].append(rec)
    report["finished"] = _beijing(datetime.now(UTC))
    report["load_end"] = _load()
    report["minutes"] = round((datetime.now(UTC) - started).total_seconds() / 60, 1)
    return report


# ---------------------------------------------------------------------------- the probes


def probe_pg_commit(pg: str, seconds: float) -> None:
    """One-row INSERT and COMMIT in a loop on a temporary table, 1 then 8 clients (each
    its own connection): PostgreSQL's raw commit rate on this machine."""
    import psycopg

    def client(k: int, stop: float, counts: list[int]) -> None:
        with psycopg.connect(_plain(pg)) as c:
            c.execute("CREATE TEMP TABLE bench_commit (id bigint, v int)")
            c.commit()
            n = 0
            while time.perf_counter() < stop:
                c.execute("INSERT INTO bench_commit VALUES (%s, %s)", (n, k))
                c.commit()
                n += 1
            counts[k] = n

    for clients in (1, 8):
        counts = [0] * clients
        stop = time.perf_counter() + seconds
        threads = [threading.Thread(target=client, args=(k, stop, counts))
                   for k in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
        print(json.dumps({"bench": "pg_commit", "clients": clients, "commits": sum(counts),
                          "seconds": round(took, 2),
                          "commits_per_s": round(sum(counts) / took, 1)}), flush=True)


def probe_pgbench(pg: str, seconds: int, clients: int = 32) -> None:
    """pgbench's TPC-B-like rate, scale 10, on a fresh database (dropped after)."""
    import uuid

    import psycopg

    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed (apt-get install postgresql-client)")
    name = f"erts_bench_pgb_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(_plain(pg), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        info = admin.info
        conn = ["-h", info.host or "127.0.0.1", "-p", str(info.port or 5432), "-U",
                info.user or "postgres"]
        env = dict(os.environ, PGPASSWORD=info.password or "")
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", *conn, name], check=True,
                       capture_output=True, env=env)
        out = subprocess.run(["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds),
                              *conn, name], check=True, capture_output=True, text=True,
                             env=env).stdout
        tps = re.search(r"tps = ([\d.]+) \(without initial", out)
        lat = re.search(r"latency average = ([\d.]+) ms", out)
        print(json.dumps({"bench": "pgbench", "scale": 10, "clients": clients,
                          "tps": float(tps.group(1)) if tps else None,
                          "latency_avg_ms": float(lat.group(1)) if lat else None}), flush=True)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def probe_polars_read(csv: str) -> None:
    """polars.read_csv of the file, best of two: the plain read the import is compared to."""
    import resource

    import polars as pl

    best, rows = float("inf"), 0
    for _ in range(2):
        t0 = time.perf_counter()
        frame = pl.read_csv(csv)
        best = min(best, time.perf_counter() - t0)
        rows = frame.height
        del frame
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bench": "polars_read", "rows": rows, "seconds": round(best, 3),
                      "rows_per_s": round(rows / best) if best else None,
                      "peak_rss_mb": round(peak, 1)}), flush=True)


# ---------------------------------------------------------------------------- the figures


@dataclass
class Figure:
    figure: str
    bench: str
    goal: str = "—"
    measured: str = "—"
    reference: str = "—"
    ratio: str = "—"
    verdict: str = "—"


def fmt_int(x: float) -> str:
    return f"{round(x):,}"


def fmt_rate(x: float | None, unit: str) -> str:
    """2,170,000 → "2.17 M events/s"; 1304.6 → "1,305 orders/s"."""
    if x is None:
        return "—"
    if x >= 1_000_000:
        return f"{x / 1e6:.2f} M {unit}/s"
    return f"{fmt_int(x)} {unit}/s"


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.1f} s" if x >= 10 else f"{x:.2f} s"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def judge(ok: bool | None, *, size: float | None = None, goal_size: float | None = None,
          unit: str = "") -> str:
    """"met" / "not met"; "not judged" when the run's size is not the goal's."""
    if ok is None:
        return "—"
    if goal_size is not None and size is not None and size != goal_size:
        return (f"not judged: run at {fmt_int(size)} {unit}, the goal is for "
                f"{fmt_int(goal_size)} (`--full`)").replace("  ", " ")
    return "**met**" if ok else "**not met**"


class Lines:
    """The JSON lines of a run, by benchmark item, with lookups."""

    def __init__(self, report: Mapping[str, Any]) -> None:
        self.by_run = {r["name"]: list(r.get("lines") or []) for r in report.get("runs", [])}

    def of(self, run: str, **match: object) -> list[dict[str, Any]]:
        return [x for x in self.by_run.get(run, [])
                if all(x.get(k) == v for k, v in match.items())]

    def one(self, run: str, **match: object) -> dict[str, Any] | None:
        found = self.of(run, **match)
        return found[-1] if found else None

    def anywhere(self, **match: object) -> dict[str, Any] | None:
        """The last line matching, from any run (a reference another item measured)."""
        found = [x for lines in self.by_run.values() for x in lines
                 if all(x.get(k) == v for k, v in match.items())]
        return found[-1] if found else None


def _book(L: Lines) -> list[Figure]:
    fast = L.one("book", impl="trading.book.OrderBook.submit_fast[service]")
    if fast is None:
        return []
    events = int(fast["events"])
    out = []
    summary: dict[str, Any] = {}
    for line in L.of("book"):
        summary = line.get("summary") or summary
    agrees = summary.get("depth_agrees") or {}
    note = "" if all(agrees.values()) else "; end depths differ: " + ", ".join(
        k for k, v in agrees.items() if not v)
    rate = float(fast["events_per_s"])
    for ref_impl, label, goal in (("liquibook_swig", "liquibook (C++ via SWIG)", 2.0),
                                  ("minimal_pure_python", "the minimal pure-Python book", None),
                                  ("liquibook_swig[no_callbacks]",
                                   "liquibook without callbacks", None)):
        ref = L.one("book", impl=ref_impl)
        if ref is None or "events_per_s" not in ref:
            continue
        ratio = rate / float(ref["events_per_s"])
        out.append(Figure(
            f"order book, {fmt_int(events)} events (70 % limit, 30 % cancel), "
            f"{fast.get('clock', 'wall')} time, {fast.get('engine', '')} engine"
            + ("" if goal else f": against {label}"),
            "book", goal=f"≥ {goal:g}× liquibook" if goal else "—",
            measured=fmt_rate(rate, "events") + note,
            reference=f"{label} {fmt_rate(float(ref['events_per_s']), 'events')}",
            ratio=fmt_ratio(ratio),
            verdict=judge(ratio >= goal) if goal else "—"))
    for impl, label in (("trading.book.OrderBook.submit_fast[service,interpreted]",
                         "interpreted (no C compiler)"),
                        ("trading.book.OrderBook.submit_fast[service,lot+band]",
                         "a market's book (lot and band)"),
                        ("trading.book.OrderBook.submit_fast[unique_ids]",
                         "`erts replay`'s book (unique ids)")):
        variant = L.one("book", impl=impl)
        liquibook = L.one("book", impl="liquibook_swig")
        if variant is None or "events_per_s" not in variant:
            continue
        r = float(variant["events_per_s"])
        lb = float(liquibook["events_per_s"]) if liquibook and "events_per_s" in liquibook \
            else None
        out.append(Figure(f"order book, the engine {label}", "book",
                          measured=fmt_rate(r, "events"),
                          reference=f"liquibook {fmt_rate(lb, 'events')}" if lb else "—",
                          ratio=fmt_ratio(r / lb) if lb else "—"))
    return out


def _replay(L: Lines) -> list[Figure]:
    cli = L.one("replay", impl="erts replay[msgspec]")
    plain = L.one("replay", impl="plain_book[json]")
    if cli is None:
        return []
    summary: dict[str, Any] = {}
    for line in L.of("replay"):
        summary = line.get("summary") or summary
    same = "" if summary.get("outputs_identical", True) else "; OUTPUTS DIFFER"
    r = float(cli["lines_per_s"])
    ratio = r / float(plain["lines_per_s"]) if plain else None
    return [Figure(f"`erts replay`, {fmt_int(cli['lines'])} order lines (JSON Lines in, fills "
                   "out)", "replay", goal="≥ 1.5× a plain Python book with the same I/O",
                   measured=fmt_rate(r, "lines") + same,
                   reference=(f"plain Python book reading with `json` "
                              f"{fmt_rate(float(plain['lines_per_s']), 'lines')}"
                              if plain else "—"),
                   ratio=fmt_ratio(ratio),
                   verdict=judge(None if ratio is None else ratio >= 1.5))]


def _auction(L: Lines) -> list[Figure]:
    a = L.one("auction", bench="auction_clear")
    if a is None:
        return []
    p99 = float(a["p99_ms"]) / 1000
    return [Figure(f"auction clearing, {fmt_int(a['bids'])} bids (uniform price)", "auction",
                   goal="< 1 s for 100,000 bids",
                   measured=f"p50 {fmt_s(float(a['p50_ms']) / 1000)}, p99 {fmt_s(p99)} "
                            f"({a['reps']} runs)",
                   verdict=judge(p99 < 1, size=a["bids"], goal_size=100_000, unit="bids"))]


def _quantities(L: Lines) -> list[Figure]:
    out = []
    for q in L.of("quantities", bench="permit_caps"):
        s = float(q["seconds"])
        out.append(Figure(f"permitted quantities, {fmt_int(q['n'])} facilities × "
                          f"{q.get('pollutants', 3)} pollutants", "quantities",
                          goal="< 1 s for 1,000,000 facilities", measured=fmt_s(s),
                          verdict=judge(s < 1, size=q["n"], goal_size=1_000_000,
                                        unit="facilities")))
    return out


def _reserve(L: Lines) -> list[Figure]:
    out = []
    goals = {100_000: 2.0, 1_000_000: 20.0}
    for n in sorted({int(x["n"]) for x in L.of("reserve", bench="reserve_release")}):
        auto = L.one("reserve", bench="reserve_release", n=n, engine="auto")
        highs = L.one("reserve", bench="reserve_release", n=n, engine="highs")
        if auto is None:
            continue
        s = float(auto["seconds"])
        ok = auto.get("status") == "optimal" and bool(auto.get("check_ok"))
        goal = goals.get(n)
        checked = "" if ok else f" (status {auto.get('status')}, check {auto.get('check_ok')})"
        out.append(Figure(
            f"reserve LP, {fmt_int(n)} applicants × 4 pollutants × 40 zones, 8 receptors "
            "(build, solve, round, integer re-check)", "reserve",
            goal=f"< {goal:g} s" if goal else "—", measured=fmt_s(s) + checked,
            reference=f"HiGHS (highspy) on the whole model {fmt_s(float(highs['seconds']))}"
                      if highs else "—",
            ratio=fmt_ratio(float(highs["seconds"]) / s) if highs and s else "—",
            verdict=judge((s < goal and ok) if goal else None)))
        pulp = L.one("reserve", bench="reserve_release", n=n, engine="pulp_highs")
        if pulp is not None:
            out.append(Figure(f"reserve LP, {fmt_int(n)} applicants: idiomatic PuLP + HiGHS",
                              "reserve", measured=fmt_s(float(pulp["seconds"])),
                              reference=f"the platform's `auto` {fmt_s(s)}",
                              ratio=fmt_ratio(s / float(pulp["seconds"]))))
    return out


def _sweep(L: Lines) -> list[Figure]:
    out = []
    one = L.one("sweep", bench="sweep", where="dask LocalCluster", workers=1)
    for line in L.of("sweep", bench="sweep"):
        s = float(line["seconds"])
        n = int(line["scenarios"])
        where = "in process" if line["where"] == "local" else f"{line['workers']} Dask worker" \
            + ("s" if line["workers"] != 1 else "")
        first = line.get("where") != "local" and line["workers"] == 1
        base = float(one["seconds"]) if (one is not None and line is not one
                                          and line["where"] != "local") else None
        out.append(Figure(
            f"sweep, {fmt_int(n)} scenarios × {fmt_int(line['facilities'])} facilities, "
            f"{where}", "sweep",
            goal="< 60 s for 1,000 scenarios; report the scaling" if first else "—",
            measured=fmt_s(s) + ("" if line.get("all_plans_check", True)
                                 else "; a reserve plan failed its check"),
            reference=f"1 Dask worker {fmt_s(base)}" if base else "—",
            ratio=fmt_ratio(base / s) if base and s else "—",
            verdict=judge(s < 60, size=n, goal_size=1000, unit="scenarios") if first else "—"))
    return out


def _simulation(L: Lines) -> list[Figure]:
    out = []
    year = L.one("simulation", bench="simulation_year")
    if year is not None:
        s = float(year["seconds"])
        f, days = int(year["facilities"]), int(year["days"])
        at_goal = (f, days) == (1000, 250)
        out.append(Figure(
            f"market simulation, {days} trading days, {fmt_int(f)} facilities "
            f"({fmt_int(year['agents'])} agents), one core", "simulation",
            goal="< 10 s for 1,000 facilities and 250 days",
            measured=f"{fmt_s(s)} ({fmt_rate(float(year['orders_per_s']), 'orders')}); the "
                     f"least-cost LP after it {fmt_s(float(year['lp_seconds']))}",
            verdict=judge(s < 10) if at_goal else
            f"not judged: run at {fmt_int(f)} facilities and {days} days, the goal is for "
            "1,000 and 250"))
    one = L.one("simulation", bench="simulation_sweep", workers=1)
    for line in L.of("simulation", bench="simulation_sweep"):
        s = float(line["seconds"])
        w = int(line["workers"])
        base = float(one["seconds"]) if one is not None and w != 1 else None
        out.append(Figure(
            f"market simulation, {fmt_int(line['seeds'])} seeds × {line['days']} days, {w} "
            f"Dask worker{'s' if w != 1 else ''}", "simulation", measured=fmt_s(s),
            reference=f"1 Dask worker {fmt_s(base)}" if base else "—",
            ratio=fmt_ratio(base / s) if base and s else "—"))
    for line in L.of("simulation", bench="simulation_sweep_scenarios"):
        secs = {int(w): float(v) for w, v in line["seconds"].items()}
        most = max(secs)
        out.append(Figure(
            f"market simulation, {fmt_int(line['scenarios'])} scenarios × "
            f"{fmt_int(line['seeds'])} seeds × {line['days']} days in one sweep, {most} Dask "
            f"worker{'s' if most != 1 else ''}", "simulation", measured=fmt_s(secs[most]),
            reference=f"1 Dask worker {fmt_s(secs[1])}" if 1 in secs and most != 1 else "—",
            ratio=fmt_ratio(secs[1] / secs[most]) if 1 in secs and most != 1 else "—"))
    gap = L.one("simulation", bench="simulation_gap")
    if gap is not None:
        def mean(v: Any) -> float:  # a figure, or its distribution over the seeds
            return float(v["mean"]) if isinstance(v, dict) else float(v)

        spread = gap["gap_pct"]
        shown = (f"{spread['mean']} % above (p5 {spread['p5']} %, p95 {spread['p95']} %)"
                 if isinstance(spread, dict) else f"{spread} % above")
        out.append(Figure(
            f"market simulation: abatement cost against the least cost, "
            f"{fmt_int(gap['seeds'])} seed{'s' if gap['seeds'] != 1 else ''}", "simulation",
            measured=f"{fmt_int(mean(gap['simulated_fen']) / 100)} yuan"
                     f"{' (mean)' if isinstance(gap['simulated_fen'], dict) else ''}, {shown}",
            reference=f"least-cost LP {fmt_int(mean(gap['least_cost_fen']) / 100)} yuan"))
    return out


def _xlsx(L: Lines) -> list[Figure]:
    out = []
    for case, ref_case, label in (("normal", "normal_openpyxl_bounded", "a report workbook"),
                                  ("bomb", "bomb_openpyxl_bounded",
                                   "a 'bomb' claiming 16,384 × 100,001 cells")):
        line = L.one("xlsx", bench="xlsx_read", case=case)
        ref = L.one("xlsx", bench="xlsx_read", case=ref_case)
        if line is None:
            continue
        s = float(line["seconds"])
        rows = f", {fmt_int(line['rows'])} rows" if line.get("rows") else ""
        out.append(Figure(f".xlsx upload read, {label} ({fmt_int(line['bytes'])} bytes{rows})",
                          "xlsx", measured=f"{fmt_s(s)} ({line.get('outcome')})",
                          reference=f"openpyxl read-only, bounded {fmt_s(float(ref['seconds']))}"
                                    if ref else "—",
                          ratio=fmt_ratio(float(ref["seconds"]) / s) if ref and s else "—"))
    far = L.one("xlsx", bench="xlsx_read", case="bomb_far_cell")
    if far is not None:
        out.append(Figure(".xlsx upload read, the bomb with a cell at XFD100001", "xlsx",
                          goal="refused", measured=f"{fmt_s(float(far['seconds']))} "
                                                    f"({far.get('outcome')})"))
    return out


def _monitoring(L: Lines) -> list[Figure]:
    pipe = L.one("monitoring", bench="monitoring", figure="pipeline")
    if pipe is None:
        return []
    rows = int(pipe["rows"])
    s = float(pipe["seconds"])
    peak = float(pipe["peak_rss_mb"])
    ref = L.anywhere(bench="polars_read")
    goal_rows = 1000 * 8760
    out = [Figure(f"monitoring import, {fmt_int(rows)} hourly rows (read, validate, HJ 75 "
                  "emissions, daily totals, screening)", "monitoring",
                  goal="< 60 s and peak < 1.5 GB for 8,760,000 rows",
                  measured=f"{fmt_s(s)}, peak {fmt_int(peak)} MB",
                  reference=(f"`polars.read_csv` of the same CSV {fmt_s(float(ref['seconds']))}, "
                             f"peak {fmt_int(float(ref['peak_rss_mb']))} MB") if ref else "—",
                  ratio=fmt_ratio(float(ref["seconds"]) / s) if ref and s else "—",
                  verdict=judge(s < 60 and peak < 1536, size=rows, goal_size=goal_rows,
                                unit="rows"))]
    store = L.one("monitoring", bench="monitoring", figure="store")
    if store is not None:
        out.append(Figure(f"monitoring import stored ({store.get('db', 'sqlite')}), the whole "
                          "use case in one transaction", "monitoring",
                          measured=f"{fmt_s(float(store['seconds']))}, peak "
                                   f"{fmt_int(float(store['peak_rss_mb']))} MB"))
    return out


def _pg_commit(L: Lines, clients: int) -> dict[str, Any] | None:
    return L.anywhere(bench="pg_commit", clients=clients)


def _ledger(L: Lines) -> list[Figure]:
    out = []
    for db in ("postgresql", "sqlite"):
        name = "PostgreSQL" if db == "postgresql" else "SQLite"
        for clients, strategy, goal in ((1, "locks", None), (8, "group_commit", 2000)):
            line = L.one("ledger", db=db, figure="single", clients=clients, strategy=strategy,
                         clients_as="threads")
            if line is None:
                continue
            r = float(line["transfers_per_s"])
            ref = _pg_commit(L, clients) if db == "postgresql" else None
            how = "group commit" if strategy == "group_commit" else "one commit each"
            out.append(Figure(
                f"ledger, {name}, single transfers, {clients} client"
                f"{'s' if clients > 1 else ''} ({how})", "ledger",
                goal=f"≥ {goal:,}/s" if goal and db == "postgresql" else "—",
                measured=f"{fmt_rate(r, 'transfers')}, p99 {line['p99_ms']} ms",
                reference=(f"raw PostgreSQL commits, {clients} client"
                           f"{'s' if clients > 1 else ''}: "
                           f"{fmt_rate(float(ref['commits_per_s']), 'commits')}") if ref else "—",
                ratio=fmt_ratio(r / float(ref["commits_per_s"])) if ref else "—",
                verdict=judge(r >= goal) if goal and db == "postgresql" else "—"))
        for size in (1000, 8000):
            line = L.one("ledger", db=db, figure="batch", batch_size=size)
            if line is None:
                continue
            r = float(line["transfers_per_s"])
            pg = db == "postgresql"
            out.append(Figure(f"ledger, {name}, linked batches of {size:,}", "ledger",
                              goal="≥ 10,000 transfers/s" if pg else "—",
                              measured=fmt_rate(r, "transfers"),
                              verdict=judge(r >= 10_000) if pg else "—"))
        after = L.one("ledger", db=db, figure="verify_after")
        if after is not None and not after.get("ok"):
            out.append(Figure(f"ledger, {name}: journal verified after the run", "ledger",
                              goal="verifies", measured="**does not verify**",
                              verdict="**not met**"))
    return out


def _verify(L: Lines) -> list[Figure]:
    out = []
    for line in L.of("verify", bench="verify"):
        s = float(line["verify_s"])
        name = "PostgreSQL" if line["db"] == "postgresql" else "SQLite"
        n = int(line["entries"])
        out.append(Figure(f"`erts ledger verify`, {fmt_int(n)} entries, {name}", "verify",
                          goal="< 10 s for 1,000,000 entries",
                          measured=f"{fmt_s(s)} ("
                                   f"{fmt_rate(float(line['entries_per_s']), 'entries')}, "
                                   f"CPU {fmt_s(float(line['verify_cpu_s']))})"
                                   + ("" if line.get("ok") else "; DOES NOT VERIFY"),
                          verdict=judge(s < 10 and bool(line.get("ok")), size=n,
                                        goal_size=1_000_000, unit="entries")))
    return out


def _transparency(L: Lines) -> list[Figure]:
    out = []
    for line in L.of("transparency", figure="append"):
        on, off = float(line["tree_on_per_s"]), float(line["tree_off_per_s"])
        drop = line.get("drop_pct")
        out.append(Figure(f"ledger writes with the transparency log kept: {line['case']}",
                          "transparency", goal="at most 10 % slower than without it",
                          measured=f"{fmt_rate(on, 'transfers')} ({drop} % slower, the "
                                   "median of paired runs)",
                          reference=f"the same without the log {fmt_rate(off, 'transfers')}",
                          ratio=fmt_ratio(on / off) if off else "—",
                          verdict=judge(None if drop is None else float(drop) <= 10)))
    for line in L.of("transparency", figure="proofs"):
        n = int(line["leaves"])
        inc, con = float(line["inclusion_p99_ms"]), float(line["consistency_p99_ms"])
        out.append(Figure(f"transparency log proofs at {fmt_int(n)} leaves", "transparency",
                          goal="p99 inclusion < 5 ms, consistency < 10 ms at 10,000,000",
                          measured=f"inclusion p99 {inc:g} ms, consistency p99 {con:g} ms",
                          verdict=judge(inc < 5 and con < 10, size=n, goal_size=10_000_000,
                                        unit="leaves")))
    for line in L.of("transparency", figure="verify_checkpoints"):
        n = int(line["entries"])
        s = float(line["command_s"])
        out.append(Figure(f"`erts ledger verify --checkpoints`, {fmt_int(n)} entries",
                          "transparency", goal="< 15 s for 1,000,000 entries",
                          measured=f"{fmt_s(s)} (the command, start-up included)",
                          verdict=judge(s < 15, size=n, goal_size=1_000_000, unit="entries")))
    return out


def _permit_import(L: Lines) -> list[Figure]:
    out = []
    for run, label in (("permit_import", "import"), ("permit_reimport", "the same file again")):
        line = L.one("permit_import", bench=run)
        if line is None:
            continue
        s = float(line["seconds"])
        rows = int(line["rows"])
        first = run == "permit_import"
        out.append(Figure(f"permit file, {fmt_int(rows)} rows, {line['db']}: {label}",
                          "permit_import",
                          goal="< 30 s for 100,000 rows on PostgreSQL" if first else "—",
                          measured=f"{fmt_s(s)} ({fmt_rate(float(line['rows_per_s']), 'rows')})",
                          verdict=judge(s < 30, size=rows, goal_size=100_000, unit="rows")
                          if first and line["db"] == "postgresql" else "—"))
    return out


def _pgbench_ref(L: Lines, run: str) -> tuple[str, float | None]:
    """pgbench as `run` measured it, else as any item of the run did."""
    ref = L.one(run, bench="pgbench") or L.anywhere(bench="pgbench")
    if ref is None or ref.get("tps") is None:
        return "—", None
    tps = float(ref["tps"])
    return (f"pgbench TPC-B-like, scale {ref.get('scale', 10)}, {ref.get('clients')} clients: "
            f"{fmt_int(tps)} tps"), tps


def _service(L: Lines) -> list[Figure]:
    out = []
    ref, tps = _pgbench_ref(L, "pgbench")
    for line in L.of("service", bench="service"):
        r = float(line["orders_per_s"])
        p99 = float(line["p99_ms"])
        markets = int(line.get("markets", 1))
        pg = line.get("db") == "postgresql"
        goal = pg and markets == 1 or pg and markets == 4
        out.append(Figure(
            f"orders in process ({line.get('path')}), {line.get('db')}, {markets} market"
            f"{'s' if markets > 1 else ''}, {line.get('threads')} clients", "service",
            goal="≥ 1,000 orders/s, p99 < 50 ms" if goal else "—",
            measured=f"{fmt_rate(r, 'orders')}, p99 {p99:g} ms, "
                     f"{line.get('cpu_ms_per_order', '—')} ms CPU per order",
            reference=ref if pg else "—",
            ratio=fmt_ratio(r / tps) if tps and pg else "—",
            verdict=judge(r >= 1000 and p99 < 50) if goal else "—"))
    return out


def _api(L: Lines) -> list[Figure]:
    out = []
    ref, tps = _pgbench_ref(L, "api")
    inproc = L.one("api", bench="service")
    for line in L.of("api", bench="api"):
        m, w = int(line["markets"]), int(line["workers"])
        r = float(line["orders_per_s"] or 0)
        p99 = float(line["p99_ms_worst_step"])
        cpu = float(line["cpu_ms_per_order"])
        target = 2000 if m > 1 else 1500
        extra = []
        if line.get("postgres_cpu_ms_per_order") is not None:
            extra.append(f"PostgreSQL {float(line['postgres_cpu_ms_per_order']):g} ms CPU per "
                         f"order, the machine {100 * float(line['machine_busy']):.0f} % busy")
        if line.get("healthz_per_s"):
            extra.append(f"`/healthz` {fmt_int(float(line['healthz_per_s']))}/s")
        if inproc is not None:
            extra.append(f"in process {fmt_int(float(inproc['orders_per_s']))} orders/s")
        out.append(Figure(
            f"orders over HTTP, `erts serve --workers {w}`, {m} market{'s' if m > 1 else ''}, "
            f"{line.get('connections')} connections"
            + ("" if line.get("lane", True) else ", order lane off"), "api",
            goal=f"≥ {target:,} orders/s, p99 < 50 ms" + (", ≤ 1 ms CPU per order"
                                                         if m == 1 else ""),
            measured=(f"{fmt_rate(r, 'orders')} (up to {fmt_int(int(line['resting']))} "
                      f"resting), p99 {p99:g} ms (worst step), {cpu:g} ms CPU per order"
                      + (f"; {', '.join(extra)}" if extra else "")),
            reference=ref, ratio=fmt_ratio(r / tps) if tps else "—",
            verdict=judge(r >= target and p99 < 50 and (cpu <= 1 or m > 1))))
    return out


def _pages(L: Lines) -> list[Figure]:
    out = []
    for line in L.of("pages", bench="page_p95"):
        p95 = float(line["p95_ms"])
        n = int(line["enterprises"])
        out.append(Figure(
            f"page `{line['page']}`, {fmt_int(n)} enterprises, `erts serve --workers "
            f"{line['workers']}`, {line['connections']} connections", "pages",
            goal="p95 < 100 ms with 10,000 enterprises",
            measured=f"p95 {p95:g} ms, p50 {line['p50_ms']} ms, "
                     f"{fmt_rate(float(line['rps']), 'requests')}"
                     + (f", {line['non_2xx_or_errors']} errors"
                        if line.get("non_2xx_or_errors") else ""),
            verdict=judge(p95 < 100 and not line.get("non_2xx_or_errors"), size=n,
                          goal_size=10_000, unit="enterprises")))
    summary = L.one("pages", bench="page_p95_summary")
    if summary is not None and not summary.get("demo_already_loaded"):
        out.append(Figure(f"demo load, {fmt_int(summary['enterprises'])} enterprises, SQLite "
                          "(for the pages)", "pages",
                          measured=fmt_s(float(summary["demo_load_seconds"]))))
    return out


def _demo(L: Lines) -> list[Figure]:
    line = L.one("demo")
    if line is None or "seconds" not in line:
        return []
    return [Figure(f"`erts demo`, {fmt_int(line['enterprises'])} enterprises, SQLite", "demo",
                   measured=fmt_s(float(line["seconds"])))]


EXTRACTORS: tuple[Callable[[Lines], list[Figure]], ...] = (
    _book, _replay, _auction, _quantities, _reserve, _sweep, _simulation, _xlsx, _monitoring,
    _ledger, _verify, _transparency, _permit_import, _service, _api, _pages, _demo)


def figures(report: Mapping[str, Any]) -> list[Figure]:
    """Every figure of a run, in the page's order. Pure: reads only `report`."""
    lines = Lines(report)
    out: list[Figure] = []
    for extract in EXTRACTORS:
        out += extract(lines)
    return out


# ---------------------------------------------------------------------------- the page


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Mapping[str, Any]) -> str:
    """docs/benchmarks.md from a run (what `run_all` returns). Pure."""
    m = report.get("machine") or {}
    runs = report.get("runs") or []
    size = "the goals' sizes (`--full`)" if report.get("full") else "the quick sizes"
    load = (f"load average (1, 5, 15 min) {', '.join(map(str, report.get('load_start', [])))} "
            f"at the start, {', '.join(map(str, report.get('load_end', [])))} at the end")
    out = [
        "# Benchmarks",
        "",
        "Generated by `bench/report.py` from one run; do not edit by hand (run "
        "`.venv/bin/python bench/report.py` for the quick sizes, `--full` for the goals' "
        "sizes, `--only NAME` for some). Each benchmark under `bench/` can also be run "
        "alone; the commands are listed under the table. Benchmarks are never timed "
        "assertions in tests.",
        "",
        f"**Run**: {report.get('started', '?')} to {report.get('finished', '?')} Beijing time "
        f"(UTC+8), {report.get('minutes', '?')} minutes, {size}.",
        "",
        f"**Machine**: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('memory_gib', '?')} GiB, {m.get('system', '?')}, Python "
        f"{m.get('python', '?')}, PostgreSQL {m.get('postgresql') or '—'} (local); {load}. "
        "The machine may be shared: each benchmark's own load average is in the list below, "
        "and a reference is measured in the same run so that a figure can be read against "
        "it.",
        "",
        "**Ratio**: how many times as fast as the reference beside it (rate ÷ the reference's "
        "rate, or the reference's time ÷ the time). A goal set for a size is judged only "
        "when the run used that size.",
        "",
        "| figure | goal | measured | reference (same run) | ratio | goal met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures(report):
        out.append("| " + " | ".join(_cell(x) for x in (
            f.figure, f.goal, f.measured, f.reference, f.ratio, f.verdict)) + " |")
    failed = [r for r in runs if r.get("error") or r.get("skipped")]
    if failed:
        out += ["", "## Not measured in this run", ""]
        for r in failed:
            why = f"skipped: {r['skipped']}" if r.get("skipped") else f"failed: {r['error']}"
            out.append(f"- `{r['name']}` ({r.get('about', '')}): {why}")
    out += ["", "## What ran", "",
            "Each line: the item, its commands (`$PG` the PostgreSQL URL given with `--pg`, "
            "`$TMP` the run's temporary folder), its time and the load average (1 min) at its "
            "start and end.", ""]
    for r in runs:
        if r.get("skipped"):
            continue
        ls, le = r.get("load_start") or ["?"], r.get("load_end") or ["?"]
        cmds = "; ".join(f"`{c}`" for c in r.get("commands", []))
        out.append(f"- **{r['name']}** ({r.get('about', '')}), {r.get('seconds', '?')} s, "
                   f"load {ls[0]} → {le[0]}: {cmds}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="bench/report.py",
        description="Run every benchmark under bench/ and write docs/benchmarks.md.")
    ap.add_argument("--full", action="store_true",
                    help="run at the goals' sizes (default: the quick sizes, under 15 minutes "
                         "on 2 cores)")
    ap.add_argument("--only", metavar="NAME[,NAME]",
                    help="run only these (and the references they need): "
                         + ", ".join(b.name for b in BENCHES if not b.probe))
    ap.add_argument("--dry-run", action="store_true",
                    help="list what would run, with its commands, and run nothing")
    ap.add_argument("--pg", default=PG_DEFAULT,
                    help="PostgreSQL admin URL; benchmarks create and drop their own "
                         "databases (default: $TEST_DATABASE_URL or %(default)s)")
    ap.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"),
                    help="the page to write (default docs/benchmarks.md)")
    ap.add_argument("--raw", default=str(ROOT / "var" / "benchmarks.json"),
                    help="where to keep every JSON line of the run (default "
                         "var/benchmarks.json)")
    ap.add_argument("--render", metavar="RAW",
                    help="write the page from a kept run (a --raw file) without running")
    ap.add_argument("--timeout", type=float, default=None,
                    help=f"seconds one benchmark process may take (default {TIMEOUT_QUICK}, "
                         f"{TIMEOUT_FULL} with --full)")
    ap.add_argument("--probe", choices=("pg_commit", "pgbench", "polars_read"),
                    help="(used by the run itself) measure one reference and print its JSON "
                         "line")
    ap.add_argument("--seconds", type=float, default=5,
                    help="with --probe pg_commit or pgbench: how long (default %(default)s)")
    ap.add_argument("--csv", help="with --probe polars_read: the CSV to read")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.probe == "pg_commit":
        probe_pg_commit(args.pg, args.seconds)
        return 0
    if args.probe == "pgbench":
        probe_pgbench(args.pg, int(args.seconds))
        return 0
    if args.probe == "polars_read":
        if not args.csv:
            print("report: --probe polars_read needs --csv", file=sys.stderr)
            return 2
        probe_polars_read(args.csv)
        return 0
    if args.render:
        report = json.loads(Path(args.render).read_text(encoding="utf-8"))
        Path(args.output).write_text(render(report), encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    try:
        items = select([n.strip() for n in args.only.split(",") if n.strip()]
                       if args.only else None)
    except ValueError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for b in items:
            needs = f" (needs {', '.join(sorted(b.needs))})" if b.needs else ""
            print(f"{b.name}: {b.about}{needs}")
            for c in shown(b, full=args.full):
                print("    " + c)
        return 0
    timeout = args.timeout or (TIMEOUT_FULL if args.full else TIMEOUT_QUICK)
    report = run_all(items, full=args.full, pg=args.pg, timeout=timeout,
                     log=lambda s: print(s, file=sys.stderr, flush=True))
    raw = Path(args.raw)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    Path(args.output).write_text(render(report), encoding="utf-8")
    print(f"wrote {args.output} and {raw} ({report['minutes']} minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
