"""The public transparency log over HTTP (issue 16; docs/ledger-transparency.md): the
checkpoints document and both proofs exactly as the interface fixes them, their errors as
4xx with stable codes, the public page (Chinese, English, Beijing time) and the links from an
enterprise's ledger statement and its trades to the inclusion proofs of their leaves."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from ledger import merkle
from ledger import transparency as T
from ledger.signing import checkpoint_text, key_id, parse_checkpoints, verify_signature
from tests.integration.spine import A, B
from tests.web.conftest import login
from tests.web.test_public_privacy import traded  # noqa: F401  (the fixture)

pytestmark = pytest.mark.db
ORIGIN = "erts.local/ledger"


def _sign(platform: Any, tmp_path: Path) -> dict[str, object]:
    signer = Settings(DATABASE_URL=f"sqlite:///{tmp_path}/k.sqlite3").ledger_signer()  # type: ignore[call-arg]
    cp = T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=datetime(2026, 12, 6, 3, 0,
                                                                          tzinfo=UTC))
    assert cp is not None
    return cp


def test_checkpoints_and_proofs_as_the_interface_fixes_them(
        client: Any, platform: Any, traded: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    empty = client.get("/api/v1/public/ledger/checkpoints").json()
    assert empty["checkpoints"] == [] and empty["origin"] == ORIGIN
    cp = _sign(platform, tmp_path)
    doc = client.get("/api/v1/public/ledger/checkpoints").json()
    assert set(doc) == {"origin", "public_key", "key_id", "checkpoints"}
    raw = base64.b64decode(doc["public_key"])
    assert len(raw) == 32 and doc["key_id"] == key_id(raw)
    (c,) = doc["checkpoints"]
    assert c == cp and c["timestamp"] == "2026-12-06T03:00:00Z"
    assert verify_signature(raw, checkpoint_text(ORIGIN, c["tree_size"], c["root_hash"],
                                                 c["timestamp"]), c["signature"])
    assert parse_checkpoints(client.get("/api/v1/public/ledger/checkpoints").content)
    n = c["tree_size"]
    r = client.get(f"/api/v1/public/ledger/proofs/inclusion?entry={n - 1}")
    assert r.status_code == 200, r.text
    p = r.json()
    assert set(p) == {"leaf_index", "tree_size", "leaf_hash", "root_hash", "audit_path",
                      "record"}  # no leaf_data: the leaf's contents are not public
    assert p["tree_size"] == n and p["root_hash"] == c["root_hash"]
    assert p["record"]["kind"] in ("journal", "trade", "permit_quantity", "permit_event")
    assert merkle.verify_inclusion(bytes.fromhex(p["leaf_hash"]), n - 1, n,
                                   [bytes.fromhex(h) for h in p["audit_path"]],
                                   bytes.fromhex(c["root_hash"]))
    q = client.get(f"/api/v1/public/ledger/proofs/consistency?from=3&to={n}").json()
    assert set(q) == {"first", "second", "first_root", "second_root", "consistency_path"}
    assert q["second_root"] == c["root_hash"] and q["first"] == 3
    assert merkle.verify_consistency(3, n, bytes.fromhex(q["first_root"]),
                                     bytes.fromhex(q["second_root"]),
                                     [bytes.fromhex(h) for h in q["consistency_path"]])
    bad = {f"/api/v1/public/ledger/proofs/inclusion?entry={n}": (404, "ledger_leaf_not_found"),
           f"/api/v1/public/ledger/proofs/inclusion?entry=0&size={n + 10**6}":
               (422, "tree_size_out_of_range"),
           "/api/v1/public/ledger/proofs/inclusion?entry=0&size=0":
               (422, "tree_size_out_of_range"),
           f"/api/v1/public/ledger/proofs/consistency?from=0&to={n}":
               (422, "consistency_range_invalid"),
           f"/api/v1/public/ledger/proofs/consistency?from={n}&to=2":
               (422, "consistency_range_invalid"),
           f"/api/v1/public/ledger/proofs/consistency?from=1&to={n + 10**6}":
               (422, "tree_size_out_of_range"),
           "/api/v1/public/ledger/proofs/inclusion?entry=x": (422, "invalid_input"),
           "/api/v1/public/ledger/proofs/inclusion": (422, "invalid_input")}
    for url, (status, code) in bad.items():
        r = client.get(url)
        assert (r.status_code, r.json()["error"]) == (status, code), url


def test_public_page_and_links_to_proofs(client: Any, platform: Any, app: Any,
                                         traded: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    page = client.get("/public/ledger")
    assert page.status_code == 200 and "尚未签署检查点" in page.text
    cp = _sign(platform, tmp_path)
    doc = client.get("/api/v1/public/ledger/checkpoints").json()
    page = client.get("/public/ledger")
    assert doc["public_key"] in page.text and str(cp["root_hash"]) in page.text
    assert "2026-12-06 11:00" in page.text  # 03:00 UTC in Beijing
    assert "账本检查点" in page.text
    client.cookies.set("erts_lang", "en")
    assert "Ledger checkpoints" in client.get("/public/ledger").text
    client.cookies.delete("erts_lang")
    proof = client.get("/public/ledger/proof?entry=0")
    assert proof.status_code == 200 and 'id="proof-checked">是' in proof.text
    assert client.get("/public/ledger/proof?entry=999999").status_code == 404
    # a trader's statement links each entry and trade to its leaf's proof
    login(client, "trader_a")
    home = client.get(f"/enterprises/{A}")
    assert f'href="/enterprises/{A}/ledger"' in home.text
    assert 'class="ledger-proof"' in home.text
    st = client.get(f"/enterprises/{A}/ledger")
    assert st.status_code == 200
    links = [x.split('"')[0] for x in st.text.split('href="/public/ledger/proof?entry=')[1:]]
    assert links and all(int(x) >= 0 for x in links)
    trade_links = [x.split('"')[0] for x in home.text.split('href="/public/ledger/trades/')[1:]]
    assert trade_links
    r = client.get(f"/public/ledger/trades/{trade_links[0]}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/public/ledger/proof?")
    leaf = int(r.headers["location"].split("entry=")[1])
    got = client.get(f"/api/v1/public/ledger/proofs/inclusion?entry={leaf}&size={leaf + 1}")
    assert got.json()["record"] == {"kind": "trade", "ref": trade_links[0]}
    assert client.get("/public/ledger/trades/999999999").status_code == 404
    # another enterprise's statement is not this trader's
    assert client.get(f"/enterprises/{B}/ledger").status_code in (403, 404)


def test_the_server_signs_on_schedule_and_refuses_without_a_key(
        platform: Any, db_url: str, traded: dict[str, str]) -> None:  # noqa: F811
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from ledger.errors import SigningKeyMissing
    from web.app import create_app
    from web.ledger_checkpoints import sign_now

    seed = base64.b64encode(bytes(range(32))).decode()
    settings = Settings(DATABASE_URL=db_url, ERTS_LEDGER_SIGNING_KEY=seed)  # type: ignore[call-arg]
    job = SimpleNamespace(settings=settings, uow=platform.uow)
    cp = sign_now(job)
    assert cp is not None and cp["tree_size"] == T.tree_size(platform.uow())
    assert sign_now(job) == cp  # the tree has not grown: nothing new
    doc = T.published(platform.uow(), origin=ORIGIN)
    assert doc["key_id"] == settings.ledger_signer().key_id
    # outside development, no key: the server does not start
    prod = Settings(DATABASE_URL=db_url, ERTS_ENV="production",  # type: ignore[call-arg]
                    ERTS_SECRET_KEY="k" * 40)
    app = create_app(prod, platform)
    with pytest.raises(SigningKeyMissing), TestClient(app):
        pass
    with TestClient(create_app(Settings(  # type: ignore[call-arg]
            DATABASE_URL=db_url, ERTS_ENV="production", ERTS_SECRET_KEY="k" * 40,
            ERTS_LEDGER_SIGNING_KEY=seed), platform)) as c:
        assert c.get("/api/v1/public/ledger/checkpoints").json()["checkpoints"]


def _verifier() -> Any:
    import importlib.util

    tool = Path(__file__).resolve().parents[2] / "tools" / "erts_verify.py"
    spec = importlib.util.spec_from_file_location("erts_verify_web", tool)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_public_proofs_publish_no_leaf_contents(
        client: Any, platform: Any, auth: Any, traded: dict[str, str],  # noqa: F811
        tmp_path: Path) -> None:
    """docs/public-disclosure.md: the public inclusion proof of every leaf (journal entries,
    the trade, both permits' events and quantities) carries the leaf's hash and no data: no
    party (permit code, credit code or name), no permit ref, no account or amount. Its ref
    is only a journal entry's seq or a trade's id."""
    from tests.web.test_public_privacy import _identifiers

    names = (_identifiers(client, auth, "A", traded["A"], A)
             + _identifiers(client, auth, "B", traded["B"], B))
    n = T.tree_size(platform.uow())
    full = [T.inclusion(platform.uow(), i, n) for i in range(n)]
    kinds = {str(f["record"]["kind"]) for f in full}  # type: ignore[index]
    assert {"journal", "trade", "permit_event", "permit_quantity"} <= kinds
    # the leaves do name the parties: that is what must not be published
    assert any(traded["B"].encode() in base64.b64decode(str(f["leaf_data"])) for f in full)
    for who in (None, "analyst", "trader_b"):
        for i, f in enumerate(full):
            r = client.get(f"/api/v1/public/ledger/proofs/inclusion?entry={i}&size={n}",
                           headers=auth(who) if who else {})
            assert r.status_code == 200, r.text
            p = r.json()
            assert set(p) == {"leaf_index", "tree_size", "leaf_hash", "root_hash",
                              "audit_path", "record"}
            assert (p["leaf_hash"], p["root_hash"], p["audit_path"]) == (
                f["leaf_hash"], f["root_hash"], f["audit_path"])
            kind, ref = f["record"]["kind"], f["record"]["ref"]  # type: ignore[index]
            assert p["record"] == {"kind": kind,
                                   "ref": ref if kind in ("journal", "trade") else None}
            leaked = [x for x in names if x in r.text]
            assert not leaked, (i, kind, leaked)
            # the ref names no account: a journal entry's seq, a trade's id
            if kind == "journal":
                assert p["record"]["ref"] == str(base64_values(f)[1])
    page = client.get(f"/public/ledger/proof?entry={n - 1}&size={n}")
    assert page.status_code == 200 and 'id="proof-checked">是' in page.text
    main = page.text.split("<main>", 1)[1].split("</main>", 1)[0]
    assert not [x for x in names if x in main]


def base64_values(proof: dict[str, object]) -> list[object]:
    from ledger.canonical import decode

    return list(decode(base64.b64decode(str(proof["leaf_data"]))))


def test_an_enterprise_gets_its_own_proofs_with_the_leaf_data(
        client: Any, platform: Any, auth: Any, traded: dict[str, str],  # noqa: F811
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/api/v1/enterprises/{code}/ledger/proofs/inclusion: the enterprise's own leaves with
    their data, which verify in the standalone verifier (the data hashed too); a leaf of no
    concern to it, and any leaf through another enterprise, are 404 like a missing leaf; the
    bureau reads any; the public proof of the same leaf verifies without the data."""
    from ledger.canonical import decode
    from ledger.log_store import LogStore

    cp = _sign(platform, tmp_path)
    n = int(cp["tree_size"])  # type: ignore[call-overload]
    cps = tmp_path / "checkpoints.json"
    cps.write_bytes(client.get("/api/v1/public/ledger/checkpoints").content)
    key = client.get("/api/v1/public/ledger/checkpoints").json()["public_key"]
    V = _verifier()
    pa, pb = traded["A"], traded["B"]
    own_a, own_b, neither = set(), set(), set()
    for i in range(n):
        leaf = T.inclusion(platform.uow(), i, n)
        with platform.uow() as uow:
            holders = T.leaf_holders(uow.session, str(leaf["record"]["kind"]),  # type: ignore[index]
                                     base64.b64decode(str(leaf["leaf_data"])))
        if holders & {A, pa}:
            own_a.add(i)
        if holders & {B, pb}:
            own_b.add(i)
        if not holders & {A, pa, B, pb}:
            neither.add(i)
    with platform.uow() as uow:
        kinds = {i: LogStore(uow.session).leaf(i)[0] for i in range(n)}  # type: ignore[index]
    # A's leaves: its journal entries, the trade, its permit's events and quantities
    assert {kinds[i] for i in own_a} == {"journal", "trade", "permit_event", "permit_quantity"}
    assert own_a - own_b and own_b - own_a and own_a & own_b  # the trade is both's
    url = f"/api/v1/enterprises/{A}/ledger/proofs/inclusion?entry={{}}&size={n}"
    for i in range(n):
        r = client.get(url.format(i), headers=auth("trader_a"))
        if i not in own_a:
            assert (r.status_code, r.json()["error"]) == (404, "ledger_leaf_not_found"), i
            continue
        assert r.status_code == 200, r.text
        p = r.json()
        data = base64.b64decode(p["leaf_data"])
        assert merkle.leaf_hash(data).hex() == p["leaf_hash"]
        assert decode(data)[0].startswith("erts-ledger/")  # type: ignore[union-attr]
        f = tmp_path / f"own-{i}.json"
        f.write_bytes(r.content)
        assert V.main(["inclusion", str(f), "--checkpoints", str(cps), "--public-key", key]) == 0
        out = capsys.readouterr().out
        assert "leaf_data hash to leaf_hash" in out
        # tampered data fail in the verifier
        bad = bytearray(data)
        bad[-1] ^= 1
        f.write_text(json.dumps({**p, "leaf_data": base64.b64encode(bytes(bad)).decode()}))
        assert V.main(["inclusion", str(f), "--checkpoints", str(cps)]) == 1
        assert "leaf_hash_mismatch" in capsys.readouterr().err
    # the public proof of one of A's leaves verifies from the hash only
    i = min(own_a)
    pub = tmp_path / "public.json"
    pub.write_bytes(client.get(f"/api/v1/public/ledger/proofs/inclusion?entry={i}&size={n}")
                    .content)
    assert V.main(["inclusion", str(pub), "--checkpoints", str(cps), "--public-key", key]) == 0
    assert "contents were not checked" in capsys.readouterr().out
    # B's trader: A's leaves through B's route are missing leaves, A's route is missing too
    only_a = min(own_a - own_b)
    missing = client.get(f"/api/v1/enterprises/{B}/ledger/proofs/inclusion?entry={n + 5}"
                         f"&size={n}", headers=auth("trader_b")).json()
    for u in (f"/api/v1/enterprises/{B}/ledger/proofs/inclusion?entry={only_a}&size={n}",
              url.format(only_a), url.format(min(own_a & own_b))):
        r = client.get(u, headers=auth("trader_b"))
        assert r.status_code == 404 and r.json()["error"] == missing["error"] == \
            "ledger_leaf_not_found", u
        assert "leaf_data" not in r.text
    shared = client.get(f"/api/v1/enterprises/{B}/ledger/proofs/inclusion?entry="
                        f"{min(own_a & own_b)}&size={n}", headers=auth("trader_b"))
    assert shared.status_code == 200 and "leaf_data" in shared.json()
    # no log-in: 401; the bureau reads any leaf, also one of no enterprise
    assert client.get(url.format(min(own_a))).status_code == 401
    for i in sorted(neither)[:3] + [min(own_a - own_b)]:
        r = client.get(url.format(i), headers=auth("officer"))
        assert r.status_code == 200 and "leaf_data" in r.json(), i
    assert client.get(url.format(n), headers=auth("officer")).json()["error"] == \
        "ledger_leaf_not_found"
    # the statement page links each signed line to the enterprise's own proof (JSON)
    login(client, "trader_a")
    st = client.get(f"/enterprises/{A}/ledger").text
    own_links = [x.split('"')[0] for x in st.split(
        f'href="/api/v1/enterprises/{A}/ledger/proofs/inclusion?entry=')[1:]]
    assert own_links and all(x.endswith(f"&amp;size={n}") for x in own_links)
    assert {int(x.split("&")[0]) for x in own_links} <= own_a
    assert 'download="erts-leaf-' in st
    leaf = int(own_links[0].split("&")[0])
    assert "leaf_data" in client.get(url.format(leaf)).json()
