"""Each role's day in a real browser, in Chinese and in English (issue 18, "Done when"),
with a screenshot at each main step (`day-<role>-<lang>-NN-<step>.png`, CI artefacts).

Done so far: the analyst's day (build two scenarios, compare them). The trader's and the
officer's days are still to write (see the helper's report)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import log_in, shot
from tests.e2e.test_bureau_analyst import _build

pytestmark = pytest.mark.e2e

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])


def _set_lang(page: Any, live: Any, lang: str) -> None:
    page.context.add_cookies([{"name": "erts_lang", "value": lang, "url": live.url}])


@LANGS
def test_analyst_day_compares_two_scenarios(page: Any, live: Any, lang: str) -> None:
    _set_lang(page, live, lang)
    log_in(page, "analyst")
    html_lang = page.locator("html").get_attribute("lang") or ""
    assert html_lang.startswith(lang), html_lang
    shot(page, f"day-analyst-{lang}-01-workbench")
    a = _build(page, f"day {lang} tighter", change_pct="-10", ultra_low=True, alert="orange")
    shot(page, f"day-analyst-{lang}-02-scenario")
    b = _build(page, f"day {lang} baseline")
    page.goto("/analyst/compare")
    page.select_option("#compare-form select[name=a]", a)
    page.select_option("#compare-form select[name=b]", b)
    page.click("#compare-submit")
    page.wait_for_load_state()
    body = page.locator("main").inner_text() if page.locator("main").count() else \
        page.locator("body").inner_text()
    assert f"day {lang} tighter" in body and f"day {lang} baseline" in body  # both seen
    for section in ("by_zone", "by_sector", "by_pollutant"):
        assert page.locator(f"#chart-{section} svg rect.bar").count() >= 2, section
    if lang == "en":
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in page.locator("h1").inner_text())
    else:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in page.locator("h1").inner_text())
    shot(page, f"day-analyst-{lang}-03-compare")
