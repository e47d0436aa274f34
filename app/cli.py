"""`erts`: the command line.

Every failure is one line on stderr, `erts: code: message`, and an exit code:

- 0 done;
- 2 bad input or a rejected request: arguments (argparse's own errors and the ranges
  checked while parsing: ports 1..65535, positive lots and counts), input files that are not
  UTF-8 text, not JSON or nested too deeply, and every `DomainError` (`code` is its code);
- 3 the environment: the database unreachable or its URL unusable, an input file missing or
  unreadable, the port in use, the settings refused (e.g. the production secret);
- 1 a failure that is neither: the ledger's own checks (`erts ledger verify`) and an
  unexpected exception, printed as `erts: internal_error: Type: message` (a bug to report).

No input prints a traceback: `main` catches everything at the top. `ERTS_DEBUG=1` re-raises
unexpected exceptions so that their traceback shows.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from app import allocation_cli, ledger_cli, permits_cli, simulation_cli, tax_cli
from app.cli_common import (
    EXIT_ENVIRONMENT,
    EXIT_FAILURE,
    EXIT_INPUT,
    CliError,
    Unavailable,
    Usage,
    port_number,
    positive,
    read_json,
    whole,
)
from kernel.errors import DomainError


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, wrapped at spaces only: a `docs/...md#anchor` link in an option's
    help stays whole (copyable) however narrow the terminal."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False,
                             break_long_words=False)


class Parser(argparse.ArgumentParser):
    """argparse with errors in the `erts: code: message` shape (exit 2, no usage block);
    every subcommand's parser is one too (argparse builds them with the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"erts: bad_argument: {message} (see {self.prog} --help)\n")


def _settings():  # type: ignore[no-untyped-def]
    from app.settings import Settings

    return Settings()


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


def _bind(host: str, port: int) -> socket.socket:
    try:
        return listening_socket(host, port)
    except (OSError, OverflowError) as exc:  # in use, not ours, or not an address here
        why = getattr(exc, "strerror", None) or str(exc)
        raise Unavailable(f"{host}:{port}: {why}", "address_unavailable") from None


def _log_listening(host: str, port: int) -> None:
    """uvicorn logs where it listens only for sockets it binds itself."""
    import logging

    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()  # refuse bad settings here, before binding or any worker
    if settings.ledger_checkpoint_seconds and not settings.is_development:
        from ledger.errors import SigningKeyMissing

        try:  # the server signs the ledger's checkpoints (issue 16): no key, no start
            settings.ledger_signer()
        except SigningKeyMissing as exc:
            raise Unavailable(exc.message, exc.code) from None
    if args.workers <= 1:
        from web.app import create_app

        app = create_app(settings)
        sock = _bind(args.host, args.port)
        # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from any
        # loopback peer as the client; the app reads it only from ERTS_TRUSTED_PROXIES
        # (web.auth.client_address), so the throttle, sessions and audit agree
        config = uvicorn.Config(app, host=args.host, port=args.port,
                                log_level=args.log_level, proxy_headers=False)
        _log_listening(args.host, args.port)
        uvicorn.Server(config).run(sockets=[sock])
        return 0
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("web.app:create_app", factory=True, host=args.host,
                            port=args.port, workers=args.workers,
                            log_level=args.log_level, proxy_headers=False)
    sock = _bind(args.host, args.port)
    _log_listening(args.host, args.port)
    # one matching process owns every market's book; the web workers hand it their orders
    # (app.matcher, trading.matcher), so no worker rebuilds a book another one moved
    import tempfile

    from app.matcher import MatcherSupervisor
    from trading.matcher import SOCKET_ENV

    if settings.order_pipeline:
        run_dir = tempfile.mkdtemp(prefix="erts-matcher-")  # 0700: ours alone
        matcher = MatcherSupervisor(os.path.join(run_dir, "matcher.sock"))
        matcher.start()
        os.environ[SOCKET_ENV] = matcher.path  # read by each worker's Platform
        try:
            Multiprocess(config, sockets=[sock]).run()
        finally:
            matcher.stop()
            os.rmdir(run_dir)
        return 0
    Multiprocess(config, sockets=[sock]).run()
    return 0


