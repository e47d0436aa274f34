"""One message catalogue: what a person reads when a request is refused, and after a post.

Every error `code` (the `DomainError` subclasses of `kernel/errors.py` and each context's
`errors.py`, the order book's reject codes, and the web layer's own) has an English message
here (`MESSAGES`), and its Chinese in the gettext catalogue
(web/translations/zh/LC_MESSAGES/messages.po, docs/i18n.md): the English is the msgid, marked
with `N_()` so that Babel's extraction (`python -m web.catalogue check`) fails on a message
without Chinese. The API keeps the error's `code` and its English `detail`; pages show
`error_text(exc)` in the page's language (the `erts_lang` cookie of the current request).

Where the rule is about numbers, the message gives them in the user's units: quantities in
tonnes (the ledger's kg / 1000, three decimals), money in yuan, prices in yuan per tonne (the
ledger's fen / 100), never fen. The numbers come from the error's `details` (keyword
arguments of the raise) or, where the raise only wrote them into its English message, from
that message by a pattern below. Named values take their unit from their suffix: `*_kg` →
tonnes, `*_fen` → yuan, `*_fen_t` → yuan per tonne. Placeholders are named, `{tonnes}`
(str.format), in the English and the Chinese alike.

`confirm(text, **values)` is the confirmation after a successful post: `text` is the English
(a msgid of `CONFIRMATIONS`), the .po its Chinese; `values` are formatted by the same suffix
rule. No Chinese is kept in this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup

from identity.errors import InvalidCredentials, TooManyAttempts
from kernel.beijing import beijing_time
from kernel.errors import DomainError
from kernel.quantities import kg_to_tonnes, yuan
from web.i18n import N_, translator
from web.labels import label

#: code → the English message when no number is known (the msgid; Chinese in the .po)
MESSAGES: dict[str, str] = {
    # kernel and the web layer
    "rejected": N_("The request was refused."),
    "not_found": N_("Nothing was found at this address."),
    "invalid_input": N_("Some input is not valid; check it and submit again."),
    "not_text": N_("The file is not UTF-8 text (perhaps a binary file); check its format."),
    "conflict": N_("This conflicts with the current state; reload and try again."),
    "forbidden": N_("You are not allowed to do this."),
    "csrf_failed": N_("The form has expired; reload the page and submit again."),
    "method_not_allowed": N_("This address does not accept this method."),
    "body_too_large": N_("What was sent is too large."),
    "unsupported_media_type": N_("This format of request is not supported."),
    "http_error": N_("The request could not be handled."),
    "database_unavailable": N_("The database is not available; try again shortly."),
    "internal_error": N_("Internal error."),
    "matcher_unavailable": N_("The matching engine is not available; try again shortly."),
    "idempotency_key_reused": N_("This idempotency key was used for another request."),
    "domain_route_required": N_("This kind of move goes through its own use case."),
    "amount_above_limit": N_("The amount is above the limit of one move."),
    "approval_needs_linked_batch": N_("A move that needs approval must be one linked batch."),
    "demo_already_loaded": N_("The database holds other data; the demo cannot be loaded."),
    # identity
    "not_authenticated": N_("Please log in."),
    "session_expired": N_("Your session has expired; please log in again."),
    "invalid_credentials": N_("Wrong username or password."),
    "too_many_attempts": N_("Too many failed log-ins; try again later."),
    "wrong_password": N_("The current password is wrong."),
    "password_rejected": N_("The new password breaks a rule (length, unchanged, or the two "
                            "entries differ)."),
    "unknown_role": N_("Unknown role."),
    "unknown_department": N_("Unknown department."),
    "unknown_district": N_("Unknown district."),
    "scope_not_for_role": N_("This role cannot have this scope."),
    "user_exists": N_("This username is taken."),
    "user_not_found": N_("No such user."),
    "token_not_found": N_("No such token."),
    "approval_not_found": N_("No such approval request."),
    "approval_not_pending": N_("This approval request has been decided already."),
    "self_approval": N_("You cannot approve your own request; another officer must."),
    "unknown_transaction_type": N_("Unknown transaction type."),
    "enterprise_not_found": N_("No such enterprise."),
    "permit_not_found": N_("No such permit."),
    # ledger
    "ledger_rejected": N_("The ledger refused this move."),
    "account_not_found": N_("No such account."),
    "asset_mismatch": N_("The two accounts hold different assets."),
    "same_account": N_("The two accounts are the same."),
    "non_positive_amount": N_("The amount must be above zero."),
    "account_kind_not_allowed": N_("This transaction type cannot move between these accounts."),
    "initiator_not_allowed": N_("You may not initiate this transaction type."),
    "insufficient_balance": N_("The balance is not enough."),
    "over_limit": N_("This would take the account above its limit."),
    "account_frozen": N_("The account is frozen."),
    "account_closed_to_debits": N_("The account is closed to debits."),
    "pending_not_found": N_("No such hold."),
    "pending_voided": N_("This hold was voided."),
    "pending_expired": N_("This hold has expired."),
    "pending_already_posted": N_("This hold was posted already."),
    "post_exceeds_pending": N_("The posted amount is above the hold."),
    "id_conflict": N_("This id was used for another move."),
    "batch_too_large": N_("Too many moves in one batch."),
    "linked_event_failed": N_("Another move of the batch failed; nothing was done."),
    "pending_not_timed_out": N_("This hold has not timed out yet."),
    "transfer_not_found": N_("No such transfer."),
    "not_reversible": N_("This transfer cannot be reversed."),
    "reversal_window_closed": N_("The time to reverse this transfer is over."),
    "already_reversed": N_("This transfer was reversed already."),
    "reversal_exceeds_original": N_("The reversal is larger than the original."),
    "account_already_frozen": N_("The account is frozen already."),
    "account_not_frozen": N_("The account is not frozen."),
    "discrepancy_unresolved": N_("A reconciliation discrepancy is unresolved; the account stays "
                                 "frozen."),
    "bad_time_range": N_("The time range is not valid."),
    # the ledger's transparency log (issue 16)
    "ledger_leaf_not_found": N_("The ledger log has no such leaf."),
    "tree_size_out_of_range": N_("The tree size is outside the ledger log."),
    "consistency_range_invalid": N_("The range of the consistency proof is not valid."),
    "checkpoint_file_invalid": N_("The checkpoint file is not valid."),
    "checkpoint_signature_invalid": N_("A checkpoint's signature does not verify."),
    "checkpoint_key_mismatch": N_("The checkpoint's key does not match."),
    "ledger_signing_key_missing": N_("No ledger signing key is set."),
    "ledger_signing_key_invalid": N_("The ledger signing key is not valid."),
    # trading
    "trading_rejected": N_("The trading request was refused."),
    "bad_replay_input": N_("The replay input is not valid."),
    "bad_auction_input": N_("The auction's input is not valid."),
    "auction_not_found": N_("No such auction."),
    "auction_wrong_state": N_("The auction is not in a state that allows this."),
    "reserve_below_base_price": N_("The reserve price may not be below the pollutant's base "
                                   "price."),
    "insufficient_reserve": N_("The bureau reserve does not hold enough."),
    "listing_not_found": N_("No such listing."),
    "listing_not_open": N_("This listing is not open."),
    "listing_qty_exceeded": N_("The quantity is above what the listing has left."),
    "transfer_wrong_state": N_("The transfer is not in a state that allows this."),
    "transfer_expired": N_("The transfer has expired."),
    "market_not_found": N_("No such market."),
    "market_halted": N_("This market is halted."),
    "market_closed": N_("This market is closed."),
    "insufficient_tradable_rights": N_("Not enough tradable rights."),
    "insufficient_cash": N_("Not enough cash available."),
    "cap_headroom_exceeded": N_("Buying this quantity would take the permit above its cap."),
    "order_not_found": N_("No such order."),
    "order_not_live": N_("This order is no longer live."),
    "not_live": N_("This order is no longer live."),
    "duplicate_order_id": N_("This order id was used already."),
    "order_value_too_large": N_("The order's value is too large."),
    "client_id_not_allowed": N_("An order id of your own is not allowed here."),
    "protective_price_required": N_("A market order needs a protective price."),
    "bought_today_not_resellable": N_("Rights bought today cannot be sold today."),
    "self_dealing": N_("An enterprise cannot trade with itself."),
    "invalid_qty": N_("The quantity must be a positive whole number."),
    "below_min_lot": N_("The quantity must be a whole number of lots."),
    "invalid_price": N_("The price must be above zero."),
    "off_tick": N_("The price must be a multiple of the tick."),
    "price_limit": N_("The price is outside today's price limits."),
    "invalid_order": N_("The order is not valid."),
    "auction_schedule_invalid": N_("The schedule must be announce ≤ open < close and cannot "
                                   "change a step already taken."),
    "bid_below_reserve": N_("The bid is below the auction's reserve price."),
    "bid_not_found": N_("No such bid."),
    "bid_not_open": N_("The bid was withdrawn, replaced or decided; it can no longer change."),
    "bidding_closed": N_("The auction has closed; no more bids or changes."),
    "market_already_in_state": N_("The market is in this state already."),
    "reason_required": N_("Halting, resuming or closing a market must say why."),
    "trade_not_found": N_("No such trade."),
    # allocation
    "bad_sheet": N_("The sheet is not valid."),
    "unknown_parameter_version": N_("Unknown parameter version."),
    "bad_apportionment": N_("The apportionment's input is not valid."),
    "bad_reserve_problem": N_("The reserve plan's input is not valid."),
    "bad_scenario": N_("The scenario's input is not valid."),
    "scenario_not_found": N_("No such scenario."),
    "scenario_run_not_found": N_("No such scenario run."),
    "computation_not_found": N_("No such computation."),
    "standard_not_found": N_("No such standard."),
    "reserve_plan_not_found": N_("No such reserve plan."),
    "name_taken": N_("This name is taken."),
    "plan_not_releasable": N_("This plan cannot be released now."),
    "standard_already_applied": N_("This standard has been applied already."),
    "nothing_to_compute": N_("There is nothing to compute."),
    "standard_flag_not_found": N_("No such standard flag."),
    "flag_not_held_back": N_("This flag is not held back."),
    "flag_already_decided": N_("This flag has been decided already."),
    "bad_recovery_decision": N_("The recovery decision is not valid."),
    "rights_by_purchase_only": N_("New and expanded units obtain rights by purchase only."),
    "bill_not_found": N_("No such bill."),
    "bill_not_payable": N_("This bill cannot be paid now."),
    "paid_use_unpaid": N_("The paid-use fee is not paid yet."),
    "bad_plan_price": N_("The plan's price is not valid."),
    "plan_price_below_base": N_("The price may not be below the base price."),
    "bad_unit_kind": N_("The unit kind is not valid."),
    "indicator_already_issued": N_("This indicator has been issued already."),
    "indicator_not_found": N_("No such indicator."),
    "permit_not_awaiting_confirmation": N_("The permit has nothing waiting for confirmation this "
                                           "year."),
    "confirmation_batch_changed": N_("What waits for confirmation on the permit changed since the"
                                     " request; submit it again."),
    "confirmation_above_cap": N_("The confirmation would go above the permit's cap."),
    "permitted_quantity_not_found": N_("The permit has no permitted quantity for this pollutant "
                                       "and year."),
    "permit_cancelled": N_("The permit is cancelled."),
    "permit_expired": N_("The permit has expired."),
    "permit_import_not_found": N_("No such permit import."),
    "permit_not_active": N_("The permit is not active."),
    "permit_not_valid": N_("The permit is not valid at this time."),
    "permit_revoked": N_("The permit is revoked."),
    "permit_term_too_long": N_("The permit's term is too long."),
    "renewal_after_expiry": N_("A permit cannot be renewed after it expired."),
    "year_outside_permit": N_("The year is outside the permit's validity."),
    "zone_mismatch": N_("The trading zones do not match."),
    "bad_permit_file": N_("The permit file is not valid."),
    "bad_permit_step": N_("The permit change is not valid."),
    "bad_workbook": N_("The workbook is not valid."),
    # compliance
    "bad_report": N_("The execution report is not valid."),
    "report_import_rejected": N_("The report import was refused; nothing was imported."),
    "duplicate_report": N_("A report for this period was submitted already."),
    "outlet_exists": N_("This outlet is registered already."),
    "outlet_not_found": N_("No such outlet."),
    "report_not_found": N_("No such report."),
    "true_up_already_run": N_("The true-up of this year was run already."),
    "true_up_too_early": N_("The year is not over; the true-up cannot run yet."),
    "tax_rate_out_of_bounds": N_("The tax rate is outside the legal range."),
    "pollutant_not_taxable": N_("This pollutant is not taxable."),
    "monitoring_import_rejected": N_("The monitoring import was refused; nothing was imported."),
    "duplicate_monitoring_import": N_("This file was imported already."),
    "bad_monitoring_query": N_("The monitoring query is not valid."),
    "monitoring_import_too_large": N_("The monitoring file is too large."),
    "monitoring_source_not_allowed": N_("You may not import monitoring data of this source."),
    "monitoring_import_not_found": N_("No such monitoring import."),
    "monitoring_import_voided": N_("This monitoring import was voided."),
    "clue_unknown_permit": N_("The clue names an unknown permit."),
    "clue_not_found": N_("No such clue."),
    "clue_transition_refused": N_("The clue is not in a state that allows this."),
    "clue_action_not_allowed": N_("You may not do this to the clue."),
    "clue_already_confirmed": N_("This clue was confirmed already."),
    "bad_clue": N_("The clue is not valid."),
    "bad_alert": N_("The alert is not valid."),
    "alert_not_found": N_("No such alert."),
    "alert_not_active": N_("This alert is not active."),
    "bad_penalty_decision": N_("The penalty decision is not valid."),
    "penalty_out_of_range": N_("The fine is outside the legal range."),
    "duplicate_decision_number": N_("This decision number is used already."),
    "violation_not_found": N_("No such violation."),
    "violation_not_open": N_("This violation is not open."),
    "penalty_decision_not_found": N_("No such penalty decision."),
    "penalty_decision_withdrawn": N_("This penalty decision was withdrawn."),
    "unknown_violation_kind": N_("Unknown kind of violation."),
    "bad_violation": N_("The violation is not valid."),
    "violation_step_refused": N_("The violation is not in a state that allows this."),
    "bad_emergency_measure": N_("The emergency measure is not valid."),
    "emergency_permit_not_found": N_("The permit has no emergency measures."),
    "bad_tax_input": N_("The tax input is not valid."),
    "unknown_tax_pollutant": N_("Unknown taxable pollutant."),
    "unknown_source_kind": N_("Unknown source kind."),
    "month_outside_quarter": N_("The month is outside the quarter."),
    "bad_penalty_case": N_("The penalty case is not valid."),
    "penalty_case_not_found": N_("No such penalty case."),
    "penalty_step_refused": N_("The penalty procedure is not at a step that allows this."),
    "penalty_period_over": N_("The legal period is over."),
    "penalty_period_open": N_("The legal period is still running."),
    "penalty_heavier_than_notice": N_("The decision may not be heavier than the advance notice."),
    "penalty_procedure_open": N_("The penalty procedure is still open."),
    "penalty_hearing_notice_too_short": N_("The hearing must be notified at least 7 working days "
                                           "before it is held."),
}


class _Pairs(Mapping[str, tuple[str, str]]):
    """code → (Chinese, English) of `MESSAGES`, the Chinese read from the catalogue (a text
    without Chinese in the .po gives its English twice)."""

    def __getitem__(self, code: str) -> tuple[str, str]:
        en = MESSAGES[code]
        return translator("zh")(en), en

    def __iter__(self) -> Iterator[str]:
        return iter(MESSAGES)

    def __len__(self) -> int:
        return len(MESSAGES)


#: code → (Chinese, English): a read-only view of `MESSAGES` in both languages
ERRORS: Mapping[str, tuple[str, str]] = _Pairs()

#: codes whose English detail names the line, column or field that is wrong (a file or a
#: document): the page shows it after the message, since the message alone cannot
DETAILED = frozenset({
    "bad_report", "report_import_rejected", "monitoring_import_rejected", "bad_sheet",
    "bad_workbook", "bad_permit_file", "bad_replay_input", "bad_auction_input",
    "bad_scenario", "bad_reserve_problem", "bad_apportionment", "bad_tax_input",
    "invalid_input", "bad_penalty_decision", "bad_violation", "bad_clue", "bad_alert",
    "bad_emergency_measure", "bad_permit_step", "bad_penalty_case",
})


@dataclass(frozen=True)
class Pattern:
    """Numbers an error wrote into its English message; `text` (a msgid, Chinese in the .po)
    gives them in the user's units."""

    regex: re.Pattern[str]
    text: str


