"""Deterministic demo data: a synthetic Chongqing municipality (`erts demo`).

`load_demo(platform, seed=..., enterprises=...)` builds, from `random.Random` streams derived
from the seed and nothing else:

- 41 real Chongqing districts and counties (GB/T 2260 codes; the three functional zones, which
  have none, get ``50019x``) grouped into 6 air trading zones (``A-..``) and 4 watersheds
  (``W-..``);
- `enterprises` enterprises in seven sectors with plausible capacities and names, each with
  one permit (a few with a second site), per pollutant of the sector and per year of validity:
  the specification basis from capacity (the formulas and numbers of parameter table 2025.1),
  an EIA approval for most, and the share of the zone's indicator (largest remainder, pro rata
  to the specification basis, 10 % reserve). About 2 % of the permits expired on 2026-06-30;
- every indicator set and issued; 2026 rights confirmed for ~95 % of the valid permits (the
  rest wait for the bureau); verified surplus for ~15 % of the enterprises; cash for all;
- a market per zone and pollutant for vintage 2026, a resting non-crossing book in the busiest
  markets and a few executed trades; users for every role (password ``demo``).

The builder by what it builds: `app.demo_municipality` (area, sectors, specification bases,
invented names, the registry drawn from the seed), `app.demo_plan` (the plan: indicators,
confirmations, surplus, cash, markets, the order book, users; pure), `app.demo_compliance`
(the traders' outlets and emergency measures); this module checks the arguments and the
database, and loads the plan.

Bulk registry rows (area, enterprises, sites, permits, quantities) are inserted in one unit
of work; everything that moves rights or money goes through the services (`allocation.service`
set/issue_indicator, confirm_rights_batch, verify_surplus, deposit_cash; `trading.service`
ensure_market, place_order), so the ledger and its hash chain are the ones the platform itself
writes. Rights confirmations run `CONFIRM_BATCH` to a unit of work and ledger batch
(`confirm_rights_batch`: the rules and events of one `confirm_rights` per item); the other
allocation calls run `chunk` (default 20) to a transaction through `_Shared`, which only saves
commits; orders are placed one transaction each. Every timestamp derives from `today`
(default 2026-11-27), so two loads with the same seed, size and day are identical, row for row
and down to the journal hash.

Idempotent: the seed's first credit code plus the enterprise count identify a load; a run that
finds its own completed load returns ``already_loaded=True`` without writing, and a run that
finds its own interrupted load resumes it (every step skips what is done). Any other non-empty
database is refused with `DemoAlreadyLoaded` (a `Conflict`, code ``demo_already_loaded``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from allocation import paid_use_service as paid_use
from allocation import service as alloc
from allocation.permits import cap_and_allocation
from allocation.tables import (
    DistrictRow,
    EnterpriseRow,
    IndicatorRow,
    PermitEventRow,
    PermitQuantityRow,
    PermitRow,
    SiteRow,
    ZoneRow,
)
from app.demo_compliance import register_trader_outlets, set_trader_measures
from app.demo_municipality import (
    AIR_ZONES,
    BAND_PCT,
    DISTRICTS,
    EARLIEST_TODAY,
    LATEST_TODAY,
    PARAMETER_VERSION,
    RESERVE_PCT,
    SECTOR_POLLUTANTS,
    VINTAGE,
    WATER_ZONES,
    largest_remainder,
)
from app.demo_plan import DemoPlan, at_beijing, plan_demo
from identity.tables import UserRow
from kernel.errors import Conflict, InvalidInput
from ledger.service import asset_code
from ledger.tables import JournalRow
from trading import service as trading
from trading.tables import MarketRow, OrderRow

if TYPE_CHECKING:
    from app.wiring import Platform

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TODAY",
    "DEMO_PASSWORD",
    "DemoAlreadyLoaded",
    "DemoSummary",
    "check_password",
    "hash_password",
    "largest_remainder",
    "load_demo",
    "plan_demo",
]

DEFAULT_SEED = 2025
DEFAULT_ENTERPRISES = 1200
#: the demo's business day: a Friday; every timestamp of the load derives from it
DEFAULT_TODAY = date(2026, 11, 27)
MIN_ENTERPRISES, MAX_ENTERPRISES = 20, 20_000
DEMO_PASSWORD = "demo"
ACTOR = "demo"
#: service calls per transaction
DEFAULT_CHUNK = 20
#: rights confirmations per unit of work (`allocation.service.confirm_rights_batch`)
CONFIRM_BATCH = 2000


class DemoAlreadyLoaded(Conflict):
    """The database already holds other data: a demo with another seed or size, or real data."""

    code = "demo_already_loaded"


# --------------------------------------------------------------------------------------------
# passwords
# --------------------------------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt (n=2**14, r=8, p=1), salted: ``scrypt$<salt hex>$<hash hex>``.

    The salt is random unless given (the demo derives it from the seed and the username so
    that two loads are identical)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, hashed: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = hashed.split("$")
        if scheme != "scrypt":
            return False
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except (ValueError, AttributeError):
        return False
    got = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return hmac.compare_digest(got, digest)



# --------------------------------------------------------------------------------------------
# the load
# --------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    seed: int
    enterprises: int
    today: str
    already_loaded: bool
    districts: int = 0
    zones: int = 0
    sites: int = 0
    permits: int = 0
    expired_permits: int = 0
    permit_quantities: int = 0
    indicators: int = 0
    confirmations: int = 0
    verifications: int = 0
    deposits: int = 0
    markets: int = 0
    orders: int = 0
    trades: int = 0
    resting_orders: int = 0
    showcase_market: str | None = None
    #: username -> role
    users: dict[str, str] = field(default_factory=dict)
    #: trader username -> [credit code, enterprise name]
    traders: dict[str, list[str]] = field(default_factory=dict)
    password: str = DEMO_PASSWORD
    seconds: float = 0.0
    #: seconds per step of this run
    timings: dict[str, float] = field(default_factory=dict)


def _summary(plan: DemoPlan, already: bool) -> DemoSummary:
    names = {e.code: e.name for e in plan.enterprises}
    return DemoSummary(
        seed=plan.seed, enterprises=len(plan.enterprises), today=plan.today.isoformat(),
        already_loaded=already, districts=len(DISTRICTS),
        zones=len(AIR_ZONES) + len(WATER_ZONES), sites=len(plan.permits),
        permits=len(plan.permits), expired_permits=sum(p.expired for p in plan.permits),
        permit_quantities=sum(len(SECTOR_POLLUTANTS[p.sector]) * len(p.years())
                              for p in plan.permits),
        indicators=len(plan.indicators), confirmations=len(plan.confirmations),
        verifications=len(plan.verifications), deposits=len(plan.deposits),
        markets=len(plan.markets), orders=len(plan.orders), trades=plan.trades,
        resting_orders=len(plan.resting), showcase_market=plan.showcase_market,
        users={u: r for u, _d, r, _e in plan.users},
        traders={u: [e, names[e]] for u, _d, _r, e in plan.users if e is not None})


def _check_arguments(seed: object, enterprises: object, today: date) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput("seed must be a non-negative whole number", field="seed")
    if (isinstance(enterprises, bool) or not isinstance(enterprises, int)
            or not MIN_ENTERPRISES <= enterprises <= MAX_ENTERPRISES):
        raise InvalidInput(f"enterprises must be a whole number from {MIN_ENTERPRISES} to "
                           f"{MAX_ENTERPRISES}", field="enterprises")
    if not isinstance(today, date) or not EARLIEST_TODAY <= today <= LATEST_TODAY:
        raise InvalidInput(f"today must be a date from {EARLIEST_TODAY} to {LATEST_TODAY} "
                           "(the demo's permits and 2026 vintage are built around it)",
                           field="today")


def _existing_state(platform: Platform, plan: DemoPlan) -> bool:
    """True when this plan's load is complete; False when the database is empty or holds an
    interrupted load of this plan (the caller resumes it). Raises `DemoAlreadyLoaded` else."""
    first = plan.enterprises[0].code
    with platform.uow() as uow:
        s = uow.session
        n_ent = int(s.scalar(select(func.count()).select_from(EnterpriseRow)) or 0)
        n_zone = int(s.scalar(select(func.count()).select_from(ZoneRow)) or 0)
        if n_ent == 0 and n_zone == 0:
            return False
        mine = s.get(EnterpriseRow, first) is not None
        if mine and n_ent == len(plan.enterprises):
            t1 = next((u for u in plan.users if u[0] == "trader1"), None)
            row = s.get(UserRow, "trader1")
            return t1 is not None and row is not None and row.enterprise == t1[3]
        marker = s.scalar(select(JournalRow.id).where(JournalRow.id.like("deposit:demo-s%"))
                          .order_by(JournalRow.seq).limit(1))
        other_seed = marker.split("demo-s", 1)[1].split("-", 1)[0] if marker else None
        demo = s.get(ZoneRow, AIR_ZONES[0][0]) is not None
    asked = f"asked for seed {plan.seed} with {len(plan.enterprises)} enterprises"
    if mine:
        msg = (f"the database already holds the demo for seed {plan.seed} with {n_ent} "
               f"enterprises; {asked}: load it into an empty database")
    elif demo:
        seed_text = f"seed {other_seed}" if other_seed else "another seed"
        msg = (f"the database already holds a demo municipality ({seed_text}, {n_ent} "
               f"enterprises); {asked}: load it into an empty database")
    else:
        msg = (f"the database is not empty ({n_ent} enterprises, {n_zone} zones); the demo "
               "loads only into an empty database")
    raise DemoAlreadyLoaded(msg, seed=plan.seed, enterprises=len(plan.enterprises))


def _load_registry(platform: Platform, plan: DemoPlan) -> None:
    """Area, enterprises, sites, permits and permitted quantities: one transaction."""
    with platform.uow() as uow:
        s = uow.session
        s.execute(insert(ZoneRow), [dict(code=c, name=n, medium="air") for c, n in AIR_ZONES]
                  + [dict(code=c, name=n, medium="water") for c, n in WATER_ZONES])
        s.execute(insert(DistrictRow), [dict(code=c, name=n, air_zone=a, water_zone=w)
                                        for c, n, a, w, _wt in DISTRICTS])
        s.execute(insert(EnterpriseRow), [dict(credit_code=e.code, name=e.name,
                                               sector=e.sector, district=e.district,
                                               status="active") for e in plan.enterprises])
        s.execute(insert(SiteRow), [dict(enterprise=p.enterprise, seq=p.site_seq,
                                         name=p.site_name, district=p.district,
                                         capacity=p.capacity, capacity_unit=p.capacity_unit)
                                    for p in plan.permits])
        site_id = {(e, q): i for i, e, q in s.execute(
            select(SiteRow.id, SiteRow.enterprise, SiteRow.seq))}
        s.execute(insert(PermitRow), [dict(
            code=p.code, enterprise=p.enterprise, site=site_id[(p.enterprise, p.site_seq)],
            valid_from=p.valid_from, valid_to=p.valid_to, status="valid",
            issued_at=at_beijing(p.valid_from - timedelta(days=14), 10, 0),
            parameter_version=PARAMETER_VERSION) for p in plan.permits])
        rows = []
        for p in plan.permits:
            for pol in SECTOR_POLLUTANTS[p.sector]:
                zone = plan.zone(p, pol)
                for y in p.years():
                    share = p.share[(pol, y)]
                    cap, allocated, binding = cap_and_allocation(p.spec[pol], p.eia[pol], share)
                    rows.append(dict(permit=p.code, pollutant=pol, year=y, zone=zone,
                                     spec_kg=p.spec[pol], eia_kg=p.eia[pol], share_kg=share,
                                     binding=binding, cap_kg=cap, allocated_kg=allocated,
                                     permitted_kg=allocated, confirmed=False))
        for i in range(0, len(rows), 5000):
            s.execute(insert(PermitQuantityRow), rows[i:i + 5000])
        uow.commit()


class _Shared:
    """A unit of work that lets many service calls share one real transaction.

    Each service still runs its whole use case (`with uow: ...; uow.commit()`): its `commit`
    here only flushes, and the enclosing real unit of work commits the chunk. If any call
    raises, the exception leaves the chunk and the real unit of work rolls all of it back,
    so a chunk is all or nothing and a re-run resumes at a chunk boundary."""

    def __init__(self, real: Any) -> None:
        self._real = real

    @property
    def session(self) -> Any:
        return self._real.session

    @property
    def dialect(self) -> str:
        return str(self._real.dialect)

    def __enter__(self) -> _Shared:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self._real.session.flush()

    def rollback(self) -> None:  # pragma: no cover - services do not call it
        raise RuntimeError("a demo chunk cannot roll back part of itself")


def _pay_paid_use(uow: Any, *, permit: str, pollutant: str, enterprise: str, reference: str,
                  now: datetime) -> None:
    """Fund and pay a permit's unpaid paid-use bills of the demo vintage."""
    bills = [b for b in paid_use.list_bills(uow, permit=permit, status="unpaid",
                                            limit=1000)["items"]
             if b["pollutant"] == pollutant and b["year"] == VINTAGE]
    for b in bills:
        alloc.deposit_cash(uow, enterprise=enterprise, amount_fen=b["amount_fen"],
                           actor=ACTOR, reference=f"{reference}-{b['id']}", now=now)
        paid_use.pay_bill(uow, bill_id=b["id"], actor=ACTOR, now=now)


