"""bench/report.py: the figures and the page it writes from a run's JSON lines (issue 20).

Nothing is run or timed here: each test builds a run as `report.run_all` keeps it (per item,
the JSON lines its processes printed, in the benches' own keys) and checks what `figures`
reads from it and what `render` writes, and that `--dry-run` and `--only` choose without
running.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import report

BOOK = "trading.book.OrderBook.submit_fast[service]"


def run(name: str, *lines: dict[str, Any], error: str | None = None,
        skipped: str | None = None) -> dict[str, Any]:
    return {"name": name, "about": report.BY_NAME[name].about, "commands": [f"cmd {name}"],
            "started": "2026-12-06 10:00", "load_start": [1.5, 1.0, 0.5], "load_end": [2.5],
            "lines": list(lines), "seconds": 12.3, "error": error, "skipped": skipped}


def a_report(*runs: dict[str, Any], full: bool = False) -> dict[str, Any]:
    return {"full": full, "started": "2026-12-06 10:00", "finished": "2026-12-06 10:12",
            "minutes": 12.0, "load_start": [1.5, 1.0, 0.5], "load_end": [2.5, 1.2, 0.6],
            "machine": {"cpu": "AMD EPYC 7B13", "cores": 2, "memory_gib": 23.5,
                        "system": "Debian GNU/Linux 12", "python": "3.11.7",
                        "postgresql": "15.20"},
            "runs": list(runs)}


def book_lines(fast: float, liquibook: float, *, agree: bool = True) -> list[dict[str, Any]]:
    return [
        {"bench": "book", "impl": BOOK, "events": 1000000, "clock": "cpu", "seconds": 0.46,
         "events_per_s": fast, "fills": 1, "engine": "compiled"},
        {"bench": "book", "impl": "minimal_pure_python", "events": 1000000, "clock": "cpu",
         "seconds": 0.6, "events_per_s": 1650000, "fills": 1},
        {"bench": "book", "impl": "liquibook_swig", "events": 1000000, "clock": "cpu",
         "seconds": 1.7, "events_per_s": liquibook, "fills": 1},
        {"bench": "book", "summary": {"depth_agrees": {BOOK: True, "liquibook_swig": agree}}},
    ]


def by_title(figs: list[report.Figure], start: str) -> report.Figure:
    found = [f for f in figs if f.figure.startswith(start)]
    assert len(found) == 1, [f.figure for f in figs]
    return found[0]


MAIN_BOOK = "order book, 1,000,000 events (70 % limit, 30 % cancel), cpu time, compiled engine"


def test_the_book_is_read_against_liquibook_and_the_minimal_book() -> None:
    figs = report.figures(a_report(run("book", *book_lines(2_170_000, 570_000))))
    main = figs[0]
    assert main.figure == MAIN_BOOK and main.goal == "≥ 2× liquibook"
    assert main.measured == "2.17 M events/s"
    assert main.reference == "liquibook (C++ via SWIG) 570,000 events/s"
    assert main.ratio == "3.81×" and main.verdict == "**met**"
    minimal = [f for f in figs if "minimal" in f.figure]
    assert minimal[0].reference == "the minimal pure-Python book 1.65 M events/s"
    assert minimal[0].ratio == "1.32×" and minimal[0].verdict == "—"


def test_a_missed_goal_and_a_disagreeing_depth_say_so() -> None:
    figs = report.figures(a_report(run("book", *book_lines(1_000_000, 600_000, agree=False))))
    main = figs[0]
    assert main.figure == MAIN_BOOK and main.ratio == "1.67×" and main.verdict == "**not met**"
    assert "end depths differ: liquibook_swig" in main.measured


def test_replay_against_the_plain_book() -> None:
    lines = [{"bench": "replay", "impl": "erts replay[msgspec]", "lines": 1000000,
              "lines_per_s": 660000, "seconds": 1.5, "fills": 5},
             {"bench": "replay", "impl": "plain_book[json]", "lines": 1000000,
              "lines_per_s": 320000, "seconds": 3.1, "fills": 5},
             {"bench": "replay", "summary": {"outputs_identical": False}}]
    fig = report.figures(a_report(run("replay", *lines)))[0]
    assert fig.ratio == "2.06×" and fig.verdict == "**met**"
    assert fig.measured == "660,000 lines/s; OUTPUTS DIFFER"


@pytest.mark.parametrize("entries, seconds, verdict", [
    (1_000_000, 4.1, "**met**"),
    (1_000_000, 12.0, "**not met**"),
    (200_000, 0.9, "not judged: run at 200,000 entries, the goal is for 1,000,000 (`--full`)"),
])
def test_a_goal_for_a_size_is_judged_only_at_that_size(entries: int, seconds: float,
                                                       verdict: str) -> None:
    line = {"bench": "verify", "db": "sqlite", "entries": entries, "accounts": 2000,
            "build_s": 30.0, "verify_s": seconds, "verify_cpu_s": seconds * 0.9,
            "entries_per_s": round(entries / seconds), "ok": True}
    fig = report.figures(a_report(run("verify", line)))[0]
    assert fig.figure == f"`erts ledger verify`, {entries:,} entries, SQLite"
    assert fig.verdict == verdict


def test_the_ledger_is_read_against_the_raw_commit_rate_measured_by_the_probe() -> None:
    probe = run("pg_commit",
                {"bench": "pg_commit", "clients": 1, "commits": 8000, "seconds": 5.0,
                 "commits_per_s": 1600.0},
                {"bench": "pg_commit", "clients": 8, "commits": 30000, "seconds": 5.0,
                 "commits_per_s": 6000.0})
    ledger = run(
        "ledger",
        {"bench": "ledger", "db": "postgresql", "figure": "single", "clients": 8,
         "clients_as": "threads", "strategy": "group_commit", "transfers_per_s": 2500.0,
         "p50_ms": 3.0, "p99_ms": 9.5},
        {"bench": "ledger", "db": "postgresql", "figure": "single", "clients": 8,
         "clients_as": "threads", "strategy": "locks", "transfers_per_s": 900.0,
         "p50_ms": 8.0, "p99_ms": 30.0},
        {"bench": "ledger", "db": "postgresql", "figure": "batch", "batch_size": 8000,
         "transfers_per_s": 9000.0, "p50_ms": 880.0, "p99_ms": 900.0},
        {"bench": "ledger", "db": "sqlite", "figure": "batch", "batch_size": 1000,
         "transfers_per_s": 20000.0, "p50_ms": 50.0, "p99_ms": 60.0},
        {"bench": "ledger", "db": "postgresql", "figure": "verify_after", "ok": False})
    figs = report.figures(a_report(probe, ledger))
    group = by_title(figs, "ledger, PostgreSQL, single transfers, 8 clients (group commit)")
    assert group.reference == "raw PostgreSQL commits, 8 clients: 6,000 commits/s"
    assert group.ratio == "0.42×" and group.verdict == "**met**"
    batch = by_title(figs, "ledger, PostgreSQL, linked batches of 8,000")
    assert batch.verdict == "**not met**" and batch.reference == "—"
    assert by_title(figs, "ledger, SQLite, linked batches of 1,000").goal == "—"
    assert by_title(figs, "ledger, PostgreSQL: journal verified").verdict == "**not met**"


def test_orders_use_pgbench_and_the_api_prefers_its_own_measure() -> None:
    pgbench = run("pgbench", {"bench": "pgbench", "scale": 10, "clients": 32, "tps": 2000.0})
    service = run("service", {"bench": "service", "db": "postgresql", "path": "pipeline",
                              "threads": 32, "markets": 1, "orders_per_s": 1300.0,
                              "p99_ms": 35.0, "cpu_ms_per_order": 0.4})
    api = run("api",
              {"bench": "api", "markets": 1, "workers": 2, "lane": True, "connections": 32,
               "orders_per_s": 480.0, "p99_ms_worst_step": 90.0, "cpu_ms_per_order": 2.0,
               "resting": 19312, "healthz_per_s": 1300.0, "postgres_cpu_ms_per_order": 0.41,
               "machine_busy": 0.604},
              {"bench": "service", "db": "postgresql", "orders_per_s": 1351.0},
              {"bench": "pgbench", "scale": 10, "clients": 32, "tps": 2400.0})
    figs = report.figures(a_report(pgbench, service, api))
    inproc = by_title(figs, "orders in process")
    assert inproc.reference.endswith("2,000 tps") and inproc.ratio == "0.65×"
    assert inproc.verdict == "**met**"
    http = by_title(figs, "orders over HTTP")
    assert http.reference.endswith("2,400 tps") and http.ratio == "0.20×"
    assert http.verdict == "**not met**"
    assert "`/healthz` 1,300/s" in http.measured and "in process 1,351 orders/s" in http.measured
    assert "PostgreSQL 0.41 ms CPU per order, the machine 60 % busy" in http.measured


def test_monitoring_is_read_against_polars_plain_read() -> None:
    mon = run("monitoring",
              {"bench": "monitoring", "figure": "pipeline", "rows": 8760000,
               "seconds": 24.0, "peak_rss_mb": 1400.0},
              {"bench": "monitoring", "figure": "store", "rows": 8760000, "seconds": 33.0,
               "peak_rss_mb": 1500.0, "db": "sqlite"})
    ref = run("polars_read", {"bench": "polars_read", "rows": 8760000, "seconds": 6.0,
                              "peak_rss_mb": 2900.0})
    figs = report.figures(a_report(mon, ref))
    pipe = figs[0]
    assert pipe.reference == "`polars.read_csv` of the same CSV 6.00 s, peak 2,900 MB"
    assert pipe.ratio == "0.25×" and pipe.verdict == "**met**"
    assert figs[1].measured == "33.0 s, peak 1,500 MB"


def test_reserve_is_read_against_highs_on_the_whole_model() -> None:
    lines = [{"bench": "reserve_release", "engine": "auto", "n": 100000, "seconds": 0.8,
              "status": "optimal", "check_ok": True},
             {"bench": "reserve_release", "engine": "highs", "n": 100000, "seconds": 2.4,
              "status": "optimal", "check_ok": True}]
    fig = report.figures(a_report(run("reserve", *lines)))[0]
    assert fig.reference == "HiGHS (highspy) on the whole model 2.40 s"
    assert fig.ratio == "3.00×" and fig.verdict == "**met**" and fig.goal == "< 2 s"


def test_the_transparency_log_against_the_same_writes_without_it() -> None:
    lines = [{"bench": "transparency", "db": "postgresql", "figure": "append",
              "case": "batch of 8000", "tree_off_per_s": 30000.0, "tree_on_per_s": 26000.0,
              "ratio": 0.867, "drop_pct": 13.3},
             {"bench": "transparency", "db": "postgresql", "figure": "proofs",
              "leaves": 10_000_000, "inclusion_p99_ms": 2.1, "consistency_p99_ms": 4.0},
             {"bench": "transparency", "db": "postgresql", "figure": "verify_checkpoints",
              "entries": 100_000, "command_s": 3.2}]
    append, proofs, verify = report.figures(a_report(run("transparency", *lines)))
    assert append.reference == "the same without the log 30,000 transfers/s"
    assert append.ratio == "0.87×" and append.verdict == "**not met**"
    assert proofs.verdict == "**met**"
    assert verify.verdict.startswith("not judged: run at 100,000 entries")


def test_the_simulation_year_is_judged_at_its_size_and_the_sweep_against_one_worker() -> None:
    common = {"facilities": 1000, "agents": 3400}
    lines = [{"bench": "simulation_year", "days": 250, "seconds": 7.5, "lp_seconds": 0.4,
              "orders_per_s": 52000, **common},
             {"bench": "simulation_sweep", "workers": 1, "seeds": 10, "days": 50,
              "seconds": 20.0, **common},
             {"bench": "simulation_sweep", "workers": 2, "seeds": 10, "days": 50,
              "seconds": 12.5, **common},
             {"bench": "simulation_gap", "seeds": 10, "simulated_fen": 1_250_000_00,
              "least_cost_fen": 1_000_000_00, "gap_pct": 25.0, **common}]
    year, one, two, gap = report.figures(a_report(run("simulation", *lines)))
    assert year.verdict == "**met**" and "52,000 orders/s" in year.measured
    assert one.reference == "—" and two.reference == "1 Dask worker 20.0 s"
    assert two.ratio == "1.60×"
    assert gap.measured == "1,250,000 yuan, 25.0 % above"
    lines[0] = {**lines[0], "days": 100, "seconds": 30.0}
    year = report.figures(a_report(run("simulation", *lines)))[0]
    assert year.verdict.startswith("not judged: run at 1,000 facilities and 100 days")


def test_the_page_has_the_machine_the_table_and_what_did_not_run() -> None:
    rep = a_report(run("book", *book_lines(2_170_000, 570_000)),
                   run("api", error="exit 1: wrk failed"),
                   run("pages", skipped="wrk is not installed (apt-get install wrk)"),
                   run("auction", {"bench": "auction_clear", "bids": 100000, "reps": 5,
                                   "p50_ms": 170.0, "p99_ms": 190.0}))
    page = report.render(rep)
    assert page.startswith("# Benchmarks\n")
    assert "2026-12-06 10:00 to 2026-12-06 10:12 Beijing time (UTC+8)" in page
    assert "AMD EPYC 7B13, 2 cores, 23.5 GiB" in page
    assert "1.5, 1.0, 0.5 at the start, 2.5, 1.2, 0.6 at the end" in page
    rows = [x for x in page.splitlines() if x.startswith("| ") and "---" not in x]
    assert len(rows) == 1 + len(report.figures(rep))  # the header and one row per figure
    assert "| auction clearing, 100,000 bids (uniform price) | < 1 s for 100,000 bids | " \
           "p50 170 ms, p99 190 ms (5 runs) | — | — | **met** |" in page
    assert "- `api` (" in page and "failed: exit 1: wrk failed" in page
    assert "skipped: wrk is not installed" in page
    assert "**book** (" in page and "12.3 s, load 1.5 → 2.5: `cmd book`" in page
    assert "- **pages**" not in page  # a skipped item ran nothing


def test_a_pipe_in_a_cell_does_not_break_the_table() -> None:
    fig = report.Figure("a | b", "x")
    assert report._cell(fig.figure) == "a \\| b"


def test_only_adds_the_references_and_keeps_the_order() -> None:
    assert [b.name for b in report.select(["ledger"])] == ["pg_commit", "ledger"]
    assert [b.name for b in report.select(["service", "monitoring"])] == [
        "monitoring", "polars_read", "pgbench", "service"]
    assert {b.name for b in report.select(None)} == set(report.BY_NAME)
    with pytest.raises(ValueError, match="unknown benchmark nope"):
        report.select(["nope"])


def test_dry_run_lists_and_runs_nothing(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("a dry run ran something")

    monkeypatch.setattr(report.subprocess, "run", refuse)
    assert report.main(["--dry-run", "--only", "verify,demo"]) == 0
    out = capsys.readouterr().out
    assert "bench/bench_verify.py --db both --entries 200000" in out
    assert "DATABASE_URL=sqlite:///$TMP/demo.sqlite3 .venv/bin/python -m app.cli demo" in out
    assert report.main(["--dry-run", "--full", "--only", "verify"]) == 0
    assert "--entries 1000000" in capsys.readouterr().out
    assert report.main(["--only", "nope"]) == 2


def test_render_writes_the_page_from_a_kept_run(tmp_path: Path) -> None:
    rep = a_report(run("book", *book_lines(2_170_000, 570_000)), full=True)
    raw, out = tmp_path / "raw.json", tmp_path / "benchmarks.md"
    raw.write_text(json.dumps(rep), encoding="utf-8")
    assert report.main(["--render", str(raw), "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == report.render(rep)
    assert "the goals' sizes (`--full`)" in out.read_text(encoding="utf-8")


def test_json_lines_keeps_only_json_objects() -> None:
    text = 'starting\n{"bench": "x", "a": 1}\n{broken\n[1, 2]\n  {"bench": "y"}\n'
    assert report.json_lines(text) == [{"bench": "x", "a": 1}, {"bench": "y"}]


def test_every_bench_script_is_in_the_run() -> None:
    """A new bench/bench_*.py must be added to report.BENCHES (and so to the page)."""
    scripts = {p.name for p in (Path(report.ROOT) / "bench").glob("bench_*.py")}
    used = {Path(argv[0]).name for b in report.BENCHES for argv in b.quick + b.full}
    assert scripts <= used, sorted(scripts - used)


def test_several_scenarios_in_one_sweep_are_shown_against_one_worker() -> None:
    line = {"bench": "simulation_sweep_scenarios", "scenarios": 2, "seeds": 100, "days": 250,
            "seconds": {"1": 190.0, "2": 118.75}, "speedup": 1.6, "facilities": 1000,
            "agents": 3400}
    [fig] = report.figures(a_report(run("simulation", line)))
    assert fig.figure.startswith("market simulation, 2 scenarios × 100 seeds × 250 days")
    assert fig.measured == "118.8 s" and fig.reference == "1 Dask worker 190.0 s"
    assert fig.ratio == "1.60×"
