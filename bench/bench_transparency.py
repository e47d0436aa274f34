"""The transparency log's figures (issue 16; docs/ledger-transparency.md), on PostgreSQL.

Prints one JSON line per figure, `{"bench": "transparency", "figure": ..., ...}`:

- `append`: the ledger's transfer figures of bench/bench_ledger.py (single transfers with 1
  client and row locks, with 8 clients and group commit; linked batches of 1,000 and 8,000)
  with the tree kept and without it, in the same run: two fresh databases (Alembic head),
  runs alternating so that load on the shared machine falls on both alike. "Tree off"
  sets `ledger.service.TREE_KEPT` to False in this process (written journal entries are
  neither hashed as leaves nor appended to the log), and its engine has no drain of bound
  records; the tree-on engine is installed as the platform's is
  (`ledger.transparency.install`: on PostgreSQL a commit reads the queue only when a
  statement announced a bound record); everything else (journal, hash chain,
  head lock, balances) is unchanged. Single transfers with 1 client and the batches
  alternate transaction by transaction between the two databases (off-on, on-off, ...), for
  `--append-repeat` * `--seconds` of each side, so that both meet the same moments of the
  shared machine; the sequence is cut into `--append-repeat` consecutive pairs of slices.
  Once both databases are set up, the heap is settled as `erts serve` settles it
  (`app.wiring.settle_heap`).
  8 clients with group commit run as whole runs of `--seconds`, `--append-repeat` pairs,
  off-on then on-off. `ratio` is the median over the pairs of on / off, `drop_pct` = (1 -
  ratio) * 100 (target: at most 10); `best_ratio` and `best_drop_pct` compare each side's
  best slice or run.
- `proofs`: inclusion and consistency proof latency (p50/p99 of `--samples` calls each) at
  `--leaves` leaves (default 10,000,000), through `ledger.transparency.inclusion` and
  `.consistency`: one read-only unit of work each (the O(log n) stored nodes and the leaf
  hashes below the stratum in one query, the leaf's entry row, the folding), which is what
  the API's handler does, without HTTP. Inclusion: a random leaf in the tree of the latest
  size; consistency: a random first size to the latest. The log is filled through the
  ledger (bench/bench_verify.build, as `verify` below: each leaf a real journal entry, in
  the log's runs); every sampled proof is checked with ledger.merkle.verify_* against the
  root, the leaf hash recomputed from the data the proof carries, and up to 2,000,000
  leaves the root is rebuilt from the journal rows, so a wrong tree fails the bench
  instead of timing it.
- `verify`: `erts ledger verify --checkpoints FILE` at `--entries` journal entries (default
  1,000,000) built through the ledger (bench/bench_verify.build: linked batches of 8,000
  random transfers, so each entry is a real, hashed entry and a leaf), checkpointed with a
  fresh key: the command run as a subprocess (what an auditor runs, start-up included,
  `command_s`, target < 15 s; it checks the chain and the history in one pass over the
  journal, `ledger.audit.verify_all`), `ledger.transparency.verify_checkpoints` alone in
  this process (`verify_s`) and `ledger.audit.verify_all` in this process (`one_pass_s`),
  best of `--repeat`, the three alternating.

With ``--markdown PATH`` the run also writes its figures as a page (bench/transparency_page.py;
docs/ledger-transparency-figures.md is made so).

Usage: python bench/bench_transparency.py [--figures append,proofs,verify] [--seconds S]
       [--append-repeat P] [--repeat R] [--leaves N] [--samples K] [--entries N]
       [--pg-url URL] [--markdown PATH]
A quick check that it works: --leaves 100000 --entries 20000 --seconds 2 --append-repeat 1
--repeat 1
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import text  # noqa: E402

import ledger.service  # noqa: E402
from app.wiring import settle_heap  # noqa: E402
from bench.bench_ledger import (  # noqa: E402
    PG_DEFAULT,
    fresh_database,
    pct,
    random_transfers,
    run_single,
    setup_accounts,
)
from bench.bench_verify import build  # noqa: E402
from ledger import merkle, transparency  # noqa: E402
from ledger.audit import verify_all  # noqa: E402
from ledger.canonical import row_leaf  # noqa: E402
from ledger.log_store import LogStore  # noqa: E402
from ledger.signing import Signer, parse_checkpoints  # noqa: E402
from ledger.store import LedgerStore  # noqa: E402
from ledger.transactions import Initiator  # noqa: E402
from storage.db import Database  # noqa: E402

ORIGIN = "erts.bench/ledger"


EMITTED: list[dict[str, Any]] = []  # this run's lines, for --markdown


def emit(**fields: object) -> None:
    line = {"bench": "transparency", **fields}
    EMITTED.append(line)
    print(json.dumps(line), flush=True)


@contextmanager
def tree(on: bool) -> Iterator[None]:
    """The tree kept (the code as it is) or not (`ledger.service.TREE_KEPT` off: journal
    entries are neither hashed as leaves nor appended to the log)."""
    real = ledger.service.TREE_KEPT
    ledger.service.TREE_KEPT = on
    try:
        yield
    finally:
        ledger.service.TREE_KEPT = real


# -- append: tree on and off -----------------------------------------------------------------
def transactions(size: int) -> Callable[[Database, list[int], int], int]:
    """One transaction of `size` random transfers (bench_ledger's single transfer with row
    locks, or its linked batch) on a database: what `interleaved` alternates."""
    rnd = random.Random(size)
    run = uuid.uuid4().hex[:6]

    def one(db: Database, accounts: list[int], k: int) -> int:
        batch = random_transfers(rnd, accounts, f"i{run}-{k}", size)
        ledger.service.submit(db.uow, batch, initiator=Initiator.ENTERPRISE, actor="bench",
                              batch=f"i{run}-{k}" if size > 1 else None)
        return size

    return one


def interleaved(dbs: dict[bool, tuple[Database, list[int]]],
                one: Callable[[Database, list[int], int], int], seconds: float,
                pairs: int) -> dict[bool, list[dict[str, Any]]]:
    """Transactions alternating between the tree-off and tree-on databases, one each in turn
    (off-on, on-off, ...), for `pairs` * `seconds` of each side at least: the two sides meet
    the same moments of the shared machine. Returned as `pairs` consecutive slices per side,
    each with its rate over the time spent in its transactions."""
    times: dict[bool, list[float]] = {False: [], True: []}
    done: dict[bool, list[int]] = {False: [], True: []}
    stop = time.perf_counter() + 2 * seconds * pairs
    k = 0
    while time.perf_counter() < stop or k < 2 * pairs:
        for on in (False, True) if k % 2 == 0 else (True, False):
            with tree(on):
                t0 = time.perf_counter()
                n = one(*dbs[on], 2 * k + on)
                times[on].append(time.perf_counter() - t0)
            done[on].append(n)
        k += 1
    out: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for on in (False, True):
        step = len(times[on]) / pairs
        for j in range(pairs):
            lo, hi = round(j * step), round((j + 1) * step)
            busy, lat = sum(times[on][lo:hi]), times[on][lo:hi]
            out[on].append(dict(transfers_per_s=round(sum(done[on][lo:hi]) / busy, 1),
                                p99_ms=pct(lat, 0.99)))
    return out


def bench_append(pg_url: str, seconds: float, repeat: int, n_accounts: int) -> None:
    """Single transfers (1 client) and batches alternate transaction by transaction between
    the two databases (`interleaved`); 8 clients with group commit run as whole runs, in
    pairs (off-on, on-off, ...)."""
    cases: list[tuple[str, Callable[[Database, list[int]], dict[str, Any]] | int]] = [
        ("single, 1 client, locks", 1),
        ("single, 8 clients, group commit",
         lambda db, acc: run_single(db, "postgresql", acc, 8, seconds, "group_commit")),
        ("batch of 1000", 1000),
        ("batch of 8000", 8000),
    ]
    with ExitStack() as stack:
        dbs: dict[bool, tuple[Database, list[int]]] = {}
        for on in (False, True):
            url = stack.enter_context(fresh_database("postgresql", pg_url))
            db = Database(url)
            stack.callback(db.dispose)
            if on:  # as `app.wiring.build` does: the bound records' drain before each commit
                transparency.install(db.engine)
            with tree(on):
                dbs[on] = (db, setup_accounts(db, n_accounts))
        # as `erts serve` does once it is up: what lives as long as the process out of the
        # GC's way. Without it a full collection walks the whole heap (about 50 ms here),
        # and the side allocating more met more of them.
        settle_heap()
        for name, case in cases:
            runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            if isinstance(case, int):
                runs = interleaved(dbs, transactions(case), seconds, repeat)
            for i in range(0 if isinstance(case, int) else repeat):
                for on in (False, True) if i % 2 == 0 else (True, False):  # neither always first
                    with tree(on):
                        runs[on].append(case(*dbs[on]))
            best = {on: max(rs, key=lambda r: float(r["transfers_per_s"]))
                    for on, rs in runs.items()}
            off_rate = float(best[False]["transfers_per_s"])
            on_rate = float(best[True]["transfers_per_s"])
            paired = [float(b["transfers_per_s"]) / float(a["transfers_per_s"])
                      for a, b in zip(runs[False], runs[True], strict=True)]
            ratio = statistics.median(paired)
            emit(db="postgresql", figure="append", case=name,
                 method="interleaved" if isinstance(case, int) else "paired runs",
                 tree_off_per_s=off_rate, tree_on_per_s=on_rate,
                 ratio=round(ratio, 3), drop_pct=round((1 - ratio) * 100, 1),
                 best_ratio=round(on_rate / off_rate, 3) if off_rate else None,
                 best_drop_pct=round((1 - on_rate / off_rate) * 100, 1) if off_rate else None,
                 paired_ratios=[round(x, 3) for x in paired],
                 tree_off_p99_ms=best[False]["p99_ms"], tree_on_p99_ms=best[True]["p99_ms"],
                 runs_off_per_s=[r["transfers_per_s"] for r in runs[False]],
                 runs_on_per_s=[r["transfers_per_s"] for r in runs[True]],
                 load_avg_1m=round(os.getloadavg()[0], 2))
        with dbs[True][0].read_uow() as uow:
            leaves = uow.session.execute(text("SELECT size FROM ledger_log_head")).scalar()
            entries = uow.session.execute(text("SELECT count(*) FROM ledger_journal")).scalar()
        if leaves != entries:
            raise SystemExit(f"bench: the tree-on database has {leaves} leaves for "
                             f"{entries} journal entries")


# -- proofs at N leaves ----------------------------------------------------------------------
def load_journal(db: Database, n: int, n_accounts: int) -> tuple[float, bytes]:
    """Fill the log with n journal leaves through the ledger (`bench_verify.build`: linked
    batches of 8,000 random transfers, each a real, hashed entry, its leaf in a run of the
    log). Returns (seconds, root). Up to 2,000,000 entries the root is also rebuilt here
    from the journal rows alone (not from the stored tree): a wrong tree fails the bench."""
    t0 = time.perf_counter()
    build(db, n, n_accounts)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        for t in ("ledger_log", "ledger_log_run", "ledger_log_node", "ledger_journal"):
            c.execute(text(f"VACUUM ANALYZE {t}"))
        c.execute(text("CHECKPOINT"))  # the load's dirty pages written before proofs are timed
    with db.read_uow() as uow:
        log = LogStore(uow.session)
        size = log.size()
        root = log.frontier().root()
        if size <= 2_000_000:
            store = LedgerStore(uow.session)
            off = store.journal_time_epoch
            rebuilt = merkle.root([merkle.leaf_hash(row_leaf(r, off))
                                   for rows in store.journal_rows() for r in rows])
            if rebuilt != root:
                raise SystemExit("bench: the log's root is not the journal's rebuilt root")
    if size != n:
        raise SystemExit(f"bench: the log has {size} leaves for {n} entries")
    settle_heap()  # as `erts serve` does once it is up (the load's objects out of the GC's way)
    return time.perf_counter() - t0, root


def bench_proofs(pg_url: str, n: int, samples: int, n_accounts: int) -> None:
    rnd = random.Random(16)
    with fresh_database("postgresql", pg_url) as url:
        db = Database(url)
        try:
            load_s, root = load_journal(db, n, n_accounts)
            inc: list[float] = []
            con: list[float] = []
            for k in range(samples + 100):  # the first 100 of each warm the caches
                leaf = rnd.randrange(n)
                t0 = time.perf_counter()
                p = transparency.inclusion(db.read_uow(), leaf, n)
                t1 = time.perf_counter()
                first = rnd.randrange(1, n)
                c = transparency.consistency(db.read_uow(), first, n)
                t2 = time.perf_counter()
                if k >= 100:
                    inc.append(t1 - t0)
                    con.append(t2 - t1)
                data = base64.b64decode(str(p["leaf_data"]))
                assert p["root_hash"] == root.hex() == c["second_root"]
                audit: Any = p["audit_path"]
                path: Any = c["consistency_path"]
                assert merkle.verify_inclusion(merkle.leaf_hash(data), leaf, n,
                                               [bytes.fromhex(h) for h in audit], root)
                assert merkle.verify_consistency(first, n, bytes.fromhex(str(c["first_root"])),
                                                 root, [bytes.fromhex(h) for h in path])
            emit(db="postgresql", figure="proofs", leaves=n, samples=samples,
                 load="journal entries through the ledger, linked batches of 8,000",
                 load_s=round(load_s, 1),
                 inclusion_p50_ms=pct(inc, 0.50), inclusion_p99_ms=pct(inc, 0.99),
                 consistency_p50_ms=pct(con, 0.50), consistency_p99_ms=pct(con, 0.99),
                 load_avg_1m=round(os.getloadavg()[0], 2))
        finally:
            db.dispose()


# -- verify --checkpoints at N entries -------------------------------------------------------
def bench_verify(pg_url: str, entries: int, n_accounts: int, repeat: int) -> None:
    with fresh_database("postgresql", pg_url) as url, tempfile.TemporaryDirectory() as tmp:
        db = Database(url)
        try:
            t0 = time.perf_counter()
            build(db, entries, n_accounts)
            built = time.perf_counter() - t0
            signer = Signer(Ed25519PrivateKey.generate())
            cp = transparency.checkpoint(db.uow(), signer, origin=ORIGIN,
                                         now=datetime.now(UTC))
            # what GET /api/v1/public/ledger/checkpoints answers
            doc = transparency.published(db.read_uow(), origin=ORIGIN)
            path = Path(tmp) / "checkpoints.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            env = {**os.environ, "DATABASE_URL": url, "ERTS_LEDGER_ORIGIN": ORIGIN}
            cmd = [sys.executable, "-m", "app.cli", "ledger", "verify", "--checkpoints",
                   str(path)]
            command_runs, function_runs, one_pass_runs = [], [], []
            report: Any = None
            for _ in range(repeat):
                t1 = time.perf_counter()
                done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                                      check=False)
                command_runs.append(time.perf_counter() - t1)
                if done.returncode != 0:
                    raise SystemExit(f"bench: {' '.join(cmd[2:])} exited {done.returncode}: "
                                     f"{done.stderr.strip()[-400:]}")
                t2 = time.perf_counter()
                report = transparency.verify_checkpoints(db.uow(), parse_checkpoints(
                    path.read_bytes()))
                function_runs.append(time.perf_counter() - t2)
                if not report.ok:
                    raise SystemExit(f"bench: verify_checkpoints failed: {report.reason}")
                t3 = time.perf_counter()
                chain, history = verify_all(db.uow(), parse_checkpoints(path.read_bytes()))
                one_pass_runs.append(time.perf_counter() - t3)
                if not (chain.ok and history.ok):
                    raise SystemExit(f"bench: verify_all failed: {chain.reason}; "
                                     f"{history.reason}")
            emit(db="postgresql", figure="verify_checkpoints", entries=entries,
                 leaves=report.leaves, checkpoint_tree_size=cp["tree_size"] if cp else None,
                 build_s=round(built, 1), command=" ".join(["erts", *cmd[3:-1], "FILE"]),
                 command_s=round(min(command_runs), 2),
                 command_runs_s=[round(r, 2) for r in command_runs],
                 verify_s=round(min(function_runs), 2),
                 one_pass_s=round(min(one_pass_runs), 2),
                 load_avg_1m=round(os.getloadavg()[0], 2))
        finally:
            db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--figures", default="append,proofs,verify",
                    help="comma-separated: append, proofs, verify")
    ap.add_argument("--seconds", type=float, default=5.0, help="per append run")
    ap.add_argument("--repeat", type=int, default=3, help="verify runs; the best counts")
    ap.add_argument("--append-repeat", type=int, default=8,
                    help="pairs of append runs (tree off and on) per case")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--leaves", type=int, default=10_000_000,
                    help="for the proofs figure: journal entries, a leaf each")
    ap.add_argument("--samples", type=int, default=2000, help="proofs timed, of each kind")
    ap.add_argument("--entries", type=int, default=1_000_000, help="for verify --checkpoints")
    ap.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", PG_DEFAULT))
    ap.add_argument("--markdown", metavar="PATH",
                    help="also write the run's figures as a Markdown page "
                         "(bench/transparency_page.py), e.g. docs/ledger-transparency-figures.md")
    args = ap.parse_args()
    figures = set(args.figures.split(","))
    if "append" in figures:
        bench_append(args.pg_url, args.seconds, args.append_repeat, args.accounts)
    if "proofs" in figures:
        bench_proofs(args.pg_url, args.leaves, args.samples, args.accounts)
    if "verify" in figures:
        bench_verify(args.pg_url, args.entries, args.accounts, args.repeat)
    if args.markdown:
        from bench.transparency_page import render

        shown = " ".join(["python bench/bench_transparency.py",
                          *("$PG" if a.startswith("postgresql://") else a
                            for a in sys.argv[1:])])
        Path(args.markdown).write_text(render(EMITTED, command=shown, pg=args.pg_url) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    main()
