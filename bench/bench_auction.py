"""Auction clearing time: trading.auction.clear on 100,000 random sealed bids.

Bids (2,000 bidders, 1-50 t each, prices 2,000-4,000 yuan/t in fen per tonne) are generated
once from a fixed seed; each repetition clears them with a 25 % bidder cap and a reserve price.
Prints one JSON line:

    {"bench":"auction_clear","bids":100000,"seconds":...,"p50_ms":...,"p99_ms":...}

`seconds` is the total over all repetitions. Usage: python bench/bench_auction.py [--bids N]
[--reps R]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from trading.auction import Bid, clear


def make_bids(n: int, seed: int) -> list[Bid]:
    rng = random.Random(seed)
    return [
        Bid(f"e{rng.randrange(2000)}", rng.randint(1, 50) * 1000, rng.randint(2000, 4000) * 100)
        for _ in range(n)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="auction clearing benchmark")
    parser.add_argument("--bids", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    bids = make_bids(args.bids, args.seed)
    offered = sum(b.qty for b in bids) // 3
    times: list[float] = []
    status = None
    for rep in range(args.reps):
        t0 = time.perf_counter()
        result = clear(
            offered,
            250_000,
            bids,
            rule="uniform",
            tie_seed=rep,
            bidder_cap_pct=25,
        )
        times.append(time.perf_counter() - t0)
        status = result.status
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(
        json.dumps(
            {
                "bench": "auction_clear",
                "bids": args.bids,
                "reps": args.reps,
                "seconds": round(sum(times), 4),
                "p50_ms": round(statistics.median(times) * 1000, 2),
                "p99_ms": round(p99 * 1000, 2),
                "status": status,
            },
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
