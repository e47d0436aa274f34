"""Reversing a confirmation through the ledger corrects the permit in the same transaction:
the permitted quantity is the permit's limit from issuance, so a reversed confirmation takes
back only what it had raised above the allocated quantity, and the history records the
reversal."""

from __future__ import annotations

import pytest

from allocation import service as alloc
from allocation.store import RegistryStore
from ledger.errors import LedgerRejection
from ledger.transactions import Initiator
from tests.integration.spine import NOW, build_spine

pytestmark = pytest.mark.db


def test_reversing_a_confirmation_takes_back_only_what_it_raised(platform) -> None:  # type: ignore[no-untyped-def]
    pa = build_spine(platform)["A"]  # allocated 8 000 kg, cap 10 000 kg
    c = alloc.confirm_rights(platform.uow(), permit=pa, pollutant="SO2", year=2026,
                             qty_kg=9_000, actor="officer", now=NOW)
    assert c.permitted_after_kg == 9_000  # 1 000 kg beyond the allocation raised the limit
    out = alloc.reverse_rights(platform.uow(), transfer_id=c.transfer_id, id="rev-1",
                               amount=3_000, initiator=Initiator.BUREAU, actor="admin",
                               now=NOW)
    assert not out.replayed
    with platform.uow() as uow:
        reg = RegistryStore(uow.session)
        q = reg.quantity(pa, "SO2", 2026)
        assert q is not None and q.permitted_kg == 8_000  # back to the allocation, not below
        last = next(e for e in reg.events(pa) if e.kind == "reversal")
        assert (last.qty_kg, last.permitted_after_kg, last.reference) == (-3_000, 8_000,
                                                                           "rev-1")
    # a replay changes nothing more
    again = alloc.reverse_rights(platform.uow(), transfer_id=c.transfer_id, id="rev-1",
                                 amount=3_000, initiator=Initiator.BUREAU, actor="admin",
                                 now=NOW)
    assert again.replayed
    with platform.uow() as uow:
        reg = RegistryStore(uow.session)
        assert reg.quantity(pa, "SO2", 2026).permitted_kg == 8_000  # type: ignore[union-attr]
        assert sum(1 for e in reg.events(pa) if e.kind == "reversal") == 1
    # more than is left to reverse: refused, and the permit is untouched
    with pytest.raises(LedgerRejection):
        alloc.reverse_rights(platform.uow(), transfer_id=c.transfer_id, id="rev-2",
                             amount=7_000, initiator=Initiator.BUREAU, actor="admin",
                             now=NOW)
    with platform.uow() as uow:
        assert RegistryStore(uow.session).quantity(pa, "SO2", 2026).permitted_kg == 8_000  # type: ignore[union-attr]
