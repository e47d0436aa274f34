"""Composition root: builds the database and the ports from `Settings`."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import configure_mappers

from allocation.service import PermitRegistry
from app.settings import Settings
from ledger.entries import Transfer
from ledger.service import BatchResult
from ledger.service import submit as ledger_submit
from ledger.transactions import Initiator
from ledger.transparency import install as install_ledger_log
from ledger.writer import Writer
from storage.db import Database, UnitOfWork
from trading.matcher import SOCKET_ENV, MatcherClient
from trading.pipeline import OrderPipeline
from trading.service import OrderResult, PlaceOrder, cancel_order, place_order, replace_order


@dataclass
class Platform:
    settings: Settings
    db: Database
    permits: PermitRegistry
    _pipeline: OrderPipeline | None = field(default=None, repr=False)
    _writer: Writer | None = field(default=None, repr=False)
    #: the matching process's client, when `erts serve --workers N` runs one
    #: (`ERTS_MATCHER_SOCKET`): orders and cancels of every web worker go to it
    _matcher: MatcherClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def uow(self) -> UnitOfWork:
        return self.db.uow()

    def read_uow(self) -> UnitOfWork:
        return self.db.read_uow()

    def place_order(self, cmd: PlaceOrder, *, actor: str,
                    audit: dict[str, Any] | None = None) -> OrderResult:
        """Place a continuous-market order as the API and the pages do: through the matching
        process when the server runs one (several workers), else through this process's
        order pipeline (`settings.order_pipeline`, the default), else in its own
        transaction. Either way it returns once committed, or raises its rejection.
        `audit`: the request's audit row, written in the order's transaction by the
        pipeline (which then sets `audit["recorded"]`)."""
        fee = self.settings.fee_bps
        if not self.settings.order_pipeline:
            return place_order(self.uow(), cmd, permits=self.permits, actor=actor,
                               fee_bps=fee)
        return self._route().place(cmd, actor=actor, fee_bps=fee, audit=audit)

    def cancel_order(self, *, enterprise: str, order_id: str, actor: str,
                     audit: dict[str, Any] | None = None) -> OrderResult:
        """Cancel an open order the way orders are placed (the matcher, the pipeline, or
        alone, as `place_order` chooses)."""
        if not self.settings.order_pipeline:
            return cancel_order(self.uow(), enterprise=enterprise, order_id=order_id,
                                actor=actor)
        return self._route().cancel_order(enterprise=enterprise, order_id=order_id,
                                          actor=actor, audit=audit)

    def replace_order(self, *, enterprise: str, order_id: str, qty: int | None,
                      price: int | None, actor: str) -> OrderResult:
        """Amend an open order the way orders are placed (the matcher, the pipeline, or
        alone, as `place_order` chooses), so the process that owns the book moves it."""
        fee = self.settings.fee_bps
        if not self.settings.order_pipeline:
            return replace_order(self.uow(), enterprise=enterprise, order_id=order_id,
                                 qty=qty, price=price, permits=self.permits, actor=actor,
                                 fee_bps=fee)
        return self._route().replace_order(enterprise=enterprise, order_id=order_id, qty=qty,
                                           price=price, actor=actor, fee_bps=fee)

    def _route(self) -> OrderPipeline | MatcherClient:
        with self._lock:
            socket_path = os.environ.get(SOCKET_ENV)
            if socket_path:
                if self._matcher is None:
                    self._matcher = MatcherClient(socket_path)
                return self._matcher
            return self._own_pipeline()

    def order_pipeline(self) -> OrderPipeline:
        """This process's order pipeline (started on first use)."""
        with self._lock:
            return self._own_pipeline()

    def _own_pipeline(self) -> OrderPipeline:
        if self._pipeline is None:
            from identity.store import audit_sink

            self._pipeline = OrderPipeline(self.uow, self.permits, audit=audit_sink)
        return self._pipeline

    def submit_transfers(self, transfers: Sequence[Transfer], *, initiator: Initiator,
                         actor: str, batch: str | None = None) -> BatchResult:
        """Apply a linked ledger batch as the API does: through the ledger's group-commit
        writer (`settings.ledger_group_commit`, the default), else in its own transaction.
        Either way it returns once committed (or replayed), or raises its rejection."""
        if not self.settings.ledger_group_commit:
            return ledger_submit(self.uow, transfers, initiator=initiator, actor=actor,
                                 batch=batch)
        with self._lock:
            if self._writer is None:
                self._writer = Writer(self.uow)
            writer = self._writer
        return writer.submit(transfers, initiator=initiator, actor=actor, batch=batch)

    def close(self) -> None:
        with self._lock:
            pipe, self._pipeline = self._pipeline, None
            writer, self._writer = self._writer, None
            matcher, self._matcher = self._matcher, None
        if matcher is not None:
            matcher.close()
        if pipe is not None:
            pipe.close()
        if writer is not None:
            writer.close()
        self.db.dispose()


def build(settings: Settings) -> Platform:
    db = Database(settings.database_url)
    install_ledger_log(db.engine)  # bound records become log leaves before each commit
    return Platform(settings, db, PermitRegistry())


def settle_heap() -> None:
    """Once the server is up: move every object alive now (modules, the app, its caches) out
    of the garbage collector's reach (`gc.freeze`). They live as long as the process, yet a
    full collection would walk them all: measured in the order pipeline, one took 83 ms and
    held every order of a group for it (the p99). Collections then walk only what requests
    create.

    First, the ORM's mappers are configured: SQLAlchemy does it on the first query, which
    was the first request's, and all the requests arriving meanwhile waited for it (about
    0.1 s, in a profile of a server's first two seconds under load)."""
    configure_mappers()
    gc.collect()
    gc.freeze()
