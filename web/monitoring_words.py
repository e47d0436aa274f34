"""Monitoring imports in words: the confirmation after an import (rows, daily figures, the
clues its anomalies opened and the clues heavy-pollution alert breaches opened, each named
with its enterprise, pollutant, day and kg against the cap), and row errors a person reads.

Texts are English msgids translated by the page's `_()` and, where a count decides the form,
`ngettext` (Chinese in the gettext catalogue, docs/i18n.md).
Quantities are kg with three decimals as the alert pages show them; ids are clue numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kernel.pollutants import Pollutant
from web.i18n import plural_translator

Tr = Callable[[str], str]

#: clue numbers listed in one message; the rest are counted
SHOWN = 10

_FUTURE = re.compile(r"^hour (\S+ \S+) \(Beijing time\) has not ended yet"
                     r"(?: \(now (\S+ \S+)\))?: data for hours that have not happened are "
                     r"refused$")


def pollutant_name(code: str, lang: str) -> str:
    try:
        p = Pollutant(code)
    except ValueError:
        return code
    return p.label_zh if lang == "zh" else p.value


def _ids(ids: list[int], _: Tr) -> str:
    shown = "、".join(f"#{i}" for i in ids[:SHOWN])
    if len(ids) > SHOWN:
        shown += _(" and {n} more").format(n=len(ids) - SHOWN)
    return shown


def import_message(out: Mapping[str, Any], _: Tr, lang: str,
                   names: Mapping[str, str]) -> str:
    """The confirmation of an import `out`
    (`compliance.supervision.supervision_service.import_monitoring`); `names`: enterprise credit
    code → name."""
    ngettext = plural_translator(lang)
    parts = [_("Monitoring import #{id}: {accepted} rows accepted, {rejected} rejected, "
               "{daily} daily figures").format(id=out["id"], accepted=out["accepted"],
                                               rejected=out["rejected"],
                                               daily=out["daily_rows"])]
    clues = list(out.get("clues") or [])
    if clues:
        parts.append(ngettext("{n} problem clue opened from anomalies: {ids}",
                              "{n} problem clues opened from anomalies: {ids}",
                              len(clues)).format(n=len(clues), ids=_ids(clues, _)))
    else:
        parts.append(_("no anomaly opened a clue"))
    alert = list(out.get("alert_clues") or [])
    if alert:
        each = []
        for c in alert[:SHOWN]:
            period = _("daily cap") if c["period"] == "day" else _("monthly cap")
            each.append(_("#{clue} {enterprise} {pollutant} {day}: {kg} kg against the "
                          "{period} of {cap} kg").format(
                clue=c["clue"], enterprise=names.get(c["enterprise"], c["enterprise"]),
                pollutant=pollutant_name(c["pollutant"], lang), day=c["day"],
                kg=c["emitted_kg"], period=period, cap=f"{int(c['cap_kg']):,}"))
        if len(alert) > SHOWN:
            each.append(_(" and {n} more").format(n=len(alert) - SHOWN).strip())
        parts.append(ngettext("a heavy-pollution alert breach opened {n} problem clue: {list}",
                              "heavy-pollution alert breaches opened {n} problem clues: {list}",
                              len(alert)).format(
            n=len(alert), list="；".join(each) if lang == "zh" else "; ".join(each)))
    elif out.get("alert_breaches"):
        parts.append(ngettext("{n} heavy-pollution alert breach found",
                              "{n} heavy-pollution alert breaches found",
                              int(out["alert_breaches"])).format(n=out["alert_breaches"]))
    return ("；" if lang == "zh" else "; ").join(parts) + ("。" if lang == "zh" else ".")


def row_detail(detail: str, _: Tr) -> str:
    """A row error's detail in the page's language (the hour not yet ended in words)."""
    m = _FUTURE.match(detail)
    if m is None:
        return _(detail)
    if m.group(2):
        return _("Hour {hour} (Beijing time) has not ended yet (now {now}): monitoring data "
                 "for hours that have not happened are refused").format(hour=m.group(1),
                                                                        now=m.group(2))
    return _("Hour {hour} (Beijing time) has not ended yet: monitoring data for hours that "
             "have not happened are refused").format(hour=m.group(1))
