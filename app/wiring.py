"""Composition root: builds the database and the ports from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from allocation.service import PermitRegistry
from app.settings import Settings
from storage.db import Database, UnitOfWork


@dataclass
class Platform:
    settings: Settings
    db: Database
    permits: PermitRegistry

    def uow(self) -> UnitOfWork:
        return self.db.uow()

    def read_uow(self) -> UnitOfWork:
        return self.db.read_uow()

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings) -> Platform:
    return Platform(settings, Database(settings.database_url), PermitRegistry())
