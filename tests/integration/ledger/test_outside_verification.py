"""Verification outside the platform (issue 16), against the real public API on SQLite and
PostgreSQL: proofs saved from /api/v1/public/ledger verify in the standalone verifier
(tools/erts_verify.py) and tampered ones fail; the witness keeps consistent growth, and when
the operator rewrites history and the tree and signs again, the witness fails and its store
lets `erts ledger verify --checkpoints` name the rewrite."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import ledger_witness as W
from app.cli_common import EXIT_ENVIRONMENT
from ledger import transparency as T
from ledger.log_store import LogStore
from ledger.signing import Signer, parse_checkpoints
from tests.integration.ledger.conftest import NOW, Books, raw_engine
from tests.integration.ledger.test_transparency import rewrite_history, traffic

pytestmark = pytest.mark.db
TOOL = Path(__file__).resolve().parents[3] / "tools" / "erts_verify.py"
_spec = importlib.util.spec_from_file_location("erts_verify", TOOL)
assert _spec is not None and _spec.loader is not None
V: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


@pytest.fixture
def api(platform: Any) -> Iterator[TestClient]:
    from web.app import create_app

    with TestClient(create_app(platform.settings, platform)) as c:
        yield c


def fetcher(api: TestClient) -> W.Fetch:
    """The witness's fetch through the app in process (no socket): the path and query of
    the URL, an HTTP error as `witness_fetch_failed` like the real fetch."""

    def fetch(url: str) -> bytes:
        path = url.split("://", 1)[1].split("/", 1)[1]
        r = api.get("/" + path)
        if r.status_code != 200:
            raise W.WitnessError(EXIT_ENVIRONMENT, "witness_fetch_failed",
                                 f"GET {url}: HTTP {r.status_code}")
        return r.content

    return fetch


def sign(platform: Any, signer: Signer, minutes: int) -> dict[str, Any]:
    cp = T.checkpoint(platform.uow(), signer, origin=platform.settings.ledger_origin,
                      now=NOW + timedelta(minutes=minutes))
    assert cp is not None
    return cp


def verify(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = V.main(argv)
    return code, capsys.readouterr().err


def test_api_proofs_verify_in_the_standalone_verifier(
        platform: Any, books: Books, api: TestClient, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    traffic(platform, books, 2)
    first = sign(platform, signer, 1)
    traffic(platform, books, 2, tag="u")
    second = sign(platform, signer, 2)
    m, n = first["tree_size"], second["tree_size"]
    cps = tmp_path / "checkpoints.json"
    cps.write_bytes(api.get("/api/v1/public/ledger/checkpoints").content)
    key = json.loads(cps.read_text())["public_key"]
    assert key == signer.public_key
    assert verify(["checkpoint", str(cps), "--public-key", key], capsys) == (0, "")
    for size in (m, n):
        for i in range(size):
            r = api.get(f"/api/v1/public/ledger/proofs/inclusion?entry={i}&size={size}")
            proof = tmp_path / f"inclusion-{i}-{size}.json"
            proof.write_bytes(r.content)
            assert verify(["inclusion", str(proof), "--checkpoints", str(cps),
                           "--public-key", key], capsys) == (0, ""), (i, size)
    default = api.get("/api/v1/public/ledger/proofs/inclusion?entry=3").json()
    assert default["tree_size"] == n  # the latest checkpoint's size
    consistency = tmp_path / "consistency.json"
    consistency.write_bytes(api.get(f"/api/v1/public/ledger/proofs/consistency?from={m}&to={n}")
                            .content)
    assert verify(["consistency", str(consistency), "--checkpoints", str(cps)], capsys) == (
        0, "")
    # the public proof has no leaf data: the verifier checks the path from the leaf's hash
    public = json.loads((tmp_path / f"inclusion-3-{n}.json").read_text())
    assert "leaf_data" not in public
    assert V.main(["inclusion", str(tmp_path / f"inclusion-3-{n}.json"), "--checkpoints",
                   str(cps)]) == 0
    assert "contents were not checked" in capsys.readouterr().out
    # tampered: a leaf's data, an audit path element, a root (the proof with the leaf's data,
    # as an enterprise gets it for its own leaves)
    doc = T.inclusion(platform.uow(), 3, n)
    assert {k: v for k, v in doc.items() if k not in ("leaf_data", "record")} == {
        k: v for k, v in public.items() if k != "record"}
    (tmp_path / "with-data.json").write_text(json.dumps(doc))
    assert V.main(["inclusion", str(tmp_path / "with-data.json"), "--checkpoints",
                   str(cps)]) == 0
    assert "leaf_data hash to leaf_hash" in capsys.readouterr().out
    bad_path = [doc["audit_path"][0][:-1] + ("0" if doc["audit_path"][0][-1] != "0" else "1")]
    for change, code in (({"leaf_data": doc["leaf_data"][:-4] + "AAA="}, "leaf_hash_mismatch"),
                         ({"audit_path": bad_path + doc["audit_path"][1:]},
                          "inclusion_proof_invalid"),
                         ({"root_hash": first["root_hash"]}, "root_mismatch")):
        if change.get("leaf_data") == doc["leaf_data"]:
            continue
        f = tmp_path / "tampered.json"
        f.write_text(json.dumps({**doc, **change}))
        got, err = verify(["inclusion", str(f), "--checkpoints", str(cps)], capsys)
        assert got == 1 and err.startswith(f"erts-verify: {code}: "), err
    c = json.loads(consistency.read_text())
    f = tmp_path / "tampered.json"
    f.write_text(json.dumps({**c, "consistency_path": c["consistency_path"][::-1]}))
    got, err = verify(["consistency", str(f), "--checkpoints", str(cps)], capsys)
    assert got == 1 and "consistency_proof_invalid" in err


def rebuild_log(url: str, platform: Any) -> None:
    """The operator goes further than the journal: switches the log's append-only triggers
    off, throws the tree and the checkpoints away and rebuilds the tree from the rewritten
    journal, so that the stored tree agrees with it."""
    eng = raw_engine(url)
    tables = ("ledger_log", "ledger_log_run", "ledger_log_node", "ledger_checkpoint")
    with eng.begin() as c:
        for t in tables:
            if eng.dialect.name == "postgresql":
                c.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER USER"))
            else:
                c.execute(text(f"DROP TRIGGER IF EXISTS {t}_no_delete"))
            c.execute(text(f"DELETE FROM {t}"))
        c.execute(text("UPDATE ledger_log_head SET size = 0, frontier = :f WHERE id = 1"),
                  {"f": b""})
    eng.dispose()
    with platform.uow() as uow:
        assert T.backfill(uow.session) > 0
        uow.commit()


def test_the_witness_keeps_growth_and_catches_a_rewritten_history(
        platform: Any, db_url: str, books: Books, api: TestClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    signer = Signer(Ed25519PrivateKey.generate())
    store = tmp_path / "witness"
    fetch = fetcher(api)
    url = "https://registry.example"
    traffic(platform, books, 3)
    first = sign(platform, signer, 1)
    assert [c.tree_size for c in W.run(url, store, fetch=fetch).kept] == [first["tree_size"]]
    assert W.run(url, store, fetch=fetch).status == "nothing_new"
    traffic(platform, books, 2, tag="u")
    second = sign(platform, signer, 2)
    grown = W.run(url, store, fetch=fetch, public_key=signer.public_key)
    assert [c.tree_size for c in grown.kept] == [second["tree_size"]]
    kept = (store / "checkpoints.json").read_bytes()
    assert [c.tree_size for c in parse_checkpoints(kept).checkpoints] == [
        first["tree_size"], second["tree_size"]]

    # the attack: entry 9 (under the first checkpoint) altered, every later hash and the
    # balances recomputed; the log still holds the original leaves
    with platform.uow() as uow:
        idx = LogStore(uow.session).leaf_indexes("journal", ["9"])["9"][0]
    assert idx < first["tree_size"]
    rewrite_history(db_url, platform, 9)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ERTS_LEDGER_ORIGIN", platform.settings.ledger_origin)
    capsys.readouterr()
    assert main(["ledger", "verify"]) == 0  # the chain alone cannot see it
    witness_file = str(store / "checkpoints.json")
    assert main(["ledger", "verify", "--checkpoints", witness_file]) == 1
    assert f"leaf {idx} (journal 9)" in capsys.readouterr().err

    # the operator rebuilds the tree from the rewritten journal, drops the old checkpoints,
    # lets the ledger grow and signs anew with the same key: every signature is good, but
    # the new tree does not extend the one the witness kept
    rebuild_log(db_url, platform)
    traffic(platform, books, 1, tag="v")
    third = sign(platform, signer, 3)
    published = api.get("/api/v1/public/ledger/checkpoints").json()
    assert [c["tree_size"] for c in published["checkpoints"]] == [third["tree_size"]]
    with pytest.raises(W.WitnessError) as exc:
        W.run(url, store, fetch=fetch)
    assert (exc.value.exit_code, exc.value.code) == (1, "ledger_fork")
    assert f"tree_size {second['tree_size']}" in exc.value.message
    assert (store / "checkpoints.json").read_bytes() == kept  # nothing kept
    assert len(list(store.glob("evidence-*.json"))) == 1
    # and the witness's store, given to verify, still fails the rewritten ledger
    capsys.readouterr()
    assert main(["ledger", "verify", "--checkpoints", witness_file]) == 1
    assert "ledger_history_differs" in capsys.readouterr().err
