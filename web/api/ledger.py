"""JSON API of the ledger under /api/v1/ledger. Each route calls one ledger use case.

Authorisation comes with the identity issue: until then the caller states its `initiator`
(bureau | enterprise | system) and `actor` in the request body, and the transaction-type
table decides what each initiator may do. Auth will bind both to the signed-in principal
(a route will then refuse a body `initiator` that differs from the principal's role).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, Field, StrictInt

from allocation import service as alloc
from ledger import service as ledger
from ledger.entries import Entry, Transfer
from ledger.errors import LedgerRejection
from ledger.transactions import Initiator
from web.api.common import Strict
from web.api.common import platform as _p

router = APIRouter()


class ErrorBody(BaseModel):
    error: str
    detail: str
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody},
    422: {"model": ErrorBody}}
#: writes answer 201 when they create entries and 200 when an idempotent repeat (or an
#: unlinked batch with rejections) returns what exists
WRITES: dict[int | str, dict[str, Any]] = {
    **ERRORS, 200: {"description": "a repeat of an existing id, or an unlinked batch with "
                                   "rejections: per-transfer results"}}


#: account ids are positive 64-bit integers; anything else is a 422, never a database error
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1)]


I64_MIN, I64_MAX = -(2**63), 2**63 - 1
#: SQLite hands back naive UTC datetimes; every time this API answers carries its zone
UtcDatetime = Annotated[datetime, AfterValidator(
    lambda d: d if d.tzinfo is not None else d.replace(tzinfo=UTC))]


InitiatorName = Literal["bureau", "enterprise", "system"]


class Who(Strict):
    initiator: InitiatorName = Field(description="bureau | enterprise | system; auth will "
                                                 "bind it to the signed-in principal")
    actor: str = Field(min_length=1, max_length=64, description="who, for the journal")


class TransferIn(Strict):
    id: str = Field(min_length=1, max_length=64, description="client id; idempotent")
    type: str = Field(max_length=24, examples=["transfer"])
    debit_account: StrictInt = Field(0, ge=I64_MIN, le=I64_MAX,
                                     description="0 on post/void/reversal")
    credit_account: StrictInt = Field(0, ge=I64_MIN, le=I64_MAX,
                                      description="0 on post/void/reversal")
    # signed 64-bit: a non-positive amount reaches the ledger and gets its own code
    amount: StrictInt = Field(0, ge=I64_MIN, le=I64_MAX,
                              description="kg or fen; 0 on post = the rest")
    phase: Literal["single", "pending", "post", "void"] = "single"
    pending_id: str | None = Field(None, max_length=64,
                                   description="post/void: the pending transfer; "
                                               "reversal: the transfer reversed")
    reference: str | None = Field(None, max_length=120)
    timeout_s: StrictInt | None = Field(None, ge=1, le=10 * 366 * 86_400,
                                        description="pending: expire after, seconds")

    def transfer(self) -> Transfer:
        return Transfer(self.id, self.type, self.debit_account, self.credit_account,
                        self.amount, self.phase, self.pending_id, self.reference,
                        self.timeout_s)


class BatchIn(Who):
    transfers: list[TransferIn] = Field(min_length=1, description="at most 8,000")
    linked: bool = Field(True, description="all or nothing; false: each on its own")
    batch: str | None = Field(None, max_length=64)


class EntryOut(BaseModel):
    seq: int
    id: str
    batch: str | None
    type: str
    phase: str
    pending_id: str | None
    debit_account: int
    credit_account: int
    asset: str
    amount: int
    reference: str | None
    initiator: str
    created_at: UtcDatetime
    timeout_at: UtcDatetime | None
    hash: str


def _entry(e: Entry) -> EntryOut:
    return EntryOut.model_validate(e, from_attributes=True)


class ResultOut(BaseModel):
    id: str
    status: Literal["created", "replayed", "rejected"]
    entry: EntryOut | None = None
    error: str | None = None
    detail: str | None = None
    field: str | None = None


class BatchOut(BaseModel):
    linked: bool
    replayed: bool
    results: list[ResultOut]


class PostIn(Who):
    id: str = Field(min_length=1, max_length=64, description="id of the posting transfer")
    amount: StrictInt = Field(0, description="0: all that is still pending")
    reference: str | None = Field(None, max_length=120)


class VoidIn(Who):
    id: str = Field(min_length=1, max_length=64, description="id of the voiding transfer")
    reference: str | None = Field(None, max_length=120)


class ReverseIn(PostIn):
    pass


class FlagIn(Who):
    reason: str = Field(min_length=1, max_length=500)


class FlagOut(BaseModel):
    action: str
    reason: str
    actor: str
    run: int | None
    at: UtcDatetime


class AccountOut(BaseModel):
    id: int
    holder: str
    kind: str
    asset: str
    balance: int
    on_hold: int
    available: int
    pending_in: int
    debits_posted: int
    credits_posted: int
    upper_limit: int | None
    no_overdraft: bool
    frozen: bool
    frozen_reason: str | None
    flags: list[FlagOut]


class BalanceOut(BaseModel):
    account: int
    asset: str
    as_of: UtcDatetime
    balance: int
    debits_posted: int
    credits_posted: int
    on_hold: int
    pending_in: int
    available: int


class Figures(BaseModel):
    balance: int
    on_hold: int
    pending_in: int


class StatementLine(BaseModel):
    seq: int
    id: str
    type: str
    phase: str
    pending_id: str | None
    counterparty: int
    debit: int
    credit: int
    balance: int
    on_hold: int
    pending_in: int
    reference: str | None
    created_at: UtcDatetime


class StatementOut(BaseModel):
    account: int
    holder: str
    kind: str
    asset: str
    start: UtcDatetime | None
    end: UtcDatetime | None
    opening: Figures
    lines: list[StatementLine]
    closing: Figures
    truncated: bool


class DiscrepancyOut(BaseModel):
    account: int
    field: str
    stored: int
    journal: int


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    accounts: int
    head_seq: int
    first_bad_seq: int | None
    reason: str
    seconds: float
    discrepancies: list[DiscrepancyOut]
    pending_issues: list[str]


class ReconcileIn(Strict):
    initiator: Literal["bureau", "system"]
    actor: str = Field(min_length=1, max_length=64)


class ReconcileOut(VerifyOut):
    run: int
    frozen: list[int]


class ExpireIn(Strict):
    initiator: Literal["bureau", "system"]
    actor: str = Field(min_length=1, max_length=64)


class ExpireOut(BaseModel):
    expired: list[str]


def _batch_out(result: ledger.BatchResult) -> BatchOut:
    status: Literal["created", "replayed"] = "replayed" if result.replayed else "created"
    return BatchOut(linked=True, replayed=result.replayed,
                    results=[ResultOut(id=e.id, status=status, entry=_entry(e))
                             for e in result.entries])


@router.post("/ledger/transfers", status_code=201, responses=WRITES)
def create_transfers(request: Request, response: Response, body: BatchIn) -> BatchOut:
    """A batch of up to 8,000 transfers. Linked (default): all or nothing, and a rejection
    answers with the failing transfer's code. Unlinked: each succeeds or fails on its own
    (200, a result per transfer). A repeated id returns the original; a repeat with other
    fields is rejected with `id_conflict` naming the field."""
    who = Initiator(body.initiator)
    transfers = [t.transfer() for t in body.transfers]
    if body.linked:
        result = _p(request).submit_transfers(transfers, initiator=who, actor=body.actor,
                                              batch=body.batch)
        if result.replayed:
            response.status_code = 200
        return _batch_out(result)
    outcomes = ledger.submit_each(_p(request).uow, transfers, initiator=who,
                                  actor=body.actor, batch=body.batch)
    response.status_code = 200
    return BatchOut(linked=False, replayed=all(o.status == "replayed" for o in outcomes),
                    results=[ResultOut(id=o.id, status=o.status,  # type: ignore[arg-type]
                                       entry=_entry(o.entry) if o.entry else None,
                                       error=o.code, detail=o.detail, field=o.field)
                             for o in outcomes])


@router.post("/ledger/pending/{pending_id}/post", status_code=201, responses=WRITES)
def post_pending(request: Request, response: Response, pending_id: str,
                 body: PostIn) -> BatchOut:
    """Post a pending transfer in full (amount 0) or in part."""
    result = ledger.post_pending(_p(request).uow, pending_id, id=body.id, amount=body.amount,
                                 initiator=Initiator(body.initiator), actor=body.actor,
                                 reference=body.reference)
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/pending/{pending_id}/void", status_code=201, responses=WRITES)
def void_pending(request: Request, response: Response, pending_id: str,
                 body: VoidIn) -> BatchOut:
    """Release what a pending transfer still holds."""
    result = ledger.void_pending(_p(request).uow, pending_id, id=body.id,
                                 initiator=Initiator(body.initiator), actor=body.actor,
                                 reference=body.reference)
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/transfers/{transfer_id}/reversal", status_code=201, responses=WRITES)
def reverse_transfer(request: Request, response: Response, transfer_id: str,
                     body: ReverseIn) -> BatchOut:
    """Reverse a finished transfer (all of it, or `amount`) inside its type's window. A
    reversal that moves a permit's confirmed rights also corrects the permit's permitted
    quantity and history, in the same transaction."""
    p = _p(request)
    try:
        result = alloc.reverse_rights(p.uow(), transfer_id=transfer_id, id=body.id,
                                      amount=body.amount, initiator=Initiator(body.initiator),
                                      actor=body.actor, reference=body.reference)
    except LedgerRejection as exc:
        ledger.record_rejection(p.uow, exc, body.actor, datetime.now(UTC))
        raise
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/expiry-sweeps", responses=ERRORS)
def expire(request: Request, body: ExpireIn) -> ExpireOut:
    """Expire every pending transfer whose timeout has passed."""
    return ExpireOut(expired=ledger.expire_pendings(_p(request).uow, actor=body.actor))


@router.get("/ledger/accounts/{account_id}", responses=ERRORS)
def get_account(request: Request, account_id: AccountId) -> AccountOut:
    return AccountOut(**ledger.account_view(_p(request).uow(), account_id))  # type: ignore[arg-type]


@router.get("/ledger/accounts/{account_id}/balance", responses=ERRORS)
def balance(request: Request, account_id: AccountId,
            as_of: datetime | None = Query(None, description="ISO time; naive means UTC; "
                                                             "default now")) -> BalanceOut:
    """The balance at any time, recomputed from the journal."""
    return BalanceOut(**ledger.balance_as_of(_p(request).uow(), account_id, as_of))  # type: ignore[arg-type]


@router.get("/ledger/accounts/{account_id}/statement", responses=ERRORS)
def statement(request: Request, account_id: AccountId, start: datetime | None = None,
              end: datetime | None = None,
              limit: int = Query(1000, ge=1, le=10_000)) -> StatementOut:
    """Entries created in [start, end) with the running balance and holds."""
    return StatementOut(**ledger.statement(_p(request).uow(), account_id, start=start,  # type: ignore[arg-type]
                                           end=end, limit=limit))


@router.get("/ledger/holders/{holder}/entries", responses=ERRORS)
def holder_entries(request: Request, holder: str,
                   limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
    """Newest first: every journal entry on a holder's accounts (for a permit: its
    confirmations, verifications, trades, recoveries and reversals)."""
    return ledger.holder_history(_p(request).uow(), holder, limit)


@router.post("/ledger/accounts/{account_id}/freeze", responses=ERRORS)
def freeze(request: Request, account_id: AccountId, body: FlagIn) -> AccountOut:
    """Bureau only: the account then takes part only in recovery and reversals."""
    return AccountOut(**ledger.freeze(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                      initiator=Initiator(body.initiator), actor=body.actor))


@router.post("/ledger/accounts/{account_id}/unfreeze", responses=ERRORS)
def unfreeze(request: Request, account_id: AccountId, body: FlagIn) -> AccountOut:
    """Bureau only, and only once the account agrees with the journal again."""
    return AccountOut(**ledger.unfreeze(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                        initiator=Initiator(body.initiator),
                                        actor=body.actor))


class ResolveIn(FlagIn):
    restore: bool = Field(False, description="when the hash chain is intact, set the "
                                             "stored figures to the journal's first")


@router.post("/ledger/accounts/{account_id}/resolve", responses=ERRORS)
def resolve(request: Request, account_id: AccountId, body: ResolveIn) -> AccountOut:
    """Bureau only: reconcile a frozen account again (recorded as a run) and unfreeze it
    once it agrees with the journal; `discrepancy_unresolved` (409) while it does not."""
    return AccountOut(**ledger.resolve(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                       initiator=Initiator(body.initiator), actor=body.actor,
                                       restore=body.restore))


@router.get("/ledger/verify", responses=ERRORS)
def verify(request: Request) -> VerifyOut:
    """Recompute the hash chain and every balance from the journal."""
    return VerifyOut(**ledger.verify(_p(request).uow()).as_dict())  # type: ignore[arg-type]


@router.post("/ledger/reconcile", responses=ERRORS)
def reconcile(request: Request, body: ReconcileIn) -> ReconcileOut:
    """Freeze every account whose stored balances the journal does not bear out."""
    return ReconcileOut(**ledger.reconcile(_p(request).uow, actor=body.actor).as_dict())  # type: ignore[arg-type]


@router.get("/ledger/transaction-types")
def transaction_types() -> list[dict[str, Any]]:
    """The table of transaction types: pairs, initiators, approval, reversal window."""
    return ledger.transaction_types()


@router.get("/ledger/rejections")
def rejections(request: Request,
               limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """The audit records of rejected transfers, newest first."""
    return ledger.rejections(_p(request).uow(), limit)


def _export(request: Request, fmt: str, media: str) -> StreamingResponse:
    chunks = ledger.export_journal(_p(request).uow(), fmt)
    return StreamingResponse(chunks, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="ledger-journal.{fmt}"'})


@router.get("/ledger/export.csv", response_class=StreamingResponse)
def export_csv(request: Request) -> StreamingResponse:
    """The whole journal as CSV, in seq order, with the fields the hash covers."""
    return _export(request, "csv", "text/csv; charset=utf-8")


@router.get("/ledger/export.json", response_class=StreamingResponse)
def export_json(request: Request) -> StreamingResponse:
    """The whole journal as a JSON array, in seq order."""
    return _export(request, "json", "application/json")
