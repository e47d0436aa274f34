"""`erts`: the command line. Exit codes: 0 ok, 2 bad input or a rejected request, 1 failure."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app import allocation_cli, ledger_cli, permits_cli, tax_cli
from kernel.errors import DomainError


def _settings():  # type: ignore[no-untyped-def]
    from app.settings import Settings

    return Settings()


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _Usage(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Usage(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc


class _Usage(Exception):
    pass


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    url = _settings().database_url
    upgrade(url)
    print(f"database at head: {url.split('@')[-1]}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import load_demo
    from app.migrate import upgrade
    from app.wiring import build

    settings = _settings()
    upgrade(settings.database_url)
    platform = build(settings)
    try:
        summary = load_demo(platform, seed=args.seed, enterprises=args.enterprises)
    finally:
        platform.close()
    print(json.dumps(summary.__dict__ if hasattr(summary, "__dict__") else summary,
                     default=str, ensure_ascii=False))
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket whose protocol is IPPROTO_TCP, for uvicorn's worker processes.

    uvicorn's own (`Config.bind_socket`) is created with protocol 0, and asyncio turns
    Nagle's algorithm off (TCP_NODELAY) only on connections accepted from a socket whose
    protocol is IPPROTO_TCP. With Nagle on, a response written as headers then body waits
    for the client's delayed ACK: measured 44 ms per request with `uvicorn --workers 2`
    against 0.6 ms with one worker."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers <= 1:
        from web.app import create_app

        uvicorn.run(create_app(_settings()), host=args.host, port=args.port,
                    log_level=args.log_level)
        return 0
    from uvicorn.supervisors import Multiprocess

    _settings()  # refuse bad settings here, before any worker starts
    config = uvicorn.Config("web.app:create_app", factory=True, host=args.host,
                            port=args.port, workers=args.workers,
                            log_level=args.log_level)
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        raise _Usage(f"address_unavailable: {args.host}:{args.port}: {exc.strerror}") from exc
    Multiprocess(config, sockets=[sock]).run()
    return 0


def cmd_permitted_quantity(args: argparse.Namespace) -> int:
    from allocation.sheet import compute_sheet

    print(json.dumps(compute_sheet(_read_json(args.input)), ensure_ascii=False, indent=2))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from trading.replay import replay

    band = None
    if args.price_band:
        lo, _, hi = args.price_band.partition(":")
        try:
            band = (int(lo), int(hi))
        except ValueError as exc:
            raise _Usage("--price-band takes LOW:HIGH in fen per tonne") from exc
    try:
        src = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise _Usage(f"cannot read {args.input}: {exc.strerror}") from exc
    with src:
        out = sys.stdout
        for line in replay(src, min_lot=args.min_lot, price_band=band):
            out.write(line + "\n")
    return 0


def cmd_auction_clear(args: argparse.Namespace) -> int:
    from trading.auction import clear_json

    print(json.dumps(clear_json(_read_json(args.input)), ensure_ascii=False))
    return 0


def cmd_reserve_optimise(args: argparse.Namespace) -> int:
    from allocation.reserve_lp import optimise_json

    print(json.dumps(optimise_json(_read_json(args.input)), ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="erts", description="排污权分配与交易平台 ERTS")
    sub = p.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd",
                                                                       required=True)
    db.add_parser("upgrade", help="run Alembic migrations to head").set_defaults(
        func=cmd_db_upgrade)

    d = sub.add_parser("demo", help="load a deterministic synthetic municipality")
    d.add_argument("--seed", type=int, default=2025)
    d.add_argument("--enterprises", type=int, default=1200)
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="serve the web app and API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1,
                   help="worker processes (production: one per core)")
    s.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(func=cmd_serve)

    pq = sub.add_parser("permitted-quantity", help="compute a calculation sheet")
    pq.add_argument("--input", required=True, help="sheet.json, or - for stdin")
    pq.set_defaults(func=cmd_permitted_quantity)

    r = sub.add_parser("replay", help="run an order stream through the matching core")
    r.add_argument("--input", required=True, help="orders.jsonl, or - for stdin")
    r.add_argument("--min-lot", type=int, default=None)
    r.add_argument("--price-band", default=None, help="LOW:HIGH fen per tonne")
    r.set_defaults(func=cmd_replay)

    a = sub.add_parser("auction", help="reserve auctions").add_subparsers(dest="auction_cmd",
                                                                           required=True)
    ac = a.add_parser("clear", help="clear a bid file without the database")
    ac.add_argument("--input", required=True)
    ac.set_defaults(func=cmd_auction_clear)

    rs = sub.add_parser("reserve", help="reserve optimiser").add_subparsers(
        dest="reserve_cmd", required=True)
    ro = rs.add_parser("optimise", help="optimise a reserve release problem")
    ro.add_argument("--input", required=True)
    ro.set_defaults(func=cmd_reserve_optimise)
    ledger_cli.register(sub)
    allocation_cli.register(sub)
    tax_cli.register(sub)
    permits_cli.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except _Usage as exc:
        print(f"erts: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        where = f" (field {exc.field})" if exc.field else ""
        print(f"erts: {exc.code}: {exc.message}{where}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
