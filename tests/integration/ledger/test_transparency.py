"""The transparency log (issue 16) on SQLite and PostgreSQL: every journal entry and every
write of a trade, permit quantity or permit event becomes a leaf in its own transaction,
whatever path wrote it (the ledger's use cases, the group-commit writer, the order pipeline,
the per-order path); proofs from stored nodes verify; signed checkpoints pin history, so
the rewrite an attacker with DDL rights can hide from `erts ledger verify` is caught by
`erts ledger verify --checkpoints`, naming the entry."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from allocation.tables import PermitEventRow, PermitQuantityRow
from app.cli import main
from app.settings import Settings
from ledger import errors as E
from ledger import merkle
from ledger import service as ledger
from ledger import transparency as T
from ledger.canonical import record_leaf
from ledger.entries import JournalCheck, Transfer, entry_hash
from ledger.log_store import LogStore
from ledger.signing import Signer, parse_checkpoints
from ledger.store import LedgerStore
from ledger.transactions import Initiator
from tests.integration.ledger.conftest import NOW, Books, raw_engine
from tests.integration.trading.conftest import Floor, floor  # noqa: F401  (the fixture)
from trading.tables import TradeRow

pytestmark = pytest.mark.db
EN = Initiator.ENTERPRISE
ORIGIN = "erts.local/ledger"


def traffic(platform: Any, books: Books, n: int = 4, tag: str = "t") -> None:
    for i in range(n):
        ledger.submit(platform.uow, [
            Transfer(f"{tag}p{i}", "transfer", books.cash1, books.cash2, 10 + i,
                     phase="pending", timeout_s=600),
            Transfer(f"{tag}s{i}", "transfer", books.cash2, books.cash1, 7)],
            initiator=EN, actor="e", batch=f"{tag}b{i}" if i % 2 else None,
            now=NOW + timedelta(minutes=i))
        # the API's path: the group-commit writer
        platform.submit_transfers([Transfer(f"{tag}w{i}", "transfer", books.cash1,
                                            books.cash2, 3)], initiator=EN, actor="e")


def leaves(platform: Any) -> list[tuple[int, str, str, bytes, bytes]]:
    """Every leaf, a journal leaf's data its entry's row (the log keeps only its hash)."""
    with platform.uow() as uow:
        return [(i, k, r, h, T.journal_data(uow.session, int(r)) if k == "journal" else d)
                for chunk in LogStore(uow.session).leaves() for i, k, r, h, d in chunk]


def assert_tree_sound(platform: Any) -> list[tuple[int, str, str, bytes, bytes]]:
    """Leaves numbered from 0, each hash H(0x00 || data), the stored nodes' root the root of
    the leaves, and the queue empty."""
    got = leaves(platform)
    assert [x[0] for x in got] == list(range(len(got)))
    assert all(merkle.leaf_hash(d) == h for _, _, _, h, d in got)
    with platform.uow() as uow:
        log = LogStore(uow.session)
        size = log.size()
        nodes = log.nodes(merkle.root_plan(size))
        assert log.queued() == []
    assert size == len(got)
    assert merkle.root_from_nodes(size, nodes) == merkle.root([x[3] for x in got])
    return got


def journal_leaves_match(platform: Any, got: list[tuple[int, str, str, bytes, bytes]]) -> None:
    with platform.uow() as uow:
        entries = list(LedgerStore(uow.session).journal())
    mine = [(r, d) for _, k, r, _, d in got if k == "journal"]
    assert [r for r, _ in mine] == [str(e.seq) for e in entries]
    assert [d for _, d in mine] == [T.entry_leaf(e) for e in entries]
    assert all(e.hash_version == 2 for e in entries)


def test_every_journal_entry_is_a_leaf_in_order(platform: Any, books: Books) -> None:
    traffic(platform, books)
    got = assert_tree_sound(platform)
    journal_leaves_match(platform, got)
    assert {k for _, k, *_ in got} == {"journal"}


def test_trades_and_permit_records_are_leaves_of_their_transaction(
        floor: Floor) -> None:  # noqa: F811
    p = floor.platform
    size0 = len(leaves(p))
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)
    got = assert_tree_sound(p)
    journal_leaves_match(p, got)
    with p.uow() as uow:
        s = uow.session
        trades = [{c.name: getattr(t, c.name) for c in TradeRow.__table__.columns}
                  for t in s.execute(select(TradeRow)).scalars()]
        quantities = [f"{q.permit}/{q.pollutant}/{q.year}"
                      for q in s.execute(select(PermitQuantityRow)).scalars()]
        events = [{c.name: getattr(e, c.name) for c in PermitEventRow.__table__.columns}
                  for e in s.execute(select(PermitEventRow)).scalars()]
        log = LogStore(s)
        now = {k: dict(b for chunk in log.all_records(k) for b in chunk)
               for k in ("trade", "permit_quantity", "permit_event")}
    assert len(trades) == 1
    last: dict[tuple[str, str], bytes] = {}
    for _, k, r, _, d in got:
        last[(k, r)] = d
    for t in trades:  # the trade as it is now is its last leaf
        assert last[("trade", str(t["id"]))] == now["trade"][str(t["id"])] == record_leaf(
            "trade", t)
    for ref in quantities:
        assert last[("permit_quantity", ref)] == now["permit_quantity"][ref]
    assert {e["id"] for e in events} == {int(r) for (k, r) in last if k == "permit_event"}
    # the trade's records come after its journal entries, in the new part of the tree
    kinds = [k for _, k, *_ in got[size0:]]
    assert "trade" in kinds and "permit_event" in kinds and "permit_quantity" in kinds
    assert kinds.index("journal") < kinds.index("trade")
    # a transaction that rolls back leaves no leaf
    with p.uow() as uow:
        uow.session.add(PermitEventRow(permit=floor.pa, pollutant="SO2", year=2026,
                                       kind="note", qty_kg=0, permitted_after_kg=0, at=NOW))
        uow.session.flush()
    assert len(leaves(p)) == len(got)
    # a record's canonical bytes: NULL is not the empty string
    assert record_leaf("permit_event", {**events[0], "note": None}) != record_leaf(
        "permit_event", {**events[0], "note": ""})
    # an ORM write alone, committed, is a leaf too (the hook flushes before draining)
    with p.uow() as uow:
        uow.session.add(PermitEventRow(permit=floor.pa, pollutant="SO2", year=2026,
                                       kind="note", qty_kg=0, permitted_after_kg=0, at=NOW))
        uow.commit()
    after = assert_tree_sound(p)
    assert len(after) == len(got) + 1 and after[-1][1] == "permit_event"


def _signer(tmp_path: Path) -> Signer:
    return Settings(ERTS_LEDGER_SIGNING_KEY_FILE="",  # type: ignore[call-arg]
                    DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3").ledger_signer()


def test_proofs_verify_and_bad_input_is_refused(platform: Any, books: Books,
                                                tmp_path: Path) -> None:
    traffic(platform, books, 3)
    signer = _signer(tmp_path)
    first = T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW)
    assert first is not None
    traffic(platform, books, 2, tag="u")
    second = T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW + timedelta(hours=1))
    assert second is not None and second["tree_size"] > first["tree_size"]  # type: ignore[operator]
    # not grown: the same checkpoint
    assert T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW) == second
    doc = T.published(platform.uow(), origin=ORIGIN)
    assert [c["tree_size"] for c in doc["checkpoints"]] == [  # type: ignore[attr-defined]
        first["tree_size"], second["tree_size"]]
    parsed = parse_checkpoints(json.dumps(doc))
    assert parsed.key_id == signer.key_id
    n = int(second["tree_size"])  # type: ignore[call-overload]
    m = int(first["tree_size"])  # type: ignore[call-overload]
    for i in range(n):
        proof = T.inclusion(platform.uow(), i)
        assert proof["tree_size"] == n and proof["root_hash"] == second["root_hash"]
        data = base64.b64decode(proof["leaf_data"])  # type: ignore[arg-type]
        assert merkle.leaf_hash(data).hex() == proof["leaf_hash"]
        path = [bytes.fromhex(h) for h in proof["audit_path"]]  # type: ignore[attr-defined]
        assert merkle.verify_inclusion(merkle.leaf_hash(data), i, n, path,
                                       bytes.fromhex(str(second["root_hash"])))
        if i < m:
            old = T.inclusion(platform.uow(), i, m)
            assert old["root_hash"] == first["root_hash"]
    c = T.consistency(platform.uow(), m, n)
    assert c["first_root"] == first["root_hash"] and c["second_root"] == second["root_hash"]
    assert merkle.verify_consistency(m, n, bytes.fromhex(str(c["first_root"])),
                                     bytes.fromhex(str(c["second_root"])),
                                     [bytes.fromhex(h) for h in c["consistency_path"]])  # type: ignore[attr-defined]
    assert T.consistency(platform.uow(), n, n)["consistency_path"] == []
    with pytest.raises(E.LeafNotFound):
        T.inclusion(platform.uow(), n)
    with pytest.raises(E.LeafNotFound):
        T.inclusion(platform.uow(), m, m)
    with pytest.raises(E.TreeSizeOutOfRange):
        T.inclusion(platform.uow(), 0, n + 1)
    with pytest.raises(E.TreeSizeOutOfRange):
        T.inclusion(platform.uow(), 0, 0)
    with pytest.raises(E.ConsistencyRangeInvalid):
        T.consistency(platform.uow(), 0, n)
    with pytest.raises(E.ConsistencyRangeInvalid):
        T.consistency(platform.uow(), n, m)
    with pytest.raises(E.TreeSizeOutOfRange):
        T.consistency(platform.uow(), m, n + 5)


def rewrite_history(url: str, platform: Any, seq: int) -> None:
    """The attack of issue 16, as the database owner: switch the append-only triggers off,
    alter one entry's amount, recompute every later hash, the head and the balances."""
    with platform.uow() as uow:
        store = LedgerStore(uow.session)
        entries = list(store.journal())
    changed = []
    prev = None
    for e in entries:
        if e.seq < seq:
            prev = e.hash
            continue
        from dataclasses import replace

        e2 = replace(e, amount=e.amount + 1 if e.seq == seq else e.amount,
                     prev_hash=prev if prev is not None else e.prev_hash)
        e2 = replace(e2, hash=entry_hash(e2))
        changed.append(e2)
        prev = e2.hash
    check = JournalCheck()
    rows = []
    by_seq = {e.seq: e for e in changed}
    for e in entries:
        e = by_seq.get(e.seq, e)
        rows.append((e.seq, e.id, e.batch, e.type, e.phase, e.pending_id, e.debit_account,
                     e.credit_account, e.asset, e.amount, e.reference, e.initiator,
                     _us(e.created_at), None if e.timeout_at is None else _us(e.timeout_at),
                     e.prev_hash, e.hash, e.hash_version))
    check.run(rows)
    assert check.first_bad is None
    eng = raw_engine(url)
    with eng.begin() as c:
        if eng.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE ledger_journal DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER IF EXISTS ledger_journal_no_update"))
        for e in changed:
            c.execute(text("UPDATE ledger_journal SET amount = :a, prev_hash = :p, hash = :h "
                           "WHERE seq = :s"), dict(a=e.amount, p=e.prev_hash, h=e.hash,
                                                   s=e.seq))
        c.execute(text("UPDATE ledger_head SET hash = :h WHERE id = 1"), dict(h=prev))
        for acct, (dp, cp, dq, cq) in check.balances.items():
            c.execute(text("UPDATE ledger_account SET debits_posted = :dp, credits_posted = "
                           ":cp, debits_pending = :dq, credits_pending = :cq WHERE id = :i"),
                      dict(dp=dp, cp=cp, dq=dq, cq=cq, i=acct))
        for pid, (amount, posted, state) in check.pendings.items():
            c.execute(text("UPDATE ledger_pending SET amount = :a, posted = :p, state = :s "
                           "WHERE id = :i"), dict(a=amount, p=posted, s=state, i=pid))
    eng.dispose()


