"""Chinese texts of the analyst workspace's read-only comparison (merged into
`web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "not run: computed for this comparison, not stored": "未运行：为本次比较临时计算，未保存",
}
