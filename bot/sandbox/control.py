"""The users' side of the sandbox: the control API under ``/sandbox/...`` (JSON in and out).

``token`` is optional everywhere (in the body of a POST, else in the query): the default bot
otherwise.

- ``POST /sandbox/users`` {id?, first_name, last_name?, username?, language_code?, is_premium?,
  started? (default true; false: a user who has not opened the bot)} -> user;
  ``GET /sandbox/users``; ``POST /sandbox/users/{id}/block`` and ``/unblock``
- ``POST /sandbox/messages`` {user_id, chat_id?, text?, photo? (base64 or {data, file_name}),
  document? ({data, file_name, mime_type}), caption?, reply_to_message_id?, chat_title?,
  extra?} -> Message
- ``POST /sandbox/raw_updates?token=`` {any JSON object} -> {update_id}: queued verbatim as an
  update (the sandbox sets update_id), even one the bot cannot parse
- ``POST /sandbox/callbacks`` {user_id, chat_id, message_id, data} -> {callback_query_id};
  ``GET /sandbox/callbacks/{id}?timeout=`` -> {id, answered, answer}
- ``POST /sandbox/inline_queries`` {user_id, query, offset?} -> {inline_query_id};
  ``GET /sandbox/inline_queries/{id}?timeout=`` -> {id, answered, answer}
- ``GET /sandbox/events?chat_id=&after=&timeout=&types=`` -> {events, last}
- ``GET /sandbox/chats/{chat_id}/messages`` -> [Message]; ``GET /sandbox/chats/{chat_id}``
- ``GET /sandbox/stats``; ``POST /sandbox/reset``; ``GET /sandbox/health``
- ``POST /sandbox/faults`` (a Fault) / ``GET`` / ``DELETE``; ``POST /sandbox/limits`` / ``GET``
- ``POST /sandbox/settings`` {privacy_mode?}
- ``GET /sandbox/bots/{token|default}/commands?language_code=&scope=&user_id=``
- ``GET /sandbox/webhook``; ``GET /sandbox/files/{file_id}`` -> the bytes
"""

from __future__ import annotations

import base64
import json
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.sandbox.errors import ApiError, SandboxError
from bot.sandbox.state import Sandbox

Handler = Callable[[Sandbox, web.Request, dict], Awaitable[Any]]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, dumps=dumps)


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError):
        raise SandboxError(400, f"{what} must be base64") from None


def _q_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    return int(value) if value not in (None, "", "null", "None") else None


def _q_float(request: web.Request, name: str, default: float) -> float:
    value = request.query.get(name)
    return float(value) if value not in (None, "") else default


