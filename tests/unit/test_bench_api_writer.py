"""bench/bench_api.py's reading of the matcher's writer between two `stats` answers.

Nothing is run or timed: the readings are built here, in the matcher's own keys."""

from __future__ import annotations

from bench.bench_api import _writer


def reading(requests: int, busy_ms: int) -> dict[str, int]:
    return {"rebuilds": 0, "groups": requests // 30, "requests": requests, "busy_ms": busy_ms}


def test_the_writers_share_and_speed_come_from_the_difference_of_two_readings() -> None:
    # 9,000 orders in 7.5 s of groups over a 10 s step: busy 75 %, 1,200 orders a busy second
    got = _writer(reading(1_000, 2_000), reading(10_000, 9_500), 10.0)
    assert got == {"writer_busy": 0.75, "writer_orders_per_busy_s": 1200.0}


def test_nothing_without_two_readings_or_any_time_in_groups() -> None:
    assert _writer(None, reading(10, 5), 10.0) == {}
    assert _writer(reading(10, 5), None, 10.0) == {}
    assert _writer(reading(10, 5), reading(10, 5), 10.0) == {}  # an idle step
    assert _writer(reading(10, 5), reading(40, 50), 0.0) == {}
