"""Talk to the bot in a terminal, as a Telegram user would, through the sandbox.

Interactive (standard input is a terminal): the bot's messages are printed as they arrive,
reminders included; buttons are numbered and typing the number presses one. Lines starting
with ``:`` are the terminal's own commands (``:photo PATH``, ``:file PATH``, ``:quit``, ``:help``).

Scripted (standard input is a file or a pipe): one message per line; after each, the bot's
replies are printed once it has gone quiet, then the next line is sent. So

    printf '/start\\n/help\\n' | qingfeng chat

prints the greeting and the help and exits.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import IO

from bot.i18n import N_, Translate, english
from bot.sandbox.client import SandboxClient, SandboxClientError

QUIET_SECONDS = 0.8       # the bot has answered once it says nothing more for this long
FIRST_REPLY_TIMEOUT = 20  # scripted mode: how long to wait for the first reply to a line
SHOWN_EVENTS = ["message", "edit", "callback_answer"]
HELP = N_("Type a message and press Enter. A number presses the button with that number on the last message "
          "('3 sends the text 3).\n"
          "  :photo PATH [caption]   send a photo        :file PATH [caption]   send a file\n"
          "  :help                   this help           :quit or /quit         leave (or Ctrl-D)")


class TerminalChat:
    """One user's side of a private chat, rendered as text; the terminal's own words in `_`'s language
    (the CLI's), the bot's as the bot sends them."""

    def __init__(self, client: SandboxClient, user: dict, output: IO[str], _: Translate = english):
        self._ = _
        self.client = client
        self.user = user
        self.chat_id = user["id"]
        self.output = output
        self.buttons: list[tuple[dict, dict]] = []   # (message, button) in the order shown
        self.downloads = Path(tempfile.mkdtemp(prefix="qingfeng-chat-"))

    def say(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    async def show(self, event: dict) -> None:
        if event["type"] == "callback_answer":
            notice = event.get("text")
            if notice:
                self.say(self._("Qingfeng (notice) › {notice}", notice=notice))
            return
        message = event.get("message") or {}
        marker = self._("(edited) ") if event["type"] == "edit" else ""
        body = message.get("text") or message.get("caption") or ""
        attachment = await self._attachment(message)
        lines = [self._("Qingfeng › {text}", text=marker + body).rstrip()]
        if attachment:
            lines.append(f"  [{attachment}]")
        keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if keyboard or event["type"] != "edit":  # a number presses the last message's buttons, none if it has none
            self.buttons = []
            for row in keyboard:
                for button in row:
                    self.buttons.append((message, button))
                    target = f" → {button['url']}" if button.get("url") else ""
                    lines.append(f"  [{len(self.buttons)}] {button['text']}{target}")
        self.say("\n".join(lines))

    async def _attachment(self, message: dict) -> str | None:
        if message.get("photo"):
            biggest = message["photo"][-1]
            path = await self._save(biggest["file_id"], f"photo-{message['message_id']}.jpg")
            return self._("photo {width}x{height}, saved to {path}", width=biggest.get("width"),
                          height=biggest.get("height"), path=path)
        if message.get("document"):
            document = message["document"]
            name = Path(document.get("file_name") or f"file-{message['message_id']}").name
            path = await self._save(document["file_id"], name)
            return self._("file {name}, saved to {path}", name=name, path=path)
        return None

    async def _save(self, file_id: str, name: str) -> Path:
        path = self.downloads / name
        path.write_bytes(await self.client.download(file_id))
        return path

    async def act(self, line: str) -> bool:
        """Carry out one typed line; False when the user wants to leave."""
        try:
            return await self._act(line)
        except SandboxClientError as refused:  # as Telegram would refuse it, e.g. over 4096 characters
            self.say(self._("(Telegram refused that: {reason})", reason=refused))
            return True

    async def _act(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit", "/quit", "/exit"):  # the bot has no /quit: a user typing it means leave
            return False
        if line == ":help":
            self.say(self._(HELP))
        elif line.startswith((":photo ", ":file ")):
            await self._send_file(line)
        elif line.isdigit() and self.buttons:
            await self._press(int(line))
        elif line.startswith("'") and line[1:].strip():  # '3: the digit as text, as Telegram would send it
            await self.client.send(self.user["id"], line[1:].strip(), chat_id=self.chat_id)
        else:
            await self.client.send(self.user["id"], line, chat_id=self.chat_id)
        return True

    async def _press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            self.say(self._("(there is no button {number}; the last message has {count})", number=number,
                            count=len(self.buttons)))
            return
        message, button = self.buttons[number - 1]
        if "callback_data" not in button:
            target = button.get("url") or button.get("switch_inline_query") or "?"
            self.say(self._("(button {number} opens {target} outside this chat)", number=number, target=target))
            return
        await self.client.press(self.user["id"], message, button["callback_data"])

    async def _send_file(self, line: str) -> None:
        kind, _, rest = line.partition(" ")
        path_text, _, caption = rest.strip().partition(" ")
        path = Path(path_text).expanduser()
        if not path.is_file():
            self.say(self._("(no file at {path})", path=path))
            return
        if kind == ":photo":
            await self.client.send_photo(self.user["id"], path, caption=caption or None)
        else:
            await self.client.send_document(self.user["id"], path, caption=caption or None)


async def run_terminal_chat(client: SandboxClient, user: dict, *, input_stream: IO[str] | None = None,
                            output: IO[str] | None = None, _: Translate = english) -> None:
    """Chat as `user` until end of input or ``:quit``, the terminal's own words said with `_`."""
    input_stream = input_stream or sys.stdin
    chat = TerminalChat(client, user, output or sys.stdout, _)
    if input_stream.isatty():
        await _interactive(chat, input_stream)
    else:
        await _scripted(chat, input_stream)


async def _interactive(chat: TerminalChat, input_stream: IO[str]) -> None:
    chat.say(chat._("You are {name} (Telegram id {id}). Try /start. :help for help, Ctrl-D to leave.",
                    name=chat.user.get("first_name"), id=chat.user["id"]))
    printer = asyncio.create_task(_print_forever(chat))
    try:
        while True:
            line = await asyncio.to_thread(input_stream.readline)
            if not line or not await chat.act(line):
                break
    finally:
        printer.cancel()


async def _print_forever(chat: TerminalChat) -> None:
    cursor = await chat.client.last_seq()
    while True:
        batch = await chat.client.events(chat_id=chat.chat_id, after=cursor, timeout=25, types=SHOWN_EVENTS)
        cursor = batch["last"]
        for event in batch["events"]:
            await chat.show(event)


async def _scripted(chat: TerminalChat, input_stream: IO[str]) -> None:
    for line in input_stream:
        if not line.strip():
            continue
        cursor = await chat.client.last_seq()
        chat.say(chat._("You › {text}", text=line.strip()))
        if not await chat.act(line):
            break
        await _print_replies(chat, cursor)


async def _print_replies(chat: TerminalChat, cursor: int) -> None:
    """Print what the bot says after `cursor` until it has been quiet for a moment."""
    timeout: float = FIRST_REPLY_TIMEOUT
    while True:
        batch = await chat.client.events(chat_id=chat.chat_id, after=cursor, timeout=timeout, types=SHOWN_EVENTS)
        cursor = batch["last"]
        if not batch["events"]:
            return
        for event in batch["events"]:
            await chat.show(event)
        timeout = QUIET_SECONDS
