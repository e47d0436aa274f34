"""Chinese texts of the input boundary (merged into `web.i18n.ZH`): what a page shows when a
path, query or form field holds a control character, or a field is out of bounds."""

from __future__ import annotations

ZH: dict[str, str] = {
    "control characters are not allowed": "不允许包含控制字符（如 NUL、换页符）",
    "invalid request": "请求无效",
}
