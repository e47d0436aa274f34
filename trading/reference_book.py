"""A naive order book with the same API and rules as `trading.book.OrderBook`, for tests.

Written to be obviously correct, not fast: resting orders live in one list in arrival order,
and every command re-sorts or scans it. The rules are those of the `trading.book` module
docstring; the state-machine tests run both books side by side and require equal outcomes.
Rejection messages may differ from the fast book; codes may not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from kernel.errors import IntegrityFault
from trading.book import Cancelled, Fill, Order, Outcome, Rejected


@dataclass
class _Resting:
    order: Order
    rem: int
    seq: int  # arrival number: time priority


class ReferenceBook:
    def __init__(
        self,
        *,
        tick: int = 1,
        min_lot: int = 1,
        price_band: tuple[int, int] | None = None,
        unique_ids: bool = True,
    ) -> None:
        self.unique_ids = unique_ids
        self.tick = tick
        self.min_lot = min_lot
        self.price_band = price_band
        self._resting: list[_Resting] = []
        self._seen: set[str] = set()
        self._seq = 0

    # ------------------------------------------------------------------ helpers

    def _reject(self, order_id: str, code: str) -> Outcome:
        return Outcome(order_id, [], [], Rejected(order_id, code, code), 0)

    def _invalid(self, qty: object, price: object) -> str | None:
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            return "invalid_qty"
        if qty < self.min_lot or qty % self.min_lot != 0:
            return "below_min_lot"
        if price is None:
            return None
        if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            return "invalid_price"
        if price % self.tick != 0:
            return "off_tick"
        if self.price_band is not None:
            low, high = self.price_band
            if price < low or price > high:
                return "price_limit"
        return None

    def _used(self, order_id: str) -> bool:
        """Is the id taken: ever seen, or (``unique_ids=False``) resting now."""
        if self.unique_ids:
            return order_id in self._seen
        return self._find(order_id) is not None

    def _find(self, order_id: str) -> _Resting | None:
        for r in self._resting:
            if r.order.id == order_id:
                return r
        return None

    def _side(self, side: str) -> list[_Resting]:
        """Resting orders of one side in priority order: best price, then earliest."""
        rs = [r for r in self._resting if r.order.side == side]
        if side == "buy":
            return sorted(rs, key=lambda r: (-(r.order.price or 0), r.seq))
        return sorted(rs, key=lambda r: ((r.order.price or 0), r.seq))

    @staticmethod
    def _crosses(taker: Order, maker_price: int) -> bool:
        if taker.price is None:
            return True
        if taker.side == "buy":
            return maker_price <= taker.price
        return maker_price >= taker.price

    def _rest(self, order: Order, rem: int) -> None:
        self._seq += 1
        self._resting.append(_Resting(order, rem, self._seq))

    # ------------------------------------------------------------------ commands

    def submit(self, order: Order) -> Outcome:
        if self._used(order.id):
            return self._reject(order.id, "duplicate_order_id")
        code = self._invalid(order.qty, order.price)
        if code is not None:
            return self._reject(order.id, code)
        if order.post_only and (order.price is None or order.tif != "gtc"):
            return self._reject(order.id, "invalid_order")
        self._seen.add(order.id)

        opposite = "sell" if order.side == "buy" else "buy"
        queue = [r for r in self._side(opposite) if self._crosses(order, r.order.price or 0)]
        out = Outcome(order.id, [], [], None, 0)
        if queue and order.post_only:
            out.cancelled.append(Cancelled(order.id, order.qty, "post_only_would_cross"))
            return out
        if order.tif == "fok":
            need = order.qty
            for r in queue:
                if r.order.owner == order.owner:
                    if order.stp == "cancel_oldest":
                        continue
                    break
                need -= r.rem
                if need <= 0:
                    break
            if need > 0:
                out.cancelled.append(Cancelled(order.id, order.qty, "fok_unfillable"))
                return out

        rem = order.qty
        stopped = False
        for r in queue:
            if rem == 0:
                break
            if r.order.owner == order.owner:
                if order.stp == "cancel_newest":
                    stopped = True
                    break
                out.cancelled.append(Cancelled(r.order.id, r.rem, "self_trade"))
                self._resting.remove(r)
                if order.stp == "cancel_both":
                    stopped = True
                    break
                continue
            take = min(rem, r.rem)
            price = r.order.price
            assert price is not None
            out.fills.append(
                Fill(r.order.id, order.id, r.order.owner, order.owner, price, take, r.order.side)
            )
            rem -= take
            r.rem -= take
            if r.rem == 0:
                self._resting.remove(r)

        if rem == 0:
            return out
        if stopped:
            out.cancelled.append(Cancelled(order.id, rem, "self_trade"))
        elif order.price is None:
            out.cancelled.append(Cancelled(order.id, rem, "market_remainder"))
        elif order.tif == "ioc":
            out.cancelled.append(Cancelled(order.id, rem, "ioc_remainder"))
        elif order.tif == "fok":
            out.cancelled.append(Cancelled(order.id, rem, "fok_unfillable"))
        else:
            self._rest(order, rem)
            out.resting_qty = rem
        return out

    def cancel(self, order_id: str) -> Cancelled | None:
        r = self._find(order_id)
        if r is None:
            return None
        self._resting.remove(r)
        return Cancelled(order_id, r.rem, "user")

    def replace(
        self, order_id: str, *, qty: int | None = None, price: int | None = None
    ) -> Outcome:
        r = self._find(order_id)
        if r is None:
            return self._reject(order_id, "not_live")
        new_qty = r.rem if qty is None else qty
        new_price = r.order.price if price is None else price
        code = self._invalid(new_qty, new_price)
        if code is not None:
            return self._reject(order_id, code)
        if new_price == r.order.price and new_qty <= r.rem:
            if new_qty == r.rem:
                return Outcome(order_id, [], [], None, r.rem)
            reduction = r.rem - new_qty
            r.rem = new_qty
            cut = Cancelled(order_id, reduction, "replaced")
            return Outcome(order_id, [], [cut], None, new_qty)
        self._resting.remove(r)
        self._seen.discard(order_id)
        out = self.submit(dataclasses.replace(r.order, qty=new_qty, price=new_price))
        out.cancelled.insert(0, Cancelled(order_id, r.rem, "replaced"))
        return out

    def restore(self, order: Order, remaining: int) -> None:
        if self._used(order.id):
            raise IntegrityFault("id already used")
        if order.price is None or order.tif != "gtc":
            raise IntegrityFault("cannot rest")
        if remaining <= 0 or remaining > order.qty:
            raise IntegrityFault("bad remaining")
        opposite = "sell" if order.side == "buy" else "buy"
        for r in self._resting:
            if r.order.side == opposite and self._crosses(order, r.order.price or 0):
                raise IntegrityFault("would cross")
        self._seen.add(order.id)
        self._rest(order, remaining)

    # ------------------------------------------------------------------ queries

    def live(self, order_id: str) -> int:
        r = self._find(order_id)
        return 0 if r is None else r.rem

    def orders(self) -> Iterator[tuple[Order, int]]:
        snapshot = [(r.order, r.rem) for r in self._side("buy") + self._side("sell")]
        return iter(snapshot)

    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        result: list[list[tuple[int, int]]] = []
        for side in ("buy", "sell"):
            agg: list[tuple[int, int]] = []
            for r in self._side(side):
                price = r.order.price or 0
                if agg and agg[-1][0] == price:
                    agg[-1] = (price, agg[-1][1] + r.rem)
                else:
                    agg.append((price, r.rem))
            result.append(agg[:levels])
        return result[0], result[1]

    def best_bid(self) -> int | None:
        bids = self._side("buy")
        return bids[0].order.price if bids else None

    def best_ask(self) -> int | None:
        asks = self._side("sell")
        return asks[0].order.price if asks else None

    def __len__(self) -> int:
        return len(self._resting)
