"""`erts ledger witness --url URL --store DIR`: a second party keeps the registry honest.

The witness (run by the tax bureau, an auditor or an enterprise, on its own machine and on a
schedule, see docs/ledger-transparency.md) fetches the registry's published checkpoints
(URL + /api/v1/public/ledger/checkpoints), checks every signature, and checks with
consistency proofs (RFC 9162 §2.1.4, /api/v1/public/ledger/proofs/consistency) that each new
checkpoint extends the last one it kept; then it keeps the new ones. Its store, DIR/
checkpoints.json, is a saved checkpoints file in the published format, so it can be given to
`erts ledger verify --checkpoints` and to the standalone verifier (tools/erts_verify.py).
It needs nothing of the registry but its public URL: no database, no settings.

Trust: the public key is pinned with `--public-key B64`, or else on first use (the key of the
first answer is kept); a different key later is a failure, as is a different origin.

Exit codes (a failure prints `erts: code: message` on stderr; 1 and 2 are alarms):
  0  the checkpoints were verified and kept, or "nothing new" (the tree did not grow);
  1  the registry's history is not the one kept (evidence is saved in DIR/evidence-*.json):
     `ledger_fork` (two signed roots for one tree size, in the answer or against a kept
     checkpoint, or a new checkpoint not proven to extend the last kept one),
     `ledger_rollback` (the newest published tree is smaller than the last kept one);
  2  the published data fail their checks: `checkpoint_signature_invalid`,
     `checkpoint_key_mismatch` (a key other than the pinned or first-seen one),
     `checkpoint_origin_mismatch`, `checkpoint_file_invalid` (a malformed answer),
     `consistency_answer_invalid`; a damaged store (`witness_store_invalid`); bad arguments;
  3  the registry could not be reached or answered an HTTP error (`witness_fetch_failed`),
     or the store cannot be written (`file_unwritable`): retry, and look into it if it lasts
     (a registry that stops answering proofs is hiding something or broken).

Nothing is kept unless every check of the run passed: the store only grows by verified
checkpoints, written atomically (a temporary file in DIR, fsync, rename).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.cli_common import EXIT_ENVIRONMENT, EXIT_FAILURE, EXIT_INPUT, CliError
from kernel.errors import DomainError
from ledger import merkle, signing
from ledger.signing import Checkpoint, CheckpointsDoc

CHECKPOINTS_PATH = "/api/v1/public/ledger/checkpoints"
CONSISTENCY_PATH = "/api/v1/public/ledger/proofs/consistency"
STORE_FILE = "checkpoints.json"
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


class WitnessError(CliError):
    """A failed witness run: `erts: code: message`, exit `exit_code`."""

    def __init__(self, exit_code: int, code: str, message: str) -> None:
        super().__init__(message, code)
        self.exit_code = exit_code


def _fork(code: str, message: str) -> WitnessError:
    return WitnessError(EXIT_FAILURE, code, message)


def _invalid(code: str, message: str) -> WitnessError:
    return WitnessError(EXIT_INPUT, code, message)


# --- checkpoints -----------------------------------------------------------------------------

def parse_checkpoints(data: bytes, source: str) -> CheckpointsDoc:
    """Check a checkpoints document (ledger.signing.parse_checkpoints): its shape
    (`checkpoint_file_invalid`), key_id against the key (`checkpoint_key_mismatch`) and every
    signature (`checkpoint_signature_invalid`); all exit 2, naming `source`."""
    try:
        return signing.parse_checkpoints(data)
    except DomainError as exc:
        raise _invalid(exc.code, f"{source}: {exc.message}") from None
    except RecursionError:
        raise _invalid("checkpoint_file_invalid", f"{source}: nested too deeply") from None


def _b64_key(value: str) -> bytes:
    """A public key: canonical standard base64 of 32 bytes (ValueError otherwise)."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != value or len(raw) != 32:
        raise ValueError("not the canonical base64 of 32 bytes")
    return raw


# --- fetching --------------------------------------------------------------------------------

Fetch = Callable[[str], bytes]


