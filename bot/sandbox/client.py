"""The users' side of the sandbox, over HTTP: what tests, benchmarks and the terminal chat use.

Every method returns plain JSON data shaped like Telegram's objects:

- a *user* is a User dict (``id``, ``is_bot``, ``first_name``, ``language_code`` ...);
- a *message* is a Message dict (``message_id``, ``chat``, ``from``, ``date``, ``text`` or
  ``photo``/``document`` + ``caption``, ``entities``, ``reply_markup`` ...), as the bot sees it;
- an *event* is something the bot did that users see: ``{"seq", "type", "chat_id", "time", ...}``
  with ``type`` one of ``message``, ``edit`` (both with the full current ``message``),
  ``callback_answer`` (``callback_query_id``, ``text``, ``show_alert``, ``url``) and
  ``inline_answer`` (``results``).
  A ``message`` event may also carry ``keyboard`` (a reply keyboard the bot set) or
  ``remove_keyboard``.

Only what was delivered is recorded: a send that failed (403 blocked, 400 chat not found,
429, an injected fault) leaves no message in the chat, no event and no count in
``sent_per_chat``; so a chat's ``message`` events are what its user really received (its
errors are counted in ``stats()["errors"]``).

Errors of the sandbox raise SandboxClientError (``status``, ``message``).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any, Callable

import httpx


class SandboxClientError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _read(source: bytes | bytearray | str | Path) -> tuple[bytes, str | None]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), None
    path = Path(source)
    return path.read_bytes(), path.name


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    """An async client of a running sandbox's users' side (``/sandbox/...``).

    `token` picks the bot when several use the sandbox; by default the sandbox's default bot
    (the first that called the Bot API).
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, trust_env=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "SandboxClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # -- plumbing ----------------------------------------------------------------------------

    async def _request(self, verb: str, path: str, *, json: dict | None = None, params: dict | None = None,
                       timeout: float | None = None, raw: bool = False) -> Any:
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        response = await self._http.request(verb, path, json=json, params=params,
                                            timeout=timeout if timeout is not None else self.timeout)
        if response.status_code >= 400:
            try:
                message = response.json().get("error") or response.json().get("description") or response.text
            except ValueError:
                message = response.text
            raise SandboxClientError(response.status_code, message)
        if raw:
            return response.content
        return response.json()

    def _body(self, **fields: Any) -> dict:
        body = {k: v for k, v in fields.items() if v is not None}
        if self.token and "token" not in body:
            body["token"] = self.token
        return body

    def _query(self, **fields: Any) -> dict:
        return self._body(**fields)

    # -- users -------------------------------------------------------------------------------

    async def health(self) -> dict:
        return await self._request("GET", "/sandbox/health")

    async def create_user(self, id: int | None = None, first_name: str = "Test", last_name: str | None = None,
                          username: str | None = None, language_code: str | None = None,
                          is_premium: bool | None = None, started: bool = True) -> dict:
        """A Telegram user (an existing id is updated); returns the User dict.

        ``started=False``: a user who has not opened the bot; until they write to it in their
        private chat, the bot's sends there get 400 "Bad Request: chat not found"."""
        return await self._request("POST", "/sandbox/users", json={
            k: v for k, v in dict(id=id, first_name=first_name, last_name=last_name, username=username,
                                  language_code=language_code, is_premium=is_premium,
                                  started=started).items() if v is not None})

    async def users(self) -> list[dict]:
        return await self._request("GET", "/sandbox/users")

    async def block(self, user_id: int) -> dict:
        """The user blocks the bot: sends to their chat get 403 until `unblock`."""
        return await self._request("POST", f"/sandbox/users/{int(user_id)}/block")

    async def unblock(self, user_id: int) -> dict:
        return await self._request("POST", f"/sandbox/users/{int(user_id)}/unblock")

    # -- what users do -----------------------------------------------------------------------

    async def send(self, user_id: int, text: str, chat_id: int | None = None, *,
                   reply_to_message_id: int | None = None, chat_title: str | None = None,
                   extra: dict | None = None) -> dict:
        """The user sends a text message (to their private chat, or a group: negative
        `chat_id`); returns the Message as delivered to the bot."""
        return await self._request("POST", "/sandbox/messages", json=self._body(
            user_id=user_id, text=text, chat_id=chat_id, reply_to_message_id=reply_to_message_id,
            chat_title=chat_title, extra=extra))

    async def send_photo(self, user_id: int, photo: bytes | str | Path, caption: str | None = None, *,
                         chat_id: int | None = None, file_name: str | None = None,
                         reply_to_message_id: int | None = None) -> dict:
        """The user sends a photo (bytes or a path) with an optional caption; returns the Message."""
        data, name = _read(photo)
        return await self._request("POST", "/sandbox/messages", json=self._body(
            user_id=user_id, chat_id=chat_id, caption=caption, reply_to_message_id=reply_to_message_id,
            photo={"data": _b64(data), "file_name": file_name or name}))

    async def send_document(self, user_id: int, document: bytes | str | Path, *, file_name: str | None = None,
                            mime_type: str | None = None, caption: str | None = None, chat_id: int | None = None,
                            reply_to_message_id: int | None = None) -> dict:
        """The user sends a file (bytes or a path); returns the Message."""
        data, name = _read(document)
        return await self._request("POST", "/sandbox/messages", json=self._body(
            user_id=user_id, chat_id=chat_id, caption=caption, reply_to_message_id=reply_to_message_id,
            document={"data": _b64(data), "file_name": file_name or name or "file", "mime_type": mime_type}))

    async def inject_raw_update(self, payload: dict) -> int:
        """Queue `payload` verbatim as an update for the bot, whatever it holds (even what the
        bot cannot parse, e.g. ``{"message": {"message_id": "x", "date": "not-a-date", "chat": 5}}``)
        and whatever its allowed_updates; the sandbox sets ``update_id``, returned. Delivered
        by getUpdates or the webhook like any update."""
        result = await self._request("POST", "/sandbox/raw_updates", json=payload, params=self._query())
        return result["update_id"]

    async def press(self, user_id: int, message: dict | tuple[int, int] | int, data: str | None, *,
                    chat_id: int | None = None) -> str:
        """The user presses an inline button of `message` (a Message dict, ``(chat_id,
        message_id)``, or a message id in `chat_id`, default the user's chat) carrying `data`
        (any data: forged data is allowed). Returns the callback query id."""
        if isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        elif isinstance(message, tuple):
            chat_id, message_id = message
        else:
            message_id = int(message)
            chat_id = chat_id if chat_id is not None else user_id
        result = await self._request("POST", "/sandbox/callbacks", json=self._body(
            user_id=user_id, chat_id=chat_id, message_id=message_id, data=data))
        return result["callback_query_id"]

    async def callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> dict:
        """``{"id", "answered", "answer": {"text", "show_alert", "url", "cache_time"} | None}``,
        waiting up to `timeout` seconds for the bot's answerCallbackQuery."""
        return await self._request("GET", f"/sandbox/callbacks/{callback_query_id}",
                                   params=self._query(timeout=timeout), timeout=timeout + self.timeout)

    async def inline_query(self, user_id: int, query: str, *, offset: str = "", wait: bool = True,
                           timeout: float = 10.0) -> dict:
        """The user types ``@bot query``. ``{"inline_query_id", "answered", "answer": {"results",
        "cache_time", "is_personal", "next_offset", "button"} | None}``; with `wait`, after the
        bot's answerInlineQuery (or `timeout`)."""
        result = await self._request("POST", "/sandbox/inline_queries", json=self._body(
            user_id=user_id, query=query, offset=offset))
        query_id = result["inline_query_id"]
        if not wait:
            return {"inline_query_id": query_id, "answered": False, "answer": None}
        answer = await self._request("GET", f"/sandbox/inline_queries/{query_id}",
                                     params=self._query(timeout=timeout), timeout=timeout + self.timeout)
        return {"inline_query_id": query_id, "answered": answer["answered"], "answer": answer["answer"]}

    # -- what the bot did --------------------------------------------------------------------

    async def events(self, chat_id: int | None = None, after: int | None = None, timeout: float = 0.0,
                     types: list[str] | None = None) -> dict:
        """``{"events": [...], "last": seq}``: the bot's events after `after` (0: all; None: from
        now), in one chat or all; waits up to `timeout` seconds for at least one."""
        return await self._request("GET", "/sandbox/events", params=dict(
            chat_id=chat_id, after=after, timeout=timeout, types=",".join(types) if types else None),
            timeout=timeout + self.timeout)

    async def last_seq(self) -> int:
        """The current event sequence number: pass it as `after` to see only what follows."""
        return (await self.events(after=None, timeout=0))["last"]

    async def wait_for_reply(self, chat_id: int, after_seq: int, timeout: float = 10.0,
                             predicate: Callable[[dict], bool] | None = None, settle: float = 0.3) -> list[dict]:
        """The bot's next ``message``/``edit`` events in `chat_id` after `after_seq`: waits for
        the first one (matching `predicate`, if given), then gathers those that follow within
        `settle` seconds. Raises TimeoutError if none comes within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor = after_seq
        found: list[dict] = []
        while True:
            remaining = deadline - loop.time()
            wait = min(settle, remaining) if found else remaining
            if wait <= 0:
                break
            batch = await self.events(chat_id=chat_id, after=cursor, timeout=wait, types=["message", "edit"])
            cursor = batch["last"]
            fresh = [e for e in batch["events"] if predicate is None or predicate(e)]
            if fresh:
                found.extend(fresh)
            elif found:
                break
        if not found:
            raise TimeoutError(f"the bot did not reply in chat {chat_id} within {timeout} s")
        return found

    async def messages(self, chat_id: int) -> list[dict]:
        """The chat's messages now (both sides, after edits and deletes), oldest first."""
        return await self._request("GET", f"/sandbox/chats/{int(chat_id)}/messages", params=self._query())

    async def chat(self, chat_id: int) -> dict:
        """``{"chat", "keyboard" (the current reply keyboard), "message_count", "blocked", "started"}``."""
        return await self._request("GET", f"/sandbox/chats/{int(chat_id)}", params=self._query())

    async def commands(self, language_code: str = "", scope: str | dict | None = None,
                       user_id: int | None = None, token: str | None = None) -> list[dict]:
        """The bot's commands: for `scope` (e.g. "default", or a scope dict) exactly as stored
        for `language_code`; without `scope`, what a user (with `user_id`) sees in a private chat."""
        import json as _json

        token = token or self.token or "default"
        scope_param = _json.dumps(scope) if isinstance(scope, dict) else scope
        return await self._request("GET", f"/sandbox/bots/{token}/commands",
                                   params={"language_code": language_code, "scope": scope_param, "user_id": user_id})

    async def webhook(self) -> dict:
        """getWebhookInfo of the bot, plus ``secret_token``."""
        return await self._request("GET", "/sandbox/webhook", params=self._query())

    async def download(self, file_id: str) -> bytes:
        """The bytes of any file in the sandbox (sent by the bot or by a user)."""
        return await self._request("GET", f"/sandbox/files/{file_id}", raw=True)

    # -- the sandbox itself ------------------------------------------------------------------

    async def stats(self) -> dict:
        """``{"calls": {method: n}, "errors": {code: n}, "sent_messages", "errors_429",
        "updates_created", "updates_delivered", "sent_per_chat": {chat_id: n}, "edits", "deletes",
        "callback_answers", "faults_triggered", "pending_updates", "first_sent_at", ...}``."""
        return await self._request("GET", "/sandbox/stats")

    async def inject_fault(self, method: str = "*", kind: str = "500", count: int | None = 1, *,
                           chat_id: int | None = None, retry_after: int = 1, delay: float | None = None,
                           description: str | None = None) -> dict:
        """The next `count` calls of `method` ("*": any) fail with `kind`: "429" (with
        `retry_after`), "500", "502", "504", "timeout" (held `delay` s, default 30, then 504),
        "403_blocked", or "400" (with `description`). `count=None`: until cleared."""
        body: dict[str, Any] = {"method": method, "kind": str(kind), "count": count, "retry_after": retry_after}
        for key, value in (("chat_id", chat_id), ("delay", delay), ("description", description)):
            if value is not None:
                body[key] = value
        return await self._request("POST", "/sandbox/faults", json=body)

    async def faults(self) -> list[dict]:
        return await self._request("GET", "/sandbox/faults")

    async def clear_faults(self) -> int:
        return (await self._request("DELETE", "/sandbox/faults"))["removed"]

    async def set_limits(self, enforce: bool = True, **limits: float) -> dict:
        """Telegram's flood limits on or off; also `global_per_second`, `global_burst`,
        `private_per_second`, `private_burst`, `group_per_minute`, `group_burst`, `latency`."""
        return await self._request("POST", "/sandbox/limits", json={"enforce": enforce, **limits})

    async def limits(self) -> dict:
        return await self._request("GET", "/sandbox/limits")

    async def set_privacy_mode(self, enabled: bool) -> dict:
        """Privacy mode (on by default): in groups the bot only gets commands, mentions and replies."""
        return await self._request("POST", "/sandbox/settings", json={"privacy_mode": enabled})

    async def reset(self) -> None:
        """Forget all bots, users, chats, files, events, faults and stats (limits stay)."""
        await self._request("POST", "/sandbox/reset")
