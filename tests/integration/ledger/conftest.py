"""A small set of ledger accounts, made through the ledger's own use cases, and helpers to
tamper with the journal as an attacker with DDL rights would."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from ledger import service as ledger
from ledger.entries import Transfer
from ledger.store import LedgerStore
from ledger.transactions import AccountKind as K
from ledger.transactions import Initiator

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass
class Books:
    issuance: int
    reserve: int
    c1: int  # P1 confirmed, cap 5000
    t1: int  # P1 tradable
    c2: int  # P2 confirmed, cap 3000
    t2: int
    s1: int  # P1 surrender
    bank: int
    cash1: int
    cash2: int


def make_books(platform, now: datetime = NOW) -> Books:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        b = ledger.ensure_rights_accounts(uow, holder=ledger.BUREAU, pollutant="SO2", zone="Z1",
                                          vintage=2026, kinds=[K.ISSUANCE, K.RESERVE], now=now)
        p1 = ledger.ensure_rights_accounts(uow, holder="P1", pollutant="SO2", zone="Z1",
                                           vintage=2026, kinds=[K.CONFIRMED, K.TRADABLE,
                                                                K.SURRENDER],
                                           now=now, upper_limit=5000)
        p2 = ledger.ensure_rights_accounts(uow, holder="P2", pollutant="SO2", zone="Z1",
                                           vintage=2026, kinds=[K.CONFIRMED, K.TRADABLE],
                                           now=now, upper_limit=3000)
        bank = ledger.bank_account(uow, now)
        cash1 = ledger.ensure_cash_account(uow, "E1", now)
        cash2 = ledger.ensure_cash_account(uow, "E2", now)
        uow.commit()
    books = Books(b[K.ISSUANCE], b[K.RESERVE], p1[K.CONFIRMED], p1[K.TRADABLE],
                  p2[K.CONFIRMED], p2[K.TRADABLE], p1[K.SURRENDER], bank, cash1, cash2)
    ledger.submit(platform.uow, [
        Transfer("seed:issue", "issuance", books.issuance, books.reserve, 20_000),
        Transfer("seed:confirm1", "confirmation", books.reserve, books.c1, 4000),
        Transfer("seed:confirm2", "confirmation", books.reserve, books.c2, 1000),
        Transfer("seed:verify1", "verification", books.c1, books.t1, 1500),
        Transfer("seed:cash1", "deposit", books.bank, books.cash1, 1_000_000),
        Transfer("seed:cash2", "deposit", books.bank, books.cash2, 1_000_000),
    ], initiator=Initiator.BUREAU, actor="bureau", batch="seed", now=now)
    return books


@pytest.fixture
def books(platform) -> Books:  # type: ignore[no-untyped-def]
    return make_books(platform)


def balances(platform) -> dict[int, tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        return {a.id: (a.balance, a.debits_pending, a.credits_pending)
                for a in LedgerStore(uow.session).all_accounts()}


def rejection_codes(platform) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(r["code"]) for r in ledger.rejections(platform.uow(), 1000)][::-1]


def raw_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, isolation_level="AUTOCOMMIT")


def tamper(url: str, *statements: str) -> None:
    """Run SQL against the journal as an attacker with DDL rights: the append-only
    triggers are switched off (PostgreSQL) or dropped (SQLite) first."""
    eng = raw_engine(url)
    with eng.connect() as c:
        if eng.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE ledger_journal DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER IF EXISTS ledger_journal_no_update"))
            c.execute(text("DROP TRIGGER IF EXISTS ledger_journal_no_delete"))
        for s in statements:
            c.execute(text(s))
    eng.dispose()


def export_hash(prev: str, r: dict[str, str]) -> str:
    """An auditor's recomputation of one exported entry's hash (CSV cells as text, empty for
    absent), by the rule of its hash_version (docs/ledger-transparency.md)."""
    fields = ("seq", "id", "batch", "type", "phase", "pending_id", "debit_account",
              "credit_account", "asset", "amount", "reference", "initiator", "created_at_us",
              "timeout_at_us")
    if r.get("hash_version", "1") in ("1", 1):
        return hashlib.sha256("\x1f".join([prev] + [str(r[k]) for k in fields]).encode()
                              ).hexdigest()
    ints = {"seq", "debit_account", "credit_account", "amount", "created_at_us",
            "timeout_at_us"}
    out = bytearray()
    for k, v in [("tag", "erts-ledger/journal-chain/v2"), ("prev", prev)] + [
            (k, r[k]) for k in fields]:
        if v == "" or v is None:
            out += b"\x00"  # CSV cannot tell NULL from '': these columns are never ''
        elif k in ints:
            out += b"\x02" + int(v).to_bytes(8, "big", signed=True)
        else:
            b = str(v).encode()
            out += b"\x01" + len(b).to_bytes(4, "big") + b
    return hashlib.sha256(bytes(out)).hexdigest()
