"""`erts ledger …`: verify the journal, reconcile, export for auditors, expire pendings; the
transparency log (issue 16): make a signing key, sign a checkpoint, verify history against
saved checkpoints.

Exit codes: 0 intact (or done), 1 the journal or a balance was tampered with (verify names
the first bad entry's seq; reconcile found and froze disagreeing accounts; resolve left the
account frozen), or history differs from a saved checkpoint (`ledger_history_differs`,
naming the first leaf and the checkpoint's tree size), 2 bad input (a malformed checkpoints
file `checkpoint_file_invalid`, a bad signature `checkpoint_signature_invalid`, a wrong key
`checkpoint_key_mismatch`).

Four-eyes (issue 19): none of these commands posts a transfer, so none moves rights or money
and none needs a second officer; `resolve --restore` only sets an account's stored figures
to what the journal bears out. A command that moves rights files an approval request instead
of running alone when the policy asks a second officer (`erts permits revoke|cancel`, see
app.permits_cli and web.approvals.request_or_run).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _platform() -> Any:
    from app.settings import Settings
    from app.wiring import build

    return build(Settings())


def _checkpoints_file(path: str, expect_key: str | None, origin: str) -> Any:
    from app.cli_common import Unavailable
    from ledger import errors as E
    from ledger.signing import parse_checkpoints

    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024 * 1024)
    except OSError as exc:
        raise Unavailable(f"cannot read {path}: {exc.strerror or exc}",
                          "file_unreadable") from None
    doc = parse_checkpoints(data, expect_key=expect_key)
    if doc.origin != origin:
        raise E.CheckpointFileInvalid(f"the file's origin {doc.origin!r} is not this ledger's "
                                      f"({origin!r}, ERTS_LEDGER_ORIGIN)", field="origin")
    return doc


@contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while verifying: it makes no cycles, and a million rows
    of tuples would set off collections that walk every object (measured: about 15% of the
    time). What is alive before is frozen out of the collector's reach."""
    was = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.unfreeze()


def cmd_verify(args: argparse.Namespace) -> int:
    # the settings and the database only: the platform's services (allocation, trading)
    # are not needed to read the ledger, and importing them costs half a second
    from app.settings import Settings
    from storage.db import Database

    settings = Settings()
    doc = (_checkpoints_file(args.checkpoints, args.public_key, settings.ledger_origin)
           if args.checkpoints else None)
    db = Database(settings.database_url)
    try:
        with _no_gc():
            if doc is not None:  # one pass over the journal for both checks
                from ledger.audit import verify_all

                report, history = verify_all(db.uow(), doc)
            else:
                from ledger.service import verify

                report, history = verify(db.uow()), None
    finally:
        db.dispose()
    out = report.as_dict()
    if history is not None:
        out["history"] = history.as_dict()
    if history is not None and not history.ok:
        if not args.all:
            out["discrepancies"] = out["discrepancies"][:20]  # type: ignore[index]
        print(json.dumps(out, ensure_ascii=False))
        what = (f" ({history.record['kind']} {history.record['ref']})" if history.record
                else "")
        print(f"erts: ledger_history_differs: first differing leaf {history.first_leaf}"
              f"{what}, under the checkpoint of tree size {history.checkpoint_size}: "
              f"{history.reason}", file=sys.stderr)
        return 1
    if not args.all:
        out["discrepancies"] = out["discrepancies"][:20]  # type: ignore[index]
        out["pending_issues"] = out["pending_issues"][:20]  # type: ignore[index]
    print(json.dumps(out, ensure_ascii=False))
    if report.ok:
        print(f"erts: ledger intact: {report.entries} entries, {report.accounts} accounts, "
              f"{report.seconds:.2f} s", file=sys.stderr)
        if history is not None:
            print(f"erts: history matches {history.checkpoints} checkpoints over "
                  f"{history.leaves} leaves, {history.seconds:.2f} s", file=sys.stderr)
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


def cmd_keygen(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.cli_common import Unavailable, Usage
    from ledger.signing import write_key_file

    try:
        signer = write_key_file(Path(args.out))
    except FileExistsError:
        raise Usage(f"{args.out} exists: a signing key is never overwritten",
                    "file_exists") from None
    except OSError as exc:
        raise Unavailable(f"cannot write {args.out}: {exc.strerror or exc}",
                          "file_unwritable") from None
    print(json.dumps({"file": args.out, "public_key": signer.public_key,
                      "key_id": signer.key_id}))
    print(f"erts: wrote an Ed25519 signing key to {args.out} (mode 0600); set "
          f"ERTS_LEDGER_SIGNING_KEY_FILE={args.out}. Keep it out of the database and its "
          "backups.", file=sys.stderr)
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from kernel.clock import system_clock
    from ledger import transparency

    platform = _platform()
    try:
        signer = platform.settings.ledger_signer()
        cp = transparency.checkpoint(platform.uow(), signer,
                                     origin=platform.settings.ledger_origin,
                                     now=system_clock())
    finally:
        platform.close()
    print(json.dumps(cp))
    if cp is None:
        print("erts: the log is empty: nothing to sign", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lp = sub.add_parser("ledger", help="the ledger: verify, reconcile, export, expire, "
                                       "keygen, checkpoint")
    ls = lp.add_subparsers(dest="ledger_cmd", required=True)
    v = ls.add_parser("verify", help="recompute the hash chain and every balance from the "
                                     "journal; exit 1 naming the first bad entry")
    v.add_argument("--all", action="store_true", help="list every discrepancy")
    v.add_argument("--checkpoints", metavar="FILE",
                   help="also rebuild the Merkle tree from the journal and records and "
                        "compare it with these saved signed checkpoints (the JSON of GET "
                        "/api/v1/public/ledger/checkpoints, format: "
                        "docs/ledger-transparency.md#the-checkpoints-file); exit 1 naming "
                        "the first leaf that differs")
    v.add_argument("--public-key", metavar="B64",
                   help="with --checkpoints: the public key the file must carry")
    v.set_defaults(func=cmd_verify)
    k = ls.add_parser("keygen", help="make an Ed25519 key to sign checkpoints")
    k.add_argument("--out", required=True, metavar="PATH",
                   help="where to write the private key (PEM, mode 0600; never overwritten)")
    k.set_defaults(func=cmd_keygen)
    c = ls.add_parser("checkpoint", help="sign the Merkle tree's size and root now and "
                                         "publish the checkpoint")
    c.set_defaults(func=cmd_checkpoint)
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
    from app import ledger_witness  # `erts ledger witness` (issue 16): no database needed

    ledger_witness.register(ls)
