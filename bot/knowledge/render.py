"""An entry as the user reads it: the question as a title, the answer, then the sources.

Shared by the bot (HTML) and `qingfeng ask` (plain text), so both say the same thing.
"""

from __future__ import annotations

import html

from bot.i18n import translator
from bot.knowledge.schema import Entry
from bot.messages import TEXT_LIMIT, split_text


def sources_line(entry: Entry, language: str) -> str:
    _ = translator(language)
    labels = "; ".join(source.label(language) for source in entry.sources)
    return _("Sources: {sources}", sources=labels)


def entry_plain(entry: Entry, language: str) -> str:
    return f"{entry.question[language]}\n\n{entry.answer[language]}\n\n{sources_line(entry, language)}"


def entry_html(entry: Entry, language: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The entry as one or more HTML messages: an answer longer than a message is split between
    paragraphs, the title stays on the first piece and the sources on the last."""
    title = f"<b>{html.escape(entry.question[language])}</b>"
    sources = f"<i>{html.escape(sources_line(entry, language))}</i>"
    room = limit - 200  # escaping and the title or sources line must still fit
    pieces = [html.escape(piece) for piece in split_text(entry.answer[language], room)]
    pieces[0] = f"{title}\n\n{pieces[0]}"
    pieces[-1] = f"{pieces[-1]}\n\n{sources}"
    return pieces


def first_paragraph(entry: Entry, language: str) -> str:
    return entry.answer[language].split("\n\n", 1)[0].strip()
