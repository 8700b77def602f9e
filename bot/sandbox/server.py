"""A local emulator of the Telegram Bot API server: the *sandbox*.

The real bot runs against it unchanged, only its base URL differs: PTB calls
``{root}/bot{TOKEN}/{method}`` and downloads ``{root}/file/bot{TOKEN}/{file_path}``. Answers are
plain JSON dicts shaped like Telegram's objects, and errors are Telegram's, word for word where
it matters (``Bad Request: message is not modified: ...``, 429 with ``retry_after``, 403 for a
blocked user, 409 for getUpdates while a webhook is set, 401/404).

The other side, ``/sandbox/...``, is the users' side: create users, send messages, photos and
documents, press buttons, make inline queries, block the bot; read back what the bot did as a
long-polled event list; inject faults (429, 5xx, timeouts, 403) and turn on Telegram's flood
limits. See ``create_app`` for the routes and ``Sandbox`` for the same operations in-process.

This module deliberately does not import ``telegram``: it is the server side.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import copy
import dataclasses
import hashlib
import ipaddress
import itertools
import json
import logging
import math
import mimetypes
import re
import secrets
import signal
import struct
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

SANDBOX_KEY = web.AppKey("sandbox", object)
DEFAULT_TOKEN = "123456:SANDBOX-TOKEN-qingfeng-local-0000000"
BOT_FIRST_NAME = "Qingfeng Sandbox"
BOT_USERNAME = "qingfeng_sandbox_bot"
FIRST_USER_ID = 100000001
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
PHOTO_LIMIT = 10 * 1024 * 1024
TOKEN_RE = re.compile(r"^(\d{1,20}):([A-Za-z0-9_-]{30,64})$")
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
DEFAULT_UPDATE_TYPES = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
    "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_join_request",
    "chat_boost", "removed_chat_boost",
})
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
SEND_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
})
# Methods that write to a chat: a blocked user answers these with 403.
CHAT_WRITE_METHODS = SEND_METHODS | {
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "sendChatAction",
}
COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
})
BUTTON_ACTIONS = ("callback_data", "url", "login_url", "switch_inline_query",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                  "callback_game", "pay", "web_app", "copy_text")


# --------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def too_many_requests(retry_after: int) -> ApiError:
    retry_after = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def blocked_error() -> ApiError:
    return ApiError(403, "Forbidden: bot was blocked by the user")


class SandboxError(Exception):
    """An error of the users' side (``/sandbox/...``): a status and a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------------
# Text: parse modes, entities, limits (offsets and lengths in UTF-16 code units, as Telegram)


