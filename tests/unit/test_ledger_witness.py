"""`erts ledger witness` (issue 16) against a fake registry: a stdlib HTTP server in a thread
serving checkpoints and consistency proofs made here with ledger.merkle and a test key.
Consistent growth is verified and kept; a fork (two roots for one size, or a newer root that
does not extend the kept one), a rollback, a bad signature and a key change fail."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app import ledger_witness as W
from app.cli import main as erts
from ledger import merkle

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
ORIGIN = "erts.local/ledger"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


class Log:
    """A registry's log: leaves, a node store filled by merkle.Frontier, signed checkpoints."""

    def __init__(self, leaves: list[bytes], key: Ed25519PrivateKey = KEY) -> None:
        self.key = key
        self.leaves: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier = merkle.Frontier()
        self.checkpoints: list[dict[str, Any]] = []
        self.append(leaves)

    def append(self, leaves: list[bytes]) -> None:
        for data in leaves:
            self.leaves.append(data)
            for level, index, h in self.frontier.append(merkle.leaf_hash(data)):
                self.nodes[(level, index)] = h

    def root(self, size: int) -> bytes:
        return merkle.root_from_nodes(size, self.nodes)

    def sign(self, size: int | None = None, root: bytes | None = None,
             minute: int | None = None) -> None:
        size = len(self.leaves) if size is None else size
        root_hex = (root or self.root(size)).hex()
        ts = f"2026-12-06T03:{(minute if minute is not None else len(self.checkpoints)):02d}:00Z"
        text = f"erts-ledger-checkpoint/v1\n{ORIGIN}\n{size}\n{root_hex}\n{ts}\n".encode()
        self.checkpoints.append({
            "tree_size": size, "root_hash": root_hex, "timestamp": ts,
            "key_id": hashlib.sha256(raw_public(self.key)).digest()[:8].hex(),
            "signature": b64(self.key.sign(text))})

    def published(self) -> dict[str, Any]:
        pub = raw_public(self.key)
        return {"origin": ORIGIN, "public_key": b64(pub),
                "key_id": hashlib.sha256(pub).digest()[:8].hex(),
                "checkpoints": sorted(self.checkpoints, key=lambda c: c["tree_size"])}

    def consistency(self, m: int, n: int) -> dict[str, Any]:
        path = merkle.consistency_proof(m, n, lambda lv, i: self.nodes[(lv, i)])
        return {"first": m, "second": n, "first_root": self.root(m).hex(),
                "second_root": self.root(n).hex(), "consistency_path": [p.hex() for p in path]}


def entries(start: int, n: int, tag: str = "") -> list[bytes]:
    return [f"journal entry {i}{tag}".encode() for i in range(start, start + n)]


class Registry:
    """What the fake server answers: `log` (or `checkpoints_answer` / `proof_answer` when a
    test wants a particular lie), `status` for an HTTP error; `requests` records the paths."""

    def __init__(self) -> None:
        self.log = Log(entries(0, 10))
        self.checkpoints_answer: Any = None
        self.proof_answer: Any = None
        self.proof_log: Log | None = None
        self.status = 200
        self.proof_status = 200
        self.requests: list[str] = []


@pytest.fixture
def registry() -> Iterator[tuple[Registry, str]]:
    reg = Registry()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            reg.requests.append(self.path)
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            body: Any
            if reg.status != 200:
                status, body = reg.status, {"error": "unavailable", "detail": "down"}
            elif url.path == "/api/v1/public/ledger/checkpoints":
                status = 200
                body = (reg.checkpoints_answer if reg.checkpoints_answer is not None
                        else reg.log.published())
            elif url.path == "/api/v1/public/ledger/proofs/consistency":
                status = reg.proof_status
                log = reg.proof_log or reg.log
                body = (reg.proof_answer if reg.proof_answer is not None
                        else log.consistency(int(q["from"]), int(q["to"])))
            else:
                status, body = 404, {"code": "not_found"}
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield reg, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def stored(store: Path) -> dict[str, Any]:
    return json.loads((store / "checkpoints.json").read_text(encoding="utf-8"))


def fails(exit_code: int, code: str, url: str, store: Path, **kw: Any) -> str:
    with pytest.raises(W.WitnessError) as exc:
        W.run(url, store, timeout=5, **kw)
    assert (exc.value.exit_code, exc.value.code) == (exit_code, code), exc.value.message
    return exc.value.message


