"""`erts ledger verify --checkpoints` checks the journal and the history in one pass
(`ledger.audit.verify_all`): its two reports are those `ledger.service.verify` and
`ledger.transparency.verify_checkpoints` give on their own, and those of the history check
as it was written before (one journal row at a time, kept below as the reference), whatever
was tampered with."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from ledger import merkle
from ledger import service as ledger
from ledger import transparency as T
from ledger.audit import verify_all
from ledger.canonical import LAYOUTS, encode
from ledger.history import DELETED, HistoryReport, _differs, row_leaf
from ledger.log_store import LogStore
from ledger.signing import CheckpointsDoc, parse_checkpoints
from ledger.store import LedgerStore
from tests.integration.ledger.conftest import NOW, Books, raw_engine, tamper
from tests.integration.ledger.test_transparency import ORIGIN, _signer, rewrite_history, traffic

pytestmark = pytest.mark.db


def reference_history(uow: Any, doc: CheckpointsDoc) -> HistoryReport:
    """The history check as it was before the one-pass rewrite (a row at a time)."""
    cps = sorted(doc.checkpoints, key=lambda c: c.tree_size)
    with uow:
        s = uow.session
        store = LedgerStore(s)
        log = LogStore(s)
        last_of = {k: log.last_leaf_of_each(k) for k in LAYOUTS}
        current: dict[str, dict[str, bytes]] = {k: {} for k in LAYOUTS}
        for k in LAYOUTS:
            for batch in log.all_records(k):
                current[k].update(batch)

        def stream() -> Iterator[tuple[int, bytes]]:
            for rows in store.journal_rows():
                for r in rows:
                    yield int(r[0]), row_leaf(r, store.journal_time_epoch)

        journal = stream()
        f = merkle.Frontier()
        first_diff, diff_record, ci, ok_size = None, None, 0, 0
        report = HistoryReport(True, 0, len(cps))
        seen: dict[str, set[str]] = {k: set() for k in LAYOUTS}
        pending = next(journal, None)
        inserted: list[int] = []
        for chunk in log.leaves():
            for idx, kind, ref, stored_hash, stored_data in chunk:
                if kind == "journal":
                    seq = int(ref)
                    while pending is not None and pending[0] < seq:
                        inserted.append(pending[0])
                        pending = next(journal, None)
                    if pending is not None and pending[0] == seq:
                        data = pending[1]
                        pending = next(journal, None)
                    else:
                        data = encode((DELETED, kind, ref))
                elif last_of.get(kind, {}).get(ref) == idx:
                    seen[kind].add(ref)
                    now_row = current[kind].get(ref)
                    data = now_row if now_row is not None else encode((DELETED, kind, ref))
                else:
                    data = stored_data
                h = merkle.leaf_hash(data)
                if first_diff is None and h != stored_hash:
                    first_diff, diff_record = idx, dict(kind=kind, ref=ref)
                f.append(h)
                while ci < len(cps) and cps[ci].tree_size == f.size:
                    if f.root().hex() != cps[ci].root_hash:
                        return _differs(report, cps[ci], first_diff, diff_record, ok_size,
                                        f.size, 0.0, log)
                    ok_size = f.size
                    ci += 1
        report.leaves = f.size
        if ci < len(cps):
            return _differs(report, cps[ci], f.size, None, ok_size, f.size, 0.0, log,
                            truncated=True)
        if pending is not None:
            inserted.append(pending[0])
        report.unlogged.extend(f"journal entry {q} is not in the log" for q in inserted[:20])
        for k in LAYOUTS:
            missing = sorted(set(current[k]) - seen[k])
            report.unlogged.extend(f"{k} {r} is not in the log" for r in missing[:20])
    return report


def _log_sql(url: str, *statements: str, params: dict[str, Any] | None = None) -> None:
    eng = raw_engine(url)
    with eng.begin() as c:
        for t in ("ledger_log", "ledger_log_run", "ledger_log_node"):
            if eng.dialect.name == "postgresql":
                c.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER USER"))
            else:
                for op in ("update", "delete"):
                    c.execute(text(f"DROP TRIGGER IF EXISTS {t}_no_{op}"))
        for s in statements:
            c.execute(text(s), params or {})
    eng.dispose()


def _copy_last_entry(url: str) -> str:
    cols = ("id, batch, type, phase, pending_id, debit_account, credit_account, asset, "
            "amount, reference, initiator, created_at, timeout_at, prev_hash, hash, "
            "hash_version")
    return (f"INSERT INTO ledger_journal (seq, {cols}) SELECT seq + 1, id || 'x', "
            f"{cols.split(', ', 1)[1]} FROM ledger_journal "
            "WHERE seq = (SELECT max(seq) FROM ledger_journal)")


def _rewrite_leaf(url: str, platform: Any, index: int) -> None:
    """The log's own hash of one journal leaf changed (in its run)."""
    eng = raw_engine(url)
    with eng.connect() as c:
        first, hashes = c.execute(text(
            "SELECT first_index, hashes FROM ledger_log_run WHERE first_index <= :i "
            "ORDER BY first_index DESC LIMIT 1"), dict(i=index)).one()
    eng.dispose()
    k = 32 * (index - first)
    new = merkle.leaf_hash(encode(("erts-bench/other", index)))
    _log_sql(url, "UPDATE ledger_log_run SET hashes = :h WHERE first_index = :f",
             params=dict(h=bytes(hashes)[:k] + new + bytes(hashes)[k + 32:], f=first))


