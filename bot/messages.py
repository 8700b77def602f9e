"""Fitting text into Telegram messages (4096 characters) without cutting words or lines in half."""

from __future__ import annotations

TEXT_LIMIT = 4096


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, else a line, else a sentence."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = _last_break(window, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _last_break(window: str, limit: int) -> int:
    for separator in ("\n\n", "\n", "。", ". ", "；", "; ", "，", ", ", " "):
        position = window.rfind(separator)
        if position > limit // 3:
            return position + len(separator)
    return limit
