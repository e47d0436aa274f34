"""JSON API of the ledger under /api/v1/ledger. Each route calls one ledger use case.

Writes are a bureau administrator's (web.app.ledger_access). The caller states its
`initiator` (bureau | enterprise | system) in the request body, and the transaction-type
table decides what each initiator may do. The journal's actor is always the signed-in user:
an `actor` in the body is accepted for older clients and ignored.

Four-eyes on the raw routes (issue 19), decided per transaction type from the table:
- a type with a domain meaning is never posted raw, since the raw route cannot keep the
  permit, the indicator or the compliance record consistent with the ledger: 409
  `domain_route_required` naming the route to use (`DOMAIN_ROUTES`);
- rights move raw only as a `cancellation` out of the bureau reserve; every other raw
  transfer moves money (CNY): a raw transfer touching a permit's rights or rights in
  settlement is refused the same way (trades settle through the trading routes);
- a type whose policy needs a second officer (`identity.service.approval_required`:
  deposit, withdrawal, cancellation, reversal by default) is validated in full by a dry run
  and stored as an approval request (202); another officer's approval posts it. Only a
  linked batch can wait for approval (422 `approval_needs_linked_batch`);
- a deposit or withdrawal moves at most `MAX_CASH_FEN` in one transfer (422
  `amount_above_limit`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, Field, StrictInt

from allocation import service as alloc
from identity import service as identity
from identity.roles import Principal
from kernel.errors import Conflict, InvalidInput
from ledger import service as ledger
from ledger.entries import Entry, Transfer
from ledger.errors import LedgerRejection
from ledger.transactions import TYPES, AccountKind, Initiator
from web import approvals
from web.api.common import Strict, audit
from web.api.common import platform as _p
from web.api.models import Instant, PathId
from web.auth import require_user

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
    actor: str | None = Field(None, min_length=1, max_length=64,
                              description="ignored: the journal records the signed-in user")


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


def _actor(request: Request) -> str:
    """Who the journal records: the signed-in user (set by the router's access dependency),
    never a name the request body claims."""
    p = getattr(request.state, "principal", None)
    if p is None:  # pragma: no cover - the router's dependency always sets it
        raise RuntimeError("ledger route without a principal")
    return str(p.username)


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
    amount: StrictInt = Field(0, ge=I64_MIN, le=I64_MAX,
                              description="0: all that is still pending")
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
    actor: str | None = Field(None, min_length=1, max_length=64,
                              description="ignored: the journal records the signed-in user")


class ReconcileOut(VerifyOut):
    run: int
    frozen: list[int]


class ExpireIn(Strict):
    initiator: Literal["bureau", "system"]
    actor: str | None = Field(None, min_length=1, max_length=64,
                              description="ignored: the journal records the signed-in user")


class ExpireOut(BaseModel):
    expired: list[str]


# four-eyes on the raw routes ---------------------------------------------------------------

#: types the raw routes never take, with the route that keeps their domain consistent
DOMAIN_ROUTES: dict[str, str] = {
    "issuance": "issuing the zone's total-control indicator (allocation.issue_indicator), "
                "which records the indicator as issued",
    "confirmation": "POST /api/v1/permits/{code}/confirmations",
    "verification": "POST /api/v1/permits/{code}/surplus-verifications",
    "reserve_buyback": "POST /api/v1/allocation/standard-decisions",
    "reserve_release": "POST /api/v1/reserve/plans/{plan_id}/release (or a reserve auction "
                       "or listing)",
    "recovery": "POST /api/v1/permits/{code}/changes, /revocations or /cancellations, or "
                "POST /api/v1/allocation/standard-decisions",
    "surrender": "POST /api/v1/compliance/true-ups",
    "reversal": "POST /api/v1/ledger/transfers/{transfer_id}/reversal",
}
#: the most one deposit or withdrawal moves: 10^10 fen (100 million yuan)
MAX_CASH_FEN = 10**10
CASH_TYPES = ("deposit", "withdrawal")


class DomainRouteRequired(Conflict):
    """The raw ledger routes cannot keep a permit (or an indicator, or a true-up) consistent
    with the ledger: the type's own route must move it."""

    code = "domain_route_required"


class AmountAboveLimit(InvalidInput):
    code = "amount_above_limit"


class ApprovalNeedsLinkedBatch(InvalidInput):
    code = "approval_needs_linked_batch"


def _refuse_type(tx_type: str, tid: str) -> None:
    route = DOMAIN_ROUTES.get(tx_type)
    if route is not None:
        raise DomainRouteRequired(f"transfer {tid}: a {tx_type} is not posted raw; use "
                                  f"{route}", field="type")


def _refuse_rights(tx_type: str, tid: str, debit: tuple[AccountKind, str] | None,
                   credit: tuple[AccountKind, str] | None) -> None:
    """Rights move raw only as a cancellation out of the reserve; the rest is money. A
    missing account or a pair of different assets is left to the ledger's own answer
    (`account_not_found`, `asset_mismatch`)."""
    if debit is None or credit is None or debit[1] != credit[1]:
        return
    if tx_type == "cancellation":
        if debit[0] != AccountKind.RESERVE:
            raise DomainRouteRequired(
                f"transfer {tid}: only rights in the bureau reserve are cancelled raw; a "
                f"permit's rights leave it by its own routes ({DOMAIN_ROUTES['recovery']})",
                field="debit_account")
        return
    if debit[1] != ledger.MONEY:
        raise DomainRouteRequired(
            f"transfer {tid}: a raw {tx_type} moves money only; rights move through their "
            "domain routes (trades: /api/v1/orders, /transfers, /listings, /auctions)",
            field="debit_account")


def _screen(p: Any, transfers: list[Transfer]) -> list[str]:
    """Refuse what the raw routes never take; answer the types, in order, whose policy asks
    a second officer (a post counts as its pending transfer's type; a void moves nothing)."""
    kinds = ledger.account_kinds(p.uow(), sorted(
        {a for t in transfers if t.phase in ("single", "pending")
         for a in (t.debit_account, t.credit_account) if 1 <= a <= I64_MAX}))
    approvable: list[str] = []
    for t in transfers:
        if t.type not in TYPES:
            continue  # the ledger answers unknown_transaction_type
        _refuse_type(t.type, t.id)
        tx_type = t.type
        if t.phase in ("post", "void"):
            e = ledger.entry_of(p.uow(), t.pending_id) if t.pending_id else None
            if e is None:
                continue  # the ledger answers pending_not_found
            tx_type = e.type
            _refuse_type(tx_type, t.id)
            if tx_type != "cancellation" and e.asset != ledger.MONEY:
                raise DomainRouteRequired(
                    f"transfer {t.id}: pending transfer {t.pending_id} holds rights; the "
                    "trading route that holds them posts or voids them", field="pending_id")
            if t.phase == "void":
                continue
        else:
            _refuse_rights(t.type, t.id, kinds.get(t.debit_account),
                           kinds.get(t.credit_account))
            if t.type in CASH_TYPES and t.amount > MAX_CASH_FEN:
                raise AmountAboveLimit(f"transfer {t.id}: a {t.type} moves at most "
                                       f"{MAX_CASH_FEN} fen", field="amount")
        if tx_type in identity.APPROVABLE and tx_type not in approvable \
                and identity.approval_required(p.uow(), tx_type):
            approvable.append(tx_type)
    return approvable


def _raw_transfers(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """Executor of an approved raw batch: a linked batch, as the raw route posts it."""
    transfers = [TransferIn.model_validate(x).transfer() for x in payload["transfers"]]
    r = platform.submit_transfers(transfers, initiator=Initiator(payload["initiator"]),
                                  actor=actor, batch=payload.get("batch"))
    return dict(replayed=r.replayed, entries=[dict(seq=e.seq, id=e.id, amount=e.amount)
                                              for e in r.entries])


def _reverse(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """Executor of an approved reversal: the permit-aware reversal (allocation)."""
    r = alloc.reverse_rights(platform.uow(), transfer_id=payload["transfer_id"],
                             id=payload["id"], amount=int(payload["amount"]),
                             initiator=Initiator(payload["initiator"]), actor=actor,
                             reference=payload.get("reference"))
    return dict(replayed=r.replayed, entries=[dict(seq=e.seq, id=e.id, amount=e.amount)
                                              for e in r.entries])


approvals.register("ledger_transfers", _raw_transfers)
approvals.register("reverse_transfer", _reverse)


def _dry_run(p: Any, action: str, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """Validate in full now; a ledger rejection is recorded as the direct route records it."""
    try:
        return approvals.dry_run(p, action, payload, actor)
    except LedgerRejection as exc:
        ledger.record_rejection(p.uow, exc, actor, datetime.now(UTC))
        raise


def _request(p: Any, user: Principal, tx_types: list[str], body_transfers: list[TransferIn],
             initiator: str, batch: str | None, actor: str) -> Response | None:
    """Store a request for a second officer (202), after a dry run; None when the batch is
    a repeat of one already posted (nothing moves: the caller answers the replay)."""
    payload = dict(transfers=[t.model_dump() for t in body_transfers], initiator=initiator,
                   batch=batch)
    dry = _dry_run(p, "ledger_transfers", payload, actor)
    if dry["replayed"]:
        return None
    what = ", ".join(f"{t.type} {t.phase} {t.amount}" for t in body_transfers[:5])
    more = f" (+{len(body_transfers) - 5})" if len(body_transfers) > 5 else ""
    out = approvals.file_request(
        p, user.username, tx_type=tx_types[0], action="ledger_transfers",
        target=body_transfers[0].id, payload=payload,
        summary=f"raw ledger batch {batch or body_transfers[0].id}: {what}{more}")
    return JSONResponse(out, status_code=202)


def _batch_out(result: ledger.BatchResult) -> BatchOut:
    status: Literal["created", "replayed"] = "replayed" if result.replayed else "created"
    return BatchOut(linked=True, replayed=result.replayed,
                    results=[ResultOut(id=e.id, status=status, entry=_entry(e))
                             for e in result.entries])


APPROVAL: dict[int | str, dict[str, Any]] = {
    202: {"description": "a second officer must approve: the approval request"}}


@router.post("/ledger/transfers", status_code=201, responses={**WRITES, **APPROVAL})
def create_transfers(request: Request, response: Response, body: BatchIn,
                     user: Principal = Depends(require_user)) -> Any:
    """A batch of up to 8,000 transfers. Linked (default): all or nothing, and a rejection
    answers with the failing transfer's code. Unlinked: each succeeds or fails on its own
    (200, a result per transfer). A repeated id returns the original; a repeat with other
    fields is rejected with `id_conflict` naming the field.

    Four-eyes, per type (see the module): a type with a domain meaning (issuance,
    confirmation, verification, reserve release and buy-back, recovery, surrender,
    reversal) is refused with 409 `domain_route_required` naming its route, and so is a raw
    transfer of rights other than a cancellation out of the reserve; a batch holding a type
    whose policy asks a second officer (deposit, withdrawal, cancellation by default) is
    checked in full by a dry run and answered 202 with the approval request; deposits and
    withdrawals move at most 10^10 fen each (422 `amount_above_limit`)."""
    who = Initiator(body.initiator)
    transfers = [t.transfer() for t in body.transfers]
    p = _p(request)
    approvable = _screen(p, transfers)
    if approvable:
        if not body.linked:
            raise ApprovalNeedsLinkedBatch(
                f"{', '.join(approvable)} needs a second officer: send it in a linked batch",
                field="linked")
        pending = _request(p, user, approvable, body.transfers, body.initiator, body.batch,
                           _actor(request))
        if pending is not None:
            audit(request, "request_approval", body.transfers[0].id, ", ".join(approvable))
            return pending
    if body.linked:
        result = _p(request).submit_transfers(transfers, initiator=who, actor=_actor(request),
                                              batch=body.batch)
        if result.replayed:
            response.status_code = 200
        return _batch_out(result)
    outcomes = ledger.submit_each(_p(request).uow, transfers, initiator=who,
                                  actor=_actor(request), batch=body.batch)
    response.status_code = 200
    return BatchOut(linked=False, replayed=all(o.status == "replayed" for o in outcomes),
                    results=[ResultOut(id=o.id, status=o.status,  # type: ignore[arg-type]
                                       entry=_entry(o.entry) if o.entry else None,
                                       error=o.code, detail=o.detail, field=o.field)
                             for o in outcomes])


@router.post("/ledger/pending/{pending_id}/post", status_code=201,
             responses={**WRITES, **APPROVAL})
def post_pending(request: Request, response: Response, pending_id: PathId,
                 body: PostIn, user: Principal = Depends(require_user)) -> Any:
    """Post a pending transfer in full (amount 0) or in part. The pending transfer's type
    decides, as on the batch route: a domain type is refused (409 `domain_route_required`),
    and a type whose policy asks a second officer answers 202 with the approval request."""
    p = _p(request)
    e = ledger.entry_of(p.uow(), pending_id)
    if e is not None:
        if not I64_MIN <= body.amount <= I64_MAX:
            raise InvalidInput("amount: a signed 64-bit integer", field="amount")
        post = TransferIn(id=body.id, type=e.type, debit_account=0, credit_account=0,
                          amount=body.amount, phase="post", pending_id=pending_id,
                          reference=body.reference, timeout_s=None)
        approvable = _screen(p, [post.transfer()])
        if approvable:
            pending = _request(p, user, approvable, [post], body.initiator, None,
                               _actor(request))
            if pending is not None:
                audit(request, "request_approval", pending_id, ", ".join(approvable))
                return pending
    result = ledger.post_pending(_p(request).uow, pending_id, id=body.id, amount=body.amount,
                                 initiator=Initiator(body.initiator), actor=_actor(request),
                                 reference=body.reference)
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/pending/{pending_id}/void", status_code=201, responses=WRITES)
def void_pending(request: Request, response: Response, pending_id: PathId,
                 body: VoidIn) -> BatchOut:
    """Release what a pending transfer still holds (nothing moves: no second officer). A
    pending transfer of a domain type (an auction's or a listing's hold) is voided by its own
    route: 409 `domain_route_required`."""
    e = ledger.entry_of(_p(request).uow(), pending_id)
    if e is not None:
        _screen(_p(request), [Transfer(body.id, e.type, 0, 0, 0, "void", pending_id)])
    result = ledger.void_pending(_p(request).uow, pending_id, id=body.id,
                                 initiator=Initiator(body.initiator), actor=_actor(request),
                                 reference=body.reference)
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/transfers/{transfer_id}/reversal", status_code=201,
             responses={**WRITES, **APPROVAL})
def reverse_transfer(request: Request, response: Response, transfer_id: PathId,
                     body: ReverseIn, user: Principal = Depends(require_user)) -> Any:
    """Reverse a finished transfer (all of it, or `amount`) inside its type's window. A
    reversal that moves a permit's confirmed rights also corrects the permit's permitted
    quantity and history, in the same transaction. When the policy asks a second officer
    for `reversal` (the default), the reversal is checked in full by a dry run and the
    answer is 202 with the approval request."""
    p = _p(request)
    if identity.approval_required(p.uow(), "reversal"):
        payload = dict(transfer_id=transfer_id, id=body.id, amount=body.amount,
                       initiator=body.initiator, reference=body.reference)
        dry = _dry_run(p, "reverse_transfer", payload, _actor(request))
        if not dry["replayed"]:
            audit(request, "request_approval", transfer_id, "reversal")
            return JSONResponse(approvals.file_request(
                p, user.username, tx_type="reversal", action="reverse_transfer",
                target=transfer_id, payload=payload,
                summary=f"reverse {body.amount or 'all'} of {transfer_id} as {body.id}"),
                status_code=202)
    try:
        result = alloc.reverse_rights(p.uow(), transfer_id=transfer_id, id=body.id,
                                      amount=body.amount, initiator=Initiator(body.initiator),
                                      actor=_actor(request), reference=body.reference)
    except LedgerRejection as exc:
        ledger.record_rejection(p.uow, exc, _actor(request), datetime.now(UTC))
        raise
    if result.replayed:
        response.status_code = 200
    return _batch_out(result)


@router.post("/ledger/expiry-sweeps", responses=ERRORS)
def expire(request: Request, body: ExpireIn) -> ExpireOut:
    """Expire every pending transfer whose timeout has passed."""
    return ExpireOut(expired=ledger.expire_pendings(_p(request).uow, actor=_actor(request)))


@router.get("/ledger/accounts/{account_id}", responses=ERRORS)
def get_account(request: Request, account_id: AccountId) -> AccountOut:
    return AccountOut(**ledger.account_view(_p(request).uow(), account_id))  # type: ignore[arg-type]


@router.get("/ledger/accounts/{account_id}/balance", responses=ERRORS)
def balance(request: Request, account_id: AccountId,
            as_of: Instant | None = Query(None, description="ISO time; naive means UTC; "
                                                             "default now")) -> BalanceOut:
    """The balance at any time, recomputed from the journal."""
    return BalanceOut(**ledger.balance_as_of(_p(request).uow(), account_id, as_of))  # type: ignore[arg-type]


@router.get("/ledger/accounts/{account_id}/statement", responses=ERRORS)
def statement(request: Request, account_id: AccountId, start: Instant | None = None,
              end: Instant | None = None,
              limit: int = Query(1000, ge=1, le=10_000)) -> StatementOut:
    """Entries created in [start, end) with the running balance and holds."""
    return StatementOut(**ledger.statement(_p(request).uow(), account_id, start=start,  # type: ignore[arg-type]
                                           end=end, limit=limit))


@router.get("/ledger/holders/{holder}/entries", responses=ERRORS)
def holder_entries(request: Request, holder: PathId,
                   limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
    """Newest first: every journal entry on a holder's accounts (for a permit: its
    confirmations, verifications, trades, recoveries and reversals)."""
    return ledger.holder_history(_p(request).uow(), holder, limit)


@router.post("/ledger/accounts/{account_id}/freeze", responses=ERRORS)
def freeze(request: Request, account_id: AccountId, body: FlagIn) -> AccountOut:
    """Bureau only: the account then takes part only in recovery and reversals."""
    return AccountOut(**ledger.freeze(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                      initiator=Initiator(body.initiator), actor=_actor(request)))


@router.post("/ledger/accounts/{account_id}/unfreeze", responses=ERRORS)
def unfreeze(request: Request, account_id: AccountId, body: FlagIn) -> AccountOut:
    """Bureau only, and only once the account agrees with the journal again."""
    return AccountOut(**ledger.unfreeze(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                        initiator=Initiator(body.initiator),
                                        actor=_actor(request)))


class ResolveIn(FlagIn):
    restore: bool = Field(False, description="when the hash chain is intact, set the "
                                             "stored figures to the journal's first")


@router.post("/ledger/accounts/{account_id}/resolve", responses=ERRORS)
def resolve(request: Request, account_id: AccountId, body: ResolveIn) -> AccountOut:
    """Bureau only: reconcile a frozen account again (recorded as a run) and unfreeze it
    once it agrees with the journal; `discrepancy_unresolved` (409) while it does not."""
    return AccountOut(**ledger.resolve(_p(request).uow, account_id, reason=body.reason,  # type: ignore[arg-type]
                                       initiator=Initiator(body.initiator), actor=_actor(request),
                                       restore=body.restore))


@router.get("/ledger/verify", responses=ERRORS)
def verify(request: Request) -> VerifyOut:
    """Recompute the hash chain and every balance from the journal."""
    return VerifyOut(**ledger.verify(_p(request).uow()).as_dict())  # type: ignore[arg-type]


@router.post("/ledger/reconcile", responses=ERRORS)
def reconcile(request: Request, body: ReconcileIn) -> ReconcileOut:
    """Freeze every account whose stored balances the journal does not bear out."""
    return ReconcileOut(**ledger.reconcile(_p(request).uow, actor=_actor(request)).as_dict())  # type: ignore[arg-type]


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
