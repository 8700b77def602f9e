"""A local Telegram Bot API emulator (the sandbox), a client for its users' side and a terminal chat.

    running = await start_sandbox()                  # http://127.0.0.1:PORT
    # the bot: base_url=f"{running.url}/bot", base_file_url=f"{running.url}/file/bot"
    client = SandboxClient(running.url)
    user = await client.create_user(first_name="Li", language_code="zh")
    await client.send(user["id"], "/start")
    replies = await client.wait_for_reply(user["id"], after_seq=0)

The server side never imports `telegram`. Its modules, by concern:

- `entities`: text entities (HTML, MarkdownV2, Markdown; UTF-16 offsets; `format_text`);
- `files`: uploads, stored files, image and photo sizes;
- `state`: users, chats, bots, limits, faults, the event log (`Sandbox`);
- `methods`: the Bot API methods, in one table (`METHODS`), and `call`;
- `control`: the users' side, `/sandbox/...` (the routes are listed there);
- `app`: the HTTP app, `start_sandbox`, `RunningSandbox`, `main`;
- `errors`: the errors of both sides.
"""

from bot.sandbox.app import RunningSandbox, create_app, start_sandbox
from bot.sandbox.client import SandboxClient, SandboxClientError
from bot.sandbox.entities import format_text, parse_html, parse_markdown, parse_markdown_v2
from bot.sandbox.errors import ApiError, SandboxError
from bot.sandbox.state import DEFAULT_TOKEN, Fault, Limits, Sandbox
from bot.sandbox.terminal import run_terminal_chat

__all__ = [
    "DEFAULT_TOKEN", "ApiError", "Fault", "Limits", "RunningSandbox", "Sandbox", "SandboxClient",
    "SandboxClientError", "SandboxError", "create_app", "format_text", "parse_html", "parse_markdown",
    "parse_markdown_v2", "run_terminal_chat", "start_sandbox",
]
