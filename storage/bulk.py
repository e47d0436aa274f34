"""Many rows in one statement, inside the session's transaction, without ORM objects.

The order pipeline writes a group's orders, trades and permit records at once. Through the
ORM (or SQLAlchemy's multi-row VALUES), each such INSERT is a new, long statement text that
psycopg parses again every time (it caches only short ones) and SQLAlchemy builds again
for every row count. On PostgreSQL these helpers send one fixed text per table instead,
with one array parameter per column (`unnest`), prepared on the driver connection: the same
statement whatever the number of rows. Elsewhere (SQLite) they use SQLAlchemy's executemany.

`pg_rows` and `pg_run` send a fixed statement text the same way, for the reads and small
writes the pipeline makes in every group: SQLAlchemy's per-statement work (building,
cache-key, result rows, ORM loading) cost several times the round trip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import bindparam

_PG = postgresql.dialect()
#: from this many rows on, an INSERT without RETURNING is a COPY on PostgreSQL (rows are
#: formatted in C; one more round trip than a statement, cheaper than dumping the arrays)
COPY_FROM = 20


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def driver_connection(session: Session) -> Any:
    """The driver connection of the session's transaction (kept in `session.info` for that
    transaction: `Session.connection()` costs more than a short prepared statement)."""
    tx = session.get_transaction()
    cached = session.info.get("erts_raw")
    if tx is not None and cached is not None and cached[0] is tx:
        return cached[1]
    raw = session.connection().connection.driver_connection
    session.info["erts_raw"] = (session.get_transaction(), raw)
    return raw


def pg_rows(session: Session, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """PostgreSQL only: run a fixed statement text (psycopg placeholders) prepared on the
    session's driver connection, in its transaction; the rows as plain tuples."""
    return driver_connection(session).execute(sql, params, prepare=True).fetchall()  # type: ignore[no-any-return]


def pg_run(session: Session, sql: str, params: Any = ()) -> None:
    """`pg_rows` for a statement that returns nothing."""
    driver_connection(session).execute(sql, params, prepare=True)


def pg_chunks(cur: Any, sql: str, params: Any = (), *, chunk: int) -> Iterator[list[Any]]:
    """Rows of a statement through a server-side (named) psycopg cursor, `chunk` at a time
    (one query however many rows; keyset pages would each search the index again); the
    cursor is closed at the end or when the caller stops."""
    cur.itersize = chunk
    try:
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(chunk)
            if not rows:
                return
            yield rows
    finally:
        cur.close()


def _pg_type(table: Table, column: str) -> str:
    return str(table.c[column].type.compile(dialect=_PG)).lower()


@lru_cache(maxsize=64)
def _pg_insert(table: Table, columns: tuple[str, ...], returning: str | None) -> str:
    names = ", ".join(columns)
    arrays = ", ".join(f"%({c})s::{_pg_type(table, c)}[]" for c in columns)
    sql = (f"INSERT INTO {table.name} ({names}) SELECT {names} FROM unnest({arrays}) "
           f"WITH ORDINALITY AS u({names}, erts_ord) ORDER BY erts_ord")
    return sql + (f" RETURNING {returning}" if returning else "")


@lru_cache(maxsize=64)
def _pg_update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    every = (*keys, *columns)
    arrays = ", ".join(f"%({c})s::{_pg_type(table, c)}[]" for c in every)
    sets = ", ".join(f"{c} = v.{c}" for c in columns)
    match = " AND ".join(f"t.{k} = v.{k}" for k in keys)
    return (f"UPDATE {table.name} AS t SET {sets} FROM unnest({arrays}) "
            f"AS v({', '.join(every)}) WHERE {match}")


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *,
                returning: str | None = None) -> list[Any]:
    """Insert `rows` (every row the same keys) in their order. With `returning` (an
    autoincrement key column), the keys given to the rows, in the rows' order."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if _postgres(session) and returning is None and len(rows) >= COPY_FROM:
        with driver_connection(session).cursor() as cur, cur.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row([r[c] for c in columns])
        return []
    if _postgres(session):
        params = {c: [r[c] for r in rows] for c in columns}
        cur = driver_connection(session).execute(_pg_insert(table, columns, returning), params,
                                    prepare=True)
        if returning is None:
            return []
        # a sequence hands out increasing values, in the order the rows are inserted (the
        # SELECT's ORDER BY): sorted, the keys follow the rows
        return sorted(r[0] for r in cur.fetchall())
    if returning is None:
        session.execute(insert(table), list(rows))
        return []
    got = session.execute(insert(table).returning(table.c[returning],
                                                  sort_by_parameter_order=True), list(rows))
    return [r[0] for r in got]


def update_rows(session: Session, table: Table, key: str | tuple[str, ...],
                rows: Sequence[Mapping[str, Any]]) -> None:
    """Set the other columns of each row (every row the same keys) where `key` matches (a
    column, or several that together name the row)."""
    if not rows:
        return
    keys = (key,) if isinstance(key, str) else tuple(key)
    columns = tuple(c for c in rows[0] if c not in keys)
    if _postgres(session):
        params = {c: [r[c] for r in rows] for c in (*keys, *columns)}
        driver_connection(session).execute(_pg_update(table, keys, columns), params,
                                           prepare=True)
        return
    stmt = update(table).where(*(table.c[k] == bindparam(f"erts_key_{k}") for k in keys)
                               ).values({c: bindparam(c) for c in columns})
    session.connection().execute(stmt, [{**{f"erts_key_{k}": r[k] for k in keys},
                                         **{c: r[c] for c in columns}} for r in rows])
