"""The real bot process against the sandbox: greeting, help, language, bad input, outages, webhook."""

import asyncio
import socket

import pytest

from tests.e2e import SUPERVISOR_ID, buttons_of, text_of

pytestmark = pytest.mark.e2e


async def test_greeting_in_the_users_telegram_language(shared_bot):
    bot = shared_bot
    zh = await bot.user(language_code="zh-hans")
    en = await bot.user(language_code="en")
    greeting = text_of(await zh.send("/start"))
    assert "清风" in greeting
    assert "督查人员看不到您是谁" in greeting and "没有人能知道" not in greeting  # Telegram can: no more is promised
    replies = await en.send("/start")
    assert "Qingfeng" in text_of(replies) and "the supervisors cannot see who you are" in text_of(replies)
    assert "Ask a question" in [b["text"] for b in buttons_of(replies[-1])]


async def test_help_lists_commands_and_supervisors_see_more(shared_bot):
    bot = shared_bot
    user = await bot.user(language_code="en")
    supervisor = await bot.supervisor(language_code="en")
    help_text = text_of(await user.send("/help"))
    assert "/language" in help_text
    assert "Report inbox" not in text_of(await user.send("/start"))
    assert "Report inbox" in [b["text"] for b in buttons_of((await supervisor.send("/start"))[-1])]


async def test_language_choice_is_remembered_across_a_restart(bot_factory):
    bot = await bot_factory()
    user = await bot.user(language_code="zh")
    await user.send("/language")
    assert "English" in text_of(await user.press("English"))
    await bot.restart()
    assert "Qingfeng" in text_of(await user.send("/start"))
    assert "中文" in text_of(await user.send("/language zh"))


async def test_commands_published_in_both_languages(shared_bot):
    bot = shared_bot
    zh = await bot.client.commands(language_code="zh")
    en = await bot.client.commands(language_code="en")
    assert {"start", "help", "language"} <= {c["command"] for c in en}
    assert any("菜单" in c["description"] for c in zh)


async def test_unknown_command_and_forged_button_get_polite_answers(shared_bot):
    bot = shared_bot
    user = await bot.user(language_code="en")
    assert "/help" in text_of(await user.send("/frobnicate"))
    await bot.client.set_privacy_mode(False)  # the bot sees every message in the group
    assert await user.send("/frobnicate@some_other_bot", chat_id=-100555, expect_reply=False) == []
    start = await user.send("/start")
    await user.press(data="lang:xx", message=start[-1], expect_reply=False)
    await user.press(data="nonsense:" + "x" * 50, message=start[-1], expect_reply=False)
    answers = [e for e in (await bot.client.events(chat_id=None, after=0, timeout=0))["events"]
               if e["type"] == "callback_answer"]
    assert any("Type /help" in (a.get("text") or "") for a in answers)
    assert "Qingfeng" in text_of(await user.send("/start"))  # still alive


async def test_telegram_outage_at_start_and_while_polling_is_survived(bot_factory):
    bot = await bot_factory()
    await bot.stop()
    await bot.client.inject_fault(method="getMe", kind="500", count=3)
    await bot.start()  # retried with backoff, then running
    await bot.client.inject_fault(method="getUpdates", kind="502", count=2)
    user = await bot.user(language_code="en")
    assert "Qingfeng" in text_of(await user.send("/start"))
    assert "Telegram is not reachable" in bot.log_text()
    assert "Telegram did not answer getUpdates" in bot.log_text() and "Traceback" not in bot.log_text()


async def test_rate_limited_reply_is_retried_and_blocked_user_does_not_stop_others(bot_factory):
    bot = await bot_factory()
    user = await bot.user(language_code="en")
    await bot.client.inject_fault(method="sendMessage", kind="429", count=1, retry_after=1)
    assert "Qingfeng" in text_of(await user.send("/start"))
    blocked = await bot.user(language_code="en")
    await bot.client.block(blocked.id)
    await blocked.send("/start", expect_reply=False)
    other = await bot.user(language_code="en")
    assert "Qingfeng" in text_of(await other.send("/start"))
    assert bot.process.poll() is None
    assert "retrying in" in bot.log_text() and "Traceback" not in bot.log_text()  # a 429 is routine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def webhook_env() -> dict[str, str]:
    port = free_port()
    return {"QINGFENG_TELEGRAM__MODE": "webhook", "QINGFENG_TELEGRAM__WEBHOOK__PORT": str(port),
            "QINGFENG_TELEGRAM__WEBHOOK__URL": f"http://127.0.0.1:{port}/telegram",
            "QINGFENG_TELEGRAM__WEBHOOK_SECRET": "e2e-secret_token"}


async def test_webhook_mode(bot_factory):
    bot = await bot_factory(env=webhook_env())
    user = await bot.user(language_code="en")
    assert "Qingfeng" in text_of(await user.send("/start"))
    assert (await bot.client.stats())["calls"].get("getUpdates", 0) == 0


async def test_sigterm_exits_cleanly(bot_factory):
    bot = await bot_factory()
    assert await bot.stop() == 0
    assert "Stopping" in bot.log_text()
    assert str(SUPERVISOR_ID) not in bot.log_text()


async def _calls(bot, method: str) -> int:
    return (await bot.client.stats())["calls"].get(method, 0)


async def ask_while_telegram_holds_the_answer(bot, user, question: str) -> None:
    """`user` asks; Telegram holds the bot's answer (the bot waits for it) until the faults are cleared."""
    await bot.client.inject_fault(method="sendMessage", kind="timeout", delay=30, count=None, chat_id=user.chat_id)
    sends = await _calls(bot, "sendMessage")
    await user.send(question, expect_reply=False)
    while await _calls(bot, "sendMessage") == sends:
        await asyncio.sleep(0.05)


async def restart_after_kill(bot, user) -> str:
    """kill -9, Telegram well again, a restart: what the bot then says to `user`."""
    await bot.kill()
    await bot.client.clear_faults()
    after = await bot.last_seq()
    await bot.start()
    return text_of(await bot.collect(user.chat_id, after))


async def test_a_bot_killed_while_its_answer_is_on_the_way_answers_after_the_restart(bot_factory):
    bot = await bot_factory()
    user = await bot.user(language_code="zh")
    await user.send("/start")
    await ask_while_telegram_holds_the_answer(bot, user, "容错纠错是什么意思")  # while polling goes on
    other = await bot.user(language_code="en")  # meanwhile, others are answered as usual
    assert "Qingfeng" in text_of(await other.send("/start"))
    answer = await restart_after_kill(bot, user)
    assert "容错" in answer and "来源" in answer
    # Handled once it is answered: a second restart does not answer it again.
    await bot.stop()
    after = await bot.last_seq()
    await bot.start()
    assert await bot.collect(user.chat_id, after, expect_reply=False) == []


async def test_a_webhook_bot_killed_while_its_answer_is_on_the_way_answers_after_the_restart(bot_factory):
    bot = await bot_factory(env=webhook_env())
    user = await bot.user(language_code="en")
    await user.send("/start")
    await ask_while_telegram_holds_the_answer(bot, user, "what does fault tolerance mean")
    answer = await restart_after_kill(bot, user)  # Telegram's POST was not answered: it sends the update again
    assert "fault" in answer.lower() and "Sources" in answer
    assert "Sources" in text_of(await user.send("what does accountability mean"))
