"""Chinese texts of the pages for the permit paid use (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
}
