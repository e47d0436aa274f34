"""Bulk rights confirmation: the queue of permits waiting for confirmation for a year, and
the use case that confirms every waiting pollutant of chosen permits in one request.

Guarantees:
- `confirm_permits` is one transaction and one linked ledger batch
  (`allocation.service.confirm_rights_batch`, with the rules, events and paid-use bills of
  `confirm_rights` per permit and pollutant); what waits is read after the journal lock,
  inside that transaction, so it cannot change before the batch is written;
- all or nothing: a permit that does not exist, lies outside the officer's district (the
  same 404 as a missing permit), cannot carry rights that year, or has nothing waiting,
  refuses the whole request with an error naming that permit (`field` ``permits[i]``);
- with `expected` (the quantities a second officer approved), exactly those quantities are
  confirmed, and a permit whose waiting pollutants changed since refuses the batch
  (`ConfirmationBatchChanged`), so what is approved is what is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allocation import service as alloc
from allocation.confirmation_store import STATES, ConfirmationStore
from allocation.errors import ConfirmationBatchChanged, PermitNotAwaitingConfirmation
from allocation.paid_use import requires_purchase
from allocation.permits import PermitNotFound, PermitView, check_usable
from kernel.clock import system_clock, trading_day
from kernel.errors import DomainError, InvalidInput
from ledger.service import UoW

#: permits per request (each confirms up to six pollutants: within the ledger's batch size)
MAX_PERMITS = 1000


@dataclass(frozen=True)
class BatchItem:
    """One permit and pollutant of a bulk confirmation, as planned (before it is written)."""

    permit: str
    enterprise_name: str
    pollutant: str
    qty_kg: int | None
    permitted_before_kg: int


def _state(quantities: list[dict[str, Any]]) -> str:
    counted = [q for q in quantities if q["permitted_kg"] > 0]
    open_ = sum(1 for q in counted if not q["confirmed"])
    if open_ == 0:
        return "confirmed"
    return "waiting" if open_ == len(counted) else "partial"


def _view(p: dict[str, Any]) -> dict[str, Any]:
    waiting = [q for q in p["quantities"] if q["permitted_kg"] > 0 and not q["confirmed"]]
    return dict(code=p["code"], enterprise=p["enterprise"],
                enterprise_name=p["enterprise_name"], sector=p["sector"],
                district=p["district"], district_name=p["district_name"],
                state=_state(p["quantities"]), quantities=p["quantities"],
                waiting=[q["pollutant"] for q in waiting],
                waiting_kg=sum(q["permitted_kg"] for q in waiting),
                zones=sorted({(q["zone"], q["zone_name"]) for q in p["quantities"]}))


def confirmation_queue(uow: UoW, *, year: int, district: str | None = None,
                       zone: str | None = None, sector: str | None = None,
                       state: str | None = None, offset: int = 0, limit: int = 50,
                       now: datetime | None = None) -> dict[str, Any]:
    """The permits waiting for confirmation for `year` (state None: waiting or partial),
    filtered, by code; each with its enterprise, district, zones, quantities for the year
    and the pollutants (and kg) still waiting."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}", field="state")
    today = trading_day(now or system_clock())
    with uow:
        store = ConfirmationStore(uow.session)
        codes, total = store.queue(year=year, today=today, district=district, zone=zone,
                                   sector=sector, state=state, offset=offset, limit=limit)
        found = store.permits(codes, year)
        return dict(total=total, offset=offset, limit=limit, year=year,
                    items=[_view(found[c]) for c in codes if c in found])


def queue_choices(uow: UoW) -> dict[str, Any]:
    """What the queue's filters offer: districts and zones (code, name) and sectors."""
    with uow:
        store = ConfirmationStore(uow.session)
        return dict(districts=store.districts(), zones=store.zones(), sectors=store.sectors())


def names(uow: UoW, *, permits: Sequence[str] = (), enterprises: Sequence[str] = ()
          ) -> tuple[dict[str, str], dict[str, str]]:
    """Enterprise names (permit → name of its enterprise, credit code → name), for texts
    people read."""
    with uow:
        return ConfirmationStore(uow.session).names(permits, enterprises)


def _named(exc: DomainError, i: int, code: str) -> DomainError:
    if code not in exc.message:
        exc.message = f"permit {code}: {exc.message}"
        exc.args = (exc.message,)
    exc.field = f"permits[{i}]"
    exc.details["permit"] = code
    return exc


