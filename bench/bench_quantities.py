"""Benchmark: vectorised permitted quantities for many facilities.

Usage: .venv/bin/python bench/bench_quantities.py [n ...]   (default 1 000 000)
Prints one JSON line per figure: {"bench": ..., "n": ..., "seconds": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

from allocation.quantities import METHOD_CODES, permit_caps


def facilities(n: int, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    method = rng.integers(0, len(METHOD_CODES), n)
    # decimals with 3 places, as published inputs are; rate has one decimal
    activity = rng.integers(0, 900_000_000, n) / 1000
    volume = rng.integers(5_000, 15_000, n) / 1000
    rate = rng.integers(0, 4_000, (n, 3)) / 10
    # direct rows carry tonnes (4 decimals) in `rate`, on activity = volume = 1
    direct = method == METHOD_CODES["direct"]
    activity[direct] = 1.0
    volume[direct] = 1.0
    rate[direct] = rng.integers(0, 10_000_000, (int(direct.sum()), 3)) / 10_000
    extra = np.where(
        method == METHOD_CODES["thermal_power_performance"], rng.integers(0, 10**9, n) / 100, 0.0
    )
    eia = rng.integers(-1, 600_000_000, (n, 3))
    share = rng.integers(-1, 600_000_000, (n, 3))
    return {
        "method": method,
        "activity": activity,
        "volume": volume,
        "rate": rate,
        "extra_kwh": extra,
        "eia_kg": eia,
        "share_kg": share,
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000_000]
    for n in sizes:
        cols = facilities(n)
        permit_caps(**facilities(1000))  # warm-up
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            caps = permit_caps(**cols)
            best = min(best, time.perf_counter() - t0)
        print(
            json.dumps(
                {
                    "bench": "permit_caps",
                    "n": n,
                    "pollutants": 3,
                    "seconds": round(best, 4),
                    "exact_fallbacks": caps.exact_fallbacks,
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
