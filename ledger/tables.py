"""Ledger tables. Balances are stored per account; the journal is the truth they must match."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

# Journal sequence numbers and amounts may exceed 2**31.
BigInt = BigInteger().with_variant(Integer(), "sqlite")


class AssetRow(Base):
    __tablename__ = "ledger_asset"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # right | money
    pollutant: Mapped[str | None] = mapped_column(String(10))
    zone: Mapped[str | None] = mapped_column(String(20))
    vintage: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(5))  # kg | fen


class AccountRow(Base):
    __tablename__ = "ledger_account"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    holder: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    asset: Mapped[str] = mapped_column(ForeignKey("ledger_asset.code"), index=True)
    no_overdraft: Mapped[bool] = mapped_column(Boolean, default=True)
    upper_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("uq_ledger_account_holder_kind_asset", "holder", "kind", "asset",
                            unique=True),)


class JournalRow(Base):
    """One journal entry. Append-only; `hash` chains it to the entry before it."""

    __tablename__ = "ledger_journal"
    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    batch: Mapped[str | None] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(24))
    phase: Mapped[str] = mapped_column(String(8))  # single | pending | post | void | expire
    pending_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # ledger_account ids; no row-level foreign key on PostgreSQL (migration 0014): the
    # writer has these accounts locked when it appends, and accounts are never deleted
    debit_account: Mapped[int] = mapped_column(BigInteger, index=True)
    credit_account: Mapped[int] = mapped_column(BigInteger, index=True)
    asset: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(120), index=True)
    initiator: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    timeout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: the rule `hash` was made with (ledger.entries.HASH_VERSIONS): 1 for the entries
    #: written before migration 0032, 2 (canonical bytes) since
    hash_version: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")


class PendingRow(Base):
    """Mutable state of a two-phase transfer (the journal keeps its history)."""

    __tablename__ = "ledger_pending"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    debit_account: Mapped[int] = mapped_column(BigInteger)  # ledger_account ids, as the journal
    credit_account: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    posted: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(8), index=True)  # pending|posted|voided|expired
    timeout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class HeadRow(Base):
    """The journal head: last sequence number and hash. Locked by every writer."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class RejectionRow(Base):
    """Audit record of a rejected transfer: the only trace a rejection leaves."""

    __tablename__ = "ledger_rejection"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    initiator: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReconciliationRow(Base):
    """One reconciliation run: the journal recomputed and compared with stored balances."""

    __tablename__ = "ledger_reconciliation"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    head_seq: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(BigInteger)
    accounts: Mapped[int] = mapped_column(Integer)
    chain_ok: Mapped[bool] = mapped_column(Boolean)
    first_bad_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    discrepancies: Mapped[int] = mapped_column(Integer)
    frozen: Mapped[int] = mapped_column(Integer)


class DiscrepancyRow(Base):
    """A stored figure of an account that the journal did not bear out, found by a run."""

    __tablename__ = "ledger_discrepancy"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    run: Mapped[int] = mapped_column(ForeignKey("ledger_reconciliation.id"), index=True)
    account: Mapped[int] = mapped_column(BigInt, index=True)
    field: Mapped[str] = mapped_column(String(20))
    stored: Mapped[int] = mapped_column(BigInteger)
    journal: Mapped[int] = mapped_column(BigInteger)


class AccountFlagRow(Base):
    """Every freeze and unfreeze of an account: who, why, and (for reconciliation) which run."""

    __tablename__ = "ledger_account_flag"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    account: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))  # freeze | unfreeze
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    run: Mapped[int | None] = mapped_column(ForeignKey("ledger_reconciliation.id"),
                                            nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- the transparency log (issue 16; docs/ledger-transparency.md) ---------------------------
class LogLeafRow(Base):
    """One leaf of the RFC 9162 tree that is a bound record (or, in a log filled before
    migration 0037, a journal entry), in append order; journal leaves are `LogRunRow`s.
    Append-only (triggers); `leaf_data` are the record's canonical bytes as appended."""

    __tablename__ = "ledger_log"
    leaf_index: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))  # journal|trade|permit_quantity|permit_event
    ref: Mapped[str] = mapped_column(String(80))  # journal seq, trade id, ...
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_ledger_log_kind_ref", "kind", "ref"),)


class LogRunRow(Base):
    """A run of journal leaves, one row per append: leaves `first_index` .. `first_index +
    n - 1` are the journal entries `first_seq` .. `first_seq + n - 1`; `hashes` holds their
    leaf hashes, 32 bytes each, in order. A journal leaf's data is its entry's row (the
    journal is append-only), so it is not stored twice. Append-only (triggers)."""

    __tablename__ = "ledger_log_run"
    first_index: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    n: Mapped[int] = mapped_column(Integer)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LogNodeRow(Base):
    """A complete subtree's root: leaves [idx * 2**level, (idx + 1) * 2**level).
    Append-only (triggers)."""

    __tablename__ = "ledger_log_node"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHeadRow(Base):
    """The tree's size and frontier (its right-most complete subtrees, largest first, 32
    bytes each): what an append needs. Written under the journal head lock."""

    __tablename__ = "ledger_log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LogQueueRow(Base):
    """A bound record written in this transaction and not yet a leaf: filled by triggers on
    trade, permit_quantity and permit_event, drained (appended as leaves, deleted) before
    the transaction commits (ledger.transparency)."""

    __tablename__ = "ledger_log_queue"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(80))


class CheckpointRow(Base):
    """A signed checkpoint (tree size, root hash, time). Append-only (triggers)."""

    __tablename__ = "ledger_checkpoint"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(200))
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    #: RFC 3339 UTC text exactly as signed, e.g. 2026-12-06T03:00:00Z
    timestamp: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
