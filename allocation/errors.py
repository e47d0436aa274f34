"""Errors of the allocation context. Each names the broken rule and carries a stable `code`.

All are rejections of the caller's input (`kernel.errors.InvalidInput`): the web layer maps
them to 4xx, the CLI to exit code 2. `field` is a JSON path into the submitted document, e.g.
``outlets[0].fuel`` or ``applicants[3].demand_kg.SO2``.
"""

from __future__ import annotations

from kernel.errors import Conflict, InvalidInput, NotFound


class SheetError(InvalidInput):
    """A calculation sheet cannot be computed: missing, malformed or out-of-range input."""

    code = "bad_sheet"


class UnknownParameterVersion(InvalidInput):
    """No parameter table has the requested version, or none is in force on the date."""

    code = "unknown_parameter_version"


class ApportionmentError(InvalidInput):
    """An apportionment request is malformed (negative weights, duplicate ids, ...)."""

    code = "bad_apportionment"


class ReserveInputError(InvalidInput):
    """A reserve-release problem is malformed."""

    code = "bad_reserve_problem"


class ScenarioError(InvalidInput):
    """A scenario, sweep or standard change is malformed."""

    code = "bad_scenario"


class ScenarioNotFound(NotFound):
    code = "scenario_not_found"


class ScenarioRunNotFound(NotFound):
    code = "scenario_run_not_found"


class ComputationNotFound(NotFound):
    code = "computation_not_found"


class StandardNotFound(NotFound):
    code = "standard_not_found"


class ReservePlanNotFound(NotFound):
    code = "reserve_plan_not_found"


class NameTaken(Conflict):
    """A scenario or standard of that name exists."""

    code = "name_taken"


class PlanNotReleasable(Conflict):
    """The plan was released already, is infeasible, not proven optimal, or superseded."""

    code = "plan_not_releasable"


class StandardAlreadyApplied(Conflict):
    code = "standard_already_applied"


class NothingToCompute(Conflict):
    """No permitted-quantity rows (or no indicator) match the request."""

    code = "nothing_to_compute"


# --- standard-change recovery


class StandardFlagNotFound(NotFound):
    code = "standard_flag_not_found"


class FlagNotHeldBack(Conflict):
    """Only a flag held back (its new cap below the confirmed rights) awaits a decision."""

    code = "flag_not_held_back"


class FlagAlreadyDecided(Conflict):
    """The bureau decides a held-back flag once: its rights were recovered or bought back."""

    code = "flag_already_decided"


class BadRecoveryDecision(InvalidInput):
    """The decision is neither "recover" nor "buy_back", or a buy-back lacks a price of at
    least 0 fen per tonne."""

    code = "bad_recovery_decision"


# --- paid use of rights (有偿使用, issue 17)


class PurchaseOnlyUnit(Conflict):
    """New and expanded units (新建, 改扩建) obtain rights only by purchase (auction,
    listing, negotiated transfer from the reserve or the market), never by confirmation."""

    code = "rights_by_purchase_only"


class BillNotFound(NotFound):
    """No paid-use bill of that id (or not one of the caller's enterprise)."""

    code = "bill_not_found"


class BillNotPayable(Conflict):
    """A cancelled bill is not paid."""

    code = "bill_not_payable"


class InsufficientCash(Conflict):
    """The enterprise's cash account does not cover the bill."""

    code = "insufficient_cash"


class PaidUseUnpaid(Conflict):
    """Rights become tradable only once their paid-use bills are paid."""

    code = "paid_use_unpaid"


class BadPlanPrice(InvalidInput):
    """A reserve plan's price is not a positive whole number of fen per tonne, or names an
    unknown pollutant."""

    code = "bad_plan_price"


class PlanPriceBelowBase(InvalidInput):
    """Reserve sales never clear below the pollutant's published base price."""

    code = "plan_price_below_base"


class BadUnitKind(InvalidInput):
    code = "bad_unit_kind"


class PermitNotAwaitingConfirmation(Conflict):
    """Bulk confirmation: the permit has no permitted quantity waiting for confirmation in
    the year (or its unit obtains rights only by purchase)."""

    code = "permit_not_awaiting_confirmation"


class ConfirmationBatchChanged(Conflict):
    """Bulk confirmation: what waits for confirmation on a permit changed after the batch
    was requested, so the approved quantities no longer fit."""

    code = "confirmation_batch_changed"
