"""`erts ledger verify` on a large journal: builds N journal entries (default 1,000,000)
through the ledger itself (linked batches of 8,000 random cash transfers via
`ledger.service.submit`, so every row is a real, correctly hashed entry), then times
`ledger.service.verify`, which streams the journal, recomputes the hash chain and every
account's balances and compares them with the stored ones.

Prints one JSON line per database:

    {"bench":"verify","db":"postgresql","entries":1000000,"build_s":...,"verify_s":...,
     "verify_cpu_s":...,"entries_per_s":...,"load_avg_1m":...,"ok":true}

`verify_s` is wall time (best of `--repeat`); `verify_cpu_s` the CPU time of this process
in that run, which other load on the machine does not inflate as much.

Usage: python bench/bench_verify.py [--db postgresql|sqlite|both] [--entries N]
       [--accounts A] [--pg-url URL] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ledger import PG_DEFAULT, fresh_database, setup_accounts  # noqa: E402
from ledger import service as ledger  # noqa: E402
from ledger.entries import Transfer  # noqa: E402
from ledger.transactions import Initiator  # noqa: E402
from storage.db import Database  # noqa: E402


def build(db: Database, entries: int, n_accounts: int) -> None:
    accounts = setup_accounts(db, n_accounts)
    rnd = random.Random(7)
    made = n_accounts + 0
    b = 0
    while made < entries:
        size = min(8000, entries - made)
        batch = []
        for i in range(size):
            a, c = rnd.sample(accounts, 2)
            batch.append(Transfer(f"v{b}-{i}", "transfer", a, c, rnd.randint(1, 1000)))
        ledger.submit(db.uow, batch, initiator=Initiator.ENTERPRISE, actor="bench",
                      batch=f"v{b}")
        made += size
        b += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=2, help="verify runs; the best counts")
    ap.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", PG_DEFAULT))
    args = ap.parse_args()
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        with fresh_database(kind, args.pg_url) as url:
            db = Database(url)
            try:
                t0 = time.perf_counter()
                build(db, args.entries, args.accounts)
                built = time.perf_counter() - t0
                runs, cpu = [], []
                for _ in range(args.repeat):
                    t1, c1 = time.perf_counter(), time.process_time()
                    report = ledger.verify(db.uow())
                    runs.append(time.perf_counter() - t1)
                    cpu.append(time.process_time() - c1)
                best = min(runs)
                print(json.dumps({"bench": "verify", "db": kind, "entries": report.entries,
                                  "accounts": report.accounts, "build_s": round(built, 1),
                                  "verify_s": round(best, 2),
                                  "verify_runs_s": [round(r, 2) for r in runs],
                                  "verify_cpu_s": round(min(cpu), 2),
                                  "entries_per_s": round(report.entries / best),
                                  "load_avg_1m": round(os.getloadavg()[0], 2),
                                  "ok": report.ok}), flush=True)
            finally:
                db.dispose()


if __name__ == "__main__":
    main()
