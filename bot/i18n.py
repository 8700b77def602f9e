"""Translations: gettext catalogs in `bot/locales/<locale>/*.po`, English msgids.

Each feature keeps its own `.po` file per locale; all files of a locale are merged into one
catalog at start. The catalogs are read with Babel and compiled in memory, so the `.po` files
are the only source and there is no build step. English is the msgid language: a missing
English translation falls back to the msgid itself; a missing Chinese one is caught by a test.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("zh", "en")
LOCALE_OF = {"zh": "zh_CN", "en": "en"}

Translate = Callable[..., str]


def N_(message: str) -> str:
    """Mark a message for extraction where it is translated later (e.g. a module constant)."""
    return message


def language_for(telegram_code: str | None, default: str) -> str:
    """Map a Telegram language_code (e.g. "zh-hans", "en-US") to one of ours."""
    code = (telegram_code or "").lower()
    for language in LANGUAGES:
        if code == language or code.startswith(language + "-"):
            return language
    return default


def normalise_language(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    aliases = {"zh": "zh", "cn": "zh", "中文": "zh", "chinese": "zh", "en": "en", "english": "en", "英文": "en"}
    return aliases.get(value)


@cache
def catalog(language: str) -> Catalog:
    """All `.po` files of a language merged into one Babel catalog."""
    merged = Catalog(locale=LOCALE_OF[language])
    for path in sorted((LOCALES_DIR / LOCALE_OF[language]).glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=LOCALE_OF[language]):
                if message.id and message.string:
                    merged[message.id] = message
    return merged


@cache
def _translations(language: str) -> gettext.NullTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(language: str) -> Translate:
    """`_ = translator("zh"); _("Hello, {name}", name=...)`: format after translating."""
    translations = _translations(language if language in LANGUAGES else "zh")

    def _(message: str, /, **values: object) -> str:
        text = translations.gettext(message)
        return text.format(**values) if values else text

    return _


def english(message: str, /, **values: object) -> str:
    """A msgid as it reads in English (the msgid language): formatted, nothing looked up."""
    return message.format(**values) if values else message


class TranslatableError(Exception):
    """An error told to people, raised with its gettext msgid (English) and keyword values, so that
    whoever shows it can say it in their language: `str()` is the English text (logs, tests),
    `render(_)` the text in the language of `_` (a `Translate`). The values (paths, a library's own
    text) are shown as they are. Like bot/ledger/importer.py's ExplainedError, for the failures
    outside the ledger."""

    def __init__(self, msgid: str, /, **values: object) -> None:
        super().__init__(msgid)
        self.msgid, self.values = msgid, values

    def render(self, _: Translate) -> str:
        values = {name: value.render(_) if isinstance(value, TranslatableError) else value
                  for name, value in self.values.items()}  # a part that is itself a message, in the same language
        return _(self.msgid, **values)

    def __str__(self) -> str:
        return self.render(english)


def both(message: str, /, **values: object) -> dict[str, str]:
    """A message in every language, e.g. for notifications to people whose language differs."""
    return {language: translator(language)(message, **values) for language in LANGUAGES}
