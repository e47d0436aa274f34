"""Chinese texts of the pages for tax (merged into `web.i18n.ZH`): the terms of the tax
return (source kinds, statuses and reasons), ready for the pages that show it."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Environmental protection tax": "环境保护税",
    "Tax return draft": "环境保护税申报草稿",
    "Pollution equivalents": "污染当量数",
    "Equivalent value (kg)": "污染当量值（千克）",
    "Source kind": "排放源类型",
    "combustion": "燃烧源（锅炉、电厂等）",
    "process": "工艺源",
    "municipal_sewage": "城乡污水集中处理场所",
    "municipal_waste": "生活垃圾集中处理场所",
    "smoke dust (combustion source)": "烟尘（燃烧源）",
    "general dust": "一般性粉尘",
    "Taxed": "征税",
    "Exempt (Art. 12)": "免征（第十二条）",
    "Not taxed: no equivalent value": "不征税：无污染当量值",
    "Not taxed: beyond the top pollutants of the outlet": "不征税：不在该排放口前几项",
    "75 % payable (Art. 13)": "减按75%征收（第十三条）",
    "50 % payable (Art. 13)": "减按50%征收（第十三条）",
    "Exceeds the standard: no reduction": "超标排放：不予减征",
    "No concentration: no reduction claimed": "无浓度数据：未申报减征",
    "Tax (yuan)": "税额（元）",
}
