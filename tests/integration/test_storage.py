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