TAMPERS: dict[str, Callable[[str, Any], None]] = {
    "intact": lambda url, p: None,
    "amount": lambda url, p: tamper(url, "UPDATE ledger_journal SET amount = amount + 1 "
                                         "WHERE seq = 5"),
    "rewrite": lambda url, p: rewrite_history(url, p, 9),
    "deleted": lambda url, p: tamper(url, "DELETE FROM ledger_journal WHERE seq = 7"),
    "inserted": lambda url, p: tamper(url, _copy_last_entry(url)),
    "truncated": lambda url, p: _log_sql(  # the last four leaves, and the runs they are in
        url, "DELETE FROM ledger_log WHERE leaf_index >= (SELECT size - 4 "
             "FROM ledger_log_head)",
        "DELETE FROM ledger_log_run WHERE first_index + n > (SELECT size - 4 "
        "FROM ledger_log_head)"),
    "leaf_bytes": lambda url, p: _rewrite_leaf(url, p, 4),
    "leaf_and_entry": lambda url, p: (_rewrite_leaf(url, p, 2),
                                      tamper(url, "UPDATE ledger_journal SET amount = "
                                                  "amount + 1 WHERE seq = 3")),
}


def _without_seconds(d: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in d.items() if k != "seconds"}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_one_pass_gives_both_reports_as_before(platform: Any, db_url: str, books: Books,
                                                tmp_path: Any, what: str) -> None:
    traffic(platform, books, 3)
    signer = _signer(tmp_path)
    assert T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW) is not None
    traffic(platform, books, 2, tag="u")
    assert T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW) is not None
    traffic(platform, books, 1, tag="w")  # leaves after the last checkpoint
    doc = parse_checkpoints(json.dumps(T.published(platform.uow(), origin=ORIGIN)))
    TAMPERS[what](db_url, platform)
    report, history = verify_all(platform.uow(), doc)
    alone = ledger.verify(platform.uow())
    hist_alone = T.verify_checkpoints(platform.uow(), doc)
    before = reference_history(platform.uow(), doc)
    assert _without_seconds(report.as_dict()) == _without_seconds(alone.as_dict())
    assert _without_seconds(history.as_dict()) == _without_seconds(hist_alone.as_dict())
    assert _without_seconds(history.as_dict()) == _without_seconds(before.as_dict())
    assert report.seconds > 0 and history.seconds > 0
    expect_ok = {"intact": (True, True), "amount": (False, False),
                 "rewrite": (True, False), "deleted": (False, False),
                 "inserted": (False, True), "truncated": (True, False),
                 "leaf_bytes": (True, True), "leaf_and_entry": (False, False)}[what]
    assert (report.ok, history.ok) == expect_ok
    if what == "inserted":
        assert history.unlogged and history.unlogged[0].startswith("journal entry ")


def test_small_chunks_give_the_same_reports(platform: Any, db_url: str, books: Books,
                                            tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """Chunks of 3 rows and 2 leaves: the journal's and the log's chunk edges fall
    everywhere, a checkpoint's size inside a chunk."""
    traffic(platform, books, 3)
    signer = _signer(tmp_path)
    T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW)
    traffic(platform, books, 2, tag="u")
    T.checkpoint(platform.uow(), signer, origin=ORIGIN, now=NOW)
    doc = parse_checkpoints(json.dumps(T.published(platform.uow(), origin=ORIGIN)))
    rewrite_history(db_url, platform, 11)
    want = reference_history(platform.uow(), doc)
    real_rows, real_leaves = LedgerStore.journal_rows, LogStore.leaves
    monkeypatch.setattr(LedgerStore, "journal_rows",
                        lambda self, **kw: real_rows(self, **{**kw, "chunk": 3}))
    monkeypatch.setattr(LogStore, "leaves",
                        lambda self, **kw: real_leaves(self, **{**kw, "chunk": 2}))
    report, history = verify_all(platform.uow(), doc)
    assert _without_seconds(history.as_dict()) == _without_seconds(want.as_dict())
    assert not history.ok and history.record == {"kind": "journal", "ref": "11"}
    assert report.ok and report.entries == ledger.verify(platform.uow()).entries
