"""Ledger rejections. Each broken rule has its own stable code."""

from __future__ import annotations

from kernel.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class LedgerRejection(DomainError):
    """Base of every ledger rejection."""

    code = "ledger_rejected"
    kind = "conflict"

    def __init__(self, message: str, *, transfer_id: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.transfer_id = transfer_id


def _rule(name: str, code: str, base: type[DomainError], kind: str) -> type[LedgerRejection]:
    return type(name, (LedgerRejection, base), {"code": code, "kind": kind})


AccountNotFound = _rule("AccountNotFound", "account_not_found", NotFound, "not_found")
AssetMismatch = _rule("AssetMismatch", "asset_mismatch", InvalidInput, "invalid")
SameAccount = _rule("SameAccount", "same_account", InvalidInput, "invalid")
NonPositiveAmount = _rule("NonPositiveAmount", "non_positive_amount", InvalidInput, "invalid")
UnknownTransactionType = _rule("UnknownTransactionType", "unknown_transaction_type",
                               InvalidInput, "invalid")
KindNotAllowed = _rule("KindNotAllowed", "account_kind_not_allowed", InvalidInput, "invalid")
InitiatorNotAllowed = _rule("InitiatorNotAllowed", "initiator_not_allowed", Forbidden,
                            "forbidden")
InsufficientBalance = _rule("InsufficientBalance", "insufficient_balance", Conflict, "conflict")
OverLimit = _rule("OverLimit", "over_limit", Conflict, "conflict")
AccountFrozen = _rule("AccountFrozen", "account_frozen", Conflict, "conflict")
ClosedAccount = _rule("ClosedAccount", "account_closed_to_debits", Conflict, "conflict")
PendingNotFound = _rule("PendingNotFound", "pending_not_found", NotFound, "not_found")
PendingVoided = _rule("PendingVoided", "pending_voided", Conflict, "conflict")
PendingExpired = _rule("PendingExpired", "pending_expired", Conflict, "conflict")
PendingPosted = _rule("PendingPosted", "pending_already_posted", Conflict, "conflict")
PostExceedsPending = _rule("PostExceedsPending", "post_exceeds_pending", Conflict, "conflict")
IdConflict = _rule("IdConflict", "id_conflict", Conflict, "conflict")
BatchTooLarge = _rule("BatchTooLarge", "batch_too_large", InvalidInput, "invalid")
LinkedFailure = _rule("LinkedFailure", "linked_event_failed", Conflict, "conflict")
PendingNotTimedOut = _rule("PendingNotTimedOut", "pending_not_timed_out", Conflict, "conflict")
TransferNotFound = _rule("TransferNotFound", "transfer_not_found", NotFound, "not_found")
NotReversible = _rule("NotReversible", "not_reversible", Conflict, "conflict")
ReversalWindowClosed = _rule("ReversalWindowClosed", "reversal_window_closed", Conflict,
                             "conflict")
AlreadyReversed = _rule("AlreadyReversed", "already_reversed", Conflict, "conflict")
ReversalExceedsOriginal = _rule("ReversalExceedsOriginal", "reversal_exceeds_original",
                                Conflict, "conflict")
AlreadyFrozen = _rule("AlreadyFrozen", "account_already_frozen", Conflict, "conflict")
NotFrozen = _rule("NotFrozen", "account_not_frozen", Conflict, "conflict")
DiscrepancyUnresolved = _rule("DiscrepancyUnresolved", "discrepancy_unresolved", Conflict,
                              "conflict")
BadTimeRange = _rule("BadTimeRange", "bad_time_range", InvalidInput, "invalid")


class ConcurrentDuplicate(Exception):
    """Another transaction wrote one of this batch's ids first (a unique-key race). Not a
    rejection: the use case retries, and the retry sees the original (replay or conflict)."""


class RetryableConflict(Exception):
    """PostgreSQL refused to serialise the transaction (SERIALIZABLE failure or deadlock)."""


# -- the transparency log (issue 16) ----------------------------------------------------------
LeafNotFound = _rule("LeafNotFound", "ledger_leaf_not_found", NotFound, "not_found")
TreeSizeOutOfRange = _rule("TreeSizeOutOfRange", "tree_size_out_of_range", InvalidInput,
                           "invalid")
ConsistencyRangeInvalid = _rule("ConsistencyRangeInvalid", "consistency_range_invalid",
                                InvalidInput, "invalid")
CheckpointFileInvalid = _rule("CheckpointFileInvalid", "checkpoint_file_invalid",
                              InvalidInput, "invalid")
CheckpointSignatureInvalid = _rule("CheckpointSignatureInvalid",
                                   "checkpoint_signature_invalid", InvalidInput, "invalid")
CheckpointKeyMismatch = _rule("CheckpointKeyMismatch", "checkpoint_key_mismatch",
                              InvalidInput, "invalid")
SigningKeyMissing = _rule("SigningKeyMissing", "ledger_signing_key_missing", InvalidInput,
                          "invalid")
SigningKeyInvalid = _rule("SigningKeyInvalid", "ledger_signing_key_invalid", InvalidInput,
                          "invalid")
