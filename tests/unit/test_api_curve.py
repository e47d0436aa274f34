"""bench/api_curve.py: the page of the HTTP order figure's curve, from bench_api.py's lines.

Nothing is run or timed: the lines are built here, in bench_api.py's own keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import api_curve


def step(workers: int, n: int, rate: float, resting: int) -> dict[str, Any]:
    return {"bench": "api_step", "markets": 1, "workers": workers, "lane": True, "step": n,
            "orders_per_s": rate, "p50_ms": 30.5, "p99_ms": 70.25, "resting_after": resting,
            "cpu_ms_per_order": 0.64, "postgres_cpu_ms_per_order": 0.41, "machine_busy": 0.62}


def scenario(workers: int, per_group: float | None) -> dict[str, Any]:
    line = {"bench": "api", "markets": 1, "workers": workers, "lane": True, "connections": 32,
            "orders": 18000, "orders_per_s": 900.4, "p50_ms_worst_step": 33.1,
            "p99_ms_worst_step": 80.2, "cpu_ms_per_order": 0.64, "resting": 7000,
            "non_201": 0, "matcher_orders_per_group": per_group, "healthz_per_s": 2100.0,
            "postgres_cpu_ms_per_order": 0.4, "wrk_cpu_ms_per_order": 0.05,
            "machine_busy": 0.61}
    if per_group:  # the matcher's writer, as bench_api reads it from the matcher's stats
        line.update(writer_busy=0.78, writer_orders_per_busy_s=1200.0)
    return line


LINES = [step(1, 1, 910.0, 3500), step(1, 2, 890.0, 7000), scenario(1, None),
         step(2, 1, 880.0, 3400), scenario(2, 29.5),
         {"bench": "service", "threads": 32, "orders_per_s": 1100.0, "p99_ms": 45.0,
          "orders_per_group": 31.5, "writer_orders_per_busy_s": 1350.0},
         {"bench": "pgbench", "scale": 10, "clients": 32, "tps": 3500.0},
         {"bench": "machine", "cpus": 2, "parallel_speedup": 1.27,
          "loop_ms_alone": 181.5}]


def test_each_scenario_has_its_curve_and_the_references_follow() -> None:
    page = api_curve.render(LINES, command="python bench/bench_api.py --x", pg=None,
                            now=datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    assert "2026-12-06 18:00 Beijing time" in page
    assert "`python bench/bench_api.py --x`" in page
    one, two = page.split("## 1 market, `erts serve --workers 1`")[1].split(
        "## 1 market, `erts serve --workers 2`")
    # the first scenario's steps are in its table, the second's in its own
    assert "| 1 | 3,500 | 910 | 30.5 | 70.25 | 0.64 | 0.41 | 62 % |" in one
    assert "PostgreSQL 0.4 ms and wrk 0.05 ms CPU per order, the machine 61 % busy" in one
    assert "| 2 | 7,000 | 890 |" in one and "| 1 | 3,400 | 880 |" not in one
    assert "| 1 | 3,400 | 880 |" in two and "29.5 orders per group" in two
    assert "≥ 1,500 orders/s" in one
    assert "1,100 orders/s" in page and "3,500 tps" in page and "2,100 requests/s" in page
    assert "do 1.27× the work of one alone" in page and "took 181.5 ms" in page
    # the CPU bound from the scenario's own figures: (0.64 + 0.4 + 0.05) ms on 2 CPUs
    assert "All processes together: 1.090 ms CPU per order, so 2 cores allow at most " \
        "1,835 orders/s" in one
    # the matcher's writer (2 workers only): its speed in groups, and the figure against it
    assert "The matcher's writer was in groups 78 % of the time and placed 1,200 orders " \
        "per second in groups" in two and "the HTTP figure is 75 % of it" in two
    assert "matcher's writer" not in one
    assert "its writer placed 31.5 orders per group, 1,350 per second in groups" in page


def test_no_cpu_bound_without_the_figures_it_needs() -> None:
    bare = {k: v for k, v in scenario(1, None).items()  # a line from before they were kept
            if k not in ("wrk_cpu_ms_per_order", "postgres_cpu_ms_per_order", "machine_busy")}
    page = api_curve.render([step(1, 1, 910.0, 3500), bare], command="x", pg=None)
    assert "All processes together" not in page


def test_the_command_line_writes_the_page(tmp_path: Path) -> None:
    src = tmp_path / "lines.jsonl"
    src.write_text("noise\n" + "\n".join(json.dumps(x) for x in LINES))
    out = tmp_path / "page.md"
    assert api_curve.main([str(src), "--output", str(out), "--command", "c"]) == 0
    assert out.read_text().startswith("# Orders over HTTP: the curve")
