"""Ledger repository: all SQL of the ledger. Maps rows to `AccountState`, `PendingState`,
`Finished`, `Entry`, and journal rows to the plain tuples `JournalCheck` reads.

Locking (PostgreSQL, the default strategy): the single journal-head row first, then
pending transfers, then accounts, each in ascending id order (SELECT ... FOR UPDATE). Every
writer of the journal takes the head before any ledger row (trading right after its market
or venue row), so writers never deadlock over head and accounts, and the head lock makes
journal appends serial: the hash chain has no forks. The other strategy
(`row_locks=False`, used under SERIALIZABLE isolation) takes no locks and lets PostgreSQL
abort conflicting transactions.
On SQLite the writer already holds the database lock (BEGIN IMMEDIATE).
Hot paths use Core statements (no ORM identity map): they run once per transfer. The two
that run in every write on PostgreSQL (`open_group`: existing ids, account locks and head
lock in one pipelined round trip; the small `write`) go straight to the driver as prepared
statements: SQLAlchemy's per-statement work was most of the CPU of a single transfer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ledger import errors as E
from ledger.entries import GENESIS, AccountState, Entry, Finished, PendingState, Row
from ledger.log_store import LogPart, LogStore
from ledger.tables import (
    AccountFlagRow,
    AccountRow,
    AssetRow,
    DiscrepancyRow,
    HeadRow,
    JournalRow,
    PendingRow,
    ReconciliationRow,
    RejectionRow,
)
from ledger.transactions import AccountKind
from storage.bulk import driver_connection, insert_rows, pg_chunks, pg_rows, update_rows

A: Table = AccountRow.__table__  # type: ignore[assignment]
J: Table = JournalRow.__table__  # type: ignore[assignment]
P: Table = PendingRow.__table__  # type: ignore[assignment]
H: Table = HeadRow.__table__  # type: ignore[assignment]
CHUNK = 2000
_PG_EPOCH_US = 946_684_800 * 1_000_000  # PostgreSQL's epoch, 2000-01-01, in Unix µs
_JOURNAL_COLS = (J.c.seq, J.c.id, J.c.batch, J.c.type, J.c.phase, J.c.pending_id,
                 J.c.debit_account, J.c.credit_account, J.c.asset, J.c.amount, J.c.reference,
                 J.c.initiator, J.c.created_at, J.c.timeout_at, J.c.prev_hash, J.c.hash,
                 J.c.hash_version)


_PG_ENTRY_AT = ("SELECT " + ", ".join(c.name for c in _JOURNAL_COLS)
                + " FROM ledger_journal WHERE seq = %s")
_PG_EXISTING = ("SELECT " + ", ".join(c.name for c in _JOURNAL_COLS)
                + " FROM ledger_journal WHERE id = ANY(%s::varchar[])")
_PG_ACCOUNTS = ("SELECT id, holder, kind, asset, no_overdraft, upper_limit, frozen, "
                "debits_posted, credits_posted, debits_pending, credits_pending "
                "FROM ledger_account WHERE id = ANY(%s::bigint[]) ORDER BY id")
#: the journal head and, in the same round trip, the transparency log's head (its size and
#: frontier: what this transaction's appends need; ledger.log_store). Both rows are locked:
#: after waiting for the lock, READ COMMITTED re-reads only the rows it locked, so the log
#: head must be one of them or a writer would append onto the tree as it was before the
#: writer it waited for (only head-lock holders write the log head: no new contention).
#: No row without a log head (before migration 0032 ran): then the head is read alone.
_PG_HEAD = ("SELECT h.seq, h.hash, l.size, l.frontier FROM ledger_head AS h JOIN "
            "ledger_log_head AS l ON l.id = 1 WHERE h.id = 1")
_PG_HEAD_LOCK = _PG_HEAD + " FOR UPDATE"
_PG_PENDINGS = ("SELECT id, debit_account, credit_account, amount, posted, state, timeout_at "
                "FROM ledger_pending WHERE id = ANY(%s::varchar[]) ORDER BY id")
_PG_ACCOUNT_IDS = ("SELECT holder, kind, asset, id FROM ledger_account "
                   "WHERE asset = ANY(%s::varchar[]) AND kind = ANY(%s::varchar[]) "
                   "AND holder = ANY(%s::varchar[])")
_PG_TYPES = ("bigint", "varchar", "varchar", "varchar", "varchar", "varchar", "bigint",
             "bigint", "varchar", "bigint", "varchar", "varchar", "timestamptz",
             "timestamptz", "varchar", "varchar", "smallint")
_PG_ACCOUNTS_UPDATE = (
    "UPDATE ledger_account AS a SET debits_posted = v.dp, "
    "credits_posted = v.cp, debits_pending = v.dq, credits_pending = v.cq FROM unnest("
    "%(ids)s::bigint[], %(dp)s::bigint[], %(cp)s::bigint[], %(dq)s::bigint[], "
    "%(cq)s::bigint[]) AS v(id, dp, cp, dq, cq) WHERE a.id = v.id")
_PG_HEAD_UPDATE = "UPDATE ledger_head SET seq = %(seq)s, hash = %(hash)s WHERE id = 1"
#: after the entries went in by COPY: balances and the head in one statement
_PG_BALANCES_AND_HEAD = f"WITH acc AS ({_PG_ACCOUNTS_UPDATE}) {_PG_HEAD_UPDATE}"
#: a small write in one statement: balances, the head and the new entries
_PG_INSERT_JOURNAL = (
    "INSERT INTO ledger_journal (" + ", ".join(c.name for c in _JOURNAL_COLS) + ") "
    "SELECT * FROM unnest(" + ", ".join(f"%(j{i})s::{t}[]" for i, t in enumerate(_PG_TYPES))
    + ")")
_PG_WRITE = f"WITH acc AS ({_PG_ACCOUNTS_UPDATE}), head AS ({_PG_HEAD_UPDATE}) " + (
    _PG_INSERT_JOURNAL)
#: the same with the entries' leaves of the transparency log (its CTEs: `LogPart.ctes`)
_PG_WRITE_LOG = f"WITH acc AS ({_PG_ACCOUNTS_UPDATE}), head AS ({_PG_HEAD_UPDATE}), "


def _upsert_ignore(session: Session, table: type, values: dict[str, object]) -> None:
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(table).values(**values).on_conflict_do_nothing()  # type: ignore[attr-defined]
    session.execute(stmt)


def _state(r: Any) -> AccountState:
    return AccountState(r.id, r.holder, AccountKind(r.kind), r.asset, r.no_overdraft,
                        r.upper_limit, r.frozen, r.debits_posted, r.credits_posted,
                        r.debits_pending, r.credits_pending)


def _aware(dt: datetime | None) -> Any:
    """The ledger writes UTC; SQLite gives times back naive."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


