"""How the bot talks to Telegram: the parts of the adapter layer that make delivery dependable.

- `PerChatUpdates`: updates of different chats are processed concurrently, those of one chat in
  order, so one user's slow update (a reload, an import, a large file) never makes another wait.
- `RetryingRateLimiter`: a reply to a user's own update is retried on 5xx, timeouts and 429 (after
  Telegram's retry_after) for up to a minute. Only the request that failed waits: PTB's own
  retry pauses every request of the bot. The outbox's sends ask for no retry (`NO_RETRY`): the
  outbox retries them itself, without holding up the others.
- `Confirmations`, used by `TolerantBot.get_updates` and `ConfirmingApplication`: in polling,
  an update is confirmed to Telegram (never sent again) only once it has been handled, so a bot
  killed while it answers gets the update again after the restart and answers then.
- `TolerantBot`: an update PTB cannot parse is replaced by an empty update of the same id, so
  its offset is acknowledged and polling goes on, and logged as "skipped unparseable update
  <id>" without its content; `patch_webhook_handler` does the same for webhooks, and answers
  Telegram's POST only once the update is handled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Sequence
from contextlib import suppress

from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, BaseUpdateProcessor, ExtBot

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
                failure, wait = error, error.retry_after
                wait = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            except (BadRequest, Forbidden, InvalidToken):
                raise  # Telegram refused the request itself: retrying changes nothing
            except (TimedOut, NetworkError) as error:
                failure, wait, delay = error, delay, min(delay * 2, 8.0)
            if time.monotonic() + wait > deadline:
                raise failure  # Telegram's own error, for the error handler to report
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


class Confirmations:
    """Which fetched updates are still being handled, and so which offset getUpdates may ask for.

    Telegram forgets an update as soon as getUpdates asks for a later offset. PTB asks for it on
    its next poll, which starts as soon as the updates are queued, before they are handled: a
    bot killed while it answers (a slow send, a retried 429) lost the question. Here the offset
    stays at the oldest update still in hand; Telegram sends the ones above it again, and those
    already handled are skipped. At least once, then: an update whose handling ended just before
    a kill -9 is handled again after the restart (every final action is idempotent: a second
    Submit shows the same receipt code).

    A webhook update is confirmed by the answer to Telegram's POST, which PTB gives once the update
    is queued; `arrived` and `handled_within` let that answer wait for the handling instead (see
    `patch_webhook_handler`).
    """

    def __init__(self) -> None:
        self._handling: set[int] = set()
        self._handled: set[int] = set()  # above the oldest in hand: Telegram sends them again
        self._next = 0  # one past the newest fetched
        # The offset the latest getUpdates asked from: until a poll asks past an update, that poll
        # (answered after the update was handled) may still bring it, so it is kept in _handled.
        self._asked = 0
        self._progress = asyncio.Event()
        self._posted: dict[int, asyncio.Event] = {}  # webhook updates in hand

    @property
    def handling(self) -> bool:
        return bool(self._handling)

    def offset(self, requested: int | None = None) -> int | None:
        """The offset a getUpdates asks for now (and is remembered as asked)."""
        asked = min(self._handling) if self._handling else (max(requested or 0, self._next) or requested)
        self._asked = asked or 0
        return asked

    def take(self, updates: Sequence[Update]) -> tuple[Update, ...]:
        """The updates not fetched before; they are in hand until `handled`."""
        fresh = tuple(u for u in updates if u.update_id not in self._handling and u.update_id not in self._handled)
        for update in fresh:
            self._handling.add(update.update_id)
            self._next = max(self._next, update.update_id + 1)
        return fresh

    def arrived(self, update_id: int) -> bool:
        """A webhook update is in hand; False when it already was (Telegram sent it again)."""
        if update_id in self._posted:
            return False
        self._posted[update_id] = asyncio.Event()
        return True

    async def handled_within(self, update_id: int, seconds: float) -> None:
        """Until the webhook update `update_id` is handled, or `seconds`."""
        done = self._posted.get(update_id)
        if done is not None:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), seconds)

    def handled(self, update_id: int) -> None:
        posted = self._posted.pop(update_id, None)
        if posted is not None:
            posted.set()
        if update_id not in self._handling:
            return  # a webhook update, or one fetched by an earlier process
        self._handling.discard(update_id)
        self._handled.add(update_id)
        floor = min([*self._handling, self._next, self._asked])
        self._handled = {done for done in self._handled if done >= floor}
        self._progress.set()

    async def progress(self, timeout: float) -> None:
        """Until an update's handling ends, or `timeout` seconds."""
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)
        self._progress.clear()


