"""Languages of the pages: Chinese by default, English switchable (cookie `erts_lang`).

Templates write `{{ _("English text") }}`; `ZH` maps it to Chinese. Codes shown to people
(sectors, roles, states, kinds) are translated through the same table. A text missing from
`ZH` shows in English (tests check that every template text has a Chinese entry).
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")

ZH: dict[str, str] = {
    "A second officer must approve each confirmation.": "每次确权须经第二名经办人审批。",
    "A token acts with your role and scope. Send it as: Authorization: Bearer <token>":
        "令牌以您的角色和范围行事。请求头：Authorization: Bearer <令牌>",
    "API tokens": "API 令牌", "Action": "操作", "Activate": "启用",
    "Approval policy": "审批策略", "Approvals": "审批", "Approve": "批准",
    "Ask kg": "卖量 kg", "Ask yuan/t": "卖价 元/吨",
    "Asset (pollutant/zone/vintage)": "资产（污染物/交易区/年度）", "Audit log": "审计日志",
    "Band %": "涨跌幅 %", "Bid kg": "买量 kg", "Bid yuan/t": "买价 元/吨",
    "Binding basis": "约束依据", "Bureau": "生态环境局", "Bureau workspace": "生态环境局工作台",
    "Cap kg": "上限 kg", "Cap t": "上限 吨", "Cash": "资金", "Change kg": "变动 kg",
    "Changed by": "修改人", "Confirm": "确权",
    "Confirmations take effect at once.": "确权立即生效。", "Confirmed kg": "确权 kg",
    "Counterparty": "对方", "Create token": "创建令牌", "Create user": "创建用户",
    "Created": "创建时间", "Credit code": "统一社会信用代码", "Daily price limits": "涨跌幅限制",
    "Deactivate": "停用", "Decided by": "审批人", "Default": "默认", "Depth and tape": "盘口与成交",
    "Detail": "详情", "Display name": "显示名称", "District": "区县", "EIA t": "环评 吨",
    "Emission rights allocation and trading": "排污权分配与交易平台",
    "Emission rights platform": "排污权交易平台", "Empty book": "暂无挂单",
    "Enterprise": "企业", "Enterprise (traders)": "所属企业（交易员）", "Enterprises": "排污单位",
    "Error": "错误", "Every asset sums to zero": "全部资产余额合计为零", "Expires": "到期",
    "Expires in days (empty: never)": "有效天数（留空：永久）", "Filled": "成交",
    "Filter": "筛选", "From": "来源", "Halt": "暂停交易", "Holdings": "持有",
    "Holdings statement (CSV)": "持有对账单（CSV）", "Home": "首页",
    "Indicator share t": "总量分配 吨", "Kind": "类型", "Last": "最新价",
    "Last price (yuan/t)": "最新价 元/吨", "Ledger conservation": "账本守恒",
    "Live updates off: htmx is not installed": "实时刷新未启用（未安装 htmx）",
    "Log in": "登录", "Log out": "退出", "Market": "市场", "Market surveillance": "市场监管",
    "Markets": "交易市场", "My enterprise": "我的企业", "My orders": "我的委托",
    "My trades": "我的成交", "Name": "名称",
    "New token (shown once, copy it now)": "新令牌（仅显示一次，请立即复制）", "Next": "下一页",
    "No approval requests": "暂无审批申请", "No confirmed rights yet": "尚未确权",
    "No markets yet.": "暂无市场。", "No orders": "暂无委托", "No permits": "暂无许可证",
    "No records": "暂无记录", "No results": "无结果", "No tokens": "暂无令牌",
    "No trades": "暂无成交", "On hold kg": "冻结中 kg", "Order": "委托", "Page": "页",
    "Password": "密码", "Permit": "排污许可证", "Permit code": "许可证编号",
    "Permit history": "许可证记录", "Permit holder": "持证单位",
    "Permits carry the rights; every trade is written into both permits.":
        "许可证是排污权的凭证和交易载体，每笔交易都记入双方许可证。",
    "Permits, their permitted quantities and every confirmation and trade are published.":
        "公开排污许可证、许可排放量以及每一笔确权和交易。",
    "Permitted after kg": "变动后许可量 kg", "Permitted quantity t": "许可排放量 吨",
    "Place an order": "委托下单", "Pollutant": "污染物", "Pollutant/year": "污染物/年度",
    "Prefix": "前缀", "Previous": "上一页",
    "Price limits are set per market by its reference price and band.":
        "各市场的涨跌幅限制由基准价和幅度决定。",
    "Price yuan/t": "价格 元/吨", "Prices": "成交价格", "Public disclosure": "信息公开",
    "Public disclosure: permits": "信息公开：排污许可证", "Quantity": "数量",
    "Quantity kg": "数量 kg", "Quantity kg (default: the allocation)": "数量 kg（默认为分配量）",
    "Reason": "理由", "Reference price": "基准价", "Reject": "驳回", "Remaining": "剩余",
    "Requested by": "申请人", "Result": "结果", "Results": "结果数", "Resume": "恢复交易",
    "Revoke": "吊销", "Rights confirmation": "排污权确权", "Role": "角色", "Search": "查询",
    "Second officer required": "需第二人审批", "Second-officer approvals": "双人审批",
    "Sector": "行业", "Show": "显示", "Side": "方向", "Something went wrong": "出错了",
    "Specification t": "规范核算 吨", "State": "状态", "Status": "状态", "Submit": "提交",
    "Summary": "摘要", "Surveillance": "市场监管", "Target": "对象",
    "The public disclosure pages need no log-in.": "信息公开页面无需登录。", "Time": "时间",
    "Tradable kg": "可交易 kg", "Trade prices over time": "成交价格走势",
    "Trade statement (CSV)": "成交对账单（CSV）", "Transaction type": "业务类型",
    "Turn off": "关闭", "Turn on": "开启", "Type": "类型", "Unbalanced assets": "不平衡资产",
    "User": "用户", "Username": "用户名", "Users": "用户管理", "Valid": "有效期",
    "Value yuan": "金额 元", "Verify": "核定", "Verify surplus": "富余核定", "Vintage": "年度",
    "Withdraw": "撤回", "Year": "年度",
    "Your session has expired. Please log in again.": "会话已过期，请重新登录。",
    "Zone": "交易区", "action": "操作", "active": "有效", "all": "全部",
    "all sectors": "全部行业", "buy": "买入", "cancel": "撤单", "district code": "区县代码",
    "districts": "区县", "enterprises": "排污单位", "inactive": "已停用",
    "name or credit code": "名称或信用代码", "never": "永久", "no": "否",
    "not confirmed": "未确权", "on hold": "冻结", "permits": "排污许可证", "reason": "理由",
    "revoked": "已吊销", "sell": "卖出", "trading zones": "交易区", "user": "用户",
    "verified reduction": "核定减排", "yes": "是", "yuan": "元", "yuan/t": "元/吨",
    # codes shown to people
    "thermal_power": "火电", "steel": "钢铁", "cement": "水泥", "chemicals": "化工",
    "paper": "造纸", "industrial_boiler": "工业锅炉", "sewage": "污水处理",
    "bureau_officer": "生态环境局经办人", "bureau_admin": "生态环境局管理员",
    "trader": "企业交易员", "analyst": "分析员",
    "open": "交易中", "halted": "暂停", "closed": "已关闭", "filled": "已成交",
    "cancelled": "已撤单", "valid": "有效", "expired": "已过期",
    "pending": "待审批", "executing": "执行中", "executed": "已执行", "failed": "失败",
    "rejected": "已驳回",
    "confirmation": "确权", "verified_surplus": "富余核定", "trade_in": "买入",
    "trade_out": "卖出", "reserve_release": "储备出让", "recovery": "收回",
    "reserve_buyback": "储备回购", "cancellation": "注销", "negotiated_transfer": "协议转让",
    "specification": "规范核算", "eia": "环评批复", "indicator_share": "总量分配",
    # analyst pages, reserve dashboard, standard changes
    "A scenario changes the baseline of one year; running it recomputes permitted quantities "
    "and the reserve plan.":
        "情景在某一年度基线上作出调整；运行后重新计算许可排放量和储备出让方案。",
    "A second officer must approve each release.": "每次储备出让须经第二名经办人审批。",
    "Alert days": "预警天数", "All or nothing": "全额或不分配", "Allocated kg": "分配量 kg",
    "Applicants": "申请对象", "Apply this standard": "执行该标准", "Available kg": "可用 kg",
    "Balance kg": "余额 kg", "By pollutant": "按污染物", "By sector": "按行业",
    "By zone": "按交易区", "Changes against the baseline": "相对基线的调整",
    "Compare": "对比", "Compare scenarios": "情景对比", "Compare two scenarios": "对比两个情景",
    "Compare with": "对比对象", "Created by": "创建人", "Description": "说明",
    "Effective date": "生效日期", "Excluded": "已排除",
    "Flagged permit quantities": "受影响的许可排放量",
    "Granted kg": "分配 kg", "Grants": "分配结果", "Guaranteed minimum %": "保底比例 %",
    "Heavy-pollution alert": "重污染天气预警", "Indicator change %": "总量指标调整 %",
    "Infeasible": "无可行解", "Left kg": "剩余 kg", "Limit mg/Nm3 (mg/L)": "限值 mg/Nm3（mg/L）",
    "New scenario": "新建情景", "No flags": "暂无标记", "No grants": "暂无分配",
    "No reserve yet": "暂无储备", "No scenarios yet": "暂无情景", "Not run yet.": "尚未运行。",
    "Note": "备注", "Objective": "目标", "Objective value": "目标值",
    "Parameter version": "参数版本", "Permits": "许可证",
    "Permitted change vs baseline kg": "许可量较基线变化 kg", "Permitted kg": "许可量 kg",
    "Permitted kg by zone": "各交易区许可量 kg", "Permitted kg by sector": "各行业许可量 kg",
    "Permitted kg by pollutant": "各污染物许可量 kg", "Priority": "优先级",
    "Record request": "登记申请",
    "Register a new standard before its effective date: every permit quantity it changes is "
    "flagged with the old and new quantity.":
        "在新标准生效前登记：其改变的每一项许可排放量都会标记新旧数量。",
    "Register standard": "登记标准", "Release this plan": "出让该方案",
    "Released by": "出让人", "Released kg": "已出让 kg",
    "Releases take effect at once.": "出让立即生效。", "Reserve": "储备",
    "Reserve balances": "储备余额", "Reserve dashboard": "储备管理",
    "Reserve plan": "储备出让方案", "Reserve request": "储备申请",
    "Reserve use and shadow prices": "储备使用与影子价格",
    "Reserve-release optimiser": "储备出让优化", "Results of run": "运行结果",
    "Retained kg": "留存 kg", "Retained share (0–1)": "留存比例（0–1）",
    "Run scenario": "运行情景", "Run the optimiser": "运行优化", "Runs": "运行记录",
    "Save scenario": "保存情景", "Scenario": "情景", "Scenarios": "情景分析",
    "Sectors adopting ultra-low limits": "执行超低排放限值的行业",
    "Shadow price": "影子价格", "Share kg": "总量分配 kg", "Source": "排放源",
    "Standard": "标准", "Standard changes": "标准变更", "Standards": "标准变更",
    "Total": "合计", "Usable kg": "可出让 kg",
    "Utilisation hours (thermal power)": "利用小时数（火电）", "days": "天",
    "latest": "最新", "limit": "限值", "new": "新", "none": "无", "old": "原",
    "required": "所需", "run": "运行",
    "indicator_kg": "总量指标 kg", "reserve_kg": "储备 kg", "spec_kg": "规范核算 kg",
    "cap_kg": "上限 kg", "share_kg": "总量分配 kg", "permitted_kg": "许可量 kg",
    "granted_kg": "储备分配 kg", "alert_cut_kg": "预警削减 kg",
    "yellow": "黄色", "orange": "橙色", "red": "红色", "requests": "储备申请",
    "headroom": "上限余量", "priority": "按优先级", "max_min": "最大最小公平",
    "planned": "已规划", "infeasible": "无可行解", "not_optimal": "未证明最优",
    "released": "已出让", "superseded": "已取代", "skipped": "已跳过", "optimal": "最优",
    "national": "国家标准", "local": "地方标准", "ultra_low": "超低排放",
    "applied": "已执行", "held_back": "暂缓", "not applied": "未执行",
    "Open plan": "查看方案", "Plan": "方案",
    # trading venue pages (web/pages/trading_pages.py): auctions, listings, transfers
    "A transfer the buyer has accepted waits for the bureau: approval settles it at once; "
    "a rejection needs a reason and releases both parties' holds.":
        "买方已接受的协议转让等待生态环境局审核：批准后立即交割；驳回须说明理由并解除双方冻结。",
    "Accept": "接受", "Auction": "拍卖", "Auctions": "储备拍卖", "Bid": "报价",
    "Bidder cap %": "单个竞买人上限 %",
    "Bids are sealed: you see only your own bids. A bid holds its full value as a deposit "
    "until the auction clears.":
        "密封报价：您只能看到本企业的报价。每笔报价按全额冻结保证金，直至拍卖出清。",
    "Buyer": "买方", "Buyer credit code": "买方统一社会信用代码", "Buyer permit": "买方许可证",
    "Clear": "出清", "Clearing price yuan/t": "成交价 元/吨", "Close bidding": "截止报价",
    "Create": "创建", "Deposit yuan": "保证金 元", "Listing": "挂牌", "My bids": "我的报价",
    "My permit": "我的许可证", "My transfers": "我的协议转让",
    "Negotiated transfers": "协议转让",
    "Negotiated transfers and listings": "协议转让与挂牌", "No auctions": "暂无拍卖",
    "No bids": "暂无报价", "No open listings": "暂无挂牌", "No transfers": "暂无协议转让",
    "Offered kg": "拍卖量 kg", "Open bidding": "开始报价", "Open listings": "挂牌中",
    "Pay price yuan/t": "支付价 元/吨", "Place sealed bid": "提交密封报价",
    "Propose": "发起", "Propose a transfer (you sell)": "发起协议转让（本企业出让）",
    "Reserve auctions": "储备拍卖", "Reserve price yuan/t": "保留价 元/吨", "Rule": "规则",
    "Seller": "卖方", "Set up an auction": "设立拍卖", "Settle": "交割", "Sold kg": "成交量 kg",
    "Take": "摘牌",
    "The reserve price may not be below the pollutant's base price. The tie-break seed is "
    "published when the auction is created (empty: drawn at random).":
        "保留价不得低于该污染物的基准价。同价排序种子在创建拍卖时公布（留空则随机生成）。",
    "Tie-break seed": "同价排序种子", "Transfer": "转让", "Transfers": "协议转让",
    "Won kg": "中标量 kg", "draft": "草稿", "cleared": "已出清", "settled": "已交割",
    "proposed": "待接受", "accepted": "待审核", "sold": "已售出", "withdrawn": "已撤回",
    "won": "中标", "lost": "未中标", "uniform": "统一价格", "pay_as_bid": "按报价支付",
    "Unusual trades": "异常交易", "Deviation threshold %": "偏离阈值 %", "Flag": "标记",
    "Trade": "交易", "Parties": "交易双方", "Deviation %": "偏离 %",
    "No unusual trades": "暂无异常交易",
    "Trades and negotiated transfers priced far from the reference price (the base price "
    "when a market has none), and negotiated transfers between the same parties in both "
    "directions.":
        "价格明显偏离基准价（市场未设基准价时采用基础价格）的交易和协议转让，以及同一双方之间"
        "双向进行的协议转让。",
    "price_deviation": "价格偏离", "self_dealing": "自我交易", "round_trip": "对倒交易",
}


# supervision (monitoring imports, anomaly clues): web/pages/supervision.py
ZH.update({
    "Monitoring": "在线监测", "Monitoring data": "在线监测数据",
    "Hourly online-monitoring data (CST): actual emissions are computed per outlet, "
    "pollutant and day; exceedances, flat-lined signals, missing data and emissions dropping "
    "while power use stays high each open a problem clue.":
        "小时在线监测数据（北京时间）：按排放口、污染物和日计算实际排放量；超标、数据恒值、"
        "数据缺失以及用电量保持高位而排放量下降，均生成问题线索。",
    "Import monitoring data": "导入监测数据", "CSV file": "CSV 文件",
    "or paste the CSV text": "或粘贴 CSV 文本",
    "Partial import: keep the valid rows": "部分导入：保留有效行",
    "Columns: permit, outlet, hour (YYYY-MM-DD HH:MM), flow_nm3_h or flow_m3_h, "
    "concentrations as SO2_mg_m3, NOx_mg_m3, PM_mg_m3 (air) or COD_mg_l, NH3-N_mg_l (water), "
    "power_kwh. The unit is part of the column name.":
        "列：permit（许可证）、outlet（排放口）、hour（YYYY-MM-DD HH:MM）、flow_nm3_h 或 "
        "flow_m3_h（流量），浓度列如 SO2_mg_m3、NOx_mg_m3、PM_mg_m3（废气）或 COD_mg_l、"
        "NH3-N_mg_l（废水），power_kwh（用电量）。单位写在列名中。",
    "Invalid rows": "无效行", "Nothing was stored.": "未保存任何数据。", "Line": "行号",
    "Field": "字段", "Import": "导入", "Recent imports": "最近导入", "Imported at": "导入时间",
    "By": "操作人", "Rows": "行数", "Accepted": "接受", "Rejected": "拒绝",
    "Outlets": "排放口数", "Daily rows": "日数据行", "Anomalies": "异常",
    "No imports": "暂无导入", "Execution reports against monitoring": "执行报告与监测数据比对",
    "Tolerance %": "容差 %", "Check report": "比对报告", "Deviations": "偏差",
    "Reported kg": "报告 kg", "Monitored kg": "监测 kg", "Monitored hours": "监测小时数",
    "Checked at": "比对时间", "No deviations": "暂无偏差",
    "Daily emissions of a permit": "许可证日排放量", "To": "至", "Show": "显示",
    "Emitted kg": "排放 kg", "Emitted g": "排放 g", "Hours": "小时数", "Days": "天数",
    "Day": "日期", "Power kWh": "用电 kWh", "No monitoring data": "暂无监测数据",
    "Shown": "已显示",
})

# heavy-pollution alerts: web/pages/alerts.py
ZH.update({
    "Actor": "操作人", "Alert": "预警", "Alert level": "预警级别", "Alerts": "预警列表",
    "Alert levels cut emissions by at least: yellow 10 %, orange 20 %, red 30 %. Each "
    "affected permit gets, per pollutant with a permitted quantity that year, a daily cap "
    "(permitted quantity × (1 − cut) ÷ days in the year, rounded down to whole kg) and a "
    "monthly cap (daily cap × alert days in the month).":
        "预警级别对应的减排比例不低于：黄色 10%、橙色 20%、红色 30%。受影响的排污许可证按当年有"
        "许可排放量的每种污染物获得日排放上限（许可排放量 ×（1 − 减排比例）÷ 当年天数，向下取整"
        "到千克）和月排放上限（日上限 × 当月预警天数）。",
    "Breaches": "超限记录", "Bureau's request": "生态环境局要求", "Caps": "排放上限",
    "Check monitoring data against the caps": "用监测数据核对排放上限",
    "Check this alert": "核对本次预警", "Close the clue": "关闭线索", "Closed": "已关闭",
    "Clue": "线索", "Cut %": "减排比例 %",
    "Cut % (optional, at least the level's)": "减排比例 %（可选，不低于级别要求）",
    "Daily cap kg": "日上限 kg", "Declare": "发布", "Declare an alert": "发布预警",
    "Declared by": "发布人",
    "Each finding of off-site supervision (screening anomalies, alert breaches, manual "
    "entries) is followed up: found → sent to the enterprise → rectified → verified → "
    "closed; a rejected rectification goes back to the enterprise.":
        "非现场监管发现的每个问题（筛查异常、预警超限、人工录入）都要跟踪办理：发现 → 交办企业 → "
        "整改 → 核查 → 销号；核查不通过的整改退回企业重新整改。",
    "Emitted kg": "排放量 kg", "Evidence": "证据",
    "Findings the bureau follows up with your enterprise. When a clue is sent to you, record "
    "what you rectified before its due date; the bureau then verifies it.":
        "生态环境局交办贵企业的问题线索。收到交办后，请在截止日期前填报整改情况，由生态环境局"
        "核查。",
    "First day": "开始日期", "First rows shown; the API lists all.":
        "仅显示前若干行；完整列表请使用 API。",
    "Found by": "来源", "Heavy-pollution alerts": "重污染天气预警", "History": "办理记录",
    "Last checked": "最近核对", "Last day": "结束日期", "Lift this alert now": "立即解除预警",
    "Lifted by": "解除人", "Message to the enterprise": "交办要求", "Month": "月份",
    "Monthly cap kg": "月上限 kg", "No alerts": "暂无预警", "No breaches": "暂无超限",
    "No clues": "暂无线索", "No permit is affected": "无受影响的许可证",
    "No such alert": "没有该预警", "No such clue": "没有该线索",
    "Open a clue by hand": "人工录入问题线索", "Open clue": "录入线索", "Opened": "发现",
    "Problem clue": "问题线索", "Problem clues": "问题线索",
    "Record the rectification": "提交整改情况", "Rectification recorded": "已填报整改",
    "Reject: back to the enterprise": "不通过：退回企业", "Rejected": "核查不通过",
    "Remark": "附注", "Run the check": "开始核对", "Send to the enterprise": "交办企业",
    "Sent to the enterprise": "已交办企业", "Verified": "已核查",
    "Verify the rectification": "核查通过", "What was rectified": "整改情况",
    "Window": "时段", "Zones or districts": "交易区或区县",
    "all started alerts": "所有已开始的预警", "overdue": "已逾期",
    # states, kinds, alert statuses, breach periods, sides
    "found": "已发现", "sent": "已交办", "rectified": "已整改", "verified": "已核查",
    "exceedance": "超标排放", "flat_line": "数据恒值", "missing_data": "数据缺失",
    "emission_power_mismatch": "排放与用电不符", "alert_breach": "预警超限",
    "manual": "人工录入", "declared": "已发布", "lifted": "已解除", "ended": "已结束",
    "day": "日", "month": "月", "bureau": "生态环境局", "enterprise": "企业",
    "system": "系统",
})

# true-up, deduction, vintages and standard-change recovery: web/pages/compliance_pages.py
ZH.update({
    "Compliance": "履约", "Compliance true-up": "履约清缴", "Run true-up": "执行清缴",
    "True-up status per permit": "各许可证清缴状态", "Annual report": "年度执行报告",
    "Actual kg": "实际排放 kg", "Surrendered kg": "清缴 kg", "Vintages": "年度份额",
    "Deducted kg": "次年扣减 kg", "Outstanding kg": "未抵扣 kg",
    "Penalty range, yuan": "罚款幅度（元）", "Basis": "依据",
    "Regulation Art. 34": "《排污许可管理条例》第三十四条",
    "Deduct the shortfall from next year": "从次年排污权中扣减缺口",
    "Each year's emissions are settled from that year's confirmed rights first, then from "
    "banked rights of the five earlier vintages already trued up (oldest first); later "
    "vintages are never used, and tradable rights are never surrendered. A shortfall is a "
    "violation under Regulation Art. 34; it can also be deducted from next year's rights.":
        "每年的排放先以当年度确认的排污权清缴，再以此前五个已完成清缴年度的结余排污权（由早到晚）"
        "补足；不得使用以后年度的排污权，可交易排污权不予清缴。缺口按《排污许可管理条例》"
        "第三十四条记为违法，并可从次年排污权中扣减。",
    "compliant": "履约", "violation": "违法", "deduction": "次年扣减",
    "not trued up": "未清缴", "open violation": "待处理",
    "Recovery kg": "应收回 kg", "Decision": "决定", "Decision on flag": "处理标记",
    "Buy-back price, yuan/t": "回购价格（元/吨）",
    "recover": "收回至储备", "buy_back": "回购至储备", "recovered": "已收回",
    "bought_back": "已回购", "second officer": "需复核",
})

# disclosure and penalty decisions: web/pages/disclosure.py, web/pages/public.py
ZH.update({
    "A shortfall found by the true-up is a violation (Regulation Art. 34: 200,000 to "
    "1,000,000 yuan). A decision is published when it is made; corrections and withdrawals "
    "are recorded, never deleted.":
        "年度核算发现的排放量缺口即为违法行为（《排污许可管理条例》第三十四条：二十万元以上"
        "一百万元以下罚款）。处罚决定作出即公开；更正和撤回均留有记录，从不删除。",
    "After the annual true-up an enterprise is compliant when its rights covered its actual "
    "emissions, in violation when they fell short, and pending until every permit is trued "
    "up.":
        "年度核算后，排污权足以覆盖实际排放量的企业为合规，不足的为违法；所有许可证核算完成前"
        "为待核算。",
    "Annual": "年度", "Compliance status": "合规状态", "Compliant": "合规",
    "Continuous market": "连续竞价", "Correct a decision": "更正处罚决定",
    "Corrected": "已更正", "Decide": "作出决定", "Decide and publish": "作出决定并公开",
    "Decision date": "决定日期", "Decision number": "决定书文号", "Decisions": "处罚决定",
    "Due": "截止日期", "Enter a report": "填报执行报告",
    "Every trade as the exchange publishes it: market, quantity, price and time.":
        "按交易所公开口径公布每笔成交：市场、数量、价格和时间。",
    "Execution reports": "执行报告", "Field": "字段", "Flags": "标记",
    "Header row: permit, year, period, outlet, pollutant, quantity, unit. Excel: the first "
    "sheet, row n is line n.":
        "表头：permit, year, period, outlet, pollutant, quantity, unit。Excel 读取第一个工作表，"
        "错误提示的行号即表格行号。",
    "Import": "导入", "Import CSV or Excel": "导入 CSV 或 Excel", "In violation": "违法",
    "Late reports": "逾期报告", "Legal basis": "法律依据", "Line": "行", "Lines": "明细",
    "Negotiated transfer": "协议转让", "No penalty decisions": "暂无处罚决定",
    "No reports": "暂无报告", "No violations": "暂无违法记录",
    "No violations await a decision": "暂无待处罚的违法行为",
    "Nothing was stored.": "未保存任何数据。",
    "Outlet": "排放口", "Partial import: keep the valid rows": "部分导入：保留有效行",
    "Penalties": "行政处罚", "Penalty decisions": "行政处罚决定",
    "Penalty decisions on emissions beyond the rights held (Regulation Art. 34). A withdrawn "
    "decision shows the reason of its withdrawal.":
        "对超出所持排污权排放的行政处罚决定（《排污许可管理条例》第三十四条）。已撤回的决定"
        "公开撤回理由。",
    "Penalty range yuan": "罚款幅度 元", "Penalty yuan": "罚款 元", "Pending true-up": "待核算",
    "Period": "期间", "Public disclosure: compliance status": "信息公开：合规状态",
    "Public disclosure: penalty decisions": "信息公开：行政处罚决定",
    "Public disclosure: trades": "信息公开：成交记录", "Published": "已公开",
    "Record correction": "记录更正", "Reports": "报告", "Reserve auction": "储备拍卖",
    "Shortfall kg": "缺口 kg", "Stored": "已保存", "Submit report": "提交报告",
    "Submitted": "提交时间", "Trades": "成交记录", "Unit": "单位", "Updated": "更新于",
    "Venue": "交易方式", "Violation": "违法行为", "Violations": "违法行为",
    "Violations awaiting a decision": "待作出处罚决定的违法行为",
    "Withdraw (the reason is published)": "撤回（公开撤回理由）",
    "Withdraw a decision": "撤回处罚决定", "Withdrawn": "已撤回", "all markets": "全部市场",
    "late": "逾期", "unchanged": "不变", "Awaiting decision": "待作出决定",
    "Decided": "已作出处罚决定", "above_permitted": "超过许可排放量",
    "change_over_50pct": "同比变化超过 50%",
})

# market surveillance of continuous trades
ZH.update({
    "Trades of every venue and negotiated transfers priced far from the reference price (the "
    "base price when a market has none); one enterprise on both sides; round trips: A sells "
    "to B and B sells back to A in the same market within the window, at similar "
    "quantities.": "各交易方式的成交及协议转让中价格远离参考价（市场无参考价时用基准价）的交易；"
    "买卖双方为同一企业的交易；对倒交易：同一市场内、窗口期内，A 卖给 B 且 B 以相近数量卖回给 A。",
    "Round-trip window (trading days)": "对倒窗口（交易日）",
    "Quantity tolerance %": "数量容差 %", "Other leg": "另一笔",
})

def _merge() -> None:
    """Each subject keeps its texts in a module of its own (web/i18n_<subject>.py)."""
    from web import (
        i18n_alerts,
        i18n_boundary,
        i18n_four_eyes,
        i18n_levels,
        i18n_login,
        i18n_monitoring,
        i18n_monitoring_source,
        i18n_paid_use,
        i18n_penalties,
        i18n_quantities,
        i18n_register,
        i18n_reports,
        i18n_roles,
        i18n_tax,
        i18n_trueup,
        i18n_workbook,
    )

    for mod in (i18n_alerts, i18n_boundary, i18n_four_eyes, i18n_levels, i18n_login,
                i18n_monitoring, i18n_monitoring_source, i18n_paid_use, i18n_penalties,
                i18n_quantities, i18n_register, i18n_reports, i18n_roles, i18n_tax, i18n_trueup,
                i18n_workbook):
        ZH.update(mod.ZH)


_merge()


def translator(lang: str) -> Callable[[str], str]:
    if lang == "en":
        return lambda text: text
    return lambda text: ZH.get(text, text)
