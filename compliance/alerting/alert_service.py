"""Heavy-pollution alert use cases: set a permit's emergency measures (grade and per level
cut and measure), declare (caps for every affected permit are computed from its baseline and
its cut and stored with the alert), lift early (caps recomputed for the shortened window from
the baselines and cuts recorded at declaration), list and read alerts, caps, the region's
total cut against the level's target and breaches, and check monitoring emissions against
the caps.

A cap is fixed when the alert is declared: measures set later, or monitoring data for the
baseline window that arrives later, do not change a declared alert's caps.

`check_alerts` is idempotent: a breach is keyed by (alert, permit, pollutant, period, day),
so re-running records nothing new and opens no second clue; when more monitoring data has
arrived since, an existing breach's emitted grams are brought up to date. Each new breach
opens one problem clue of kind "alert_breach" through `ClueStore`, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from allocation.parameters import get_parameters
from compliance.alerting import alerts as AL
from compliance.alerting.alert_store import AlertStore
from compliance.alerting.alert_tables import AlertBreachRow, AlertCapRow, AlertRow
from compliance.alerting.clue_store import ClueStore, utc
from compliance.errors import (
    AlertNotActive,
    AlertNotFound,
    BadAlert,
    BadEmergencyMeasure,
    EmergencyPermitNotFound,
)
from compliance.supervision.screening import Anomaly
from kernel.clock import CST, system_clock, trading_day
from ledger.service import UoW

MAX_LIMIT = 200
BREACH_KIND = "alert_breach"


def _page(offset: int, limit: int) -> None:
    if offset < 0:
        raise BadAlert("offset must not be negative", field="offset")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadAlert(f"limit must be 1-{MAX_LIMIT}", field="limit")


def status(row: AlertRow, today: date) -> str:
    """declared (not yet begun), active, lifted (ended early by the bureau) or ended."""
    if row.lifted_on is not None:
        return "lifted"
    if today < row.first_day:
        return "declared"
    if today > row.last_day:
        return "ended"
    return "active"


def alert_dict(row: AlertRow, today: date) -> dict[str, Any]:
    last = AL.effective_last_day(row.last_day, row.lifted_on)
    return {"id": row.id, "level": row.level, "cut_pct": row.cut_pct, "zones": list(row.zones),
            "first_day": row.first_day.isoformat(), "last_day": row.last_day.isoformat(),
            "lifted_on": row.lifted_on.isoformat() if row.lifted_on else None,
            "effective_last_day": last.isoformat(),
            "days": max((last - row.first_day).days + 1, 0),
            "status": status(row, today), "declared_by": row.declared_by,
            "declared_at": utc(row.declared_at).isoformat(), "lifted_by": row.lifted_by,
            "note": row.note,
            "checked_at": utc(row.checked_at).isoformat() if row.checked_at else None}


def cap_dict(c: AlertCapRow) -> dict[str, Any]:
    return {"permit": c.permit, "enterprise": c.enterprise, "pollutant": c.pollutant,
            "zone": c.zone, "month": c.month.strftime("%Y-%m"),
            "permitted_kg": c.permitted_kg, "days_in_year": c.days_in_year,
            "basis": c.basis, "baseline_g": c.baseline_g, "baseline_days": c.baseline_days,
            "baseline_daily_kg": _kg(c.baseline_g // max(c.baseline_days, 1)),
            "cut_pct": c.cut_pct, "cut_source": c.cut_source, "grade": c.grade,
            "measure": c.measure, "daily_cap_kg": c.daily_cap_kg, "days": c.days,
            "monthly_cap_kg": c.monthly_cap_kg}


def _kg(grams: int) -> str:
    """Grams as kg with three decimals, exactly (no float)."""
    return f"{grams // 1000}.{grams % 1000:03d}"


def breach_dict(b: AlertBreachRow) -> dict[str, Any]:
    return {"id": b.id, "alert": b.alert, "permit": b.permit, "enterprise": b.enterprise,
            "pollutant": b.pollutant, "period": b.period,
            "day": b.day.isoformat() if b.period == "day" else b.day.strftime("%Y-%m"),
            "emitted_g": b.emitted_g, "emitted_kg": _kg(b.emitted_g), "cap_kg": b.cap_kg,
            "clue": b.clue, "found_at": utc(b.found_at).isoformat()}


def _store_caps(store: AlertStore, row: AlertRow, *, keep: bool = False) -> int:
    """Compute and store the alert's caps. `keep`: reuse the baselines and cuts recorded at
    declaration (a lift shortens the window, it does not re-judge the baseline)."""
    last = AL.effective_last_day(row.last_day, row.lifted_on)
    params = AL.alert_parameters(row.first_day)
    affected = store.affected(list(row.zones), row.first_day, last)
    permits = sorted({a.permit for a in affected})
    plans = store.plans(permits)
    kept: dict[tuple[str, str, int], AlertCapRow] = {}
    if keep:
        kept = {(c.permit, c.pollutant, c.month.year): c for c in store.caps(row.id)[0]}
    start, end = AL.baseline_window(row.first_day, params)
    monitored: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    for (permit, pollutant, day), g in store.daily_emissions(permits, start, end).items():
        monitored[(permit, pollutant)][day] = g
    owners = {a.permit: a.enterprise for a in affected}
    inputs = []
    for a in affected:
        old = kept.get((a.permit, a.pollutant, a.year))
        if old is not None:
            inputs.append(AL.CapInput(
                a.permit, a.pollutant, a.year, old.zone, old.permitted_kg,
                AL.Baseline(old.basis, old.baseline_g, old.baseline_days), old.cut_pct,
                old.cut_source, old.grade, old.measure))
            continue
        base = (AL.monitored_baseline(monitored.get((a.permit, a.pollutant), {}), params)
                or AL.permitted_baseline(a.permitted_kg, a.year, a.sector, params))
        plan = plans.get(a.permit)
        cut, source, text = AL.permit_cut(plan, row.level, row.cut_pct, params)
        inputs.append(AL.CapInput(a.permit, a.pollutant, a.year, a.zone, a.permitted_kg, base,
                                  cut, source, plan.grade if plan else None, text))
    caps = AL.caps(inputs, row.first_day, last)
    return store.replace_caps(row.id, [
        AlertCapRow(alert=row.id, permit=c.permit, pollutant=c.pollutant, month=c.month,
                    enterprise=owners[c.permit], permitted_kg=c.permitted_kg,
                    days_in_year=c.days_in_year, daily_cap_kg=c.daily_cap_kg, days=c.days,
                    monthly_cap_kg=c.monthly_cap_kg, zone=c.zone, basis=c.basis,
                    baseline_g=c.baseline_g, baseline_days=c.baseline_days,
                    cut_pct=c.cut_pct, cut_source=c.cut_source, grade=c.grade,
                    measure=c.measure) for c in caps])


def _cap_value(c: AlertCapRow) -> AL.Cap:
    return AL.Cap(c.permit, c.pollutant, c.month, c.permitted_kg, c.days_in_year,
                  c.daily_cap_kg, c.days, c.monthly_cap_kg, c.zone, c.basis, c.baseline_g,
                  c.baseline_days, c.cut_pct, c.cut_source, c.grade, c.measure)


def declare_alert(uow: UoW, *, level: str, zones: Sequence[str], first_day: date,
                  last_day: date, actor: str, cut_pct: int | None = None,
                  note: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Declare an alert for zones or districts and days; the caps of every affected permit
    are stored with it. An alert cannot start in the past (China Standard Time)."""
    now = now or system_clock()
    if first_day < trading_day(now):
        raise BadAlert("an alert cannot start in the past", field="first_day")
    levels = AL.least_cuts(get_parameters(on=first_day).alert_cut_ratios)
    d = AL.declaration(level, zones, first_day, last_day, cut_pct, levels)
    text = (note or "").strip() or None
    if text is not None and len(text) > 2000:
        raise BadAlert("the note has more than 2000 characters", field="note")
    with uow:
        store = AlertStore(uow.session)
        unknown = store.unknown_codes(d.zones)
        if unknown:
            raise BadAlert(f"unknown zone or district {unknown[0]}", field="zones")
        row = AlertRow(level=d.level, cut_pct=d.cut_pct, zones=list(d.zones),
                       first_day=d.first_day, last_day=d.last_day, declared_by=actor,
                       declared_at=utc(now), note=text)
        store.add(row)
        n = _store_caps(store, row)
        out = alert_dict(row, trading_day(now))
        out["caps"] = n
        uow.commit()
    return out


