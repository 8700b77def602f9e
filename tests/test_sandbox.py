"""The sandbox behaves like the Bot API server as python-telegram-bot sees it.

These tests use PTB's own `Bot` against the sandbox (no mock), so a difference between the
sandbox and what PTB expects from Telegram shows up here rather than as a puzzling e2e failure.
"""

import asyncio
import contextlib
import io
import subprocess
import sys

import httpx
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.sandbox.client import SandboxClient
from bot.sandbox.app import start_sandbox
from bot.sandbox.state import DEFAULT_TOKEN
from bot.sandbox.terminal import run_terminal_chat

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")


@pytest.fixture
async def sandbox():
    running = await start_sandbox()
    client = SandboxClient(running.url)
    bot = Bot(DEFAULT_TOKEN, base_url=f"{running.url}/bot", base_file_url=f"{running.url}/file/bot")
    await bot.initialize()
    yield running, client, bot
    await bot.shutdown()
    await client.aclose()
    await running.stop()


async def test_updates_arrive_in_order_and_offset_confirms_them(sandbox):
    _, client, bot = sandbox
    user = await client.create_user(first_name="Li", language_code="zh")
    await client.send(user["id"], "one")
    await client.send(user["id"], "two")

    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["one", "two"]
    assert updates[0].message.from_user.language_code == "zh"
    assert updates[0].message.chat.id == user["id"]  # a private chat's id is the user's id

    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_message_ids_and_limits_are_telegrams(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    first = await bot.send_message(user["id"], "hello")
    second = await bot.send_message(user["id"], "again")
    assert second.message_id == first.message_id + 1

    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(user["id"], "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)data"):
        await bot.send_message(user["id"], "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("b", callback_data="d" * 65)]]))


async def test_buttons_edits_and_callback_answers(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    sent = await bot.send_message(user["id"], "pick", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="a")]]))
    query_id = await client.press(user["id"], (user["id"], sent.message_id), "a")
    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "a" and update.callback_query.message.message_id == sent.message_id

    await bot.answer_callback_query(update.callback_query.id, text="done")
    await bot.edit_message_text("picked", chat_id=user["id"], message_id=sent.message_id)
    answer = await client.callback_answer(query_id)
    assert answer["answer"]["text"] == "done"
    assert [m.get("text") for m in await client.messages(user["id"])] == ["picked"]


