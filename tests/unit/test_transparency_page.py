"""bench/transparency_page.py: the page of the transparency log's figures, from
bench_transparency.py's lines.

Nothing is run or timed: the lines are built here, in bench_transparency.py's own keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import transparency_page


def append(case: str, off: float, on: float) -> dict[str, Any]:
    ratios = [(on - 5) / off, on / (off - 10)]
    return {"bench": "transparency", "figure": "append", "case": case, "tree_off_per_s": off,
            "tree_on_per_s": on, "drop_pct": round((1 - sum(ratios) / 2) * 100, 1),
            "best_drop_pct": round((1 - on / off) * 100, 1),
            "paired_ratios": [round(x, 3) for x in ratios],
            "runs_off_per_s": [off, off - 10], "runs_on_per_s": [on - 5, on],
            "load_avg_1m": 0.9}


LINES = [
    append("single, 1 client, locks", 500.0, 470.0),
    append("batch of 8000", 20000.0, 17000.0),
    {"bench": "transparency", "figure": "proofs", "leaves": 10_000_000, "samples": 2000,
     "load": "journal entries", "inclusion_p50_ms": 3.1, "inclusion_p99_ms": 4.2,
     "consistency_p50_ms": 2.9, "consistency_p99_ms": 11.0},
    {"bench": "transparency", "figure": "verify_checkpoints", "entries": 200_000,
     "command": "erts ledger verify --checkpoints FILE", "command_s": 2.5, "one_pass_s": 2.1,
     "verify_s": 1.8},
    {"bench": "other"},
]


def page() -> str:
    return transparency_page.render(LINES, command="python bench/bench_transparency.py --x",
                                    pg=None, now=datetime(2026, 12, 6, 10, 0, tzinfo=UTC))


def test_each_figure_is_a_row_with_its_verdict() -> None:
    p = page()
    assert "2026-12-06 18:00 Beijing time" in p
    assert "`python bench/bench_transparency.py --x`" in p
    rows = {r.split(" | ")[0].lstrip("| "): r for r in p.splitlines() if r.startswith("| ")}
    assert rows["append with the tree kept: single, 1 client, locks"].endswith("| met |")
    single = rows["append with the tree kept: single, 1 client, locks"]
    assert "5.5 % slower, the median of 2 paired runs" in single
    assert "470 against 500 transfers/s, 6 % slower" in single
    assert rows["append with the tree kept: batch of 8000"].endswith("| **not met** |")
    proofs = rows["proofs at 10,000,000 leaves (journal entries)"]
    assert "p99 4.2 ms" in proofs and proofs.endswith("| **not met** |")  # consistency 11 ms
    verify = rows["`erts ledger verify --checkpoints FILE` at 200,000 entries"]
    assert verify.endswith("within the goal at 200,000 (goal at 1,000,000) |")
    assert "single, 1 client, locks: tree off 500, 490; tree on 465, 470 transfers/s; " \
           "on / off per pair 0.93, 0.959" in p


def test_the_command_line_writes_the_page(tmp_path: Path) -> None:
    lines = tmp_path / "lines.jsonl"
    lines.write_text("not json\n" + "\n".join(json.dumps(x) for x in LINES) + "\n")
    out = tmp_path / "page.md"
    assert transparency_page.main([str(lines), "--output", str(out)]) == 0
    assert out.read_text().startswith("# The transparency log's figures")