def _p(regex: str, text: str) -> Pattern:
    return Pattern(re.compile(regex), text)


PATTERNS: dict[str, list[Pattern]] = {
    "price_limit": [_p(r"price (?P<price_fen_t>\d+) is outside \[(?P<lo_fen_t>\d+), "
                       r"(?P<hi_fen_t>\d+)\]",
                       N_("The price {price} yuan/t is outside today's limits "
                          "({lo}–{hi} yuan/t)."))],
    "off_tick": [_p(r"price (?P<price_fen_t>\d+) is not a multiple of (?P<tick_fen_t>\d+)",
                    N_("The price {price} yuan/t is not a multiple of the tick, {tick} "
                       "yuan/t."))],
    "below_min_lot": [_p(r"quantity (?P<qty_kg>\d+) is not a whole number of lots "
                         r"(?:of )?(?P<lot_kg>\d+)",
                         N_("The quantity {qty} t is not a whole number of lots of {lot} t."))],
    "insufficient_tradable_rights": [
        _p(r"(?P<qty_kg>\d+) kg asked, (?P<available_kg>\d+) kg of tradable",
           N_("{qty} t offered, {available} t of tradable rights available."))],
    "bought_today_not_resellable": [
        _p(r"(?P<bought_kg>\d+) kg were bought today.* at most (?P<most_kg>\d+) kg",
           N_("{bought} t were bought today and cannot be sold today: at most {most} t may "
              "be offered."))],
    "confirmation_above_cap": [
        _p(r"confirming (?P<qty_kg>\d+) kg would bring (?P<permit>\S+) (?P<pollutant>\S+) "
           r"(?P<year>\d+) to (?P<after_kg>\d+) kg, above its cap of (?P<cap_kg>\d+) kg",
           N_("Confirming {qty} t would bring {permit} {pollutant} {year} to {after} t, above "
              "its cap of {cap} t; headroom left {headroom} t.")),
        _p(r"the permitted (?P<permitted_kg>\d+) kg is already confirmed",
           N_("The permitted {permitted} t are confirmed already."))],
    "insufficient_cash": [
        _p(r"a deposit of (?P<deposit_fen>\d+) fen is needed",
           N_("A deposit of {deposit} yuan is needed; not enough cash is available.")),
        _p(r"bill (?P<bill>\S+) is (?P<amount_fen>\d+) fen; \S+ has (?P<available_fen>\d+) "
           r"fen",
           N_("Bill {bill} is {amount} yuan; {available} yuan of cash is available."))],
    "penalty_out_of_range": [
        _p(r"amount (?P<amount>[\d,]+\.\d\d) yuan",
           N_("The fine of {amount} yuan is outside the legal range ({min}–{max} yuan)."))],
    # the administrative penalty procedure (compliance/enforcement/penalty_procedure.py)
    "penalty_period_over": [
        _p(r"period for a statement ended on (?P<due>\d{4}-\d\d-\d\d)",
           N_("The period for a statement ended on {due}.")),
        _p(r"period for a hearing request ended on (?P<due>\d{4}-\d\d-\d\d)",
           N_("The period for a hearing request ended on {due}."))],
    "penalty_period_open": [
        _p(r"periods run until (?P<due>\d{4}-\d\d-\d\d)",
           N_("The enterprise's periods run until {due}: decide after them."))],
    "penalty_heavier_than_notice": [
        _p(r"the advance notice proposed",
           N_("The decision may not be heavier than the notice's {proposed} yuan; a heavier "
              "penalty needs a new notice."))],
    "penalty_hearing_notice_too_short": [
        _p(r"held on (?P<earliest>\d{4}-\d\d-\d\d) at the earliest",
           N_("The hearing must be notified 7 working days ahead: {earliest} at the "
              "earliest."))],
    "market_halted": [_p(r"market (?P<market>\S+) is halted", N_("Market {market} is halted."))],
    "market_closed": [_p(r"market (?P<market>\S+) is closed", N_("Market {market} is closed."))],
}