# While an update is in hand, getUpdates answers at once (with it): polls are then this far apart,
# so other users' updates still arrive promptly while one user's answer waits.
POLL_WHILE_HANDLING_SECONDS = 0.5


class TolerantBot(ExtBot):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._confirmations = Confirmations()  # PTB's bot is frozen except for _ names

    @property
    def confirmations(self) -> Confirmations:
        return self._confirmations

    async def get_updates(self, offset=None, limit=None, timeout=None, allowed_updates=None, **kwargs):
        """PTB's getUpdates, asking for an offset past handled updates only (see Confirmations),
        and returning only updates it has not returned before."""
        seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout or 0)
        deadline = time.monotonic() + seconds
        while True:
            handling = self.confirmations.handling
            updates = await super().get_updates(
                offset=self.confirmations.offset(offset), limit=limit, timeout=0 if handling else timeout,
                allowed_updates=allowed_updates, **kwargs)
            fresh = self.confirmations.take(updates)
            remaining = deadline - time.monotonic()
            if fresh or not handling or remaining <= 0:
                return fresh
            await self.confirmations.progress(min(POLL_WHILE_HANDLING_SECONDS, remaining))

    async def confirm_handled(self) -> None:
        """At shutdown, once every update is handled: confirm them, so none is handled twice."""
        with suppress(TelegramError):
            await super().get_updates(offset=self.confirmations.offset(), limit=1, timeout=0)

    async def _post(self, endpoint: str, data=None, *args, **kwargs):
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            result = [update for update in (parseable(raw, self) for raw in result) if update is not None]
        return result


# A webhook update's POST is answered once it is handled, but after this long at most: Telegram waits
# 60 s before it sends the update again, and holds back that chat's next ones meanwhile.
WEBHOOK_ANSWER_WITHIN_SECONDS = 8.0


def patch_webhook_handler() -> None:
    """PTB's webhook handler, changed twice, by wrapping its `post` (PTB has no hook for either):

    - PTB answers an unparseable update with 400 (so Telegram sends it again and again) and logs
      its whole content; here it is answered 200 and only its id is logged.
    - PTB answers 200 once the update is queued, so a kill -9 before its reply lost it; here the
      answer waits until it is handled (for WEBHOOK_ANSWER_WITHIN_SECONDS at most), and an update
      Telegram sends again while it is in hand is not handled twice.
    """
    from telegram.ext._utils import webhookhandler

    handler = webhookhandler.TelegramHandler
    if getattr(handler, "_qingfeng_patched", False):
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
        confirmations = self.bot.confirmations if isinstance(self.bot, TolerantBot) else None
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if confirmations is None or not isinstance(update_id, int):
            await original(self)
            return
        self._validate_post()  # before it counts as arrived: a forged POST must not hold an update id
        if confirmations.arrived(update_id):
            try:
                await original(self)
            except BaseException:
                confirmations.handled(update_id)  # never queued
                raise
        else:
            self.set_status(200)
        await confirmations.handled_within(update_id, WEBHOOK_ANSWER_WITHIN_SECONDS)

    handler.post = post
    handler._qingfeng_patched = True


class ConfirmingApplication(Application):
    """Tells the bot's Confirmations when an update's handling is over, whatever its outcome."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update) and isinstance(self.bot, TolerantBot):
                self.bot.confirmations.handled(update.update_id)
