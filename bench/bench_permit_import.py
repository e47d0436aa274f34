"""Benchmark: import of a permit file (issue 17 goal: 100 000 rows < 30 s on PostgreSQL).

Usage:
    .venv/bin/python bench/bench_permit_import.py [--rows 2000] [--pg postgresql://...]

Generates `rows` permit rows (4 per permit: DA001 SO2, NOx, PM and DW001 COD, five yearly
quantities each) for the 41 Chongqing districts of the demo, builds a fresh migrated
database (a new PostgreSQL database beside the one `--pg` names, dropped afterwards; else a
temporary SQLite file), imports the file once (timed) and again (idempotent, timed), and
prints one JSON line per import: {"bench", "db", "rows", "permits", "seconds", "rows_per_s"}.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
HEADER = ("permit_code,credit_code,enterprise_name,industry_code,management_class,district,"
          "valid_from,valid_to,outlet_id,outlet_type,pollutant,limit_concentration,limit_unit,"
          "quantity_2026_t,quantity_2027_t,quantity_2028_t,quantity_2029_t,quantity_2030_t")
LINES = (("DA001", "SO2", "35", "mg/m3"), ("DA001", "NOx", "50", "mg/m3"),
         ("DA001", "PM", "10", "mg/m3"), ("DW001", "COD", "50", "mg/L"))


def body(i: int) -> str:
    out = []
    for _ in range(8):
        i, r = divmod(i, 31)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def permit_file(rows: int) -> str:
    from app.demo_municipality import DISTRICTS
    from kernel.ids import make_credit_code, make_permit_code

    buf = io.StringIO()
    buf.write(HEADER + "\n")
    n = 0
    i = 0
    while n < rows:
        district = DISTRICTS[i % len(DISTRICTS)][0]
        credit = make_credit_code(f"91{district}M{body(i)}")
        code = make_permit_code(credit, 1)
        head = f"{code},{credit},企业{i},D4411,key,{district},2026-01-01,2030-12-31"
        for outlet, pol, limit, unit in LINES:
            if n >= rows:
                break
            kg = 1000 + (i * 7919 + len(pol)) % 900_000
            t = f"{kg // 1000}.{kg % 1000:03d}"
            buf.write(f"{head},{outlet},main,{pol},{limit},{unit},{t},{t},{t},{t},{t}\n")
            n += 1
        i += 1
    return buf.getvalue()


@contextmanager
def database(pg: str | None) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not pg:
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{Path(d) / 'bench.sqlite3'}"
        return
    url = make_url(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"erts_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--pg", help="a PostgreSQL URL (a new database is made beside it)")
    args = ap.parse_args()
    from allocation import register_service as reg
    from allocation import service as alloc
    from app.demo_municipality import AIR_ZONES, DISTRICTS, WATER_ZONES
    from app.migrate import upgrade
    from app.settings import Settings
    from app.wiring import build

    text = permit_file(args.rows)
    with database(args.pg) as url:
        upgrade(url)
        p = build(Settings(DATABASE_URL=url))  # type: ignore[call-arg]
        try:
            alloc.register_area(
                p.uow(), zones=[(c, n, "air") for c, n in AIR_ZONES]
                + [(c, n, "water") for c, n in WATER_ZONES],
                districts=[(c, n, a, w) for c, n, a, w, _ in DISTRICTS])
            for run in ("import", "reimport"):
                t0 = time.perf_counter()
                out = reg.import_permits(p.uow(), text=text, filename="bench.csv",
                                         actor="bench")
                s = time.perf_counter() - t0
                print(json.dumps({
                    "bench": f"permit_{run}", "db": "postgresql" if args.pg else "sqlite",
                    "rows": out["rows"], "permits": out["permits_new"]
                    + out["permits_unchanged"] + out["permits_changed"],
                    "new": out["permits_new"], "seconds": round(s, 3),
                    "rows_per_s": round(out["rows"] / s)}), flush=True)
        finally:
            p.close()


if __name__ == "__main__":
    main()
