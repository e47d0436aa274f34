"""A scenario's changes name sectors and the alert level in the reader's language (issue 18).

Found by the analyst's browser walk in English (tests/e2e/test_role_days.py): the scenario
page passed sector codes through the message catalogue, which knows `thermal_power` only as
a Chinese entry; in English the page showed the raw code, and any other sector showed its
code in Chinese too. The labels of web/labels.py are used now."""

from __future__ import annotations

import re

import pytest

from tests.web.test_page_language import offenders, visible_text

pytestmark = pytest.mark.db

FORM = {"name": "ultra-low words", "year": "2026", "change_pct": "", "hours": "4000",
        "alert_level": "orange", "alert_days": "10", "description": "",
        "ultra_low": ["thermal_power", "steel"]}
WORDS = {"zh": ("火电, 钢铁", "火电 4000", "橙色预警 · 10"),
         "en": ("Thermal power, Steel", "Thermal power 4000", "Orange alert · 10")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scenario_changes_are_named_not_coded(browser, spine, lang: str) -> None:  # type: ignore[no-untyped-def]
    b = browser("analyst")
    b.c.cookies.set("erts_lang", lang)
    b.get("/analyst/scenarios")
    r = b.post("/analyst/scenarios", data=FORM, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    page = b.get(r.headers["location"]).text
    changes = page.split('id="changes"')[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", changes)
    for words in WORDS[lang]:
        assert any(c.startswith(words) for c in cells), (words, cells)
    assert "thermal_power" not in visible_text(changes)
    assert offenders(page, lang) == ([], [])
