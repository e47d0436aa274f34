"""One message catalogue: what a person reads when a request is refused, and after a post.

Every error `code` (the `DomainError` subclasses of `kernel/errors.py` and each context's
`errors.py`, the order book's reject codes, and the web layer's own) has a Chinese and an
English message here. The API keeps the error's `code` and its English `detail`; pages show
`error_text(exc)` in the page's language (the `erts_lang` cookie of the current request).

Where the rule is about numbers, the message gives them in the user's units: quantities in
tonnes (the ledger's kg / 1000, three decimals), money in yuan, prices in yuan per tonne (the
ledger's fen / 100), never fen. The numbers come from the error's `details` (keyword
arguments of the raise) or, where the raise only wrote them into its English message, from
that message by a pattern below. Named values take their unit from their suffix: `*_kg` →
tonnes, `*_fen` → yuan, `*_fen_t` → yuan per tonne.

`confirm(text, **values)` is the confirmation after a successful post: `text` is the English
(the msgid), `ZH` below its Chinese; `values` are formatted by the same suffix rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from kernel.errors import DomainError
from kernel.quantities import kg_to_tonnes, yuan
from web.labels import label

#: code → (Chinese, English): the message when no number is known
ERRORS: dict[str, tuple[str, str]] = {
    # kernel and the web layer
    "rejected": ("请求被拒绝。", "The request was refused."),
    "not_found": ("未找到所请求的对象。", "Nothing was found at this address."),
    "invalid_input": ("输入有误，请检查后重新提交。",
                      "Some input is not valid; check it and submit again."),
    "not_text": ("文件不是 UTF-8 文本（可能是二进制文件），请检查文件格式。",
                 "The file is not UTF-8 text (perhaps a binary file); check its format."),
    "conflict": ("与当前状态冲突，请刷新后重试。",
                 "This conflicts with the current state; reload and try again."),
    "forbidden": ("您无权执行此操作。", "You are not allowed to do this."),
    "csrf_failed": ("表单已失效，请刷新页面后重新提交。",
                    "The form has expired; reload the page and submit again."),
    "method_not_allowed": ("此地址不接受该请求方式。", "This address does not accept this method."),
    "body_too_large": ("提交的内容过大。", "What was sent is too large."),
    "unsupported_media_type": ("不支持的提交格式。", "This format of request is not supported."),
    "http_error": ("请求无法处理。", "The request could not be handled."),
    "database_unavailable": ("数据库暂时不可用，请稍后重试。",
                             "The database is not available; try again shortly."),
    "internal_error": ("系统内部错误。", "Internal error."),
    "matcher_unavailable": ("撮合服务暂时不可用，请稍后重试。",
                            "The matching engine is not available; try again shortly."),
    "idempotency_key_reused": ("该请求编号已用于另一请求。",
                               "This idempotency key was used for another request."),
    "domain_route_required": ("此类业务须通过对应的业务页面办理。",
                              "This kind of move goes through its own use case."),
    "amount_above_limit": ("金额超过单笔上限。", "The amount is above the limit of one move."),
    "approval_needs_linked_batch": ("须审批的转账必须成批提交。",
                                    "A move that needs approval must be one linked batch."),
    "demo_already_loaded": ("数据库中已有其他数据，不能载入演示数据。",
                            "The database holds other data; the demo cannot be loaded."),
    # identity
    "not_authenticated": ("请先登录。", "Please log in."),
    "session_expired": ("会话已过期，请重新登录。",
                        "Your session has expired; please log in again."),
    "invalid_credentials": ("用户名或密码错误。", "Wrong username or password."),
    "too_many_attempts": ("登录失败次数过多，请稍后再试。",
                          "Too many failed log-ins; try again later."),
    "wrong_password": ("当前密码不正确。", "The current password is wrong."),
    "password_rejected": ("新密码不符合要求（长度、与旧密码相同或两次输入不一致）。",
                          "The new password breaks a rule (length, unchanged, or the two "
                          "entries differ)."),
    "unknown_role": ("未知角色。", "Unknown role."),
    "unknown_department": ("未知部门。", "Unknown department."),
    "unknown_district": ("未知区县。", "Unknown district."),
    "scope_not_for_role": ("该角色不能设置此范围。", "This role cannot have this scope."),
    "user_exists": ("用户名已存在。", "This username is taken."),
    "user_not_found": ("未找到该用户。", "No such user."),
    "token_not_found": ("未找到该令牌。", "No such token."),
    "approval_not_found": ("未找到该审批申请。", "No such approval request."),
    "approval_not_pending": ("该审批申请已处理。",
                             "This approval request has been decided already."),
    "self_approval": ("不能审批本人提交的申请，须由另一名经办人审批。",
                      "You cannot approve your own request; another officer must."),
    "unknown_transaction_type": ("未知业务类型。", "Unknown transaction type."),
    "enterprise_not_found": ("未找到该企业。", "No such enterprise."),
    "permit_not_found": ("未找到该排污许可证。", "No such permit."),
    # ledger
    "ledger_rejected": ("账本拒绝了该笔业务。", "The ledger refused this move."),
    "account_not_found": ("未找到该账户。", "No such account."),
    "asset_mismatch": ("转出与转入账户的资产不一致。", "The two accounts hold different assets."),
    "same_account": ("转出与转入不能是同一账户。", "The two accounts are the same."),
    "non_positive_amount": ("数量必须大于零。", "The amount must be above zero."),
    "account_kind_not_allowed": ("此类业务不能在这两类账户之间进行。",
                                 "This transaction type cannot move between these accounts."),
    "initiator_not_allowed": ("您无权发起此类业务。",
                              "You may not initiate this transaction type."),
    "insufficient_balance": ("余额不足。", "The balance is not enough."),
    "over_limit": ("超过账户上限。", "This would take the account above its limit."),
    "account_frozen": ("账户已冻结。", "The account is frozen."),
    "account_closed_to_debits": ("账户已关闭，不能转出。", "The account is closed to debits."),
    "pending_not_found": ("未找到该冻结。", "No such hold."),
    "pending_voided": ("该冻结已解除。", "This hold was voided."),
    "pending_expired": ("该冻结已过期。", "This hold has expired."),
    "pending_already_posted": ("该冻结已过账。", "This hold was posted already."),
    "post_exceeds_pending": ("过账数量超过冻结数量。", "The posted amount is above the hold."),
    "id_conflict": ("该编号已用于另一笔业务。", "This id was used for another move."),
    "batch_too_large": ("一次提交的业务过多。", "Too many moves in one batch."),
    "linked_event_failed": ("同批次的另一笔业务失败，整批未执行。",
                            "Another move of the batch failed; nothing was done."),
    "pending_not_timed_out": ("该冻结尚未到期。", "This hold has not timed out yet."),
    "transfer_not_found": ("未找到该笔业务。", "No such transfer."),
    "not_reversible": ("此类业务不能冲正。", "This transfer cannot be reversed."),
    "reversal_window_closed": ("已超过冲正期限。", "The time to reverse this transfer is over."),
    "already_reversed": ("该笔业务已冲正。", "This transfer was reversed already."),
    "reversal_exceeds_original": ("冲正数量超过原业务数量。",
                                  "The reversal is larger than the original."),
    "account_already_frozen": ("账户已处于冻结状态。", "The account is frozen already."),
    "account_not_frozen": ("账户未冻结。", "The account is not frozen."),
    "discrepancy_unresolved": ("对账差异尚未解决，账户冻结中。",
                               "A reconciliation discrepancy is unresolved; the account "
                               "stays frozen."),
    "bad_time_range": ("时间范围有误。", "The time range is not valid."),
    # trading
    "trading_rejected": ("交易请求被拒绝。", "The trading request was refused."),
    "bad_replay_input": ("回放数据有误。", "The replay input is not valid."),
    "bad_auction_input": ("拍卖参数有误。", "The auction's input is not valid."),
    "auction_not_found": ("未找到该拍卖。", "No such auction."),
    "auction_wrong_state": ("拍卖当前状态不允许此操作。",
                            "The auction is not in a state that allows this."),
    "reserve_below_base_price": ("保留价不得低于该污染物的基准价。",
                                 "The reserve price may not be below the pollutant's base price."),
    "insufficient_reserve": ("政府储备不足。", "The bureau reserve does not hold enough."),
    "listing_not_found": ("未找到该挂牌。", "No such listing."),
    "listing_not_open": ("该挂牌已不在挂牌期。", "This listing is not open."),
    "listing_qty_exceeded": ("摘牌数量超过挂牌剩余数量。",
                             "The quantity is above what the listing has left."),
    "transfer_wrong_state": ("该协议转让当前状态不允许此操作。",
                             "The transfer is not in a state that allows this."),
    "transfer_expired": ("该协议转让已过期。", "The transfer has expired."),
    "market_not_found": ("未找到该交易市场。", "No such market."),
    "market_halted": ("该市场已暂停交易。", "This market is halted."),
    "market_closed": ("该市场已关闭。", "This market is closed."),
    "insufficient_tradable_rights": ("可交易排污权不足。", "Not enough tradable rights."),
    "insufficient_cash": ("可用资金不足。", "Not enough cash available."),
    "cap_headroom_exceeded": ("买入该数量将使许可证超过许可排放量上限。",
                              "Buying this quantity would take the permit above its cap."),
    "order_not_found": ("未找到该委托。", "No such order."),
    "order_not_live": ("该委托已成交或已撤销。", "This order is no longer live."),
    "not_live": ("该委托已成交或已撤销。", "This order is no longer live."),
    "duplicate_order_id": ("委托编号重复。", "This order id was used already."),
    "order_value_too_large": ("委托金额过大。", "The order's value is too large."),
    "client_id_not_allowed": ("不能自行指定委托编号。",
                              "An order id of your own is not allowed here."),
    "protective_price_required": ("市价委托须设置保护价。",
                                  "A market order needs a protective price."),
    "bought_today_not_resellable": ("当日买入的排污权当日不得卖出。",
                                    "Rights bought today cannot be sold today."),
    "self_dealing": ("不能与本企业成交。", "An enterprise cannot trade with itself."),
    "invalid_qty": ("数量必须为正整数（千克）。", "The quantity must be a positive whole number."),
    "below_min_lot": ("数量须为最小交易单位的整数倍。",
                      "The quantity must be a whole number of lots."),
    "invalid_price": ("价格必须大于零。", "The price must be above zero."),
    "off_tick": ("价格须为最小变动价位的整数倍。", "The price must be a multiple of the tick."),
    "price_limit": ("价格超出当日涨跌幅限制。", "The price is outside today's price limits."),
    "invalid_order": ("委托参数有误。", "The order is not valid."),
    "auction_schedule_invalid": ("拍卖时间安排有误：须公告 ≤ 开始 < 结束，且不能更改已过的环节。",
                                 "The schedule must be announce ≤ open < close and cannot change "
                                 "a step already taken."),
    "bid_below_reserve": ("出价低于拍卖保留价。", "The bid is below the auction's reserve price."),
    "bid_not_found": ("未找到该出价。", "No such bid."),
    "bid_not_open": ("该出价已撤回、替换或已决定，不能再更改。",
                     "The bid was withdrawn, replaced or decided; it can no longer change."),
    "bidding_closed": ("拍卖已截止，不能再出价或更改出价。",
                       "The auction has closed; no more bids or changes."),
    "market_already_in_state": ("市场已处于该状态。", "The market is in this state already."),
    "reason_required": ("暂停、恢复或关闭市场须说明理由。",
                        "Halting, resuming or closing a market must say why."),
    "trade_not_found": ("未找到该笔成交。", "No such trade."),
    # allocation
    "bad_sheet": ("表格有误。", "The sheet is not valid."),
    "unknown_parameter_version": ("未知参数版本。", "Unknown parameter version."),
    "bad_apportionment": ("总量分配参数有误。", "The apportionment's input is not valid."),
    "bad_reserve_problem": ("储备出让参数有误。", "The reserve plan's input is not valid."),
    "bad_scenario": ("情景参数有误。", "The scenario's input is not valid."),
    "scenario_not_found": ("未找到该情景。", "No such scenario."),
    "scenario_run_not_found": ("未找到该情景运行结果。", "No such scenario run."),
    "computation_not_found": ("未找到该核算结果。", "No such computation."),
    "standard_not_found": ("未找到该排放标准。", "No such standard."),
    "reserve_plan_not_found": ("未找到该储备出让方案。", "No such reserve plan."),
    "name_taken": ("名称已被使用。", "This name is taken."),
    "plan_not_releasable": ("该方案当前不能出让。", "This plan cannot be released now."),
    "standard_already_applied": ("该标准已执行。", "This standard has been applied already."),
    "nothing_to_compute": ("没有可核算的许可证。", "There is nothing to compute."),
    "standard_flag_not_found": ("未找到该标准变更标记。", "No such standard flag."),
    "flag_not_held_back": ("该标记未处于暂缓状态。", "This flag is not held back."),
    "flag_already_decided": ("该标记已处理。", "This flag has been decided already."),
    "bad_recovery_decision": ("收回决定有误。", "The recovery decision is not valid."),
    "rights_by_purchase_only": ("新建、改扩建单位的排污权须通过购买取得。",
                                "New and expanded units obtain rights by purchase only."),
    "bill_not_found": ("未找到该缴费单。", "No such bill."),
    "bill_not_payable": ("该缴费单当前不能缴纳。", "This bill cannot be paid now."),
    "paid_use_unpaid": ("有偿使用费尚未缴清。", "The paid-use fee is not paid yet."),
    "bad_plan_price": ("出让价格有误。", "The plan's price is not valid."),
    "plan_price_below_base": ("出让价格不得低于基准价。",
                              "The price may not be below the base price."),
    "bad_unit_kind": ("单位类型有误。", "The unit kind is not valid."),
    "indicator_already_issued": ("该总量指标已下达。", "This indicator has been issued already."),
    "indicator_not_found": ("未找到该总量指标。", "No such indicator."),
    "permit_not_awaiting_confirmation": ("该许可证本年度没有待确权的许可排放量。",
                                         "The permit has nothing waiting for confirmation "
                                         "this year."),
    "confirmation_batch_changed": ("提出申请后，该许可证待确权的污染物已发生变化，请重新提交。",
                                   "What waits for confirmation on the permit changed since "
                                   "the request; submit it again."),
    "confirmation_above_cap": ("确权数量超过许可排放量上限。",
                               "The confirmation would go above the permit's cap."),
    "permitted_quantity_not_found": ("该许可证没有此污染物、年度的许可排放量。",
                                     "The permit has no permitted quantity for this pollutant "
                                     "and year."),
    "permit_cancelled": ("该许可证已注销。", "The permit is cancelled."),
    "permit_expired": ("该许可证已过期。", "The permit has expired."),
    "permit_import_not_found": ("未找到该许可证导入记录。", "No such permit import."),
    "permit_not_active": ("该许可证不在有效状态。", "The permit is not active."),
    "permit_not_valid": ("该许可证在此期间无效。", "The permit is not valid at this time."),
    "permit_revoked": ("该许可证已被吊销。", "The permit is revoked."),
    "permit_term_too_long": ("许可证有效期过长。", "The permit's term is too long."),
    "renewal_after_expiry": ("许可证已过期，不能延续。",
                             "A permit cannot be renewed after it expired."),
    "year_outside_permit": ("该年度不在许可证有效期内。",
                            "The year is outside the permit's validity."),
    "zone_mismatch": ("交易区不一致。", "The trading zones do not match."),
    "bad_permit_file": ("许可证文件有误。", "The permit file is not valid."),
    "bad_permit_step": ("许可证变更参数有误。", "The permit change is not valid."),
    "bad_workbook": ("工作簿有误。", "The workbook is not valid."),
    # compliance
    "bad_report": ("执行报告有误。", "The execution report is not valid."),
    "report_import_rejected": ("执行报告导入被拒绝，未导入任何记录。",
                               "The report import was refused; nothing was imported."),
    "duplicate_report": ("该期执行报告已提交。", "A report for this period was submitted already."),
    "outlet_exists": ("该排放口已登记。", "This outlet is registered already."),
    "outlet_not_found": ("未找到该排放口。", "No such outlet."),
    "report_not_found": ("未找到该执行报告。", "No such report."),
    "true_up_already_run": ("该年度清缴核算已完成。", "The true-up of this year was run already."),
    "true_up_too_early": ("该年度尚未结束，不能清缴核算。",
                          "The year is not over; the true-up cannot run yet."),
    "tax_rate_out_of_bounds": ("税额超出法定幅度。", "The tax rate is outside the legal range."),
    "pollutant_not_taxable": ("该污染物不属应税污染物。", "This pollutant is not taxable."),
    "monitoring_import_rejected": ("监测数据导入被拒绝，未导入任何记录。",
                                   "The monitoring import was refused; nothing was imported."),
    "duplicate_monitoring_import": ("该文件已导入。", "This file was imported already."),
    "bad_monitoring_query": ("监测数据查询条件有误。", "The monitoring query is not valid."),
    "monitoring_import_too_large": ("监测数据文件过大。", "The monitoring file is too large."),
    "monitoring_source_not_allowed": ("您不能导入此来源的监测数据。",
                                      "You may not import monitoring data of this source."),
    "monitoring_import_not_found": ("未找到该监测数据导入。", "No such monitoring import."),
    "monitoring_import_voided": ("该监测数据导入已作废。", "This monitoring import was voided."),
    "clue_unknown_permit": ("问题线索所涉许可证不存在。", "The clue names an unknown permit."),
    "clue_not_found": ("未找到该问题线索。", "No such clue."),
    "clue_transition_refused": ("问题线索当前状态不允许此操作。",
                                "The clue is not in a state that allows this."),
    "clue_action_not_allowed": ("您不能对该问题线索执行此操作。",
                                "You may not do this to the clue."),
    "clue_already_confirmed": ("该问题线索已确认。", "This clue was confirmed already."),
    "bad_clue": ("问题线索有误。", "The clue is not valid."),
    "bad_alert": ("预警参数有误。", "The alert is not valid."),
    "alert_not_found": ("未找到该预警。", "No such alert."),
    "alert_not_active": ("该预警已解除或已结束。", "This alert is not active."),
    "bad_penalty_decision": ("处罚决定有误。", "The penalty decision is not valid."),
    "penalty_out_of_range": ("罚款金额超出法定幅度。", "The fine is outside the legal range."),
    "duplicate_decision_number": ("处罚决定书文号已存在。",
                                  "This decision number is used already."),
    "violation_not_found": ("未找到该违法案件。", "No such violation."),
    "violation_not_open": ("该违法案件已结案。", "This violation is not open."),
    "penalty_decision_not_found": ("未找到该处罚决定。", "No such penalty decision."),
    "penalty_decision_withdrawn": ("该处罚决定已撤销。", "This penalty decision was withdrawn."),
    "unknown_violation_kind": ("未知违法类型。", "Unknown kind of violation."),
    "bad_violation": ("违法案件信息有误。", "The violation is not valid."),
    "violation_step_refused": ("该案件当前状态不允许此操作。",
                               "The violation is not in a state that allows this."),
    "bad_emergency_measure": ("应急减排措施有误。", "The emergency measure is not valid."),
    "emergency_permit_not_found": ("该许可证没有应急减排措施。",
                                   "The permit has no emergency measures."),
    "bad_tax_input": ("环境保护税计算参数有误。", "The tax input is not valid."),
    "unknown_tax_pollutant": ("未知应税污染物。", "Unknown taxable pollutant."),
    "unknown_source_kind": ("未知排放源类型。", "Unknown source kind."),
    "month_outside_quarter": ("月份不在该季度内。", "The month is outside the quarter."),
    "bad_penalty_case": ("处罚程序信息有误。", "The penalty case is not valid."),
    "penalty_case_not_found": ("未找到该处罚案件。", "No such penalty case."),
    "penalty_step_refused": ("处罚程序当前阶段不允许此操作。",
                             "The penalty procedure is not at a step that allows this."),
    "penalty_period_over": ("法定期限已过。", "The legal period is over."),
    "penalty_period_open": ("法定期限尚未届满。", "The legal period is still running."),
    "penalty_heavier_than_notice": ("处罚决定不得重于事先告知的处罚。",
                                    "The decision may not be heavier than the advance notice."),
    "penalty_procedure_open": ("处罚程序尚在进行中。", "The penalty procedure is still open."),
}

#: codes whose English detail names the line, column or field that is wrong (a file or a
#: document): the page shows it after the message, since the message alone cannot
DETAILED = frozenset({
    "bad_report", "report_import_rejected", "monitoring_import_rejected", "bad_sheet",
    "bad_workbook", "bad_permit_file", "bad_replay_input", "bad_auction_input",
    "bad_scenario", "bad_reserve_problem", "bad_apportionment", "bad_tax_input",
    "invalid_input", "bad_penalty_decision", "bad_violation", "bad_clue", "bad_alert",
    "bad_emergency_measure", "bad_permit_step", "bad_penalty_case",
})


@dataclass(frozen=True)
class Pattern:
    """Numbers an error wrote into its English message; `zh` and `en` format them."""

    regex: re.Pattern[str]
    zh: str
    en: str


def _p(regex: str, zh: str, en: str) -> Pattern:
    return Pattern(re.compile(regex), zh, en)


PATTERNS: dict[str, list[Pattern]] = {
    "price_limit": [_p(r"price (?P<price_fen_t>\d+) is outside \[(?P<lo_fen_t>\d+), "
                       r"(?P<hi_fen_t>\d+)\]",
                       "价格 {price} 元/吨超出当日涨跌幅限制（{lo}–{hi} 元/吨）。",
                       "The price {price} yuan/t is outside today's limits "
                       "({lo}–{hi} yuan/t).")],
    "off_tick": [_p(r"price (?P<price_fen_t>\d+) is not a multiple of (?P<tick_fen_t>\d+)",
                    "价格 {price} 元/吨不是最小变动价位 {tick} 元/吨的整数倍。",
                    "The price {price} yuan/t is not a multiple of the tick, {tick} yuan/t.")],
    "below_min_lot": [_p(r"quantity (?P<qty_kg>\d+) is not a whole number of lots "
                         r"(?:of )?(?P<lot_kg>\d+)",
                         "数量 {qty} 吨不是最小交易单位 {lot} 吨的整数倍。",
                         "The quantity {qty} t is not a whole number of lots of {lot} t.")],
    "insufficient_tradable_rights": [
        _p(r"(?P<qty_kg>\d+) kg asked, (?P<available_kg>\d+) kg of tradable",
           "申报卖出 {qty} 吨，可交易排污权仅 {available} 吨。",
           "{qty} t offered, {available} t of tradable rights available.")],
    "bought_today_not_resellable": [
        _p(r"(?P<bought_kg>\d+) kg were bought today.* at most (?P<most_kg>\d+) kg",
           "当日买入的 {bought} 吨当日不得卖出，本次最多可卖出 {most} 吨。",
           "{bought} t were bought today and cannot be sold today: at most {most} t may "
           "be offered.")],
    "confirmation_above_cap": [
        _p(r"confirming (?P<qty_kg>\d+) kg would bring (?P<permit>\S+) (?P<pollutant>\S+) "
           r"(?P<year>\d+) to (?P<after_kg>\d+) kg, above its cap of (?P<cap_kg>\d+) kg",
           "确权 {qty} 吨将使许可证 {permit} 的 {pollutant}（{year} 年度）达到 {after} 吨，"
           "超过许可排放量上限 {cap} 吨；可用上限余量 {headroom} 吨。",
           "Confirming {qty} t would bring {permit} {pollutant} {year} to {after} t, above "
           "its cap of {cap} t; headroom left {headroom} t."),
        _p(r"the permitted (?P<permitted_kg>\d+) kg is already confirmed",
           "许可排放量 {permitted} 吨已全部确权。",
           "The permitted {permitted} t are confirmed already.")],
    "insufficient_cash": [
        _p(r"a deposit of (?P<deposit_fen>\d+) fen is needed",
           "需冻结保证金 {deposit} 元，可用资金不足。",
           "A deposit of {deposit} yuan is needed; not enough cash is available."),
        _p(r"bill (?P<bill>\S+) is (?P<amount_fen>\d+) fen; \S+ has (?P<available_fen>\d+) "
           r"fen",
           "缴费单 {bill} 应缴 {amount} 元，可用资金仅 {available} 元。",
           "Bill {bill} is {amount} yuan; {available} yuan of cash is available.")],
    "penalty_out_of_range": [
        _p(r"amount (?P<amount>[\d,]+\.\d\d) yuan",
           "罚款金额 {amount} 元超出法定幅度（{min}–{max} 元）。",
           "The fine of {amount} yuan is outside the legal range ({min}–{max} yuan).")],
    # the administrative penalty procedure (compliance/penalty_procedure.py)
    "penalty_period_over": [
        _p(r"period for a statement ended on (?P<due>\d{4}-\d\d-\d\d)",
           "陈述申辩期限已于 {due} 届满。", "The period for a statement ended on {due}."),
        _p(r"period for a hearing request ended on (?P<due>\d{4}-\d\d-\d\d)",
           "听证申请期限已于 {due} 届满。", "The period for a hearing request ended on {due}.")],
    "penalty_period_open": [
        _p(r"periods run until (?P<due>\d{4}-\d\d-\d\d)",
           "企业的陈述申辩、听证申请期限至 {due} 届满，期满后方可作出处罚决定。",
           "The enterprise's periods run until {due}: decide after them.")],
    "penalty_heavier_than_notice": [
        _p(r"the advance notice proposed",
           "处罚决定不得重于事先告知的处罚（{proposed} 元）；加重处罚须重新告知。",
           "The decision may not be heavier than the notice's {proposed} yuan; a heavier "
           "penalty needs a new notice.")],
    "market_halted": [_p(r"market (?P<market>\S+) is halted", "市场 {market} 已暂停交易。",
                         "Market {market} is halted.")],
    "market_closed": [_p(r"market (?P<market>\S+) is closed", "市场 {market} 已关闭。",
                         "Market {market} is closed.")],
}


def _tonnes(kg: int) -> str:
    return f"{kg_to_tonnes(kg):,}"


def _unit(name: str, value: Any) -> tuple[str, str]:
    """(name without its unit suffix, the value in the user's unit, as text)."""
    text = str(value)
    try:
        n = int(str(value).replace(",", ""))
    except ValueError:
        n = None
    for suffix, fmt in (("_fen_t", yuan), ("_fen", yuan), ("_kg", _tonnes)):
        if name.endswith(suffix):
            return name[: -len(suffix)], fmt(n) if n is not None else text
    return name, text


def _values(exc: DomainError, groups: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in {**exc.details, **groups}.items():
        if v is not None:
            name, text = _unit(k, v)
            out[name] = text
    if {"cap_kg", "after_kg", "qty_kg"} <= groups.keys():  # headroom before this request
        left = int(groups["cap_kg"]) - int(groups["after_kg"]) + int(groups["qty_kg"])
        out["headroom"] = _tonnes(max(left, 0))
    return out


def current_lang() -> str:
    """The language of the request being served (cookie `erts_lang`), Chinese by default."""
    from web.flash import current_request

    request = current_request()
    lang = request.cookies.get("erts_lang", "zh") if request is not None else "zh"
    return "en" if lang == "en" else "zh"


class Message(str):
    """A page's error message that remembers its code: a template shows the message, with
    the code in a `data-code` attribute (for support and tests; people read the message)."""

    code: str = ""

    def wrap(self, before: str, after: str = "") -> Message:
        """The message with text around it, keeping its code."""
        out = Message(before + self + after)
        out.code = self.code
        return out

    def __html__(self) -> str:
        return str(Markup('<span class="msg" data-code="{}">{}</span>').format(
            self.code, str(self)))


def error_text(exc: DomainError, lang: str | None = None) -> Message:
    """What a page shows for a refused request, in `lang` (default: the request's)."""
    out = Message(_error_text(exc, lang or current_lang()))
    out.code = exc.code
    return out


def _error_text(exc: DomainError, lang: str) -> str:
    i = 1 if lang == "en" else 0
    for pattern in PATTERNS.get(exc.code, ()):
        m = pattern.regex.search(exc.message)
        if m is None:
            continue
        try:
            return (pattern.en if i else pattern.zh).format(**_values(exc, m.groupdict()))
        except (KeyError, ValueError):
            break
    retry = getattr(exc, "retry_after", None)
    if exc.code == "too_many_attempts" and retry:
        minutes = max(1, -(-int(retry) // 60))
        return (f"Too many failed log-ins; try again in {minutes} min." if i else
                f"登录失败次数过多，请 {minutes} 分钟后再试。")
    pair = ERRORS.get(exc.code)
    if pair is None:
        return exc.message if i else f"请求被拒绝（{exc.code}）：{exc.message}"
    text = pair[i]
    if exc.code in DETAILED and exc.message and not i:
        text = f"{text}（{exc.message}）"
    elif exc.code in DETAILED and exc.message:
        text = f"{text} ({exc.message})"
    return text


def code_text(code: str, message: str, lang: str | None = None) -> Message:
    """The page message of an error known by its code only (the web layer's own)."""
    exc = DomainError(message)
    exc.code = code
    return error_text(exc, lang)


# ---------------------------------------------------------------------- confirmations

#: English confirmation (with {placeholders}) → Chinese
ZH: dict[str, str] = {
    "Approval #{id} requested: another officer approves it on the approvals page.":
        "已提交审批申请 #{id}，须由另一名经办人在审批页面批准。",
    "Approval #{id} requested: {summary}.": "已提交审批申请 #{id}：{summary}。",
    "Confirmed {qty} t for permit {permit}, {pollutant} {year}.":
        "已为许可证 {permit} 确权 {pollutant}（{year} 年度）{qty} 吨。",
    "Verified {qty} t of surplus as tradable (permit {permit}).":
        "已核定许可证 {permit} 的富余排污权 {qty} 吨为可交易。",
    "Approval #{id}: {status}.": "审批申请 #{id}：{status}。",
    "Approval #{id} rejected.": "审批申请 #{id} 已驳回。",
    "Approval policy of {kind}: {required}.": "{kind}的审批策略：{required}。",
    "a second officer approves": "须第二名经办人审批",
    "takes effect at once": "立即生效",
    "Market {market}: {state}.": "市场 {market}：{state}。",
    "Token {id} revoked.": "令牌 {id} 已吊销。",
    "User {user} created.": "已创建用户 {user}。",
    "User {user} activated.": "用户 {user} 已启用。",
    "User {user} deactivated.": "用户 {user} 已停用。",
    "Order {order}: {status}, {filled} t filled.": "委托 {order}：{status}，成交 {filled} 吨。",
    "Order {order} cancelled.": "委托 {order} 已撤销。",
    "Bid {id} placed: {qty} t at {price} yuan/t.": "已出价 {id}：{qty} 吨，{price} 元/吨。",
    "Transfer {id} proposed.": "已提出协议转让 {id}。",
    "Transfer {id} accepted.": "已接受协议转让 {id}。",
    "Listing {id}: took {qty} t ({status}).": "挂牌 {id}：已摘牌 {qty} 吨（{status}）。",
    "Auction {id} created.": "已创建拍卖 {id}。",
    "Auction {id}: {status}.": "拍卖 {id}：{status}。",
    "Transfer {id}: {status}.": "协议转让 {id}：{status}。",
    "Bill {id} paid.": "缴费单 {id} 已缴纳。",
    "Reserve plan #{id}: {status}.": "储备出让方案 #{id}：{status}。",
    "Plan {id} released.": "方案 {id} 已出让。",
    "Scenario #{id} {name} created.": "已创建情景 #{id} {name}。",
    "Run #{id}: {status}.": "运行 #{id}：{status}。",
    "Emergency measures of {permit} set (grade {grade}).":
        "已设置 {permit} 的应急减排措施（{grade} 级）。",
    "Alert #{id} lifted; last day {day}.": "预警 #{id} 已解除，最后一日 {day}。",
    "Clue #{id} opened.": "已立问题线索 #{id}。",
    "Clue #{id}: {action}.": "问题线索 #{id}：已{action}。",
    "Clue #{id}: rectification recorded.": "问题线索 #{id}：已记录整改情况。",
    "Violation #{id} transferred.": "违法案件 #{id} 已移送。",
    "Violation #{id}: result recorded.": "违法案件 #{id}：已记录处理结果。",
    "Violation #{id} opened: {kind} ({basis}).": "已立违法案件 #{id}：{kind}（{basis}）。",
    "Decision {number} corrected.": "处罚决定 {number} 已更正。",
    "Decision {number} withdrawn.": "处罚决定 {number} 已撤销。",
    "Scope of {user}: {district}, {department}.": "{user} 的范围：{district}，{department}。",
    "the city": "全市", "every department": "全部部门",
    "Alert #{id} declared ({level}, {cut} %): {caps} caps set.":
        "已发布预警 #{id}（{level}，削减 {cut} %）：设定日排放上限 {caps} 个。",
    "{alerts} alerts checked: {breaches} new breaches, {clues} clues opened.":
        "已核查预警 {alerts} 个：新发现超限 {breaches} 处，立问题线索 {clues} 条。",
    "True-up of {permit} {year}: {status}, exceedance {over} t, deducted {deducted} t.":
        "{permit} {year} 年度清缴核算：{status}，超排 {over} 吨，扣减 {deducted} 吨。",
    "Permits imported: {new} new, {changed} changed, {same} unchanged.":
        "许可证导入完成：新增 {new} 张，变更 {changed} 张，未变 {same} 张。",
    "Reserve request #{id}: {qty} t of {pollutant} {year} for {permit}.":
        "储备申请 #{id}：为 {permit} 申请 {year} 年度{pollutant} {qty} 吨。",
    "Flag {id}: {moved} t {status}.": "标记 {id}：{moved} 吨{status}。",
    "Standard #{id} {name}: {flagged} quantities of {permits} permits flagged.":
        "排放标准 #{id} {name}：标记 {permits} 张许可证的许可排放量 {flagged} 项。",
    "Standard {name}: {applied} applied, {held} held back.":
        "排放标准 {name}：已执行 {applied} 项，暂缓 {held} 项。",
    "Auction {id}: a second officer must approve (request #{request}).":
        "拍卖 {id}：须由第二名经办人审批（申请 #{request}）。",
    "Transfer {id}: a second officer must approve (request #{request}).":
        "协议转让 {id}：须由第二名经办人审批（申请 #{request}）。",
    "Decision {number} published: a fine of {amount} yuan.":
        "处罚决定 {number} 已公开：罚款 {amount} 元。",
}


def confirm(text: str, lang: str | None = None, **values: Any) -> str:
    """A confirmation after a post, in `lang` (default: the request's): `text` is the
    English with {placeholders}; values named `*_kg`, `*_fen`, `*_fen_t` are shown in
    tonnes, yuan and yuan per tonne under the name without the suffix, and a value given
    as `(kind, code)` shows as its label (web.labels)."""
    lang = lang or current_lang()
    shown = dict(_unit(k, label(v[0], v[1], lang) if isinstance(v, tuple) else v)
                 for k, v in values.items())
    template = text if lang == "en" else ZH.get(text, text)
    return template.format(**shown)
