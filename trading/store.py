"""Trading repository: markets, orders and trades. All SQL of trading lives here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trading.tables import MarketRow, OrderRow, TradeRow


class TradingStore:
    def __init__(self, session: Session) -> None:
        self.s = session

    @property
    def postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    def market(self, market_id: str, *, lock: bool = False) -> MarketRow | None:
        q = select(MarketRow).where(MarketRow.id == market_id).execution_options(
            populate_existing=True)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def markets(self) -> list[MarketRow]:
        return list(self.s.scalars(select(MarketRow).order_by(MarketRow.pollutant,
                                                              MarketRow.zone,
                                                              MarketRow.vintage)))

    def add(self, row: object) -> None:
        self.s.add(row)

    def flush(self) -> None:
        self.s.flush()

    def order(self, order_id: str) -> OrderRow | None:
        return self.s.scalar(select(OrderRow).where(OrderRow.id == order_id))

    def open_orders(self, market_id: str) -> list[OrderRow]:
        """Resting orders in priority (arrival) order: the book is rebuilt from these."""
        return list(self.s.scalars(select(OrderRow).where(
            OrderRow.market == market_id, OrderRow.status == "open").order_by(OrderRow.seq)))

    def orders_of(self, enterprise: str, limit: int = 100) -> list[OrderRow]:
        return list(self.s.scalars(select(OrderRow).where(OrderRow.enterprise == enterprise)
                                   .order_by(OrderRow.seq.desc()).limit(limit)))

    def trades(self, market_id: str | None = None, enterprise: str | None = None,
               limit: int = 50) -> list[TradeRow]:
        q = select(TradeRow)
        if market_id:
            q = q.where(TradeRow.market == market_id)
        if enterprise:
            q = q.where((TradeRow.buyer == enterprise) | (TradeRow.seller == enterprise))
        return list(self.s.scalars(q.order_by(TradeRow.id.desc()).limit(limit)))

    def trades_between(self, market_id: str, start: datetime, end: datetime) -> list[TradeRow]:
        return list(self.s.scalars(select(TradeRow).where(
            TradeRow.market == market_id, TradeRow.at >= start, TradeRow.at < end)
            .order_by(TradeRow.id)))

    def bump(self, market_id: str, last_price: int | None) -> None:
        values: dict[str, object] = {"version": MarketRow.version + 1}
        if last_price is not None:
            values["last_price"] = last_price
        self.s.execute(update(MarketRow).where(MarketRow.id == market_id).values(**values))

    def set_state(self, market_id: str, state: str) -> None:
        self.s.execute(update(MarketRow).where(MarketRow.id == market_id).values(state=state))

    def trade_count(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(TradeRow)) or 0)
