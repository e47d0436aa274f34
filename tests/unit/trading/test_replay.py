"""Replay: JSON lines in, fills out."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- the typed (msgspec) path against the reference (json) path ---------------------------

DECODERS = ["msgspec", "json"]
try:
    import orjson  # noqa: F401  (a dev dependency: the bench compares the decoders)

    DECODERS.append("orjson")
except ImportError:  # pragma: no cover
    pass

#: odd but valid lines: escapes, a big integer id, a NaN in an ignored key, a repeated key
#: (the last one counts, as in json), an int owner, market tif and stp, padding, key order
SAMPLE = [
    '{"op":"limit","id":"a\\u00e9","side":"sell","price":100,"qty":5,"owner":"x"}',
    '{"op":"limit","id":"q\\"uote\\\\","side":"sell","price":101,"qty":5,"owner":7}',
    '{"op":"limit","id":"tab\\t\\u0001\\u2028","side":"sell","price":101,"qty":5}',
    "",
    '{"op":"limit","id":12345678901234567890123,"side":"sell","price":102,"qty":5,"n":NaN}',
    '{"op":"limit","id":"中文","side":"buy","price":101,"qty":12,"owner":"y","tif":"ioc"}',
    '{"op":"limit","op":"market","id":-3,"side":"buy","qty":4,"owner":"z"}',
    '  {"op":"cancel","id":"q\\"uote\\\\"}  ',
    '{"op":"market","id":"m","side":"buy","qty":50,"tif":"fok"}',
    '{"op":"market","id":"m2","side":"buy","qty":50,"stp":"cancel_both","owner":"x"}',
    '{"id":"s","side":"sell","price":99,"qty":1,"op":"limit","post_only":true}',
    '{"op":"limit","id":1,"side":"buy","price":99,"qty":1,"owner":null}',
]
#: what the replay before the typed path (stdlib json, checks in Python) printed for SAMPLE
SAMPLE_OUT = [
    '{"maker":"aé","taker":"中文","price":100,"qty":5}',
    '{"maker":"q\\"uote\\\\","taker":"中文","price":101,"qty":5}',
    '{"maker":"tab\\t\\u0001\u2028","taker":"中文","price":101,"qty":2}',
    '{"maker":"tab\\t\\u0001\u2028","taker":-3,"price":101,"qty":3}',
    '{"maker":12345678901234567890123,"taker":-3,"price":102,"qty":1}',
    '{"maker":12345678901234567890123,"taker":"m2","price":102,"qty":4}',
    '{"maker":"s","taker":1,"price":99,"qty":1}',
]


def test_sample_stream_same_output_as_before_on_every_path() -> None:
    assert list(replay(SAMPLE)) == SAMPLE_OUT
    assert list(replay(SAMPLE, decoder="json")) == SAMPLE_OUT
    # the CLI's bytes, lines ending in \n or \r\n
    as_bytes = [(line + ("\r\n" if n % 2 else "\n")).encode() for n, line in enumerate(SAMPLE)]
    assert list(replay(as_bytes)) == SAMPLE_OUT
    assert list(replay(as_bytes, decoder="json")) == SAMPLE_OUT


def test_orjson_reader_gives_the_same_fills() -> None:
    pytest.importorskip("orjson")
    # orjson reads integers beyond 64 bits as floats: leave out the big-integer line
    sample = [line for line in SAMPLE if "12345678901234567890123" not in line]
    assert list(replay(sample, decoder="orjson")) == list(replay(sample, decoder="json"))


def test_unknown_decoder_is_refused() -> None:
    with pytest.raises(ValueError):
        replay([], decoder="yaml")  # type: ignore[arg-type]


def _outcome(lines: list[str] | list[bytes], decoder: str) -> object:
    try:
        return list(replay(lines, decoder=decoder))  # type: ignore[arg-type]
    except ReplayInputError as exc:
        return ("error", exc.message, exc.field)


_value = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True),
    st.sampled_from(["buy", "sell", "gtc", "ioc", "fok", "cancel_oldest", "cancel_both", "x",
                     "limit", "market", "cancel", "é\n\"", ""]),
    st.lists(st.integers(0, 2), max_size=2),
)
_keys = ["op", "id", "side", "price", "qty", "owner", "tif", "post_only", "stp", "extra"]
_good = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["limit", "limit", "market", "cancel"]),
        "id": st.one_of(st.integers(0, 30), st.text("ab\"\\é\x01", max_size=2)),
        "side": st.sampled_from(["buy", "sell"]),
        "price": st.integers(98, 102),
        "qty": st.integers(1, 20),
    },
    optional={
        "owner": st.one_of(st.none(), st.integers(0, 3), st.sampled_from(["x", "y"])),
        "tif": st.sampled_from(["gtc", "ioc", "fok"]),
        "post_only": st.booleans(),
        "stp": st.sampled_from(["cancel_newest", "cancel_oldest", "cancel_both"]),
    },
)


@st.composite
def _line(draw: st.DrawFn) -> str:
    cmd: dict[str, object] = dict(draw(_good))
    if cmd["op"] == "market":
        del cmd["price"]
    kind = draw(st.integers(0, 9))
    if kind == 0:  # a field of another type, or missing
        key = draw(st.sampled_from(_keys))
        if draw(st.booleans()):
            cmd[key] = draw(_value)
        else:
            cmd.pop(key, None)
    text = json.dumps(cmd, ensure_ascii=draw(st.booleans()))
    if kind == 1:  # a repeated key: the last one counts
        text = text[:-1] + ', "op": ' + json.dumps(draw(_value)) + "}"
    elif kind == 2:  # not JSON, or not an object
        text = draw(st.sampled_from([text[:-1], text + "x", "[" + text + "]", "  ", "1",
                                     text.replace('"', '"\x01', 1), text + "\x0b",
                                     text.replace(":", ":\t")]))
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(_line(), min_size=1, max_size=40))
def test_typed_path_gives_the_reference_outcome(lines: list[str]) -> None:
    """Same fills, or the same error (message and field), as the reference path."""
    reference = _outcome(lines, "json")
    assert _outcome(lines, "msgspec") == reference
    assert _outcome([(line + "\n").encode() for line in lines], "msgspec") == reference


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", None),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 100.0, "qty": 5}', "price"),
        ('{"op": "limit", "id": "x", "side": "buy", "price": 1, "qty": 5, "tif": null}', "tif"),
        ('{"op": "market", "id": "x", "side": "buy", "price": 100, "qty": 5}', "price"),
        ('{"op": "cancel", "id": true}', "id"),
    ],
)
def test_every_decoder_refuses_with_the_same_error(decoder: str, line: str,
                                                   field: str | None) -> None:
    good = json.dumps(lim("ok", "buy", 100, 5))
    with pytest.raises(ReplayInputError) as info:
        list(replay([good, line], decoder=decoder))  # type: ignore[arg-type]
    with pytest.raises(ReplayInputError) as ref:
        list(replay([good, line], decoder="json"))
    assert info.value.message == ref.value.message
    assert info.value.message.startswith("line 2: ")
    assert info.value.field == field


def test_bad_utf8_and_lone_surrogate_ids_are_refused_by_line() -> None:
    good = json.dumps(lim("ok", "buy", 100, 5)).encode()
    with pytest.raises(ReplayInputError, match=r"line 2: not valid UTF-8 \(byte 21\)") as bad:
        list(replay([good, b'{"op":"cancel","id":"\xff"}']))
    assert bad.value.code == "not_text"  # as for any binary input to erts
    # a raw control character is never JSON: binary too; a tab is whitespace, or bad JSON
    with pytest.raises(ReplayInputError, match=r"line 2: not text: control character U\+0000 "
                                               r"\(character 1\)") as bad:
        list(replay([good, b" \x00{}"]))
    assert bad.value.code == "not_text"
    with pytest.raises(ReplayInputError, match="line 1: not valid JSON") as bad:
        list(replay(['{"op":"cancel","id":"a\tb"}']))
    assert bad.value.code == "bad_replay_input"
    assert list(replay(['{"op":\t"cancel",\t"id":"a"}', "\x0c"])) == []  # as before
    # json reads "\ud800" as a lone surrogate, which has no UTF-8 form for the output line
    with pytest.raises(ReplayInputError, match="line 1: 'id' must be Unicode text") as info:
        list(replay(['{"op":"limit","id":"\\ud800","side":"buy","price":1,"qty":1}']))
    assert info.value.field == "id"
    # in an owner it is never printed: accepted, as before
    out = run(
        {"op": "limit", "id": "a", "side": "sell", "price": 1, "qty": 1, "owner": "\ud800"},
        {"op": "limit", "id": "b", "side": "buy", "price": 1, "qty": 1},
    )
    assert out == ['{"maker":"a","taker":"b","price":1,"qty":1}']


# -- the CLI ----------------------------------------------------------------------------------

def test_cli_replays_a_file_and_reports_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(SAMPLE) + "\n", encoding="utf-8")
    assert main(["replay", "--input", str(path)]) == 0
    assert capsys.readouterr().out.split("\n") == [*SAMPLE_OUT, ""]

    path.write_bytes(b'{"op":"cancel","id":1}\n\n{"op":"limit","id":"x"}\n')
    assert main(["replay", "--input", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "erts: bad_replay_input: line 3: missing 'side' (field side)\n"

    path.write_bytes(b'{"op":"cancel","id":"\xfe"}\n')
    assert main(["replay", "--input", str(path)]) == 2
    assert "erts: not_text: line 1: not valid UTF-8 (byte 21)" in capsys.readouterr().err

    assert main(["replay", "--input", str(path), "--price-band", "10:5"]) == 2
    assert "LOW <= HIGH" in capsys.readouterr().err
