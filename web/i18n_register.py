"""Chinese texts of the pages for the permit register (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
}