def plan(uow: UoW, *, permits: Sequence[str], year: int, district: str | None = None,
         expected: Mapping[str, Mapping[str, int]] | None = None,
         now: datetime | None = None) -> list[BatchItem]:
    """Inside an open unit of work: every waiting pollutant of `permits`, checked (see the
    module's guarantees). `expected`: permit → pollutant → kg approved."""
    codes = list(dict.fromkeys(permits))
    if not codes:
        raise InvalidInput("choose at least one permit", field="permits")
    if len(codes) > MAX_PERMITS:
        raise InvalidInput(f"at most {MAX_PERMITS} permits per request", field="permits")
    today = trading_day(now or system_clock())
    found = ConfirmationStore(uow.session).permits(codes, year)
    items: list[BatchItem] = []
    for i, code in enumerate(codes):
        p = found.get(code)
        try:
            if p is None or (district is not None and p["district"] != district):
                raise PermitNotFound(f"no permit {code}", field="permit_code")
            check_usable(PermitView(code, p["enterprise"], p["valid_from"], p["valid_to"],
                                    p["status"]), year, today)
            if requires_purchase(p["unit_kind"]):
                raise PermitNotAwaitingConfirmation(
                    f"permit {code} is a {p['unit_kind']} unit: it obtains rights only by "
                    "purchase, not by confirmation")
            waiting = {q["pollutant"]: q for q in p["quantities"]
                       if q["permitted_kg"] > 0 and not q["confirmed"]}
            if not waiting:
                raise PermitNotAwaitingConfirmation(
                    f"permit {code} has nothing waiting for confirmation in {year}")
            want = None if expected is None else dict(expected.get(code) or {})
            if want is not None and sorted(want) != sorted(waiting):
                raise ConfirmationBatchChanged(
                    f"permit {code}: what waits for confirmation in {year} changed since the "
                    f"request (now {', '.join(sorted(waiting)) or 'nothing'}, requested "
                    f"{', '.join(sorted(want)) or 'nothing'})")
        except DomainError as exc:
            raise _named(exc, i, code) from None
        for pol, q in sorted(waiting.items()):
            items.append(BatchItem(code, p["enterprise_name"], pol,
                                   None if want is None else int(want[pol]),
                                   q["permitted_kg"]))
    return items


def confirm_permits(uow: UoW, *, permits: Sequence[str], year: int, actor: str,
                    district: str | None = None,
                    expected: Mapping[str, Mapping[str, int]] | None = None,
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """Confirm every waiting pollutant of `permits` for `year` in one transaction; one row
    per permit and pollutant: permit, enterprise name, pollutant, year, kg confirmed, the
    permitted quantity before and after, the ledger transfer id."""
    now = now or system_clock()
    planned: list[BatchItem] = []

    def items_of(u: UoW) -> list[alloc.ConfirmItem]:
        planned[:] = plan(u, permits=permits, year=year, district=district,
                          expected=expected, now=now)
        return [alloc.ConfirmItem(b.permit, b.pollutant, year, b.qty_kg) for b in planned]

    try:
        changes = alloc.confirm_rights_batch(uow, items=[], actor=actor, now=now,
                                             plan=items_of)
    except DomainError as exc:
        item = exc.details.get("item")
        if isinstance(item, int) and 0 <= item < len(planned) and "permit" not in exc.details:
            code = planned[item].permit
            codes = list(dict.fromkeys(permits))
            exc.details["permit"] = code
            exc.field = f"permits[{codes.index(code)}]" if code in codes else exc.field
        raise
    return [dict(permit=c.permit, enterprise_name=b.enterprise_name, pollutant=c.pollutant,
                 year=c.year, qty_kg=c.qty_kg, permitted_before_kg=b.permitted_before_kg,
                 permitted_after_kg=c.permitted_after_kg, transfer_id=c.transfer_id)
            for b, c in zip(planned, changes, strict=True)]


def expected_of(items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """permit → pollutant → kg, from the rows `confirm_permits` returned (a preview)."""
    out: dict[str, dict[str, int]] = {}
    for r in items:
        out.setdefault(str(r["permit"]), {})[str(r["pollutant"])] = int(r["qty_kg"])
    return out
