"""The sandbox's state: bots, users and chats, what each bot's chats hold, pending updates,
flood limits (token buckets), injected faults and the event log of what the bot did.

``Sandbox`` is all of it, and the users' side in-process: every ``/sandbox/...`` route calls
one of its methods (see ``bot.sandbox.control``); the Bot API methods that act on it are in
``bot.sandbox.methods``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import dataclasses
import hashlib
import itertools
import json
import logging
import math
import mimetypes
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.sandbox.entities import CAPTION_LIMIT, TEXT_LIMIT, detect_entities, entity_text
from bot.sandbox.errors import ApiError, SandboxError, bad_request, blocked_error, too_many_requests
from bot.sandbox.files import FileStore, StoredFile, document_of

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:SANDBOX-TOKEN-qingfeng-local-0000000"
BOT_FIRST_NAME = "Qingfeng Sandbox"
BOT_USERNAME = "qingfeng_sandbox_bot"
FIRST_USER_ID = 100000001
TOKEN_RE = re.compile(r"^(\d{1,20}):([A-Za-z0-9_-]{30,64})$")
DEFAULT_UPDATE_TYPES = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
    "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_join_request",
    "chat_boost", "removed_chat_boost",
})


class Notifier:
    """Wakes everyone waiting for "something changed"."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        event = self._event
        if timeout is not None and timeout <= 0:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass
class Limits:
    """Telegram's flood limits, enforced only when `enforce` is set.

    Token buckets: `global_*` per bot over all chats, `private_*` per private chat, `group_*` per
    group (a rate per minute). `latency` delays every Bot API answer (seconds).
    """

    enforce: bool = False
    global_per_second: float = 30.0
    global_burst: int = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 20
    latency: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate = max(rate, 1e-9)
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self, n: int = 1) -> float:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            return 0.0
        return (n - self.tokens) / self.rate

    def take(self, n: int = 1) -> None:
        self.tokens -= n


@dataclass
class Fault:
    """An injected failure: the next `count` calls of `method` (or "*"; optionally only for
    `chat_id`) fail with `kind`: "429", "500", "502", "timeout" (held `delay` seconds, then
    504), "403_blocked" or "400" (with `description`). `count` None: until cleared."""

    method: str = "*"
    kind: str = "500"
    count: int | None = 1
    chat_id: int | None = None
    retry_after: int = 1
    delay: float = 30.0
    description: str | None = None
    id: int = 0

    KINDS = ("429", "500", "502", "504", "timeout", "403_blocked", "400")

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items()}


@dataclass
class ChatLog:
    """One bot's view of one chat: its messages (after edits and deletes) and reply keyboard."""

    next_message_id: int = 1
    messages: dict[int, dict] = field(default_factory=dict)
    keyboard: dict | None = None


