"""Second-officer approvals in words: what each request asks (enterprise, permit, pollutant,
year, quantity in tonnes, before → after), who asked and when (Beijing time), and its
outcome, for every kind of approvable action. Never raw JSON, never fen or kg codes.

A request's figures come from its preview (the dry run's outcome kept when it was made, see
`web.approvals.request_or_run`), else from its payload (requests made before previews were
kept); an executed request's figures from its result. Names of enterprises are read once for
a page (`allocation.bulk_confirmation.names`).

Texts are English msgids translated by `_` and, where a count decides the form, `ngettext`
(Chinese in the gettext catalogue, docs/i18n.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from allocation import bulk_confirmation as bulk
from kernel.beijing import beijing_time
from kernel.pollutants import Pollutant
from kernel.quantities import kg_to_tonnes, yuan
from web.i18n import plural_translator

Tr = Callable[[str], str]

#: lines of a batch shown in a message (the page lists them all)
MESSAGE_LINES = 5


@dataclass
class Words:
    """A request in words: `text` what it asks, `lines` its items (a batch's permits and
    pollutants, a change's quantities), `outcome` what came of it (None while pending)."""

    text: str
    lines: list[str] = field(default_factory=list)
    outcome: str | None = None


@dataclass
class Names:
    permits: dict[str, str] = field(default_factory=dict)
    enterprises: dict[str, str] = field(default_factory=dict)


def _t(kg: Any) -> str:
    return "—" if kg is None else f"{kg_to_tonnes(int(kg)):,}"


def _price(fen: Any) -> str:
    return "—" if fen is None else yuan(int(fen))


class Speaker:
    """Builds the words of requests in one language, with the names of one page."""

    def __init__(self, _: Tr, lang: str, names: Names) -> None:
        self._ = _
        self.ngettext = plural_translator(lang)
        self.lang = lang
        self.names = names

    def pollutant(self, code: Any) -> str:
        try:
            p = Pollutant(str(code))
        except ValueError:
            return str(code)
        return p.label_zh if self.lang == "zh" else p.value

    def market(self, market: Any) -> str:
        parts = str(market).split("/")
        if len(parts) != 3:
            return str(market)
        pol, zone, vintage = parts
        return self._("{pollutant}, zone {zone}, vintage {vintage}").format(
            pollutant=self.pollutant(pol), zone=zone, vintage=vintage)

    def permit(self, code: Any) -> str:
        name = self.names.permits.get(str(code))
        if name is None:
            return self._("permit {permit}").format(permit=code)
        return self._("permit {permit} of {enterprise}").format(permit=code, enterprise=name)

    def enterprise(self, code: Any) -> str:
        return self.names.enterprises.get(str(code), str(code))

    def sep(self) -> str:
        return "；" if self.lang == "zh" else "; "

    # what is asked ---------------------------------------------------------------------------

    def asked(self, a: Mapping[str, Any]) -> Words:
        _ = self._
        p: dict[str, Any] = dict(a.get("payload") or {})
        pre: dict[str, Any] = dict(a.get("preview") or {})
        action = a.get("action")
        if a.get("status") == "executed":
            done = _result(a)
            if isinstance(done, dict):
                pre = done
        if action == "confirm_rights":
            return self._confirm(p, pre)
        if action == "confirm_permits":
            return self._batch(p, pre)
        if action == "permit_change":
            lines = [_("{pollutant} {year}: {old} t → {new} t").format(
                pollutant=self.pollutant(m["pollutant"]), year=m["year"],
                old=_t(m.get("old_kg")), new=_t(m.get("new_kg")))
                for m in pre.get("moves", [])] or [
                _("{pollutant} {year}: → {new} t").format(
                    pollutant=self.pollutant(q.get("pollutant")), year=q.get("year"),
                    new=_t(q.get("qty_kg"))) for q in p.get("quantities", [])]
            text = _("change the permitted quantities of {permit}; reason: {reason}").format(
                permit=self.permit(p.get("permit")), reason=p.get("reason", ""))
            return Words(text, lines)
        if action == "end_permit":
            verb = (_("revoke {permit}") if p.get("step") == "revocation"
                    else _("cancel {permit}")).format(permit=self.permit(p.get("permit")))
            text = _("{what} from {on}: rights of the later years return to the reserve; "
                     "reason: {reason}").format(what=verb, on=p.get("on") or _("today"),
                                                reason=p.get("reason", ""))
            lines = [_("{pollutant} {year}: {t} t recovered").format(
                pollutant=self.pollutant(r["pollutant"]), year=r["year"], t=_t(r["qty_kg"]))
                for r in pre.get("recovered", [])]
            return Words(text, lines)
        if action == "open_auction":
            if pre.get("market"):
                return Words(_("open auction {id}: {t} t of {market} offered at a reserve "
                               "price of {price} yuan/t; the offered rights are held in the "
                               "reserve while it runs").format(
                    id=p.get("auction"), t=_t(pre.get("offered")),
                    market=self.market(pre["market"]), price=_price(pre.get("reserve_price"))))
            return Words(_("open auction {id}").format(id=p.get("auction")))
        if action == "schedule_auction":
            what = (_("{t} t of {market} offered at a reserve price of {price} yuan/t")
                    .format(t=_t(pre.get("offered")), market=self.market(pre["market"]),
                            price=_price(pre.get("reserve_price")))
                    if pre.get("market") else "")
            text = _("schedule auction {id}: announced {announce}, opens {open}, closes "
                     "{close} (Beijing time)").format(
                id=p.get("auction"), announce=beijing_time(p.get("announce_at")) or "—",
                open=beijing_time(p.get("open_at")) or "—",
                close=beijing_time(p.get("close_at")) or _("by hand"))
            return Words(f"{text}{self.sep()}{what}" if what else text)
        if action == "create_reserve_listing":
            return Words(_("list {t} t of reserve rights ({market}) at {price} yuan/t").format(
                t=_t(p.get("qty")), market=self.market(p.get("market")),
                price=_price(p.get("price"))))
        if action == "approve_transfer":
            if pre.get("market"):
                return Words(_("approve negotiated transfer {id}: {t} t of {market} from "
                               "{seller} to {buyer} at {price} yuan/t").format(
                    id=p.get("transfer"), t=_t(pre.get("qty")),
                    market=self.market(pre["market"]), seller=self.enterprise(pre["seller"]),
                    buyer=self.enterprise(pre["buyer"]), price=_price(pre.get("price"))))
            return Words(_("approve negotiated transfer {id}").format(id=p.get("transfer")))
        if action == "release_reserve_plan":
            if pre.get("released_kg") is not None:
                return Words(_("release reserve plan #{plan}: {t} t from the reserve into the "
                               "permits' confirmed rights").format(
                    plan=p.get("plan"), t=_t(pre["released_kg"])))
            return Words(_("release reserve plan #{plan} into the permits' confirmed "
                           "rights").format(plan=p.get("plan")))
        if action == "decide_standard_flag":
            return self._flag(p, pre)
        if action == "ledger_transfers":
            ts = list(p.get("transfers") or [])
            kinds = sorted({_(str(t.get("type"))) for t in ts if t.get("type")})
            ngettext = self.ngettext
            return Words(ngettext("post {n} ledger transfer in one linked batch ({kinds})",
                                  "post {n} ledger transfers in one linked batch ({kinds})",
                                  len(ts)).format(
                n=len(ts), kinds="、".join(kinds) if self.lang == "zh" else ", ".join(kinds)))
        if action == "reverse_transfer":
            amount = p.get("amount") or 0
            return Words((_("reverse ledger transfer {id} in full") if not amount else
                          _("reverse {amount} units of ledger transfer {id}")).format(
                id=p.get("transfer_id"), amount=f"{int(amount):,}"))
        if action == "set_approval_policy":
            kind = _(str(p.get("tx_type")))
            return Words((_("require a second officer for {kind}") if p.get("required") else
                          _("stop requiring a second officer for {kind}")).format(kind=kind))
        return Words(_("{kind} of {target}").format(kind=_(str(a.get("tx_type"))),
                                                    target=a.get("target")))

    def _confirm(self, p: Mapping[str, Any], pre: Mapping[str, Any]) -> Words:
        _ = self._
        qty = pre.get("qty_kg", p.get("qty_kg"))
        fmt = dict(pollutant=self.pollutant(p.get("pollutant")), year=p.get("year"),
                   permit=self.permit(p.get("permit")), t=_t(qty),
                   before=_t(pre.get("permitted_before_kg")),
                   after=_t(pre.get("permitted_after_kg")))
        if qty is None:
            return Words(_("confirm the unconfirmed rest of the {year} {pollutant} permitted "
                           "quantity on {permit}").format(**fmt))
        text = _("confirm {t} t of {year} {pollutant} rights on {permit}").format(**fmt)
        if pre.get("permitted_after_kg") is not None:
            text += self.sep() + _("permitted quantity {before} t → {after} t").format(**fmt)
        return Words(text)

    def _batch(self, p: Mapping[str, Any], pre: Mapping[str, Any]) -> Words:
        _, ngettext = self._, self.ngettext
        items = list(pre.get("items") or [])
        permits = list(p.get("permits") or [])
        lines = [_("{enterprise} ({permit}): {pollutant} {t} t, permitted quantity "
                   "{before} t → {after} t").format(
            enterprise=i.get("enterprise_name") or self.names.permits.get(i["permit"], ""),
            permit=i["permit"], pollutant=self.pollutant(i["pollutant"]), t=_t(i["qty_kg"]),
            before=_t(i.get("permitted_before_kg")), after=_t(i.get("permitted_after_kg")))
            for i in items]
        if items:
            text = ngettext("confirm every waiting pollutant of {n} permit for {year} in one "
                            "batch: {count} confirmations, {t} t in all",
                            "confirm every waiting pollutant of {n} permits for {year} in one "
                            "batch: {count} confirmations, {t} t in all",
                            len(permits)).format(
                n=len(permits), year=p.get("year"), count=len(items),
                t=_t(sum(int(i["qty_kg"]) for i in items)))
        else:
            text = ngettext("confirm every waiting pollutant of {n} permit for {year} in one "
                            "batch",
                            "confirm every waiting pollutant of {n} permits for {year} in one "
                            "batch", len(permits)).format(n=len(permits), year=p.get("year"))
            lines = [self.permit(c) for c in permits]
        return Words(text, lines)

    def _flag(self, p: Mapping[str, Any], pre: Mapping[str, Any]) -> Words:
        _ = self._
        fmt = dict(flag=p.get("flag"), permit=self.permit(pre.get("permit", "")),
                   pollutant=self.pollutant(pre.get("pollutant")), year=pre.get("year"),
                   t=_t(pre.get("moved_kg", pre.get("recovery_kg"))),
                   price=_price(p.get("price")), after=_t(pre.get("permitted_after_kg")))
        if not pre:
            return Words(_("decide standard change flag #{flag}").format(**fmt))
        if p.get("decision") == "recover":
            text = _("recover {t} t of {year} {pollutant} rights from {permit} to the reserve "
                     "(standard change flag #{flag}); permitted quantity after: {after} t")
        else:
            text = _("buy back {t} t of {year} {pollutant} rights from {permit} at {price} "
                     "yuan/t (standard change flag #{flag}); permitted quantity after: "
                     "{after} t")
        return Words(text.format(**fmt))

    # who, when and the outcome ------------------------------------------------------------

    def sentence(self, a: Mapping[str, Any], w: Words) -> str:
        return self._("{who} asked on {when} (Beijing time): {what}").format(
            who=a.get("requested_by"), when=beijing_time(a.get("requested_at")), what=w.text)

    def outcome(self, a: Mapping[str, Any]) -> str | None:
        _ = self._
        status = a.get("status")
        who, when = a.get("decided_by") or "", beijing_time(a.get("decided_at"))
        if status == "executed":
            return _("approved by {who} on {when} and carried out").format(who=who, when=when)
        if status == "failed":
            reason = str(a.get("result") or "")
            reason = reason.split(": ", 1)[1] if ": " in reason else reason
            return _("approved by {who} on {when} but not carried out: {reason}").format(
                who=who, when=when, reason=reason)
        if status == "rejected":
            if who == a.get("requested_by"):
                return _("withdrawn by {who} on {when}").format(who=who, when=when)
            return _("rejected by {who} on {when}: {reason}").format(
                who=who, when=when, reason=a.get("result") or "")
        if status == "executing":
            return _("approved by {who} on {when}, being carried out").format(who=who,
                                                                             when=when)
        return None

    def words(self, a: Mapping[str, Any]) -> Words:
        w = self.asked(a)
        w.text = self.sentence(a, w)
        w.outcome = self.outcome(a)
        return w

    def message(self, a: Mapping[str, Any]) -> str:
        """The notice after a decision: the request, its outcome, a few of its lines."""
        w = self.asked(a)
        out = self._("Approval #{id}: {what}").format(id=a.get("id"), what=w.text)
        out += f"{self.sep()}{self.outcome(a) or ''}"
        if w.lines:
            shown = self.sep().join(w.lines[:MESSAGE_LINES])
            more = (self._(" and {n} more").format(n=len(w.lines) - MESSAGE_LINES)
                    if len(w.lines) > MESSAGE_LINES else "")
            out += f"{self.sep()}{shown}{more}"
        return out


def _result(a: Mapping[str, Any]) -> Any:
    try:
        return json.loads(str(a.get("result") or ""))
    except ValueError:
        return None


def _codes(items: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    permits: set[str] = set()
    enterprises: set[str] = set()
    for a in items:
        docs = [a.get("payload") or {}, a.get("preview") or {}]
        if a.get("status") == "executed" and isinstance(_result(a), dict):
            docs.append(_result(a))
        for d in docs:
            for key in ("permit", "seller_permit", "buyer_permit"):
                if d.get(key):
                    permits.add(str(d[key]))
            if isinstance(d.get("permits"), list):
                permits.update(str(c) for c in d["permits"])
            for key in ("seller", "buyer", "enterprise"):
                if d.get(key):
                    enterprises.add(str(d[key]))
    return permits, enterprises


def speaker(platform: Any, items: Iterable[Mapping[str, Any]], _: Tr, lang: str) -> Speaker:
    """A speaker with the enterprise names `items` mention, read once."""
    permits, enterprises = _codes(items)
    by_permit, by_enterprise = bulk.names(platform.read_uow(), permits=sorted(permits),
                                          enterprises=sorted(enterprises))
    return Speaker(_, lang, Names(by_permit, by_enterprise))


# pages -------------------------------------------------------------------------------------

def _lang(request: Any) -> tuple[Tr, str]:
    from web.i18n import translator
    from web.pages.render import lang_of

    lang = lang_of(request)
    return translator(lang), lang


def for_page(request: Any, platform: Any, user: Any, items: list[dict[str, Any]]
             ) -> dict[int, dict[str, Any]]:
    """Per request id: its words (text, lines, outcome) and whether `user` may decide it
    (pending, in its scope; approving also needs someone other than the requester)."""
    from web.approvals import in_scope

    _, lang = _lang(request)
    s = speaker(platform, items, _, lang)
    out: dict[int, dict[str, Any]] = {}
    for a in items:
        w = s.words(a)
        pending = a.get("status") == "pending"
        mine = a.get("requested_by") == user.username
        scoped = in_scope(platform, user, a) if pending else False
        out[int(a["id"])] = dict(text=w.text, lines=w.lines, outcome=w.outcome,
                                 approve=pending and scoped and not mine,
                                 reject=pending and scoped, withdraw=mine)
    return out


def decision_message(request: Any, platform: Any, a: dict[str, Any]) -> str:
    """The notice after approving or rejecting request `a` (its state after the decision)."""
    _, lang = _lang(request)
    return speaker(platform, [a], _, lang).message(a)


def request_message(request: Any, platform: Any, a: dict[str, Any]) -> str:
    """The notice after filing request `a`: what now waits for a second officer."""
    _, lang = _lang(request)
    s = speaker(platform, [a], _, lang)
    w = s.asked(a)
    return _("Approval #{id} waits for a second officer: {what}").format(id=a.get("id"),
                                                                         what=w.text)


def done_message(request: Any, platform: Any, action: str, payload: dict[str, Any],
                 result: dict[str, Any]) -> str:
    """The notice after an approvable action ran at once (no second officer needed)."""
    _, lang = _lang(request)
    a = dict(action=action, payload=payload, preview=result, status="done")
    s = speaker(platform, [a], _, lang)
    w = s.asked(a)
    out = _("Done: {what}").format(what=w.text)
    if w.lines:
        shown = s.sep().join(w.lines[:MESSAGE_LINES])
        more = (_(" and {n} more").format(n=len(w.lines) - MESSAGE_LINES)
                if len(w.lines) > MESSAGE_LINES else "")
        out += f"{s.sep()}{shown}{more}"
    return out