def cmd_permitted_quantity(args: argparse.Namespace) -> int:
    from allocation.sheet import compute_sheet

    print(json.dumps(compute_sheet(read_json(args.input)), ensure_ascii=False, indent=2))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from trading.replay import replay

    band = None
    if args.price_band:
        lo, _, hi = args.price_band.partition(":")
        try:
            band = (positive(lo), positive(hi))
        except argparse.ArgumentTypeError:
            raise Usage("--price-band takes LOW:HIGH, whole fen per tonne from 1",
                         "bad_argument") from None
        if band[0] > band[1]:
            raise Usage("--price-band takes LOW:HIGH with LOW <= HIGH", "bad_argument")
    # Bytes in: lines end at b"\n" (JSON Lines), and replay reports bad UTF-8 by line number.
    try:
        src = (sys.stdin.buffer if args.input == "-"
               else open(args.input, "rb"))  # noqa: SIM115
    except OSError as exc:
        raise Unavailable(f"cannot read {args.input}: {exc.strerror or exc}",
                          "file_unreadable") from None
    with src:
        write = sys.stdout.write
        for line in replay(src, min_lot=args.min_lot, price_band=band):
            write(line + "\n")
    return 0


def cmd_auction_clear(args: argparse.Namespace) -> int:
    from trading.auction import clear_json

    print(json.dumps(clear_json(read_json(args.input)), ensure_ascii=False))
    return 0


def cmd_auction_run_due(args: argparse.Namespace) -> int:
    """One tick of the auctions' schedules (web.auction_schedule), one JSON line per step."""
    from app.wiring import build
    from web.auction_schedule import tick

    platform = build(_settings())
    try:
        for step in tick(platform):
            print(json.dumps(step, ensure_ascii=False))
    finally:
        platform.close()
    return 0


def cmd_reserve_optimise(args: argparse.Namespace) -> int:
    from allocation.reserve_lp import optimise_json

    print(json.dumps(optimise_json(read_json(args.input)), ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="erts", description="排污权分配与交易平台 ERTS: the registry and trading "
                                        "platform's command line")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd",
                                                                       required=True)
    db.add_parser("upgrade", help="run Alembic migrations to head").set_defaults(
        func=cmd_db_upgrade)

    d = sub.add_parser("demo", help="load a deterministic synthetic municipality")
    d.add_argument("--seed", type=whole(0, 2**32 - 1), default=2025,
                   help="random seed: the same seed builds the same municipality "
                        "(0 to 2^32-1; default %(default)s)")
    d.add_argument("--enterprises", type=whole(1, 1_000_000), default=1200,
                   help="how many enterprises to build, 20 to 20,000 (default %(default)s)")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="serve the web app and API")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default %(default)s; 0.0.0.0 for every "
                        "interface)")
    s.add_argument("--port", type=port_number, default=8000,
                   help="TCP port to listen on, 1 to 65535 (default %(default)s)")
    s.add_argument("--workers", type=whole(1, 1024), default=1,
                   help="worker processes (production: one per core)")
    s.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default %(default)s)")
    s.set_defaults(func=cmd_serve)

    pq = sub.add_parser("permitted-quantity", help="compute a calculation sheet")
    pq.add_argument("--input", required=True, metavar="FILE",
                    help="a calculation sheet, JSON (format: "
                         "docs/calculation-sheets.md#worked-sheets-erts-permitted-quantity), "
                         "or - for stdin")
    pq.set_defaults(func=cmd_permitted_quantity)

    r = sub.add_parser("replay", help="run an order stream through the matching core")
    r.add_argument("--input", required=True, metavar="FILE",
                   help="order commands, one JSON object a line (format: "
                        "docs/cli.md#order-stream-erts-replay), or - for stdin")
    r.add_argument("--min-lot", type=positive, default=None,
                   help="the book's minimum lot, kg (a whole number from 1; default: none)")
    r.add_argument("--price-band", default=None,
                   help="the price band, LOW:HIGH in fen per tonne (default: none)")
    r.set_defaults(func=cmd_replay)

    a = sub.add_parser("auction", help="reserve auctions").add_subparsers(dest="auction_cmd",
                                                                           required=True)
    ac = a.add_parser("clear", help="clear a bid file without the database")
    ac.add_argument("--input", required=True, metavar="FILE",
                    help="the offer and its bids, JSON (format: "
                         "docs/cli.md#auction-bids-erts-auction-clear), or - for stdin")
    ac.set_defaults(func=cmd_auction_clear)
    a.add_parser("run-due", help="take the scheduled auction steps that are due "
                                 "(announce, open, close and clear)").set_defaults(
        func=cmd_auction_run_due)

    rs = sub.add_parser("reserve", help="reserve optimiser").add_subparsers(
        dest="reserve_cmd", required=True)
    ro = rs.add_parser("optimise", help="optimise a reserve release problem")
    ro.add_argument("--input", required=True, metavar="FILE",
                    help="a reserve release problem, JSON (format: "
                         "docs/cli.md#reserve-release-problem-erts-reserve-optimise), "
                         "or - for stdin")
    ro.set_defaults(func=cmd_reserve_optimise)
    ledger_cli.register(sub)
    allocation_cli.register(sub)
    tax_cli.register(sub)
    permits_cli.register(sub)
    simulation_cli.register(sub)
    _describe(p)
    return p


