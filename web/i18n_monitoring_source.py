"""Chinese texts of the pages for monitoring provenance, authority and voiding (merged into
`web.i18n.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Data source": "数据来源",
    "Bureau upload": "生态环境局上传",
    "Automatic monitoring system": "自动监测系统",
    "Enterprise self-monitoring": "企业自行监测",
    "Void": "作废",
    "Voided": "已作废",
    "The bureau's data (bureau upload or automatic monitoring system) supersedes the "
    "enterprise's self-monitoring data for the same outlet and day; both are kept. A voided "
    "import stops counting; the data it superseded counts again.":
        "同一排放口同一日，生态环境局的数据（局方上传或自动监测系统）取代企业自行监测数据，"
        "两者均予保留。作废的导入不再计入；被其取代的数据恢复计入。",
}
