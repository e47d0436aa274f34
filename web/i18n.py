"""Languages of the pages: Chinese by default, English switchable (cookie `erts_lang`).

English is the msgid of a gettext catalogue (Babel): web/translations/zh/LC_MESSAGES/messages.po
holds the Chinese and is compiled in memory at start-up (web.catalogue; docs/i18n.md). Templates
write `{{ _("English text") }}` (Jinja2's i18n extension, newstyle; `ngettext` for plurals);
code calls `translator(lang)` / `plural_translator(lang)`. This module is the thin shim code
calls; the texts live only in the .po. A text without Chinese shows in English, and the test
command fails on it (tests/web/test_catalogue.py, `python -m web.catalogue check`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from web.catalogue import catalogue, singular_texts, translations

LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def _zh() -> dict[str, str]:
    return singular_texts(catalogue())


def __getattr__(name: str) -> dict[str, str]:
    """`ZH`: English → Chinese of every translated singular text of the catalogue, made on
    first use (a read-only view for code that wants a dict; translating goes through
    `translator`)."""
    if name == "ZH":
        return _zh()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def N_(*text: str) -> str:
    """Marks a literal as a msgid for Babel's extraction (a label kept in a table and
    translated where it is shown); returns it unchanged. `N_(context, text)` marks a text
    with its msgctxt (extracted like `pgettext`; web/labels.py: the kind) and returns the
    text."""
    if len(text) not in (1, 2):
        raise TypeError("N_(text) or N_(context, text)")
    return text[-1]


def translator(lang: str) -> Callable[[str], str]:
    """`_` of a language: the Chinese of an English text (the text itself without one)."""
    return _english if lang == "en" else _chinese


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """`ngettext` of a language: singular or plural by `n` (Chinese has one form)."""
    if lang == "en":
        return lambda singular, plural, n: singular if n == 1 else plural
    return lambda singular, plural, n: str(translations().ngettext(singular, plural, n))


def _english(text: str) -> str:
    return text


def _chinese(text: str) -> str:
    if not isinstance(text, str) or not text:  # gettext("") is the catalogue's header
        return text
    return str(translations().gettext(text))
