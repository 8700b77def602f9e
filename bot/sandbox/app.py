"""The sandbox over HTTP: the Bot API (``/bot{token}/{method}``, ``/file/bot{token}/{path}``)
and the users' side (``/sandbox/...``, see ``bot.sandbox.control``); ``start_sandbox`` serves it
in the running event loop, ``main`` on its own (``python -m bot.sandbox``).

The real bot runs against it unchanged, only its base URL differs. Answers are plain JSON dicts
shaped like Telegram's objects, and errors are Telegram's, word for word where it matters
(``Bad Request: message is not modified: ...``, 429 with ``retry_after``, 403 for a blocked
user, 400 ``chat not found`` for one who never opened the bot, 409 for getUpdates while a
webhook is set, 401/404).

The sandbox deliberately does not import ``telegram``: it is the server side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from bot.i18n import Translate, english
from bot.sandbox import methods
from bot.sandbox.control import add_control_routes, dumps
from bot.sandbox.errors import ApiError, bad_request
from bot.sandbox.files import UPLOAD_LIMIT, Upload
from bot.sandbox.state import DEFAULT_TOKEN, Sandbox

log = logging.getLogger(__name__)

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
    try:
        values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise bad_request("request must be encoded in UTF-8") from None
    return values, uploads


def _api_response(body: dict, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


def create_app(sandbox: Sandbox) -> web.Application:
    """The aiohttp application: the Bot API (GET or POST; form, JSON or multipart) with file
    downloads, and the users' side."""
    app = web.Application(client_max_size=UPLOAD_LIMIT + 10 * 1024 * 1024)

    async def api(request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            values, uploads = await _read_params(request)
            result, description = await methods.call(sandbox, token, method, values, uploads)
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

    app.router.add_route("*", "/bot{token}/{method}", api)
    app.router.add_route("*", "/bot{token}", api_root)
    app.router.add_route("*", "/bot{token}/", api_root)
    app.router.add_get("/file/bot{token}/{path:.+}", download)
    add_control_routes(app, sandbox)
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


def main(argv: list[str] | None = None, _: Translate = english) -> int:
    """``python -m bot.sandbox [--host H] [--port P] [--enforce-limits]``: serve until stopped; `_`
    says the banner in the CLI's language (`qingfeng sandbox`)."""
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
        # The bot's setting is the server's address: it adds /bot<token> itself (bot/app.py).
        print(_("Telegram sandbox on {url} (bot token for tests: {token}); point a bot at it with "
                "QINGFENG_TELEGRAM__BASE_URL={url} (telegram.base_url), and talk to it with "
                "qingfeng chat --sandbox {url}", url=running.url, token=DEFAULT_TOKEN), flush=True)
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