def lift_alert(uow: UoW, *, alert_id: int, actor: str, now: datetime | None = None
               ) -> dict[str, Any]:
    """Lift an alert early: today (CST) becomes its last day (or, before it began, it never
    applies); caps are recomputed for the shorter window. Breaches already found stay."""
    now = now or system_clock()
    today = trading_day(now)
    with uow:
        store = AlertStore(uow.session)
        row = store.get(alert_id, lock=True)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}", field="alert")
        if row.lifted_on is not None:
            raise AlertNotActive(f"alert {alert_id} was already lifted")
        if today >= row.last_day:
            raise AlertNotActive(f"alert {alert_id} ends on {row.last_day}: nothing to lift")
        row.lifted_on, row.lifted_by, row.lifted_at = today, actor, utc(now)
        n = _store_caps(store, row, keep=True)
        out = alert_dict(row, today)
        out["caps"] = n
        uow.commit()
    return out


def list_alerts(uow: UoW, *, offset: int = 0, limit: int = 50, now: datetime | None = None
                ) -> dict[str, Any]:
    _page(offset, limit)
    today = trading_day(now or system_clock())
    with uow:
        rows, total = AlertStore(uow.session).alerts(offset=offset, limit=limit)
        items = [alert_dict(r, today) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def get_alert(uow: UoW, *, alert_id: int, now: datetime | None = None) -> dict[str, Any]:
    today = trading_day(now or system_clock())
    with uow:
        store = AlertStore(uow.session)
        row = store.get(alert_id)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}", field="alert")
        out = alert_dict(row, today)
        out["caps"] = store.caps(alert_id, limit=0)[1]
        out["breaches"] = store.breach_count(alert_id)
    return out


