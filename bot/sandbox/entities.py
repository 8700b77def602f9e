"""Text as Telegram stores it: parse modes (HTML, MarkdownV2, legacy Markdown), the entities
Telegram detects by itself, trimming and length limits.

Offsets and lengths are in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Callable

from bot.sandbox.errors import bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
})


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

