"""Price parameters and fee arithmetic (pure).

Base prices (DOMAIN.md §4): reserve sales (auctions, bureau listings) never clear below the
base price of their pollutant. The Chongqing 2015 figures cover SO2, NOx, COD and NH3-N; VOCs
and particulate matter have no published base price there, so this table sets them to the
figure of the nearest air pollutant (NOx for VOCs, SO2 for PM) until the bureau publishes
its own. The table is versioned: add a new version rather than editing one in force.

All prices are fen per tonne, fees are basis points (1/10 000) of a trade's value.
"""

from __future__ import annotations

from kernel.quantities import FEN_PER_YUAN

#: version -> pollutant -> base price, fen per tonne
BASE_PRICES: dict[str, dict[str, int]] = {
    "cq-2015": {
        "COD": 1_360 * FEN_PER_YUAN,
        "NH3-N": 2_400 * FEN_PER_YUAN,
        "SO2": 976 * FEN_PER_YUAN,
        "NOx": 1_200 * FEN_PER_YUAN,
        # not in the 2015 list: set to the nearest air pollutant's figure (verify)
        "VOCs": 1_200 * FEN_PER_YUAN,
        "PM": 976 * FEN_PER_YUAN,
    },
}
BASE_PRICE_VERSION = "cq-2015"


def base_price(pollutant: str, version: str = BASE_PRICE_VERSION) -> int:
    """The base price of a pollutant in fen per tonne (KeyError for an unknown one)."""
    return BASE_PRICES[version][pollutant]


def value_ceiling(qty_kg: int, price: int) -> int:
    """qty × price / 1000 rounded up: what a hold must cover for a trade at `price`."""
    return -(-qty_kg * price // 1000)


def fee_of(value_fen: int, bps: int) -> int:
    """A side's fee: value × bps / 10 000, rounded half-even, once."""
    q, r = divmod(value_fen * bps, 10_000)
    if 2 * r > 10_000 or (2 * r == 10_000 and q % 2 == 1):
        q += 1
    return q


def fee_ceiling(value_fen: int, bps: int) -> int:
    """The most `fee_of` can be for a value up to `value_fen`: for holds."""
    return -(-value_fen * bps // 10_000)
