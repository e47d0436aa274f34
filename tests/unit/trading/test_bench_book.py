"""The book bench runs the variants it names (an empty `OrderBook` is falsy: ``book or
OrderBook(...)`` once made every variant the plain book)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from trading.book import OrderBook


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[3] / "bench" / "bench_book.py"
    spec = importlib.util.spec_from_file_location("bench_book_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load()
MID = bench.MID


def test_an_empty_book_is_falsy_so_the_bench_must_not_test_its_truth() -> None:
    assert not OrderBook()  # the trap: len() is the resting orders


@pytest.mark.parametrize(
    ("name", "min_lot", "band", "unique"),
    [
        (bench.FAST, 1, None, False),
        (bench.INTERPRETED, 1, None, False),
        (bench.LOT_BAND, 10, (MID * 9 // 10, MID * 11 // 10), False),
        (bench.UNIQUE, 1, None, True),
        (bench.VALUE_API, 1, None, True),
    ],
)
def test_book_for_makes_the_book_the_name_says(
    name: str, min_lot: int, band: tuple[int, int] | None, unique: bool
) -> None:
    book = bench.book_for(name)
    assert (book.min_lot, book.price_band, book.unique_ids) == (min_lot, band, unique)
    assert bench.describe(book) == {"min_lot": min_lot, "price_band": band,
                                    "unique_ids": unique}
    with pytest.raises(KeyError):
        bench.book_for("no such variant")


# A stream on which the rules show: a sell below the lot of 10, a sell outside the band, an id
# used again after its order left the book, then a buy that takes what rests at MID.
RULES = [
    ("L", "a", False, MID, 5, "t1", "sell"),
    ("L", "b", False, MID * 2, 10, "t2", "sell"),
    ("L", "c", False, MID, 10, "t3", "sell"),
    ("C", "c"),
    ("L", "c", False, MID, 10, "t3", "sell"),
    ("L", "d", True, MID, 100, "t4", "buy"),
]
# (fills, (bids, asks)) per variant
Result = tuple[int, tuple[list[tuple[int, int]], list[tuple[int, int]]]]
PLAIN: Result = (2, ([(MID, 85)], [(MID * 2, 10)]))  # every order accepted
LOT_BAND: Result = (1, ([(MID, 90)], []))  # "a" (5 kg) and "b" (outside the band) refused
UNIQUE: Result = (1, ([(MID, 95)], [(MID * 2, 10)]))  # the second "c" refused


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (bench.FAST, PLAIN),
        (bench.INTERPRETED, PLAIN),
        (bench.LOT_BAND, LOT_BAND),
        (bench.UNIQUE, UNIQUE),
        (bench.VALUE_API, UNIQUE),
        (bench.MINIMAL, PLAIN),
    ],
)
def test_each_variant_runs_on_its_own_book(name: str, expected: object) -> None:
    run = dict(bench._impls())[name]
    assert run(RULES) == expected


def test_variants_agree_on_the_bench_stream() -> None:
    events = bench.generate(3000, 5)
    results = {name: run(events) for name, run in bench._impls()
               if run is not None and not name.startswith("liquibook")}
    fills, depth = results[bench.FAST]
    assert fills > 100 and depth[0] and depth[1]
    assert all(r == (fills, depth) for r in results.values())


def test_liquibook_with_and_without_callbacks() -> None:
    pytest.importorskip("liquibook")
    events = bench.generate(3000, 5)
    fills, depth = dict(bench._impls())[bench.FAST](events)
    with_callbacks = bench.make_liquibook_runner(callbacks=True)
    bare = bench.make_liquibook_runner(callbacks=False)
    assert with_callbacks(events) == (fills, depth)
    assert bare(events) == (None, depth)  # no listener: its fills are not observed