class ParseError(Exception):
    """A formatting error; the API answers "Bad Request: can't parse entities: <message>"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_index(text: str) -> Callable[[int], int]:
    """Maps a code point index of `text` to its UTF-16 offset."""
    if all(ord(c) < 0x10000 for c in text):
        return lambda i: i
    offsets = list(itertools.accumulate((2 if ord(c) >= 0x10000 else 1 for c in text), initial=0))
    return lambda i: offsets[i]


def entity_text(text: str, entity: dict) -> str:
    """The part of `text` an entity covers."""
    encoded = text.encode("utf-16-le")
    start, length = entity["offset"] * 2, entity["length"] * 2
    return encoded[start:start + length].decode("utf-16-le", errors="replace")


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_HTML_TEXT_RE = re.compile(r"[^<&]+")
_SPACES = " \t\r\n"


def _is_name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "-_")


def _html_unescape(value: str) -> str:
    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name[0] == "#":
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m.group(0)
        return _HTML_NAMED.get(name, m.group(0))
    return _HTML_ENTITY_RE.sub(replace, value)


def parse_html(src: str) -> tuple[str, list[dict]]:
    """Telegram's HTML parse mode: the plain text and its entities, or ParseError."""
    out: list[str] = []
    pos = 0
    stack: list[list] = []  # [tag, attrs, begin, extra]
    entities: list[dict] = []
    i, n = 0, len(src)

    def byte_offset(k: int) -> int:
        return len(src[:k].encode("utf-8"))

    while i < n:
        c = src[i]
        if c == "&":
            m = _HTML_ENTITY_RE.match(src, i)
            if m:
                decoded = _html_unescape(m.group(0))
                if decoded != m.group(0):
                    out.append(decoded)
                    pos += utf16_len(decoded)
                    i = m.end()
                    continue
            out.append("&")
            pos += 1
            i += 1
            continue
        if c != "<":
            m = _HTML_TEXT_RE.match(src, i)
            chunk = m.group(0)
            out.append(chunk)
            pos += utf16_len(chunk)
            i = m.end()
            continue
        start = i
        if i + 1 < n and src[i + 1] == "/":
            j = i + 2
            while j < n and _is_name_char(src[j]):
                j += 1
            name = src[i + 2:j].lower()
            while j < n and src[j] in _SPACES:
                j += 1
            if j >= n or src[j] != ">":
                raise ParseError(f"Unclosed end tag at byte offset {byte_offset(start)}")
            if not stack:
                raise ParseError(f"Unexpected end tag at byte offset {byte_offset(start)}")
            tag, attrs, begin, extra = stack.pop()
            if name != tag:
                raise ParseError(f'Unmatched end tag at byte offset {byte_offset(start)}, '
                                 f'expected "</{tag}>", found "</{name}>"')
            _close_html_tag(tag, attrs, begin, pos - begin, extra, stack, entities)
            i = j + 1
            continue
        j = i + 1
        while j < n and _is_name_char(src[j]):
            j += 1
        name = src[i + 1:j].lower()
        if name not in _HTML_TAGS:
            if j >= n:
                raise ParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
            raise ParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(start)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and src[j] in _SPACES:
                j += 1
            if j >= n:
                raise ParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
            if src[j] == ">":
                j += 1
                break
            k = j
            while j < n and _is_name_char(src[j]):
                j += 1
            attr = src[k:j].lower()
            if not attr:
                raise ParseError(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(start)}')
            while j < n and src[j] in _SPACES:
                j += 1
            value = ""
            if j < n and src[j] == "=":
                j += 1
                while j < n and src[j] in _SPACES:
                    j += 1
                if j >= n:
                    raise ParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
                if src[j] in "\"'":
                    end = src.find(src[j], j + 1)
                    if end < 0:
                        raise ParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
                    value = src[j + 1:end]
                    j = end + 1
                else:
                    k = j
                    while j < n and src[j] not in _SPACES + ">":
                        j += 1
                    value = src[k:j]
                value = _html_unescape(value)
            elif j < n and src[j] not in _SPACES + ">" and not _is_name_char(src[j]):
                raise ParseError(f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                                 f'at byte offset {byte_offset(start)}')
            attrs[attr] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise ParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise ParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        stack.append([name, attrs, pos, {}])
        i = j
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _close_html_tag(tag: str, attrs: dict, offset: int, length: int, extra: dict,
                    stack: list[list], entities: list[dict]) -> None:
    if tag == "code" and stack and stack[-1][0] == "pre" and stack[-1][2] == offset:
        language = attrs.get("class", "")
        if language.startswith("language-") and len(language) > 9:
            stack[-1][3]["language"] = language[9:]
            return
    if length <= 0:
        return
    kind = _HTML_TAGS[tag]
    entity: dict[str, Any] = {"offset": offset, "length": length, "type": kind}
    if tag == "a":
        href = attrs.get("href", "").strip()
        if not href:
            return
        if href.startswith("tg://user?id="):
            user_id = href.split("=", 1)[1]
            if not user_id.isdigit():
                return
            entity.update(type="text_mention", user={"id": int(user_id), "is_bot": False, "first_name": ""})
        else:
            entity["url"] = href
    elif tag == "pre" and extra.get("language"):
        entity["language"] = extra["language"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    entities.append(entity)


_MD2_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
              "spoiler": "Spoiler", "text_link": "TextUrl", "code": "Code", "pre": "Pre",
              "custom_emoji": "CustomEmoji", "blockquote": "BlockQuote"}
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    """Telegram's MarkdownV2: reserved characters must be escaped, entities must be closed."""
    out: list[str] = []
    pos = 0
    stack: list[list] = []  # [kind, begin, byte offset of the marker]
    entities: list[dict] = []
    quote_begin: int | None = None
    i, n = 0, len(src)

    def byte_offset(k: int) -> int:
        return len(src[:k].encode("utf-8"))

    def emit(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += utf16_len(text)

    def toggle(kind: str, at: int) -> None:
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == kind:
                _, begin, _ = stack.pop(index)
                if pos > begin:
                    entities.append({"offset": begin, "length": pos - begin, "type": kind})
                return
        stack.append([kind, pos, byte_offset(at)])

    def unescape_code(body: str) -> str:
        return re.sub(r"\\([\\`])", r"\1", body)

    def find_code_end(marker: str, k: int) -> int:
        while k < n:
            if src[k] == "\\" and k + 1 < n:
                k += 2
                continue
            if src.startswith(marker, k):
                return k
            k += 1
        return -1

    while i < n:
        c = src[i]
        if i == 0 or src[i - 1] == "\n":
            if c == ">":
                if quote_begin is None:
                    quote_begin = pos
                i += 1
                continue
            if quote_begin is not None:
                end = pos - 1 if out and out[-1].endswith("\n") else pos
                if end > quote_begin:
                    entities.append({"offset": quote_begin, "length": end - quote_begin, "type": "blockquote"})
                quote_begin = None
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
            emit(src[i + 1])
            i += 2
            continue
        if c == "`":
            if src.startswith("```", i):
                end = find_code_end("```", i + 3)
                if end < 0:
                    raise ParseError(f"Can't find end of Pre entity at byte offset {byte_offset(i)}")
                body = src[i + 3:end]
                language = ""
                first, newline, rest = body.partition("\n")
                if newline and first and not any(ch in first for ch in " \t"):
                    language, body = first, rest
                body = unescape_code(body)
                begin = pos
                emit(body)
                if pos > begin:
                    entity = {"offset": begin, "length": pos - begin, "type": "pre"}
                    if language:
                        entity["language"] = language
                    entities.append(entity)
                i = end + 3
                continue
            end = find_code_end("`", i + 1)
            if end < 0:
                raise ParseError(f"Can't find end of Code entity at byte offset {byte_offset(i)}")
            begin = pos
            emit(unescape_code(src[i + 1:end]))
            if pos > begin:
                entities.append({"offset": begin, "length": pos - begin, "type": "code"})
            i = end + 1
            continue
        if c == "*":
            toggle("bold", i)
            i += 1
        elif c == "_":
            if src.startswith("__", i):
                toggle("underline", i)
                i += 2
            else:
                toggle("italic", i)
                i += 1
        elif c == "~":
            toggle("strikethrough", i)
            i += 1
        elif c == "|" and src.startswith("||", i):
            toggle("spoiler", i)
            i += 2
        elif c == "[" or (c == "!" and src.startswith("![", i)):
            kind = "custom_emoji" if c == "!" else "text_link"
            stack.append([kind, pos, byte_offset(i)])
            i += 2 if c == "!" else 1
        elif c == "]" and stack and stack[-1][0] in ("text_link", "custom_emoji"):
            if i + 1 >= n or src[i + 1] != "(":
                raise ParseError("Character ']' is reserved and must be escaped with the preceding '\\'")
            k = i + 2
            url_chars: list[str] = []
            while k < n and src[k] != ")":
                if src[k] == "\\" and k + 1 < n:
                    k += 1
                url_chars.append(src[k])
                k += 1
            if k >= n:
                raise ParseError(f"Can't find end of a url at byte offset {byte_offset(i + 1)}")
            kind, begin, _ = stack.pop()
            url = "".join(url_chars).strip()
            if pos > begin:
                if kind == "custom_emoji":
                    emoji_id = url.partition("id=")[2]
                    entities.append({"offset": begin, "length": pos - begin, "type": "custom_emoji",
                                     "custom_emoji_id": emoji_id})
                elif url.startswith("tg://user?id=") and url[13:].isdigit():
                    entities.append({"offset": begin, "length": pos - begin, "type": "text_mention",
                                     "user": {"id": int(url[13:]), "is_bot": False, "first_name": ""}})
                elif url:
                    entities.append({"offset": begin, "length": pos - begin, "type": "text_link", "url": url})
            i = k + 1
        elif c in _MD2_RESERVED:
            raise ParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        else:
            emit(c)
            i += 1
    if quote_begin is not None and pos > quote_begin:
        entities.append({"offset": quote_begin, "length": pos - quote_begin, "type": "blockquote"})
    if stack:
        kind, _, offset = stack[-1]
        raise ParseError(f"Can't find end of {_MD2_NAMES.get(kind, kind)} entity at byte offset {offset}")
    return "".join(out), entities


def parse_markdown(src: str) -> tuple[str, list[dict]]:
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    pos = 0
    entities: list[dict] = []
    i, n = 0, len(src)

    def byte_offset(k: int) -> int:
        return len(src[:k].encode("utf-8"))

    def emit(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += utf16_len(text)

    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            emit(src[i + 1])
            i += 2
        elif c in "_*":
            end = src.find(c, i + 1)
            if end < 0:
                raise ParseError(f"Can't find end of the entity starting at byte offset {byte_offset(i)}")
            begin = pos
            emit(src[i + 1:end])
            if pos > begin:
                entities.append({"offset": begin, "length": pos - begin, "type": "bold" if c == "*" else "italic"})
            i = end + 1
        elif c == "`":
            marker = "```" if src.startswith("```", i) else "`"
            end = src.find(marker, i + len(marker))
            if end < 0:
                raise ParseError(f"Can't find end of the entity starting at byte offset {byte_offset(i)}")
            body = src[i + len(marker):end]
            language = ""
            if marker == "```":
                first, newline, rest = body.partition("\n")
                if newline and first and " " not in first:
                    language, body = first, rest
            begin = pos
            emit(body)
            if pos > begin:
                entity = {"offset": begin, "length": pos - begin, "type": "pre" if marker == "```" else "code"}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = end + len(marker)
        elif c == "[":
            close = src.find("]", i + 1)
            if close < 0 or close + 1 >= n or src[close + 1] != "(" or src.find(")", close + 2) < 0:
                raise ParseError(f"Can't find end of the entity starting at byte offset {byte_offset(i)}")
            url_end = src.find(")", close + 2)
            begin = pos
            emit(src[i + 1:close])
            url = src[close + 2:url_end].strip()
            if pos > begin and url:
                entities.append({"offset": begin, "length": pos - begin, "type": "text_link", "url": url})
            i = url_end + 1
        else:
            emit(c)
            i += 1
    return "".join(out), entities


_URL_STOP = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_AUTO_ENTITIES = [
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("url", re.compile(rf"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'{_URL_STOP}]+", re.IGNORECASE)),
    ("email", re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w@])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
]
_OPAQUE_ENTITIES = {"code", "pre", "text_link", "text_mention", "url", "email", "mention", "bot_command",
                    "hashtag", "cashtag", "custom_emoji", "phone_number"}


def detect_entities(text: str, existing: list[dict] | None = None) -> list[dict]:
    """The entities Telegram finds by itself: commands, links, e-mails, mentions, hashtags."""
    existing = existing or []
    if not any(ch in text for ch in "/@#.:"):
        return []
    index = _utf16_index(text)
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _OPAQUE_ENTITIES]
    found: list[dict] = []
    candidates = []
    for kind, pattern in _AUTO_ENTITIES:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?'\")]}>":
                    if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                        break
                    end -= 1
                if end - start < 8 and not text[start:end].lower().startswith("www."):
                    continue
            candidates.append((start, -(end - start), kind, end))
    for start, _, kind, end in sorted(candidates):
        a, b = index(start), index(end)
        if any(a < e and s < b for s, e in taken):
            continue
        taken.append((a, b))
        found.append({"offset": a, "length": b - a, "type": kind})
    return found


