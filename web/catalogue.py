"""The gettext message catalogue of the pages (Babel), and its command line.

English is the msgid; `web/translations/zh/LC_MESSAGES/messages.po` holds the Chinese and is
the source a translator edits (plural forms: zh has one). No compiled `.mo` is kept in git: the
`.po` is compiled in memory once per process (`translations()`).

    .venv/bin/python -m web.catalogue extract   # refresh web/translations/messages.pot (Babel)
    .venv/bin/python -m web.catalogue check     # list extracted messages without Chinese
    .venv/bin/python -m web.catalogue absorb    # move the web/i18n_*.py dicts into the .po

docs/i18n.md describes the workflow.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent
TRANSLATIONS = WEB / "translations"
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"
BABEL_CFG = ROOT / "babel.cfg"
LOCALE = "zh"
PROJECT = "ERTS"

#: what templates and code call; `ngettext` takes singular and plural, `pgettext` a context
#: (msgctxt: one English text that needs two Chinese ones) and the text
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
                            "pgettext": ((1, "c"), 2)}


def read_catalogue(path: Path = PO) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=LOCALE)


def write_catalogue(catalog: Catalog, path: Path = PO) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, ignore_obsolete=True,
             include_previous=False)
    path.write_bytes(buf.getvalue())


def singular_texts(catalog: Catalog) -> dict[str, str]:
    """msgid → Chinese of every translated, non-fuzzy singular message without a context."""
    out: dict[str, str] = {}
    for m in catalog:
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string \
                and not m.fuzzy and not m.context:
            out[m.id] = m.string
    return out


def overlay(catalog: Catalog, texts: Mapping[str, str]) -> list[str]:
    """Put `texts` (msgid → Chinese) into the catalogue; the msgids whose Chinese changed."""
    changed = []
    for msgid, zh in texts.items():
        have = catalog.get(msgid)
        if have is None:
            catalog.add(msgid, zh)
        elif have.string != zh or have.fuzzy:
            if have.string:
                changed.append(msgid)
            have.string = zh
            have.flags.discard("fuzzy")
    return changed


def compile_translations(catalog: Catalog) -> Translations:
    """The catalogue compiled in memory (no .mo on disk)."""
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


#: the texts laid over the .po before it is compiled (web.i18n registers its ZH here, so this
#: module never imports web.i18n)
OVERLAY: dict[str, str] = {}


@lru_cache(maxsize=1)
def translations() -> Translations:
    """Chinese: the .po with the per-subject dicts (`OVERLAY`, web.i18n.ZH) on top, compiled
    once."""
    catalog = read_catalogue()
    overlay(catalog, OVERLAY)
    return compile_translations(catalog)


# --- extraction --------------------------------------------------------------------------


@dataclass
class Extracted:
    msgid: str | tuple[str, ...]
    context: str | None = None
    locations: list[str] = field(default_factory=list)


def extract(root: Path = ROOT, cfg: Path = BABEL_CFG) -> list[Extracted]:
    """Every message Babel's extractors find under `root` as babel.cfg maps it (templates via
    Jinja2's extractor, code via Babel's Python extractor), with its places."""
    from babel.messages.extract import extract_from_dir  # the tools, not the pages' path
    from babel.messages.frontend import parse_mapping_cfg

    with cfg.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(cfg))
    found: dict[tuple[str | None, str | tuple[str, ...]], Extracted] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS):
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        msgid = message if isinstance(message, str) else tuple(message)
        found.setdefault((context, msgid), Extracted(msgid, context)).locations.append(
            f"{filename}:{lineno}")
    return list(found.values())


def untranslated(found: Iterable[Extracted], catalog: Catalog,
                 extra: Mapping[str, str] | None = None) -> list[Extracted]:
    """Extracted messages without Chinese in the catalogue (nor in `extra`)."""
    extra = extra or {}
    missing = []
    for e in found:
        if isinstance(e.msgid, tuple):
            m = catalog.get(e.msgid[0], e.context)
            ok = (m is not None and not m.fuzzy and isinstance(m.string, tuple | list)
                  and all(m.string))
        else:
            m = catalog.get(e.msgid, e.context)
            ok = (e.context is None and bool(extra.get(e.msgid))) or (
                m is not None and not m.fuzzy and bool(m.string))
        if not ok:
            missing.append(e)
    return missing


def write_template(found: Iterable[Extracted], path: Path = POT) -> int:
    """messages.pot: every extracted message, with its places."""
    pot = Catalog(project=PROJECT, version="0.1.0", copyright_holder=PROJECT, fuzzy=False,
                  header_comment="# Every message Babel's extraction finds in the ERTS templates "
                  "and code\n# (python -m web.catalogue extract). Generated: edit the .po.")
    n = 0
    for e in found:
        locs = [(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in e.locations]
        pot.add(e.msgid, None, locations=locs, context=e.context)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    write_po(buf, pot, width=100, sort_output=True)
    path.write_bytes(buf.getvalue())
    return n


# --- the per-subject dicts ------------------------------------------------------------------


def subject_modules() -> Iterator[tuple[str, dict[str, str]]]:
    """Each remaining `web/i18n_<subject>.py` and its ZH dict."""
    for path in sorted(WEB.glob("i18n_*.py")):
        name = f"web.{path.stem}"
        zh = getattr(importlib.import_module(name), "ZH", None)
        if isinstance(zh, dict):
            yield name, zh


def absorb(path: Path = PO) -> tuple[int, list[str], list[str]]:
    """Move the entries of every web/i18n_*.py dict into the .po; (entries, modules, msgids
    whose Chinese a module changed, with the module)."""
    catalog = read_catalogue(path)
    n, names, changed = 0, [], []
    for name, zh in subject_modules():  # in web.i18n._merge()'s order: the last one wins
        changed += [f"{msgid} ({name})" for msgid in overlay(catalog, zh)]
        n += len(zh)
        names.append(name)
    write_catalogue(catalog, path)
    return n, names, changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m web.catalogue", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["extract", "check", "absorb"])
    args = ap.parse_args(argv)
    if args.command == "absorb":
        n, names, changed = absorb()
        print(f"{n} entries of {len(names)} modules now in {PO.relative_to(ROOT)}")
        for msgid in changed:
            print(f"  changed by a module: {msgid!r}")
        if names:
            print("delete these modules and their lines in web/i18n._merge():")
            print("  " + " ".join(n.replace(".", "/") + ".py" for n in names))
        return 0
    found = extract()
    if args.command == "extract":
        n = write_template(found)
        print(f"{n} messages in {POT.relative_to(ROOT)}")
        return 0
    registered: dict[str, str] = {}
    for _name, zh in subject_modules():  # the texts web.i18n lays over the .po
        registered.update(zh)
    missing = untranslated(found, read_catalogue(), registered)
    for e in missing:
        where = f" (msgctxt {e.context!r})" if e.context else ""
        print(f"{e.msgid!r}{where}: {', '.join(e.locations)}")
    print(f"{len(found)} messages, {len(missing)} without Chinese")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
