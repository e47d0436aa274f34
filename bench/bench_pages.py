"""p95 server time of the main pages with 10,000 enterprises loaded, measured by wrk on
loopback. Prints one JSON line per page and a summary line.

    .venv/bin/python bench/bench_pages.py [--enterprises 10000] [--seconds 10]
        [--connections 4] [--workers 2] [--db sqlite:///var/bench.sqlite3]

The database is built once (migrations + `app.demo.load_demo`) and reused on later runs when
it already holds the demo. The server runs as a separate process on a free port of
127.0.0.1: `erts serve --workers N` (default 2, one per core of the 2-core machine), as
production runs it: uvicorn worker processes sharing a TCP socket that turns Nagle's
algorithm off (`app.cli.listening_socket`); the order-book cache and the ledger are safe
across processes, each checks the market row's version. wrk sends the requests with a
bearer token (officer for the bureau list, the demo's trader1 for its holdings page) and a
Lua `done` hook reports percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, summary.duration))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db: str, enterprises: int, seed: int) -> dict[str, str]:
    from app.demo import load_demo
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build
    from identity import service as identity
    from trading import service as trading

    upgrade(db)
    platform = build(Settings(DATABASE_URL=db))  # type: ignore[call-arg]
    t0 = time.perf_counter()
    summary = load_demo(platform, seed=seed, enterprises=enterprises)
    load_s = time.perf_counter() - t0
    trader_code = summary.traders["trader1"][0]
    officer = identity.create_token(platform.uow(), owner=identity.principal_of(
        platform.uow(), "officer"), name="bench")[0]
    trader = identity.create_token(platform.uow(), owner=identity.principal_of(
        platform.uow(), "trader1"), name="bench")[0]
    markets = trading.list_markets(platform.uow())
    market = summary.showcase_market or str(markets[0]["id"])
    platform.close()
    return dict(officer=officer, trader=trader, trader_code=trader_code, market=market,
                load_seconds=f"{load_s:.1f}", already=str(summary.already_loaded),
                enterprises=str(summary.enterprises))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5,
                    help="seconds of load per page before the measured run: each worker's "
                         "first request builds FastAPI's route state and the templates (seconds)")
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("bench_pages: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    db = args.db or f"sqlite:///{ROOT / 'var' / f'bench-{args.enterprises}.sqlite3'}"
    info = prepare(db, args.enterprises, args.seed)
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=db, ERTS_ENV="development")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        pages = {
            "holdings": (f"/enterprises/{info['trader_code']}", info["trader"]),
            "permit": (f"/public/enterprises/{info['trader_code']}", None),
            "market": (f"/markets/{info['market']}", None),
            "bureau_list": ("/enterprises?sector=steel&page=20", info["officer"]),
            "bureau_search": ("/enterprises?q=%E5%8C%96%E5%B7%A5&page=2", info["officer"]),
        }
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA)
            lua = f.name
        results = {}
        for name, (path, token) in pages.items():
            threads = min(2, args.connections)
            cmd = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.seconds}s", "-s", lua]
            if token:
                cmd += ["-H", f"Authorization: Bearer {token}"]
            # warm-up (long timeout: a worker's first request is slow), then the measured run
            subprocess.run(cmd[:3] + [f"-d{args.warmup}s", "--timeout", "30s"] + cmd[4:]
                           + [base + path], capture_output=True, check=False)
            out = subprocess.run(cmd + [base + path], capture_output=True, text=True,
                                 check=False).stdout
            line = next((x for x in out.splitlines() if x.startswith("BENCH ")), None)
            if line is None:
                print(out, file=sys.stderr)
                continue
            n, errors, p50, p95, p99, mx, dur = (int(x) for x in line.split()[1:])
            r = dict(bench="page_p95", page=name, path=path, requests=n, non_2xx_or_errors=errors,
                     rps=round(n / (dur / 1e6), 1), p50_ms=round(p50 / 1000, 1),
                     p95_ms=round(p95 / 1000, 1), p99_ms=round(p99 / 1000, 1),
                     max_ms=round(mx / 1000, 1), connections=args.connections,
                     workers=args.workers,
                     enterprises=int(info["enterprises"]), database=db.split(":")[0])
            results[name] = r
            print(json.dumps(r), flush=True)
        print(json.dumps(dict(bench="page_p95_summary", enterprises=int(info["enterprises"]),
                              connections=args.connections, workers=args.workers,
                              demo_load_seconds=float(info["load_seconds"]),
                              demo_already_loaded=info["already"] == "True",
                              all_under_100ms=all(r["p95_ms"] < 100 for r in results.values()),
                              p95_ms={k: v["p95_ms"] for k, v in results.items()})))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
