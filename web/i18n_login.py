"""Chinese texts of the log-in page (merged into `web.i18n.ZH`), and the message a refused
log-in shows in the page's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from identity.errors import InvalidCredentials, TooManyAttempts
from kernel.beijing import beijing_time

WRONG = "Wrong username or password."
TOO_MANY = "Too many failed log-in attempts. Please try again in {wait}, after {at} (Beijing time)."
LOCKED_NOW = ("Wrong username or password. Too many failed attempts: log-in is refused for "
              "{wait}; try again after {at} (Beijing time).")
MINUTES = "{n} min"
SECONDS = "{n} s"

ZH: dict[str, str] = {
    WRONG: "用户名或密码错误。",
    TOO_MANY: "登录失败次数过多，请在 {wait}后重试（北京时间 {at} 之后）。",
    LOCKED_NOW: "用户名或密码错误。失败次数过多，{wait}内不能登录，请于北京时间 {at} 之后重试。",
    MINUTES: "{n} 分钟",
    SECONDS: "{n} 秒",
}


def login_message(exc: InvalidCredentials | TooManyAttempts, lang: str,
                  now: datetime | None = None) -> str:
    """What the log-in page says about a refused attempt, in `lang` ("zh" or "en"); when
    log-in is refused for a while, for how long and until when in Beijing time (rounded up
    to the minute)."""
    def tr(text: str) -> str:
        return text if lang == "en" else ZH.get(text, text)

    secs = exc.retry_after
    if not secs:
        return tr(WRONG)
    wait = (tr(SECONDS).format(n=secs) if secs < 60
            else tr(MINUTES).format(n=-(-secs // 60)))
    until = (now or datetime.now(UTC)) + timedelta(seconds=secs)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    text = TOO_MANY if isinstance(exc, TooManyAttempts) else LOCKED_NOW
    return tr(text).format(wait=wait, at=beijing_time(until))
