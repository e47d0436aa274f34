"""Chinese texts of the pages for quantities (merged into `web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
}
