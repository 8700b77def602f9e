"""Logging that cannot leak who a user is.

Every record passes a redacting filter: long digit runs (Telegram user and chat ids, phone
numbers), @usernames and bot tokens are masked after formatting, exceptions included. httpx
logs every request URL (with the bot token) at INFO, so it is held to WARNING. At DEBUG, PTB
logs every request's parameters (message texts) and every answer (users' names): the "telegram"
loggers are held to INFO whatever the level, and a record of theirs that quotes received data
keeps only its first words.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import Path

_PATTERNS = [
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b"), "<token>"),
    (re.compile(r"(?<![\w.])@[A-Za-z][A-Za-z0-9_]{3,}"), "@<user>"),
    (re.compile(r"(?<![\w.])\+?\d[\d -]{5,}\d(?![\w.])"), "<number>"),
]
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "aiohttp.access", "jieba")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# PTB quotes what it received or sent after these words (CRITICAL on a bad update, DEBUG otherwise).
_QUOTES = re.compile(r"(Received data was|with parameters|finished with return value|Received Update|"
                     r"Webhook received data)\b.*", re.DOTALL)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("telegram"):
            message = _QUOTES.sub(r"\1 (withheld)", message)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (it may be replaced, e.g. by a test runner)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup_logging(level: str = "INFO", file: Path | None = None) -> None:
    handlers: list[logging.Handler] = [_StderrHandler()]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
    logging.basicConfig(level=level, handlers=handlers, force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # "skipped: maximum number of running instances reached" is how the outbox job keeps to one
    # sender at a time, every second while a long batch runs: expected, not worth a warning.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    # Our rate limiter (bot/telegram_io.py) has PTB's hand every 429 straight back: a reply is retried
    # there (an INFO line each time), an outbox message by the outbox (its last_error). PTB would log
    # each 429 as an error with a traceback.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)


def describe_exception(exc: BaseException) -> str:
    """Class, short message and where it happened: enough to debug, nothing about the user."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    message = redact(str(exc))[:200]
    return f"{type(exc).__name__}: {message} at {where}" if where else f"{type(exc).__name__}: {message}"
