"""The official order figure, over HTTP: `erts serve --workers N` on PostgreSQL, driven by wrk.

For each scenario the bench creates a fresh PostgreSQL database (dropped at the end),
migrates it, prepares a zone with ``--traders`` enterprises (each a permit with confirmed and
verified-surplus rights and cash), the markets, and one trader user with an API token per
enterprise, all through the platform's own use cases (`bench.bench_service._setup`,
`identity.service`); then starts ``erts serve --workers N`` on it and posts
``POST /api/v1/orders`` (answered by the order lane, `web.order_lane`; with
``--peer-no-lane`` each scenario runs again with the lane off) with wrk
(``bench/bench_api.lua``: a price stream around a mid, a share of the orders crossing the
spread) from ``--connections`` connections, in steps of
``--step-seconds``, until ``--resting`` orders rest on the books (or ``--max-steps``).
Each step reports: orders/s (201 answers per second), p50 and p99 (wrk's histogram), other
statuses, the resting orders after the step, and the server's CPU per order (user + system
time of the server process and all its children — web workers and the matcher — from
/proc, over the 201 answers). The scenario line sums the steps; with several workers it
also gives the matcher's books rebuilt and its orders per group (transaction), and, per step
and for the scenario, its writer's busy share and the orders it placed per second busy (the
matcher's `stats`: the engine's own speed at those groups' size, whatever the front end).

Each step also gives the rest of the machine's CPU per order: PostgreSQL's (every
postgres process), wrk's, and the machine's busy share over the step (/proc/stat: 1.0 is
every core busy), so that whether the figure is held back by the CPU is read off the run.

Also, from the same run: ``/healthz`` requests/s on the same server (the HTTP floor: one
`SELECT 1` per request through the middleware stack), the in-process pipeline figure
(`bench/bench_service.py --pipeline`, same traders, threads = connections) and
PostgreSQL's pgbench TPC-B-like rate (scale 10, the same number of clients), the
database's own limit on this machine; and how much two processes get done at once against
one (``"bench":"machine"``: 2.0 is two whole cores).

wrk comes from Debian's package: found on PATH, else installed with apt-get (as root).

Prints one JSON line per step (``"bench":"api_step"``) and per scenario
(``"bench":"api"``), then ``"bench":"healthz"``, ``"bench":"service"`` and
``"bench":"pgbench"`` and ``"bench":"machine"``.

With ``--markdown PATH`` the run also writes its curve as a page (`bench/api_curve.py`):
docs/orders-over-http.md is made that way.

Usage: python bench/bench_api.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
       [--scenarios 1x1,1x2,4x2] [--connections 32] [--resting 100000] [--step-seconds 10]
       [--traders 40] [--peer-no-lane] [--no-extras] [--markdown PATH]
(a scenario MxW: M markets, W web workers)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.migrate import upgrade  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.wiring import build  # noqa: E402
from bench.bench_service import MID, _setup  # noqa: E402
from identity import service as identity  # noqa: E402

LUA = Path(__file__).with_suffix(".lua")
TICKS = os.sysconf("SC_CLK_TCK")


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("wrk not found: install Debian's package (apt-get install wrk)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Database:
    """A fresh PostgreSQL database, dropped by `drop`."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://",
                                                    1))
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"erts_bench_api_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = (self.admin_url.set(database=self.name, drivername="postgresql")
                    .render_as_string(hide_password=False))

    def scalar(self, sql: str) -> Any:
        eng = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with eng.connect() as c:
                return c.execute(text(sql)).scalar()
        finally:
            eng.dispose()

    def sessions(self) -> int:
        """PostgreSQL sessions opened on this database so far (`pg_stat_database`)."""
        with self.admin.connect() as c:
            return int(c.execute(text("SELECT sessions FROM pg_stat_database WHERE datname "
                                      "= :n"), {"n": self.name}).scalar() or 0)

    def drop(self) -> None:
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def prepare(url: str, traders: int, markets: int, workdir: Path) -> tuple[Path, list[str]]:
    """Traders, markets and one token per trader (file of "token permit" lines)."""
    upgrade(url)
    platform = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
    try:
        mids, people = _setup(platform, traders, markets)
        lines = []
        for i, (code, permit) in enumerate(people):
            name = f"bench{i}"
            identity.create_user(platform.uow(), username=name, display_name=name,
                                 role="trader", password="bench-pass", enterprise=code)
            raw, _ = identity.create_token(platform.uow(),
                                           owner=identity.principal_of(platform.uow(), name),
                                           name="bench")
            lines.append(f"{raw} {permit}")
    finally:
        platform.close()
    path = workdir / "traders.txt"
    path.write_text("\n".join(lines) + "\n")
    return path, mids