def _us(dt: Any) -> int:
    from ledger.entries import micros

    return micros(dt)


def test_the_rewrite_passes_verify_but_not_the_checkpoints(
        platform: Any, db_url: str, books: Books, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ERTS_ENV", "development")
    key = tmp_path / "signing.key"
    assert main(["ledger", "keygen", "--out", str(key)]) == 0
    assert main(["ledger", "keygen", "--out", str(key)]) == 2  # never overwritten
    monkeypatch.setenv("ERTS_LEDGER_SIGNING_KEY_FILE", str(key))
    traffic(platform, books, 3)
    capsys.readouterr()
    assert main(["ledger", "checkpoint"]) == 0
    cp1 = json.loads(capsys.readouterr().out)
    traffic(platform, books, 2, tag="u")
    assert main(["ledger", "checkpoint"]) == 0
    saved = tmp_path / "checkpoints.json"
    saved.write_text(json.dumps(T.published(platform.uow(), origin=ORIGIN)))
    assert main(["ledger", "verify", "--checkpoints", str(saved)]) == 0
    # the entry attacked: the 9th, under the first checkpoint
    with platform.uow() as uow:
        idx = LogStore(uow.session).leaf_indexes("journal", ["9"])["9"][0]
    assert idx < cp1["tree_size"]
    rewrite_history(db_url, platform, 9)
    assert ledger.verify(platform.uow()).ok  # the chain and balances agree: the old check passes
    capsys.readouterr()
    assert main(["ledger", "verify"]) == 0
    report = T.verify_checkpoints(platform.uow(), parse_checkpoints(saved.read_bytes()))
    assert not report.ok
    assert report.first_leaf == idx and report.checkpoint_size == cp1["tree_size"]
    assert report.record == {"kind": "journal", "ref": "9"}
    capsys.readouterr()
    assert main(["ledger", "verify", "--checkpoints", str(saved)]) == 1
    err = capsys.readouterr().err
    assert "ledger_history_differs" in err and f"leaf {idx} (journal 9)" in err
    assert f"tree size {cp1['tree_size']}" in err


def test_a_permit_quantity_edited_behind_the_log_is_caught(
        floor: Floor, db_url: str, tmp_path: Path) -> None:  # noqa: F811
    if floor.path != "order":
        pytest.skip("one path is enough")
    p = floor.platform
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)
    signer = _signer(tmp_path)
    assert T.checkpoint(p.uow(), signer, origin=ORIGIN, now=NOW) is not None
    doc = parse_checkpoints(json.dumps(T.published(p.uow(), origin=ORIGIN)))
    assert T.verify_checkpoints(p.uow(), doc).ok
    eng = raw_engine(db_url)
    with eng.begin() as c:  # the owner switches the log's triggers off and edits
        if eng.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE permit_quantity DISABLE TRIGGER USER"))
        else:
            for op in ("insert", "update"):
                c.execute(text(f"DROP TRIGGER IF EXISTS permit_quantity_ledger_log_{op}"))
        c.execute(text("UPDATE permit_quantity SET permitted_kg = permitted_kg + 500 "
                       "WHERE permit = :p AND pollutant = 'SO2' AND year = 2026"),
                  dict(p=floor.pb))
    eng.dispose()
    report = T.verify_checkpoints(p.uow(), doc)
    assert not report.ok and report.record == {"kind": "permit_quantity",
                                               "ref": f"{floor.pb}/SO2/2026"}
    with p.uow() as uow:
        last = LogStore(uow.session).leaf_indexes("permit_quantity",
                                                  [f"{floor.pb}/SO2/2026"])
    assert report.first_leaf == last[f"{floor.pb}/SO2/2026"][-1]


