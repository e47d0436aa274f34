"""Labels of the codes people see: one table per kind, a Chinese and an English label per code.

Codes (`coal_power`, `SURRENDER`, `place_order`, `gtc` ...) belong to the API, the CSV files
a machine reads and the database; pages show `label(kind, code)` (a template function, see
`web.pages.render`), which answers the label in the page's language. A code missing from its
table shows as it is: `tests/web/test_page_language.py` crawls every page in both languages
and fails when one of the codes below shows as text, so add a code here when it is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

#: kind → code → (Chinese, English)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "sector": {
        "thermal_power": ("火电", "Thermal power"), "steel": ("钢铁", "Steel"),
        "cement": ("水泥", "Cement"), "chemicals": ("化工", "Chemicals"),
        "paper": ("造纸", "Paper"), "industrial_boiler": ("工业锅炉", "Industrial boilers"),
        "sewage": ("污水处理", "Sewage treatment"),
    },
    # emission sources of the concentration-limit table (allocation/params/*.json)
    "source": {
        "*": ("全部排放源", "Every source"),
        "coal_power": ("燃煤发电", "Coal power"),
        "coal_power_existing": ("燃煤发电（现有）", "Coal power, existing units"),
        "coal_power_w_flame": ("燃煤发电（W 型火焰炉膛）", "Coal power, W-flame boilers"),
        "oil_power": ("燃油发电", "Oil power"), "gas_power": ("燃气发电", "Gas power"),
        "steel_sinter": ("钢铁烧结、球团", "Steel sintering and pelletising"),
        "steel_other": ("钢铁其他主要排放源", "Steel, other major sources"),
        "cement_kiln": ("水泥窑", "Cement kiln"),
        "cement_kiln_key_region": ("水泥窑（重点地区）", "Cement kiln, key regions"),
        "cement_cooler": ("水泥熟料冷却机", "Cement clinker cooler"),
        "cement_other": ("水泥其他排放源", "Cement, other sources"),
        "coal_boiler": ("燃煤锅炉", "Coal-fired boiler"),
        "coal_boiler_existing": ("燃煤锅炉（现有）", "Coal-fired boiler, existing"),
        "oil_boiler": ("燃油锅炉",
                       "Oil-fired boiler"), "gas_boiler": ("燃气锅炉", "Gas-fired boiler"),
        "chemicals_process_heater": ("化工工艺加热炉", "Chemicals process heater"),
        "sewage_1a": ("城镇污水处理（一级 A）", "Municipal sewage, grade 1A"),
        "paper": ("造纸",
                  "Paper"), "integrated_wastewater": ("污水综合排放", "Integrated wastewater"),
        # environmental-tax source kinds
        "combustion": ("燃烧源（锅炉、电厂等）", "Combustion"), "process": ("工艺源", "Process"),
        "municipal_sewage": ("城乡污水集中处理场所", "Municipal sewage"),
        "municipal_waste": ("生活垃圾集中处理场所", "Municipal waste"),
        # who reported monitoring data
        "automatic": ("自动监测", "Automatic monitoring"), "bureau": ("生态环境局", "Bureau"),
        "enterprise": ("企业", "Enterprise"),
        # paid-use bill sources
        "confirmation": ("确权", "Rights confirmation"),
        "reserve_release": ("储备出让", "Reserve release"),
    },
    "standard_kind": {
        "national": ("国家标准", "National standard"), "local": ("地方标准", "Local standard"),
        "ultra_low": ("超低排放", "Ultra-low emission"),
    },
    # ledger transaction types and the kinds of a permit's history
    "tx_type": {
        "issuance": ("指标发放", "Issuance"), "confirmation": ("确权", "Confirmation"),
        "verification": ("富余核定", "Verified surplus"), "transfer": ("交易结算", "Transfer"),
        "reserve_buyback": ("储备回购", "Reserve buy-back"),
        "reserve_release": ("储备出让", "Reserve release"), "recovery": ("收回", "Recovery"),
        "surrender": ("清缴", "Surrender"), "cancellation": ("注销", "Cancellation"),
        "deposit": ("资金存入", "Deposit"), "withdrawal": ("资金提取", "Withdrawal"),
        "reversal": ("冲正", "Reversal"),
        "verified_surplus": ("富余核定", "Verified surplus"), "trade_in": ("买入", "Bought"),
        "trade_out": ("卖出", "Sold"), "negotiated_transfer": ("协议转让", "Negotiated transfer"),
        "indicator_share": ("总量分配", "Indicator share"),
        "specification": ("规范核算", "Specification"), "eia": ("环评批复", "EIA approval"),
    },
    # ledger account kinds and the parties of a trade that are not enterprises
    "account": {
        "issuance": ("发行", "Issuance"), "reserve": ("储备", "Reserve"),
        "confirmed": ("已确权", "Confirmed"), "tradable": ("可交易", "Tradable"),
        "cash": ("资金", "Cash"), "settlement": ("结算", "Settlement"), "fees": ("手续费", "Fees"),
        "surrender": ("清缴", "Surrender"), "cancellation": ("注销", "Cancellation"),
        "RESERVE": ("政府储备", "Bureau reserve"), "BUREAU": ("生态环境局", "Bureau"),
    },
    "market_state": {
        "open": ("交易中", "Open"), "halted": ("暂停交易", "Halted"),
        "closed": ("已关闭", "Closed"),
    },
    "status": {
        "open": ("进行中", "Open"), "halted": ("暂停", "Halted"), "closed": ("已关闭", "Closed"),
        "filled": ("已成交", "Filled"), "partially_filled": ("部分成交", "Partly filled"),
        "cancelled": ("已撤销", "Cancelled"), "rejected": ("已驳回", "Rejected"),
        "replaced": ("已改单", "Replaced"), "expired": ("已过期", "Expired"),
        "valid": ("有效",
                  "Valid"), "active": ("有效", "Active"), "inactive": ("已停用", "Inactive"),
        "revoked": ("已吊销", "Revoked"), "ended": ("已结束", "Ended"),
        "pending": ("待审批", "Pending"), "executing": ("执行中", "Executing"),
        "executed": ("已执行", "Executed"), "failed": ("失败", "Failed"),
        "approved": ("已批准", "Approved"),
        "draft": ("草稿", "Draft"), "announced": ("已公告", "Announced"),
        "cleared": ("已出清", "Cleared"), "settled": ("已交割", "Settled"),
        "proposed": ("待接受", "Proposed"), "accepted": ("待审核", "Accepted"),
        "withdrawn": ("已撤回", "Withdrawn"), "sold": ("已售出", "Sold"),
        "won": ("中标", "Won"), "lost": ("未中标", "Lost"),
        "unpaid": ("未缴", "Unpaid"), "paid": ("已缴", "Paid"), "overdue": ("已逾期", "Overdue"),
        "planned": ("已规划", "Planned"), "priced": ("已定价", "Priced"),
        "released": ("已出让", "Released"), "infeasible": ("无可行解", "Infeasible"),
        "not_optimal": ("未证明最优", "Not optimal"), "optimal": ("最优", "Optimal"),
        "applied": ("已执行", "Applied"), "flagged": ("已标记", "Flagged"),
        "held_back": ("暂缓", "Held back"), "bought_back": ("已回购", "Bought back"),
        "recovered": ("已收回", "Recovered"), "changed": ("已变更", "Changed"),
        "skipped": ("已跳过", "Unchanged"), "registered": ("已登记", "Registered"),
        "found": ("已发现", "Found"), "sent": ("已交办", "Sent"),
        "rectified": ("已整改", "Rectified"), "verified": ("已核查", "Verified"),
        "compliant": ("履约", "Compliant"), "violation": ("违法", "Violation"),
        "decided": ("已决定", "Decided"), "transferred": ("已移送", "Transferred"),
        "published": ("已公开", "Published"), "corrected": ("已更正", "Corrected"),
        "noticed": ("已事先告知", "Notice given"),
        "hearing_requested": ("已申请听证", "Hearing requested"), "heard": ("已听证", "Heard"),
        "served": ("已送达", "Served"), "lifted": ("已解除", "Lifted"),
        "ok": ("正常", "OK"), "deviation": ("偏差", "Deviation"),
        "no_monitoring_data": ("无监测数据", "No monitoring data"),
        "created": ("已创建", "Created"), "replayed": ("已重放", "Replayed"),
        "voided": ("已作废", "Voided"), "imported": ("已导入", "Imported"),
        "partial": ("部分导入", "Partly imported"),
    },
    # the words of the order form (web/pages/order_entry.py TIFS)
    "order_type": {
        "gtc": ("撤单前一直有效", "Good till cancelled"),
        "ioc": ("立即成交，剩余部分撤销", "Fill what you can now, cancel the rest"),
        "fok": ("立即全部成交，否则全部撤销", "Fill it all now or cancel it"),
        "GTC": ("撤单前一直有效", "Good till cancelled"),
        "IOC": ("立即成交，剩余部分撤销", "Fill what you can now, cancel the rest"),
        "FOK": ("立即全部成交，否则全部撤销", "Fill it all now or cancel it"),
        "limit": ("限价", "Limit"), "market": ("市价", "Market"),
    },
    "side": {"buy": ("买入", "Buy"), "sell": ("卖出", "Sell")},
    "role": {
        "bureau_officer": ("生态环境局经办人", "Bureau officer"),
        "bureau_admin": ("生态环境局管理员", "Bureau administrator"),
        "trader": ("企业交易员", "Enterprise trader"), "analyst": ("分析员", "Analyst"),
        "approval": ("审批部门", "Approval department"),
        "monitoring": ("监测部门", "Monitoring department"),
        "enforcement": ("执法部门", "Enforcement department"),
        "city": ("市局", "City bureau"),
    },
    "audit": {
        "accept_transfer": ("接受协议转让", "Accept a transfer"),
        "apply_standard": ("执行排放标准", "Apply a standard"),
        "apportion_indicator": ("分解总量指标", "Apportion an indicator"),
        "approve": ("审批通过",
                    "Approve"), "approve_transfer": ("批准协议转让", "Approve a transfer"),
        "cancel_order": ("撤单", "Cancel an order"), "check_alerts": ("核查预警措施",
                                                               "Check alerts"),
        "check_reports": ("核对执行报告", "Check reports"), "clue_rectify": ("整改问题线索",
                                                                       "Rectify a clue"),
        "compute_permitted_quantities": ("核算许可排放量", "Compute permitted quantities"),
        "confirm_clue": ("确认问题线索", "Confirm a clue"), "confirm_rights": ("确权",
                                                                       "Confirm rights"),
        "correct_penalty": ("更正处罚决定", "Correct a penalty decision"),
        "create_auction": ("创建拍卖", "Create an auction"),
        "create_listing": ("挂牌", "Create a listing"),
        "create_reserve_listing": ("储备挂牌", "List reserve rights"),
        "create_scenario": ("创建情景", "Create a scenario"),
        "create_token": ("创建令牌",
                         "Create a token"), "create_user": ("创建用户", "Create a user"),
        "decide_penalty": ("作出处罚决定", "Decide a penalty"),
        # the administrative penalty procedure (web/api/penalty_cases.py)
        "penalty_notice": ("行政处罚事先告知", "Advance penalty notice"),
        "penalty_statement": ("陈述申辩", "Statement and defence"),
        "penalty_hearing_request": ("申请听证", "Hearing request"),
        "penalty_hearing": ("登记听证", "Hearing recorded"),
        "penalty_case_decision": ("作出处罚决定（程序）", "Penalty decision (procedure)"),
        "penalty_service": ("送达处罚决定书", "Service of the decision"),
        "penalty_payment": ("登记罚款缴纳", "Fine payment recorded"),
        "decide_standard_flag": ("处理标准变更标记", "Decide a standard flag"),
        "declare_alert": ("发布重污染预警", "Declare an alert"),
        "delete_scenario": ("删除情景", "Delete a scenario"),
        "end_permit": ("终止许可证", "End a permit"),
        "expire_transfers": ("协议转让过期处理", "Expire transfers"),
        "import_monitoring": ("导入监测数据", "Import monitoring data"),
        "import_reports": ("导入执行报告", "Import reports"), "ledger_transfers": ("账本直接记账",
                                                                             "Ledger transfers"),
        "lift_alert": ("解除预警", "Lift an alert"), "login": ("登录", "Log in"),
        "logout": ("退出", "Log out"), "missing_reports": ("查询未报执行报告", "Missing reports"),
        "open_auction": ("开始拍卖", "Open an auction"), "open_clue": ("立问题线索", "Open a clue"),
        "announce_auction": ("发布拍卖公告", "Announce an auction"),
        "schedule_auction": ("设定拍卖时间", "Schedule an auction"),
        "withdraw_bid": ("撤回报价", "Withdraw a bid"),
        "replace_bid": ("修改报价", "Replace a bid"),
        "open_violation": ("立案", "Open a violation"),
        "pay_paid_use_bill": ("缴纳有偿使用费", "Pay a paid-use bill"),
        "permit_change": ("许可证变更", "Permit change"), "permit_import": ("导入许可证",
                                                                       "Permit import"),
        "permit_renewal": ("许可证延续",
                           "Permit renewal"), "place_bid": ("竞买出价", "Place a bid"),
        "place_order": ("委托下单", "Place an order"),
        "plan_reserve_release": ("编制储备出让方案", "Plan a reserve release"),
        "price_reserve_plan": ("储备出让方案定价", "Price a reserve plan"),
        "propose_transfer": ("提出协议转让", "Propose a transfer"),
        "register_outlet": ("登记排放口", "Register an outlet"),
        "register_standard": ("登记排放标准", "Register a standard"),
        "reject": ("驳回", "Reject"), "reject_transfer": ("驳回协议转让", "Reject a transfer"),
        "release_reserve": ("储备出让", "Release reserve"),
        "release_reserve_plan": ("执行储备出让方案", "Release a reserve plan"),
        "replace_order": ("改单", "Replace an order"),
        "request_approval": ("提交审批", "Request approval"),
        "request_reserve": ("申请储备排污权", "Request reserve rights"),
        "reverse_transfer": ("冲正", "Reverse a transfer"), "revoke_token": ("吊销令牌",
                                                                           "Revoke a token"),
        "run_scenario": ("运行情景", "Run a scenario"),
        "set_approval_policy": ("设置审批策略", "Set the approval policy"),
        "set_emergency_measures": ("设置应急减排措施", "Set emergency measures"),
        "set_market_state": ("设置市场状态", "Set a market's state"),
        "set_outlet_source_kind": ("设置排放口源类型", "Set an outlet's source kind"),
        "set_unit_kind": ("设置单位类型", "Set a unit kind"),
        "set_user_active": ("启用或停用用户", "Activate or deactivate a user"),
        "set_user_scope": ("设置用户范围", "Set a user's scope"),
        "submit_report": ("提交执行报告",
                          "Submit a report"), "take_listing": ("摘牌", "Take a listing"),
        "transfer_violation": ("移送案件", "Transfer a violation"), "true_up": ("年度清缴核算",
                                                                          "True-up"),
        "verify_surplus": ("富余核定", "Verify surplus"),
        "violation_result": ("记录处理结果", "Record a violation's result"),
        "void_monitoring_import": ("作废监测导入", "Void a monitoring import"),
        "withdraw_listing": ("撤牌", "Withdraw a listing"),
        "withdraw_penalty": ("撤销处罚决定", "Withdraw a penalty decision"),
    },
    "clue_kind": {
        "exceedance": ("超标排放", "Exceedance"), "flat_line": ("数据恒值", "Flat line"),
        "missing_data": ("数据缺失", "Missing data"),
        "emission_power_mismatch": ("排放与用电不符", "Emissions do not match power use"),
        "alert_breach": ("预警超限", "Alert measures breached"),
        "manual": ("人工录入", "Entered by hand"),
        "report_missing": ("执行报告未报", "Report missing"),
        "bad_clue": ("问题线索有误", "Clue in error"),
    },
    "clue_source": {"manual": ("人工录入", "Entered by hand")},
    "basis": {
        "specification": ("规范核算", "Specification"), "eia": ("环评批复", "EIA approval"),
        "indicator_share": ("总量分配", "Indicator share"),
    },
    "clue_action": {
        "send": ("下发", "Send"), "rectify": ("整改", "Rectify"), "verify": ("核实", "Verify"),
        "reject": ("退回", "Reject"), "close": ("办结", "Close"),
    },
    "flag_kind": {
        "price_deviation": ("价格偏离", "Price deviation"),
        "self_dealing": ("自我交易", "Self-dealing"), "round_trip": ("对倒交易", "Round trip"),
    },
    "auction_rule": {
        "uniform": ("统一价格", "Uniform price"), "pay_as_bid": ("按报价支付", "Pay as bid"),
    },
    "objective": {
        "priority": ("按优先级", "By priority"), "max_min": ("最大最小公平", "Max-min fairness"),
    },
    "approval_kind": {},  # filled below: the ledger's transaction types
    "applicants": {
        "requests": ("储备申请", "Requests filed"), "headroom": ("上限余量",
                                                         "Cap headroom"),
    },
    "decision": {"recover": ("收回至储备", "Recover"), "buy_back": ("回购至储备", "Buy back")},
    "alert_level": {
        "yellow": ("黄色预警", "Yellow alert"), "orange": ("橙色预警", "Orange alert"),
        "red": ("红色预警", "Red alert"),
    },
    "unit_kind": {
        "existing": ("现有单位", "Existing unit"), "new": ("新建单位", "New unit"),
        "expanded": ("改扩建单位", "Expanded unit"),
    },
    "medium": {"air": ("大气", "Air"), "water": ("水", "Water")},
    # form fields named beside their error
    "field": {
        "permit": ("许可证", "Permit"), "market": ("市场", "Market"), "side": ("方向", "Side"),
        "qty": ("数量", "Quantity"), "qty_kg": ("数量", "Quantity"), "price": ("价格", "Price"),
        "year": ("年度", "Year"), "pollutant": ("污染物", "Pollutant"), "name": ("名称", "Name"),
        "expires_days": ("有效天数", "Days valid"), "username": ("用户名", "Username"),
        "display_name": ("显示名称", "Display name"), "role": ("角色", "Role"),
        "enterprise": ("企业", "Enterprise"), "password": ("密码", "Password"),
        "reason": ("理由", "Reason"), "file": ("文件", "File"), "amount": ("金额", "Amount"),
        "amount_fen": ("金额", "Amount"), "due": ("期限", "Due"), "note": ("备注", "Note"),
        "description": ("说明", "Description"), "level": ("预警级别", "Level"),
        "zones": ("交易区", "Zones"), "first_day": ("起始日", "First day"),
        "last_day": ("结束日", "Last day"), "grade": ("绩效分级", "Grade"),
        "number": ("文号", "Number"), "legal_basis": ("法律依据", "Legal basis"),
        "kind": ("类型", "Kind"), "quarter": ("季度", "Quarter"), "period": ("期间", "Period"),
        "offered": ("出让数量", "Offered"), "reserve_price": ("保留价", "Reserve price"),
        "transfer": ("协议转让", "Transfer"), "listing": ("挂牌", "Listing"),
        "auction": ("拍卖", "Auction"), "bill": ("缴费单", "Bill"), "outlet": ("排放口", "Outlet"),
        "hour": ("时段", "Hour"), "district": ("区县", "District"), "zone": ("交易区", "Zone"),
        "sector": ("行业", "Sector"), "standard": ("排放标准", "Standard"),
        "effective": ("生效日期", "Effective"), "limit": ("限值", "Limit"),
        "department": ("部门", "Department"), "scope": ("范围", "Scope"),
        "indicators": ("总量指标", "Indicators"), "body": ("提交内容", "Request body"),
        "request": ("请求", "Request"),
    },
    "pollutant": {
        "SO2": ("二氧化硫", "SO2"), "NOx": ("氮氧化物", "NOx"), "COD": ("化学需氧量", "COD"),
        "NH3-N": ("氨氮", "NH3-N"), "VOCs": ("挥发性有机物", "VOCs"), "PM": ("颗粒物", "PM"),
    },
}
LABELS["approval_kind"].update(LABELS["tx_type"])

#: codes that are words of a sentence as well (open, new, buy ...): the crawl test looks for
#: them in Chinese pages only, where no English word should show
_SHARED_WORDS = frozenset({"*"})
#: kinds whose codes are not looked for as text: form field names, pollutant formulas
_NOT_CHECKED = frozenset({"field", "pollutant"})


def label(kind: str, code: Any, lang: str = "zh") -> str:
    """The label of `code` in `lang` ("zh" or "en"); an unknown code shows as it is, None as
    a dash."""
    if code is None or code == "":
        return "—"
    text = str(code)
    pair = LABELS.get(kind, {}).get(text)
    if pair is None:
        return text
    return pair[1] if lang == "en" else pair[0]


def labels_of(kind: str, lang: str = "zh") -> Mapping[str, str]:
    """code → label of one kind, for a select's options."""
    i = 1 if lang == "en" else 0
    return {code: pair[i] for code, pair in LABELS.get(kind, {}).items()}


def all_codes() -> dict[str, set[str]]:
    """code → the kinds it belongs to (the crawl test's list of what must not show)."""
    out: dict[str, set[str]] = {}
    for kind, table in LABELS.items():
        if kind in _NOT_CHECKED:
            continue
        for code in table:
            if code not in _SHARED_WORDS:
                out.setdefault(code, set()).add(kind)
    return out


@pass_context
def template_label(ctx: Context, kind: str, code: Any) -> str:
    """`{{ label("sector", e.sector) }}` in a template: the label in the page's language."""
    return label(kind, code, str(ctx.get("lang") or "zh"))
