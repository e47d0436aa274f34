"""Trading tables: markets, orders (with their holds), trades, auctions and bids, listings and
negotiated transfers. The schema comes from the migrations (0001, 0004)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
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
    #: why, when and by whom the state was last set (a halt or resumption states a reason;
    #: migration 0028)
    state_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OrderRow(Base):
    __tablename__ = "trading_order"
    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    # market, enterprise and permit, checked (and the market locked) when the order is
    # placed; no row-level foreign keys on PostgreSQL (migration 0014)
    market: Mapped[str] = mapped_column(String(40))
    enterprise: Mapped[str] = mapped_column(String(18), index=True)
    permit: Mapped[str] = mapped_column(String(22))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    filled: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    tif: Mapped[str] = mapped_column(String(4), default="gtc")
    status: Mapped[str] = mapped_column(String(10))  # open|filled|cancelled
    #: prefix of the order's ledger holds (``<hold_id>:hold|room|cash``); a replace moves the
    #: holds to a new prefix
    hold_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(6), default="limit")  # limit | market
    post_only: Mapped[bool] = mapped_column(default=False)
    stp: Mapped[str] = mapped_column(String(14), default="cancel_newest")
    #: time priority when it differs from arrival (a replace that changed the price)
    priority: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)  # why cancelled
    #: the id the client chose, unique within its enterprise only (migration 0028); `id` is
    #: always the platform's, so a client id taken elsewhere tells nothing (issue 19)
    client_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_trading_order_market_status", "market", "status"),
                      UniqueConstraint("enterprise", "client_id",
                                       name="uq_trading_order_enterprise_client_id"))


class TradeRow(Base):
    __tablename__ = "trade"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    market: Mapped[str] = mapped_column(String(40))  # as trading_order.market
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
    fee_buyer: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_seller: Mapped[int] = mapped_column(BigInteger, default=0)
    #: book | listing | negotiated | auction
    venue: Mapped[str] = mapped_column(String(10), default="book")

    # (market, id): a market's trades above an id, one range scan (migration 0036)
    __table_args__ = (Index("ix_trade_buyer_permit_market_at", "buyer_permit", "market", "at"),
                      Index("ix_trade_market_id", "market", "id"))


class AuctionRow(Base):
    """A sealed-bid reserve auction: draft → open → closed → cleared | cancelled → settled."""

    __tablename__ = "auction"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    market: Mapped[str] = mapped_column(ForeignKey("market.id"), index=True)
    offered: Mapped[int] = mapped_column(BigInteger)  # kg from the bureau reserve
    reserve_price: Mapped[int] = mapped_column(BigInteger)  # fen per tonne, >= base price
    rule: Mapped[str] = mapped_column(String(12))  # uniform | pay_as_bid
    tie_seed: Mapped[int] = mapped_column(BigInteger)  # published when the auction is created
    bidder_cap_pct: Mapped[str | None] = mapped_column(String(12), nullable=True)
    deposit_pct: Mapped[int] = mapped_column(Integer, default=100)
    status: Mapped[str] = mapped_column(String(10))
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # clearing price
    sold: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the schedule the server runs (`auction_service.run_due_auctions`; migration 0028)
    announce_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    open_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuctionBidRow(Base):
    __tablename__ = "auction_bid"
    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    auction: Mapped[str] = mapped_column(ForeignKey("auction.id"), index=True)
    enterprise: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    permit: Mapped[str] = mapped_column(ForeignKey("permit.code"))
    qty: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    deposit: Mapped[int] = mapped_column(BigInteger)  # fen held while the auction runs
    won: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: open|won|lost|released|settled|withdrawn|replaced
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ListingRow(Base):
    """A fixed-price listing (挂牌): a seller's tradable rights or the bureau's reserve."""

    __tablename__ = "listing"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    market: Mapped[str] = mapped_column(ForeignKey("market.id"), index=True)
    seller: Mapped[str] = mapped_column(String(18))  # credit code, or BUREAU
    seller_permit: Mapped[str | None] = mapped_column(String(22), nullable=True)
    price: Mapped[int] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # open|sold|withdrawn
    hold_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NegotiatedTransferRow(Base):
    """协议转让: seller proposes, buyer accepts, the bureau approves or rejects; unanswered
    proposals expire."""

    __tablename__ = "negotiated_transfer"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    market: Mapped[str] = mapped_column(ForeignKey("market.id"), index=True)
    seller: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    seller_permit: Mapped[str] = mapped_column(ForeignKey("permit.code"))
    buyer: Mapped[str] = mapped_column(ForeignKey("enterprise.credit_code"), index=True)
    buyer_permit: Mapped[str] = mapped_column(ForeignKey("permit.code"))
    qty: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    #: proposed | accepted | settled | rejected | expired | withdrawn
    status: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trade_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
