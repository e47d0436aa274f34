"""Paid use of rights (有偿使用): the base-price table, fee arithmetic, due dates (pure).

Rules (docs/paid-use.md has the sources):
- existing units (现有排污单位) pay the paid-use fee for the rights confirmed to them at the
  base price (定额出让): fee = qty_kg × price / 1000 fen, rounded half-even once
  (财税〔2015〕61号 Art. 10: by the kinds and quantities the permit confirms, at the
  published standard);
- new and expanded units (新建, 改扩建) obtain rights only by purchase (国办发〔2014〕38号,
  渝府办发〔2014〕178号): confirmation to them is refused;
- a pollutant without a published Chongqing base price is billed nothing at confirmation
  (no lawful standard to charge by, 财税〔2015〕61号 Art. 11) and a reserve sale of it needs
  a price the bureau sets;
- reserve releases are priced per pollutant, never below a published base price.

The table is versioned: add a version rather than editing one in force. Prices are fen per
tonne; amounts fen; quantities kg.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from allocation.errors import BadPlanPrice, PlanPriceBelowBase
from kernel.clock import trading_day
from kernel.pollutants import Pollutant, find_pollutant
from kernel.quantities import FEN_PER_YUAN, trade_value

PUBLISHED = "published"
NOT_PUBLISHED = "not_published"


@dataclass(frozen=True)
class BasePrice:
    pollutant: str
    #: fen per tonne; None where Chongqing has published no base price
    fen_per_t: int | None
    status: str  # published | not_published
    source: str


_CQ_2015 = "Chongqing base prices 2015 (DOMAIN.md §4; verify against the price notice)"

#: version -> pollutant -> base price
BASE_PRICES: dict[str, dict[str, BasePrice]] = {
    "cq-2015": {
        "COD": BasePrice("COD", 1_360 * FEN_PER_YUAN, PUBLISHED, _CQ_2015),
        "NH3-N": BasePrice("NH3-N", 2_400 * FEN_PER_YUAN, PUBLISHED, _CQ_2015),
        "SO2": BasePrice("SO2", 976 * FEN_PER_YUAN, PUBLISHED, _CQ_2015),
        "NOx": BasePrice("NOx", 1_200 * FEN_PER_YUAN, PUBLISHED, _CQ_2015),
        "VOCs": BasePrice("VOCs", None, NOT_PUBLISHED, "not published by Chongqing (verify)"),
        "PM": BasePrice("PM", None, NOT_PUBLISHED, "not published by Chongqing (verify)"),
    },
}
BASE_PRICE_VERSION = "cq-2015"

#: days from the bill's issue (Beijing date) to its due date. No Chongqing figure found;
#: other provinces use 7 working days from the payment notice (verify)
DUE_DAYS = 30

UNIT_KINDS = ("existing", "new", "expanded")
#: unit kinds that obtain rights only by purchase
PURCHASE_ONLY = frozenset({"new", "expanded"})

BILL_STATUSES = ("unpaid", "paid", "cancelled")
#: what a bill charges for
BILL_SOURCES = ("confirmation", "reserve_release")
MAX_PRICE = 10**12  # fen per tonne: far above any market price, keeps products in BigInteger


def base_price(pollutant: str, version: str = BASE_PRICE_VERSION) -> BasePrice:
    """The base-price entry of a pollutant (every traded pollutant has one, published or
    not); KeyError for an unknown version or pollutant."""
    return BASE_PRICES[version][pollutant]


def confirmation_price(pollutant: str, version: str = BASE_PRICE_VERSION) -> int | None:
    """The paid-use fee's price for rights confirmed to an existing unit: the published
    base price, or None (no bill) where none is published."""
    return base_price(pollutant, version).fen_per_t


def fee_fen(qty_kg: int, price_fen_per_t: int) -> int:
    """The fee: qty_kg × price / 1000 fen, rounded half-even once (as a trade's value)."""
    if qty_kg < 0 or price_fen_per_t < 0:
        raise ValueError("fee of a negative quantity or price")
    return int(trade_value(qty_kg, price_fen_per_t))


def due_date(issued_at: datetime, days: int = DUE_DAYS) -> date:
    """The bill's due date: its Beijing issue date plus `days`."""
    return trading_day(issued_at) + timedelta(days=days)


def is_overdue(status: str, due_on: date, today: date) -> bool:
    """An unpaid bill is overdue from the day after its due date."""
    return status == "unpaid" and today > due_on


def requires_purchase(unit_kind: str) -> bool:
    """New and expanded units obtain rights only by purchase, never by confirmation."""
    return unit_kind in PURCHASE_ONLY


def plan_prices(pollutants: set[str], given: Mapping[str, object] | None,
                version: str = BASE_PRICE_VERSION) -> dict[str, int]:
    """A reserve plan's price per pollutant, fen per tonne: the given price, checked (a
    positive whole number, never below a published base price), else the published base
    price; a pollutant with neither gets no price (its grants are skipped at release).
    Given prices of pollutants the plan does not grant are kept (the bureau said them)."""
    out: dict[str, int] = {}
    given = dict(given or {})
    for key, value in given.items():
        p = find_pollutant(key)
        fld = f"prices.{key}"
        if p is None:
            raise BadPlanPrice(f"unknown pollutant {key!r}", field=fld)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PRICE:
            raise BadPlanPrice(f"{fld} must be a positive whole number of fen per tonne "
                               f"(at most {MAX_PRICE})", field=fld)
        base = base_price(p.value, version).fen_per_t
        if base is not None and value < base:
            raise PlanPriceBelowBase(
                f"{fld}: {value} fen/t is below the base price of {base} fen/t: reserve "
                "sales never clear below it", field=fld)
        out[p.value] = value
    for pol in sorted(pollutants):
        if pol not in out:
            base = base_price(Pollutant(pol).value, version).fen_per_t
            if base is not None:
                out[pol] = base
    return out
