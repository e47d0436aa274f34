"""Units of work: a read-only one never commits and, on SQLite, does not wait for the write
lock a writer holds (pages read while an order settles)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.db


def test_read_only_unit_of_work_refuses_to_commit(platform) -> None:  # type: ignore[no-untyped-def]
    uow = platform.read_uow()
    with uow:
        assert uow.session.execute(text("SELECT 1")).scalar() == 1
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()


def test_reads_proceed_while_a_writer_holds_its_transaction(platform) -> None:  # type: ignore[no-untyped-def]
    writer = platform.uow()
    with writer:
        # the writer's transaction is open (BEGIN IMMEDIATE on SQLite: the write lock)
        writer.session.execute(text(
            "INSERT INTO zone (code, name, medium) VALUES ('Z-TEST', 'test', 'air')"))
        reader = platform.read_uow()
        with reader:  # would wait for the lock (30 s timeout) if it began IMMEDIATE
            n = reader.session.execute(
                text("SELECT count(*) FROM zone WHERE code = 'Z-TEST'")).scalar()
        assert n == 0  # the reader sees the last committed state, not the open write


def test_bulk_insert_and_update_keep_row_order_and_roll_back(platform) -> None:  # type: ignore[no-untyped-def]
    """`storage.bulk`: one statement for many rows; returned keys follow the rows' order;
    nulls, times and booleans survive; nothing stays if the transaction does not commit."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from storage.bulk import COPY_FROM, insert_rows, update_rows
    from trading.tables import OrderRow, TradeRow

    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    trade = dict(market="M", buy_order="b", sell_order="s", buyer="B", seller="S",
                 buyer_permit="PB", seller_permit="PS", price=1, qty=1, value_fen=1,
                 aggressor="buy", at=at, fee_buyer=0, fee_seller=0, venue="book")
    rows = [trade | {"buy_order": f"b{i}", "qty": 10 + i} for i in range(5)]
    with platform.uow() as uow:
        uow.session.execute(text("INSERT INTO zone (code, name, medium) VALUES "
                                 "('ZB', 'b', 'air')"))
        uow.session.execute(text(
            "INSERT INTO market (id, pollutant, zone, vintage, state, tick, min_lot, "
            "version) VALUES ('M', 'SO2', 'ZB', 2026, 'open', 1, 1, 0)"))
        ids = insert_rows(uow.session, TradeRow.__table__, rows, returning="id")
        got = {r.id: (r.buy_order, r.qty, r.at) for r in uow.session.scalars(
            select(TradeRow).where(TradeRow.id.in_(ids)))}
        assert [got[i][:2] for i in ids] == [(f"b{i}", 10 + i) for i in range(5)]
        assert all(got[i][2].replace(tzinfo=UTC) == at for i in ids)
        update_rows(uow.session, TradeRow.__table__, "id",
                    [{"id": ids[1], "qty": 99, "venue": "listing"},
                     {"id": ids[3], "qty": 77, "venue": "auction"}])
        uow.session.expire_all()
        after = {r.id: (r.qty, r.venue) for r in uow.session.scalars(select(TradeRow))}
        assert [after[i] for i in ids] == [(10, "book"), (99, "listing"), (12, "book"),
                                           (77, "auction"), (14, "book")]
        # a key of several columns: a row changes only where all of them match
        update_rows(uow.session, TradeRow.__table__, ("id", "market"),
                    [{"id": ids[0], "market": "M", "qty": 55},
                     {"id": ids[2], "market": "elsewhere", "qty": 66}])
        uow.session.expire_all()
        assert [uow.session.get(TradeRow, i).qty for i in ids[:3]] == [  # type: ignore[union-attr]
            55, 99, 12]
        assert insert_rows(uow.session, TradeRow.__table__, []) == []
        # many rows without RETURNING: a COPY on PostgreSQL
        many = [trade | {"sell_order": f"s{i}", "qty": i} for i in range(COPY_FROM + 5)]
        assert insert_rows(uow.session, TradeRow.__table__, many) == []
        copied = uow.session.execute(select(TradeRow.sell_order, TradeRow.qty, TradeRow.at)
                                     .where(TradeRow.sell_order != "s")
                                     .order_by(TradeRow.id)).all()
        assert [(o, q) for o, q, _ in copied] == [(f"s{i}", i) for i in range(COPY_FROM + 5)]
        assert all(t.replace(tzinfo=UTC) == at for _, _, t in copied)
        # no commit: rolled back
    with platform.uow() as uow:
        assert uow.session.scalar(select(TradeRow.id)) is None
        assert uow.session.scalar(select(OrderRow.seq)) is None


def test_postgresql_connections_plan_each_run_and_keep_the_operators_options(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.db import make_engine

    for url, env in ((pg_url + "?options=-c%20work_mem%3D7MB", None),
                     (pg_url, "-c work_mem=9MB -c client_min_messages=warning")):
        if env is None:
            monkeypatch.delenv("PGOPTIONS", raising=False)
        else:
            monkeypatch.setenv("PGOPTIONS", env)
        engine = make_engine(url)
        with engine.connect() as c:
            assert c.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
            assert c.execute(text("SHOW work_mem")).scalar() == ("7MB" if env is None else "9MB")
            # but not this one: the transparency log's queue speaks by NOTICE
            assert c.execute(text("SHOW client_min_messages")).scalar() == "notice"
        engine.dispose()


def test_the_pool_serves_every_thread_the_api_may_run_at_once(pg_url: str) -> None:
    """Every thread anyio may run the API's sync endpoints on gets a connection without
    waiting: a thread that waits for one is not served in turn (one that just returned a
    connection takes it back first), so a pool smaller than the thread limit let a few
    requests wait for seconds. Past the pool's capacity `connect` would block for the
    pool timeout and fail."""
    import threading

    import anyio
    import anyio.to_thread

    from storage.db import make_engine

    async def limit() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    got: list[float] = []  # in a thread of its own: the test's thread may run a loop already
    runner = threading.Thread(target=lambda: got.append(anyio.run(limit)))
    runner.start()
    runner.join()
    threads = int(got[0])
    engine = make_engine(pg_url)
    held = []
    try:
        for _ in range(threads):
            held.append(engine.connect())
            assert held[-1].execute(text("SELECT 1")).scalar() == 1
        assert len(held) == threads
    finally:
        for c in held:
            c.close()
        engine.dispose()
