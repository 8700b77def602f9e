"""End-to-end harness: the real bot process (`python -m bot run`) against the local Bot API sandbox.

Tests talk to the bot as Telegram users would, over HTTP through the sandbox:

    async def test_greeting(bot_factory):
        bot = await bot_factory()
        user = await bot.user(language_code="en")
        replies = await user.send("/start")
        assert "Qingfeng" in replies[0]["text"]
        replies = await user.press("Help")

Nothing of our own code is mocked: the only stand-in is the sandbox, at the network edge.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.sandbox.client import SandboxClient
from bot.sandbox.app import RunningSandbox

TOKEN = "123456:SANDBOX-TOKEN-qingfeng-local-0000000"
SUPERVISOR_ID = 900000001
QUIET_SECONDS = 0.5   # a reply is complete when the bot has said nothing more for this long
REPLY_TIMEOUT = 15.0
_user_ids = itertools.count(200000001)


@dataclass
class ChatUser:
    """A Telegram user in the sandbox, in their private chat with the bot (or a given chat)."""

    bot: "BotProcess"
    id: int
    chat_id: int
    info: dict[str, Any]
    last: list[dict] = field(default_factory=list)

    async def send(self, text: str, *, chat_id: int | None = None, expect_reply: bool = True) -> list[dict]:
        """Send a text message; return the bot's messages (and edits) that follow it."""
        chat = chat_id or self.chat_id
        after = await self.bot.last_seq()
        await self.bot.client.send(self.id, text, chat_id=chat)
        return await self._collect(chat, after, expect_reply)

    async def send_photo(self, photo: bytes | Path, caption: str | None = None) -> list[dict]:
        after = await self.bot.last_seq()
        await self.bot.client.send_photo(self.id, photo, caption=caption)
        return await self._collect(self.chat_id, after, True)

    async def send_document(self, data: bytes, file_name: str, mime_type: str, caption: str | None = None) -> list[dict]:
        after = await self.bot.last_seq()
        await self.bot.client.send_document(self.id, data, file_name=file_name, mime_type=mime_type, caption=caption)
        return await self._collect(self.chat_id, after, True)

    async def press(self, label: str | None = None, *, data: str | None = None, message: dict | None = None,
                    expect_reply: bool = True) -> list[dict]:
        """Press an inline button by its label (or send raw callback data, forged or not)."""
        message = message or self._message_with_buttons()
        if data is None:
            data = button_data(message, label)
        after = await self.bot.last_seq()
        await self.bot.client.press(self.id, message, data)
        return await self._collect(message["chat"]["id"], after, expect_reply)

    def _message_with_buttons(self) -> dict:
        for message in reversed(self.last):
            if buttons_of(message):
                return message
        raise AssertionError(f"no message with buttons among the last replies: {[m.get('text') for m in self.last]}")

    async def _collect(self, chat_id: int, after: int, expect_reply: bool) -> list[dict]:
        messages = await self.bot.collect(chat_id, after, expect_reply=expect_reply)
        if messages:
            self.last = messages
        return messages


def buttons_of(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def with_button(messages: list[dict], label: str) -> dict:
    """The last of these messages with a button labelled `label`: a notice from the outbox
    (a new report, a reminder) may arrive in between, with buttons of its own."""
    for message in reversed(messages):
        if any(label in button["text"] for button in buttons_of(message)):
            return message
    raise AssertionError(f"no button {label!r} among {[m.get('text') for m in messages]}")


def button_data(message: dict, label: str | None) -> str:
    for button in buttons_of(message):
        if label is None or label in button["text"]:
            return button["callback_data"]
    raise AssertionError(f"no button {label!r} in {[b['text'] for b in buttons_of(message)]}")


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


@dataclass
class BotProcess:
    """The bot under test, in its own process, with its own database and data directory."""

    sandbox: RunningSandbox
    client: SandboxClient
    data_dir: Path
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen | None = None

    @property
    def sandbox_client(self) -> SandboxClient:
        return self.client

    @property
    def log_path(self) -> Path:
        return self.data_dir / "bot.log"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def start(self, timeout: float = 60) -> None:
        polls_before = await self._ready_calls()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if await self._ready_calls() > polls_before:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the bot did not start polling:\n{self.log_text()[-3000:]}")

    async def _ready_calls(self) -> int:
        """getUpdates (polling) or setWebhook (webhook) calls: the bot is ready once it makes one."""
        calls = (await self.client.stats())["calls"]
        return calls.get("getUpdates", 0) + calls.get("setWebhook", 0)

    async def stop(self) -> int:
        """SIGTERM, as systemd would; returns the exit code."""
        return await self._end(signal.SIGTERM)

    async def kill(self) -> int:
        """SIGKILL: no chance to save anything."""
        return await self._end(signal.SIGKILL)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def _end(self, sig: int) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        code = await asyncio.to_thread(self.process.wait, 30)
        self.process = None
        return code

    async def user(self, *, id: int | None = None, language_code: str = "zh", first_name: str = "Test",
                   last_name: str | None = None, username: str | None = None) -> ChatUser:
        user_id = id or next(_user_ids)
        info = await self.client.create_user(id=user_id, first_name=first_name, last_name=last_name,
                                             username=username, language_code=language_code)
        return ChatUser(self, user_id, user_id, info)

    async def supervisor(self, language_code: str = "zh") -> ChatUser:
        return await self.user(id=SUPERVISOR_ID, first_name="Supervisor", language_code=language_code)

    async def last_seq(self) -> int:
        return (await self.client.events(after=None, timeout=0))["last"]

    async def collect(self, chat_id: int, after: int, *, expect_reply: bool = True) -> list[dict]:
        """Bot messages in a chat after event `after`, once the bot has gone quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_TIMEOUT
        messages: dict[int, dict] = {}
        cursor = after
        while loop.time() < deadline:
            wait = QUIET_SECONDS if (messages or not expect_reply) else max(0.0, deadline - loop.time())
            batch = await self.client.events(chat_id=chat_id, after=cursor, timeout=wait)
            cursor = batch["last"]
            fresh = [e for e in batch["events"] if e["type"] in ("message", "edit") and e.get("message")]
            for event in fresh:
                messages[event["message"]["message_id"]] = event["message"]
            if not fresh and (messages or not expect_reply):
                break
        if expect_reply and not messages:
            raise AssertionError(f"the bot did not reply within {REPLY_TIMEOUT} s:\n{self.log_text()[-2000:]}")
        return list(messages.values())


def bot_environment(sandbox_url: str, database_url: str, data_dir: Path, key: str, extra: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("QINGFENG_")}
    env.update({
        "QINGFENG_TELEGRAM__TOKEN": TOKEN,
        "QINGFENG_TELEGRAM__BASE_URL": sandbox_url,
        "QINGFENG_TELEGRAM__POLL_TIMEOUT": "1",
        "QINGFENG_DATABASE__URL": database_url,
        "QINGFENG_BOT__DATA_DIR": str(data_dir),
        "QINGFENG_SECURITY__ENCRYPTION_KEYS": key,
        "QINGFENG_ACCESS__SUPERVISORS": str(SUPERVISOR_ID),
        "QINGFENG_CONFIG": str(Path(__file__).resolve().parent.parent / "config.yaml"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env