def _run_chunked(platform: Platform, calls: Sequence[Callable[[Any], object]],
                 chunk: int) -> None:
    """Run `calls` (each takes a unit of work), `chunk` of them per transaction."""
    for i in range(0, len(calls), max(chunk, 1)):
        with platform.uow() as real:
            shared = _Shared(real)
            for call in calls[i:i + chunk]:
                call(shared)
            real.commit()


def load_demo(platform: Platform, *, seed: int = DEFAULT_SEED,
              enterprises: int = DEFAULT_ENTERPRISES, today: date | None = None,
              chunk: int = DEFAULT_CHUNK) -> DemoSummary:
    """Load the demo municipality for `seed` into an empty, migrated database.

    Returns a `DemoSummary`; ``already_loaded=True`` when this seed and size were loaded
    before (nothing is written). Raises `InvalidInput` for a bad argument and
    `DemoAlreadyLoaded` (a `Conflict`, code ``demo_already_loaded``) when the database holds
    anything else. `today` (default 2026-11-27) anchors every timestamp; it is not part of
    the identity of a load. `chunk`: service calls per transaction (1 = one transaction per
    call, as the web does; the default batches them for speed, with the same result)."""
    started = _time.perf_counter()
    today = DEFAULT_TODAY if today is None else today
    _check_arguments(seed, enterprises, today)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInput("chunk must be a positive whole number", field="chunk")
    plan = plan_demo(seed, enterprises, today)
    timings: dict[str, float] = {"plan": round(_time.perf_counter() - started, 3)}
    if _existing_state(platform, plan):
        out = _summary(plan, True)
        out.seconds = round(_time.perf_counter() - started, 3)
        return out
    clock = [_time.perf_counter()]

    def step(name: str) -> None:
        now = _time.perf_counter()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    with platform.uow() as uow:
        fresh = not uow.session.scalar(select(func.count()).select_from(EnterpriseRow))
    if fresh:
        _load_registry(platform, plan)
    step("registry")

    # what an interrupted run already did
    with platform.uow() as uow:
        s = uow.session
        ind_state = {(z, p, y): issued for z, p, y, issued in s.execute(select(
            IndicatorRow.zone, IndicatorRow.pollutant, IndicatorRow.year, IndicatorRow.issued))}
        confirmed = {(c, p) for c, p in s.execute(select(
            PermitQuantityRow.permit, PermitQuantityRow.pollutant).where(
            PermitQuantityRow.year == VINTAGE, PermitQuantityRow.confirmed.is_(True)))}
        verified = {(c, p) for c, p in s.execute(select(
            PermitEventRow.permit, PermitEventRow.pollutant).where(
            PermitEventRow.kind == "verified_surplus", PermitEventRow.year == VINTAGE))}
        deposited = set(s.scalars(select(JournalRow.reference).where(
            JournalRow.id.like(f"deposit:demo-s{seed}-%"))))
        ordered = set(s.scalars(select(OrderRow.client_id).where(  # the demo's own ids
            OrderRow.client_id.like(f"demo-s{seed}-%"))))
        markets = set(s.scalars(select(MarketRow.id)))
        users = set(s.scalars(select(UserRow.username)))

    calls: list[Callable[[Any], object]] = []
    at = at_beijing(today - timedelta(days=50), 9, 0)
    for i, (zone, pol, year, total) in enumerate(plan.indicators):
        if (zone, pol, year) not in ind_state:
            calls.append(partial(alloc.set_indicator, zone=zone, pollutant=pol, year=year,
                                 total_kg=total, reserve_share_pct=RESERVE_PCT))
        if not ind_state.get((zone, pol, year), False):
            calls.append(partial(alloc.issue_indicator, zone=zone, pollutant=pol, year=year,
                                 actor=ACTOR, now=at + timedelta(seconds=i)))
    _run_chunked(platform, calls, chunk)
    step("indicators")

    # confirmations in fixed batches of the plan (one unit of work and one ledger batch
    # each, one time per batch), so the result does not depend on `chunk` or on a resume
    at = at_beijing(today - timedelta(days=40), 9, 0)
    for k in range(0, len(plan.confirmations), CONFIRM_BATCH):
        items = [alloc.ConfirmItem(code, pol, VINTAGE)
                 for code, pol in plan.confirmations[k:k + CONFIRM_BATCH]
                 if (code, pol) not in confirmed]
        if items:
            alloc.confirm_rights_batch(platform.uow(), items=items, actor=ACTOR,
                                       now=at + timedelta(seconds=k // CONFIRM_BATCH))
    step("confirmations")

    # paid use: rights become tradable only once their paid-use bill is paid, so each
    # enterprise about to have surplus verified pays its bill (funded for the purpose); the
    # other bills stay unpaid (and overdue by the demo's today) for the bureau's list
    at = at_beijing(today - timedelta(days=30), 9, 0)
    owner = {p.code: p.enterprise for p in plan.permits}
    _run_chunked(platform, [
        partial(_pay_paid_use, permit=code, pollutant=pol, enterprise=owner[code],
                reference=f"demo-s{seed}-paid-use-{code}-{pol}", now=at + timedelta(seconds=i))
        for i, (code, pol, _qty) in enumerate(plan.verifications) if (code, pol) not in verified],
        chunk)
    step("paid_use")

    at = at_beijing(today - timedelta(days=20), 9, 0)
    _run_chunked(platform, [
        partial(alloc.verify_surplus, permit=code, pollutant=pol, year=VINTAGE, qty_kg=qty,
                actor=ACTOR, reason="ultra-low retrofit: verified reduction",
                now=at + timedelta(seconds=i))
        for i, (code, pol, qty) in enumerate(plan.verifications) if (code, pol) not in verified],
        chunk)
    step("verifications")

    at = at_beijing(today - timedelta(days=10), 9, 0)
    _run_chunked(platform, [
        partial(alloc.deposit_cash, enterprise=ent, amount_fen=fen, actor=ACTOR, reference=ref,
                now=at + timedelta(seconds=i))
        for i, (ent, fen, ref) in enumerate(plan.deposits) if ref not in deposited], chunk)
    step("deposits")

    if any(asset_code(pol, z, VINTAGE) not in markets for pol, z, _r in plan.markets):
        with platform.uow() as uow:
            for pol, zone, ref_price in plan.markets:
                trading.ensure_market(uow, pollutant=pol, zone=zone, vintage=VINTAGE, tick=1,
                                      min_lot=1, reference_price=ref_price, band_pct=BAND_PCT)
            uow.commit()
    # orders one transaction each, exactly as the web places them
    for o in plan.orders:
        if o.id not in ordered:
            trading.place_order(platform.uow(), trading.PlaceOrder(
                o.enterprise, o.permit, o.market, o.side, o.qty, o.price, "gtc", o.id),
                permits=platform.permits, actor=ACTOR, now=o.at)
    step("markets_orders")
    # the demo traders' permits get their outlets, so execution reports and monitoring
    # imports can be tried at once; before the users, whose presence marks a complete load
    register_trader_outlets(platform, plan)
    step("outlets")

    set_trader_measures(platform, plan, today=today, actor=ACTOR)
    step("alert_measures")
    step("alert_measures")

    missing = [u for u in plan.users if u[0] not in users]
    if missing:
        with platform.uow() as uow:
            uow.session.execute(insert(UserRow), [dict(
                username=u, display_name=d, role=r, enterprise=e,
                district=plan.scopes.get(u, (None, None))[0],
                department=plan.scopes.get(u, (None, None))[1],
                password_hash=hash_password(DEMO_PASSWORD, salt=hashlib.sha256(
                    f"erts-demo:{seed}:{u}".encode()).digest()[:16]))
                for u, d, r, e in missing])
            uow.commit()
    step("users")
    out = _summary(plan, False)
    out.timings = timings
    out.seconds = round(_time.perf_counter() - started, 3)
    return out
