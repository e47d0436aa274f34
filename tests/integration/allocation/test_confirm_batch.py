"""`confirm_rights_batch`: many confirmations in one unit of work and one ledger batch give
exactly the permits, history and ledger of `confirm_rights` called once per item; one bad
item rolls the whole batch back with its own coded error naming the item."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from allocation import service as alloc
from allocation.permits import ConfirmationAboveCap
from allocation.tables import PermitEventRow, PermitQuantityRow
from kernel.errors import DomainError
from ledger.tables import AccountRow, HeadRow, JournalRow
from tests.conftest import _pg_copy, _platform
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db


@pytest.fixture
def twin(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Any]:
    """A second fresh database of the same kind as `platform`'s."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "twin.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield from _platform(f"sqlite:///{path}")
        return
    for url in _pg_copy(request):
        yield from _platform(url)


def _state(platform: Any) -> dict[str, Any]:
    with platform.uow() as uow:
        s = uow.session
        head = s.get(HeadRow, 1)
        return {
            "head": (head.seq, head.hash) if head else None,
            "quantities": [tuple(r) for r in s.execute(select(
                PermitQuantityRow.permit, PermitQuantityRow.pollutant, PermitQuantityRow.year,
                PermitQuantityRow.permitted_kg, PermitQuantityRow.confirmed).order_by(
                PermitQuantityRow.permit, PermitQuantityRow.pollutant, PermitQuantityRow.year))],
            "events": [tuple(r) for r in s.execute(select(
                PermitEventRow.permit, PermitEventRow.pollutant, PermitEventRow.year,
                PermitEventRow.kind, PermitEventRow.qty_kg, PermitEventRow.counterparty,
                PermitEventRow.reference, PermitEventRow.permitted_after_kg,
                PermitEventRow.at).order_by(PermitEventRow.id))],
            "accounts": [tuple(r) for r in s.execute(select(
                AccountRow.id, AccountRow.holder, AccountRow.kind, AccountRow.asset,
                AccountRow.upper_limit, AccountRow.debits_posted, AccountRow.credits_posted,
                AccountRow.debits_pending, AccountRow.credits_pending).order_by(AccountRow.id))],
            "journal": [tuple(r) for r in s.execute(select(
                JournalRow.seq, JournalRow.id, JournalRow.type, JournalRow.debit_account,
                JournalRow.credit_account, JournalRow.asset, JournalRow.amount,
                JournalRow.reference).order_by(JournalRow.seq))],
        }


ITEMS = [("A", "SO2", 3_000), ("B", "SO2", 1_000), ("A", "so2", None), ("B", "SO2", 500)]


def test_batch_equals_one_by_one(platform, twin) -> None:  # type: ignore[no-untyped-def]
    one, many = build_spine(platform), build_spine(twin)
    singles = [alloc.confirm_rights(platform.uow(), permit=one[t], pollutant=p, year=2026,
                                    qty_kg=q, actor="bureau", now=NOW) for t, p, q in ITEMS]
    batch = alloc.confirm_rights_batch(
        twin.uow(), items=[alloc.ConfirmItem(many[t], p, 2026, q) for t, p, q in ITEMS],
        actor="bureau", now=NOW)
    assert batch == singles  # same quantities, permitted-after and transfer ids
    assert [c.qty_kg for c in batch][2] > 0  # the rest of A's allocation after 3,000 kg
    a, b = _state(platform), _state(twin)
    # the journal hash chain differs only by the batch grouping; every row and balance agrees
    a_journal, b_journal = a.pop("journal"), b.pop("journal")
    a.pop("head")
    b.pop("head")
    assert a == b
    assert [r[1:] for r in a_journal] == [r[1:] for r in b_journal]
    confirmed = {r[0]: r[3] for r in b["quantities"] if r[4]}
    assert confirmed[many["B"]] == 6_000  # its permitted quantity: 1 500 kg of it confirmed
    assert sum(1 for e in b["events"] if e[3] == "confirmation") == len(ITEMS)


def test_one_bad_item_rolls_back_the_batch(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    before = _state(platform)
    items = [alloc.ConfirmItem(codes["A"], "SO2", 2026, 1_000),
             alloc.ConfirmItem(codes["B"], "SO2", 2026, 10**9)]
    with pytest.raises(ConfirmationAboveCap) as e:
        alloc.confirm_rights_batch(platform.uow(), items=items, actor="bureau", now=NOW)
    assert e.value.code == "confirmation_above_cap"
    assert e.value.field == "items[1].qty_kg"
    assert e.value.message.startswith(f"items[1] ({codes['B']} SO2 2026)")
    assert _state(platform) == before  # item 0 was rolled back with it

    items = [alloc.ConfirmItem(codes["A"], "SO2", 2026),
             alloc.ConfirmItem(codes["A"], "SO2", 2026)]  # the allocated rest, twice
    with pytest.raises(ConfirmationAboveCap) as e:
        alloc.confirm_rights_batch(platform.uow(), items=items, actor="bureau", now=NOW)
    assert e.value.field == "items[1].qty_kg" and "already confirmed" in e.value.message
    assert _state(platform) == before

    for bad, code, field in (
            (alloc.ConfirmItem("91500000XXXXXXXXXX009Z", "SO2", 2026), "permit_not_found",
             "items[2].permit_code"),
            (alloc.ConfirmItem(codes["A"], "CO2", 2026), "invalid_input", "items[2]"),
            (alloc.ConfirmItem(codes["A"], "SO2", 2031), None, "items[2]"),
            (alloc.ConfirmItem(codes["A"], "SO2", 2026, -5), "invalid_input",
             "items[2].qty_kg")):
        with pytest.raises(DomainError) as err:
            alloc.confirm_rights_batch(platform.uow(), items=[
                alloc.ConfirmItem(codes["A"], "SO2", 2026, 10),
                alloc.ConfirmItem(codes["B"], "SO2", 2026, 10), bad], actor="bureau", now=NOW)
        assert code is None or err.value.code == code, err.value.to_dict()
        assert str(err.value.field).startswith(field), err.value.to_dict()
        assert _state(platform) == before


def test_batch_limits(platform) -> None:  # type: ignore[no-untyped-def]
    codes = build_spine(platform)
    assert alloc.confirm_rights_batch(platform.uow(), items=[], actor="bureau") == []
    with pytest.raises(DomainError) as e:
        alloc.confirm_rights_batch(platform.uow(), items=[
            alloc.ConfirmItem(codes["A"], "SO2", 2026, 1)] * 8001, actor="bureau", now=NOW)
    assert e.value.code == "invalid_input" and e.value.field == "items"
