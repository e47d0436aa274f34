"""The pages' language in Jinja2: gettext through Jinja2's i18n extension, and Babel's locale
formatting of quantities, money and Beijing time.

- `_`, `gettext`, `ngettext` and `pgettext` are globals that read the page's `lang` from the
  template context (newstyle: `_("%(n)s permits", n=3)`, `ngettext("%(num)d day",
  "%(num)d days", n)`, `pgettext("clue", "Rejected")`).
  They differ from Jinja2's stock newstyle callables in two ways that keep pages safe: a
  translation is plain text, escaped like every other value (the stock ones mark it safe, so
  `_(user_text)` of a text not in the catalogue would be unescaped HTML), and a message is
  %-formatted only when it is given variables (so "Band %" needs no "%%").
- Filters `kg`, `t`, `yuan`, `price`: Babel's decimal formatting for zh_CN or en (grouping,
  decimal sign), with kg whole, tonnes to three decimals and yuan to two.
- Filters `bjtime`, `bjdate`: an instant (aware, naive-as-UTC, or ISO text) as Beijing time
  `2026-12-06 09:00`, or the Beijing day `2026-12-06`; a plain date is already a day.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, parse_pattern
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from kernel.beijing import BEIJING, to_beijing
from kernel.quantities import kg_to_tonnes
from web.catalogue import translations
from web.i18n import plural_translator, translator

#: Babel's locale of each page language
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
EMPTY = "—"


def _lang(ctx: Context) -> str:
    lang = ctx.get("lang")
    return lang if lang in LOCALES else "zh"


@pass_context
def gettext(ctx: Context, message: Any, **variables: Any) -> Any:
    rv = translator(_lang(ctx))(message)
    return rv % variables if variables and isinstance(rv, str) else rv


@pass_context
def pgettext(ctx: Context, context: str, message: str, **variables: Any) -> str:
    """The text of `message` in `context` (msgctxt): one English text, two Chinese ones."""
    rv = message if _lang(ctx) == "en" else str(translations().pgettext(context, message))
    return rv % variables if variables else rv


@pass_context
def ngettext(ctx: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return plural_translator(_lang(ctx))(singular, plural, int(num)) % variables


# --- numbers and money ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def _babel_locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, "zh_Hans_CN"))


@lru_cache(maxsize=8)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def number(value: Decimal | int, pattern: str, lang: str = "zh") -> str:
    """Babel's format_decimal, with the locale and the pattern parsed once (a page formats
    hundreds of numbers)."""
    return str(_pattern(pattern).apply(value, _babel_locale(lang)))


def kg_text(v: Any, lang: str = "zh") -> str:
    return EMPTY if v is None else number(int(v), "#,##0", lang)


def tonnes_text(v: Any, lang: str = "zh") -> str:
    return EMPTY if v is None else number(kg_to_tonnes(int(v)), "#,##0.000", lang)


def yuan_text(fen: Any, lang: str = "zh") -> str:
    return EMPTY if fen is None else number(Decimal(int(fen)) / 100, "#,##0.00", lang)


@pass_context
def _kg(ctx: Context, v: Any) -> str:
    return kg_text(v, _lang(ctx))


@pass_context
def _t(ctx: Context, v: Any) -> str:
    return tonnes_text(v, _lang(ctx))


@pass_context
def _yuan(ctx: Context, v: Any) -> str:
    return yuan_text(v, _lang(ctx))


# --- Beijing time -------------------------------------------------------------------------


def bjtime_text(value: datetime | str | None, lang: str = "zh") -> str:
    """`2026-12-06 09:00` in Beijing; empty for nothing; unreadable text as it is."""
    if value is None or value == "":
        return ""
    try:
        dt = to_beijing(value)
    except (TypeError, ValueError):
        return str(value)
    return str(format_datetime(dt, "yyyy-MM-dd HH:mm", tzinfo=BEIJING,
                               locale=_babel_locale(lang)))


def bjdate_text(value: datetime | date | str | None, lang: str = "zh") -> str:
    """The Beijing day `2026-12-06` of an instant; a date (or `YYYY-MM-DD`) as it is."""
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, str) and len(value) == 10:
            day = date.fromisoformat(value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            day = value
        else:
            day = to_beijing(value).date()
    except (TypeError, ValueError):
        return str(value)
    return str(format_date(day, "yyyy-MM-dd", locale=_babel_locale(lang)))


@pass_context
def _bjtime(ctx: Context, value: Any) -> str:
    return bjtime_text(value, _lang(ctx))


@pass_context
def _bjdate(ctx: Context, value: Any) -> str:
    return bjdate_text(value, _lang(ctx))


def install(env: Environment) -> None:
    """Jinja2's i18n extension with the page-language callables, and the filters."""
    translations()  # compile the catalogue now, not on the first page
    env.add_extension("jinja2.ext.i18n")
    # what install_gettext_callables(newstyle=True) sets, with the callables above unwrapped
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext)
    env.filters.update(kg=_kg, t=_t, yuan=_yuan, price=_yuan, bjtime=_bjtime,
                       bjdate=_bjdate)
