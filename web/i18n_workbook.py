"""Chinese texts of reading uploaded report files (merged into `web.i18n.ZH`): what the
upload page says when a file is refused by the reader's limits (compliance.workbook)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "The file cannot be read: it is not a readable CSV or Excel workbook, or it exceeds the "
    "reader's limits (100,000 rows, 256 columns, 1,000,000 cells, 64 MB unpacked per part, "
    "10 seconds).":
        "无法读取该文件：不是可读取的 CSV 或 Excel 工作簿，或超出读取限制（10 万行、256 列、"
        "100 万个单元格、每个部件解压后 64 MB、10 秒）。",
}
