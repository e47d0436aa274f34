"""Replay: JSON lines in, fills out."""

from __future__ import annotations

import json
import random

import pytest

from kernel.errors import DomainError
from trading.errors import ReplayInputError
from trading.replay import replay


def run(*cmds: object, **kw: object) -> list[str]:
    lines = [c if isinstance(c, str) else json.dumps(c) for c in cmds]
    return list(replay(lines, **kw))  # type: ignore[arg-type]


def lim(oid: object, side: str, price: int, qty: int, owner: str = "", **kw: object) -> dict:
    d: dict[str, object] = {"op": "limit", "id": oid, "side": side, "price": price, "qty": qty}
    d["owner"] = owner or f"w{oid}"
    d.update(kw)
    return d


def test_fills_in_execution_order_compact_and_keyed() -> None:
    out = run(
        lim("a", "sell", 101, 5),
        lim("b", "sell", 100, 5),
        lim("c", "buy", 101, 7),
    )
    assert out == [
        '{"maker":"b","taker":"c","price":100,"qty":5}',
        '{"maker":"a","taker":"c","price":101,"qty":2}',
    ]
    assert list(json.loads(out[0])) == ["maker", "taker", "price", "qty"]


def test_market_cancel_blank_lines_and_ids_echoed() -> None:
    out = run(
        lim(1, "buy", 100, 5),
        "",
        "   ",
        lim("1", "buy", 99, 5),
        {"op": "cancel", "id": 1},
        {"op": "cancel", "id": 1},  # not live any more: nothing
        {"op": "cancel", "id": "nope"},
        {"op": "market", "id": "m", "side": "sell", "qty": 8, "owner": "z"},
    )
    assert out == ['{"maker":"1","taker":"m","price":99,"qty":5}']


def test_ioc_fok_post_only_and_stp() -> None:
    out = run(
        lim("s1", "sell", 100, 5, owner="x"),
        lim("s2", "sell", 101, 5, owner="y"),
        lim("f", "buy", 101, 11, tif="fok"),
        lim("p", "buy", 100, 1, post_only=True),
        lim("i", "buy", 100, 3, tif="ioc"),
        lim("t", "buy", 101, 10, owner="x", stp="cancel_oldest"),
    )
    assert [json.loads(x) for x in out] == [
        {"maker": "s1", "taker": "i", "price": 100, "qty": 3},
        {"maker": "s2", "taker": "t", "price": 101, "qty": 5},
    ]


def test_missing_owner_means_no_self_trade_prevention() -> None:
    out = run(
        {"op": "limit", "id": "a", "side": "sell", "price": 100, "qty": 5},
        {"op": "limit", "id": "b", "side": "buy", "price": 100, "qty": 5},
    )
    assert out == ['{"maker":"a","taker":"b","price":100,"qty":5}']


def test_rule_rejections_are_silent() -> None:
    out = run(
        lim("a", "sell", 100, 5),  # below the lot
        lim("b", "sell", 200, 10),  # outside the band
        lim("c", "sell", 100, 10),
        lim("c", "sell", 100, 10),  # duplicate id
        lim("d", "buy", 100, 30),
        min_lot=10,
        price_band=(50, 150),
    )
    assert out == ['{"maker":"c","taker":"d","price":100,"qty":10}']


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", None),
        ("[1, 2]", None),
        ('{"op": "amend", "id": "x"}', "op"),
        ('{"id": "x"}', "op"),
        ('{"op": "cancel"}', "id"),
        ('{"op": "cancel", "id": 1.5}', "id"),
        ('{"op": "limit", "id": "x", "side": "buy", "qty": 5}', "price"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 100.0, "qty": 5}', "price"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 100, "qty": 0}', "qty"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 100, "qty": true}', "qty"),
        ('{"op": "limit", "id": "x", "side": "up", "price": 100, "qty": 5}', "side"),
        ('{"op": "limit", "id": "x", "price": 100, "qty": 5}', "side"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 1, "qty": 5, "tif": "day"}', "tif"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 1, "qty": 5, "stp": "no"}', "stp"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 1, "qty": 5, "owner": []}', "owner"),
        (
            '{"op": "limit", "id": "x", "side": "buy", "price": 1, "qty": 5, "post_only": 1}',
            "post_only",
        ),
        ('{"op": "market", "id": "x", "side": "buy", "price": 100, "qty": 5}', "price"),
    ],
)
def test_malformed_lines_raise_with_line_number(line: str, field: str | None) -> None:
    good = json.dumps(lim("ok", "buy", 100, 5))
    with pytest.raises(ReplayInputError) as info:
        list(replay([good, "", line]))
    err = info.value
    assert isinstance(err, DomainError)
    assert err.code == "bad_replay_input"
    assert "line 3" in err.message
    assert err.field == field


def test_same_input_same_output() -> None:
    rng = random.Random(7)
    lines = []
    for n in range(3000):
        if n and rng.random() < 0.25:
            lines.append(json.dumps({"op": "cancel", "id": f"o{rng.randrange(n)}"}))
        elif rng.random() < 0.05:
            side = rng.choice(["buy", "sell"])
            m = {"op": "market", "id": f"o{n}", "side": side, "qty": rng.randint(1, 50)}
            m["owner"] = f"t{rng.randrange(5)}"
            lines.append(json.dumps(m))
        else:
            cmd = lim(
                f"o{n}",
                rng.choice(["buy", "sell"]),
                rng.randint(95, 105),
                rng.randint(1, 50),
                owner=f"t{rng.randrange(5)}",
                tif=rng.choice(["gtc", "gtc", "ioc", "fok"]),
            )
            lines.append(json.dumps(cmd))
    first = list(replay(lines))
    assert first == list(replay(iter(lines)))
    assert len(first) > 100
    for line in first:
        fill = json.loads(line)
        assert fill["qty"] > 0 and 95 <= fill["price"] <= 105