async def create_user(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    started = body.get("started")
    return sandbox.create_user(**{k: body.get(k) for k in ("id", "first_name", "last_name", "username",
                                                          "language_code", "is_premium")},
                               started=True if started is None else bool(started))


async def list_users(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return [dict(u, blocked=u["id"] in sandbox.blocked) for u in sandbox.users.values()]


async def block(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.block(int(request.match_info["user_id"]))


async def unblock(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.unblock(int(request.match_info["user_id"]))


async def post_message(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
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


async def post_raw_update(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return {"update_id": sandbox.inject_raw_update(body, request.query.get("token"))}


async def post_callback(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    for key in ("user_id", "message_id"):
        if key not in body:
            raise SandboxError(400, f"{key} is required")
    chat_id = body.get("chat_id", body["user_id"])
    query_id = sandbox.press_button(int(body["user_id"]), int(chat_id), int(body["message_id"]),
                                    body.get("data"), token=body.get("token"))
    return {"callback_query_id": query_id}


async def get_callback(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return await sandbox.wait_answer("callback", request.match_info["query_id"], _q_float(request, "timeout", 0),
                                     request.query.get("token"))


async def post_inline(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    if "user_id" not in body:
        raise SandboxError(400, "user_id is required")
    query_id = sandbox.inline_query(int(body["user_id"]), body.get("query", ""), token=body.get("token"),
                                    offset=body.get("offset", ""), chat_type=body.get("chat_type", "sender"))
    return {"inline_query_id": query_id}


async def get_inline(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return await sandbox.wait_answer("inline", request.match_info["query_id"], _q_float(request, "timeout", 0),
                                     request.query.get("token"))


async def events(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    types = [t for t in request.query.get("types", "").split(",") if t] or None
    return await sandbox.wait_events(_q_int(request, "chat_id"), _q_int(request, "after"),
                                     min(_q_float(request, "timeout", 0.0), 300.0), types)


async def chat_messages(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.chat_messages(int(request.match_info["chat_id"]), request.query.get("token"))


async def chat_info(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.chat_info(int(request.match_info["chat_id"]), request.query.get("token"))


async def stats(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.stats_snapshot()


async def reset(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    await sandbox.reset()
    return {"ok": True}


async def add_fault(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    allowed = {"method", "kind", "count", "chat_id", "retry_after", "delay", "description"}
    unknown = set(body) - allowed
    if unknown:
        raise SandboxError(400, f"unknown fault fields: {', '.join(sorted(unknown))}")
    if "kind" not in body:  # an empty body must not quietly fail every call with 500
        raise SandboxError(400, "say which fault: kind is one of 429, 500, 502, 504, timeout, 403_blocked, 400")
    return sandbox.add_fault(**body)


async def list_faults(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return [f.to_dict() for f in sandbox.faults]


async def clear_faults(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return {"removed": sandbox.clear_faults()}


async def set_limits(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.set_limits(**body)


async def get_limits(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.limits.to_dict()


async def settings(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    if "privacy_mode" in body:
        sandbox.privacy_mode = bool(body["privacy_mode"])
    return {"privacy_mode": sandbox.privacy_mode}


async def commands(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    token = request.match_info.get("token")
    return sandbox.commands_for(None if token in (None, "default") else token,
                                request.query.get("language_code", ""), request.query.get("scope"),
                                _q_int(request, "user_id"))


async def webhook(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return sandbox.webhook_info(request.query.get("token"))


async def file_bytes(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    stored = sandbox.file_bytes(request.match_info["file_id"])
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


async def health(sandbox: Sandbox, request: web.Request, body: dict) -> Any:
    return {"ok": True, "bots": len(sandbox.bots), "last_seq": sandbox.last_seq}


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/sandbox/health", health), ("POST", "/sandbox/users", create_user),
    ("GET", "/sandbox/users", list_users), ("POST", "/sandbox/users/{user_id}/block", block),
    ("POST", "/sandbox/users/{user_id}/unblock", unblock), ("POST", "/sandbox/messages", post_message),
    ("POST", "/sandbox/raw_updates", post_raw_update),
    ("POST", "/sandbox/callbacks", post_callback), ("GET", "/sandbox/callbacks/{query_id}", get_callback),
    ("POST", "/sandbox/inline_queries", post_inline), ("GET", "/sandbox/inline_queries/{query_id}", get_inline),
    ("GET", "/sandbox/events", events), ("GET", "/sandbox/chats/{chat_id}/messages", chat_messages),
    ("GET", "/sandbox/chats/{chat_id}", chat_info), ("GET", "/sandbox/stats", stats),
    ("POST", "/sandbox/reset", reset), ("POST", "/sandbox/faults", add_fault),
    ("GET", "/sandbox/faults", list_faults), ("DELETE", "/sandbox/faults", clear_faults),
    ("POST", "/sandbox/limits", set_limits), ("GET", "/sandbox/limits", get_limits),
    ("POST", "/sandbox/settings", settings), ("GET", "/sandbox/bots/{token}/commands", commands),
    ("GET", "/sandbox/webhook", webhook), ("GET", "/sandbox/files/{file_id}", file_bytes),
]


def _route(sandbox: Sandbox, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler as a route: the JSON object body read, errors answered as ``{"ok": false, "error"}``."""
    async def route(request: web.Request) -> web.StreamResponse:
        try:
            body: dict = {}
            if request.body_exists:
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise SandboxError(400, "the body must be a JSON object")
            result = await handler(sandbox, request, body)
        except SandboxError as exc:
            return _error(exc.status, exc.message)
        except ApiError as exc:
            return _error(exc.code, exc.description)
        except (ValueError, TypeError, KeyError) as exc:
            return _error(400, f"{exc.__class__.__name__}: {exc}")
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result, dumps=dumps)
    return route


def add_control_routes(app: web.Application, sandbox: Sandbox) -> None:
    for verb, path, handler in ROUTES:
        app.router.add_route(verb, path, _route(sandbox, handler))