def sort_entities(entities: list[dict]) -> list[dict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims leading and trailing white space, moving and clipping entities."""
    stripped = text.strip(_SPACES)
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[:len(text) - len(text.lstrip(_SPACES))])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] - lead + entity["length"])
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def _validate_entities(text: str, raw: Any, field_name: str) -> list[dict]:
    if not isinstance(raw, list):
        raise bad_request(f"can't parse {field_name} JSON object")
    size = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request(f"can't parse {field_name} JSON object")
        kind = item.get("type")
        if kind not in ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        try:
            offset, length = int(item.get("offset")), int(item.get("length"))
        except (TypeError, ValueError):
            raise bad_request("can't parse MessageEntity: Field \"offset\" must be of type Number") from None
        if offset < 0 or length <= 0 or offset >= size:
            continue
        entity = {**item, "offset": offset, "length": min(length, size - offset)}
        if kind == "text_link" and not entity.get("url"):
            raise bad_request("can't parse MessageEntity: Field \"url\" must be of type String")
        result.append(entity)
    return result


def format_text(raw: str | None, parse_mode: str | None, raw_entities: Any, *, limit: int,
                caption: bool = False) -> tuple[str, list[dict]]:
    """Text as Telegram stores it: parsed, trimmed, auto-linked and length-checked."""
    raw = raw or ""
    if raw_entities not in (None, "", []):
        text = raw
        entities = _validate_entities(text, raw_entities, "caption_entities" if caption else "entities")
    elif parse_mode:
        mode = parse_mode.strip().lower()
        parser = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}.get(mode)
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            text, entities = parser(raw)
        except ParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        text, entities = raw, []
    text, entities = strip_text(text, entities)
    if not text:
        if caption:
            return "", []
        raise bad_request("message text is empty")
    if len(text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    entities = sort_entities(entities + detect_entities(text, entities))
    return text, entities


# --------------------------------------------------------------------------------------------
# Images and files


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG, JPEG, GIF, WebP or BMP image, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "webp", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return "webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", width, height
            i += 2 + length
        return "jpeg", 0, 0
    return None


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    file_name: str | None = None
    content_type: str | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | video | audio | animation | voice
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def info(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.data), "file_path": self.file_path}


_FILE_PREFIX = {"photo": "AgACAgIAAxkBAA", "document": "BQACAgIAAxkBAA", "video": "BAACAgIAAxkBAA",
                "audio": "CQACAgIAAxkBAA", "animation": "CgACAgIAAxkBAA", "voice": "AwACAgIAAxkBAA"}
_FILE_FOLDER = {"photo": "photos", "document": "documents", "video": "videos", "audio": "music",
                "animation": "animations", "voice": "voice"}


# --------------------------------------------------------------------------------------------
# Request parameters


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


# --------------------------------------------------------------------------------------------
# State


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
        self.webhook: dict | None = None
        self.webhook_task: asyncio.Task | None = None
        self.webhook_wakeup = asyncio.Event()
        self.webhook_error: tuple[int, str] | None = None
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[int | None, dict] = {}
        self.texts: dict[tuple[str, str], str] = {}  # (name|description|short_description, language)
        self.chats: dict[int, ChatLog] = {}
        self.callback_queries: dict[str, dict] = {}
        self.inline_queries: dict[str, dict] = {}
        self.answers = Notifier()

    def get_me(self) -> dict:
        return {**self.user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True, "can_connect_to_business": False,
                "has_main_web_app": False}

    def chat_log(self, chat_id: int) -> ChatLog:
        log_ = self.chats.get(chat_id)
        if log_ is None:
            log_ = self.chats[chat_id] = ChatLog()
        return log_


def _new_stats() -> dict:
    return {
        "calls": Counter(), "errors": Counter(), "sent_messages": 0, "errors_429": 0,
        "updates_created": 0, "updates_delivered": 0, "sent_per_chat": Counter(), "edits": 0,
        "deletes": 0, "callback_answers": 0, "inline_answers": 0, "chat_actions": 0,
        "faults_triggered": 0, "webhook_deliveries": 0, "webhook_failures": 0, "uploads": 0,
        "downloads": 0, "user_messages": 0, "first_sent_at": None, "last_sent_at": None,
    }


def _deep(obj: Any) -> Any:
    return copy.deepcopy(obj)


def _now() -> int:
    return int(time.time())


class Sandbox:
    """All the sandbox's state, usable in-process too (every HTTP route calls a method here).

    Bot side: ``await call(token, method, params, uploads)``. Users' side: ``create_user``,
    ``user_message``, ``press_button``, ``inline_query``, ``block``/``unblock``,
    ``wait_events``, ``chat_messages``, ``stats_snapshot``, ``add_fault``, ``set_limits``,
    ``reset``.
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
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.events: list[dict] = []
        self.faults: list[Fault] = []
        self.stats = _new_stats()
        self._buckets: dict[Any, TokenBucket] = {}
        self._next_user_id = FIRST_USER_ID

    # -- lifecycle ---------------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget everything (bots, users, chats, files, events, faults, stats); limits stay."""
        for bot in self.bots.values():
            await self._stop_webhook(bot)
            bot.notifier.notify()
        self._clear()
        self._events_notifier.notify()

    async def close(self) -> None:
        self.closing = True
        for bot in self.bots.values():
            await self._stop_webhook(bot)
            bot.notifier.notify()
            bot.answers.notify()
        self._events_notifier.notify()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _sleep(self, seconds: float) -> None:
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
            return self._bot_for_token(token)
        for bot in self.bots.values():
            if bot.active:
                return bot
        if self.bots:
            return next(iter(self.bots.values()))
        return self._bot_for_token(DEFAULT_TOKEN)

    def _bot_for_token(self, token: str) -> BotState:
        bot = self.bots.get(token)
        if bot is None:
            m = TOKEN_RE.match(token or "")
            if not m:
                raise ApiError(401, "Unauthorized")
            bot = self.bots[token] = BotState(token, int(m.group(1)))
        return bot

    def create_user(self, id: int | None = None, first_name: str | None = None, last_name: str | None = None,
                    username: str | None = None, language_code: str | None = None,
                    is_premium: bool | None = None) -> dict:
        """A Telegram user (created, or updated if `id` exists) and their private chat."""
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
        return dict(user)

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
            self._enqueue(bot, "my_chat_member", {
                "chat": dict(self.chats[user_id]), "from": dict(user), "date": _now(),
                "old_chat_member": {"user": dict(bot.user), "status": old}, "new_chat_member": new_member,
            })

    def _resolve_chat_id(self, value: Any) -> int:
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

    def _chat(self, chat_id: int) -> dict:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # -- updates and events ------------------------------------------------------------------

    def _update_allowed(self, bot: BotState, kind: str) -> bool:
        allowed = bot.allowed_updates
        return kind in DEFAULT_UPDATE_TYPES if not allowed else kind in allowed

    def _enqueue(self, bot: BotState, kind: str, payload: dict) -> dict | None:
        if not self._update_allowed(bot, kind):
            return None
        update = {"update_id": next(self._update_ids), kind: payload}
        bot.updates.append(update)
        self.stats["updates_created"] += 1
        bot.notifier.notify()
        bot.webhook_wakeup.set()
        log.debug("update %s for bot %s: %s", update["update_id"], bot.id, kind)
        return update

    def _count_delivered(self, bot: BotState, updates: list[dict]) -> None:
        for update in updates:
            if update["update_id"] > bot.delivered_up_to:
                bot.delivered_up_to = update["update_id"]
                self.stats["updates_delivered"] += 1

    def _emit(self, bot: BotState, kind: str, chat_id: int | None, **fields: Any) -> dict:
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
                                   "chat": dict(chat), "date": _now()}
        if text is not None and text != "":
            if len(text) > TEXT_LIMIT:
                raise SandboxError(400, "message is too long")
            message["text"] = text
            entities = detect_entities(text)
            if entities:
                message["entities"] = entities
        media = False
        if photo is not None:
            message["photo"] = self._photo_sizes(self._store_file(photo, "photo", file_name=photo_name,
                                                                  strict_image=False))
            media = True
        if document is not None:
            name = file_name or "file"
            mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            stored = self._store_file(document, "document", file_name=name, mime_type=mime)
            message["document"] = self._document(stored)
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
            message["reply_to_message"] = {k: v for k, v in _deep(replied).items() if k != "reply_to_message"}
        if extra:
            message.update(extra)
        if "text" not in message and not media and not extra:
            raise SandboxError(400, "a message needs text, a photo, a document or extra fields")
        chat_log.next_message_id += 1
        chat_log.messages[message["message_id"]] = message
        self.stats["user_messages"] += 1
        if self._bot_sees(bot, chat, message):
            self._enqueue(bot, "message", _deep(message))
        return _deep(message)

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
        query: dict[str, Any] = {"id": query_id, "from": dict(user), "message": _deep(message),
                                 "chat_instance": self._chat_instance(bot, chat_id)}
        if data is not None:
            query["data"] = str(data)
        bot.callback_queries[query_id] = {"query": query, "answer": None, "chat_id": chat_id,
                                          "message_id": int(message_id), "user_id": user["id"], "time": time.time()}
        self._enqueue(bot, "callback_query", query)
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
        self._enqueue(bot, "inline_query", payload)
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
                return {"id": query_id, "answered": answer is not None, "answer": _deep(answer)}
            await bot.answers.wait(remaining)

    def chat_messages(self, chat_id: int, token: str | None = None) -> list[dict]:
        bot = self.bot(token)
        chat_log = bot.chats.get(int(chat_id))
        return [_deep(m) for m in chat_log.messages.values()] if chat_log else []

    def chat_info(self, chat_id: int, token: str | None = None) -> dict:
        bot = self.bot(token)
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise SandboxError(404, f"no chat {chat_id}")
        chat_log = bot.chats.get(int(chat_id))
        return {"chat": dict(chat), "keyboard": _deep(chat_log.keyboard) if chat_log else None,
                "message_count": len(chat_log.messages) if chat_log else 0,
                "blocked": int(chat_id) in self.blocked}

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
            return _deep(bot.commands.get((_scope_key(scope), language_code), []))
        scopes = []
        if user_id is not None:
            scopes.append({"type": "chat", "chat_id": int(user_id)})
        scopes += [{"type": "all_private_chats"}, {"type": "default"}]
        for candidate in scopes:
            for language in dict.fromkeys([language_code, ""]):
                commands = bot.commands.get((_scope_key(candidate), language))
                if commands:
                    return _deep(commands)
        return []

    def webhook_info(self, token: str | None = None) -> dict:
        bot = self.bot(token)
        return {**self._webhook_info(bot), "token": bot.token, "secret_token": (bot.webhook or {}).get("secret_token")}

    def stats_snapshot(self) -> dict:
        stats = {key: (dict(value) if isinstance(value, Counter) else value) for key, value in self.stats.items()}
        stats["sent_per_chat"] = {str(k): v for k, v in self.stats["sent_per_chat"].items()}
        stats["errors"] = {str(k): v for k, v in self.stats["errors"].items()}
        stats["pending_updates"] = sum(len(b.updates) for b in self.bots.values())
        stats["bots"] = len(self.bots)
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

    def clear_faults(self) -> int:
        removed = len(self.faults)
        self.faults.clear()
        return removed

    def set_limits(self, **changes: Any) -> dict:
        names = {f.name for f in dataclasses.fields(Limits)}
        for key, value in changes.items():
            if key not in names:
                raise SandboxError(400, f"unknown limit {key!r}; known: {', '.join(sorted(names))}")
            setattr(self.limits, key, bool(value) if key == "enforce" else float(value))
        self._buckets.clear()
        return self.limits.to_dict()

    def file_bytes(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise SandboxError(404, f"no file {file_id}")
        return stored

    # -- files -------------------------------------------------------------------------------

    def _store_file(self, data: bytes, kind: str, *, file_name: str | None = None, mime_type: str | None = None,
                    strict_image: bool = True) -> StoredFile:
        width = height = None
        extension = None
        if kind == "photo":
            size = image_size(data)
            if size is None:
                if strict_image:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                size = ("jpg", 0, 0)
            extension, width, height = size
            extension = "jpg" if extension == "jpeg" else extension
        elif file_name and "." in file_name:
            extension = file_name.rsplit(".", 1)[1][:10]
        count = len(self.files) + 1
        file_id = _FILE_PREFIX.get(kind, "BQAC") + base64.urlsafe_b64encode(secrets.token_bytes(42)).decode().rstrip("=")
        unique = "AQAD" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()[:9]).decode().rstrip("=")
        path = f"{_FILE_FOLDER.get(kind, 'documents')}/file_{count}" + (f".{extension}" if extension else "")
        stored = StoredFile(file_id=file_id, file_unique_id=unique, kind=kind, data=data, file_path=path,
                            file_name=file_name, mime_type=mime_type, width=width, height=height)
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        self.stats["uploads"] += 1
        return stored

    def _photo_sizes(self, stored: StoredFile) -> list[dict]:
        width, height = stored.width or 0, stored.height or 0
        sizes = []
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            thumb = StoredFile(**{**dataclasses.asdict(stored), "file_id": stored.file_id[:-6] + "thumbA",
                                  "file_unique_id": stored.file_unique_id + "-s"})
            self.files[thumb.file_id] = thumb
            sizes.append({"file_id": thumb.file_id, "file_unique_id": thumb.file_unique_id,
                          "file_size": len(stored.data), "width": max(1, round(width * scale)),
                          "height": max(1, round(height * scale))})
        sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                      "file_size": len(stored.data), "width": width, "height": height})
        return sizes

    @staticmethod
    def _document(stored: StoredFile) -> dict:
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                    "file_size": len(stored.data)}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    async def _input_file(self, value: Upload | str | None, kind: str, param: str) -> StoredFile:
        if value is None:
            raise bad_request(f"there is no {param} in the request")
        if isinstance(value, Upload):
            limit = PHOTO_LIMIT if kind == "photo" else UPLOAD_LIMIT
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise bad_request("file must be non-empty")
            mime = value.content_type if value.content_type not in (None, "application/octet-stream") else None
            mime = mime or (mimetypes.guess_type(value.file_name or "")[0] if value.file_name else None)
            if kind != "photo" and not mime:
                mime = "application/octet-stream"
            return self._store_file(value.data, kind, file_name=value.file_name,
                                    mime_type=None if kind == "photo" else mime)
        if value.startswith(("http://", "https://")):
            data, name, mime = await self._fetch(value)
            return self._store_file(data, kind, file_name=name, mime_type=None if kind == "photo" else mime)
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
        return stored

    async def _fetch(self, url: str) -> tuple[bytes, str | None, str | None]:
        """Files sent by URL: fetched only from this machine (the sandbox has no Internet)."""
        host = urlsplit(url).hostname or ""
        try:
            local = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = False
        if not local:
            raise bad_request("wrong file identifier/HTTP URL specified")
        try:
            async with self.session().get(url) as response:
                if response.status != 200:
                    raise bad_request("failed to get HTTP URL content")
                data = await response.read()
                mime = response.content_type
        except aiohttp.ClientError:
            raise bad_request("failed to get HTTP URL content") from None
        name = urlsplit(url).path.rsplit("/", 1)[-1] or None
        return data, name, mime

    # -- the Bot API -------------------------------------------------------------------------

    async def call(self, token: str, method: str, params: dict | Params | None = None,
                   uploads: dict[str, Upload] | None = None) -> tuple[Any, str | None]:
        """One Bot API call: ``(result, description)``, or ApiError."""
        try:
            bot = self._bot_for_token(token)
        except ApiError:
            self.stats["errors"][401] += 1
            raise
        name = _METHODS.get(method.lower())
        if name is None:
            self.stats["calls"][method] += 1
            self.stats["errors"][404] += 1
            raise ApiError(404, "Not Found")
        bot.active = True
        self.stats["calls"][name] += 1
        p = params if isinstance(params, Params) else Params(params, uploads)
        try:
            if self.limits.latency > 0:
                await self._sleep(self.limits.latency)
            await self._apply_fault(name, p)
            result = await getattr(self, "_m_" + name)(bot, p)
        except ApiError as exc:
            self.stats["errors"][exc.code] += 1
            if exc.code == 429:
                self.stats["errors_429"] += 1
            log.debug("%s -> %s %s", name, exc.code, exc.description)
            raise
        return result, p.description

    async def _apply_fault(self, method: str, p: Params) -> None:
        for fault in list(self.faults):
            if fault.method != "*" and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None:
                try:
                    if self._resolve_chat_id(p.values.get("chat_id")) != fault.chat_id:
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
                await self._sleep(fault.delay)
                raise ApiError(504, "Gateway Timeout")
            if fault.kind == "403_blocked":
                raise blocked_error()
            raise ApiError(400, fault.description or "Bad Request: injected fault")

    def _check_flood(self, bot: BotState, chat: dict, n: int = 1) -> None:
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

    def _target_chat(self, p: Params, method: str) -> dict:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        if chat["type"] == "private" and chat["id"] in self.blocked and method in CHAT_WRITE_METHODS:
            raise blocked_error()
        return chat

    # getMe, logOut, close

    async def _m_getMe(self, bot: BotState, p: Params) -> dict:
        return bot.get_me()

    async def _m_logOut(self, bot: BotState, p: Params) -> bool:
        return True

    async def _m_close(self, bot: BotState, p: Params) -> bool:
        return True

    # updates

    async def _m_getUpdates(self, bot: BotState, p: Params) -> list[dict]:
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
        while True:
            if generation != bot.poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            if bot.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            remaining = deadline - time.monotonic()
            if bot.updates or remaining <= 0 or self.closing:
                break
            await bot.notifier.wait(remaining)
        result = bot.updates[:limit]
        self._count_delivered(bot, result)
        return _deep(result)

    async def _m_setWebhook(self, bot: BotState, p: Params) -> bool:
        url = (p.str("url") or "").strip()
        if not url:
            return await self._m_deleteWebhook(bot, p)
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
            bot.webhook_task = asyncio.create_task(self._deliver_webhook(bot))
        bot.webhook_wakeup.set()
        bot.notifier.notify()
        p.description = "Webhook is already set" if was and was["url"] == url else "Webhook was set"
        return True

    async def _m_deleteWebhook(self, bot: BotState, p: Params) -> bool:
        was = bot.webhook
        await self._stop_webhook(bot)
        if p.bool("drop_pending_updates"):
            bot.updates.clear()
        p.description = "Webhook was deleted" if was else "Webhook is already deleted"
        return True

    async def _stop_webhook(self, bot: BotState) -> None:
        bot.webhook = None
        task, bot.webhook_task = bot.webhook_task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _webhook_info(self, bot: BotState) -> dict:
        info: dict[str, Any] = {"url": bot.webhook["url"] if bot.webhook else "", "has_custom_certificate": False,
                                "pending_update_count": len(bot.updates)}
        if bot.webhook:
            info["max_connections"] = bot.webhook["max_connections"]
            if bot.webhook.get("ip_address"):
                info["ip_address"] = bot.webhook["ip_address"]
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
            if bot.webhook_error:
                info["last_error_date"], info["last_error_message"] = bot.webhook_error
        return info

    async def _m_getWebhookInfo(self, bot: BotState, p: Params) -> dict:
        return self._webhook_info(bot)

    async def _deliver_webhook(self, bot: BotState) -> None:
        """POSTs pending updates to the webhook, one at a time and in order, retrying with
        backoff until the bot's server answers 2xx."""
        backoff = self.webhook_retry[0]
        while bot.webhook and not self.closing:
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
                async with self.session().post(hook["url"], data=json.dumps(update, ensure_ascii=False).encode(),
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
                self._count_delivered(bot, [update])
                self.stats["webhook_deliveries"] += 1
                backoff = self.webhook_retry[0]
                if isinstance(reply, dict) and reply.get("method"):
                    params = {k: v for k, v in reply.items() if k != "method"}
                    with contextlib.suppress(ApiError):
                        await self.call(bot.token, str(reply["method"]), params)
                continue
            self.stats["webhook_failures"] += 1
            bot.webhook_error = (_now(), error)
            log.debug("webhook delivery failed: %s", error)
            bot.webhook_wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(bot.webhook_wakeup.wait(), backoff)
            backoff = min(backoff * 2, self.webhook_retry[1])

    # messages

    def _reply_markup(self, p: Params) -> dict | None:
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

    def _reply_to(self, bot: BotState, p: Params, chat: dict) -> dict | None:
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
            chat_id = self._resolve_chat_id(parameters["chat_id"])
        replied = bot.chat_log(chat_id).messages.get(int(parameters["message_id"]))
        if replied is None:
            if parameters.get("allow_sending_without_reply") in (True, "true"):
                return None
            raise bad_request("message to be replied not found")
        result = {k: v for k, v in _deep(replied).items() if k != "reply_to_message"}
        quote = parameters.get("quote")
        if quote:
            if quote not in (replied.get("text") or replied.get("caption") or ""):
                raise bad_request("quote not found")
            result["_quote"] = {"text": quote, "position": parameters.get("quote_position", 0), "is_manual": True}
        return result

    def _new_message(self, bot: BotState, chat: dict, content: dict, p: Params, *, markup: dict | None = None,
                     reply_to: dict | None = None) -> dict:
        chat_log = bot.chat_log(chat["id"])
        message: dict[str, Any] = {"message_id": chat_log.next_message_id, "from": dict(bot.user),
                                   "chat": dict(chat), "date": _now()}
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
            keyboard_event["keyboard"] = _deep(markup)
        elif markup and markup.get("remove_keyboard"):
            chat_log.keyboard = None
            keyboard_event["remove_keyboard"] = True
        elif markup and markup.get("force_reply"):
            keyboard_event["force_reply"] = _deep(markup)
        chat_log.messages[message["message_id"]] = message
        now = time.time()
        self.stats["sent_messages"] += 1
        self.stats["sent_per_chat"][chat["id"]] += 1
        self.stats["first_sent_at"] = self.stats["first_sent_at"] or now
        self.stats["last_sent_at"] = now
        self._emit(bot, "message", chat["id"], message_id=message["message_id"], message=_deep(message),
                   **keyboard_event)
        return _deep(message)

    def _text_content(self, p: Params) -> dict:
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

    def _caption_content(self, p: Params) -> dict:
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

    async def _m_sendMessage(self, bot: BotState, p: Params) -> dict:
        chat = self._target_chat(p, "sendMessage")
        content = self._text_content(p)
        markup = self._reply_markup(p)
        reply_to = self._reply_to(bot, p, chat)
        self._check_flood(bot, chat)
        return self._new_message(bot, chat, content, p, markup=markup, reply_to=reply_to)

    async def _m_sendPhoto(self, bot: BotState, p: Params) -> dict:
        chat = self._target_chat(p, "sendPhoto")
        content = self._caption_content(p)
        markup = self._reply_markup(p)
        reply_to = self._reply_to(bot, p, chat)
        self._check_flood(bot, chat)
        stored = await self._input_file(p.file("photo"), "photo", "photo")
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
        content = {"photo": self._photo_sizes(stored), **content}
        return self._new_message(bot, chat, content, p, markup=markup, reply_to=reply_to)

    async def _m_sendDocument(self, bot: BotState, p: Params) -> dict:
        chat = self._target_chat(p, "sendDocument")
        content = self._caption_content(p)
        markup = self._reply_markup(p)
        reply_to = self._reply_to(bot, p, chat)
        self._check_flood(bot, chat)
        stored = await self._input_file(p.file("document"), "document", "document")
        content = {"document": self._document(stored), **content}
        return self._new_message(bot, chat, content, p, markup=markup, reply_to=reply_to)

    async def _m_sendMediaGroup(self, bot: BotState, p: Params) -> list[dict]:
        chat = self._target_chat(p, "sendMediaGroup")
        media = p.json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media specified: must be 2-10")
        kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
        if not kinds <= {"photo", "video", "document", "audio"} or None in kinds:
            raise bad_request("can't parse InputMedia: unsupported media type")
        if len(kinds) > 1 and ("document" in kinds or "audio" in kinds):
            kind = "document" if "document" in kinds else "audio"
            raise bad_request(f"{kind} can't be mixed with other media types")
        reply_to = self._reply_to(bot, p, chat)
        items = []
        for item in media:
            sub = Params({"caption": item.get("caption"), "parse_mode": item.get("parse_mode"),
                          "caption_entities": item.get("caption_entities")}, p.uploads)
            caption = self._caption_content(sub)
            value = item.get("media")
            if isinstance(value, str) and value.startswith("attach://"):
                value = p.uploads.get(value[len("attach://"):])
                if value is None:
                    raise bad_request("can't find attached file")
            elif isinstance(value, str) and value in p.uploads:
                value = p.uploads[value]
            stored = await self._input_file(value, item["type"], item["type"])
            items.append((item["type"], stored, caption))
        self._check_flood(bot, chat, len(items))
        group_id = str(secrets.randbelow(9 * 10 ** 16) + 10 ** 16)
        messages = []
        for kind, stored, caption in items:
            if kind == "photo":
                content = {"photo": self._photo_sizes(stored)}
            else:
                content = {kind: self._document(stored)}
            content = {"media_group_id": group_id, **content, **caption}
            messages.append(self._new_message(bot, chat, content, p, reply_to=_deep(reply_to)))
        return messages

    async def _m_forwardMessage(self, bot: BotState, p: Params) -> dict:
        chat = self._target_chat(p, "forwardMessage")
        source = self._source_message(bot, p)
        content = {k: v for k, v in source.items()
                   if k not in ("message_id", "from", "chat", "date", "reply_to_message", "edit_date", "reply_markup")}
        origin_user = source.get("from") or {}
        content["forward_origin"] = {"type": "user", "sender_user": origin_user, "date": source["date"]}
        self._check_flood(bot, chat)
        return self._new_message(bot, chat, content, p)

    async def _m_copyMessage(self, bot: BotState, p: Params) -> dict:
        chat = self._target_chat(p, "copyMessage")
        source = self._source_message(bot, p)
        content = {k: v for k, v in source.items()
                   if k not in ("message_id", "from", "chat", "date", "reply_to_message", "edit_date", "reply_markup",
                                "caption", "caption_entities")}
        if p.has("caption"):
            content.update(self._caption_content(p))
        else:
            content.update({k: source[k] for k in ("caption", "caption_entities") if k in source})
        markup = self._reply_markup(p)
        reply_to = self._reply_to(bot, p, chat)
        self._check_flood(bot, chat)
        message = self._new_message(bot, chat, content, p, markup=markup, reply_to=reply_to)
        return {"message_id": message["message_id"]}

    def _source_message(self, bot: BotState, p: Params) -> dict:
        from_chat = self._chat(self._resolve_chat_id(p.values.get("from_chat_id")))
        message_id = p.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        source = bot.chat_log(from_chat["id"]).messages.get(message_id)
        if source is None:
            raise bad_request("message to forward not found")
        return _deep(source)

    def _editable(self, bot: BotState, p: Params, method: str) -> tuple[dict, dict]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(p, method)
        message_id = p.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = bot.chat_log(chat["id"]).messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != bot.id:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(self, bot: BotState, chat: dict, message: dict, changes: dict, markup: dict | None) -> dict:
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
        message["edit_date"] = _now()
        self.stats["edits"] += 1
        self._emit(bot, "edit", chat["id"], message_id=message["message_id"], message=_deep(message))
        return _deep(message)

    async def _m_editMessageText(self, bot: BotState, p: Params) -> dict:
        chat, message = self._editable(bot, p, "editMessageText")
        content = self._text_content(p)
        markup = self._reply_markup(p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        changes = {"text": content["text"], "entities": content.get("entities")}
        if "link_preview_options" in content:
            changes["link_preview_options"] = content["link_preview_options"]
        return self._apply_edit(bot, chat, message, changes, markup)

    async def _m_editMessageCaption(self, bot: BotState, p: Params) -> dict:
        chat, message = self._editable(bot, p, "editMessageCaption")
        content = self._caption_content(p)
        markup = self._reply_markup(p)
        if "text" in message:
            raise bad_request("there is no caption in the message to edit")
        changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
        return self._apply_edit(bot, chat, message, changes, markup)

    async def _m_editMessageReplyMarkup(self, bot: BotState, p: Params) -> dict:
        chat, message = self._editable(bot, p, "editMessageReplyMarkup")
        markup = self._reply_markup(p)
        return self._apply_edit(bot, chat, message, {}, markup)

    async def _m_deleteMessage(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        message_id = p.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        self._delete(bot, chat, message_id)
        return True

    async def _m_deleteMessages(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        for message_id in ids:
            with contextlib.suppress(ApiError):
                self._delete(bot, chat, int(message_id))
        return True

    def _delete(self, bot: BotState, chat: dict, message_id: int) -> None:
        message = bot.chat_log(chat["id"]).messages.pop(message_id, None)
        if message is None:
            raise bad_request("message to delete not found")
        self.stats["deletes"] += 1
        self._emit(bot, "delete", chat["id"], message_id=message_id, message=message)

    async def _m_sendChatAction(self, bot: BotState, p: Params) -> bool:
        chat = self._target_chat(p, "sendChatAction")
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.stats["chat_actions"] += 1
        self._emit(bot, "chat_action", chat["id"], action=action)
        return True

    # queries

    async def _m_answerCallbackQuery(self, bot: BotState, p: Params) -> bool:
        query_id = p.str("callback_query_id")
        entry = bot.callback_queries.get(query_id or "")
        if entry is None or entry["answer"] is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        answer = {"text": p.str("text"), "show_alert": p.bool("show_alert"), "url": p.str("url"),
                  "cache_time": p.int("cache_time", 0)}
        entry["answer"] = answer
        self.stats["callback_answers"] += 1
        self._emit(bot, "callback_answer", entry["chat_id"], callback_query_id=query_id, user_id=entry["user_id"],
                   message_id=entry["message_id"], data=entry["query"].get("data"), **answer)
        bot.answers.notify()
        return True

    async def _m_answerInlineQuery(self, bot: BotState, p: Params) -> bool:
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
                self._reply_markup(Params({"reply_markup": result["reply_markup"]}))
        answer = {"results": results, "cache_time": p.int("cache_time", 300), "is_personal": p.bool("is_personal"),
                  "next_offset": p.str("next_offset", ""), "button": p.json("button")}
        entry["answer"] = answer
        self.stats["inline_answers"] += 1
        self._emit(bot, "inline_answer", None, inline_query_id=query_id, user_id=entry["user_id"],
                   query=entry["query"]["query"], **answer)
        bot.answers.notify()
        return True

    # commands and bot settings

    def _command_scope(self, p: Params) -> tuple[str, str]:
        scope = p.json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._resolve_chat_id(scope.get("chat_id"))
            scope = {**scope, "chat_id": chat_id}
            if scope["type"] != "chat" and self._chat(chat_id)["type"] == "private":
                raise bad_request("can't use specified scope in private chats")
            if scope["type"] == "chat_member":
                scope["user_id"] = int(scope.get("user_id") or 0)
        language = p.str("language_code", "") or ""
        if language and not LANGUAGE_RE.match(language):
            raise bad_request("invalid language code specified")
        return _scope_key(scope), language

    async def _m_setMyCommands(self, bot: BotState, p: Params) -> bool:
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
        key = self._command_scope(p)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)
        return True

    async def _m_getMyCommands(self, bot: BotState, p: Params) -> list[dict]:
        return _deep(bot.commands.get(self._command_scope(p), []))

    async def _m_deleteMyCommands(self, bot: BotState, p: Params) -> bool:
        bot.commands.pop(self._command_scope(p), None)
        return True

    async def _m_setChatMenuButton(self, bot: BotState, p: Params) -> bool:
        button = p.json("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad_request("can't parse menu button JSON object")
        chat_id = self._resolve_chat_id(p.values["chat_id"]) if p.has("chat_id") else None
        if chat_id is not None:
            self._chat(chat_id)
        bot.menu_buttons[chat_id] = button
        return True

    async def _m_getChatMenuButton(self, bot: BotState, p: Params) -> dict:
        chat_id = self._resolve_chat_id(p.values["chat_id"]) if p.has("chat_id") else None
        return _deep(bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "default"})

    def _set_text(self, bot: BotState, p: Params, kind: str, limit: int) -> bool:
        value = p.str(kind, "") or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        language = p.str("language_code", "") or ""
        if language and not LANGUAGE_RE.match(language):
            raise bad_request("invalid language code specified")
        bot.texts[(kind, language)] = value
        if kind == "name" and value and not language:
            bot.user["first_name"] = value
        return True

    def _get_text(self, bot: BotState, p: Params, kind: str) -> dict:
        language = p.str("language_code", "") or ""
        value = bot.texts.get((kind, language), bot.texts.get((kind, ""), BOT_FIRST_NAME if kind == "name" else ""))
        return {kind: value}

    async def _m_setMyName(self, bot: BotState, p: Params) -> bool:
        return self._set_text(bot, p, "name", 64)

    async def _m_getMyName(self, bot: BotState, p: Params) -> dict:
        return self._get_text(bot, p, "name")

    async def _m_setMyDescription(self, bot: BotState, p: Params) -> bool:
        return self._set_text(bot, p, "description", 512)

    async def _m_getMyDescription(self, bot: BotState, p: Params) -> dict:
        return self._get_text(bot, p, "description")

    async def _m_setMyShortDescription(self, bot: BotState, p: Params) -> bool:
        return self._set_text(bot, p, "short_description", 120)

    async def _m_getMyShortDescription(self, bot: BotState, p: Params) -> dict:
        return self._get_text(bot, p, "short_description")

    # chats and files

    async def _m_getChat(self, bot: BotState, p: Params) -> dict:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        info = {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}
        if chat["type"] == "private":
            user = self.users.get(chat["id"], {})
            info.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return info

    async def _m_getChatMember(self, bot: BotState, p: Params) -> dict:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        user_id = p.int("user_id")
        if user_id == bot.id:
            return {"status": "member", "user": dict(bot.user)}
        user = self.users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        if chat["type"] == "private" and chat["id"] != user_id:
            raise bad_request("user not found")
        return {"status": "member", "user": dict(user)}

    async def _m_getChatMemberCount(self, bot: BotState, p: Params) -> int:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        if chat["type"] == "private":
            return 2
        senders = {m.get("from", {}).get("id") for m in bot.chat_log(chat["id"]).messages.values()}
        return len(senders | {bot.id})

    async def _m_leaveChat(self, bot: BotState, p: Params) -> bool:
        self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        return True

    async def _m_pinChatMessage(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        if p.int("message_id") not in bot.chat_log(chat["id"]).messages:
            raise bad_request("message to pin not found")
        return True

    async def _m_unpinChatMessage(self, bot: BotState, p: Params) -> bool:
        self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        return True

    async def _m_setMessageReaction(self, bot: BotState, p: Params) -> bool:
        chat = self._chat(self._resolve_chat_id(p.values.get("chat_id")))
        if p.int("message_id") not in bot.chat_log(chat["id"]).messages:
            raise bad_request("message to react not found")
        return True

    async def _m_getFile(self, bot: BotState, p: Params) -> dict:
        file_id = p.str("file_id")
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored.info()

    def download(self, token: str, file_path: str) -> StoredFile:
        self._bot_for_token(token)
        stored = self.files_by_path.get(file_path)
        if stored is None:
            raise ApiError(404, "Not Found")
        self.stats["downloads"] += 1
        return stored


def _scope_key(scope: dict) -> str:
    scope = {k: v for k, v in scope.items() if v is not None}
    for key in ("chat_id", "user_id"):
        if key in scope and isinstance(scope[key], str) and scope[key].lstrip("-").isdigit():
            scope[key] = int(scope[key])
    return json.dumps(scope, sort_keys=True)


_METHODS = {name[3:].lower(): name[3:] for name in dir(Sandbox) if name.startswith("_m_")}


# --------------------------------------------------------------------------------------------
# HTTP


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method not in ("POST", "PUT") or not request.body_exists:
        return values, uploads
    ctype = request.content_type
    if ctype == "multipart/form-data":
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                continue
            part_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "")
            if part.filename is not None or (part_type and not part_type.startswith("text/plain")):
                uploads[part.name] = Upload(bytes(await part.read(decode=True)), part.filename, part_type or None)
            else:
                values[part.name] = await part.text()
        return values, uploads
    body = await request.read()
    if not body.strip():
        return values, uploads
    if ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(data, dict):
            raise bad_request("can't parse JSON encoded request")
        values.update(data)
        return values, uploads
    from urllib.parse import parse_qsl
    try:
        values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise bad_request("request must be encoded in UTF-8") from None
    return values, uploads


def _api_response(body: dict, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def _control_error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, dumps=_dumps)


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError):
        raise SandboxError(400, f"{what} must be base64") from None


def create_app(sandbox: Sandbox) -> web.Application:
    """The aiohttp application: the Bot API and the users' side.

    Bot API: ``/bot{token}/{method}`` (GET or POST; form, JSON or multipart) and
    ``/file/bot{token}/{file_path}``.

    Users' side (JSON in and out; ``token`` optional everywhere, default bot otherwise):

    - ``POST /sandbox/users`` {id?, first_name, last_name?, username?, language_code?} -> user;
      ``GET /sandbox/users``; ``POST /sandbox/users/{id}/block`` and ``/unblock``
    - ``POST /sandbox/messages`` {user_id, chat_id?, text?, photo? (base64 or {data, file_name}),
      document? ({data, file_name, mime_type}), caption?, reply_to_message_id?, chat_title?,
      extra?} -> Message
    - ``POST /sandbox/callbacks`` {user_id, chat_id, message_id, data} -> {callback_query_id};
      ``GET /sandbox/callbacks/{id}?timeout=`` -> {id, answered, answer}
    - ``POST /sandbox/inline_queries`` {user_id, query, offset?} -> {inline_query_id};
      ``GET /sandbox/inline_queries/{id}?timeout=`` -> {id, answered, answer}
    - ``GET /sandbox/events?chat_id=&after=&timeout=&types=`` -> {events, last}
    - ``GET /sandbox/chats/{chat_id}/messages`` -> [Message]; ``GET /sandbox/chats/{chat_id}``
    - ``GET /sandbox/stats``; ``POST /sandbox/reset``
    - ``POST /sandbox/faults`` (a Fault) / ``GET`` / ``DELETE``; ``POST /sandbox/limits`` / ``GET``
    - ``POST /sandbox/settings`` {privacy_mode?}
    - ``GET /sandbox/bots``; ``GET /sandbox/bots/{token|default}/commands?language_code=&scope=&user_id=``
    - ``GET /sandbox/webhook``; ``GET /sandbox/files/{file_id}`` -> the bytes
    """
    app = web.Application(client_max_size=UPLOAD_LIMIT + 10 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox

    async def api(request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            values, uploads = await _read_params(request)
            result, description = await sandbox.call(token, method, values, uploads)
        except ApiError as exc:
            return _api_response(exc.payload(), exc.code)
        body: dict[str, Any] = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return _api_response(body)

    async def api_root(request: web.Request) -> web.Response:
        return _api_response(ApiError(404, "Not Found").payload(), 404)

    async def download(request: web.Request) -> web.Response:
        try:
            stored = sandbox.download(request.match_info["token"], request.match_info["path"])
        except ApiError as exc:
            return _api_response(exc.payload(), exc.code)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def control(handler: Callable[[web.Request, dict], Awaitable[Any]]):
        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                body: dict = {}
                if request.body_exists:
                    raw = await request.read()
                    if raw.strip():
                        body = json.loads(raw)
                        if not isinstance(body, dict):
                            raise SandboxError(400, "the body must be a JSON object")
                result = await handler(request, body)
            except SandboxError as exc:
                return _control_error(exc.status, exc.message)
            except ApiError as exc:
                return _control_error(exc.code, exc.description)
            except (ValueError, TypeError, KeyError) as exc:
                return _control_error(400, f"{exc.__class__.__name__}: {exc}")
            if isinstance(result, web.StreamResponse):
                return result
            return web.json_response(result, dumps=_dumps)
        return wrapper

    def q_int(request: web.Request, name: str) -> int | None:
        value = request.query.get(name)
        return int(value) if value not in (None, "", "null", "None") else None

    def q_float(request: web.Request, name: str, default: float) -> float:
        value = request.query.get(name)
        return float(value) if value not in (None, "") else default

    async def create_user(request, body):
        return sandbox.create_user(**{k: body.get(k) for k in ("id", "first_name", "last_name", "username",
                                                              "language_code", "is_premium")})

    async def list_users(request, body):
        return [dict(u, blocked=u["id"] in sandbox.blocked) for u in sandbox.users.values()]

    async def block(request, body):
        return sandbox.block(int(request.match_info["user_id"]))

    async def unblock(request, body):
        return sandbox.unblock(int(request.match_info["user_id"]))

    async def post_message(request, body):
        if "user_id" not in body:
            raise SandboxError(400, "user_id is required")
        photo = body.get("photo")
        photo_name = body.get("photo_name")
        if isinstance(photo, dict):
            photo_name = photo.get("file_name") or photo_name
            photo = photo.get("data")
        document = body.get("document")
        file_name = mime_type = None
        if isinstance(document, dict):
            file_name, mime_type = document.get("file_name"), document.get("mime_type")
            document = document.get("data")
        return await sandbox.user_message(
            int(body["user_id"]), body.get("text"), chat_id=body.get("chat_id"), token=body.get("token"),
            photo=_b64(photo, "photo") if photo is not None else None, photo_name=photo_name,
            document=_b64(document, "document") if document is not None else None,
            file_name=file_name or body.get("file_name"), mime_type=mime_type or body.get("mime_type"),
            caption=body.get("caption"), reply_to_message_id=body.get("reply_to_message_id"),
            chat_title=body.get("chat_title"), extra=body.get("extra"))

    async def post_callback(request, body):
        for key in ("user_id", "message_id"):
            if key not in body:
                raise SandboxError(400, f"{key} is required")
        chat_id = body.get("chat_id", body["user_id"])
        query_id = sandbox.press_button(int(body["user_id"]), int(chat_id), int(body["message_id"]),
                                        body.get("data"), token=body.get("token"))
        return {"callback_query_id": query_id}

    async def get_callback(request, body):
        return await sandbox.wait_answer("callback", request.match_info["query_id"], q_float(request, "timeout", 0),
                                         request.query.get("token"))

    async def post_inline(request, body):
        if "user_id" not in body:
            raise SandboxError(400, "user_id is required")
        query_id = sandbox.inline_query(int(body["user_id"]), body.get("query", ""), token=body.get("token"),
                                        offset=body.get("offset", ""), chat_type=body.get("chat_type", "sender"))
        return {"inline_query_id": query_id}

    async def get_inline(request, body):
        return await sandbox.wait_answer("inline", request.match_info["query_id"], q_float(request, "timeout", 0),
                                         request.query.get("token"))

    async def events(request, body):
        types = [t for t in request.query.get("types", "").split(",") if t] or None
        return await sandbox.wait_events(q_int(request, "chat_id"), q_int(request, "after"),
                                         min(q_float(request, "timeout", 0.0), 300.0), types)

    async def chat_messages(request, body):
        return sandbox.chat_messages(int(request.match_info["chat_id"]), request.query.get("token"))

    async def chat_info(request, body):
        return sandbox.chat_info(int(request.match_info["chat_id"]), request.query.get("token"))

    async def stats(request, body):
        return sandbox.stats_snapshot()

    async def reset(request, body):
        await sandbox.reset()
        return {"ok": True}

    async def add_fault(request, body):
        allowed = {"method", "kind", "count", "chat_id", "retry_after", "delay", "description"}
        unknown = set(body) - allowed
        if unknown:
            raise SandboxError(400, f"unknown fault fields: {', '.join(sorted(unknown))}")
        return sandbox.add_fault(**body)

    async def list_faults(request, body):
        return [f.to_dict() for f in sandbox.faults]

    async def clear_faults(request, body):
        return {"removed": sandbox.clear_faults()}

    async def set_limits(request, body):
        return sandbox.set_limits(**body)

    async def get_limits(request, body):
        return sandbox.limits.to_dict()

    async def settings(request, body):
        if "privacy_mode" in body:
            sandbox.privacy_mode = bool(body["privacy_mode"])
        return {"privacy_mode": sandbox.privacy_mode}

    async def bots(request, body):
        return [{"token": b.token, "id": b.id, "username": b.user["username"], "active": b.active,
                 "webhook": b.webhook["url"] if b.webhook else None, "pending_updates": len(b.updates)}
                for b in sandbox.bots.values()]

    async def commands(request, body):
        token = request.match_info.get("token")
        return sandbox.commands_for(None if token in (None, "default") else token,
                                    request.query.get("language_code", ""), request.query.get("scope"),
                                    q_int(request, "user_id"))

    async def webhook(request, body):
        return sandbox.webhook_info(request.query.get("token"))

    async def file_bytes(request, body):
        stored = sandbox.file_bytes(request.match_info["file_id"])
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def health(request, body):
        return {"ok": True, "bots": len(sandbox.bots), "last_seq": sandbox.last_seq}

    app.router.add_route("*", "/bot{token}/{method}", api)
    app.router.add_route("*", "/bot{token}", api_root)
    app.router.add_route("*", "/bot{token}/", api_root)
    app.router.add_get("/file/bot{token}/{path:.+}", download)
    routes = [
        ("GET", "/sandbox/health", health), ("POST", "/sandbox/users", create_user),
        ("GET", "/sandbox/users", list_users), ("POST", "/sandbox/users/{user_id}/block", block),
        ("POST", "/sandbox/users/{user_id}/unblock", unblock), ("POST", "/sandbox/messages", post_message),
        ("POST", "/sandbox/callbacks", post_callback), ("GET", "/sandbox/callbacks/{query_id}", get_callback),
        ("POST", "/sandbox/inline_queries", post_inline), ("GET", "/sandbox/inline_queries/{query_id}", get_inline),
        ("GET", "/sandbox/events", events), ("GET", "/sandbox/chats/{chat_id}/messages", chat_messages),
        ("GET", "/sandbox/chats/{chat_id}", chat_info), ("GET", "/sandbox/stats", stats),
        ("POST", "/sandbox/reset", reset), ("POST", "/sandbox/faults", add_fault),
        ("GET", "/sandbox/faults", list_faults), ("DELETE", "/sandbox/faults", clear_faults),
        ("POST", "/sandbox/limits", set_limits), ("GET", "/sandbox/limits", get_limits),
        ("POST", "/sandbox/settings", settings), ("GET", "/sandbox/bots", bots),
        ("GET", "/sandbox/commands", commands), ("GET", "/sandbox/bots/{token}/commands", commands),
        ("GET", "/sandbox/webhook", webhook), ("GET", "/sandbox/files/{file_id}", file_bytes),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, control(handler))
    return app


@dataclass
class RunningSandbox:
    """A sandbox serving HTTP: ``url`` is the root (``http://127.0.0.1:PORT``)."""

    url: str
    sandbox: Sandbox
    runner: web.AppRunner

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def token(self) -> str:
        return DEFAULT_TOKEN

    async def stop(self) -> None:
        await self.sandbox.close()
        await self.runner.cleanup()

    async def __aenter__(self) -> "RunningSandbox":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()


async def start_sandbox(host: str = "127.0.0.1", port: int = 0, *, enforce_limits: bool = False,
                        sandbox: Sandbox | None = None) -> RunningSandbox:
    """Serve a sandbox on `host`:`port` (0: a free port) in the running event loop."""
    sandbox = sandbox or Sandbox(enforce_limits=enforce_limits)
    if enforce_limits:
        sandbox.limits.enforce = True
    runner = web.AppRunner(create_app(sandbox), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    url_host = f"[{host}]" if ":" in host else host
    url = f"http://{url_host}:{bound_port}"
    log.debug("sandbox listening on %s", url)
    return RunningSandbox(url, sandbox, runner)


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.sandbox [--host H] [--port P] [--enforce-limits]``: serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description="Local Telegram Bot API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--enforce-limits", action="store_true", help="answer 429 like Telegram when sending too fast")
    parser.add_argument("--debug", action="store_true", help="log every call (DEBUG)")
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")

    async def serve() -> None:
        running = await start_sandbox(args.host, args.port, enforce_limits=args.enforce_limits)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        print(f"Telegram sandbox on {running.url} (bot token for tests: {DEFAULT_TOKEN}); "
              f"point a bot at base_url={running.url}/bot", flush=True)
        try:
            await stop.wait()
        finally:
            await running.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
