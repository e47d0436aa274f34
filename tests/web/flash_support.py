"""Reading a post's confirmation now that it is held server-side (issue 18): follow the 303
with the same browser and read the notice its next page shows once."""

from __future__ import annotations

import re
from typing import Any

FLASH = re.compile(r'<p class="flash (?:ok|err)"[^>]*>(.*?)</p>', re.S)


def notice(browser: Any, response: Any) -> str:
    """The notices (ok and error) the page after `response` (a 303) shows, as one text."""
    assert response.status_code == 303, response.text[:500]
    page = browser.get(response.headers["location"])
    return " ".join(FLASH.findall(page.text))


def notice_has(browser: Any, response: Any, *words: str) -> bool:
    """The notice after `response` contains one of `words` (its English or Chinese)."""
    text = notice(browser, response)
    return any(w in text for w in words)
