"""Trading repository: markets, orders, trades, auctions, listings and negotiated transfers.
All SQL of trading lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import column, func, or_, select, table, update
from sqlalchemy.orm import Session

from storage.bulk import insert_rows, pg_rows, pg_run, update_rows
from trading.tables import (
    AuctionBidRow,
    AuctionRow,
    ListingRow,
    MarketRow,
    NegotiatedTransferRow,
    OrderRow,
    TradeRow,
)

# The registry's enterprise table, named here only to scope a district officer's lists (the
# way identity names it: the contexts stay independent in code, one schema underneath)
_enterprise = table("enterprise", column("credit_code"), column("district"))


def _of_district(district: str) -> Any:
    """The credit codes of the enterprises of `district` (a subquery)."""
    return select(_enterprise.c.credit_code).where(_enterprise.c.district == district)


_ORDER_COLUMNS = tuple(c.name for c in OrderRow.__table__.columns if c.name != "seq")
_TRADE_COLUMNS = tuple(c.name for c in TradeRow.__table__.columns if c.name != "id")
_MARKET_ALL = tuple(c.name for c in MarketRow.__table__.columns)
_ORDER_ALL = tuple(c.name for c in OrderRow.__table__.columns)
_TRADE_ALL = tuple(c.name for c in TradeRow.__table__.columns)


class _Record:
    """A row as plain attributes (the subclass's `__slots__` are its columns); a column not
    given is None."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))


class OrderRecord(_Record):
    """An order row as plain attributes, outside any session: the order pipeline's working
    copy (`insert_orders` and `update_orders` store it). A group makes one per order, and an
    ORM `OrderRow` costs several times more to build (every attribute is instrumented)."""

    __slots__ = _ORDER_ALL
    seq: int  # None until inserted (as an ORM row before its flush)
    id: str
    market: str
    enterprise: str
    permit: str
    side: str
    price: int | None
    qty: int
    remaining: int
    filled: int
    cancelled: int
    tif: str
    status: str
    hold_id: str | None
    created_at: datetime
    kind: str
    post_only: bool
    stp: str
    priority: int | None
    reason: str | None
    client_id: str | None


class TradeRecord(_Record):
    """A trade row as plain attributes (the pipeline's, as `OrderRecord`); `insert_trades`
    gives it its id."""

    __slots__ = _TRADE_ALL
    id: int  # None until `insert_trades` (as an ORM row before its flush)
    market: str
    buy_order: str
    sell_order: str
    buyer: str
    seller: str
    buyer_permit: str
    seller_permit: str
    price: int
    qty: int
    value_fen: int
    aggressor: str
    at: datetime
    fee_buyer: int
    fee_seller: int
    venue: str


#: an order as the ORM loads it, or as the pipeline works on it
AnyOrder = OrderRow | OrderRecord
# the order pipeline's statements on PostgreSQL, fixed texts prepared on the driver
# FOR UPDATE locks the rows as the sort hands them over: in ascending id order
_PG_MARKETS_LOCK = (f"SELECT {', '.join(_MARKET_ALL)} FROM market "
                    "WHERE id = ANY(%s::varchar[]) ORDER BY id FOR UPDATE")
_PG_ORDERS_BY_ID = (f"SELECT {', '.join(_ORDER_ALL)} FROM trading_order "
                    "WHERE id = ANY(%s::varchar[]) ORDER BY id")
#: each market's trades above its own mark: one range scan of (market, id) per market
_PG_PURCHASES_AFTER = ("SELECT t.id, t.market, t.buyer_permit, t.qty, t.at "
                       "FROM unnest(%s::varchar[], %s::bigint[]) AS m(market, mark) "
                       "CROSS JOIN LATERAL (SELECT id, market, buyer_permit, qty, at FROM trade "
                       "WHERE trade.market = m.market AND trade.id > m.mark) AS t ORDER BY t.id")
_PG_BUMP = ("UPDATE market SET version = version + 1, "
            "last_price = COALESCE(%s::bigint, last_price) WHERE id = %s")
_PG_BUMP_MANY = ("UPDATE market AS m SET version = m.version + 1, "
                 "last_price = COALESCE(v.last_price, m.last_price) "
                 "FROM unnest(%s::varchar[], %s::bigint[]) AS v(id, last_price) "
                 "WHERE m.id = v.id")


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

    def markets_apart(self, market_ids: Iterable[str]) -> dict[str, MarketRow]:
        """`market(lock=True)` of each market that exists, locked in ascending id order, for
        a caller that only reads the rows (the order pipeline): on PostgreSQL row objects
        outside the session, read and locked by one prepared statement."""
        wanted = sorted(set(market_ids))
        if not self.postgres:
            found = (self.market(i, lock=True) for i in wanted)
            return {m.id: m for m in found if m is not None}
        return {r[0]: MarketRow(**dict(zip(_MARKET_ALL, r, strict=True)))
                for r in pg_rows(self.s, _PG_MARKETS_LOCK, (wanted,))}

    def markets(self) -> list[MarketRow]:
        return list(self.s.scalars(select(MarketRow).order_by(MarketRow.pollutant,
                                                              MarketRow.zone,
                                                              MarketRow.vintage)))

    def add(self, row: object) -> None:
        self.s.add(row)

    def flush(self) -> None:
        self.s.flush()

    def insert_orders(self, rows: Sequence[AnyOrder]) -> None:
        """New orders in one statement, in arrival order (their seq follows it). The row
        objects stay outside the session."""
        insert_rows(self.s, OrderRow.__table__, [  # type: ignore[arg-type]
            {c: getattr(r, c) for c in _ORDER_COLUMNS} for r in rows])

    def insert_trades(self, rows: Sequence[TradeRow | TradeRecord]) -> None:
        """New trades in one statement; sets each row's id. The row objects stay outside
        the session."""
        ids = insert_rows(self.s, TradeRow.__table__, [  # type: ignore[arg-type]
            {c: getattr(r, c) for c in _TRADE_COLUMNS} for r in rows], returning="id")
        for r, i in zip(rows, ids, strict=True):
            r.id = i

    def orders_apart(self, ids: Iterable[str]) -> list[OrderRecord]:
        """These orders as they are stored, as records outside the session: changing them
        writes nothing until `update_orders` is given them."""
        wanted = sorted(set(ids))
        if self.postgres:
            found: Iterable[Sequence[Any]] = pg_rows(self.s, _PG_ORDERS_BY_ID, (wanted,))
        else:
            T = OrderRow.__table__
            found = self.s.execute(select(*(T.c[c] for c in _ORDER_ALL))  # type: ignore[attr-defined]
                                   .where(T.c.id.in_(wanted)).order_by(T.c.id))  # type: ignore[attr-defined]
        return [OrderRecord(**dict(zip(_ORDER_ALL, r, strict=True))) for r in found]

    def update_orders(self, rows: Sequence[AnyOrder]) -> None:
        """Store the state of existing orders (taken out by `orders_apart`) in one
        statement."""
        update_rows(self.s, OrderRow.__table__, "seq", [  # type: ignore[arg-type]
            dict(seq=r.seq, remaining=r.remaining, filled=r.filled, cancelled=r.cancelled,
                 status=r.status, reason=r.reason) for r in rows])

    def order(self, order_id: str) -> OrderRow | None:
        return self.s.scalar(select(OrderRow).where(OrderRow.id == order_id))

    def existing_order_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these order ids are taken."""
        wanted = sorted(set(ids))
        return set(self.s.scalars(select(OrderRow.id).where(OrderRow.id.in_(wanted)))
                   ) if wanted else set()

    def order_by_client_id(self, enterprise: str, client_id: str) -> OrderRow | None:
        return self.s.scalar(select(OrderRow).where(OrderRow.enterprise == enterprise,
                                                    OrderRow.client_id == client_id))

    def own_order(self, enterprise: str, order_id: str) -> OrderRow | None:
        """The enterprise's order by the platform's id, else by its own client id; another
        enterprise's order is None, as a missing one."""
        r = self.order(order_id)
        if r is not None and r.enterprise == enterprise:
            return r
        return self.order_by_client_id(enterprise, order_id)

    def existing_client_ids(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (enterprise, client order id) pairs are taken."""
        wanted = sorted(set(pairs))
        if not wanted:
            return set()
        q = select(OrderRow.enterprise, OrderRow.client_id).where(
            OrderRow.enterprise.in_({e for e, _ in wanted}),
            OrderRow.client_id.in_({c for _, c in wanted}))
        return {(e, c) for e, c in self.s.execute(q) if c is not None} & set(wanted)

    def orders_by_id(self, ids: Iterable[str]) -> list[OrderRow]:
        return list(self.s.scalars(select(OrderRow).where(OrderRow.id.in_(sorted(ids)))))

    def open_orders(self, market_id: str) -> list[OrderRow]:
        """Resting orders in time priority: arrival (seq), or the priority a replace that
        lost priority gave them. The book is rebuilt from these."""
        return list(self.s.scalars(select(OrderRow).where(
            OrderRow.market == market_id, OrderRow.status == "open")
            .order_by(func.coalesce(OrderRow.priority, OrderRow.seq), OrderRow.seq)))

    def next_priority(self, market_id: str) -> int:
        """A time priority behind every resting order of the market (under its lock). Orders
        placed later get a larger seq, so they still come after it (ties go to the seq)."""
        top = self.s.scalar(select(func.max(func.coalesce(OrderRow.priority, OrderRow.seq)))
                            .where(OrderRow.market == market_id))
        return int(top or 0) + 1

    def depth(self, market_id: str, levels: int) -> tuple[list[tuple[int, int]],
                                                          list[tuple[int, int]]]:
        """(bids, asks) as (price, open qty), best first, from the resting orders."""
        out: list[list[tuple[int, int]]] = []
        for side, order in (("buy", OrderRow.price.desc()), ("sell", OrderRow.price.asc())):
            if not levels:
                out.append([])
                continue
            rows = self.s.execute(select(OrderRow.price, func.sum(OrderRow.remaining)).where(
                OrderRow.market == market_id, OrderRow.status == "open", OrderRow.side == side)
                .group_by(OrderRow.price).order_by(order).limit(levels)).all()
            out.append([(int(p or 0), int(q or 0)) for p, q in rows])
        return out[0], out[1]

    def bought_between(self, permit: str, market_id: str, start: datetime, end: datetime
                       ) -> int:
        return int(self.s.scalar(select(func.coalesce(func.sum(TradeRow.qty), 0)).where(
            TradeRow.buyer_permit == permit, TradeRow.market == market_id,
            TradeRow.at >= start, TradeRow.at < end)) or 0)

    def bought_by(self, permits: Iterable[str], market_id: str, start: datetime,
                  end: datetime, *, up_to: int | None = None) -> dict[str, int]:
        """`bought_between` for several permits in one statement (absent: nothing bought);
        `up_to`: only trades with ids up to it."""
        wanted = sorted(set(permits))
        if not wanted:
            return {}
        q = select(TradeRow.buyer_permit, func.sum(TradeRow.qty)).where(
            TradeRow.buyer_permit.in_(wanted), TradeRow.market == market_id,
            TradeRow.at >= start, TradeRow.at < end)
        if up_to is not None:
            q = q.where(TradeRow.id <= up_to)
        rows = self.s.execute(q.group_by(TradeRow.buyer_permit))
        return {str(p): int(q or 0) for p, q in rows}

    def last_trade_id(self) -> int:
        return int(self.s.scalar(select(func.max(TradeRow.id))) or 0)

    def purchases_after(self, marks: dict[str, int]
                        ) -> dict[str, list[tuple[int, str, int, datetime]]]:
        """For each market, (id, buyer permit, qty, at) of its trades with ids above its
        mark, in id order, in one statement: on PostgreSQL a range scan of the (market, id)
        index per market from its own mark, however many trades came before (or came in
        other markets since)."""
        if not marks:
            return {}
        after, markets = min(marks.values()), sorted(marks)
        if self.postgres:
            rows: Iterable[Sequence[Any]] = pg_rows(self.s, _PG_PURCHASES_AFTER,
                                                    (markets, [marks[m] for m in markets]))
        else:
            rows = self.s.execute(
                select(TradeRow.id, TradeRow.market, TradeRow.buyer_permit, TradeRow.qty,
                       TradeRow.at)
                .where(TradeRow.id > after, TradeRow.market.in_(markets))
                .order_by(TradeRow.id))
        out: dict[str, list[tuple[int, str, int, datetime]]] = {m: [] for m in markets}
        for i, m, p, q, a in rows:
            if i > marks[m]:
                out[m].append((int(i), str(p), int(q), a))
        return out

    def orders_of(self, enterprise: str, limit: int = 100) -> list[OrderRow]:
        return list(self.s.scalars(select(OrderRow).where(OrderRow.enterprise == enterprise)
                                   .order_by(OrderRow.seq.desc()).limit(limit)))

    def trade(self, trade_id: int) -> TradeRow | None:
        return self.s.get(TradeRow, trade_id)

    def trades_at(self, at: datetime) -> list[TradeRow]:
        """Every trade written at this instant, in the order written."""
        return list(self.s.scalars(select(TradeRow).where(TradeRow.at == at)
                                   .order_by(TradeRow.id)))

    def trades(self, market_id: str | None = None, enterprise: str | None = None,
               limit: int = 50, district: str | None = None) -> list[TradeRow]:
        """Newest first; `district`: trades with a party of that district."""
        q = select(TradeRow)
        if market_id:
            q = q.where(TradeRow.market == market_id)
        if enterprise:
            q = q.where((TradeRow.buyer == enterprise) | (TradeRow.seller == enterprise))
        if district is not None:
            q = q.where(or_(TradeRow.buyer.in_(_of_district(district)),
                            TradeRow.seller.in_(_of_district(district))))
        return list(self.s.scalars(q.order_by(TradeRow.id.desc()).limit(limit)))

    def trades_between(self, market_id: str, start: datetime, end: datetime,
                       venue: str | None = None) -> list[TradeRow]:
        q = select(TradeRow).where(TradeRow.market == market_id, TradeRow.at >= start,
                                   TradeRow.at < end)
        if venue is not None:
            q = q.where(TradeRow.venue == venue)
        return list(self.s.scalars(q.order_by(TradeRow.id)))

    def last_trade_before(self, market_id: str, before: datetime, venue: str | None = None
                          ) -> TradeRow | None:
        q = select(TradeRow).where(TradeRow.market == market_id, TradeRow.at < before)
        if venue is not None:
            q = q.where(TradeRow.venue == venue)
        return self.s.scalar(q.order_by(TradeRow.at.desc(), TradeRow.id.desc()).limit(1))

    def bump(self, market_id: str, last_price: int | None) -> None:
        if self.postgres:
            pg_run(self.s, _PG_BUMP, (last_price, market_id))
            return
        values: dict[str, object] = {"version": MarketRow.version + 1}
        if last_price is not None:
            values["last_price"] = last_price
        self.s.execute(update(MarketRow).where(MarketRow.id == market_id).values(**values))

    def bump_many(self, last_prices: dict[str, int | None]) -> None:
        """`bump` each market (market id -> its last price, None to keep it), in one
        statement on PostgreSQL."""
        if not self.postgres or len(last_prices) == 1:
            for market_id, price in last_prices.items():
                self.bump(market_id, price)
            return
        ids = sorted(last_prices)
        pg_run(self.s, _PG_BUMP_MANY, (ids, [last_prices[i] for i in ids]))

    def set_state(self, market_id: str, state: str) -> None:
        self.s.execute(update(MarketRow).where(MarketRow.id == market_id).values(state=state))

    def trade_count(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(TradeRow)) or 0)

    # -- auctions ---------------------------------------------------------------------------
    def auction(self, auction_id: str, *, lock: bool = False) -> AuctionRow | None:
        q = select(AuctionRow).where(AuctionRow.id == auction_id).execution_options(
            populate_existing=True)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def auctions(self, market_id: str | None = None, limit: int = 100) -> list[AuctionRow]:
        q = select(AuctionRow)
        if market_id:
            q = q.where(AuctionRow.market == market_id)
        return list(self.s.scalars(q.order_by(AuctionRow.created_at.desc()).limit(limit)))

    def due_auctions(self, now: datetime) -> list[AuctionRow]:
        """Auctions with a scheduled step due at `now` (announce, open or close)."""
        return list(self.s.scalars(select(AuctionRow).where(or_(
            (AuctionRow.status == "draft") & (AuctionRow.announce_at <= now),
            AuctionRow.status.in_(("draft", "announced")) & (AuctionRow.open_at <= now),
            (AuctionRow.status == "open") & (AuctionRow.close_at <= now),
        )).order_by(AuctionRow.id)))

    def bids(self, auction_id: str, district: str | None = None) -> list[AuctionBidRow]:
        """Bids in arrival order: the order the tie-break permutation is applied to;
        `district`: only those of that district's enterprises."""
        q = select(AuctionBidRow).where(AuctionBidRow.auction == auction_id)
        if district is not None:
            q = q.where(AuctionBidRow.enterprise.in_(_of_district(district)))
        return list(self.s.scalars(q.order_by(AuctionBidRow.seq)))

    def bid(self, bid_id: str) -> AuctionBidRow | None:
        return self.s.scalar(select(AuctionBidRow).where(AuctionBidRow.id == bid_id))

    # -- listings ---------------------------------------------------------------------------
    def listing(self, listing_id: str, *, lock: bool = False) -> ListingRow | None:
        q = select(ListingRow).where(ListingRow.id == listing_id).execution_options(
            populate_existing=True)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def listings(self, market_id: str | None = None, status: str | None = "open",
                 limit: int = 100) -> list[ListingRow]:
        q = select(ListingRow)
        if market_id:
            q = q.where(ListingRow.market == market_id)
        if status:
            q = q.where(ListingRow.status == status)
        return list(self.s.scalars(q.order_by(ListingRow.created_at).limit(limit)))

    # -- negotiated transfers ---------------------------------------------------------------
    def transfer(self, transfer_id: str, *, lock: bool = False
                 ) -> NegotiatedTransferRow | None:
        q = select(NegotiatedTransferRow).where(
            NegotiatedTransferRow.id == transfer_id).execution_options(populate_existing=True)
        if lock and self.postgres:
            q = q.with_for_update()
        return self.s.scalar(q)

    def in_district(self, enterprises: Iterable[str], district: str) -> set[str]:
        """Those of `enterprises` that lie in `district`."""
        codes = sorted(set(enterprises))
        return set(self.s.scalars(_of_district(district).where(
            _enterprise.c.credit_code.in_(codes)))) if codes else set()

    def transfers_of(self, enterprise: str | None = None, status: str | None = None,
                     limit: int = 100, district: str | None = None
                     ) -> list[NegotiatedTransferRow]:
        """Newest first; `district`: transfers with a party of that district."""
        q = select(NegotiatedTransferRow)
        if enterprise:
            q = q.where((NegotiatedTransferRow.seller == enterprise)
                        | (NegotiatedTransferRow.buyer == enterprise))
        if district is not None:
            q = q.where(or_(NegotiatedTransferRow.seller.in_(_of_district(district)),
                            NegotiatedTransferRow.buyer.in_(_of_district(district))))
        if status:
            q = q.where(NegotiatedTransferRow.status == status)
        return list(self.s.scalars(q.order_by(NegotiatedTransferRow.created_at.desc())
                                   .limit(limit)))

    def expired_transfers(self, now: datetime, limit: int = 500) -> list[str]:
        return list(self.s.scalars(select(NegotiatedTransferRow.id).where(
            NegotiatedTransferRow.status == "proposed", NegotiatedTransferRow.expires_at <= now)
            .order_by(NegotiatedTransferRow.id).limit(limit)))