class BotState:
    """One bot (one token): its pending updates, webhook, commands, chats and open queries."""

    def __init__(self, token: str, bot_id: int):
        self.token = token
        self.id = bot_id
        self.user = {"id": bot_id, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}
        self.active = False  # has called the Bot API
        self.updates: list[dict] = []
        self.delivered_up_to = 0  # highest update_id handed to the bot at least once
        self.allowed_updates: list[str] | None = None
        self.notifier = Notifier()
        self.poll_generation = 0
        self.polls_in_flight = 0
        self.last_poll_at: float | None = None  # time.monotonic() when a getUpdates last ended
        self.webhook: dict | None = None
        self.webhook_task: asyncio.Task | None = None
        self.webhook_wakeup = asyncio.Event()
        self.webhook_error: tuple[int, str] | None = None
        self.commands: dict[tuple[str, str], list[dict]] = {}  # (scope key, language) -> commands
        self.chats: dict[int, ChatLog] = {}
        self.started: set[int] = set()  # users who have written to the bot in their private chat
        self.callback_queries: dict[str, dict] = {}
        self.inline_queries: dict[str, dict] = {}
        self.answers = Notifier()

    def listening(self, within: float = 10.0) -> bool:
        """Reading its updates now: a webhook, a long poll open, or one ended moments ago (a bot
        polls again at once)."""
        recent = self.last_poll_at is not None and time.monotonic() - self.last_poll_at <= within
        return bool(self.webhook) or self.polls_in_flight > 0 or recent

    def get_me(self) -> dict:
        return {**self.user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True, "can_connect_to_business": False,
                "has_main_web_app": False}

    def chat_log(self, chat_id: int) -> ChatLog:
        log_ = self.chats.get(chat_id)
        if log_ is None:
            log_ = self.chats[chat_id] = ChatLog()
        return log_

    def webhook_info(self) -> dict:
        """The WebhookInfo object."""
        info: dict[str, Any] = {"url": self.webhook["url"] if self.webhook else "", "has_custom_certificate": False,
                                "pending_update_count": len(self.updates)}
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
            if self.webhook_error:
                info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def stop_webhook(self) -> None:
        """No webhook any more; its delivery task is cancelled (unless it is the caller)."""
        self.webhook = None
        task, self.webhook_task = self.webhook_task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _new_stats() -> dict:
    return {
        "calls": Counter(), "errors": Counter(), "sent_messages": 0, "errors_429": 0,
        "updates_created": 0, "updates_delivered": 0, "sent_per_chat": Counter(), "edits": 0,
        "callback_answers": 0, "inline_answers": 0, "faults_triggered": 0, "webhook_deliveries": 0,
        "webhook_failures": 0, "uploads": 0, "downloads": 0, "user_messages": 0, "first_sent_at": None,
        "last_sent_at": None,
    }


def deep(obj: Any) -> Any:
    """A deep copy: what the sandbox hands out never aliases what it keeps."""
    return copy.deepcopy(obj)


def timestamp() -> int:
    """Now, as a Telegram date (Unix time in seconds)."""
    return int(time.time())


