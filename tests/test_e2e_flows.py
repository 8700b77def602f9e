"""Who gets a user's next message, and what happens when sends fail: the real bot process.

Each test reproduces a failure seen on the old main (issue 9): a supervisor's prompt that took a
later policy question for the reporter, a /status view lost at a restart or silently expired
(its text then kept as a "knowledge gap"), an intake broken by kill -9, a receipt code lost with
the message that carried it, replies lost while Telegram answered 500, supervisors' commands in
groups.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e import SUPERVISOR_ID, buttons_of, text_of, with_button

pytestmark = pytest.mark.e2e
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
DESCRIPTION = "镇里要求每个村干部每天在工作群发四张巡逻照片作为留痕，按照片数量打分排名。"


def query(bot, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(bot.data_dir / "qingfeng.db") as connection:
        return connection.execute(sql, args).fetchall()


async def write_report(user, unit: str = "东山镇政府") -> str:
    """A whole intake in Chinese, typed; the receipt code."""
    assert "第 1 步" in text_of(await user.send("/report"))
    assert "第 2 步" in text_of(await user.send("1"))
    assert "第 3 步" in text_of(await user.send(unit))
    assert "第 4 步" in text_of(await user.send("今年三月起"))
    assert "第 5 步" in text_of(await user.send(DESCRIPTION))
    assert "提交" in text_of(await user.send("完成"))  # the review
    receipts = await user.send("提交")
    code = CODE.search(text_of(receipts))[0]
    await user.press("我已保存回执码", message=receipts[-1])
    return code


async def test_a_supervisors_prompt_never_takes_a_later_question_for_the_reporter(shared_bot):
    bot = shared_bot
    reporter = await bot.user(language_code="zh")
    code = await write_report(reporter)
    supervisor = await bot.supervisor(language_code="en")
    inbox = await supervisor.send("/inbox")
    card = await supervisor.press(data=buttons_of(inbox[-1])[0]["callback_data"], message=inbox[-1])
    await supervisor.press("Acknowledge", message=with_button(card, "Acknowledge"))
    actions = with_button(await supervisor.press(data=buttons_of(inbox[-1])[0]["callback_data"], message=inbox[-1]),
                          "Ask the reporter")
    assert "Type your question" in text_of(await supervisor.press("Ask the reporter", message=actions))

    # /inbox ends the prompt (and says so); /stats; then a policy question is a policy question.
    assert "was not sent" in text_of(await supervisor.send("/inbox"))
    await supervisor.send("/stats")
    answer = text_of(await supervisor.send("Can the county make us clock in on an app every day?"))
    assert "Send this question" not in answer and "Question sent" not in answer
    status = text_of(await reporter.send(f"/status {code}"))
    assert "clock in" not in status
    assert "督查人员的提问" not in status

    # Two prompts: the later one owns the next message; the earlier is dropped with a notice.
    actions = with_button(await supervisor.press(data=buttons_of(inbox[-1])[0]["callback_data"], message=inbox[-1]),
                          "Internal note")
    await supervisor.press("Internal note", message=actions)
    switched = text_of(await supervisor.press("Close with an outcome", message=actions))
    assert "Type the outcome" in switched
    preview = await supervisor.send("已督促整改")
    assert "Close report" in text_of(preview)  # shown first, to be confirmed
    assert "Cancelled" in text_of(await supervisor.press("Cancel", message=preview[-1]))
    status = text_of(await reporter.send(f"/status {code}"))
    assert "已督促整改" not in status


async def test_status_view_survives_a_restart_and_an_expired_one_keeps_nothing(bot_factory):
    bot = await bot_factory()
    reporter = await bot.user(language_code="zh")
    code = await write_report(reporter)
    assert "处理记录" in text_of(await reporter.send(f"/status {code}"))

    await bot.stop()  # SIGTERM: the open view is in the database, not in memory
    await bot.start()
    shown = await reporter.send("补充：每周一还要交纸质台账。")
    assert "发送给督查人员吗" in text_of(shown)  # shown back first, and kept across a restart
    await bot.kill()
    await bot.start()
    assert "已发送给督查人员" in text_of(await reporter.press("📨 发送", message=with_button(shown, "发送")))

    # The view expires (as after 15 minutes): the next text is neither delivered nor kept.
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    query(bot, "UPDATE pending_input SET expires_at = ?", past)
    replies = text_of(await reporter.send("这段话不应该被保存到任何地方"))
    assert "未发送" in replies and "/status" in replies
    assert query(bot, "SELECT count(*) FROM knowledge_gap") == [(0,)]
    # Nor later, as a question: the chat had a report open today.
    unknown = text_of(await reporter.send("纸鹤怎么折"))  # no entry has a word of it
    assert query(bot, "SELECT count(*) FROM knowledge_gap") == [(0,)]
    assert "没有保存" in unknown and "记下" not in unknown  # and it does not say it kept it
    events = query(bot, "SELECT count(*) FROM report_event WHERE action = 'reply'")
    assert events == [(1,)]


async def test_an_intake_killed_after_every_step_completes_with_every_answer_in_its_place(bot_factory):
    bot = await bot_factory()
    reporter = await bot.user(language_code="zh")
    steps = [("/report", "第 1 步"), ("2", "第 2 步"), ("西山乡人民政府", "第 3 步"), ("去年冬天开始", "第 4 步"),
             (DESCRIPTION, "第 5 步"), ("完成", "提交")]
    for text, shown in steps:
        assert shown in text_of(await reporter.send(text))
        await bot.kill()  # at once: the step is saved before its question was shown
        await bot.start()
    receipt = text_of(await reporter.send("提交"))
    code = CODE.search(receipt)[0]
    view = text_of(await reporter.send(f"/status {code}"))
    assert "第 1 步" not in view and query(bot, "SELECT count(*) FROM report") == [(1,)]
    assert query(bot, "SELECT count(*) FROM knowledge_gap") == [(0,)]
    supervisor = await bot.supervisor(language_code="zh")
    inbox = await supervisor.send("/inbox")
    card = text_of(await supervisor.press(data=buttons_of(inbox[-1])[0]["callback_data"], message=inbox[-1]))
    assert "西山乡人民政府" in card and "去年冬天开始" in card and DESCRIPTION in card


async def test_a_receipt_whose_message_failed_is_shown_again_and_a_second_submit_adds_nothing(bot_factory):
    bot = await bot_factory(env={"QINGFENG_TELEGRAM__RETRY_FOR_SECONDS": "2"})
    reporter = await bot.user(language_code="en")
    await reporter.send("/report")
    await reporter.send("1")
    await reporter.send("Dongshan township")
    await reporter.send("since March")
    await reporter.send("The township requires four patrol photos a day in the work group, scored by count.")
    review = await reporter.send("done")
    await bot.client.inject_fault("sendMessage", "500", count=None, chat_id=reporter.id)
    await reporter.press("Submit", message=review[-1], expect_reply=False)
    await asyncio.sleep(4)  # retried for two seconds, then given up: the code did not arrive
    await bot.client.clear_faults()
    assert not any(CODE.search(m.get("text") or "") for m in await bot.client.messages(reporter.id))

    shown = text_of(await reporter.send("hello"))
    code = CODE.search(shown)[0]  # shown again on the next message
    again = text_of(await reporter.press("Submit", message=review[-1]))  # the old button, pressed again
    assert code in again and query(bot, "SELECT count(*) FROM report") == [(1,)]
    assert "no longer kept" in text_of(await reporter.press("I have saved my code"))
    assert query(bot, "SELECT count(*) FROM report_receipt") == [(0,)]
    assert not CODE.search(text_of(await reporter.send("hello")))


async def test_replies_are_retried_through_a_run_of_500s(shared_bot):
    bot = shared_bot
    user = await bot.user(language_code="en")
    await bot.client.inject_fault("sendMessage", "500", count=3, chat_id=user.id)
    assert "/topics" in text_of(await user.send("/help"))


async def test_supervisors_commands_do_nothing_in_a_group(shared_bot):
    bot = shared_bot
    supervisor = await bot.supervisor(language_code="en")
    for command in ("/ledger", "/overdue", "/reload", "/inbox"):
        (refused,) = await supervisor.send(command, chat_id=-100555)
        assert refused["text"] == "Supervisors' commands work only in a private chat with me."
    cadre = await bot.user(language_code="en")
    (refused,) = await cadre.send("/ledger")
    assert refused["text"] == "This is only for supervisors."


async def test_a_whole_report_at_debug_level_leaves_no_user_in_the_log(bot_factory):
    bot = await bot_factory(env={"QINGFENG_LOGGING__LEVEL": "DEBUG"})
    reporter = await bot.user(language_code="zh", first_name="Meilan", last_name="Zhoureporter",
                              username="hidden_reporter_77")
    code = await write_report(reporter, unit="北坡村委会")
    await reporter.send(f"/status {code}")
    await reporter.send("补充情况：照片要求每天早上八点前上传。")
    await bot.stop()
    log = bot.log_text()
    assert "DEBUG" in log  # the level was really DEBUG
    for secret in (str(reporter.id), "Meilan", "Zhoureporter", "hidden_reporter_77", "北坡村委会", DESCRIPTION[:12],
                   "照片要求每天早上八点前上传", code):
        assert secret not in log, secret


async def test_forged_ids_beyond_a_database_integer_are_expired_buttons(shared_bot):
    bot = shared_bot
    supervisor = await bot.supervisor(language_code="en")
    (greeting,) = await supervisor.send("/start")
    before = await bot.last_seq()
    for forged in ("rc:99999999999", "ra:ack:99999999999", "li:99999999999", "lp:4294967296"):
        await bot.client.press(supervisor.id, greeting, forged)
    await asyncio.sleep(2)
    events = (await bot.client.events(chat_id=supervisor.id, after=before))["events"]
    answers = [e.get("text") for e in events if e["type"] == "callback_answer"]
    assert answers == ["This button has expired. Type /help to see what you can do."] * 4
    assert "storage" not in bot.log_text()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_update_the_bot_cannot_parse_is_skipped_without_its_content(bot_factory, mode):
    from tests.test_e2e_foundation import free_port

    env = {}
    if mode == "webhook":
        port = free_port()
        env = {"QINGFENG_TELEGRAM__MODE": "webhook", "QINGFENG_TELEGRAM__WEBHOOK__PORT": str(port),
               "QINGFENG_TELEGRAM__WEBHOOK__URL": f"http://127.0.0.1:{port}/telegram",
               "QINGFENG_TELEGRAM__WEBHOOK_SECRET": "e2e-secret_token"}
    bot = await bot_factory(env=env)
    calls = (await bot.client.stats())["calls"].get("getUpdates", 0)
    update_id = await bot.client.inject_raw_update({"message": {
        "message_id": "x", "date": "not-a-date", "chat": 5,
        "from": {"id": 77123456, "first_name": "Secretname", "username": "secret_user_name"},
        "text": "这段文字不可出现在日志里"}})
    user = await bot.user(language_code="en")
    assert "/topics" in text_of(await user.send("/help"))  # nobody is held up
    await asyncio.sleep(2)
    log = bot.log_text()
    assert f"skipped unparseable update {update_id}" in log
    for secret in ("Secretname", "secret_user_name", "77123456", "这段文字不可出现在日志里"):
        assert secret not in log
    if mode == "polling":  # the batch was acknowledged, not fetched again and again
        assert (await bot.client.stats())["calls"].get("getUpdates", 0) - calls < 20


async def test_notices_wait_for_a_supervisor_who_never_opened_the_bot_and_come_in_their_language(bot_factory):
    bot = await bot_factory()
    await bot.client.create_user(id=SUPERVISOR_ID, first_name="Supervisor", language_code="en", started=False)
    reporter = await bot.user(language_code="zh")
    await write_report(reporter)
    await asyncio.sleep(3)
    assert await bot.client.messages(SUPERVISOR_ID) == []
    assert query(bot, "SELECT status FROM outbox WHERE kind = 'report_new'") == [("waiting",)]

    supervisor = await bot.supervisor(language_code="en")
    before = await bot.last_seq()
    await supervisor.send("/start")
    await asyncio.sleep(3)
    received = text_of(await bot.collect(SUPERVISOR_ID, before))
    assert "New report #1" in received and "waited less than an hour" in received  # in English, as Telegram said
    assert query(bot, "SELECT count(*) FROM outbox WHERE kind = 'report_new'") == [(0,)]  # erased once delivered
