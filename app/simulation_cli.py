"""`erts simulate`: the market simulation of a stored scenario (issue 21).

Prints one JSON document: the stored run (id, scenario, versions, options) and, with
`--summary`, its headline figures instead of the whole result (price paths per market and
seed band, volumes, auctions, costs). `--scenario` repeated runs the scenarios together in one
sweep over the same seeds (`simulation.service.run_simulations`) and prints
``{"runs": [...]}``, one run (or headline) per scenario in the order given. Bad options exit 2
with `erts: code: message (field ...)`; an unreachable database exits 3 (see app.cli).

    erts simulate --scenario 3 [--scenario 5 ...] [--seeds 20] [--days 250]
                  [--strategy mixed] [--first-seed 0] [--mac-version 2026.1]
                  [--workers 2 | --scheduler ADDR]
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from app.cli_common import positive, whole


def _platform() -> Any:
    from app.settings import Settings
    from app.wiring import build

    return build(Settings())


def headline(run: dict[str, Any]) -> dict[str, Any]:
    """The run without its paths: costs, gap, savings and each market's last close."""
    r = run["result"]
    return {**{k: v for k, v in run.items() if k != "result"},
            "cost_fen": r["cost_fen"], "gap_fen": r.get("gap_fen"),
            "gap_pct": r.get("gap_pct"), "saved_fen": r["saved_fen"],
            "where": r.get("where"), "workers": r.get("workers"), "seconds": r.get("seconds"),
            "markets": [{"market": m["market"], "last_close_fen_t": m["last_close"],
                         "lp_price_fen_t": m["lp_price"], "traded_kg": m["traded_kg"],
                         "auction_price_fen_t": m["auction_price"],
                         "auctions_cleared": m["auctions_cleared"]}
                        for m in r["markets"]]}


def cmd_simulate(args: argparse.Namespace) -> int:
    from simulation import service

    p = _platform()
    try:
        runs = service.run_simulations(
            p.uow, scenario_ids=args.scenario,
            actor=str(args.actor or os.environ.get("USER") or "cli"),
            seeds=args.seeds, days=args.days, strategy=args.strategy,
            first_seed=args.first_seed, mac_version=args.mac_version, workers=args.workers,
            scheduler=args.scheduler)
    finally:
        p.close()
    shown = [headline(r) if args.summary else r for r in runs]
    out: Any = shown[0] if len(args.scenario) == 1 else {"runs": shown}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def register(sub: Any) -> None:
    """Add `erts simulate` to `erts`'s sub-parsers."""
    s = sub.add_parser("simulate",
                       help="agent-based market simulation of stored scenarios")
    s.add_argument("--scenario", type=positive, required=True, action="append",
                   help="the stored scenario's id (see erts scenario run --save); repeat it "
                        "to run several scenarios in one sweep over the same seeds")
    s.add_argument("--seeds", type=whole(1, 1000), default=20,
                   help="how many seeds (default %(default)s)")
    s.add_argument("--first-seed", type=whole(0, 2**31 - 1), default=0,
                   help="the first seed; seeds run first..first+N-1 (default %(default)s)")
    s.add_argument("--days", type=whole(1, 1000), default=250,
                   help="trading days simulated (default %(default)s: one year)")
    s.add_argument("--strategy", choices=("truthful", "zip", "mixed"), default="mixed",
                   help="agents' strategy: truthful (marginal cost with a spread), zip "
                        "(learning margins) or mixed (half each; default)")
    s.add_argument("--mac-version", default=None,
                   help="MAC parameter table (default: the latest, e.g. 2026.1)")
    s.add_argument("--workers", type=whole(1, 1024), default=None,
                   help="run the seeds on a Dask LocalCluster of this many processes")
    s.add_argument("--scheduler", default=None,
                   help="a Dask scheduler address (default: $DASK_SCHEDULER, else here)")
    s.add_argument("--summary", action="store_true",
                   help="print the headline figures, not the price paths")
    s.add_argument("--actor", default=None, help="name recorded (default: $USER)")
    s.set_defaults(func=cmd_simulate)
