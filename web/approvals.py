"""Second-officer approval of bureau actions that move rights or money (four-eyes).

Whether an action needs a second officer is configured per ledger transaction type
(`identity.service.approval_policy`, editable by an administrator; defaults from
`ledger.transactions.TYPES[...].needs_approval`). Every path that runs such an action (API,
pages, CLI) goes through `run_or_request(...)` (or `request_or_run(...)` for a caller that is
a username, not a signed-in principal): without the requirement the action runs at once;
with it, an approval request is stored and another person runs it with `approve(...)`.
Administrators are no exception: the requester never approves its own request.

Guarantees:
- a request is validated in full when it is made: before it is stored, the action runs as a
  dry run (`validate`) inside a transaction that is rolled back, so an invalid request is
  refused at once with exactly the 4xx the direct action would give (the executor's own
  checks, not a copy of them that could drift);
- the action is carried out at most once (see `identity.service.claim_approval`);
- a district officer sees and decides only requests about a permit of its district.

To make a new action approvable, register its executor once:

    register("release_reserve", lambda platform, payload, actor: {...})

and call `run_or_request(platform, user, tx_type="reserve_release",
action="release_reserve", target=..., payload=..., summary=...)` from the route. An executor
must do all its writes through `platform.uow()` / `platform.uow` / `platform.submit_transfers`
(the dry run hands it a platform whose units of work never commit); `validate=` replaces the
dry run for an executor that cannot (none does today).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from allocation import bulk_confirmation as bulk
from allocation import service as alloc
from identity import service as identity
from identity.errors import ApprovalNotFound
from identity.roles import Principal
from kernel.errors import DomainError
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.transactions import Initiator

Executor = Callable[[Any, dict[str, Any], str], dict[str, Any]]
EXECUTORS: dict[str, Executor] = {}
VALIDATORS: dict[str, Executor] = {}


def register(action: str, executor: Executor, validate: Executor | None = None) -> None:
    """`validate` (default: a dry run of `executor`) raises the DomainError the action would."""
    EXECUTORS[action] = executor
    if validate is not None:
        VALIDATORS[action] = validate
    else:
        VALIDATORS.pop(action, None)


# dry runs ----------------------------------------------------------------------------------

class _DryUoW:
    """A unit of work whose `commit` only flushes: leaving `with` rolls everything back, so
    the database checks (constraints, row locks, limits) run as they would for real."""

    read_only = False

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.committed = False

    @property
    def session(self) -> Any:
        return self._inner.session

    @property
    def dialect(self) -> str:
        return str(self._inner.dialect)

    def __enter__(self) -> _DryUoW:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # never committed: rolled back

    def commit(self) -> None:
        self._inner.session.flush()

    def rollback(self) -> None:
        self._inner.rollback()


class _DryPlatform:
    """What an executor may use of the platform, with units of work that never commit. Only
    these attributes exist, so an executor reaching for anything else fails loudly instead
    of writing for real."""

    def __init__(self, platform: Any) -> None:
        self._platform = platform
        self.settings = platform.settings
        self.permits = platform.permits

    def uow(self) -> _DryUoW:
        return _DryUoW(self._platform.uow())

    def read_uow(self) -> Any:
        return self._platform.read_uow()

    def submit_transfers(self, transfers: Sequence[Transfer], *, initiator: Initiator,
                         actor: str, batch: str | None = None) -> ledger.BatchResult:
        return ledger.submit(self.uow, transfers, initiator=initiator, actor=actor,
                             batch=batch)


def dry_run(platform: Any, action: str, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """Run the action's checks now and keep nothing: its result as it would be, or its
    DomainError (raised)."""
    check = VALIDATORS.get(action, EXECUTORS[action])
    return check(_DryPlatform(platform), payload, actor)


# requests ----------------------------------------------------------------------------------

def _confirm(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    before = _permitted(platform, str(payload["permit"]), str(payload["pollutant"]),
                        int(payload["year"]))
    r = alloc.confirm_rights(platform.uow(), permit=payload["permit"],
                             pollutant=payload["pollutant"], year=int(payload["year"]),
                             qty_kg=payload.get("qty_kg"), actor=actor)
    return dict(r.__dict__, permitted_before_kg=before)


def _permitted(platform: Any, permit: str, pollutant: str, year: int) -> int | None:
    """The permit's permitted quantity before a confirmation (shown as before → after)."""
    try:
        view = alloc.permit_view(platform.read_uow(), permit, events=0)
    except DomainError:
        return None  # the action itself refuses the missing permit
    quantities: Any = view["quantities"]
    return next((int(q["permitted_kg"]) for q in quantities
                 if q["pollutant"] == pollutant and q["year"] == year), None)


register("confirm_rights", _confirm)


