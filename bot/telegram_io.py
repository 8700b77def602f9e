"""How the bot talks to Telegram: the parts of the adapter layer that make delivery dependable.

- `PerChatUpdates`: updates of different chats are processed concurrently, those of one chat in
  order, so one user's slow update (a reload, an import, a large file) never makes another wait.
- `RetryingRateLimiter`: a reply to a user's own update is retried on 5xx, timeouts and 429 (after
  Telegram's retry_after) for up to a minute. Only the request that failed waits: PTB's own
  retry pauses every request of the bot. The outbox's sends ask for no retry (`NO_RETRY`): the
  outbox retries them itself, without holding up the others.
- `TolerantBot`: an update PTB cannot parse is replaced by an empty update of the same id, so
  its offset is acknowledged and polling goes on, and logged as "skipped unparseable update
  <id>" without its content; `tolerate_unparseable_webhooks` does the same for webhooks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable

from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, BaseUpdateProcessor, ExtBot

log = logging.getLogger(__name__)

RETRY_FOR_SECONDS = 60.0
NO_RETRY = -1  # rate_limit_args of a send that must not be retried here
# What a user waits for: replies, edits, answers to buttons. Start-up calls (getMe, setWebhook, ...)
# have their own backoff in bot/app.py, and getUpdates is simply called again.
REPLIES = ("send", "edit", "answer", "copy", "forward", "delete")


class PerChatUpdates(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat."""

    def __init__(self, max_concurrent_updates: int = 256):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter (Telegram's overall and group limits), with per-request retries."""

    def __init__(self, retry_for: float = RETRY_FOR_SECONDS, **kwargs):
        super().__init__(max_retries=0, **kwargs)
        self.retry_for = retry_for

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if rate_limit_args == NO_RETRY or not endpoint.startswith(REPLIES):
            return await super().process_request(callback, args, kwargs, endpoint, data, None)
        deadline = time.monotonic() + self.retry_for
        delay = 0.5
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, None)
            except RetryAfter as error:
                wait = error.retry_after
                wait = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            except (BadRequest, Forbidden, InvalidToken):
                raise  # Telegram refused the request itself: retrying changes nothing
            except (TimedOut, NetworkError):
                wait, delay = delay, min(delay * 2, 8.0)
            if time.monotonic() + wait > deadline:
                raise
            log.info("Telegram did not take a %s; retrying in %.1f s", endpoint, wait)
            await asyncio.sleep(wait)


def parseable(raw: object, bot: ExtBot) -> object:
    """The raw update, or an empty one of the same id when PTB cannot read it."""
    try:
        Update.de_json(raw, bot)
        return raw
    except Exception:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        log.warning("skipped unparseable update %s", update_id if isinstance(update_id, int) else "?")
        return {"update_id": update_id} if isinstance(update_id, int) else None


class TolerantBot(ExtBot):
    async def _post(self, endpoint: str, data=None, *args, **kwargs):
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            result = [update for update in (parseable(raw, self) for raw in result) if update is not None]
        return result


def tolerate_unparseable_webhooks() -> None:
    """PTB answers an unparseable webhook call with 400 (so Telegram sends it again and again) and
    logs its whole content; answer 200 and log only its id instead. PTB has no hook for this, so
    its handler's `post` is wrapped, once."""
    from telegram.ext._utils import webhookhandler

    handler = webhookhandler.TelegramHandler
    if getattr(handler, "_qingfeng_tolerant", False):
        return
    original = handler.post

    async def post(self) -> None:
        try:
            raw = json.loads(self.request.body.decode() or "null")
        except ValueError:
            raw = None
        if parseable(raw, self.bot) is not raw:
            self._validate_post()
            self.set_status(200)
            return
        await original(self)

    handler.post = post
    handler._qingfeng_tolerant = True
