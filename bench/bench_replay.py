"""`erts replay` throughput: the CLI's JSON path against a plain Python book doing the same I/O.

The stream is `bench_book.py`'s (seeded; 70 % limit GTC, 30 % cancels of live orders, unique
ids), written once as JSON lines (``{"op":"limit","id":"o1","side":"buy","price":..,"qty":..,
"owner":"t1"}``, ``{"op":"cancel","id":"o1"}``). Each implementation reads that file and writes
one JSON line per fill to a file; the timed part is the whole read-match-write loop:

- ``erts replay[msgspec]``: `app.cli.main(["replay", "--input", FILE])` with stdout sent to the
  output file: the command as shipped (msgspec decodes each line into a typed command in C; the
  compiled `OrderBook` with the lifetime duplicate-id rule);
- ``erts replay[orjson]``, ``erts replay[json]``: the same loop (`trading.replay.replay`, bytes
  in, the CLI's writes out) with orjson's dicts checked in Python, and with the standard
  library's ``json`` (the reference path, what replay did before): the comparison that chose
  msgspec;
- ``plain_book[json]``: the least a Python program needs for the same output: the bench's
  `MinimalBook` (no rules), ``json.loads`` per line, each id's JSON text made once
  (``json.dumps`` with its cached default encoder), fills written as f-strings: the baseline of
  the goal (replay at >= 1.5x it);
- ``plain_book[msgspec]``, ``plain_book[orjson]``: the same plain book reading with the C
  decoders (untyped dicts): how much of the gain is I/O alone.

Every run is a fresh process; runs are interleaved ``--repeat`` times and the best counts.
All outputs must be the same bytes (``sha256``; the summary's ``outputs_identical``). Prints one
JSON line per implementation, then a summary:

    {"bench":"replay","impl":...,"lines":...,"seconds":...,"lines_per_s":...,"fills":...}
    {"bench":"replay","summary":{"replay_vs_plain_json":...,"goal":1.5,"decoders":{...},...}}

Usage: python bench/bench_replay.py [--events N] [--seed S] [--repeat R] [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_book import MinimalBook, generate  # noqa: E402

CLI = "erts replay[msgspec]"
ORJSON = "erts replay[orjson]"
STDLIB = "erts replay[json]"
PLAIN_JSON = "plain_book[json]"
PLAIN_MSGSPEC = "plain_book[msgspec]"
PLAIN_ORJSON = "plain_book[orjson]"
IMPLS = [CLI, ORJSON, STDLIB, PLAIN_JSON, PLAIN_MSGSPEC, PLAIN_ORJSON]
NEEDS_ORJSON = (ORJSON, PLAIN_ORJSON)


def write_stream(path: Path, n: int, seed: int) -> int:
    """The bench_book stream as JSON lines; returns the number of lines."""
    lines = 0
    with path.open("w", encoding="utf-8") as f:
        for ev in generate(n, seed):
            if ev[0] == "L":
                f.write(json.dumps({"op": "limit", "id": ev[1], "side": ev[6], "price": ev[3],
                                    "qty": ev[4], "owner": ev[5]}, separators=(",", ":")))
            else:
                f.write(json.dumps({"op": "cancel", "id": ev[1]}, separators=(",", ":")))
            f.write("\n")
            lines += 1
    return lines


def _cli(stream: str, out: str) -> None:
    from app.cli import main

    saved = sys.stdout
    with open(out, "w", encoding="utf-8") as sink:
        sys.stdout = sink
        try:
            code = main(["replay", "--input", stream])
        finally:
            sys.stdout = saved
    if code != 0:
        raise SystemExit(f"erts replay exited {code}")


def _replay_with(decoder: str) -> Callable[[str, str], None]:
    def run(stream: str, out: str) -> None:
        from trading.replay import replay

        with open(stream, "rb") as src, open(out, "w", encoding="utf-8") as sink:
            write = sink.write
            for line in replay(src, decoder=decoder):  # type: ignore[arg-type]
                write(line + "\n")

    return run


def _plain(loads: Callable[[Any], Any], binary: bool) -> Callable[[str, str], None]:
    def run(stream: str, out: str) -> None:
        book = MinimalBook()
        limit, cancel = book.limit, book.cancel
        dumps = json.dumps
        with (open(stream, "rb") if binary else open(stream, encoding="utf-8")) as src, \
                open(out, "w", encoding="utf-8") as sink:
            write = sink.write
            for line in src:
                cmd = loads(line)
                oid = dumps(cmd["id"])
                if cmd["op"] == "cancel":
                    cancel(oid)
                    continue
                for maker, taker, price, qty in limit(oid, cmd["side"] == "buy", cmd["price"],
                                                      cmd["qty"]):
                    write(f'{{"maker":{maker},"taker":{taker},"price":{price},"qty":{qty}}}\n')

    return run


def _runner(name: str) -> Callable[[str, str], None]:
    if name == CLI:
        return _cli
    if name == ORJSON:
        return _replay_with("orjson")
    if name == STDLIB:
        return _replay_with("json")
    if name == PLAIN_JSON:
        return _plain(json.loads, binary=False)
    if name == PLAIN_MSGSPEC:
        import msgspec

        return _plain(msgspec.json.decode, binary=True)
    if name == PLAIN_ORJSON:
        import orjson

        return _plain(orjson.loads, binary=True)
    raise KeyError(name)


def _time_one(name: str, stream: str, out: str, clock: str) -> None:
    """Child process: run one implementation once; print seconds, fills and the output's hash."""
    run = _runner(name)
    if name == CLI:
        import app.cli  # noqa: F401  (imported before the clock starts, as by the entry point)
        import trading.replay  # noqa: F401
    gc.collect()
    now = time.process_time if clock == "cpu" else time.perf_counter
    t0 = now()
    run(stream, out)
    dt = now() - t0
    data = Path(out).read_bytes()
    print(json.dumps({"seconds": dt, "fills": data.count(b"\n"),
                      "sha256": hashlib.sha256(data).hexdigest()[:16]}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time each run by elapsed time (default) or by the CPU time of "
                             "its process (steadier on a loaded machine)")
    parser.add_argument("--child", nargs=4, metavar=("IMPL", "STREAM", "OUT", "CLOCK"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _time_one(*args.child)
        return
    try:
        import orjson  # noqa: F401
        impls = IMPLS
    except ImportError:
        impls = [n for n in IMPLS if n not in NEEDS_ORJSON]
    best: dict[str, float] = {}
    fills: dict[str, int] = {}
    digest: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "orders.jsonl"
        lines = write_stream(stream, args.events, args.seed)
        out = str(Path(tmp) / "fills.jsonl")
        for _ in range(max(1, args.repeat)):
            for name in impls:
                r = subprocess.run([sys.executable, __file__, "--child", name, str(stream), out,
                                    args.clock], check=True, capture_output=True, text=True)
                res = json.loads(r.stdout.strip().splitlines()[-1])
                fills[name], digest[name] = res["fills"], res["sha256"]
                best[name] = min(res["seconds"], best.get(name, res["seconds"]))
    rates: dict[str, float] = {}
    for name in IMPLS:
        if name not in impls:
            print(json.dumps({"bench": "replay", "impl": name,
                              "skipped": "orjson not importable"}))
            continue
        rates[name] = lines / best[name]
        print(json.dumps({"bench": "replay", "impl": name, "lines": lines, "clock": args.clock,
                          "seconds": round(best[name], 4), "lines_per_s": round(rates[name]),
                          "fills": fills[name], "sha256": digest[name]},
                         separators=(",", ":")), flush=True)
    decoders = {n.split("[")[1].rstrip("]"): round(rates[n]) for n in (CLI, ORJSON, STDLIB)
                if n in rates}
    summary: dict[str, object] = {
        "replay_vs_plain_json": round(rates[CLI] / rates[PLAIN_JSON], 3),
        "goal": 1.5,
        "replay_vs_plain_msgspec": round(rates[CLI] / rates[PLAIN_MSGSPEC], 3),
        "replay_vs_its_json_path": round(rates[CLI] / rates[STDLIB], 3),
        "decoders_lines_per_s": decoders,
        "fastest_decoder": max(decoders, key=lambda d: decoders[d]),
        "outputs_identical": len(set(digest.values())) == 1,
    }
    print(json.dumps({"bench": "replay", "summary": summary}, separators=(",", ":")))


if __name__ == "__main__":
    main()
