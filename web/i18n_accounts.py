"""Chinese texts of account basics (change password) and flash notices (issue 18), merged
into `web.i18n.ZH`."""

from __future__ import annotations

ZH: dict[str, str] = {
    "Change password": "修改密码",
    "Current password": "当前密码",
    "New password": "新密码",
    "New password again": "再次输入新密码",
    "At least 8 characters.": "至少 8 个字符。",
    "Changing the password ends your other log-in sessions; this one stays. "
    "API tokens are kept: review them under API tokens.":
        "修改密码后，您在其他地方的登录会话将全部退出，本会话保留。"
        "API 令牌不受影响，请在“API 令牌”页面检查。",
    "Password changed. Other sessions ended: {n}. API tokens are kept; review them under "
    "API tokens.": "密码已修改。已退出其他会话 {n} 个。API 令牌保留，请在“API 令牌”页面检查。",
    "The current password is wrong.": "当前密码不正确。",
    "The two new passwords differ.": "两次输入的新密码不一致。",
    "The new password needs at least 8 characters.": "新密码至少需要 8 个字符。",
    "The new password may have at most 200 characters.": "新密码最多 200 个字符。",
    "The new password must differ from the current one.": "新密码不能与当前密码相同。",
    "Required.": "必填。",
}