def _stat(pid: int | str) -> tuple[str, list[str]] | None:
    """A live process's name and the fields of /proc/PID/stat after it (None once gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
    return name, rest.split()


def _cpu(fields: list[str]) -> float:
    """User + system CPU seconds from a process's stat fields (utime, stime)."""
    return (int(fields[11]) + int(fields[12])) / TICKS


Live = dict[int, tuple[str, list[str]]]


def _live() -> Live:
    """Every live process, at one moment: pid → name, stat fields."""
    out: Live = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (got := _stat(d)) is not None:
            out[int(d)] = got
    return out


def _tree(root: int, live: Live | None = None) -> list[int]:
    """The process and all its descendants (in `live`, or the processes alive now)."""
    children: dict[int, list[int]] = {}
    for pid, (_name, fields) in (_live() if live is None else live).items():
        children.setdefault(int(fields[1]), []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(root: int, live: Live) -> dict[str, float]:
    """User + system CPU of the process tree in `live` (their own time only), per part: the
    matcher, and the rest (supervisor and web workers)."""
    total = {"matcher": 0.0, "web": 0.0}
    for pid in _tree(root, live):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        total["matcher" if b"app.matcher" in cmd else "web"] += _cpu(live[pid][1])
    return total


def postgres_cpu(live: Live) -> float:
    """User + system CPU of every PostgreSQL process in `live` (its backends and background
    processes: the database is local)."""
    return sum(_cpu(fields) for name, fields in live.values() if name.startswith("postgres"))


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine so far (/proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + f[4]  # idle, iowait
    return sum(f) - idle, sum(f)


def children_cpu() -> float:
    """User + system CPU of this process's finished children (wrk, once it has exited)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _spin(n: int) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t


def parallel_speedup(n: int = 4_000_000) -> dict[str, Any]:
    """How much work two processes do at once here, against one alone (2.0: two whole cores;
    less: the cores are shared, or slow down together). A CPU-bound loop, once alone, then
    in two processes at the same time; the loop's time alone tells one core's speed now (the
    machine may be shared: runs on other days can be read against it)."""
    import multiprocessing as mp

    alone = min(_spin(n) for _ in range(2))
    with mp.get_context("fork").Pool(2) as pool:
        both = pool.map(_spin, [n, n])
    return dict(bench="machine", cpus=os.cpu_count(), loop_ms_alone=round(alone * 1000, 1),
                parallel_speedup=round(2 * alone / max(both), 2))


class Server:
    """`erts serve --workers N` on a database, until `stop`."""

    def __init__(self, url: str, workers: int, port: int, *, lane: bool = True) -> None:
        env = dict(os.environ, DATABASE_URL=url, ERTS_ENV="development",
                   PYTHONPATH=str(ROOT), ERTS_ORDER_LANE="1" if lane else "0")
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - the server's, closed in stop
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", str(workers), "--port",
             str(port), "--log-level", "warning"], env=env, cwd=ROOT, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise SystemExit("the server did not start:\n"
                                     + self.log.read().decode(errors="replace")[-3000:]
                                     ) from None
                time.sleep(0.2)
        time.sleep(1.0 * workers)  # every worker up, not only the first to answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def run_wrk(wrk: str, url: str, *, connections: int, seconds: float, env: dict[str, str],
            lua: Path | None = LUA) -> dict[str, Any]:
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--timeout", "10s"]
    if lua is not None:
        cmd += ["-s", str(lua)]
    done = subprocess.run(cmd + [url], env=dict(os.environ, **env), capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"wrk failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    out = done.stdout
    got = re.search(r"^WRKJSON (.*)$", out, re.M)
    if got:
        return dict(json.loads(got.group(1)))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {"requests_per_s": float(rate.group(1)) if rate else None}


def scenario(args: argparse.Namespace, wrk: str, markets: int, workers: int,
             lane: bool = True, steps_to: list[dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    """One scenario: its steps are printed (and appended to `steps_to`) as they run; returns
    its line."""
    db = Database(args.pg)
    work = Path(tempfile.mkdtemp(prefix="erts-bench-api-"))
    server = None
    try:
        traders_file, mids = prepare(db.url, args.traders, markets, work)
        server = Server(db.url, workers, _free_port(), lane=lane)
        env = {"ERTS_BENCH_TRADERS": str(traders_file), "ERTS_BENCH_MARKETS": ",".join(mids),
               "ERTS_BENCH_MID": str(MID), "ERTS_BENCH_CROSS": str(args.cross)}
        url = f"http://127.0.0.1:{server.port}/api/v1/orders"
        steps: list[dict[str, Any]] = []
        resting = 0
        sessions0 = db.sessions()
        first = writer0 = _matcher_stats(server) if workers > 1 else None
        for n in range(args.max_steps):
            live = _live()  # one reading of /proc for the server's and PostgreSQL's CPU
            cpu0, pg0, wrk0 = (cpu_seconds(server.proc.pid, live), postgres_cpu(live),
                               children_cpu())
            busy0, all0 = machine_ticks()
            got = run_wrk(wrk, url, connections=args.connections, seconds=args.step_seconds,
                          env=env)
            busy1, all1 = machine_ticks()
            writer1 = _matcher_stats(server) if workers > 1 else None
            live = _live()
            cpu1, pg1, wrk1 = (cpu_seconds(server.proc.pid, live), postgres_cpu(live),
                               children_cpu())
            cpu = sum(cpu1.values()) - sum(cpu0.values())
            resting = int(db.scalar("SELECT count(*) FROM trading_order "
                                    "WHERE status = 'open'") or 0)
            ok = int(got["statuses"].get("201", 0))
            seconds = got["duration_us"] / 1e6
            step = dict(bench="api_step", markets=markets, workers=workers, lane=lane,
                        step=n + 1,
                        orders_per_s=round(ok / seconds, 1),
                        p50_ms=round(got["p50_us"] / 1000, 2),
                        p99_ms=round(got["p99_us"] / 1000, 2),
                        max_ms=round(got["max_us"] / 1000, 2),
                        statuses=got["statuses"], socket_errors=got["socket_errors"],
                        resting_after=resting,
                        cpu_ms_per_order=round(cpu * 1000 / max(ok, 1), 3),
                        matcher_cpu_ms_per_order=round(
                            (cpu1["matcher"] - cpu0["matcher"]) * 1000 / max(ok, 1), 3),
                        postgres_cpu_ms_per_order=round((pg1 - pg0) * 1000 / max(ok, 1), 3),
                        wrk_cpu_ms_per_order=round((wrk1 - wrk0) * 1000 / max(ok, 1), 3),
                        machine_busy=round((busy1 - busy0) / max(all1 - all0, 1), 3),
                        **_writer(writer0, writer1, seconds))
            writer0 = writer1
            print(json.dumps(step, separators=(",", ":")), flush=True)
            steps.append(step)
            if steps_to is not None:
                steps_to.append(step)
            if resting >= args.resting:
                break
        # the bench's own look at the resting orders opens one session per step
        new_sessions = db.sessions() - sessions0 - len(steps)
        health = None
        if args.extras:
            h = run_wrk(wrk, f"http://127.0.0.1:{server.port}/healthz",
                        connections=args.connections, seconds=5, env={}, lua=None)
            health = h.get("requests_per_s")
        ok_total = sum(int(s["statuses"].get("201", 0)) for s in steps)
        secs = sum(s["orders_per_s"] and int(s["statuses"].get("201", 0)) / s["orders_per_s"]
                   for s in steps)
        matcher = writer0  # the matcher's reading after the last step (2+ workers)
        return dict(bench="api", db="postgresql", markets=markets, workers=workers, lane=lane,
                    connections=args.connections, traders=args.traders, orders=ok_total,
                    orders_per_s=round(ok_total / secs, 1) if secs else None,
                    p50_ms_worst_step=max(s["p50_ms"] for s in steps),
                    p99_ms_worst_step=max(s["p99_ms"] for s in steps),
                    p99_ms_first_step=steps[0]["p99_ms"],
                    p99_ms_last_step=steps[-1]["p99_ms"],
                    orders_per_s_first_step=steps[0]["orders_per_s"],
                    orders_per_s_last_step=steps[-1]["orders_per_s"],
                    **{k: round(sum(s[k] * int(s["statuses"].get("201", 0))
                                    for s in steps) / max(ok_total, 1), 3)
                       for k in ("cpu_ms_per_order", "postgres_cpu_ms_per_order",
                                 "wrk_cpu_ms_per_order")},
                    machine_busy=round(sum(s["machine_busy"] for s in steps) / len(steps), 3),
                    resting=resting, non_201=sum(v for s in steps for k, v in
                                                 s["statuses"].items() if k != "201"),
                    matcher_rebuilds=matcher["rebuilds"] if matcher else None,
                    matcher_orders_per_group=(round(matcher["requests"] / matcher["groups"], 1)
                                              if matcher and matcher["groups"] else None),
                    **_writer(first, writer0, secs),
                    healthz_per_s=health,
                    new_pg_sessions=new_sessions,
                    new_pg_sessions_per_order=round(new_sessions / max(ok_total, 1), 4))
    finally:
        if server is not None:
            server.stop()
        db.drop()
        shutil.rmtree(work, ignore_errors=True)


def _writer(before: dict[str, int] | None, after: dict[str, int] | None,
            seconds: float) -> dict[str, float]:
    """The matcher's writer between two `stats` readings over `seconds`: the share of the
    time it spent in groups, and the requests it placed per second of that time (the most
    it would place were it never waiting for orders: the engine's speed at these groups'
    size, whatever the front end). Nothing without two readings."""
    if before is None or after is None:
        return {}
    busy = (after["busy_ms"] - before["busy_ms"]) / 1000
    if busy <= 0 or seconds <= 0:
        return {}
    return dict(writer_busy=round(busy / seconds, 3),
                writer_orders_per_busy_s=round((after["requests"] - before["requests"])
                                               / busy, 1))


def _matcher_stats(server: Server) -> dict[str, int] | None:
    """The matcher's counts so far (its `stats` request): books rebuilt, groups
    (transactions), requests, and the writer's milliseconds in groups."""
    from trading.matcher import MatcherClient

    for pid in _tree(server.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"app.matcher" in cmd:
            client = MatcherClient(cmd[cmd.index(b"app.matcher") + 1].decode(), timeout=5)
            try:
                st = client.stats()
                return {k: int(st[k]) for k in ("rebuilds", "groups", "requests", "busy_ms")}
            finally:
                client.close()
    return None


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_service.py"), "--pg", args.pg,
         "--pipeline", "--orders", "6000", "--threads", str(args.connections),
         "--traders", str(args.traders)], cwd=ROOT, capture_output=True, text=True,
        check=True, env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def pgbench(args: argparse.Namespace) -> dict[str, Any]:
    db = Database(args.pg)
    try:
        u = make_url(db.url)
        conn = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U",
                u.username or "postgres"]
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", *conn, db.name], check=True,
                       capture_output=True)
        out = subprocess.run(["pgbench", "-c", str(args.connections), "-j", "2", "-T", "15",
                              *conn, db.name], check=True, capture_output=True,
                             text=True).stdout
        tps = re.search(r"tps = ([\d.]+) \(without initial", out)
        lat = re.search(r"latency average = ([\d.]+) ms", out)
        return dict(bench="pgbench", scale=10, clients=args.connections,
                    tps=float(tps.group(1)) if tps else None,
                    latency_avg_ms=float(lat.group(1)) if lat else None)
    finally:
        db.drop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="PostgreSQL admin URL (databases are created and dropped)")
    ap.add_argument("--scenarios", default="1x1,1x2,4x2",
                    help="MxW,...: M markets with W web workers")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--traders", type=int, default=40)
    ap.add_argument("--resting", type=int, default=100_000,
                    help="run steps until this many orders rest")
    ap.add_argument("--step-seconds", type=float, default=10)
    ap.add_argument("--max-steps", type=int, default=100,
                    help="a guard: stop after this many steps even short of --resting "
                         "(100 steps of 10 s reach 100,000 resting orders from about 250 "
                         "orders/s)")
    ap.add_argument("--cross", type=int, default=30,
                    help="percent of orders priced through the spread")
    ap.add_argument("--peer-no-lane", action="store_true",
                    help="also run each scenario with the order lane off (ERTS_ORDER_LANE=0): "
                         "every order through the framework's full stack")
    ap.add_argument("--no-extras", dest="extras", action="store_false",
                    help="skip /healthz, the in-process figure and pgbench")
    ap.add_argument("--markdown", metavar="PATH",
                    help="also write the run's curve as a Markdown page (bench/api_curve.py), "
                         "e.g. docs/orders-over-http.md")
    args = ap.parse_args(argv)
    wrk = wrk_path()
    lines: list[dict[str, Any]] = []

    def out(line: dict[str, Any]) -> None:
        lines.append(line)
        print(json.dumps(line, separators=(",", ":")), flush=True)

    for sc in args.scenarios.split(","):
        m, _, w = sc.partition("x")
        for lane in (True, False) if args.peer_no_lane else (True,):
            out(scenario(args, wrk, int(m), int(w), lane, steps_to=lines))
    if args.extras:
        out(in_process(args))
        out(pgbench(args))
        out(parallel_speedup())
    if args.markdown:
        from bench.api_curve import render

        shown = " ".join(["python bench/bench_api.py",
                          *("$PG" if a.startswith("postgresql://") else a
                            for a in (argv if argv is not None else sys.argv[1:]))])
        Path(args.markdown).write_text(render(lines, command=shown, pg=args.pg) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    main()