class Sandbox:
    """All the sandbox's state, usable in-process too (every HTTP route calls a method here).

    Bot side: ``await bot.sandbox.methods.call(sandbox, token, method, params, uploads)``.
    Users' side: ``create_user``, ``user_message``, ``inject_raw_update``, ``press_button``,
    ``inline_query``, ``block``/``unblock``, ``wait_events``, ``chat_messages``,
    ``stats_snapshot``, ``add_fault``, ``set_limits``, ``reset``.
    """

    def __init__(self, *, enforce_limits: bool = False, limits: Limits | None = None,
                 privacy_mode: bool = True, webhook_retry: tuple[float, float] = (0.1, 2.0)):
        self.limits = limits or Limits()
        if enforce_limits:
            self.limits.enforce = True
        self.privacy_mode = privacy_mode
        self.webhook_retry = webhook_retry
        self.closing = False
        self._update_ids = itertools.count(1)  # never reset: a running bot's offset stays valid
        self._seq = 0  # event sequence, never reset either
        self._events_notifier = Notifier()
        self._session: aiohttp.ClientSession | None = None
        self._fault_ids = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, dict] = {}
        self.chats: dict[int, dict] = {}
        self.blocked: set[int] = set()
        self.not_started: set[int] = set()  # users created with started=False
        self.events: list[dict] = []
        self.faults: list[Fault] = []
        self.stats = _new_stats()
        self.files = FileStore(self.stats, self.session)
        self._buckets: dict[Any, TokenBucket] = {}
        self._next_user_id = FIRST_USER_ID

    # -- lifecycle ---------------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget everything (bots, users, chats, files, events, faults, stats); limits stay."""
        for bot in self.bots.values():
            await bot.stop_webhook()
            bot.notifier.notify()
        self._clear()
        self._events_notifier.notify()

    async def close(self) -> None:
        self.closing = True
        for bot in self.bots.values():
            await bot.stop_webhook()
            bot.notifier.notify()
            bot.answers.notify()
        self._events_notifier.notify()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def sleep(self, seconds: float) -> None:
        """Sleeps, but wakes up when the sandbox closes."""
        deadline = time.monotonic() + seconds
        while not self.closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.25))

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    # -- bots, users, chats ------------------------------------------------------------------

    def bot(self, token: str | None = None) -> BotState:
        """The bot of `token` (created on first use), or the default bot: the first that used
        the Bot API, else the first created, else the default token's."""
        if token:
            return self.bot_for_token(token)
        for bot in self.bots.values():
            if bot.active:
                return bot
        if self.bots:
            return next(iter(self.bots.values()))
        return self.bot_for_token(DEFAULT_TOKEN)

    def bot_for_token(self, token: str) -> BotState:
        bot = self.bots.get(token)
        if bot is None:
            m = TOKEN_RE.match(token or "")
            if not m:
                raise ApiError(401, "Unauthorized")
            bot = self.bots[token] = BotState(token, int(m.group(1)))
        return bot

    def create_user(self, id: int | None = None, first_name: str | None = None, last_name: str | None = None,
                    username: str | None = None, language_code: str | None = None,
                    is_premium: bool | None = None, started: bool = True) -> dict:
        """A Telegram user (created, or updated if `id` exists) and their private chat.

        ``started=False``: a user who has not opened the bot. Until they write to it in their
        private chat (a message in a group does not count), the bot's sends and edits there
        fail with "Bad Request: chat not found", as Telegram answers for a user who never
        wrote to the bot. For an existing user, `started` sets this either way.
        """
        if id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            id = self._next_user_id
            self._next_user_id += 1
        id = int(id)
        if id <= 0:
            raise SandboxError(400, "a user id must be positive")
        user = self.users.get(id) or {"id": id, "is_bot": False, "first_name": f"User{id}"}
        for key, value in (("first_name", first_name), ("last_name", last_name), ("username", username),
                           ("language_code", language_code), ("is_premium", is_premium)):
            if value is not None and value != "":
                user[key] = value
        self.users[id] = user
        chat = {"id": id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self.chats[id] = chat
        if started:
            self.not_started.discard(id)
        else:
            self.not_started.add(id)
            for bot in self.bots.values():
                bot.started.discard(id)
        return dict(user)

    def has_started(self, bot: BotState, user_id: int) -> bool:
        """Whether the bot may write to the user's private chat (see ``create_user``)."""
        return user_id not in self.not_started or user_id in bot.started

    def _user(self, user_id: int) -> dict:
        user = self.users.get(int(user_id))
        return user if user is not None else self.create_user(int(user_id))

    def _group(self, chat_id: int, title: str | None = None) -> dict:
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = "supergroup" if chat_id <= -1000000000000 else "group"
            chat = {"id": chat_id, "type": kind, "title": title or f"Sandbox group {abs(chat_id)}"}
            self.chats[chat_id] = chat
        elif title:
            chat["title"] = title
        return chat

    def block(self, user_id: int) -> dict:
        self._set_blocked(int(user_id), True)
        return {"user_id": int(user_id), "blocked": True}

    def unblock(self, user_id: int) -> dict:
        self._set_blocked(int(user_id), False)
        return {"user_id": int(user_id), "blocked": False}

    def _set_blocked(self, user_id: int, blocked: bool) -> None:
        user = self._user(user_id)
        was = user_id in self.blocked
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        if was == blocked:
            return
        for bot in self.bots.values():
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            new_member: dict[str, Any] = {"user": dict(bot.user), "status": new}
            if new == "kicked":
                new_member["until_date"] = 0
            self.enqueue(bot, "my_chat_member", {
                "chat": dict(self.chats[user_id]), "from": dict(user), "date": timestamp(),
                "old_chat_member": {"user": dict(bot.user), "status": old}, "new_chat_member": new_member,
            })

    def resolve_chat_id(self, value: Any) -> int:
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == value[1:].lower():
                    return chat["id"]
            raise bad_request("chat not found")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def chat(self, chat_id: int) -> dict:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # -- updates and events ------------------------------------------------------------------

    def _update_allowed(self, bot: BotState, kind: str) -> bool:
        allowed = bot.allowed_updates
        return kind in DEFAULT_UPDATE_TYPES if not allowed else kind in allowed

    def enqueue(self, bot: BotState, kind: str, payload: dict) -> dict | None:
        if not self._update_allowed(bot, kind):
            return None
        update = {"update_id": next(self._update_ids), kind: payload}
        bot.updates.append(update)
        self.stats["updates_created"] += 1
        bot.notifier.notify()
        bot.webhook_wakeup.set()
        log.debug("update %s for bot %s: %s", update["update_id"], bot.id, kind)
        return update

    def inject_raw_update(self, payload: dict, token: str | None = None) -> int:
        """Queues `payload` verbatim as an update (whatever it holds, even what no bot can parse,
        and whatever the bot's allowed_updates); the sandbox sets its update_id, returned."""
        if not isinstance(payload, dict):
            raise SandboxError(400, "a raw update must be a JSON object")
        bot = self.bot(token)
        update = {**deep(payload), "update_id": next(self._update_ids)}
        bot.updates.append(update)
        self.stats["updates_created"] += 1
        bot.notifier.notify()
        bot.webhook_wakeup.set()
        log.debug("raw update %s for bot %s", update["update_id"], bot.id)
        return update["update_id"]

    def count_delivered(self, bot: BotState, updates: list[dict]) -> None:
        for update in updates:
            if update["update_id"] > bot.delivered_up_to:
                bot.delivered_up_to = update["update_id"]
                self.stats["updates_delivered"] += 1

    def emit(self, bot: BotState, kind: str, chat_id: int | None, **fields: Any) -> dict:
        self._seq += 1
        event = {"seq": self._seq, "type": kind, "chat_id": chat_id, "bot_id": bot.id, "time": time.time(), **fields}
        self.events.append(event)
        self._events_notifier.notify()
        return event

    @property
    def last_seq(self) -> int:
        return self._seq

    async def wait_events(self, chat_id: int | None = None, after: int | None = None, timeout: float = 0.0,
                          types: list[str] | None = None) -> dict:
        """Events after `after` (all of them if 0; from now on if None), for one chat or all,
        waiting up to `timeout` seconds for at least one: ``{"events": [...], "last": seq}``."""
        if after is None:
            after = self._seq
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            start = bisect.bisect_right(self.events, after, key=lambda e: e["seq"])
            found = [e for e in self.events[start:]
                     if (chat_id is None or e["chat_id"] == chat_id or e.get("user_id") == chat_id)
                     and (not types or e["type"] in types)]
            remaining = deadline - time.monotonic()
            if found or remaining <= 0 or self.closing:
                return {"events": found, "last": self._seq}
            await self._events_notifier.wait(remaining)

    # -- users' side -------------------------------------------------------------------------

    async def user_message(self, user_id: int, text: str | None = None, *, chat_id: int | None = None,
                           token: str | None = None, photo: bytes | None = None, photo_name: str | None = None,
                           document: bytes | None = None, file_name: str | None = None,
                           mime_type: str | None = None, caption: str | None = None,
                           reply_to_message_id: int | None = None, chat_title: str | None = None,
                           extra: dict | None = None) -> dict:
        """A user writes to the bot: the Message is stored and delivered as an Update."""
        bot = self.bot(token)
        user = self._user(user_id)
        chat_id = int(chat_id) if chat_id is not None else user["id"]
        if chat_id > 0 and chat_id != user["id"]:
            raise SandboxError(400, "a private chat's id is its user's id; groups have negative ids")
        chat = self.chats[chat_id] if chat_id > 0 else self._group(chat_id, chat_title)
        chat_log = bot.chat_log(chat_id)
        message: dict[str, Any] = {"message_id": chat_log.next_message_id, "from": dict(user),
                                   "chat": dict(chat), "date": timestamp()}
        if text is not None and text != "":
            if len(text) > TEXT_LIMIT:
                raise SandboxError(400, "message is too long")
            message["text"] = text
            entities = detect_entities(text)
            if entities:
                message["entities"] = entities
        media = False
        if photo is not None:
            message["photo"] = self.files.photo_sizes(self.files.store(photo, "photo", file_name=photo_name,
                                                                       strict_image=False))
            media = True
        if document is not None:
            name = file_name or "file"
            mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            stored = self.files.store(document, "document", file_name=name, mime_type=mime)
            message["document"] = document_of(stored)
            media = True
        if caption:
            if not media:
                raise SandboxError(400, "a caption needs a photo or a document")
            if len(caption) > CAPTION_LIMIT:
                raise SandboxError(400, "message caption is too long")
            message["caption"] = caption
            entities = detect_entities(caption)
            if entities:
                message["caption_entities"] = entities
        if reply_to_message_id is not None:
            replied = chat_log.messages.get(int(reply_to_message_id))
            if replied is None:
                raise SandboxError(404, "message to be replied not found")
            message["reply_to_message"] = {k: v for k, v in deep(replied).items() if k != "reply_to_message"}
        if extra:
            message.update(extra)
        if "text" not in message and not media and not extra:
            raise SandboxError(400, "a message needs text, a photo, a document or extra fields")
        chat_log.next_message_id += 1
        chat_log.messages[message["message_id"]] = message
        self.stats["user_messages"] += 1
        if chat["type"] == "private":
            bot.started.add(user["id"])
        if self._bot_sees(bot, chat, message):
            self.enqueue(bot, "message", deep(message))
        return deep(message)

    def _bot_sees(self, bot: BotState, chat: dict, message: dict) -> bool:
        """Privacy mode: in groups the bot gets commands, mentions of it and replies to it."""
        if chat["type"] == "private" or not self.privacy_mode:
            return True
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities") or message.get("caption_entities") or []:
            part = entity_text(text, entity)
            if entity["type"] == "bot_command":
                _, _, addressee = part.partition("@")
                if not addressee or addressee.lower() == bot.user["username"].lower():
                    return True
            if entity["type"] == "mention" and part[1:].lower() == bot.user["username"].lower():
                return True
        replied = message.get("reply_to_message")
        return bool(replied and replied.get("from", {}).get("id") == bot.id)

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str | None,
                     *, token: str | None = None) -> str:
        """A user presses an inline button (any data: forged data is allowed). Returns the
        callback query id; the query carries the message as it is now."""
        bot = self.bot(token)
        user = self._user(user_id)
        chat_id = int(chat_id)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise SandboxError(404, f"no chat {chat_id}")
        message = bot.chat_log(chat_id).messages.get(int(message_id))
        if message is None:  # deleted or never there: an InaccessibleMessage
            message = {"chat": dict(chat), "message_id": int(message_id), "date": 0}
        query_id = str(secrets.randbelow(9 * 10 ** 18) + 10 ** 18)
        query: dict[str, Any] = {"id": query_id, "from": dict(user), "message": deep(message),
                                 "chat_instance": self._chat_instance(bot, chat_id)}
        if data is not None:
            query["data"] = str(data)
        bot.callback_queries[query_id] = {"query": query, "answer": None, "chat_id": chat_id,
                                          "message_id": int(message_id), "user_id": user["id"], "time": time.time()}
        self.enqueue(bot, "callback_query", query)
        return query_id

    @staticmethod
    def _chat_instance(bot: BotState, chat_id: int) -> str:
        digest = hashlib.sha256(f"{bot.id}:{chat_id}".encode()).digest()
        return str(int.from_bytes(digest[:8], "big") - 2 ** 63)

    def inline_query(self, user_id: int, query: str, *, token: str | None = None, offset: str = "",
                     chat_type: str | None = "sender") -> str:
        bot = self.bot(token)
        user = self._user(user_id)
        query_id = str(secrets.randbelow(9 * 10 ** 18) + 10 ** 18)
        payload: dict[str, Any] = {"id": query_id, "from": dict(user), "query": query or "", "offset": offset or ""}
        if chat_type:
            payload["chat_type"] = chat_type
        bot.inline_queries[query_id] = {"query": payload, "answer": None, "user_id": user["id"], "time": time.time()}
        self.enqueue(bot, "inline_query", payload)
        return query_id

    async def wait_answer(self, kind: str, query_id: str, timeout: float = 0.0, token: str | None = None) -> dict:
        """The bot's answer to a callback query or inline query (`kind` "callback"/"inline")."""
        bot = self.bot(token)
        store = bot.callback_queries if kind == "callback" else bot.inline_queries
        if query_id not in store:
            raise SandboxError(404, f"no such query {query_id}")
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            answer = store[query_id]["answer"]
            remaining = deadline - time.monotonic()
            if answer is not None or remaining <= 0 or self.closing:
                return {"id": query_id, "answered": answer is not None, "answer": deep(answer)}
            await bot.answers.wait(remaining)

    def chat_messages(self, chat_id: int, token: str | None = None) -> list[dict]:
        bot = self.bot(token)
        chat_log = bot.chats.get(int(chat_id))
        return [deep(m) for m in chat_log.messages.values()] if chat_log else []

    def chat_info(self, chat_id: int, token: str | None = None) -> dict:
        bot = self.bot(token)
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise SandboxError(404, f"no chat {chat_id}")
        chat_log = bot.chats.get(int(chat_id))
        return {"chat": dict(chat), "keyboard": deep(chat_log.keyboard) if chat_log else None,
                "message_count": len(chat_log.messages) if chat_log else 0,
                "blocked": int(chat_id) in self.blocked, "started": self.has_started(bot, int(chat_id))}

    def commands_for(self, token: str | None = None, language_code: str = "", scope: Any = None,
                     user_id: int | None = None) -> list[dict]:
        """The bot's commands. With `scope` (a type name or a scope dict): exactly what
        setMyCommands stored for (scope, language_code). Without: what a user sees in a
        private chat (their chat scope, then all_private_chats, then default; each in
        `language_code`, then without one)."""
        bot = self.bot(token)
        language_code = language_code or ""
        if scope:
            if isinstance(scope, str):
                scope = json.loads(scope) if scope.strip().startswith("{") else {"type": scope}
            return deep(bot.commands.get((scope_key(scope), language_code), []))
        scopes = []
        if user_id is not None:
            scopes.append({"type": "chat", "chat_id": int(user_id)})
        scopes += [{"type": "all_private_chats"}, {"type": "default"}]
        for candidate in scopes:
            for language in dict.fromkeys([language_code, ""]):
                commands = bot.commands.get((scope_key(candidate), language))
                if commands:
                    return deep(commands)
        return []

    def webhook_info(self, token: str | None = None) -> dict:
        bot = self.bot(token)
        return {**bot.webhook_info(), "token": bot.token, "secret_token": (bot.webhook or {}).get("secret_token")}

    def stats_snapshot(self) -> dict:
        stats = {key: (dict(value) if isinstance(value, Counter) else value) for key, value in self.stats.items()}
        stats["sent_per_chat"] = {str(k): v for k, v in self.stats["sent_per_chat"].items()}
        stats["errors"] = {str(k): v for k, v in self.stats["errors"].items()}
        stats["pending_updates"] = sum(len(b.updates) for b in self.bots.values())
        stats["bots"] = len(self.bots)
        stats["bots_listening"] = sum(bot.listening() for bot in self.bots.values())
        stats["users"] = len(self.users)
        stats["events"] = self._seq
        return stats

    def add_fault(self, method: str = "*", kind: str = "500", count: int | None = 1, chat_id: int | None = None,
                  retry_after: int = 1, delay: float | None = None, description: str | None = None) -> dict:
        kind = str(kind)
        if kind not in Fault.KINDS:
            raise SandboxError(400, f"unknown fault kind {kind!r}; one of {', '.join(Fault.KINDS)}")
        fault = Fault(method=method or "*", kind=kind, count=None if count is None else int(count),
                      chat_id=None if chat_id is None else int(chat_id), retry_after=int(retry_after),
                      delay=30.0 if delay is None else float(delay), description=description,
                      id=next(self._fault_ids))
        self.faults.append(fault)
        return fault.to_dict()

    def file_bytes(self, file_id: str) -> StoredFile:
        return self.files.bytes_of(file_id)

    def download(self, token: str, file_path: str) -> StoredFile:
        """A file the bot downloads (``/file/bot{token}/{file_path}``)."""
        self.bot_for_token(token)
        return self.files.download(file_path)

    def clear_faults(self) -> int:
        removed = len(self.faults)
        self.faults.clear()
        return removed

    async def apply_fault(self, method: str, chat_id: Any) -> None:
        """The first fault matching a call of `method` (with the raw `chat_id` parameter), used
        up by one: raises its error (a "timeout" fault holds the call `delay` seconds first)."""
        for fault in list(self.faults):
            if fault.method != "*" and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None:
                try:
                    if self.resolve_chat_id(chat_id) != fault.chat_id:
                        continue
                except ApiError:
                    continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            self.stats["faults_triggered"] += 1
            log.debug("fault %s on %s", fault.kind, method)
            if fault.kind == "429":
                raise too_many_requests(fault.retry_after)
            if fault.kind == "500":
                raise ApiError(500, "Internal Server Error")
            if fault.kind == "502":
                raise ApiError(502, "Bad Gateway")
            if fault.kind == "504":
                raise ApiError(504, "Gateway Timeout")
            if fault.kind == "timeout":
                await self.sleep(fault.delay)
                raise ApiError(504, "Gateway Timeout")
            if fault.kind == "403_blocked":
                raise blocked_error()
            raise ApiError(400, fault.description or "Bad Request: injected fault")

    def set_limits(self, **changes: Any) -> dict:
        names = {f.name for f in dataclasses.fields(Limits)}
        for key, value in changes.items():
            if key not in names:
                raise SandboxError(400, f"unknown limit {key!r}; known: {', '.join(sorted(names))}")
            setattr(self.limits, key, bool(value) if key == "enforce" else float(value))
        self._buckets.clear()
        return self.limits.to_dict()

    def check_flood(self, bot: BotState, chat: dict, n: int = 1) -> None:
        """Telegram's flood limits, when enforced: 429 with retry_after, else `n` sends counted."""
        if not self.limits.enforce:
            return
        limits = self.limits
        buckets = [self._bucket(("global", bot.id), limits.global_per_second, limits.global_burst)]
        if chat["type"] == "private":
            buckets.append(self._bucket(("chat", bot.id, chat["id"]), limits.private_per_second, limits.private_burst))
        else:
            buckets.append(self._bucket(("chat", bot.id, chat["id"]), limits.group_per_minute / 60.0, limits.group_burst))
        wait = max(bucket.wait_time(n) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(math.ceil(wait))
        for bucket in buckets:
            bucket.take(n)

    def _bucket(self, key: Any, rate: float, burst: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst)
        return bucket


def scope_key(scope: dict) -> str:
    """The key of a BotCommandScope in a bot's commands."""
    scope = {k: v for k, v in scope.items() if v is not None}
    for key in ("chat_id", "user_id"):
        if key in scope and isinstance(scope[key], str) and scope[key].lstrip("-").isdigit():
            scope[key] = int(scope[key])
    return json.dumps(scope, sort_keys=True)
