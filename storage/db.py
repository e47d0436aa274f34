"""Engine and unit of work.

Guarantees:
- every write happens inside `with uow:` and becomes durable only on `uow.commit()`;
  leaving the block without commit rolls back, so a failed use case leaves nothing behind;
- on SQLite, a write transaction starts with BEGIN IMMEDIATE, so writers are serialised and a
  read-then-write never fails half-way with "database is locked" mid-transaction;
- a read-only unit of work (`Database.read_uow()`) starts with a plain BEGIN on SQLite, so
  concurrent page reads share the WAL snapshot instead of queueing for the write lock; it
  refuses to commit;
- on PostgreSQL, row locks (SELECT ... FOR UPDATE) taken by store modules serialise writers of
  one market or one set of accounts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

READ_ONLY = "erts_read_only"  # execution option of the engine behind read-only units of work
#: PostgreSQL connections kept open per process (>= the threads that use one at once) and
#: the extra ones allowed in a burst beyond them (closed when returned)
POOL_SIZE, POOL_OVERFLOW = 48, 16


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transactions so BEGIN IMMEDIATE can be emitted.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # Hot statements are prepared on the driver (storage.bulk, the ledger store). A prepared
    # statement's generic plan is fixed from the statistics of its first runs: on a new
    # database, when the tables are empty, that is a sequential scan, kept after they grow
    # (seen: a pending-transfer lookup by id 8x slower within 10,000 orders). Every run is
    # planned for its own parameters instead; the parse is still saved.
    # The pool keeps open as many connections as the process has threads that may use one
    # at once (anyio runs the API's sync endpoints on up to 40 threads, plus the order
    # pipeline's and the ledger writer's): a thread that waits for a connection is not
    # served in turn, since one that just returned a connection takes it back first; with
    # 32 clients on 20 connections a few waited 9 s (p99) while the median was 154 ms.
    # All of them stay open (`POOL_SIZE`): with 10 kept and 30 overflow, the overflow ones
    # were closed when returned and opened again, 2,544 new PostgreSQL sessions for 2,936
    # orders. No pre-ping (a round trip per checkout): a connection the server dropped
    # fails its one statement, and SQLAlchemy then invalidates the whole pool, so after a
    # database restart one request fails (503/500) and the next ones reconnect.
    return create_engine(url, echo=echo, pool_pre_ping=False, pool_size=POOL_SIZE,
                         max_overflow=POOL_OVERFLOW, pool_timeout=30,
                         connect_args={"options": _pg_options(url)})


def _pg_options(url: str) -> str:
    """Server options for every connection: ours first, then the operator's (an `options`
    parameter of the URL, else PGOPTIONS, which libpq would otherwise read itself), so that a
    later `-c` of theirs still wins; except `client_min_messages`, last: the transparency
    log's queue is announced by a NOTICE (`ledger.transparency.QUEUED_NOTICE`), which a
    connection must receive."""
    ours = "-c plan_cache_mode=force_custom_plan"
    given = make_url(url).query.get("options")
    theirs = given if isinstance(given, str) else os.environ.get("PGOPTIONS", "")
    return f"{ours} {theirs} -c client_min_messages=notice".replace("  ", " ")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class UnitOfWork:
    """One database transaction. Use cases do `with uow: ...; uow.commit()`."""

    def __init__(self, session_factory: Callable[[], Session], *, read_only: bool = False
                 ) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self.committed = False
        self.read_only = read_only

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside `with`")
        return self._session

    @property
    def dialect(self) -> str:
        bind = self.session.get_bind()
        return bind.dialect.name

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self.committed = False
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._session is not None
        try:
            if not self.committed:
                self._session.rollback()
        finally:
            self._session.close()
            self._session = None

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()
        self.committed = True

    def rollback(self) -> None:
        self.session.rollback()


class Database:
    """The engine plus a session factory; hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._reads = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                   expire_on_commit=False, autoflush=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    def read_uow(self) -> UnitOfWork:
        """A unit of work for use cases that only read (pages, lists): never commits."""
        return UnitOfWork(self._reads, read_only=True)

    def dispose(self) -> None:
        self.engine.dispose()