def http_fetch(timeout: float) -> Fetch:
    """GET a URL and return its body; HTTP and network failures: `witness_fetch_failed`
    (exit 3); an answer larger than MAX_ANSWER_BYTES: `checkpoint_file_invalid` (exit 2)."""

    def fetch(url: str) -> bytes:
        req = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "erts-ledger-witness"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                body = resp.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                err = json.loads(exc.read(4096) or b"{}")
                if isinstance(err, dict) and (err.get("error") or err.get("code")):
                    detail = f" ({err.get('error') or err.get('code')})"
            except (ValueError, OSError):
                pass
            raise WitnessError(EXIT_ENVIRONMENT, "witness_fetch_failed",
                               f"GET {url}: HTTP {exc.code}{detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessError(EXIT_ENVIRONMENT, "witness_fetch_failed",
                               f"GET {url}: {reason}") from None
        if len(body) > MAX_ANSWER_BYTES:
            raise _invalid("checkpoint_file_invalid",
                           f"GET {url}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
        return bytes(body)

    return fetch


# --- the store -------------------------------------------------------------------------------

def load_store(store: Path) -> CheckpointsDoc | None:
    path = store / STORE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WitnessError(EXIT_ENVIRONMENT, "file_unreadable",
                           f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return parse_checkpoints(data, str(path))
    except WitnessError as exc:
        raise _invalid("witness_store_invalid",
                       f"the store is damaged ({exc.message}); move it away to start anew "
                       "(trust on first use again) or restore it from a backup") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old file or the new one,
    never a part: a temporary file in the same folder, fsync, rename, fsync the folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise WitnessError(EXIT_ENVIRONMENT, "file_unwritable",
                           f"cannot write {path}: {exc.strerror or exc}") from None


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


# --- the run ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str  # "kept" | "nothing_new"
    kept: list[Checkpoint]
    newest: Checkpoint | None

    def as_dict(self) -> dict[str, Any]:
        newest = self.newest.as_dict() if self.newest else None
        return {"status": self.status, "kept": [c.tree_size for c in self.kept],
                "newest": newest}


def _proof(fetch: Fetch, base: str, first: Checkpoint, second: Checkpoint
           ) -> tuple[dict[str, Any], bool]:
    """Fetch the consistency proof between two signed checkpoints and check it against
    their signed roots: (the answer, whether it proves that `second` extends `first`)."""
    query = urllib.parse.urlencode({"from": first.tree_size, "to": second.tree_size})
    body = fetch(f"{base}{CONSISTENCY_PATH}?{query}")
    try:
        try:
            answer = json.loads(body)
        except (UnicodeDecodeError, RecursionError):
            raise ValueError("not JSON") from None
        if not isinstance(answer, dict):
            raise ValueError("not a JSON object")
        if (answer.get("first"), answer.get("second")) != (first.tree_size, second.tree_size):
            raise ValueError("it is for other tree sizes than asked")
        path = answer.get("consistency_path")
        if not isinstance(path, list) or not all(
                isinstance(p, str) and _HEX64.fullmatch(p) for p in path):
            raise ValueError("consistency_path is not a list of 64-hex-digit hashes")
        roots = (answer.get("first_root"), answer.get("second_root"))
        if not all(isinstance(r, str) and _HEX64.fullmatch(r) for r in roots):
            raise ValueError("first_root or second_root is not 64 lowercase hex digits")
    except ValueError as exc:
        raise _invalid("consistency_answer_invalid",
                       f"the consistency proof from {first.tree_size} to "
                       f"{second.tree_size}: {exc}") from None
    if roots != (first.root_hash, second.root_hash):
        return answer, False  # the proof is about roots other than the signed ones
    ok = merkle.verify_consistency(first.tree_size, second.tree_size,
                                   bytes.fromhex(first.root_hash),
                                   bytes.fromhex(second.root_hash),
                                   [bytes.fromhex(p) for p in path])
    return answer, ok


def _save_evidence(store: Path, code: str, message: str, published: Any,
                   proof: Any = None) -> Path | None:
    """Keep what the registry published when it failed (signed, so it is proof of the
    fork): DIR/evidence-<UTC time>.json. Best effort: a failure to write it is not hidden
    behind another error."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = store / f"evidence-{stamp}.json"
    try:
        write_atomically(path, _dump({"code": code, "message": message,
                                      "observed_at": stamp, "published": published,
                                      "consistency_proof": proof}))
    except WitnessError:
        return None
    return path


def run(url: str, store: Path, *, public_key: str | None = None,
        fetch: Fetch | None = None, timeout: float = 30.0) -> Outcome:
    """One witness run (see the module docstring); raises WitnessError on any failure."""
    base = url.rstrip("/")
    fetch = fetch or http_fetch(timeout)
    kept = load_store(store)
    body = fetch(base + CHECKPOINTS_PATH)
    published = parse_checkpoints(body, f"GET {base}{CHECKPOINTS_PATH}")
    answer = json.loads(body)  # for the evidence: parse_checkpoints read it already

    trusted = public_key or (kept.public_key if kept else None)
    if trusted is not None and published.public_key != trusted:
        how = "pinned with --public-key" if public_key else "kept on first use"
        raise _invalid("checkpoint_key_mismatch",
                       f"the registry now signs with key {published.key_id}, not the key "
                       f"{signing.key_id(base64.b64decode(trusted))} {how}")
    if kept is not None and kept.public_key != published.public_key:
        raise _invalid("checkpoint_key_mismatch",
                       f"the registry now signs with key {published.key_id}, not the kept "
                       f"key {kept.key_id}")
    if kept is not None and kept.origin != published.origin:
        raise _invalid("checkpoint_origin_mismatch",
                       f"the registry now names its log {published.origin!r}, not "
                       f"{kept.origin!r}")

    def fork(code: str, message: str, proof: Any = None) -> WitnessError:
        saved = _save_evidence(store, code, message, answer, proof)
        where = f"; evidence saved in {saved}" if saved else ""
        hint = (f"; `erts ledger verify --checkpoints {store / STORE_FILE}` on the registry's "
                "database names the first entry that differs" if kept is not None else "")
        return _fork(code, message + where + hint)

    # one root per tree size, in the answer and against everything kept
    roots: dict[int, Checkpoint] = {}
    for cp in (kept.checkpoints if kept else []) + published.checkpoints:
        seen = roots.setdefault(cp.tree_size, cp)
        if seen.root_hash != cp.root_hash:
            raise fork("ledger_fork",
                       f"two signed checkpoints of tree_size {cp.tree_size} have different "
                       f"roots: {seen.root_hash} ({seen.timestamp}) and {cp.root_hash} "
                       f"({cp.timestamp}); the history under it was rewritten")

    last = kept.checkpoints[-1] if kept and kept.checkpoints else None
    newest = published.checkpoints[-1] if published.checkpoints else None
    if last is not None and (newest is None or newest.tree_size < last.tree_size):
        size = newest.tree_size if newest else "no checkpoint"
        raise fork("ledger_rollback",
                   f"the newest published checkpoint ({size}) is smaller than the kept one "
                   f"of tree_size {last.tree_size} ({last.timestamp})")

    # the new tree sizes, each proven to extend the one before (the first ever is trusted)
    new: list[Checkpoint] = []
    prev = last
    for cp in published.checkpoints:
        if (last is not None and cp.tree_size <= last.tree_size) or (
                new and cp.tree_size == new[-1].tree_size):
            continue
        if prev is not None:
            proof, ok = _proof(fetch, base, prev, cp)
            if not ok:
                kept_before = " kept before" if prev is last else ""
                raise fork("ledger_fork",
                           f"the checkpoint of tree_size {cp.tree_size} ({cp.timestamp}) is "
                           f"not proven to extend the checkpoint of tree_size "
                           f"{prev.tree_size} ({prev.timestamp}){kept_before}: the history "
                           "under it was rewritten or forked", proof)
        new.append(cp)
        prev = cp
    if not new:
        return Outcome("nothing_new", [], newest)
    doc = CheckpointsDoc(published.origin, published.public_key, published.key_id,
                         (kept.checkpoints if kept else []) + new)
    write_atomically(store / STORE_FILE, _dump(doc.as_dict()))
    return Outcome("kept", new, newest)


# --- the command -----------------------------------------------------------------------------

def _url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text[:80]!r} is not an http(s) URL")
    return text


def _key(text: str) -> str:
    try:
        _b64_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{value} is not from 0 to 3600 seconds")
    return value


def cmd_witness(args: argparse.Namespace) -> int:
    out = run(args.url, Path(args.store), public_key=args.public_key, timeout=args.timeout)
    print(json.dumps(out.as_dict(), ensure_ascii=False))
    newest = (f"tree_size {out.newest.tree_size} ({out.newest.timestamp})" if out.newest
              else "no checkpoint published yet")
    if out.status == "nothing_new":
        print(f"erts: witness: nothing new; newest {newest}", file=sys.stderr)
    else:
        print(f"erts: witness: kept {len(out.kept)} new checkpoint(s), each proven to extend "
              f"the one before; newest {newest}", file=sys.stderr)
    return 0


def register(ls: argparse._SubParsersAction) -> None:
    """Add `witness` to the `erts ledger` subcommands (called by app.ledger_cli.register)."""
    w = ls.add_parser("witness", help="fetch a registry's signed checkpoints, check that they "
                                      "extend the ones kept in DIR (consistency proofs) and "
                                      "keep them; exit 1 on a fork or a rewrite")
    w.add_argument("--url", required=True, type=_url,
                   help="the registry's public address, e.g. https://erts.example.gov.cn")
    w.add_argument("--store", required=True, metavar="DIR",
                   help="the witness's folder: DIR/checkpoints.json holds what was kept")
    w.add_argument("--public-key", type=_key, metavar="B64",
                   help="the registry's public key (base64), obtained by another channel; "
                        "default: trust the key of the first answer and keep it")
    w.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="seconds to wait for each answer (default %(default)s)")
    w.set_defaults(func=cmd_witness)
