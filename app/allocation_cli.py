"""`erts compute`, `erts scenario run|compare`, `erts sweep`: allocation from the command line.

Each prints one JSON document on stdout. Bad input exits 2 with `erts: code: message (field
...)`, an unreachable database or missing file 3 (see app.cli); database commands use
`DATABASE_URL` like every other command.

    erts compute [--parameter-version 2025.1] [--scenario ID] [--years 2026 2027]
    erts scenario run --input scenario.json [--year 2026] [--permits] [--save]
    erts scenario run --id 3                       # a stored scenario; the run is stored
    erts scenario compare --a a.json --b b.json    # files, or stored ids: --a 3 --b 4
    erts sweep --input sweep.json [--workers 2 | --scheduler tcp://host:8786]
               [--synthetic 10000] [--batch 50]
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from app.cli_common import Usage, positive, read_json, whole


def _actor(args: argparse.Namespace) -> str:
    return str(args.actor or os.environ.get("USER") or "cli")


def _platform() -> Any:
    from app.settings import Settings
    from app.wiring import build

    return build(Settings())


def _print(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def cmd_compute(args: argparse.Namespace) -> int:
    from allocation import service as alloc

    p = _platform()
    try:
        _print(alloc.compute_permitted_quantities(
            p.uow(), actor=_actor(args), parameter_version=args.parameter_version,
            scenario=args.scenario, years=args.years))
    finally:
        p.close()
    return 0


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit()


def cmd_scenario_run(args: argparse.Namespace) -> int:
    from allocation import service as alloc
    from allocation.scenario import run_json

    p = _platform()
    try:
        if args.id is not None:
            _print(alloc.run_scenario(p.uow, scenario_id=args.id, actor=_actor(args),
                                      permits=args.permits))
            return 0
        if args.input is None:
            raise Usage("scenario run needs --input scenario.json or --id N")
        doc = read_json(args.input)
        if args.save:
            stored = alloc.create_scenario(p.uow(), doc=doc, actor=_actor(args))
            _print(alloc.run_scenario(p.uow, scenario_id=stored["id"], actor=_actor(args),
                                      permits=args.permits))
            return 0
        year = args.year if args.year is not None else (
            doc.get("year") if isinstance(doc, dict) else None)
        version = doc.get("parameter_version") if isinstance(doc, dict) else None
        base = alloc.load_baseline(p.uow(), year=year, parameter_version=version)
        _print(run_json(base, doc, permits=args.permits))
    finally:
        p.close()
    return 0


def cmd_scenario_compare(args: argparse.Namespace) -> int:
    from allocation import service as alloc
    from allocation.scenario import compare, run_json

    p = _platform()
    try:
        if _is_id(args.a) and _is_id(args.b):
            _print(alloc.compare_scenarios(p.uow, a=int(args.a), b=int(args.b),
                                           actor=_actor(args)))
            return 0
        docs = [read_json(args.a), read_json(args.b)]
        year = args.year
        if year is None:
            years = {d.get("year") for d in docs if isinstance(d, dict) and d.get("year")}
            year = years.pop() if len(years) == 1 else None
        base = alloc.load_baseline(p.uow(), year=year)
        _print(compare(run_json(base, docs[0]), run_json(base, docs[1])))
    finally:
        p.close()
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from allocation.sweep import run_sweep, scenarios_from, synthetic_baseline

    spec = read_json(args.input)
    docs = scenarios_from(spec)
    if args.synthetic:
        base = synthetic_baseline(args.synthetic, seed=args.seed, year=args.year or 2026)
    else:
        from allocation import service as alloc

        p = _platform()
        try:
            base = alloc.load_baseline(p.uow(), year=args.year)
        finally:
            p.close()
    batch = args.batch or (spec.get("batch") if isinstance(spec, dict) else None) or 50
    workers = args.workers or (spec.get("workers") if isinstance(spec, dict) else None)
    out = run_sweep(base, docs, scheduler=args.scheduler, workers=workers, batch=batch)
    if args.summary:
        out = {k: v for k, v in out.items() if k != "results"}
    _print(out)
    return 0


#: where the scenario file's format is described (named in --help)
SCENARIO_FORMAT = "docs/cli.md#scenario-erts-scenario"


def register(sub: Any) -> None:
    """Add the allocation commands to `erts`'s sub-parsers."""
    year = whole(1990, 2200)
    c = sub.add_parser("compute", help="recompute every permit's permitted quantities")
    c.add_argument("--parameter-version", default=None,
                   help="parameter table, e.g. 2025.1 (default: the one in force today)")
    c.add_argument("--scenario", type=positive, default=None,
                   help="apply a stored scenario's parameter changes")
    c.add_argument("--years", type=year, nargs="+", default=None,
                   help="years to compute (default: every year with stored quantities)")
    c.add_argument("--actor", default=None, help="name recorded (default: $USER)")
    c.set_defaults(func=cmd_compute)

    s = sub.add_parser("scenario", help="scenarios against the baseline").add_subparsers(
        dest="scenario_cmd", required=True)
    sr = s.add_parser("run", help="run a scenario file (or a stored scenario by --id)")
    sr.add_argument("--input", default=None, metavar="FILE",
                    help=f"a scenario, JSON (format: {SCENARIO_FORMAT}), or - for stdin")
    sr.add_argument("--id", type=positive, default=None, help="a stored scenario's id")
    sr.add_argument("--year", type=year, default=None,
                    help="baseline year (default: the scenario's year, else the latest)")
    sr.add_argument("--permits", action="store_true", help="include per-permit results")
    sr.add_argument("--save", action="store_true", help="store the scenario and its run")
    sr.add_argument("--actor", default=None, help="name recorded (default: $USER)")
    sr.set_defaults(func=cmd_scenario_run)
    sc = s.add_parser("compare", help="two scenarios side by side (files or stored ids)")
    for side in ("a", "b"):
        sc.add_argument(f"--{side}", required=True, metavar="FILE|ID",
                        help=f"scenario {side.upper()}: a scenario file (format: "
                             f"{SCENARIO_FORMAT}), - for stdin, or a stored scenario's id "
                             "(both ids: the stored runs are compared)")
    sc.add_argument("--year", type=year, default=None,
                    help="baseline year for files (default: the files' year)")
    sc.add_argument("--actor", default=None, help="name recorded (default: $USER)")
    sc.set_defaults(func=cmd_scenario_compare)

    w = sub.add_parser("sweep", help="parameter grids and Monte Carlo over scenarios")
    w.add_argument("--input", required=True, metavar="FILE",
                   help="a sweep, JSON {base, grid, monte_carlo, scenarios} (format: "
                        "docs/cli.md#sweep-erts-sweep), or - for stdin")
    w.add_argument("--workers", type=whole(1, 1024), default=None,
                   help="run on a LocalCluster of this many worker processes")
    w.add_argument("--scheduler", default=None,
                   help="a Dask scheduler address (default: $DASK_SCHEDULER, else local)")
    w.add_argument("--batch", type=positive, default=None,
                   help="scenarios per task (default 50)")
    w.add_argument("--synthetic", type=whole(1, 10_000_000), default=None,
                   help="sweep a synthetic municipality of N facilities instead of the DB")
    w.add_argument("--seed", type=whole(0, 2**32 - 1), default=0,
                   help="seed of the --synthetic municipality (default %(default)s)")
    w.add_argument("--year", type=year, default=None,
                   help="baseline year (default: the latest; 2026 with --synthetic)")
    w.add_argument("--summary", action="store_true", help="omit the per-scenario results")
    w.set_defaults(func=cmd_sweep)
