"""The table of transaction types: the one place that says what each type may do.

For each type: the (debit kind, credit kind) pairs it may move between, who may initiate it,
whether it needs a second officer's approval (enforced by the web layer's approval workflow),
and whether and for how long it can be reversed. Surrender and cancellation accounts appear
only on the credit side of any pair: units surrendered or cancelled never move again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    ISSUANCE = "issuance"          # per zone, pollutant, vintage (and the bank gateway for CNY)
    RESERVE = "reserve"            # bureau reserve
    CONFIRMED = "confirmed"        # enterprise confirmed, permit-backed; upper limit = cap
    TRADABLE = "tradable"          # enterprise verified surplus
    CASH = "cash"                  # enterprise (or bureau) money
    SETTLEMENT = "settlement"      # escrow of holds and settlement in flight
    FEES = "fees"
    SURRENDER = "surrender"
    CANCELLATION = "cancellation"


#: kinds whose balance may go negative: they are where supply enters the ledger.
SOURCE_KINDS = frozenset({AccountKind.ISSUANCE})


class Initiator(StrEnum):
    BUREAU = "bureau"
    ENTERPRISE = "enterprise"
    SYSTEM = "system"  # the trading engine, expiry sweeps


@dataclass(frozen=True, slots=True)
class TransactionType:
    name: str
    pairs: frozenset[tuple[AccountKind, AccountKind]]
    initiators: frozenset[Initiator]
    needs_approval: bool
    reversible_days: int | None  # None: never reversible
    description: str
    #: when the bureau initiates it, it may move out of or into a frozen account (recovery,
    #: and the reversals that correct what a freeze was for)
    passes_freeze: bool = False


K = AccountKind
B, E, S = Initiator.BUREAU, Initiator.ENTERPRISE, Initiator.SYSTEM


def _t(name: str, pairs: set[tuple[AccountKind, AccountKind]], initiators: set[Initiator],
       needs_approval: bool, reversible_days: int | None, description: str,
       passes_freeze: bool = False) -> TransactionType:
    return TransactionType(name, frozenset(pairs), frozenset(initiators), needs_approval,
                           reversible_days, description, passes_freeze)


TYPES: dict[str, TransactionType] = {t.name: t for t in [
    _t("issuance", {(K.ISSUANCE, K.RESERVE)}, {B}, True, None,
       "supply enters: the total-control indicator is issued into the bureau reserve"),
    _t("confirmation", {(K.RESERVE, K.CONFIRMED)}, {B}, True, 30,
       "rights confirmation (确权) against a permit, never above its cap"),
    _t("verification", {(K.CONFIRMED, K.TRADABLE)}, {B}, False, 30,
       "verified surplus from a reduction becomes tradable"),
    _t("transfer", {
        (K.TRADABLE, K.CONFIRMED), (K.CASH, K.CASH),
        (K.TRADABLE, K.SETTLEMENT), (K.SETTLEMENT, K.CONFIRMED),
        (K.CASH, K.SETTLEMENT), (K.SETTLEMENT, K.CASH), (K.SETTLEMENT, K.FEES),
        (K.RESERVE, K.SETTLEMENT),
    }, {E, S, B}, False, None, "trade settlement and holds"),
    _t("reserve_buyback", {(K.TRADABLE, K.RESERVE), (K.CASH, K.CASH)}, {B}, True, None,
       "the bureau buys rights back into the reserve"),
    _t("reserve_release", {(K.RESERVE, K.CONFIRMED), (K.SETTLEMENT, K.CONFIRMED),
                           (K.SETTLEMENT, K.CASH)},
       {B, S}, True, None, "reserve rights released by auction, listing or transfer"),
    _t("recovery", {(K.CONFIRMED, K.RESERVE), (K.TRADABLE, K.RESERVE)}, {B}, True, None,
       "rights recovered on closure, bankruptcy or relocation", passes_freeze=True),
    _t("surrender", {(K.CONFIRMED, K.SURRENDER)}, {B, S}, False, None,
       "compliance true-up: rights equal to actual emissions are surrendered"),
    _t("cancellation", {(K.CONFIRMED, K.CANCELLATION), (K.TRADABLE, K.CANCELLATION),
                        (K.RESERVE, K.CANCELLATION)}, {B}, True, None,
       "supply leaves: rights are cancelled"),
    # money moved by a person's hand needs a second officer like rights do (issue 19)
    _t("deposit", {(K.ISSUANCE, K.CASH)}, {B, S}, True, None,
       "money enters from the settlement bank"),
    _t("withdrawal", {(K.CASH, K.ISSUANCE)}, {B, S}, True, None,
       "money leaves to the settlement bank"),
    # pairs: the reversed transfer's pair, mirrored (checked against the original, not here)
    _t("reversal", set(), {B}, True, None,
       "a new transaction that reverses a finished one inside the original type's window",
       passes_freeze=True),
]}


def allowed(type_name: str, debit: AccountKind, credit: AccountKind) -> bool:
    t = TYPES[type_name]
    return (debit, credit) in t.pairs