async def test_files_go_both_ways(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    await client.send_document(user["id"], b"ledger", file_name="ledger.csv", mime_type="text/csv")
    (update,) = await bot.get_updates(timeout=0)
    received = await (await update.message.document.get_file()).download_as_bytearray()
    assert bytes(received) == b"ledger"

    photo = await bot.send_photo(user["id"], io.BytesIO(PNG), caption="chart")
    assert await client.download(photo.photo[-1].file_id) == PNG


async def test_faults_look_like_telegram_errors(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    await client.inject_fault("sendMessage", "429", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user["id"], "x")
    retry_after = caught.value.retry_after  # an int now, a timedelta in a later PTB
    assert getattr(retry_after, "total_seconds", lambda: retry_after)() == 3

    await client.block(user["id"])
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(user["id"], "x")


async def test_a_user_who_has_not_opened_the_bot_cannot_be_written_to(sandbox):
    running, client, bot = sandbox
    user = await client.create_user(started=False)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(user["id"], "a reminder")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_photo(user["id"], io.BytesIO(PNG))
    async with httpx.AsyncClient(base_url=f"{running.url}/bot{DEFAULT_TOKEN}", trust_env=False) as http:
        answer = await http.post("/sendDocument", data={"chat_id": str(user["id"])},
                                 files={"document": ("a.txt", b"text", "text/plain")})
    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    assert (await client.chat(user["id"]))["started"] is False

    await client.send(user["id"], "hello", chat_id=-100)  # a group message opens no private chat
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(user["id"], "still not")

    await client.send(user["id"], "/start")
    sent = await bot.send_message(user["id"], "welcome")
    assert sent.chat.id == user["id"] and (await client.chat(user["id"]))["started"] is True
    assert [m["text"] for m in await client.messages(user["id"])] == ["/start", "welcome"]


async def test_started_is_the_default_and_can_be_set_again(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    await bot.send_message(user["id"], "at once")
    await client.create_user(id=user["id"], started=False)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(user["id"], "no more")
    await client.create_user(id=user["id"])
    await bot.send_message(user["id"], "again")


async def test_only_delivered_messages_are_recorded(sandbox):
    """What a user really received: the chat's messages, its "message" events and
    sent_per_chat hold a bot's message only if the send succeeded."""
    _, client, bot = sandbox
    reader, blocker, stranger = (await client.create_user(), await client.create_user(),
                                 await client.create_user(started=False))
    await client.block(blocker["id"])
    await client.inject_fault("sendMessage", "500", chat_id=reader["id"])
    for user in (reader, blocker, stranger, reader):
        with contextlib.suppress(TelegramError):
            await bot.send_message(user["id"], f"to {user['id']}")

    assert [m["text"] for m in await client.messages(reader["id"])] == [f"to {reader['id']}"]
    assert await client.messages(blocker["id"]) == [] and await client.messages(stranger["id"]) == []
    events = (await client.events(after=0, types=["message"]))["events"]
    assert [e["chat_id"] for e in events] == [reader["id"]]
    stats = await client.stats()
    assert stats["sent_per_chat"] == {str(reader["id"]): 1} and stats["sent_messages"] == 1
    assert stats["calls"]["sendMessage"] == 4
    assert stats["errors"] == {"500": 1, "403": 1, "400": 1}


async def test_flood_limit_per_chat_is_enforced_when_asked(sandbox):
    _, client, bot = sandbox
    user = await client.create_user()
    await client.set_limits(enforce=True)
    with pytest.raises(RetryAfter):
        for _ in range(10):
            await bot.send_message(user["id"], "fast")


async def test_webhook_excludes_get_updates(sandbox):
    running, _, bot = sandbox
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    with pytest.raises(Exception, match="(?i)webhook"):
        await bot.get_updates(timeout=0)
    assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


UNPARSEABLE = {"message": {"message_id": "x", "date": "not-a-date", "chat": 5}}


async def test_a_raw_update_is_delivered_verbatim_by_get_updates(sandbox):
    running, client, bot = sandbox
    from telegram import Update

    with pytest.raises(Exception):  # what the sandbox must be able to hand to a bot
        Update.de_json({"update_id": 1, **UNPARSEABLE}, bot)
    user = await client.create_user()
    await client.send(user["id"], "before")
    update_id = await client.inject_raw_update(UNPARSEABLE)
    await client.send(user["id"], "after")

    async with httpx.AsyncClient(base_url=f"{running.url}/bot{DEFAULT_TOKEN}", trust_env=False) as http:
        updates = (await http.post("/getUpdates", json={"timeout": 0})).json()["result"]
        assert [u["update_id"] for u in updates] == [update_id - 1, update_id, update_id + 1]
        assert updates[1] == {"update_id": update_id, **UNPARSEABLE}
        confirmed = (await http.post("/getUpdates", json={"offset": update_id + 2, "timeout": 0})).json()
        assert confirmed == {"ok": True, "result": []}


async def test_a_raw_update_is_delivered_verbatim_by_webhook(sandbox):
    running, client, bot = sandbox
    received = []

    async def hook(request):
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", secret_token="s3cret")
        update_id = await client.inject_raw_update(UNPARSEABLE)
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received == [("s3cret", {"update_id": update_id, **UNPARSEABLE})]
        assert (await bot.get_webhook_info()).pending_update_count == 0
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_a_raw_update_must_be_a_json_object(sandbox):
    running, _, _ = sandbox
    async with httpx.AsyncClient(base_url=running.url, trust_env=False) as http:
        answer = await http.post("/sandbox/raw_updates", content=b"[1, 2]")
    assert answer.status_code == 400 and not answer.json()["ok"]


async def test_a_fault_without_a_kind_is_refused_not_made_a_500_on_every_call(sandbox):
    running, client, _ = sandbox
    async with httpx.AsyncClient(base_url=running.url, trust_env=False) as http:
        answer = await http.post("/sandbox/faults", content=b"")
    assert answer.status_code == 400 and "kind" in answer.json()["error"]
    assert await client.faults() == []


async def test_commands_are_kept_per_language(sandbox):
    _, client, bot = sandbox
    from telegram import BotCommand

    await bot.set_my_commands([BotCommand("help", "帮助")], language_code="zh")
    await bot.set_my_commands([BotCommand("help", "Help")])
    assert (await client.commands("zh"))[0]["description"] == "帮助"
    assert (await client.commands(""))[0]["description"] == "Help"


async def test_terminal_chat_numbers_buttons_and_presses_them(sandbox, tmp_path):
    """A scripted terminal session: a message, then "1" presses the first button shown."""
    _, client, bot = sandbox
    user = await client.create_user(id=4242)
    script = io.StringIO("hello\n1\n1\n'2\n")
    output = io.StringIO()

    async def answer_like_a_bot():
        offset = 0
        for _ in range(4):
            (update,) = await bot.get_updates(offset=offset, timeout=10)
            offset = update.update_id + 1
            if update.message and update.message.text == "hello":
                await bot.send_message(4242, "choose", reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Yes", callback_data="yes")]]))
            elif update.message:
                await bot.send_message(4242, f"got {update.message.text}")
            else:
                await bot.send_message(4242, f"pressed {update.callback_query.data}")

    answering = asyncio.create_task(answer_like_a_bot())
    await run_terminal_chat(client, user, input_stream=script, output=output)
    await answering
    text = output.getvalue()
    assert "Qingfeng › choose\n  [1] Yes" in text
    assert "Qingfeng › pressed yes" in text
    # The last message has no buttons: a number is text, not a press of an older message's button;
    # '2 is the text 2.
    assert "Qingfeng › got 1" in text and "Qingfeng › got 2" in text and text.count("pressed yes") == 1


def test_sandbox_runs_on_its_own():
    result = subprocess.run([sys.executable, "-m", "bot.sandbox", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--enforce-limits" in result.stdout


async def test_the_terminal_leaves_on_quit_whether_typed_with_a_colon_or_a_slash():
    """The bot has no /quit: a user who types it wants to leave, and nothing is sent to the bot."""
    import io

    from bot.sandbox.terminal import TerminalChat

    class NoClient:
        async def send(self, *args, **kwargs):
            raise AssertionError("nothing may be sent")

    chat = TerminalChat(NoClient(), {"id": 1}, io.StringIO())
    for line in (":quit", "/quit", "/exit"):
        assert await chat.act(line) is False


async def test_the_terminal_speaks_the_cli_language():
    """The terminal's own words (who speaks, its notices, its help) are in the CLI's language; the bot's
    text is shown as the bot sent it."""
    import io

    from bot.i18n import translator
    from bot.sandbox.terminal import TerminalChat

    output = io.StringIO()
    chat = TerminalChat(object(), {"id": 1}, output, translator("zh"))
    await chat.show({"type": "message", "message": {"message_id": 1, "text": "Hello {there}", "reply_markup": {
        "inline_keyboard": [[{"text": "Site", "url": "https://example.org"}]]}}})
    await chat.show({"type": "callback_answer", "text": "已保存"})
    await chat.act(":help")
    await chat.act("7")
    text = output.getvalue()
    assert "清风 › Hello {there}\n  [1] Site → https://example.org" in text
    assert "清风（提示）› 已保存" in text and "输入消息后按回车。" in text and "（没有第 7 个按钮；最近一条消息有 1 个）" in text
    assert "Qingfeng" not in text and "Type a message" not in text
