"""`erts ledger …`: verify the journal, reconcile, export for auditors, expire pendings.

Exit codes: 0 intact (or done), 1 the journal or a balance was tampered with (verify names
the first bad entry's seq; reconcile found and froze disagreeing accounts; resolve left the
account frozen), 2 bad input.

Four-eyes (issue 19): none of these commands posts a transfer, so none moves rights or money
and none needs a second officer; `resolve --restore` only sets an account's stored figures
to what the journal bears out. A command that moves rights files an approval request instead
of running alone when the policy asks a second officer (`erts permits revoke|cancel`, see
app.permits_cli and web.approvals.request_or_run).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _platform() -> Any:
    from app.settings import Settings
    from app.wiring import build

    return build(Settings())


def cmd_verify(args: argparse.Namespace) -> int:
    from ledger import service as ledger

    platform = _platform()
    try:
        report = ledger.verify(platform.uow())
    finally:
        platform.close()
    out = report.as_dict()
    if not args.all:
        out["discrepancies"] = out["discrepancies"][:20]  # type: ignore[index]
        out["pending_issues"] = out["pending_issues"][:20]  # type: ignore[index]
    print(json.dumps(out, ensure_ascii=False))
    if report.ok:
        print(f"erts: ledger intact: {report.entries} entries, {report.accounts} accounts, "
              f"{report.seconds:.2f} s", file=sys.stderr)
        return 0
    if report.first_bad_seq is not None:
        print(f"erts: ledger_tampered: first bad entry seq {report.first_bad_seq}: "
              f"{report.reason}", file=sys.stderr)
    else:
        print(f"erts: ledger_tampered: {report.reason}", file=sys.stderr)
    return 1


def cmd_reconcile(args: argparse.Namespace) -> int:
    from ledger import service as ledger

    platform = _platform()
    try:
        result = ledger.reconcile(platform.uow, actor=args.actor)
    finally:
        platform.close()
    print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    if result.verify.ok:
        return 0
    print(f"erts: ledger_tampered: reconciliation run {result.run}: {result.verify.reason}; "
          f"froze accounts {result.frozen}", file=sys.stderr)
    return 1


def cmd_export(args: argparse.Namespace) -> int:
    from ledger import service as ledger

    try:
        out = sys.stdout if args.output == "-" else open(  # noqa: SIM115
            args.output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        print(f"erts: file_unwritable: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    platform = _platform()
    try:
        for chunk in ledger.export_journal(platform.uow(), args.format):
            out.write(chunk)
    finally:
        platform.close()
        if out is not sys.stdout:
            out.close()
    return 0


def cmd_expire(args: argparse.Namespace) -> int:
    from ledger import service as ledger

    platform = _platform()
    try:
        expired = ledger.expire_pendings(platform.uow, actor=args.actor)
    finally:
        platform.close()
    print(json.dumps({"expired": expired}))
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from ledger import errors as E
    from ledger import service as ledger
    from ledger.transactions import Initiator

    platform = _platform()
    try:
        view = ledger.resolve(platform.uow, args.account, reason=args.reason,
                              initiator=Initiator.BUREAU, actor=args.actor,
                              restore=args.restore)
    except E.DiscrepancyUnresolved as exc:  # other rejections are bad input: exit 2
        print(f"erts: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        platform.close()
    print(json.dumps(view, ensure_ascii=False, default=str))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lp = sub.add_parser("ledger", help="the ledger: verify, reconcile, export, expire")
    ls = lp.add_subparsers(dest="ledger_cmd", required=True)
    v = ls.add_parser("verify", help="recompute the hash chain and every balance from the "
                                     "journal; exit 1 naming the first bad entry")
    v.add_argument("--all", action="store_true", help="list every discrepancy")
    v.set_defaults(func=cmd_verify)
    r = ls.add_parser("reconcile", help="compare stored balances with the journal and freeze "
                                        "accounts that disagree, recording why")
    r.add_argument("--actor", default="reconciliation",
                   help="name recorded in the journal (default %(default)s)")
    r.set_defaults(func=cmd_reconcile)
    e = ls.add_parser("export", help="the journal for auditors, as CSV or JSON")
    e.add_argument("--format", choices=["csv", "json"], required=True,
                   help="csv (one row per entry) or json (one document)")
    e.add_argument("--output", default="-", help="file, or - for stdout")
    e.set_defaults(func=cmd_export)
    f = ls.add_parser("resolve", help="reconcile a frozen account again and unfreeze it "
                                      "once it agrees with the journal (exit 1 while not)")
    f.add_argument("account", type=int, help="the frozen account's id")
    f.add_argument("--reason", required=True, help="why, recorded with the resolution")
    f.add_argument("--actor", required=True, help="the bureau administrator resolving it")
    f.add_argument("--restore", action="store_true",
                   help="with an intact chain, set the stored figures to the journal's")
    f.set_defaults(func=cmd_resolve)
    x = ls.add_parser("expire", help="expire pending transfers whose timeout has passed")
    x.add_argument("--actor", default="system",
                   help="name recorded in the journal (default %(default)s)")
    x.set_defaults(func=cmd_expire)