def test_checkpoint_files_are_checked(platform: Any, db_url: str, books: Books,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    traffic(platform, books, 1)
    signer = _signer(tmp_path)
    T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW)
    doc = T.published(platform.uow(), origin=ORIGIN)
    f = tmp_path / "c.json"

    def run(content: str) -> tuple[int, str]:
        f.write_text(content)
        capsys.readouterr()
        code = main(["ledger", "verify", "--checkpoints", str(f)])
        return code, capsys.readouterr().err

    code, err = run("{not json")
    assert code == 2 and "checkpoint_file_invalid" in err
    code, err = run(json.dumps({**doc, "checkpoints": "x"}))
    assert code == 2 and "checkpoint_file_invalid" in err
    cps: list[dict[str, Any]] = doc["checkpoints"]  # type: ignore[assignment]
    forged = [{**cps[0], "root_hash": "0" * 64}]
    code, err = run(json.dumps({**doc, "checkpoints": forged}))
    assert code == 2 and "checkpoint_signature_invalid" in err
    other = _signer(tmp_path / "other")
    code, err = run(json.dumps({**doc, "public_key": other.public_key}))
    assert code == 2 and "checkpoint_key_mismatch" in err
    code, err = run(json.dumps({**doc, "public_key": other.public_key,
                                "key_id": other.key_id}))
    assert code == 2 and "checkpoint_key_mismatch" in err
    code, err = run(json.dumps(doc))
    assert code == 0
    assert main(["ledger", "verify", "--checkpoints", str(tmp_path / "missing.json")]) == 3