def alert_caps(uow: UoW, *, alert_id: int, enterprise: str | None = None, offset: int = 0,
               limit: int = 50) -> dict[str, Any]:
    """The alert's caps (per permit, pollutant and month); `enterprise` restricts to its
    own permits."""
    _page(offset, limit)
    with uow:
        store = AlertStore(uow.session)
        if store.get(alert_id) is None:
            raise AlertNotFound(f"no alert {alert_id}", field="alert")
        rows, total = store.caps(alert_id, enterprise=enterprise, offset=offset, limit=limit)
        items = [cap_dict(c) for c in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def alert_breaches(uow: UoW, *, alert_id: int | None = None, enterprise: str | None = None,
                   offset: int = 0, limit: int = 50) -> dict[str, Any]:
    _page(offset, limit)
    with uow:
        store = AlertStore(uow.session)
        if alert_id is not None and store.get(alert_id) is None:
            raise AlertNotFound(f"no alert {alert_id}", field="alert")
        rows, total = store.breaches(alert_id=alert_id, enterprise=enterprise, offset=offset,
                                     limit=limit)
        items = [breach_dict(b) for b in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def alert_region(uow: UoW, *, alert_id: int) -> dict[str, Any]:
    """The region's total cut: per zone and pollutant, Σ baseline over the alert's days of
    the affected permits against Σ their caps, and the cut achieved against the level's
    least cut (10/20/30 %). The law's target is of the whole society's emissions; this is
    the permitted sources' share of it."""
    with uow:
        store = AlertStore(uow.session)
        row = store.get(alert_id)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}", field="alert")
        levels = AL.least_cuts(get_parameters(on=row.first_day).alert_cut_ratios)
        target = levels.get(row.level, row.cut_pct)
        totals = AL.region_totals([_cap_value(c) for c in store.caps(alert_id)[0]], target)
        level, cut = row.level, row.cut_pct
    items = [{"zone": t.zone, "pollutant": t.pollutant, "permits": t.permits,
              "baseline_g": t.baseline_g, "baseline_kg": _kg(t.baseline_g),
              "cap_kg": t.cap_kg,
              "achieved_pct": None if t.achieved_pct is None else str(t.achieved_pct),
              "target_pct": t.target_pct, "meets": t.meets} for t in totals]
    return {"alert": alert_id, "level": level, "cut_pct": cut, "target_pct": target,
            "items": items}


def _levels_in(levels: Mapping[str, Any]) -> dict[str, tuple[object, str | None]]:
    out: dict[str, tuple[object, str | None]] = {}
    for level, m in levels.items():
        if m is None:
            continue
        if not isinstance(m, Mapping):
            raise BadEmergencyMeasure(f"the {level} measure must give cut_pct and measure",
                                      field=f"levels.{level}")
        text = m.get("measure")
        if text is not None and not isinstance(text, str):
            raise BadEmergencyMeasure(f"the {level} measure must be text",
                                      field=f"levels.{level}.measure")
        out[str(level)] = (m.get("cut_pct"), text)
    return out


def measures_dict(permit: str, enterprise: str | None, plan: AL.Plan | None,
                  set_by: str | None = None, set_at: datetime | None = None
                  ) -> dict[str, Any]:
    """The permit's grade and, per level, its own measure and the cut that applies (the
    grade's default, or for a permit without measures the level's least cut)."""
    params = AL.alert_parameters()
    levels = {}
    for level, least in AL.LEVELS.items():
        cut, source, text = AL.permit_cut(plan, level, least, params)
        own = plan.levels.get(level) if plan else None
        levels[level] = {"cut_pct": own.cut_pct if own else None,
                         "measure": own.text if own else None,
                         "applies_pct": cut, "source": source, "measure_text": text}
    return {"permit": permit, "enterprise": enterprise,
            "grade": plan.grade if plan else None, "levels": levels, "set_by": set_by,
            "set_at": utc(set_at).isoformat() if set_at else None,
            "parameters": params.version}


def set_measures(uow: UoW, *, permit: str, grade: str, levels: Mapping[str, Any],
                 actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Set (replace) a permit's emergency measures: its performance grade and per alert
    level a cut of 0-100 % of its baseline with an optional measure text. Checked before
    anything is stored; the permit must exist (404 otherwise)."""
    now = now or system_clock()
    plan = AL.plan(grade, _levels_in(levels))
    with uow:
        store = AlertStore(uow.session)
        if not store.permit_known(permit):
            raise EmergencyPermitNotFound(f"no permit {permit}", field="permit")
        store.set_plan(permit, plan, actor=actor, at=utc(now))
        out = measures_dict(permit, store.enterprise_of([permit]).get(permit), plan, actor,
                            now)
        uow.commit()
    return out


def get_measures(uow: UoW, *, permit: str, enterprise: str | None = None) -> dict[str, Any]:
    """A permit's measures; `enterprise` restricts to that enterprise's permits (404)."""
    with uow:
        store = AlertStore(uow.session)
        owner = store.enterprise_of([permit]).get(permit)
        if owner is None or (enterprise is not None and owner != enterprise):
            raise EmergencyPermitNotFound(f"no permit {permit}", field="permit")
        row = store.plan_row(permit)
        plan = store.plans([permit]).get(permit)
        return measures_dict(permit, owner, plan, row.set_by if row else None,
                             row.set_at if row else None)


def list_measures(uow: UoW, *, enterprise: str | None = None, offset: int = 0,
                  limit: int = 50) -> dict[str, Any]:
    """Permits with emergency measures, the most recently set first (`enterprise`: its
    permits only)."""
    _page(offset, limit)
    with uow:
        store = AlertStore(uow.session)
        rows, total = store.plan_rows(enterprise=enterprise, offset=offset, limit=limit)
        codes = [r.permit for r in rows]
        plans = store.plans(codes)
        owners = store.enterprise_of(codes)
        items = [measures_dict(r.permit, owners.get(r.permit), plans.get(r.permit), r.set_by,
                               r.set_at) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def _window(b: AL.Breach, last: date) -> tuple[datetime, datetime]:
    """The breach's hours (UTC): the day, or the month's alert days up to the last one."""
    first = b.day
    end_day = b.day
    if b.period == "month":
        month_end = (b.day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
            days=1)
        end_day = min(month_end, last)
    start = datetime.combine(first, time(0), tzinfo=CST)
    end = datetime.combine(end_day, time(23), tzinfo=CST)
    return utc(start), utc(end)


def _check_one(store: AlertStore, clues: ClueStore, alert_id: int, now: datetime
               ) -> list[AlertBreachRow]:
    row = store.get(alert_id, lock=True)
    if row is None:
        raise AlertNotFound(f"no alert {alert_id}", field="alert")
    last = AL.effective_last_day(row.last_day, row.lifted_on)
    caps_rows, _n = store.caps(alert_id)
    caps = [_cap_value(c) for c in caps_rows]
    owners = {c.permit: c.enterprise for c in caps_rows}
    row.checked_at = utc(now)
    if not caps:
        return []
    emitted = store.daily_emissions(sorted(owners), row.first_day, last)
    found = AL.breaches(caps, emitted, row.first_day, last)
    existing = store.breach_rows(alert_id)
    new: list[tuple[AL.Breach, AlertBreachRow]] = []
    for b in found:
        old = existing.get((b.permit, b.pollutant, b.period, b.day))
        if old is not None:
            if old.emitted_g != b.emitted_g:
                old.emitted_g = b.emitted_g
            continue
        new.append((b, AlertBreachRow(
            alert=alert_id, permit=b.permit, enterprise=owners[b.permit],
            pollutant=b.pollutant, period=b.period, day=b.day, emitted_g=b.emitted_g,
            cap_kg=b.cap_kg, found_at=utc(now))))
    if not new:
        return []
    by_month = {(c.permit, c.pollutant, c.month): c for c in caps_rows}
    anomalies = []
    for b, _r in new:
        start, end = _window(b, last)
        cap = by_month[(b.permit, b.pollutant, b.day.replace(day=1))]
        anomalies.append(Anomaly(
            permit=b.permit, outlet="", kind=BREACH_KIND, pollutant=b.pollutant, start=start,
            end=end, evidence={
                "alert": alert_id, "level": row.level, "cut_pct": row.cut_pct,
                "period": b.period,
                "day": b.day.isoformat() if b.period == "day" else b.day.strftime("%Y-%m"),
                "emitted_g": b.emitted_g, "emitted_kg": _kg(b.emitted_g),
                "cap_kg": b.cap_kg, "permit_cut_pct": cap.cut_pct,
                "cut_source": cap.cut_source, "measure": cap.measure, "basis": cap.basis,
                "baseline_daily_kg": _kg(cap.baseline_g // max(cap.baseline_days, 1))}))
    # the breach key already guarantees one clue per breach: no clue de-duplication here
    ids = clues.open_from_anomalies(anomalies, now=now, source=f"alert:{alert_id}",
                                    dedupe=False)
    rows = []
    for (_b, r), cid in zip(new, ids, strict=True):
        r.clue = cid
        rows.append(r)
    store.add_breaches(rows)
    return rows


def check_alerts(uow: UoW, *, alert_id: int | None = None, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Check daily monitoring emissions against the caps of one alert, or of every alert
    that has begun. Returns the alerts checked and the breaches found by this run (each
    with the problem clue it opened)."""
    now = now or system_clock()
    with uow:
        store = AlertStore(uow.session)
        clues = ClueStore(uow.session)
        ids = [alert_id] if alert_id is not None else store.started(trading_day(now))
        new: list[AlertBreachRow] = []
        for a in ids:
            new.extend(_check_one(store, clues, a, now))
        out = {"alerts_checked": len(ids), "new_breaches": len(new),
               "clues_opened": sum(1 for r in new if r.clue is not None),
               "breaches": [breach_dict(r) for r in new]}
        uow.commit()
    return out