def test_consistent_growth_is_verified_and_kept(registry: tuple[Registry, str],
                                                tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "witness"
    reg.log.sign()
    first = W.run(url, store, timeout=5)
    assert (first.status, [c.tree_size for c in first.kept]) == ("kept", [10])
    assert stored(store) == reg.log.published()
    # nothing new: the store is untouched and no proof is asked
    before = (store / "checkpoints.json").read_bytes()
    reg.requests.clear()
    again = W.run(url, store, timeout=5)
    assert again.status == "nothing_new" and again.newest is not None
    assert again.newest.tree_size == 10
    assert (store / "checkpoints.json").read_bytes() == before
    assert reg.requests == ["/api/v1/public/ledger/checkpoints"]
    # growth by two checkpoints: each proven to extend the one before
    reg.log.append(entries(10, 7))
    reg.log.sign()
    reg.log.append(entries(17, 16))
    reg.log.sign()
    reg.requests.clear()
    grown = W.run(url, store, timeout=5)
    assert [c.tree_size for c in grown.kept] == [17, 33]
    assert reg.requests[1:] == ["/api/v1/public/ledger/proofs/consistency?from=10&to=17",
                                "/api/v1/public/ledger/proofs/consistency?from=17&to=33"]
    assert stored(store) == reg.log.published()
    assert sorted(p.name for p in store.iterdir()) == ["checkpoints.json"]  # no temp files


def test_a_rewritten_history_is_a_fork(registry: tuple[Registry, str], tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign()
    W.run(url, store, timeout=5)
    kept = stored(store)
    # the operator rewrites entry 4, recomputes the tree, grows it and signs anew: the honest
    # proof of the rewritten log starts from a root the witness never saw
    rewritten = Log(entries(0, 4) + [b"journal entry 4, altered"] + entries(5, 5))
    rewritten.append(entries(10, 6))
    rewritten.sign(size=16)
    reg.log = rewritten
    message = fails(1, "ledger_fork", url, store)
    assert "tree_size 16" in message and "tree_size 10" in message
    assert stored(store) == kept  # nothing kept
    evidence = [p for p in store.iterdir() if p.name.startswith("evidence-")]
    assert len(evidence) == 1
    saved = json.loads(evidence[0].read_text(encoding="utf-8"))
    assert saved["code"] == "ledger_fork"
    assert saved["published"] == rewritten.published()
    assert saved["consistency_proof"] == rewritten.consistency(10, 16)
    # a forged proof naming the kept root for size 10 does not verify either
    honest = Log(entries(0, 16))
    reg.proof_answer = {**rewritten.consistency(10, 16),
                        "first_root": honest.root(10).hex()}
    fails(1, "ledger_fork", url, store)
    # nor the honest log's proof presented for the rewritten root
    reg.proof_answer = {**honest.consistency(10, 16),
                        "second_root": rewritten.root(16).hex()}
    fails(1, "ledger_fork", url, store)
    assert stored(store) == kept


def test_two_roots_for_one_size_are_a_fork(registry: tuple[Registry, str],
                                           tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign()
    W.run(url, store, timeout=5)
    # the same size re-signed over another history
    rewritten = Log(entries(0, 9) + [b"altered"])
    rewritten.sign(size=10, minute=30)
    reg.log = rewritten
    assert "tree_size 10" in fails(1, "ledger_fork", url, store)
    # two roots for one size inside one answer, on the first run of another witness
    both = Log(entries(0, 10))
    both.sign(minute=1)
    both.checkpoints.append(rewritten.checkpoints[0])
    reg.log = both
    fails(1, "ledger_fork", url, tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "checkpoints.json").exists()


def test_a_shrunk_log_is_a_rollback(registry: tuple[Registry, str], tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign(size=6)
    reg.log.sign()
    W.run(url, store, timeout=5)
    smaller = Log(entries(0, 6))
    smaller.sign(minute=0)
    reg.log = smaller
    fails(1, "ledger_rollback", url, store)
    reg.checkpoints_answer = {**smaller.published(), "checkpoints": []}
    fails(1, "ledger_rollback", url, store)


def test_signatures_and_keys(registry: tuple[Registry, str], tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign()
    good = reg.log.published()
    # a tampered root, size or signature on the first run: nothing is kept
    for field, value in (("root_hash", "00" * 32), ("tree_size", 9),
                         ("signature", b64(bytes(64)))):
        reg.checkpoints_answer = {**good, "checkpoints": [{**good["checkpoints"][0],
                                                           field: value}]}
        fails(2, "checkpoint_signature_invalid", url, store)
    assert not store.exists() or not (store / "checkpoints.json").exists()
    reg.checkpoints_answer = {**good, "key_id": "0" * 16}
    fails(2, "checkpoint_key_mismatch", url, store)
    # pinned to another key: refused even on first use
    other = Log(entries(0, 10), OTHER_KEY)
    other.sign()
    reg.checkpoints_answer = None
    reg.log = other
    fails(2, "checkpoint_key_mismatch", url, store, public_key=good["public_key"])
    # trust on first use, then a key change (the same history re-signed) is refused
    reg.log = Log(entries(0, 10))
    reg.log.sign()
    W.run(url, store, timeout=5)
    other.append(entries(10, 5))
    other.sign()
    reg.log = other
    assert other.published()["key_id"] in fails(2, "checkpoint_key_mismatch", url, store)
    assert stored(store) == good
    # the registry's own key, pinned, passes
    reg.log = Log(entries(0, 10))
    reg.log.sign()
    assert W.run(url, store, public_key=good["public_key"], timeout=5).status == "nothing_new"


@pytest.mark.parametrize("answer", [b"not json", b"[]", b'{"origin": "x"}', b"\xff"])
def test_malformed_answers_exit_2(answer: bytes, registry: tuple[Registry, str],
                                  tmp_path: Path) -> None:
    reg, url = registry
    reg.checkpoints_answer = answer
    fails(2, "checkpoint_file_invalid", url, tmp_path / "w")


def test_malformed_proofs_exit_2(registry: tuple[Registry, str], tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign()
    W.run(url, store, timeout=5)
    reg.log.append(entries(10, 3))
    reg.log.sign()
    good = reg.log.consistency(10, 13)
    bad: Any
    for bad in ([], {**good, "second": 14}, {**good, "consistency_path": "x"},
                {**good, "consistency_path": ["AB" * 32]}, {**good, "first_root": None}):
        reg.proof_answer = bad
        fails(2, "consistency_answer_invalid", url, store)
    reg.proof_answer = None
    assert W.run(url, store, timeout=5).status == "kept"


def test_unreachable_registry_and_damaged_store(registry: tuple[Registry, str],
                                                tmp_path: Path) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.status = 503
    assert "HTTP 503 (unavailable)" in fails(3, "witness_fetch_failed", url, store)
    fails(3, "witness_fetch_failed", "http://127.0.0.1:9", store)  # nothing listens there
    reg.status = 200
    reg.log.sign()
    W.run(url, store, timeout=5)
    kept = stored(store)
    # the log grew but the proof is refused: nothing kept, exit 3
    reg.log.append(entries(10, 1))
    reg.log.sign()
    reg.proof_status = 500
    fails(3, "witness_fetch_failed", url, store)
    assert stored(store) == kept
    reg.proof_status = 200
    (store / "checkpoints.json").write_text("{", encoding="utf-8")
    fails(2, "witness_store_invalid", url, store)
    (store / "checkpoints.json").write_text(json.dumps({**kept, "key_id": "1" * 16}),
                                            encoding="utf-8")
    fails(2, "witness_store_invalid", url, store)
    (store / "checkpoints.json").write_text(json.dumps(kept), encoding="utf-8")
    assert [c.tree_size for c in W.run(url, store, timeout=5).kept] == [11]


def test_the_command(registry: tuple[Registry, str], tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    reg, url = registry
    store = tmp_path / "w"
    reg.log.sign()
    assert erts(["ledger", "witness", "--url", url, "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["kept"] == [10]
    assert "kept 1 new checkpoint" in err
    assert erts(["ledger", "witness", "--url", url, "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "nothing_new" and "nothing new" in err
    reg.log = Log(entries(0, 9) + [b"altered"])
    reg.log.append(entries(10, 2))
    reg.log.sign()
    assert erts(["ledger", "witness", "--url", url, "--store", str(store)]) == 1
    assert capsys.readouterr().err.startswith("erts: ledger_fork: ")
    other = Log(entries(0, 12), OTHER_KEY)
    other.sign()
    reg.log = other
    assert erts(["ledger", "witness", "--url", url, "--store", str(store)]) == 2
    assert capsys.readouterr().err.startswith("erts: checkpoint_key_mismatch: ")
    with pytest.raises(SystemExit) as exc:
        erts(["ledger", "witness", "--url", url, "--store", str(store), "--public-key", "abc"])
    assert exc.value.code == 2
    assert "erts: bad_argument:" in capsys.readouterr().err