def test_backfill_fills_an_empty_log(platform: Any, db_url: str, books: Books) -> None:
    """What migration 0032 runs on a database with history: the log it builds is the one the
    writes built (here, journal entries only)."""
    traffic(platform, books, 2)
    before = leaves(platform)
    eng = raw_engine(db_url)
    with eng.begin() as c:
        for t in ("ledger_log", "ledger_log_run", "ledger_log_node"):
            if eng.dialect.name == "postgresql":
                c.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER USER"))
            else:
                c.execute(text(f"DROP TRIGGER IF EXISTS {t}_no_delete"))
            c.execute(text(f"DELETE FROM {t}"))
        c.execute(text("UPDATE ledger_log_head SET size = 0, frontier = :f"), dict(f=b""))
    eng.dispose()
    assert leaves(platform) == []
    with platform.uow() as uow:
        assert T.backfill(uow.session) == len(before)
        uow.commit()
    assert assert_tree_sound(platform) == before
    with platform.uow() as uow:
        assert T.backfill(uow.session) == 0  # only ever into an empty log


def test_large_appends_and_the_stratum_give_the_same_proofs(platform: Any, books: Books) -> None:
    """A batch of many leaves (COPY on PostgreSQL) and single appends make the RFC's tree:
    only nodes from level `STRATUM` up are stored, the lower ones are hashed from the leaf
    hashes when a proof needs them, and every inclusion and consistency proof verifies
    against the root of the leaves."""
    from ledger.log_store import STRATUM

    ledger.submit(platform.uow, [Transfer(f"big{i}", "transfer", books.cash1, books.cash2, 1)
                                 for i in range(300)], initiator=EN, actor="e", batch="big",
                  now=NOW)
    traffic(platform, books, 2, tag="small")
    got = assert_tree_sound(platform)
    hashes = [h for _, _, _, h, _ in got]
    n = len(hashes)
    assert n > 300
    with platform.uow() as uow:
        before = {int(lv) for (lv,) in uow.session.execute(text(
            "SELECT DISTINCT level FROM ledger_log_node WHERE idx >= 0"))}
    # migration 0032 filled an empty log: every node written since is at STRATUM or above
    assert before and min(before) >= STRATUM
    for size in (1, 2, 15, 16, 17, 300, n):
        r = merkle.root(hashes[:size])
        for i in sorted({0, size // 2, size - 1}):
            p = T.inclusion(platform.uow(), i, size)
            path = [bytes.fromhex(h) for h in p["audit_path"]]  # type: ignore[attr-defined]
            assert p["root_hash"] == r.hex()
            assert merkle.verify_inclusion(hashes[i], i, size, path, r), (i, size)
        c = T.consistency(platform.uow(), size, n)
        assert merkle.verify_consistency(size, n, r, merkle.root(hashes), [
            bytes.fromhex(h) for h in c["consistency_path"]])  # type: ignore[attr-defined]


def _count_queue_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("queued", "take_queue"):
        real = getattr(LogStore, name)

        def counted(self: LogStore, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return _real(self)

        monkeypatch.setattr(LogStore, name, counted)
    return calls


def test_the_queue_is_read_when_a_bound_record_was_written(
        floor: Floor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """PostgreSQL: a commit that wrote no trade, permit quantity or permit event reads no
    queue (the statement trigger's NOTICE tells the connection when one did), even after a
    bound write that rolled back on the same pool; one that did (here by raw SQL, which no
    ORM hook sees) has its leaf in the same commit. SQLite reads the queue on every commit."""
    if floor.path != "order":
        pytest.skip("one path is enough")
    p = floor.platform
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)
    pg = p.db.engine.dialect.name == "postgresql"
    calls = _count_queue_reads(monkeypatch)
    with p.uow() as uow:  # a bound write rolled back
        uow.session.execute(text("UPDATE trade SET qty = qty + 1"))
    size = len(leaves(p))
    with p.uow() as uow:  # a commit that writes only the ledger's tables
        uow.session.execute(text("UPDATE ledger_head SET hash = hash WHERE id = 1"))
        uow.commit()
    assert len(leaves(p)) == size
    assert (calls == []) if pg else calls
    calls.clear()
    with p.uow() as uow:
        uow.session.execute(text("UPDATE trade SET aggressor = aggressor"))
        uow.commit()
    assert calls == (["take_queue"] if pg else ["queued", "queued"])
    after = assert_tree_sound(p)
    assert len(after) == size + 1 and after[-1][1] == "trade"


def test_what_an_outside_writer_queued_is_taken_by_the_checkpoint(
        floor: Floor, db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """A trade edited by a connection outside the platform (triggers on) is queued there;
    the next checkpoint appends it before it signs, so the signed tree holds it."""
    if floor.path != "order":
        pytest.skip("one path is enough")
    p = floor.platform
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)
    size = len(leaves(p))
    eng = raw_engine(db_url)
    with eng.begin() as c:
        c.execute(text("UPDATE trade SET price = price + 1"))
    eng.dispose()
    cp = T.checkpoint(p.uow(), _signer(tmp_path), origin=ORIGIN, now=NOW)
    assert cp is not None and cp["tree_size"] == size + 1
    after = assert_tree_sound(p)
    assert after[-1][1] == "trade"
    doc = parse_checkpoints(json.dumps(T.published(p.uow(), origin=ORIGIN)))
    assert T.verify_checkpoints(p.uow(), doc).ok


def test_records_written_before_the_journal_go_in_its_append(
        floor: Floor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """PostgreSQL: the trade and permit records a transaction wrote before its journal
    entries are hashed onto the tree with them, in one append (one write of leaves, nodes
    and head), not a second one at the commit. SQLite takes them at the commit."""
    p = floor.platform
    floor.place("A", "sell", 1000, 2000)
    appends: list[list[str]] = []
    real = LogStore.prepare

    def spy(self: LogStore, leaves: Any, **kw: Any) -> Any:
        run = kw.get("journal")  # the journal's entries, hashed: first, as one run
        appends.append(["journal"] * (len(run[1]) if run else 0) + [k for k, _, _ in leaves])
        return real(self, leaves, **kw)

    monkeypatch.setattr(LogStore, "prepare", spy)
    floor.place("B", "buy", 600, 2000)
    got = assert_tree_sound(p)
    flat = [k for a in appends for k in a]
    assert flat == [k for _, k, *_ in got[-len(flat):]]  # every leaf of the trade, in order
    assert {"trade", "permit_quantity", "permit_event"} <= set(flat)
    records = [i for i, a in enumerate(appends) if "trade" in a]
    if p.db.engine.dialect.name == "postgresql" and floor.path == "group":
        # the order pipeline writes the trade and the permits' records, then the ledger
        assert len(appends) == 1 and appends[0].index("trade") > appends[0].index("journal")
    else:  # per order, the records come after the ledger's writes; SQLite at the commit
        assert records == [len(appends) - 1] and "journal" not in appends[-1]


def test_the_queue_is_vacuumed_by_the_process_that_takes_it(
        floor: Floor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """PostgreSQL: once a process has taken `VACUUM_EVERY` queue rows it vacuums the queue
    after the commit (taken rows are dead; without a vacuum every take reads them again),
    and the vacuum works on the platform's own connection. SQLite has no such step."""
    if floor.path != "order":
        pytest.skip("one path is enough")
    p = floor.platform
    done: list[bool] = []
    real = T.vacuum_queue
    monkeypatch.setattr(T, "VACUUM_EVERY", 3)
    monkeypatch.setattr(T, "vacuum_queue", lambda engine: done.append(real(engine)) or True)
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)  # a trade, two permit quantities, events: > 3 rows
    if p.db.engine.dialect.name == "postgresql":
        assert done and all(done)
        with p.uow() as uow:  # the table is still there and empty: takes go on
            assert uow.session.execute(text("SELECT count(*) FROM ledger_log_queue")
                                       ).scalar() == 0
    else:
        assert done == []
    assert_tree_sound(p)


# migration 0037 ------------------------------------------------------------------------------
def _stored_rows(url: str) -> list[tuple[int, str, str, bytes, bytes]]:
    eng = raw_engine(url)
    with eng.connect() as c:
        rows = [(int(i), str(k), str(r), bytes(h), bytes(d)) for i, k, r, h, d in c.execute(text(
            "SELECT leaf_index, kind, ref, leaf_hash, leaf_data FROM ledger_log "
            "ORDER BY leaf_index"))]
    eng.dispose()
    return rows


def test_migration_0037_keeps_every_leaf_and_its_hash(floor: Floor) -> None:  # noqa: F811
    """Journal leaves of revision 0036 (a `ledger_log` row each, between the trades' and
    permits' leaves) become runs on upgrade with their hashes as kept, and the log reads the
    same; a downgrade gives the rows back, each journal leaf's data its entry's row."""
    from app.migrate import downgrade, upgrade

    p = floor.platform
    floor.place("A", "sell", 1000, 2000)
    floor.place("B", "buy", 600, 2000)
    before = assert_tree_sound(p)
    kinds = {k for _, k, *_ in before}
    assert {"journal", "trade", "permit_event"} <= kinds
    url = p.settings.database_url
    p.close()
    downgrade(url, "0036")
    assert _stored_rows(url) == before  # every leaf a row again, journal data rebuilt
    upgrade(url)
    assert assert_tree_sound(p) == before
    eng = raw_engine(url)
    with eng.connect() as c:
        journal_rows = c.execute(text("SELECT count(*) FROM ledger_log WHERE kind = 'journal'"))
        assert journal_rows.scalar() == 0
        runs = c.execute(text("SELECT count(*), sum(n) FROM ledger_log_run")).one()
    eng.dispose()
    n_journal = sum(1 for _, k, *_ in before if k == "journal")
    assert runs[1] == n_journal and 0 < runs[0] < n_journal  # runs, not a row per entry
    with pytest.raises(Exception, match="(?i)append-only"), eng.begin() as c:
        c.execute(text("DELETE FROM ledger_log_run"))
    eng.dispose()


def test_long_runs_are_split_and_read_back(platform: Any, db_url: str, books: Books,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A run holds at most `RUN_MAX` leaves (a longer append is several runs), whether the
    journal's write or the backfill appended it; proofs and the history read them back."""
    import ledger.log_store as LS

    monkeypatch.setattr(LS, "RUN_MAX", 3)
    before = len(leaves(platform))  # the books' set-up
    traffic(platform, books, 4)
    ledger.submit(platform.uow, [Transfer(f"long{i}", "transfer", books.cash1, books.cash2, 1)
                                 for i in range(60)], initiator=EN, actor="e")  # > 50: COPY
    got = assert_tree_sound(platform)
    journal_leaves_match(platform, got)
    eng = raw_engine(db_url)
    with eng.connect() as c:
        sizes = [int(n) for (n,) in c.execute(text(
            "SELECT n FROM ledger_log_run WHERE first_index >= :b"), dict(b=before))]
    eng.dispose()
    assert max(sizes) == 3 and sum(sizes) == len(got) - before
    with platform.uow() as uow:
        for i in range(len(got)):
            assert LogStore(uow.session).leaf(i) == (got[i][1], got[i][2], None, got[i][3])
    for i in (0, len(got) // 2, len(got) - 1):
        proof = T.inclusion(platform.uow(), i, len(got))
        assert merkle.verify_inclusion(
            merkle.leaf_hash(base64.b64decode(str(proof["leaf_data"]))), i, len(got),
            [bytes.fromhex(h) for h in proof["audit_path"]],  # type: ignore[attr-defined]
            bytes.fromhex(str(proof["root_hash"])))
