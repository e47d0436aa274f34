"""Chinese texts of the log-in page (merged into `web.i18n.ZH`), and the message a refused
log-in shows in the page's language."""

from __future__ import annotations

from identity.errors import InvalidCredentials, TooManyAttempts

WRONG = "Wrong username or password."
TOO_MANY = "Too many failed log-in attempts. Please try again in {wait}."
MINUTES = "{n} min"
SECONDS = "{n} s"

ZH: dict[str, str] = {
    WRONG: "用户名或密码错误。",
    TOO_MANY: "登录失败次数过多，请在 {wait}后重试。",
    MINUTES: "{n} 分钟",
    SECONDS: "{n} 秒",
}


def login_message(exc: InvalidCredentials | TooManyAttempts, lang: str) -> str:
    """What the log-in page says about a refused attempt, in `lang` ("zh" or "en")."""
    def tr(text: str) -> str:
        return text if lang == "en" else ZH.get(text, text)

    if isinstance(exc, TooManyAttempts):
        secs = exc.retry_after
        wait = (tr(SECONDS).format(n=secs) if secs < 60
                else tr(MINUTES).format(n=-(-secs // 60)))
        return tr(TOO_MANY).format(wait=wait)
    return tr(WRONG)
