"""The demo names no real company or group (issue 18): the demo publishes synthetic
violations and penalty decisions under its enterprises' names, so those names are invented.
Checked in the default plan (1,200 enterprises), in every text column of a loaded demo
database, and in the demo's source and the fixture data the demo and the e2e tests use."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import demo

ROOT = Path(__file__).resolve().parents[2]

#: major real groups and companies (energy, cement, steel, chemicals, paper, water), and
#: well-known Chongqing enterprises, by the names and abbreviations they are known by
REAL = [
    "华能", "大唐", "华电", "国家能源", "国能", "国电", "国家电投", "中电投", "神华", "三峡集团",
    "三峡能源", "长江电力", "华润", "粤电", "浙能", "申能", "京能", "皖能", "重庆能投",
    "能投集团", "中广核", "中核",
    "海螺", "华新", "拉法基", "冀东", "红狮", "台泥", "金隅", "中国建材", "中建材", "山水水泥",
    "天瑞", "华润水泥",
    "宝武", "宝钢", "鞍钢", "首钢", "河钢", "沙钢", "重钢", "攀钢", "马钢", "包钢", "武钢",
    "中石化", "中国石化", "石化", "中石油", "中国石油", "中海油", "川维", "建峰", "万华",
    "中化集团", "中国中化",
    "华峰", "博赛", "紫金", "中铝", "中国铝业",
    "玖龙", "理文", "晨鸣", "太阳纸业", "山鹰", "华泰纸业", "金光",
    "重庆水务", "北控", "首创", "光大环境", "汇丰", "长安汽车", "国投", "中粮",
]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for v in value for s in _strings(v)]
    return []


def _hits(texts: list[str]) -> list[tuple[str, str]]:
    return sorted({(name, t) for t in texts for name in REAL if name in t})[:20]


def test_real_names_list_would_be_caught() -> None:
    assert _hits(["华能重庆万州发电有限公司"]) == [("华能", "华能重庆万州发电有限公司")]


def test_default_plan_names_no_real_group() -> None:
    plan = demo.plan_demo(demo.DEFAULT_SEED, demo.DEFAULT_ENTERPRISES, demo.DEFAULT_TODAY)
    texts = _strings(plan)
    assert len({e.name for e in plan.enterprises}) == demo.DEFAULT_ENTERPRISES
    assert _hits(texts) == []


def test_demo_source_and_fixtures_name_no_real_group() -> None:
    files = [*sorted((ROOT / "app").glob("demo*.py")), *sorted((ROOT / "tests" / "data").glob("*")),
             *sorted((ROOT / "docs" / "examples").glob("*"))]
    for f in files:
        if f.is_file():
            lines = f.read_text(encoding="utf-8").splitlines()
            assert _hits(lines) == [], f


@pytest.mark.db
def test_loaded_demo_names_no_real_group(platform) -> None:  # type: ignore[no-untyped-def]
    demo.load_demo(platform, seed=11, enterprises=40)
    texts: list[str] = []
    with platform.uow() as uow:
        meta = sa.MetaData()
        meta.reflect(uow.session.get_bind())
        for table in meta.tables.values():
            cols = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text))]
            if cols:
                texts += [v for row in uow.session.execute(sa.select(*cols)) for v in row
                          if isinstance(v, str)]
    assert any("有限公司" in t for t in texts)  # the enterprises' names were read
    assert _hits(texts) == []