def _entry(r: Any) -> Entry:
    return Entry(r.seq, r.id, r.batch, r.type, r.phase, r.pending_id, r.debit_account,
                 r.credit_account, r.asset, r.amount, r.reference, r.initiator,
                 _aware(r.created_at), _aware(r.timeout_at), r.prev_hash, r.hash,
                 r.hash_version)


def translate(exc: BaseException) -> Exception | None:
    """A database error a use case may retry: a unique-key race on a transfer id, or
    PostgreSQL's serialisation failure or deadlock. None for anything else."""
    # the hot paths run some statements on the driver connection: its errors come unwrapped
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlstate", None)
    if isinstance(exc, IntegrityError) or code == "23505":
        text = str(orig)
        if code == "23505" or "UNIQUE constraint failed: ledger_journal.id" in text or (
                "UNIQUE constraint failed: ledger_pending.id" in text):
            return E.ConcurrentDuplicate(text)
        return None
    if code in ("40001", "40P01") and (isinstance(exc, DBAPIError) or _is_driver_error(exc)):
        return E.RetryableConflict(str(orig))
    return None


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


class LedgerStore:
    def __init__(self, session: Session, *, row_locks: bool = True) -> None:
        self.s = session
        self.row_locks = row_locks

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def _lock(self) -> bool:
        return self.row_locks and self.postgres

    def _in(self, col: Any, values: list[Any], type_: Any) -> list[Any]:
        """`col IN values` as one or more conditions: on PostgreSQL one `= ANY(array)`
        (one bind parameter, however many values), elsewhere chunks of IN lists."""
        if self.postgres:
            return [col == any_(bindparam(None, values, type_=postgresql.ARRAY(type_)))]
        return [col.in_(values[i:i + CHUNK]) for i in range(0, len(values), CHUNK)]

    def _raw(self) -> Any:
        """The DBAPI connection of this session's transaction (for COPY)."""
        return driver_connection(self.s)

    def isolation(self, level: str) -> None:
        """Set this transaction's isolation (PostgreSQL; before its first statement)."""
        if self.postgres:
            self.s.connection(execution_options={"isolation_level": level})

    # -- assets and accounts ------------------------------------------------------------
    def ensure_asset(self, code: str, kind: str, pollutant: str | None = None,
                     zone: str | None = None, vintage: int | None = None) -> None:
        if self.s.get(AssetRow, code) is None:
            _upsert_ignore(self.s, AssetRow, dict(
                code=code, kind=kind, pollutant=pollutant, zone=zone, vintage=vintage,
                unit="fen" if kind == "money" else "kg"))

    def account_id(self, holder: str, kind: str, asset: str) -> int | None:
        return self.s.scalar(select(AccountRow.id).where(
            AccountRow.holder == holder, AccountRow.kind == kind, AccountRow.asset == asset))

    def account_ids(self, holders: Iterable[str], kinds: Iterable[str],
                    assets: Iterable[str]) -> dict[tuple[str, str, str], int]:
        """Ids of the accounts of every (holder, kind, asset) asked that exists, in one
        statement."""
        hs, ks = sorted(set(holders)), sorted({str(k) for k in kinds})
        ss = sorted(set(assets))
        if not hs or not ks or not ss:
            return {}
        if self.postgres:
            return {(h, k, a): i for h, k, a, i in pg_rows(self.s, _PG_ACCOUNT_IDS,
                                                            (ss, ks, hs))}
        out: dict[tuple[str, str, str], int] = {}
        for cond in self._in(A.c.holder, hs, String()):
            rows = self.s.execute(select(A.c.holder, A.c.kind, A.c.asset, A.c.id).where(
                A.c.asset.in_(ss), A.c.kind.in_(ks), cond))
            out.update({(h, k, a): i for h, k, a, i in rows})
        return out

    def ensure_account(self, holder: str, kind: str, asset: str, *, now: datetime,
                       no_overdraft: bool = True, upper_limit: int | None = None) -> int:
        found = self.account_id(holder, kind, asset)
        if found is not None:
            return found
        _upsert_ignore(self.s, AccountRow, dict(
            holder=holder, kind=kind, asset=asset, no_overdraft=no_overdraft,
            upper_limit=upper_limit, frozen=False, debits_posted=0, credits_posted=0,
            debits_pending=0, credits_pending=0, created_at=now))
        made = self.account_id(holder, kind, asset)
        assert made is not None
        return made

    def set_upper_limit(self, account_id: int, limit: int | None) -> None:
        self.s.execute(update(AccountRow).where(AccountRow.id == account_id)
                       .values(upper_limit=limit))

    def set_frozen(self, account_id: int, frozen: bool, reason: str | None) -> None:
        self.s.execute(update(A).where(A.c.id == account_id)
                       .values(frozen=frozen, frozen_reason=reason))

    def set_balances(self, account_id: int, figures: list[int]) -> None:
        """Overwrite an account's stored figures [debits_posted, credits_posted,
        debits_pending, credits_pending] (a resolution restoring them from the journal)."""
        dp, cp, dq, cq = figures
        self.s.execute(update(A).where(A.c.id == account_id).values(
            debits_posted=dp, credits_posted=cp, debits_pending=dq, credits_pending=cq))

    def frozen_reason(self, account_id: int) -> str | None:
        return self.s.scalar(select(A.c.frozen_reason).where(A.c.id == account_id))

    def get_account(self, account_id: int) -> AccountState | None:
        r = self.s.execute(select(A).where(A.c.id == account_id)).first()
        return _state(r) if r is not None else None

    def accounts_of(self, holders: Iterable[str]) -> list[AccountState]:
        rows = self.s.execute(select(A).where(A.c.holder.in_(list(holders)))
                              .order_by(A.c.asset, A.c.kind))
        return [_state(r) for r in rows]

    def all_accounts(self) -> list[AccountState]:
        return [_state(r) for r in self.s.execute(select(A).order_by(A.c.id))]

    def open_group(self, transfer_ids: list[str], account_ids: Iterable[int], *,
                   head: bool) -> tuple[dict[str, Entry], dict[int, AccountState],
                                        tuple[int, str] | None]:
        """What a write of new single or pending transfers reads first: (when `head`) the
        locked journal head, the entries that already exist with any of `transfer_ids`
        (idempotency), and the accounts locked in ascending id order. On PostgreSQL the
        three statements go in one round trip (pipeline mode) straight on the driver: they
        still run in that order, so the lock order is every writer's. The head is None when
        not asked for, or when no head row exists yet (`lock_head` makes it)."""
        wanted = sorted(set(account_ids))
        if not self.postgres:
            got = self.lock_head() if head else None
            return self.existing(transfer_ids), self.lock_accounts(wanted), got
        lock = " FOR UPDATE" if self._lock() else ""
        raw = self._raw()
        with raw.pipeline():
            c3 = (raw.execute(_PG_HEAD_LOCK if lock else _PG_HEAD, prepare=True) if head
                  else None)
            c1 = raw.execute(_PG_EXISTING, (transfer_ids,), prepare=True)
            c2 = raw.execute(_PG_ACCOUNTS + lock, (wanted,), prepare=True)
        seen = {r[1]: Entry(*r) for r in c1.fetchall()}
        accounts = {r[0]: AccountState(r[0], r[1], AccountKind(r[2]), *r[3:])
                    for r in c2.fetchall()}
        found = c3.fetchone() if c3 is not None else None
        if found and found[2] is not None:
            LogStore(self.s).remember(int(found[2]), bytes(found[3]))
        return seen, accounts, (int(found[0]), str(found[1])) if found else None

    def lock_accounts(self, ids: Iterable[int]) -> dict[int, AccountState]:
        wanted = sorted(set(ids))
        out: dict[int, AccountState] = {}
        if not wanted:
            return out
        if self.postgres:
            sql = _PG_ACCOUNTS + (" FOR UPDATE" if self._lock() else "")
            return {r[0]: AccountState(r[0], r[1], AccountKind(r[2]), *r[3:])
                    for r in pg_rows(self.s, sql, (wanted,))}
        for cond in self._in(A.c.id, wanted, BigInteger()):
            q = select(A).where(cond).order_by(A.c.id)
            if self._lock():
                q = q.with_for_update()
            for r in self.s.execute(q):
                out[r.id] = _state(r)
        return out

    def save_accounts(self, states: Iterable[AccountState]) -> None:
        rows = [dict(_id=a.id, dp=a.debits_posted, cp=a.credits_posted,
                     dq=a.debits_pending, cq=a.credits_pending) for a in states]
        if rows and self.postgres and len(rows) > 8:
            # one statement for the whole batch
            self.s.execute(text(
                "UPDATE ledger_account AS a SET debits_posted = v.dp, credits_posted = v.cp, "
                "debits_pending = v.dq, credits_pending = v.cq FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:dp AS bigint[]), CAST(:cp AS bigint[]), "
                "CAST(:dq AS bigint[]), CAST(:cq AS bigint[])) AS v(id, dp, cp, dq, cq) "
                "WHERE a.id = v.id"), {k: [r[n] for r in rows] for k, n in (
                    ("ids", "_id"), ("dp", "dp"), ("cp", "cp"), ("dq", "dq"), ("cq", "cq"))})
        elif rows:
            self.s.execute(update(A).where(A.c.id == bindparam("_id")).values(
                debits_posted=bindparam("dp"), credits_posted=bindparam("cp"),
                debits_pending=bindparam("dq"), credits_pending=bindparam("cq")), rows)

    # -- pending and finished transfers -------------------------------------------------
    def load_pendings(self, ids: Iterable[str]) -> dict[str, PendingState]:
        wanted = sorted({i for i in ids if i})
        out: dict[str, PendingState] = {}
        if self.postgres and wanted:
            sql = _PG_PENDINGS + (" FOR UPDATE" if self._lock() else "")
            return {r[0]: PendingState(*r) for r in pg_rows(self.s, sql, (wanted,))}
        for i in range(0, len(wanted), CHUNK):
            q = select(P).where(P.c.id.in_(wanted[i:i + CHUNK])).order_by(P.c.id)
            if self._lock():
                q = q.with_for_update()
            for r in self.s.execute(q):
                out[r.id] = PendingState(r.id, r.debit_account, r.credit_account, r.amount,
                                         r.posted, r.state, _aware(r.timeout_at))
        return out

    def save_pendings(self, states: Iterable[PendingState], new_ids: set[str]) -> None:
        new = [dict(id=p.id, debit_account=p.debit_account, credit_account=p.credit_account,
                    amount=p.amount, posted=p.posted, state=p.state, timeout_at=p.timeout_at)
               for p in states if p.id in new_ids]
        old = [dict(id=p.id, posted=p.posted, state=p.state)
               for p in states if p.id not in new_ids]
        insert_rows(self.s, P, new)
        update_rows(self.s, P, "id", old)

    def expired_pendings(self, now: datetime, limit: int = 1000) -> list[str]:
        return list(self.s.scalars(select(P.c.id).where(
            P.c.state == "pending", P.c.timeout_at.is_not(None),
            P.c.timeout_at <= now).order_by(P.c.id).limit(limit)))

    def pending_states(self) -> dict[str, PendingState]:
        return {r.id: PendingState(r.id, r.debit_account, r.credit_account, r.amount,
                                   r.posted, r.state, _aware(r.timeout_at))
                for r in self.s.execute(select(P))}

    def load_finished(self, ids: Iterable[str]) -> dict[str, Finished]:
        """Finished transfers (single or post entries) a reversal may act on."""
        wanted = sorted({i for i in ids if i})
        out: dict[str, Finished] = {}
        for i in range(0, len(wanted), CHUNK):
            q = select(J.c.id, J.c.type, J.c.phase, J.c.debit_account, J.c.credit_account,
                       J.c.amount, J.c.created_at).where(J.c.id.in_(wanted[i:i + CHUNK]))
            for r in self.s.execute(q):
                out[r.id] = Finished(r.id, r.type, r.phase, r.debit_account, r.credit_account,
                                     r.amount, _aware(r.created_at))
        return out

    def reversed_amounts(self, ids: Iterable[str]) -> dict[str, int]:
        """How much of each transfer earlier reversals moved back. Read after the accounts
        are locked, so two reversals of one transfer see each other."""
        wanted = sorted({i for i in ids if i})
        out: dict[str, int] = {}
        for i in range(0, len(wanted), CHUNK):
            q = (select(J.c.pending_id, func.sum(J.c.amount)).where(
                J.c.type == "reversal", J.c.pending_id.in_(wanted[i:i + CHUNK]))
                .group_by(J.c.pending_id))
            out.update({pid: int(total) for pid, total in self.s.execute(q)})
        return out

    # -- journal ------------------------------------------------------------------------
    def holds_head(self) -> bool:
        """This transaction took the journal head lock (`lock_head` with row locks)."""
        tx = self.s.get_transaction()
        return tx is not None and self.s.info.get("erts_head_locked") is tx

    def lock_head(self) -> tuple[int, str]:
        if self._lock():
            self.s.info["erts_head_locked"] = self.s.get_transaction()
        if self.postgres:
            found = pg_rows(self.s, _PG_HEAD_LOCK if self._lock() else _PG_HEAD)
            if found:
                if found[0][2] is not None:
                    LogStore(self.s).remember(int(found[0][2]), bytes(found[0][3]))
                return int(found[0][0]), str(found[0][1])
        q = select(H.c.seq, H.c.hash).where(H.c.id == 1)
        if self._lock():
            q = q.with_for_update()
        head = self.s.execute(q).first()
        if head is None:
            _upsert_ignore(self.s, HeadRow, dict(id=1, seq=0, hash=GENESIS))
            head = self.s.execute(q).first()
            assert head is not None
        return int(head.seq), str(head.hash)

    def head(self) -> tuple[int, str]:
        head = self.s.execute(select(H.c.seq, H.c.hash).where(H.c.id == 1)).first()
        return (0, GENESIS) if head is None else (int(head.seq), str(head.hash))

    def set_head(self, seq: int, hash_: str) -> None:
        self.s.execute(update(H).where(H.c.id == 1).values(seq=seq, hash=hash_))

    def existing(self, ids: Iterable[str]) -> dict[str, Entry]:
        wanted = list(ids)
        out: dict[str, Entry] = {}
        if not wanted:
            return out
        for cond in self._in(J.c.id, wanted, String()):
            for r in self.s.execute(select(*_JOURNAL_COLS).where(cond)):
                out[r.id] = _entry(r)
        return out

    def existing_by_seq(self, seqs: Iterable[int]) -> list[Entry]:
        return [_entry(r) for r in self.s.execute(select(*_JOURNAL_COLS).where(
            J.c.seq.in_(sorted(set(seqs)))).order_by(J.c.seq))]

    def entries_at(self, at: datetime, id_suffix: str) -> list[Entry]:
        """The entries written at this instant whose id ends with `id_suffix`, by seq."""
        return [_entry(r) for r in self.s.execute(select(*_JOURNAL_COLS).where(
            J.c.created_at == at, J.c.id.like(f"%{id_suffix}")).order_by(J.c.seq))]

    def entry(self, transfer_id: str) -> Entry | None:
        r = self.s.execute(select(*_JOURNAL_COLS).where(J.c.id == transfer_id)).first()
        return _entry(r) if r is not None else None

    def entry_at(self, seq: int) -> Entry | None:
        if self.postgres:  # every inclusion proof of a journal leaf: one prepared read
            rows = pg_rows(self.s, _PG_ENTRY_AT, (seq,))
            return Entry(*rows[0]) if rows else None
        r = self.s.execute(select(*_JOURNAL_COLS).where(J.c.seq == seq)).first()
        return _entry(r) if r is not None else None

    def append(self, entries: list[Entry]) -> None:
        if len(entries) > 50 and self.postgres:
            cols = ", ".join(c.name for c in _JOURNAL_COLS)
            with self._raw().cursor() as cur, cur.copy(
                    f"COPY ledger_journal ({cols}) FROM STDIN") as cp:
                for e in entries:
                    cp.write_row((e.seq, e.id, e.batch, e.type, e.phase, e.pending_id,
                                  e.debit_account, e.credit_account, e.asset, e.amount,
                                  e.reference, e.initiator, e.created_at, e.timeout_at,
                                  e.prev_hash, e.hash, e.hash_version))
            return
        if entries:
            self.s.execute(insert(J), [dict(
                seq=e.seq, id=e.id, batch=e.batch, type=e.type, phase=e.phase,
                pending_id=e.pending_id, debit_account=e.debit_account,
                credit_account=e.credit_account, asset=e.asset, amount=e.amount,
                reference=e.reference, initiator=e.initiator, created_at=e.created_at,
                timeout_at=e.timeout_at, prev_hash=e.prev_hash, hash=e.hash,
                hash_version=e.hash_version) for e in entries])

    def write(self, accounts: list[AccountState], entries: list[Entry],
              head: tuple[int, str], log: LogPart | None = None) -> None:
        """Store new balances, append entries and move the head, and write the entries'
        leaves of the transparency log (`log`, from `LogStore.prepare`). On PostgreSQL a
        small write is one statement (one round trip while the head is locked); a large one
        uses COPY."""
        if not self.postgres or not entries:
            self.save_accounts(accounts)
            self.append(entries)
            self.set_head(*head)
            LogStore(self.s).write(log)
            return
        balances = dict(ids=[a.id for a in accounts], dp=[a.debits_posted for a in accounts],
                        cp=[a.credits_posted for a in accounts],
                        dq=[a.debits_pending for a in accounts],
                        cq=[a.credits_pending for a in accounts], seq=head[0], hash=head[1])
        if len(entries) > 50:  # the entries by COPY; balances, head and log in one statement
            self.append(entries)
            if log is None:
                self._raw().execute(_PG_BALANCES_AND_HEAD, balances, prepare=True)
                return
            log = LogStore(self.s).copied(log)
            self._raw().execute(f"WITH acc AS ({_PG_ACCOUNTS_UPDATE}), {log.ctes()} "
                                f"{_PG_HEAD_UPDATE}", {**balances, **log.params()},
                                prepare=True)
            return
        params: dict[str, object] = {
            f"j{i}": [getattr(e, c.name) for e in entries] for i, c in enumerate(_JOURNAL_COLS)}
        params.update(balances)
        if log is not None:
            log = LogStore(self.s).copied(log)
            params.update(log.params())
        # straight on the driver, prepared: the statement runs once per transaction
        self._raw().execute(f"{_PG_WRITE_LOG}{log.ctes()} {_PG_INSERT_JOURNAL}"
                            if log is not None else _PG_WRITE, params, prepare=True)

    def reject(self, transfer_id: str | None, code: str, detail: str, initiator: str,
               now: datetime) -> None:
        self.s.add(RejectionRow(transfer_id=transfer_id, code=code, detail=detail[:2000],
                                initiator=initiator, created_at=now))

    def rejections(self, limit: int = 100) -> list[dict[str, object]]:
        rows = self.s.scalars(select(RejectionRow).order_by(RejectionRow.id.desc())
                              .limit(limit))
        return [dict(id=r.id, transfer_id=r.transfer_id, code=r.code, detail=r.detail,
                     initiator=r.initiator, created_at=r.created_at) for r in rows]

    def journal(self, *, after_seq: int = 0, batch_size: int = 50_000) -> Iterator[Entry]:
        """Every entry after `after_seq` in seq order, streamed (a server-side cursor on
        PostgreSQL), `batch_size` rows at a time."""
        result = self.s.execute(select(*_JOURNAL_COLS).where(J.c.seq > after_seq)
                                .order_by(J.c.seq).execution_options(yield_per=batch_size))
        for r in result:
            yield _entry(r)

    @property
    def journal_time_epoch(self) -> int:
        """What to add to `journal_rows` times to get µs since the Unix epoch."""
        return _PG_EPOCH_US if self.postgres else 0

    def journal_rows(self, *, after_seq: int = 0, chunk: int = 50_000) -> Iterator[list[Row]]:
        """The journal in seq order as plain tuples, one list per chunk, straight from the
        driver (no Row or datetime objects: this is what `verify` reads a million of).
        Times are integer µs since `journal_time_epoch` (add it for Unix µs): PostgreSQL
        sends them in binary as µs since 2000-01-01, SQLite computes them from its text."""
        raw = self._raw()
        names = ", ".join(c.name for c in _JOURNAL_COLS[:12])
        if self.postgres:
            from psycopg import pq

            # one server-side cursor over the whole journal: keyset pages would each make
            # PostgreSQL scan and sort again (measured: 2x slower on a million entries)
            cur = raw.cursor(name=f"ledger_journal_{after_seq}", binary=True)
            # a binary timestamptz is an int8 of µs since 2000-01-01: read it as one, in C
            cur.adapters.register_loader("timestamptz", raw.adapters.get_loader(
                raw.adapters.types["int8"].oid, pq.Format.BINARY))
            yield from pg_chunks(cur, f"SELECT {names}, created_at, timeout_at, prev_hash, "
                                 "hash, hash_version FROM ledger_journal WHERE seq > %s "
                                 "ORDER BY seq", (after_seq,), chunk=chunk)
            return
        else:
            # whole seconds from the text without its fraction (SQLite would round the
            # fraction to milliseconds and carry .9995 s into the next second), then the µs
            def us(col: str) -> str:
                return (f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) * 1000000 + "
                        f"CAST(substr({col}, 21, 6) AS INTEGER)")

            sql = (f"SELECT {names}, {us('created_at')}, CASE WHEN timeout_at IS NULL THEN "
                   f"NULL ELSE {us('timeout_at')} END, prev_hash, hash, hash_version "
                   "FROM ledger_journal "
                   "WHERE seq > ? ORDER BY seq LIMIT ?")
            cur = raw.cursor()
        last = after_seq
        try:
            while True:
                cur.execute(sql, (last, chunk))
                rows = cur.fetchall()
                if not rows:
                    return
                yield rows
                last = rows[-1][0]
        finally:
            cur.close()

    def entries_for_accounts(self, ids: list[int], limit: int = 500) -> list[Entry]:
        rows = self.s.execute(select(*_JOURNAL_COLS).where(
            or_(J.c.debit_account.in_(ids), J.c.credit_account.in_(ids)))
            .order_by(J.c.seq.desc()).limit(limit))
        return [_entry(r) for r in rows]

    def account_totals(self, account_id: int, *, before: datetime | None = None,
                       upto: datetime | None = None) -> list[int]:
        """[debits_posted, credits_posted, debits_pending, credits_pending] of one account
        from the journal: entries created before `before` (strict) or up to `upto`."""
        side = case((J.c.debit_account == account_id, literal_column("'d'")),
                    else_=literal_column("'c'"))
        q = (select(J.c.phase, side.label("side"), func.sum(J.c.amount))
             .where(or_(J.c.debit_account == account_id, J.c.credit_account == account_id))
             .group_by(J.c.phase, side))
        if before is not None:
            q = q.where(J.c.created_at < before)
        if upto is not None:
            q = q.where(J.c.created_at <= upto)
        out = [0, 0, 0, 0]
        for phase, s, total in self.s.execute(q):
            total = int(total or 0)
            posted, pending = (0, 2) if s == "d" else (1, 3)
            if phase in ("single", "post"):
                out[posted] += total
            if phase == "pending":
                out[pending] += total
            elif phase in ("post", "void", "expire"):
                out[pending] -= total
        return out

    def statement_entries(self, account_id: int, *, start: datetime | None,
                          end: datetime | None, after_seq: int, limit: int) -> list[Entry]:
        q = select(*_JOURNAL_COLS).where(
            or_(J.c.debit_account == account_id, J.c.credit_account == account_id),
            J.c.seq > after_seq)
        if start is not None:
            q = q.where(J.c.created_at >= start)
        if end is not None:
            q = q.where(J.c.created_at < end)
        return [_entry(r) for r in self.s.execute(q.order_by(J.c.seq).limit(limit))]

    def holder_entries(self, holder: str, limit: int) -> list[Entry]:
        ids = select(A.c.id).where(A.c.holder == holder).scalar_subquery()
        q = (select(*_JOURNAL_COLS).where(or_(J.c.debit_account.in_(ids),
                                              J.c.credit_account.in_(ids)))
             .order_by(J.c.seq.desc()).limit(limit))
        return [_entry(r) for r in self.s.execute(q)]

    def asset_sums(self) -> dict[str, int]:
        """Sum of posted balances per asset over every account (must be zero)."""
        rows = self.s.execute(select(A.c.asset, func.sum(
            A.c.credits_posted - A.c.debits_posted)).group_by(A.c.asset))
        return {a: int(s or 0) for a, s in rows}

    # -- reconciliation and flags -------------------------------------------------------
    def add_run(self, **values: Any) -> ReconciliationRow:
        row = ReconciliationRow(**values)
        self.s.add(row)
        self.s.flush()
        return row

    def add_discrepancies(self, run: int, items: Iterable[tuple[int, str, int, int]]) -> None:
        rows = [dict(run=run, account=a, field=f, stored=s, journal=j) for a, f, s, j in items]
        if rows:
            self.s.execute(insert(DiscrepancyRow), rows)

    def add_flag(self, account: int, action: str, reason: str, actor: str, at: datetime,
                 run: int | None = None) -> None:
        self.s.add(AccountFlagRow(account=account, action=action, reason=reason, actor=actor,
                                  at=at, run=run))
        self.s.flush()

    def flags(self, account: int) -> list[dict[str, object]]:
        rows = self.s.scalars(select(AccountFlagRow).where(AccountFlagRow.account == account)
                              .order_by(AccountFlagRow.id))
        return [dict(action=r.action, reason=r.reason, actor=r.actor, run=r.run, at=r.at)
                for r in rows]

    def runs(self, limit: int = 20) -> list[ReconciliationRow]:
        return list(self.s.scalars(select(ReconciliationRow)
                                   .order_by(ReconciliationRow.id.desc()).limit(limit)))

    def run_discrepancies(self, run: int) -> list[tuple[int, str, int, int]]:
        D: Table = DiscrepancyRow.__table__  # type: ignore[assignment]
        return [(r.account, r.field, r.stored, r.journal) for r in self.s.execute(
            select(D).where(D.c.run == run).order_by(D.c.id))]

