"""`erts permits ...`: the permit register from the command line (issue 17).

    erts permits import --input permits.csv [--partial] [--dry-run] [--actor NAME]
    erts permits expiring [--today 2030-11-01]
    erts permits renew --permit CODE --applied-on 2030-10-01 --reason "..." [--valid-to D]
    erts permits revoke --permit CODE --reason "..." [--on 2026-06-01]
    erts permits cancel --permit CODE --reason "..." [--on 2026-06-01]

Each prints one JSON document on stdout. Exit codes: 0 done; 2 bad input or a rejected
request (a file with row errors: each error on stderr as `line N: field: message`, nothing
imported unless --partial); 3 the environment (the file missing or unreadable, the database
unreachable); 1 failure (see app.cli). The input may be CSV (UTF-8 or GB 18030) or an Excel
workbook (.xlsx, first sheet).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.cli_common import read_bytes


def _actor(args: argparse.Namespace) -> str:
    return str(args.actor or os.environ.get("USER") or "cli")


def _platform() -> Any:
    from app.settings import Settings
    from app.wiring import build

    return build(Settings())


def _print(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _day(text: str | None, field: str) -> Any:
    from allocation.register_service import parse_day

    return None if text is None else parse_day(text, field)


def cmd_import(args: argparse.Namespace) -> int:
    from allocation import register_service as reg
    from allocation.register import PermitFileRejected
    from compliance.reporting.workbook import upload_text

    data = read_bytes(args.input)
    text = upload_text(data, args.input)
    p = _platform()
    try:
        out = reg.import_permits(p.uow(), text=text, filename=Path(args.input).name,
                                 actor=_actor(args), partial=args.partial,
                                 dry_run=args.dry_run)
    except PermitFileRejected as exc:
        summary: dict[str, Any] = dict(exc.details.get("summary") or {})  # type: ignore[call-overload]
        for e in summary.get("errors", []):
            print(f"line {e['line']}: {e['field']}: {e['message']}", file=sys.stderr)
        print(f"erts: {exc.code}: {exc.message}", file=sys.stderr)
        _print({k: v for k, v in summary.items() if k != "errors"})
        return 2
    finally:
        p.close()
    for e in out["errors"]:
        print(f"line {e['line']}: {e['field']}: {e['message']}", file=sys.stderr)
    _print(out)
    # a dry run of a file that would be rejected fails like the import would
    return 2 if out["status"] == "rejected" else 0


def cmd_expiring(args: argparse.Namespace) -> int:
    from allocation import register_service as reg

    p = _platform()
    try:
        _print(reg.expiring_permits(p.uow(), today=_day(args.today, "today")))
    finally:
        p.close()
    return 0


def cmd_renew(args: argparse.Namespace) -> int:
    from allocation import register_service as reg

    p = _platform()
    try:
        _print(reg.renew_permit(p.uow(), permit=args.permit,
                                applied_on=_day(args.applied_on, "applied_on"),
                                valid_to=_day(args.valid_to, "valid_to"),
                                actor=_actor(args), reason=args.reason))
    finally:
        p.close()
    return 0


def cmd_end(args: argparse.Namespace) -> int:
    """Revocation or cancellation recovers rights (ledger type "recovery"): when the approval
    policy asks a second officer for it (the default), the CLI does not run it but files the
    approval request in the name of --actor, validated in full first; another officer
    approves it on the web (/bureau/approvals). Exit 0 with `{"status": "pending", ...}`."""
    from allocation import register_service as reg
    from web import approvals
    from web.api import register as _steps  # noqa: F401  (registers "end_permit")

    on = _day(args.on, "on")
    payload = dict(permit=args.permit, step=args.step, reason=args.reason,
                   on=on.isoformat() if on else None)
    p = _platform()
    try:
        reg.check_active(p.uow(), args.permit, allowed=reg.END_STEPS[args.step][1])
        outcome, out = approvals.request_or_run(
            p, _actor(args), tx_type="recovery", action="end_permit", target=args.permit,
            payload=payload, summary=f"{args.step} of {args.permit} ({args.reason})")
    finally:
        p.close()
    _print(out)
    if outcome == "pending":
        print(f"erts: approval request {out['id']} pending: another bureau officer approves "
              "it at /bureau/approvals", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `permits` commands to the `erts` parser."""
    pm = sub.add_parser("permits", help="the permit register: import, renewal, revocation"
                        ).add_subparsers(dest="permits_cmd", required=True)
    im = pm.add_parser("import", help="import a permit file (CSV or .xlsx)")
    im.add_argument("--input", required=True, metavar="FILE",
                    help="a permit file, CSV (UTF-8 or GB 18030) or .xlsx (format: "
                         "docs/permit-register.md#importing-a-permit-file), or - for stdin")
    im.add_argument("--partial", action="store_true",
                    help="import the permits without errors (default: all or nothing)")
    im.add_argument("--dry-run", action="store_true", help="check only, store nothing")
    im.add_argument("--actor", help="name recorded in the history (default: $USER)")
    im.set_defaults(func=cmd_import)
    ex = pm.add_parser("expiring", help="valid permits within 60 days of expiry")
    ex.add_argument("--today", help="the day to count from, YYYY-MM-DD (default: today)")
    ex.set_defaults(func=cmd_expiring)
    rn = pm.add_parser("renew", help="renew a permit (延续)")
    rn.add_argument("--permit", required=True, help="the permit's code")
    rn.add_argument("--applied-on", required=True,
                    help="the day the renewal was applied for, YYYY-MM-DD")
    rn.add_argument("--valid-to",
                    help="new end of validity, YYYY-MM-DD (default: the full 5-year term)")
    rn.add_argument("--reason", required=True, help="why, recorded in the history")
    rn.add_argument("--actor", help="name recorded in the history (default: $USER)")
    rn.set_defaults(func=cmd_renew)
    for name, step in (("revoke", "revocation"), ("cancel", "cancellation")):
        e = pm.add_parser(name, help=f"{step} of a permit")
        e.add_argument("--permit", required=True, help="the permit's code")
        e.add_argument("--on", help=f"the day of the {step}, YYYY-MM-DD (default: today)")
        e.add_argument("--reason", required=True, help="why, recorded in the history")
        e.add_argument("--actor", help="the officer filing it (default: $USER)")
        e.set_defaults(func=cmd_end, step=step)
