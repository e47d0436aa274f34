"""How long the order pipeline's writer waits to fill a group (`OrderPipeline._wait`) and what
`kernel.batching.gather` then takes: the clients it just answered are waited for (90 % of
them), for a share of the last group's time within bounds; a client alone never waits."""

from __future__ import annotations

import queue
import time
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.batching import gather
from trading import pipeline
from trading.pipeline import FILL, LINGER_MAX, LINGER_SHARE, OrderPipeline


def writer(linger: float = 0.002) -> OrderPipeline:
    return OrderPipeline(lambda: None, None, linger=linger)  # type: ignore[arg-type,return-value]


def test_a_client_alone_never_waits() -> None:
    expect, _ = writer()._wait(1, 0, 0.5)
    assert expect == 1  # the group already has its first request: gather takes it at once


def test_the_wait_is_a_share_of_the_last_group_within_bounds() -> None:
    w = writer(linger=0.002)
    assert w._wait(32, 0, 0.024) == (29, pytest.approx(LINGER_SHARE * 0.024))
    assert w._wait(32, 0, 0.001)[1] == 0.002  # a short group: the floor
    assert w._wait(32, 0, 0.5)[1] == LINGER_MAX  # a long one: the ceiling


@given(answered=st.integers(0, 600), queued=st.integers(0, 600),
       took=st.floats(0, 10, allow_nan=False))
def test_the_rule_holds_for_any_group(answered: int, queued: int, took: float) -> None:
    expect, linger = writer()._wait(answered, queued, took)
    assert 1 <= expect <= max(1, answered + queued)
    assert expect >= FILL * (answered + queued)
    assert 0.002 <= linger <= LINGER_MAX


def test_gather_takes_what_is_queued_up_to_the_expected_and_no_more_waiting() -> None:
    q: queue.Queue[Any] = queue.Queue()
    for i in range(5):
        q.put(i)
    began = time.perf_counter()
    group, carry, closing = gather(q, "first", expect=4, linger=5.0, fits=lambda g, r: True)
    # four expected: taken at once from the queue (no wait), then what else is queued
    assert group == ["first", 0, 1, 2, 3, 4] and carry is None and not closing
    assert time.perf_counter() - began < 1.0


def test_gather_stops_waiting_at_the_linger() -> None:
    q: queue.Queue[Any] = queue.Queue()
    began = time.perf_counter()
    group, _, _ = gather(q, "first", expect=3, linger=0.05, fits=lambda g, r: True)
    waited = time.perf_counter() - began
    assert group == ["first"]
    assert 0.05 <= waited < 2.0


def test_the_writer_uses_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_run` asks `_wait` after each group, with the group's size, the queue and its time."""
    seen: list[tuple[int, int, float]] = []
    w = writer()
    real = w._wait

    def spy(answered: int, queued: int, took: float) -> tuple[int, float]:
        seen.append((answered, queued, took))
        return real(answered, queued, took)

    monkeypatch.setattr(w, "_wait", spy)
    monkeypatch.setattr(pipeline, "run_group", lambda uow, group, **kw: 1)
    q: queue.Queue[Any] = queue.Queue()
    for r in (SimpleNamespace(cmd=object()) for _ in range(3)):
        q.put(r)
    q.put(None)
    w._run(q)
    assert seen and seen[0][0] == 3 and seen[0][2] >= 0
