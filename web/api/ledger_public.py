"""The public transparency log under /api/v1/public/ledger (issue 16; no log-in): the signed
checkpoints with the public key, and inclusion and consistency proofs in RFC 9162's form
(docs/ledger-transparency.md). The public inclusion proof carries the leaf's hash, not its
data; an enterprise gets its own leaves' proofs with their data under
/api/v1/enterprises/{code}/ledger/proofs/inclusion. Read-only: answered from stored tree
nodes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from allocation import service as alloc
from identity.roles import Principal
from kernel.errors import NotFound
from ledger import transparency
from web.api.common import errors as _err
from web.api.common import platform as _p
from web.api.models import PathId
from web.auth import current_user, ensure_enterprise_access, require

router = APIRouter(tags=["ledger transparency"])
Public = Depends(current_user)
BIG = 2**62
Size = Annotated[int, Query(ge=-BIG, le=BIG)]


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="64 lowercase hex digits")
    timestamp: str = Field(description="RFC 3339 UTC, e.g. 2026-12-06T03:00:00Z")
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature of the checkpoint text")


class CheckpointsOut(BaseModel):
    origin: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    key_id: str = Field(description="hex of the first 8 bytes of SHA-256(public key)")
    checkpoints: list[CheckpointOut]


class RecordOut(BaseModel):
    kind: str = Field(description="journal | trade | permit_quantity | permit_event")
    ref: str


class PublicRecordOut(BaseModel):
    kind: str = Field(description="journal | trade | permit_quantity | permit_event")
    ref: str | None = Field(description="a journal entry's seq or a trade's id; null for a "
                                        "permit quantity or a permit event (it would name "
                                        "the permit)")


class PublicInclusionOut(BaseModel):
    """The public proof: the leaf's hash, not its data (docs/public-disclosure.md)."""
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]
    record: PublicRecordOut


class InclusionOut(BaseModel):
    """An enterprise's own proof: with the leaf's data, which the verifier hashes."""
    leaf_index: int
    tree_size: int
    leaf_data: str = Field(description="base64 of the record's canonical bytes")
    leaf_hash: str
    root_hash: str
    audit_path: list[str]
    record: RecordOut


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    consistency_path: list[str]


@router.get("/public/ledger/checkpoints", response_model=CheckpointsOut,
            responses=_err(401))
def checkpoints(request: Request, _user: Principal | None = Public) -> dict[str, Any]:
    """Every signed checkpoint of this log (ascending tree size) and the key that signed
    them: what `erts ledger verify --checkpoints FILE` and a witness keep."""
    p = _p(request)
    return transparency.published(p.read_uow(), origin=p.settings.ledger_origin)


@router.get("/public/ledger/proofs/inclusion", response_model=PublicInclusionOut,
            responses=_err(401, 404, 422))
def inclusion(request: Request, entry: Annotated[int, Query(ge=-BIG, le=BIG)],
              size: Annotated[int | None, Query(ge=-BIG, le=BIG)] = None,
              _user: Principal | None = Public) -> dict[str, Any]:
    """The audit path of leaf `entry` in the tree of `size` leaves (default: the latest
    checkpoint's), from the leaf's hash: the leaf's data are not published (an enterprise
    gets them for its own leaves from /enterprises/{code}/ledger/proofs/inclusion). 404
    `ledger_leaf_not_found`, 422 `tree_size_out_of_range`."""
    return transparency.public_inclusion(_p(request).read_uow(), entry, size)


def ledger_owners(request: Request, user: Principal, code: str) -> set[str] | None:
    """The holder codes whose leaves `user` may read in full through enterprise `code`: the
    enterprise's credit code and its permits' codes; None (every leaf) for the city bureau.
    Another enterprise (or a district officer's other district) is refused as a missing
    leaf would be."""
    try:
        ensure_enterprise_access(user, code)
        view = alloc.enterprise_view(_p(request).read_uow(), code)
    except NotFound:
        return set()
    if user.is_bureau and user.district is None:
        return None
    return {code, *(str(x["code"]) for x in view["permits"])}  # type: ignore[attr-defined]


@router.get("/enterprises/{code}/ledger/proofs/inclusion", response_model=InclusionOut,
            responses=_err(401, 403, 404, 422))
def own_inclusion(request: Request, code: PathId,
                  entry: Annotated[int, Query(ge=-BIG, le=BIG)],
                  size: Annotated[int | None, Query(ge=-BIG, le=BIG)] = None,
                  user: Principal = Depends(require("enterprise:read"))) -> dict[str, Any]:
    """The inclusion proof of one of the enterprise's own leaves WITH its data (base64 of
    the record's canonical bytes), for the standalone verifier to hash: its journal entries
    (on its or its permits' accounts), its trades, its permits' quantities and events.
    A leaf that is not the enterprise's, or an enterprise the caller may not see, is 404
    `ledger_leaf_not_found` exactly like a leaf that does not exist; the city bureau reads
    any leaf."""
    owners = ledger_owners(request, user, code)
    return transparency.inclusion(_p(request).read_uow(), entry, size, owners=owners)


@router.get("/public/ledger/proofs/consistency", response_model=ConsistencyOut,
            responses=_err(401, 422))
def consistency(request: Request, first: Annotated[int, Query(alias="from", ge=-BIG, le=BIG)],
                to: Size, _user: Principal | None = Public) -> dict[str, Any]:
    """That the tree of `from` leaves is a prefix of the tree of `to` leaves. 422
    `consistency_range_invalid`, `tree_size_out_of_range`."""
    return transparency.consistency(_p(request).read_uow(), first, to)
