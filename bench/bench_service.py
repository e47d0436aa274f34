"""End-to-end order throughput through the trading service: hold, match, settle, commit.

Two paths: by default `trading.service.place_order`, one transaction per order (what the
API does with ERTS_ORDER_PIPELINE off); with ``--pipeline``, `trading.pipeline.OrderPipeline`,
the API's default (one writer thread places every order waiting for it, whatever its
market, in one transaction: group commit; the bench's cancels go through it too), for which
``--threads`` is the number of concurrent clients. As the server does once it is up, the
bench freezes its heap after the set-up (`app.wiring.settle_heap`). Clients are
closed-loop: each sends its next order when the last is answered, so latency ≈ threads ÷
throughput.

Builds a fresh, migrated database (PostgreSQL from ``--pg`` as an admin URL, a new database
created and dropped; or a SQLite file), a zone with ``--traders`` enterprises (each a permit
with confirmed and verified-surplus rights and cash), ``--markets`` markets (the orders go
to them in turn), then places ``--orders`` GTC limit orders (random side, price around a
mid, so about half trade) from ``--threads`` threads, and cancels a tenth of them along the
way. Prints one JSON line per run:

    {"bench":"service","db":...,"path":...,"book":"compiled"|"interpreted","threads":...,
     "orders":...,"seconds":...,"orders_per_s":...,"p50_ms":...,"p99_ms":...,"trades":...,"cancels":...,"groups":...,
     "group_p50_ms":...,"group_p99_ms":...,"group_cpu_p50_ms":...,"group_cpu_slowest_ms":...,
     "writer_orders_per_busy_s":...}

(the group_ figures with ``--pipeline``: each writer transaction's wall and CPU time; CPU
time is the writer thread's; the rest of a group's time it waits, for PostgreSQL or for the
interpreter lock. ``writer_orders_per_busy_s``: requests placed per second of the writer's
time in groups, the most it would place were it never waiting for orders)

Usage: python bench/bench_service.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
       [--orders N] [--threads T] [--markets M] [--traders K] [--pipeline] [--bureau-ms N]

With ``--bureau-ms N``, a thread meanwhile makes a deposit to a random trader or verifies
1 kg of its surplus (in turn) every N ms, and the line adds their count, median and slowest
latency and how many were refused (``bureau_``): ledger and permit writes made while the
market trades.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from app.migrate import upgrade
from app.settings import Settings
from app.wiring import Platform, build, settle_heap
from kernel.errors import DomainError
from kernel.ids import make_credit_code
from trading import BOOK_ENGINE
from trading import service as trading
from trading.pipeline import OrderPipeline
from trading.tables import TradeRow

MID = 300_000
VINTAGE = 2026
POLLUTANTS = ("SO2", "NOx", "COD", "NH3-N", "VOCs", "PM")


def _setup(platform: Platform, traders: int, markets: int
           ) -> tuple[list[str], list[tuple[str, str]]]:
    pols = POLLUTANTS[:markets]
    alloc.register_area(platform.uow(), zones=[("BZ", "Bench zone", "air")],
                        districts=[("BD", "Bench district", "BZ", "BZ")])
    for pol in pols:
        alloc.set_indicator(platform.uow(), zone="BZ", pollutant=pol, year=VINTAGE,
                            total_kg=10**12, reserve_share_pct=10)
        alloc.issue_indicator(platform.uow(), zone="BZ", pollutant=pol, year=VINTAGE,
                              actor="bench")
    people: list[tuple[str, str]] = []
    for i in range(traders):
        code = make_credit_code(f"91500000BENCH{i:04d}")
        alloc.register_enterprise(platform.uow(), credit_code=code, name=f"Bench {i}",
                                  sector="bench", district="BD")
        permit = alloc.issue_permit(
            platform.uow(), enterprise=code, site_seq=1, site_name="site", district="BD",
            capacity=1, capacity_unit="MW", valid_from=date(2025, 1, 1),
            valid_to=date(2029, 12, 31), parameter_version="bench",
            bases=[alloc.QuantityBasis(pol, VINTAGE, "BZ", 10**9, None, None) for pol in pols])
        alloc.deposit_cash(platform.uow(), enterprise=code, amount_fen=10**13, actor="bench",
                           reference=f"bench-{i}")
        for pol in pols:
            alloc.confirm_rights(platform.uow(), permit=permit, pollutant=pol, year=VINTAGE,
                                 qty_kg=10**8, actor="bench")
            paid_use.pay_all(platform.uow, permit=permit, actor="bench")  # tradable once paid
            alloc.verify_surplus(platform.uow(), permit=permit, pollutant=pol, year=VINTAGE,
                                 qty_kg=5 * 10**7, actor="bench")
        people.append((code, permit))
    mids = []
    with platform.uow() as uow:
        for pol in pols:
            mids.append(trading.ensure_market(uow, pollutant=pol, zone="BZ", vintage=VINTAGE))
        uow.commit()
    return mids, people


class _Bureau(threading.Thread):
    """While the orders run: every `every` seconds, a deposit to a random trader or a
    verification of 1 kg of its surplus (in turn), through the allocation use cases; their
    latencies and refusals."""

    def __init__(self, platform: Platform, people: list[tuple[str, str]], every: float,
                 pollutant: str) -> None:
        super().__init__(daemon=True)
        self.platform, self.people, self.every, self.pollutant = (platform, people, every,
                                                                 pollutant)
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        rng = random.Random(7)
        n = 0
        while not self.stop.wait(self.every):
            n += 1
            ent, permit = self.people[rng.randrange(len(self.people))]
            t0 = time.perf_counter()
            try:
                if n % 2:
                    alloc.deposit_cash(self.platform.uow(), enterprise=ent, amount_fen=100,
                                       actor="bench", reference=f"bureau-{n}")
                else:
                    alloc.verify_surplus(self.platform.uow(), permit=permit,
                                         pollutant=self.pollutant, year=VINTAGE, qty_kg=1,
                                         actor="bench")
            except Exception as exc:  # a refusal (a deadlock, say) is what this measures
                self.errors.append(type(exc).__name__)
            self.latencies.append(time.perf_counter() - t0)

    def figures(self) -> dict[str, object]:
        got = sorted(self.latencies)
        return dict(bureau_writes=len(got),
                    bureau_p50_ms=round(statistics.median(got) * 1000, 2) if got else None,
                    bureau_max_ms=round(got[-1] * 1000, 2) if got else None,
                    bureau_refused=len(self.errors), bureau_errors=sorted(set(self.errors)))


def _run(platform: Platform, mids: list[str], people: list[tuple[str, str]], orders: int,
         threads: int, pipe: OrderPipeline | None = None) -> dict[str, object]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(orders))
    cancels = [0]
    market_of: dict[str, str] = {}
    errors: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[tuple[str, str]] = []
        local: list[float] = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            ent, permit = people[rng.randrange(len(people))]
            side = "buy" if rng.random() < 0.5 else "sell"
            price = MID + int(rng.gauss(0, 300)) + (-100 if side == "buy" else 100)
            cmd = trading.PlaceOrder(ent, permit, mids[n % len(mids)], side,
                                     rng.randint(1, 50) * 10, price)
            t0 = time.perf_counter()
            try:
                if pipe is not None:
                    r = pipe.place(cmd, actor="bench", fee_bps=5)
                else:
                    r = trading.place_order(platform.uow(), cmd, permits=platform.permits,
                                            actor="bench", fee_bps=5)
                if r.status == "open":
                    mine.append((ent, r.order_id))
                    market_of[r.order_id] = cmd.market
            except DomainError as exc:
                errors.append(exc.code)
            except Exception as exc:  # a database error the use case did not absorb
                errors.append(type(exc).__name__)
            local.append(time.perf_counter() - t0)
            if mine and rng.random() < 0.1:
                e, oid = mine.pop(rng.randrange(len(mine)))
                try:
                    if pipe is not None:
                        pipe.cancel(enterprise=e, order_id=oid, market=mids[0] if len(
                            mids) == 1 else market_of[oid], actor="bench")
                    else:
                        trading.cancel_order(platform.uow(), enterprise=e, order_id=oid,
                                             actor="bench")
                    cancels[0] += 1
                except DomainError:
                    pass
        with lock:
            latencies.extend(local)

    statements = [0]
    with platform.uow() as uow:
        engine = uow.session.get_bind()

    def count(*_args: object) -> None:
        statements[0] += 1  # under the GIL; a rare lost count does not matter here

    event.listen(engine, "before_cursor_execute", count)
    # statements the stores send straight to the driver (storage.bulk, the ledger's
    # one-statement write and its pipelined reads) bypass SQLAlchemy's events
    raw_execute = psycopg.Connection.execute

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return raw_execute(self, *args, **kwargs)

    psycopg.Connection.execute = counted  # type: ignore[method-assign]
    started = time.perf_counter()
    cpu = time.process_time()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    event.remove(engine, "before_cursor_execute", count)
    psycopg.Connection.execute = raw_execute  # type: ignore[method-assign]
    latencies.sort()
    with platform.uow() as uow:
        trades = int(uow.session.scalar(select(func.count()).select_from(TradeRow)) or 0)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return dict(orders=len(latencies), seconds=round(seconds, 3),
                orders_per_s=round(len(latencies) / seconds, 1),
                p50_ms=round(q[49] * 1000, 2), p99_ms=round(q[98] * 1000, 2),
                trades=trades, cancels=cancels[0], rejected=len(errors),
                errors=sorted(set(errors)), groups=pipe.groups if pipe is not None else None,
                # load-independent figures: SQL statements (orders and cancels; COPY not
                # counted) and this
                # process's CPU time, per order placed
                statements_per_order=round(statements[0] / max(len(latencies), 1), 2),
                cpu_ms_per_order=round(cpu * 1000 / max(len(latencies), 1), 2))


def _groups(timings: list[tuple[float, float, int]]) -> dict[str, object]:
    """Per-group figures of the writer threads: wall time (median, p99, slowest) and CPU
    time (median, and in the slowest 1 %), orders per group. A closed-loop client waits for
    the rest of the group running when it sends, then for its own: p99 latency follows the
    slow groups."""
    walls = sorted(t[0] for t in timings)
    n = len(walls)
    cut = walls[min(n - 1, int(n * 0.99))]
    slow_cpu = [t[1] for t in timings if t[0] >= cut]
    return dict(group_p50_ms=round(statistics.median(walls) * 1000, 2),
                group_p99_ms=round(cut * 1000, 2), group_max_ms=round(walls[-1] * 1000, 2),
                group_cpu_p50_ms=round(statistics.median(t[1] for t in timings) * 1000, 2),
                group_cpu_slowest_ms=round(statistics.mean(slow_cpu) * 1000, 2),
                orders_per_group=round(sum(t[2] for t in timings) / n, 1),
                writer_orders_per_busy_s=round(sum(t[2] for t in timings)
                                               / max(sum(walls), 1e-9), 1))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pg", help="PostgreSQL admin URL; default: SQLite in a temp dir")
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--markets", type=int, default=1)
    ap.add_argument("--traders", type=int, default=10)
    ap.add_argument("--pipeline", action="store_true",
                    help="place orders through trading.pipeline.OrderPipeline")
    ap.add_argument("--bureau-ms", type=float, default=0,
                    help="meanwhile, a deposit or a surplus verification every N ms")
    args = ap.parse_args(argv)
    tmp = None
    admin = None
    name = None
    if args.pg:
        admin_url = make_url(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"erts_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        db = "postgresql"
    else:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
        db = "sqlite"
    try:
        upgrade(url)
        platform = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
        mids, people = _setup(platform, args.traders, args.markets)
        timings: list[tuple[float, float, int]] = []
        pipe = OrderPipeline(platform.uow, platform.permits,
                             timings=timings) if args.pipeline else None
        settle_heap()  # as the server does once it is up (web.app's lifespan)
        bureau = _Bureau(platform, people, args.bureau_ms / 1000,
                         POLLUTANTS[0]) if args.bureau_ms else None
        if bureau is not None:
            bureau.start()
        out = _run(platform, mids, people, args.orders, args.threads, pipe)
        if bureau is not None:
            bureau.stop.set()
            bureau.join()
            out.update(bureau.figures())
        if timings:
            out.update(_groups(timings))
        if pipe is not None:
            pipe.close()
        platform.close()
        print(json.dumps(dict(bench="service", db=db,
                              path="pipeline" if pipe is not None else "per_order",
                              book=BOOK_ENGINE, threads=args.threads,
                              markets=args.markets, traders=args.traders, **out),
                         separators=(",", ":")), flush=True)
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
