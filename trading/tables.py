"""Trading tables: markets, orders (with their holds) and trades."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.metadata import Base

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class MarketRow(Base):
    """One market per pollutant, zone and vintage; its id is the ledger asset code."""

    __tablename__ = "market"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    zone: Mapped[str] = mapped_column(ForeignKey("zone.code"))
    vintage: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8), default="open")  # open|halted|closed
    tick: Mapped[int] = mapped_column(Integer, default=1)
    min_lot: Mapped[int] = mapped_column(Integer, default=1)
    reference_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    band_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: bumped by every write; the row is locked FOR UPDATE so one writer per market
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class OrderRow(Base):
    __tablename__ = "trading_order"
    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    market: Mapped[str] = mapped_column(ForeignKey("market.id"))
    enterprise: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    filled: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    tif: Mapped[str] = mapped_column(String(4), default="gtc")
    status: Mapped[str] = mapped_column(String(10))  # open|filled|cancelled
    hold_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_trading_order_market_status", "market", "status"),)


class TradeRow(Base):
    __tablename__ = "trade"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    market: Mapped[str] = mapped_column(ForeignKey("market.id"), index=True)
    buy_order: Mapped[str] = mapped_column(String(64))
    sell_order: Mapped[str] = mapped_column(String(64))
    buyer: Mapped[str] = mapped_column(String(18), index=True)
    seller: Mapped[str] = mapped_column(String(18), index=True)
    buyer_permit: Mapped[str] = mapped_column(String(22))
    seller_permit: Mapped[str] = mapped_column(String(22))
    price: Mapped[int] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(BigInteger)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    aggressor: Mapped[str] = mapped_column(String(4))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