def _subcommands(parser: argparse.ArgumentParser
                 ) -> list[tuple[str, str | None, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each direct subcommand."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {ca.dest: ca.help for ca in action._choices_actions}
            out += [(name, helps.get(name), sp) for name, sp in action.choices.items()]
    return out


def _describe(parser: argparse.ArgumentParser) -> None:
    """Each subcommand's own --help opens with its one-line help (argparse shows it only
    in the parent's list otherwise)."""
    for _name, help_, sp in _subcommands(parser):
        if not sp.description and help_:
            sp.description = help_
        _describe(sp)


def _report(code: str, message: str, exit_code: int) -> int:
    one_line = " ".join(str(message).split())
    print(f"erts: {code}: {one_line}", file=sys.stderr)
    return exit_code


def _settings_refused(exc: Exception) -> str:
    errors = exc.errors() if hasattr(exc, "errors") else []
    parts = []
    for e in errors:
        msg = str(e.get("msg", "")).removeprefix("Value error, ")
        where = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or str(exc)


def failure(exc: BaseException) -> tuple[str, str, int]:
    """The code, message and exit code of an exception escaping a command (see the module
    docstring); `internal_error` for an unexpected one."""
    import pydantic
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, CliError):
        return (exc.code, exc.message, exc.exit_code)
    if isinstance(exc, DomainError):
        where = f" (field {exc.field})" if exc.field else ""
        return (exc.code, f"{exc.message}{where}", EXIT_INPUT)
    if isinstance(exc, UnicodeDecodeError):
        return ("not_text", f"the input is not UTF-8 text (byte {exc.start})",
                EXIT_INPUT)
    if isinstance(exc, RecursionError):
        return ("input_too_deep", "the input is nested too deeply", EXIT_INPUT)
    if isinstance(exc, pydantic.ValidationError) and exc.title == "Settings":
        return ("settings_refused", _settings_refused(exc), EXIT_ENVIRONMENT)
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return ("settings_refused", f"DATABASE_URL: {exc}", EXIT_ENVIRONMENT)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        orig = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return ("database_unavailable", orig[0] if orig else type(exc).__name__,
                EXIT_ENVIRONMENT)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return ("environment_error", f"{where}{exc.strerror or exc}",
                EXIT_ENVIRONMENT)
    return ("internal_error", f"{type(exc).__name__}: {exc}", EXIT_FAILURE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. argparse's errors and --help exit through SystemExit (2 and 0);
    every other outcome is returned as the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return _report("interrupted", "stopped by the user", 130)
    except Exception as exc:
        code, message, exit_code = failure(exc)
        if code == "internal_error" and os.environ.get("ERTS_DEBUG") == "1":
            raise
        return _report(code, message, exit_code)


if __name__ == "__main__":
    # `python -m app.cli`: run the imported module's main, not this `__main__` copy, so that
    # one `app.cli` module object exists (the command modules' errors live in
    # `app.cli_common`, which both copies would share)
    from app.cli import main as _main

    raise SystemExit(_main())
