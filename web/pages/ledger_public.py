"""Pages of the ledger's transparency log (issue 16; docs/ledger-transparency.md):

- `/public/ledger` (no log-in): the signed checkpoints, the public key that signed them and
  how to verify; `/public/ledger/proof?entry=N`: one leaf's inclusion proof against the
  latest checkpoint, checked here and linked to its JSON;
- `/public/ledger/trades/{id}`: the proof of a trade's record (a link from every trade row);
- `/enterprises/{code}/ledger`: an enterprise's ledger statement (the entries of its
  accounts and permits, its trades), each line linking to the inclusion proof of its leaf
  and, once signed, to its own proof with the leaf's data as JSON
  (`/api/v1/enterprises/{code}/ledger/proofs/inclusion`).

The public pages show hashes, sizes and times, never a record's content (the public
disclosure's rule: no parties, cash or holdings); a permit quantity's or event's ref is not
shown either (`transparency.PUBLIC_REF_KINDS`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from allocation import service as alloc
from identity.roles import Principal
from kernel.errors import NotFound
from ledger import merkle, transparency
from ledger import service as ledger_service
from trading import service as trading
from web.auth import current_user, ensure_enterprise_access, require
from web.pages.base import _p
from web.pages.render import render

router = APIRouter(include_in_schema=False)
BIG = 2**62


@router.get("/public/ledger", response_class=HTMLResponse)
def checkpoints(request: Request, user: Principal | None = Depends(current_user)
                ) -> HTMLResponse:
    p = _p(request)
    doc = transparency.published(p.read_uow(), origin=p.settings.ledger_origin)
    cps = list(reversed(doc["checkpoints"]))  # type: ignore[call-overload]
    return render(request, "public_ledger.html", doc=doc, cps=cps[:200], total=len(cps))


@router.get("/public/ledger/proof", response_class=HTMLResponse)
def proof(request: Request, entry: Annotated[int, Query(ge=0, le=BIG)],
          size: Annotated[int | None, Query(ge=1, le=BIG)] = None,
          user: Principal | None = Depends(current_user)) -> HTMLResponse:
    p = _p(request)
    if size is None:  # the latest checkpoint's tree, or the tree now for a newer leaf
        last = transparency.latest_size(p.read_uow())
        size = last if last > entry else None
        if size is None:
            size = max(transparency.tree_size(p.read_uow()), 1)
    got = transparency.public_inclusion(p.read_uow(), entry, size)
    path = [bytes.fromhex(h) for h in got["audit_path"]]  # type: ignore[attr-defined]
    ok = merkle.verify_inclusion(  # from the leaf's hash: its data are not published
        bytes.fromhex(str(got["leaf_hash"])), entry,
        int(got["tree_size"]), path, bytes.fromhex(str(got["root_hash"])))  # type: ignore[call-overload]
    doc = transparency.published(p.read_uow(), origin=p.settings.ledger_origin)
    signed = next((c for c in doc["checkpoints"]  # type: ignore[attr-defined]
                   if c["tree_size"] == got["tree_size"]), None)
    return render(request, "public_ledger_proof.html", proof=got, ok=ok, signed=signed,
                  doc=doc)


@router.get("/public/ledger/trades/{trade_id}", response_model=None)
def trade_proof(request: Request, trade_id: Annotated[int, Path(ge=0, le=BIG)]
                ) -> RedirectResponse:
    """The proof page of a trade's record as last written (404 when it has no leaf)."""
    found = transparency.leaves_of(_p(request).read_uow(), "trade", [str(trade_id)])
    if not found:
        raise NotFound(f"trade {trade_id} has no leaf in the ledger log", field="trade")
    return RedirectResponse(f"/public/ledger/proof?entry={found[str(trade_id)][-1]}",
                            status_code=303)


@router.get("/enterprises/{code}/ledger", response_class=HTMLResponse)
def statement(request: Request, code: str,
              user: Principal = Depends(require("enterprise:read"))) -> HTMLResponse:
    ensure_enterprise_access(user, code)
    p = _p(request)
    view = alloc.enterprise_view(p.read_uow(), code)
    holders = [code, *[str(x["code"]) for x in view["permits"]]]  # type: ignore[attr-defined]
    seen: dict[int, dict[str, Any]] = {}
    for h in holders:
        for e in ledger_service.holder_history(p.read_uow(), h, limit=200):
            seen[int(e["seq"])] = e  # type: ignore[call-overload]
    entries = [seen[s] for s in sorted(seen, reverse=True)[:200]]
    leaves = transparency.leaves_of(p.read_uow(), "journal", [str(e["seq"]) for e in entries])
    trades = trading.trades_of(p.read_uow(), code, 100)
    trade_leaves = transparency.leaves_of(p.read_uow(), "trade",
                                          [str(t["id"]) for t in trades])
    doc = transparency.published(p.read_uow(), origin=p.settings.ledger_origin)
    cps: list[dict[str, Any]] = doc["checkpoints"]  # type: ignore[assignment]
    signed = int(cps[-1]["tree_size"]) if cps else 0
    for e in entries:
        found = leaves.get(str(e["seq"]))
        e["leaf"] = found[0] if found else None
    for t in trades:
        found = trade_leaves.get(str(t["id"]))
        t["leaf"] = found[-1] if found else None
    return render(request, "enterprise_ledger.html", e=view, entries=entries, trades=trades,
                  signed=signed, code=code)