def _confirm_permits(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    """Bulk confirmation: every waiting pollutant of the payload's permits; with `expected`
    (set when a second officer must approve) exactly the quantities approved."""
    items = bulk.confirm_permits(platform.uow(), permits=list(payload["permits"]),
                                 year=int(payload["year"]), actor=actor,
                                 district=payload.get("district"),
                                 expected=payload.get("expected"))
    return dict(year=int(payload["year"]), permits=len({i["permit"] for i in items}),
                total_kg=sum(int(i["qty_kg"]) for i in items), items=items)


register("confirm_permits", _confirm_permits)


def request_or_run(platform: Any, username: str, *, tx_type: str, action: str, target: str,
                   payload: dict[str, Any], summary: str) -> tuple[str, dict[str, Any]]:
    """("done", result) when no second officer is needed, else ("pending", approval), the
    request validated in full first (a DomainError as the direct action would raise)."""
    if identity.approval_required(platform.uow(), tx_type):
        preview = dry_run(platform, action, payload, username)
        if action == "confirm_permits":  # the second officer approves these quantities
            payload = dict(payload, expected=bulk.expected_of(preview["items"]))
        return "pending", file_request(platform, username, tx_type=tx_type, action=action,
                                       target=target, payload=payload, summary=summary,
                                       preview=preview)
    return "done", EXECUTORS[action](platform, payload, username)


def file_request(platform: Any, username: str, *, tx_type: str, action: str, target: str,
                 payload: dict[str, Any], summary: str,
                 preview: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store an approval request that the caller has just validated with `dry_run`
    (`preview`: the dry run's outcome, kept to show what is approved in words)."""
    if action not in EXECUTORS:
        raise KeyError(f"no executor registered for {action!r}")
    return identity.request_approval(platform.uow(), tx_type=tx_type, action=action,
                                     target=target, payload=payload, summary=summary,
                                     requested_by=username, preview=preview)


def run_or_request(platform: Any, user: Principal, *, tx_type: str, action: str, target: str,
                   payload: dict[str, Any], summary: str) -> tuple[str, dict[str, Any]]:
    """("done", result) when no second officer is needed, else ("pending", approval)."""
    return request_or_run(platform, user.username, tx_type=tx_type, action=action,
                          target=target, payload=payload, summary=summary)


def _set_policy(platform: Any, payload: dict[str, Any], actor: str) -> dict[str, Any]:
    return identity.set_approval_policy(platform.uow(), tx_type=str(payload["tx_type"]),
                                        required=bool(payload["required"]), actor=actor)


register("set_approval_policy", _set_policy)


def set_policy(platform: Any, user: Principal, tx_type: str,
               required: bool) -> tuple[str, dict[str, Any]]:
    """Turning a requirement on takes effect at once. Turning it off is four-eyes itself:
    while a type needs a second officer, an administrator alone cannot drop that (else one
    person could switch the rule off, act alone, and switch it on again)."""
    if required:
        identity.approval_required(platform.uow(), tx_type)  # unknown types: 422
        return "done", _set_policy(platform, dict(tx_type=tx_type, required=True),
                                   user.username)
    return run_or_request(platform, user, tx_type=tx_type, action="set_approval_policy",
                          target=tx_type, payload=dict(tx_type=tx_type, required=False),
                          summary=f"no second officer for {tx_type} any more")


def check_scope(platform: Any, user: Principal, approval_id: int) -> dict[str, Any]:
    """The request, if `user` may see and decide it: a district officer only requests about a
    permit of its district; any other (another district's, or one without a permit: reserve
    plans, standard flags, transfers between enterprises) answers 404 as if missing."""
    a = identity.approval(platform.uow(), approval_id)
    if not in_scope(platform, user, a):
        raise ApprovalNotFound(f"no approval request {approval_id}", field="approval_id")
    return a


def in_scope(platform: Any, user: Principal, a: dict[str, Any]) -> bool:
    """Whether `user` may see and decide request `a`: a district officer only those of its
    district (`district`, decided when the request was made: a request about a permit of
    the district, or a bulk confirmation whose permits are all of it; the district
    officer's list reads the same). `platform` is kept for the callers."""
    if not user.is_bureau or user.district is None:
        return True
    return a.get("district") == user.district  # None (the city's only) is no district's


def reject(platform: Any, user: Principal, approval_id: int, reason: str) -> dict[str, Any]:
    check_scope(platform, user, approval_id)
    return identity.reject_approval(platform.uow(), approval_id=approval_id,
                                    decider=user.username, reason=reason)


def approve(platform: Any, user: Principal, approval_id: int) -> dict[str, Any]:
    """A second officer approves and the action runs now. A rejection by the rules marks the
    request failed (with the code) instead of raising."""
    check_scope(platform, user, approval_id)
    a = identity.claim_approval(platform.uow(), approval_id=approval_id,
                                approver=user.username)
    actor = f"{a['requested_by']}+{user.username}"[:64]
    try:
        result = EXECUTORS[a["action"]](platform, a["payload"], actor)
    except DomainError as exc:
        return identity.finish_approval(platform.uow(), approval_id=approval_id, ok=False,
                                        result=f"{exc.code}: {exc.message}")
    except Exception:
        identity.finish_approval(platform.uow(), approval_id=approval_id, ok=False,
                                 result="internal_error: see the server log")
        raise
    return identity.finish_approval(platform.uow(), approval_id=approval_id, ok=True,
                                    result=json.dumps(result, sort_keys=True, default=str))
