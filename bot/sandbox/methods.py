"""The Bot API methods the sandbox answers, in one table: ``METHODS`` maps each method's name
to its function ``(sandbox, bot, params) -> result``; ``call`` is one Bot API call.

Only what the bot and its tests use is here: getMe; getUpdates and the webhook (setWebhook,
deleteWebhook, getWebhookInfo); sendMessage, sendPhoto, sendDocument; editMessageText,
editMessageReplyMarkup; deleteMessage, deleteMessages (private chats: the bot's and the user's);
answerCallbackQuery, answerInlineQuery; setMyCommands; getFile. Any
other method answers 404, as Telegram does for a method it does not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from bot.sandbox.entities import CAPTION_LIMIT, TEXT_LIMIT, format_text
from bot.sandbox.errors import ApiError, bad_request, blocked_error
from bot.sandbox.files import DOWNLOAD_LIMIT, Upload, document_of
from bot.sandbox.state import BotState, Sandbox, deep, scope_key, timestamp

log = logging.getLogger(__name__)

CALLBACK_DATA_LIMIT = 64
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
# Methods that write to a chat: a blocked user answers these with 403, one who has not opened
# the bot with 400 "chat not found".
CHAT_WRITE_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup",
})
COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
BUTTON_ACTIONS = ("callback_data", "url", "login_url", "switch_inline_query",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                  "callback_game", "pay", "web_app", "copy_text")


class Params:
    """The parameters of one Bot API call: query string, form fields, JSON body and file parts.

    Form values are strings (PTB JSON-encodes non-string values); a JSON body gives typed
    values. The accessors accept both.
    """

    def __init__(self, values: dict[str, Any] | None = None, uploads: dict[str, Upload] | None = None):
        self.values = dict(values or {})
        self.uploads = dict(uploads or {})
        self.description: str | None = None  # an optional "description" of a successful answer

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.uploads

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(float(value)) if isinstance(value, float) else int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be a valid Number') from None

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a valid Number') from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes", "on")

    def json(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """A file parameter: an uploaded part, ``attach://<part>``, a file_id or a URL."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.str(name)
        if value is None or value == "":
            return None
        if value.startswith("attach://"):
            part = value[len("attach://"):]
            if part not in self.uploads:
                raise bad_request(f"can't find attached file \"{part}\"")
            return self.uploads[part]
        return value



async def call(sandbox: Sandbox, token: str, method: str, params: dict | Params | None = None,
               uploads: dict[str, Upload] | None = None) -> tuple[Any, str | None]:
    """One Bot API call: ``(result, description)``, or ApiError."""
    try:
        bot = sandbox.bot_for_token(token)
    except ApiError:
        sandbox.stats["errors"][401] += 1
        raise
    name = _NAMES.get(method.lower())
    if name is None:
        sandbox.stats["calls"][method] += 1
        sandbox.stats["errors"][404] += 1
        raise ApiError(404, "Not Found")
    bot.active = True
    sandbox.stats["calls"][name] += 1
    p = params if isinstance(params, Params) else Params(params, uploads)
    try:
        if sandbox.limits.latency > 0:
            await sandbox.sleep(sandbox.limits.latency)
        await sandbox.apply_fault(name, p.values.get("chat_id"))
        result = await METHODS[name](sandbox, bot, p)
    except ApiError as exc:
        sandbox.stats["errors"][exc.code] += 1
        if exc.code == 429:
            sandbox.stats["errors_429"] += 1
        log.debug("%s -> %s %s", name, exc.code, exc.description)
        raise
    return result, p.description

def target_chat(sandbox: Sandbox, bot: BotState, p: Params, method: str) -> dict:
    """The chat a method writes to: 400 "chat not found" for a user who has not opened the bot
    (see ``Sandbox.create_user``), 403 for one who blocked it."""
    chat = sandbox.chat(sandbox.resolve_chat_id(p.values.get("chat_id")))
    if chat["type"] == "private" and method in CHAT_WRITE_METHODS:
        if not sandbox.has_started(bot, chat["id"]):
            raise bad_request("chat not found")
        if chat["id"] in sandbox.blocked:
            raise blocked_error()
    return chat