def _tonnes(kg: int) -> str:
    return f"{kg_to_tonnes(kg):,}"


def _unit(name: str, value: Any) -> tuple[str, str]:
    """(name without its unit suffix, the value in the user's unit, as text)."""
    text = str(value)
    try:
        n = int(str(value).replace(",", ""))
    except ValueError:
        n = None
    for suffix, fmt in (("_fen_t", yuan), ("_fen", yuan), ("_kg", _tonnes)):
        if name.endswith(suffix):
            return name[: -len(suffix)], fmt(n) if n is not None else text
    return name, text


def _values(exc: DomainError, groups: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in {**exc.details, **groups}.items():
        if v is not None:
            name, text = _unit(k, v)
            out[name] = text
    if {"cap_kg", "after_kg", "qty_kg"} <= groups.keys():  # headroom before this request
        left = int(groups["cap_kg"]) - int(groups["after_kg"]) + int(groups["qty_kg"])
        out["headroom"] = _tonnes(max(left, 0))
    return out


def current_lang() -> str:
    """The language of the request being served (cookie `erts_lang`), Chinese by default."""
    from web.flash import current_request

    request = current_request()
    lang = request.cookies.get("erts_lang", "zh") if request is not None else "zh"
    return "en" if lang == "en" else "zh"


class Message(str):
    """A page's error message that remembers its code: a template shows the message, with
    the code in a `data-code` attribute (for support and tests; people read the message)."""

    code: str = ""

    def wrap(self, before: str, after: str = "") -> Message:
        """The message with text around it, keeping its code."""
        out = Message(before + self + after)
        out.code = self.code
        return out

    def __html__(self) -> str:
        return str(Markup('<span class="msg" data-code="{}">{}</span>').format(
            self.code, str(self)))


def error_text(exc: DomainError, lang: str | None = None) -> Message:
    """What a page shows for a refused request, in `lang` (default: the request's)."""
    out = Message(_error_text(exc, lang or current_lang()))
    out.code = exc.code
    return out


def _error_text(exc: DomainError, lang: str) -> str:
    _ = translator(lang)
    for pattern in PATTERNS.get(exc.code, ()):
        m = pattern.regex.search(exc.message)
        if m is None:
            continue
        try:
            return _(pattern.text).format(**_values(exc, m.groupdict()))
        except (KeyError, ValueError, IndexError):
            break
    retry = getattr(exc, "retry_after", None)
    if exc.code == "too_many_attempts" and retry:
        minutes = max(1, -(-int(retry) // 60))
        return _("Too many failed log-ins; try again in {minutes} min.").format(
            minutes=minutes)
    text = MESSAGES.get(exc.code)
    if text is None:  # a code without a message (the test command fails on one)
        if lang == "en":
            return exc.message
        return _("The request was refused ({code}): {message}").format(
            code=exc.code, message=exc.message)
    if exc.code in DETAILED and exc.message:
        return _("{message} ({detail})").format(message=_(text), detail=exc.message)
    return _(text)


def code_text(code: str, message: str, lang: str | None = None) -> Message:
    """The page message of an error known by its code only (the web layer's own)."""
    exc = DomainError(message)
    exc.code = code
    return error_text(exc, lang)


# ---------------------------------------------------------------------- confirmations

#: every English confirmation (with {placeholders}) that `confirm` is given: msgids of the
#: catalogue, whose Chinese is in the .po (tests/web/test_messages_catalogue.py fails on a
#: `confirm("...")` of web/ that is not here)
CONFIRMATIONS: tuple[str, ...] = (
    N_("Verified {qty} t of surplus as tradable (permit {permit})."),
    N_("Approval policy of {kind}: {required}."),
    N_("a second officer approves"),
    N_("takes effect at once"),
    N_("Token {id} revoked."),
    N_("User {user} created."),
    N_("User {user} activated."),
    N_("User {user} deactivated."),
    N_("Order {order}: {status}, {filled} t filled."),
    N_("Order {order} cancelled."),
    N_("Bid {id} placed: {qty} t at {price} yuan/t."),
    N_("Transfer {id} proposed."),
    N_("Transfer {id} accepted."),
    N_("Listing {id}: took {qty} t ({status})."),
    N_("Auction {id} created."),
    N_("Auction {id}: {status}."),
    N_("Transfer {id}: {status}."),
    N_("Bill {id} paid."),
    N_("Reserve plan #{id}: {status}."),
    N_("Plan {id} released."),
    N_("Scenario #{id} {name} created."),
    N_("Run #{id}: {status}."),
    N_("Emergency measures of {permit} set (grade {grade})."),
    N_("Alert #{id} lifted; last day {day}."),
    N_("Clue #{id} opened."),
    N_("Clue #{id}: {action}."),
    N_("Clue #{id}: rectification recorded."),
    N_("Violation #{id} transferred."),
    N_("Violation #{id}: result recorded."),
    N_("Violation #{id} opened: {kind} ({basis})."),
    N_("Decision {number} corrected."),
    N_("Decision {number} withdrawn."),
    N_("Scope of {user}: {district}, {department}."),
    N_("the city"),
    N_("every department"),
    N_("Alert #{id} declared ({level}, {cut} %): {caps} caps set."),
    N_("{alerts} alerts checked: {breaches} new breaches, {clues} clues opened."),
    N_("True-up of {permit} {year}: {status}, exceedance {over} t, deducted {deducted} t."),
    N_("Permits imported: {new} new, {changed} changed, {same} unchanged."),
    N_("Reserve request #{id}: {qty} t of {pollutant} {year} for {permit}."),
    N_("Flag {id}: {moved} t {status}."),
    N_("Standard #{id} {name}: {flagged} quantities of {permits} permits flagged."),
    N_("Standard {name}: {applied} applied, {held} held back."),
    N_("Auction {id}: a second officer must approve (request #{request})."),
    N_("Transfer {id}: a second officer must approve (request #{request})."),
    N_("Decision {number} published: a fine of {amount} yuan."),
)


def __getattr__(name: str) -> dict[str, str]:
    """`ZH`: English → Chinese of every confirmation, read from the catalogue (a read-only
    view; `confirm` translates through the translator)."""
    if name == "ZH":
        zh = translator("zh")
        return {text: zh(text) for text in CONFIRMATIONS}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def confirm(text: str, lang: str | None = None, **values: Any) -> str:
    """A confirmation after a post, in `lang` (default: the request's): `text` is the
    English with {placeholders} (a msgid of `CONFIRMATIONS`); values named `*_kg`, `*_fen`,
    `*_fen_t` are shown in tonnes, yuan and yuan per tonne under the name without the
    suffix, and a value given as `(kind, code)` shows as its label (web.labels)."""
    lang = lang or current_lang()
    shown = dict(_unit(k, label(v[0], v[1], lang) if isinstance(v, tuple) else v)
                 for k, v in values.items())
    return translator(lang)(text).format(**shown)


# ---------------------------------------------------------------------- log-in refusals


def login_message(exc: InvalidCredentials | TooManyAttempts, lang: str,
                  now: datetime | None = None) -> str:
    """What the log-in page says about a refused attempt, in `lang` ("zh" or "en"); when
    log-in is refused for a while, for how long and until when in Beijing time (rounded up
    to the minute). The texts are msgids of the gettext catalogue."""
    _ = translator(lang)
    secs = exc.retry_after
    if not secs:
        return _("Wrong username or password.")
    wait = (_("{n} s").format(n=secs) if secs < 60
            else _("{n} min").format(n=-(-secs // 60)))
    until = (now or datetime.now(UTC)) + timedelta(seconds=secs)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if isinstance(exc, TooManyAttempts):
        text = _("Too many failed log-in attempts. Please try again in {wait}, after {at} "
                 "(Beijing time).")
    else:
        text = _("Wrong username or password. Too many failed attempts: log-in is refused "
                 "for {wait}; try again after {at} (Beijing time).")
    return text.format(wait=wait, at=beijing_time(until))
