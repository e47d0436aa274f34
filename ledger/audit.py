"""`erts ledger verify --checkpoints`: the journal check (`ledger.service.verify`) and the
history check (`ledger.history.verify_checkpoints`) in one pass over the journal.

Both read one REPEATABLE READ snapshot (one transaction): the journal head, the journal
(each row once: `JournalCheck` hashes the chain and, from the same bytes, gives the row's
log leaf), the log's leaves, the bound records and the last leaf of each, the stored
accounts and pending transfers. On PostgreSQL the journal and the log are read by two
server-side cursors of that transaction, each in a thread of its own while this one hashes.
The reports are those the two functions give on their own (`seconds` counts from the start
of the pass to when each report was complete).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import Any

from ledger.entries import JournalCheck
from ledger.history import (
    HistoryCheck,
    HistoryReport,
    JournalLeaves,
    prefetched,
)
from ledger.log_store import LogStore
from ledger.service import VerifyReport, verify_report
from ledger.signing import CheckpointsDoc
from ledger.store import LedgerStore, Row


def verify_all(uow: Any, doc: CheckpointsDoc) -> tuple[VerifyReport, HistoryReport]:
    """`ledger.service.verify` and `ledger.transparency.verify_checkpoints` at once."""
    t0 = time.perf_counter()
    with uow:
        s = uow.session
        store = LedgerStore(s)
        store.isolation("REPEATABLE READ")
        head_seq, head_hash = store.head()
        log = LogStore(s)
        history = HistoryCheck(log, doc)
        check = JournalCheck(time_epoch=store.journal_time_epoch)
        pg = store.postgres
        rows_in: Iterator[list[Row]] = (prefetched(store.journal_rows()) if pg
                                        else store.journal_rows())

        def leaf_chunks() -> Iterator[tuple[list[int], list[bytes]]]:
            for rows in rows_in:
                leaves: list[bytes] = []
                check.run(rows, leaves)
                yield [r[0] for r in rows], leaves

        journal = JournalLeaves(leaf_chunks())
        log_in = log.leaves()
        chunks = prefetched(log_in) if pg else log_in
        try:
            for chunk in chunks:
                if not history.feed(chunk, journal):
                    break
            chunks.close()  # the log's cursor done before the connection is used again
            log_in.close()
            history.settle(journal)
            for rows in rows_in:  # the rest of the journal: the chain and balances only
                check.run(rows)
        finally:  # on a failure too: no reader thread or cursor is left running
            chunks.close()
            log_in.close()
            if isinstance(rows_in, Generator):
                rows_in.close()
        hist = history.finish(log, t0)
        accounts = store.all_accounts()
        pendings = store.pending_states()
    return verify_report(check, head_seq, head_hash, accounts, pendings, t0), hist