async def get_me(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    return bot.get_me()


# updates

async def get_updates(sandbox: Sandbox, bot: BotState, p: Params) -> list[dict]:
    if bot.webhook:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
    offset = p.int("offset", 0)
    limit = min(100, max(1, p.int("limit", 100)))
    timeout = max(0.0, p.float("timeout", 0.0))
    allowed = p.json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = [str(a) for a in allowed] if isinstance(allowed, list) else None
    if offset > 0:
        bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
    elif offset < 0:
        bot.updates = bot.updates[offset:]
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.notifier.notify()  # an older long poll of this bot ends with 409
    deadline = time.monotonic() + timeout
    bot.polls_in_flight += 1
    try:
        while True:
            if generation != bot.poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            if bot.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            remaining = deadline - time.monotonic()
            if bot.updates or remaining <= 0 or sandbox.closing:
                break
            await bot.notifier.wait(remaining)
    finally:
        bot.polls_in_flight -= 1
        bot.last_poll_at = time.monotonic()
    result = bot.updates[:limit]
    sandbox.count_delivered(bot, result)
    return deep(result)

async def set_webhook(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    url = (p.str("url") or "").strip()
    if not url:
        return await delete_webhook(sandbox, bot, p)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.str("secret_token")
    if secret and not SECRET_TOKEN_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = p.json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = [str(a) for a in allowed] if isinstance(allowed, list) else None
    if p.bool("drop_pending_updates"):
        bot.updates.clear()
    was = bot.webhook
    bot.webhook = {"url": url, "secret_token": secret or None, "max_connections": p.int("max_connections", 40),
                   "ip_address": p.str("ip_address")}
    bot.webhook_error = None
    if bot.webhook_task is None or bot.webhook_task.done():
        bot.webhook_task = asyncio.create_task(deliver_webhook(sandbox, bot))
    bot.webhook_wakeup.set()
    bot.notifier.notify()
    p.description = "Webhook is already set" if was and was["url"] == url else "Webhook was set"
    return True

async def delete_webhook(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    was = bot.webhook
    await bot.stop_webhook()
    if p.bool("drop_pending_updates"):
        bot.updates.clear()
    p.description = "Webhook was deleted" if was else "Webhook is already deleted"
    return True

async def get_webhook_info(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    return bot.webhook_info()

async def deliver_webhook(sandbox: Sandbox, bot: BotState) -> None:
    """POSTs pending updates to the webhook, one at a time and in order, retrying with
    backoff until the bot's server answers 2xx."""
    backoff = sandbox.webhook_retry[0]
    while bot.webhook and not sandbox.closing:
        if not bot.updates:
            bot.webhook_wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(bot.webhook_wakeup.wait(), 1.0)
            continue
        update = bot.updates[0]
        hook = bot.webhook
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        error = None
        reply: Any = None
        try:
            async with sandbox.session().post(hook["url"], data=json.dumps(update, ensure_ascii=False).encode(),
                                              headers=headers) as response:
                body = await response.read()
                if 200 <= response.status < 300:
                    with contextlib.suppress(ValueError):
                        reply = json.loads(body) if body.strip() else None
                else:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connection refused, timeout, ...
            error = f"Connection failed: {exc.__class__.__name__}" if not str(exc) else str(exc)
        if error is None:
            if bot.updates and bot.updates[0] is update:
                bot.updates.pop(0)
            sandbox.count_delivered(bot, [update])
            sandbox.stats["webhook_deliveries"] += 1
            backoff = sandbox.webhook_retry[0]
            if isinstance(reply, dict) and reply.get("method"):
                params = {k: v for k, v in reply.items() if k != "method"}
                with contextlib.suppress(ApiError):
                    await call(sandbox, bot.token, str(reply["method"]), params)
            continue
        sandbox.stats["webhook_failures"] += 1
        bot.webhook_error = (timestamp(), error)
        log.debug("webhook delivery failed: %s", error)
        bot.webhook_wakeup.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(bot.webhook_wakeup.wait(), backoff)
        backoff = min(backoff * 2, sandbox.webhook_retry[1])


# messages

def reply_markup(p: Params) -> dict | None:
    markup = p.json("reply_markup", "reply keyboard markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                if not any(key in button for key in BUTTON_ACTIONS):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the "
                                      "inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = str(button["url"])
                    scheme = urlsplit(url).scheme
                    if scheme not in ("http", "https", "tg") or (scheme != "tg" and not urlsplit(url).hostname):
                        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if count > 100:
            raise bad_request("REPLY_MARKUP_TOO_LONG")
        return {"inline_keyboard": [[dict(b) for b in row] for row in rows]}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse keyboard button: KeyboardButton must be a String or an Object")
        normalized = [[{"text": b} if isinstance(b, str) else dict(b) for b in row] for row in rows]
        if any(not isinstance(b.get("text"), str) or not b["text"] for row in normalized for b in row):
            raise bad_request("can't parse keyboard button: Field \"text\" must be of type String")
        return {**markup, "keyboard": normalized}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return dict(markup)
    raise bad_request("can't find field \"inline_keyboard\"")

def replied_message(sandbox: Sandbox, bot: BotState, p: Params, chat: dict) -> dict | None:
    parameters = p.json("reply_parameters")
    if parameters is None and p.has("reply_to_message_id"):
        parameters = {"message_id": p.int("reply_to_message_id"),
                      "allow_sending_without_reply": p.bool("allow_sending_without_reply")}
    if not parameters:
        return None
    if not isinstance(parameters, dict) or "message_id" not in parameters:
        raise bad_request("can't parse reply parameters JSON object")
    chat_id = chat["id"]
    if parameters.get("chat_id") not in (None, ""):
        chat_id = sandbox.resolve_chat_id(parameters["chat_id"])
    replied = bot.chat_log(chat_id).messages.get(int(parameters["message_id"]))
    if replied is None:
        if parameters.get("allow_sending_without_reply") in (True, "true"):
            return None
        raise bad_request("message to be replied not found")
    result = {k: v for k, v in deep(replied).items() if k != "reply_to_message"}
    quote = parameters.get("quote")
    if quote:
        if quote not in (replied.get("text") or replied.get("caption") or ""):
            raise bad_request("quote not found")
        result["_quote"] = {"text": quote, "position": parameters.get("quote_position", 0), "is_manual": True}
    return result

def new_message(sandbox: Sandbox, bot: BotState, chat: dict, content: dict, p: Params, *,
                markup: dict | None = None, reply_to: dict | None = None) -> dict:
    """A message of the bot, delivered: stored in the chat, counted, and a "message" event."""
    chat_log = bot.chat_log(chat["id"])
    message: dict[str, Any] = {"message_id": chat_log.next_message_id, "from": dict(bot.user),
                               "chat": dict(chat), "date": timestamp()}
    chat_log.next_message_id += 1
    if reply_to is not None:
        quote = reply_to.pop("_quote", None)
        message["reply_to_message"] = reply_to
        if quote:
            message["quote"] = quote
    message.update(content)
    if p.has("message_thread_id"):
        message["message_thread_id"] = p.int("message_thread_id")
    if p.bool("protect_content"):
        message["has_protected_content"] = True
    if p.has("message_effect_id"):
        message["effect_id"] = p.str("message_effect_id")
    keyboard_event: dict[str, Any] = {}
    if markup and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    elif markup and "keyboard" in markup:
        chat_log.keyboard = markup
        keyboard_event["keyboard"] = deep(markup)
    elif markup and markup.get("remove_keyboard"):
        chat_log.keyboard = None
        keyboard_event["remove_keyboard"] = True
    elif markup and markup.get("force_reply"):
        keyboard_event["force_reply"] = deep(markup)
    chat_log.messages[message["message_id"]] = message
    now = time.time()
    sandbox.stats["sent_messages"] += 1
    sandbox.stats["sent_per_chat"][chat["id"]] += 1
    sandbox.stats["first_sent_at"] = sandbox.stats["first_sent_at"] or now
    sandbox.stats["last_sent_at"] = now
    sandbox.emit(bot, "message", chat["id"], message_id=message["message_id"], message=deep(message),
                 **keyboard_event)
    return deep(message)

def text_content(p: Params) -> dict:
    text, entities = format_text(p.str("text"), p.str("parse_mode"), p.json("entities"), limit=TEXT_LIMIT)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    options = p.json("link_preview_options")
    if options is None and p.bool("disable_web_page_preview"):
        options = {"is_disabled": True}
    if isinstance(options, dict) and options:
        content["link_preview_options"] = options
    return content

def caption_content(p: Params) -> dict:
    caption, entities = format_text(p.str("caption"), p.str("parse_mode"), p.json("caption_entities"),
                                    limit=CAPTION_LIMIT, caption=True)
    content: dict[str, Any] = {}
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    if p.bool("show_caption_above_media"):
        content["show_caption_above_media"] = True
    return content

async def send_message(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    chat = target_chat(sandbox, bot, p, "sendMessage")
    content = text_content(p)
    markup = reply_markup(p)
    reply_to = replied_message(sandbox, bot, p, chat)
    sandbox.check_flood(bot, chat)
    return new_message(sandbox, bot, chat, content, p, markup=markup, reply_to=reply_to)

async def send_photo(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    chat = target_chat(sandbox, bot, p, "sendPhoto")
    content = caption_content(p)
    markup = reply_markup(p)
    reply_to = replied_message(sandbox, bot, p, chat)
    sandbox.check_flood(bot, chat)
    stored = await sandbox.files.input_file(p.file("photo"), "photo", "photo")
    if p.bool("has_spoiler"):
        content["has_media_spoiler"] = True
    content = {"photo": sandbox.files.photo_sizes(stored), **content}
    return new_message(sandbox, bot, chat, content, p, markup=markup, reply_to=reply_to)

async def send_document(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    chat = target_chat(sandbox, bot, p, "sendDocument")
    content = caption_content(p)
    markup = reply_markup(p)
    reply_to = replied_message(sandbox, bot, p, chat)
    sandbox.check_flood(bot, chat)
    stored = await sandbox.files.input_file(p.file("document"), "document", "document")
    content = {"document": document_of(stored), **content}
    return new_message(sandbox, bot, chat, content, p, markup=markup, reply_to=reply_to)

def editable(sandbox: Sandbox, bot: BotState, p: Params, method: str) -> tuple[dict, dict]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = target_chat(sandbox, bot, p, method)
    message_id = p.int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = bot.chat_log(chat["id"]).messages.get(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.get("from", {}).get("id") != bot.id:
        raise bad_request("message can't be edited")
    return chat, message

def apply_edit(sandbox: Sandbox, bot: BotState, chat: dict, message: dict, changes: dict, markup: dict | None) -> dict:
    new_markup = markup if markup and "inline_keyboard" in markup else None
    if all(message.get(k) == v for k, v in changes.items()) and message.get("reply_markup") == new_markup:
        raise bad_request("message is not modified: specified new message content and reply markup are "
                          "exactly the same as a current content and reply markup of the message")
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    if new_markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = new_markup
    message["edit_date"] = timestamp()
    sandbox.stats["edits"] += 1
    sandbox.emit(bot, "edit", chat["id"], message_id=message["message_id"], message=deep(message))
    return deep(message)

async def edit_message_text(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    chat, message = editable(sandbox, bot, p, "editMessageText")
    content = text_content(p)
    markup = reply_markup(p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    changes = {"text": content["text"], "entities": content.get("entities")}
    if "link_preview_options" in content:
        changes["link_preview_options"] = content["link_preview_options"]
    return apply_edit(sandbox, bot, chat, message, changes, markup)

async def edit_message_reply_markup(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    chat, message = editable(sandbox, bot, p, "editMessageReplyMarkup")
    markup = reply_markup(p)
    return apply_edit(sandbox, bot, chat, message, {}, markup)


# queries

def _forget_message(sandbox: Sandbox, bot: BotState, chat: dict, message_id: int) -> bool:
    """In a private chat a bot may delete its own messages and the user's (Telegram: within 48 hours)."""
    if bot.chat_log(chat["id"]).messages.pop(message_id, None) is None:
        return False
    sandbox.emit(bot, "delete", chat["id"], message_id=message_id)
    return True


async def delete_message(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    chat = target_chat(sandbox, bot, p, "deleteMessage")
    message_id = p.int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    if not _forget_message(sandbox, bot, chat, message_id):
        raise bad_request("message to delete not found")
    return True


async def delete_messages(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    """Up to 100 messages at once; those not found are skipped, as Telegram does."""
    chat = target_chat(sandbox, bot, p, "deleteMessages")
    ids = p.json("message_ids", "message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a list of 1-100 message identifiers")
    for message_id in ids:
        _forget_message(sandbox, bot, chat, int(message_id))
    return True


async def answer_callback_query(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    query_id = p.str("callback_query_id")
    entry = bot.callback_queries.get(query_id or "")
    if entry is None or entry["answer"] is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    answer = {"text": p.str("text"), "show_alert": p.bool("show_alert"), "url": p.str("url"),
              "cache_time": p.int("cache_time", 0)}
    entry["answer"] = answer
    sandbox.stats["callback_answers"] += 1
    sandbox.emit(bot, "callback_answer", entry["chat_id"], callback_query_id=query_id, user_id=entry["user_id"],
                 message_id=entry["message_id"], data=entry["query"].get("data"), **answer)
    bot.answers.notify()
    return True

async def answer_inline_query(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    query_id = p.str("inline_query_id")
    entry = bot.inline_queries.get(query_id or "")
    if entry is None or entry["answer"] is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    results = p.json("results")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    seen = set()
    for result in results:
        if not isinstance(result, dict) or not result.get("type") or not result.get("id"):
            raise bad_request("can't parse InlineQueryResult: Field \"type\" must be of type String")
        if not 1 <= len(str(result["id"]).encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result["id"] in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result["id"])
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            text, entities = format_text(content.get("message_text"), content.get("parse_mode"),
                                         content.get("entities"), limit=TEXT_LIMIT)
            result["input_message_content"] = {**content, "message_text": text,
                                               **({"entities": entities} if entities else {})}
            result["input_message_content"].pop("parse_mode", None)
        if isinstance(result.get("reply_markup"), dict):
            reply_markup(Params({"reply_markup": result["reply_markup"]}))
    answer = {"results": results, "cache_time": p.int("cache_time", 300), "is_personal": p.bool("is_personal"),
              "next_offset": p.str("next_offset", ""), "button": p.json("button")}
    entry["answer"] = answer
    sandbox.stats["inline_answers"] += 1
    sandbox.emit(bot, "inline_answer", None, inline_query_id=query_id, user_id=entry["user_id"],
                 query=entry["query"]["query"], **answer)
    bot.answers.notify()
    return True


# commands and files

def command_scope(sandbox: Sandbox, p: Params) -> tuple[str, str]:
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        chat_id = sandbox.resolve_chat_id(scope.get("chat_id"))
        scope = {**scope, "chat_id": chat_id}
        if scope["type"] != "chat" and sandbox.chat(chat_id)["type"] == "private":
            raise bad_request("can't use specified scope in private chats")
        if scope["type"] == "chat_member":
            scope["user_id"] = int(scope.get("user_id") or 0)
    language = p.str("language_code", "") or ""
    if language and not LANGUAGE_RE.match(language):
        raise bad_request("invalid language code specified")
    return scope_key(scope), language

async def set_my_commands(sandbox: Sandbox, bot: BotState, p: Params) -> bool:
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).strip()
        command = command[1:] if command.startswith("/") else command
        description = str(item.get("description", "")).strip()
        if not COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": command, "description": description})
    key = command_scope(sandbox, p)
    if cleaned:
        bot.commands[key] = cleaned
    else:
        bot.commands.pop(key, None)
    return True

async def get_file(sandbox: Sandbox, bot: BotState, p: Params) -> dict:
    file_id = p.str("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    stored = sandbox.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return stored.info()


Method = Callable[[Sandbox, BotState, Params], Awaitable[Any]]

METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "answerCallbackQuery": answer_callback_query,
    "answerInlineQuery": answer_inline_query,
    "setMyCommands": set_my_commands,
    "getFile": get_file,
}
_NAMES = {name.lower(): name for name in METHODS}  # method names are case-insensitive
