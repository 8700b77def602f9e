"""The supervisors' workspace end to end (issue 12 item 6): the real bot process, the real CLI,
users in the sandbox.

/ledger → round → unit → items with filters → the card with its history → change the deadline
(into the past too), a note, a nudge (to a unit without contacts, then to one with), a reassignment
(an unknown name refused); a contact's extension request approved by one supervisor (the second is
told who decided), another refused with a reason; none for a closed item; /overdue pages.
"""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import SUPERVISOR_ID, buttons_of, text_of
from tests.test_e2e_ledger import callback_answers, qingfeng, zh

pytestmark = pytest.mark.e2e
SECOND_SUPERVISOR = 900000002


async def outbox_text(bot, chat_id: int, before: int) -> str:
    return text_of(await bot.collect(chat_id, before))


async def test_a_supervisor_works_the_ledger_from_the_chat_and_contacts_ask_for_extensions(bot_factory, tmp_path):
    bot = await bot_factory(env={"QINGFENG_ACCESS__SUPERVISORS": f"{SUPERVISOR_ID},{SECOND_SUPERVISOR}",
                                 # no weekly digest arriving in the middle (unless run late on a Sunday)
                                 "QINGFENG_LEDGER__DIGEST__WEEKDAY": "7", "QINGFENG_LEDGER__DIGEST__AT": "23:59"})
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the bot's day (config.yaml's zone), not the machine's
    soon, later = (today + timedelta(days=3)).isoformat(), (today + timedelta(days=40)).isoformat()
    ledger_file = tmp_path / "ledger.csv"
    ledger_file.write_text("编号,问题描述,责任单位,整改时限,问题类别\n"
                           f"A-1,要求村干部每天在政务APP打卡,甲局,{later},形式主义\n"
                           f"A-2,督查检查过多过频,甲局,{soon},官僚主义\n"
                           f"C-1,会议材料层层加码,丙局,{later},形式主义\n", encoding="utf-8")
    await qingfeng(bot, "ledger", "import", str(ledger_file), "--create-units", "--round", "第一轮")
    await qingfeng(bot, "units", "add", "乙局")
    contacts = {}
    for unit in ("甲局", "乙局"):
        code = (await qingfeng(bot, "units", "invite", unit, "--lang", "en")).split("code: ")[1].split()[0]
        contacts[unit] = await bot.user()
        assert unit in text_of(await contacts[unit].send(f"/bind {code}"))
    jia, yi = contacts["甲局"], contacts["乙局"]
    supervisor = await bot.supervisor()
    second = await bot.user(id=SECOND_SUPERVISOR, first_name="Second")
    await second.send("/start")  # a chat the bot may write to

    # /ledger → the round → its units → 甲局's items, filtered; every level leads back.
    (rounds,) = await supervisor.send("/ledger")
    assert "第一轮" in rounds["text"] and "3 项未销号" in rounds["text"]
    (units,) = await supervisor.press("第一轮", message=rounds)
    assert "甲局" in units["text"] and "2 项未销号" in units["text"] and "丙局" in units["text"]
    (listed,) = await supervisor.press("甲局", message=units)
    assert listed["text"].index("第一轮-A-2") < listed["text"].index("第一轮-A-1")  # nearest deadline first
    (due,) = await supervisor.press(zh("Due within 7 days"), message=listed)
    assert "第一轮-A-2" in due["text"] and "第一轮-A-1" not in due["text"]
    (category,) = await supervisor.press("形式主义", message=due)
    assert "第一轮-A-1" in category["text"] and "第一轮-A-2" not in category["text"]
    (late,) = await supervisor.press(zh("Overdue"), message=category)
    assert zh("No open item matches this filter.") in late["text"]
    (back,) = await supervisor.press(zh("Units of {round}", round="第一轮"), message=late)
    assert "丙局" in back["text"]
    (listed,) = await supervisor.press("甲局", message=back)

    # The card: the item, not yet acknowledged, its history; the deadline moved with a reason.
    (card,) = await supervisor.press("1.", message=listed)
    assert "第一轮-A-2" in card["text"] and zh("Not acknowledged yet") in card["text"]
    assert "经台账导入录入台账" in card["text"]
    await supervisor.press(zh("Change the deadline"), message=card)
    (unreadable,) = await supervisor.send("下个月")
    assert "无法从“下个月”中识别日期" in unreadable["text"]
    (ask_reason,) = await supervisor.send("2027年1月31日")
    assert "2027-01-31" in ask_reason["text"]
    (preview,) = await supervisor.send("涉及跨年度预算")
    assert f"{soon} → 2027-01-31" in preview["text"] and "涉及跨年度预算" in preview["text"]
    before = await bot.last_seq()
    (changed,) = await supervisor.press(zh("Change the deadline"), message=preview)
    assert "2027-01-31" in changed["text"] and "1 位联系人" in changed["text"]
    told = await outbox_text(bot, jia.chat_id, before)
    assert "第一轮-A-2" in told and "涉及跨年度预算" in told

    # Into the past: allowed, and the preview says the item will be overdue.
    (card,) = await supervisor.press(zh("Open the item"), message=changed)
    await supervisor.press(zh("Change the deadline"), message=card)
    past = today - timedelta(days=3)
    (far,) = await supervisor.send(f"{past.month}月{past.day}日")  # no year: next year's, which is said
    assert "将近一年之后" in far["text"]
    await supervisor.send(past.isoformat())
    (not_a_reason,) = await supervisor.send(past.isoformat())  # the date again, where the reason goes
    assert "不是理由" in not_a_reason["text"]
    (preview,) = await supervisor.send("按巡察要求提前")
    assert "这个日期已经过去：调整后该事项将立即逾期 3 天" in preview["text"]
    (changed,) = await supervisor.press(zh("Change the deadline"), message=preview)
    assert "已逾期 3 天" in changed["text"]

    # A note, shown in the history.
    (card,) = await supervisor.press(zh("Open the item"), message=changed)
    await supervisor.press(zh("Add a note"), message=card)
    (noted,) = await supervisor.send("已电话督促分管领导")
    (card,) = await supervisor.press(zh("Open the item"), message=noted)
    assert "备注：已电话督促分管领导" in card["text"] and "按巡察要求提前" in card["text"]

    # A nudge: 甲局's contact gets the item now.
    (ask,) = await supervisor.press(zh("Nudge now"), message=card)
    assert "1 位联系人" in ask["text"]
    before = await bot.last_seq()
    (nudged,) = await supervisor.press(zh("Send the nudge"), message=ask)
    assert "第一轮-A-2" in nudged["text"]
    assert "巡察办催办" in await outbox_text(bot, jia.chat_id, before)
    (card,) = await supervisor.press(zh("Open the item"), message=nudged)
    assert "催办：该事项发往 1 位联系人" in card["text"]  # sent on, not claimed delivered: the outbox tells if not

    # 丙局 has no contact: said plainly, nobody nudged. Then its item goes to 乙局 (a wrong name first).
    (units,) = await supervisor.send("/ledger")
    (units,) = await supervisor.press("第一轮", message=units)
    (listed,) = await supervisor.press("丙局", message=units)
    (card,) = await supervisor.press("1.", message=listed)
    (nobody,) = await supervisor.press(zh("Nudge now"), message=card)
    assert nobody["text"] == zh("{unit} has no contact bound; nobody was nudged.", unit="丙局")
    (choose,) = await supervisor.press(zh("Reassign"), message=card)
    assert "乙局" in [b["text"] for b in buttons_of(choose)]
    (unknown,) = await supervisor.send("乙")
    assert "没有名为“乙”的单位" in unknown["text"] and "乙局" in unknown["text"]
    (preview,) = await supervisor.send("乙局")
    assert "由丙局改派给乙局" in preview["text"]
    before = await bot.last_seq()
    (moved,) = await supervisor.press(zh("Reassign"), message=preview)
    assert "第一轮-C-1" in moved["text"] and "乙局" in moved["text"]
    assert "第一轮-C-1" in await outbox_text(bot, yi.chat_id, before)
    (yi_tasks,) = await yi.send("/tasks")
    assert "第一轮-C-1" in yi_tasks["text"] or "C-1" in yi_tasks["text"]

    # 甲局 asks for an extension of A-1; one supervisor approves, the other is told who did.
    (tasks,) = await jia.send("/tasks")
    (item,) = await jia.press(next(b["text"] for b in buttons_of(tasks) if "要求村干部" in b["text"]), message=tasks)
    await jia.press(zh("Ask for an extension"), message=item)
    await jia.send("需等待上级专项资金下达")
    (bad,) = await jia.send(today.isoformat())
    assert "须晚于现有时限" in bad["text"]
    wanted = (today + timedelta(days=90)).isoformat()
    (preview,) = await jia.send(wanted)
    assert f"{later} → {wanted}" in preview["text"]
    before = await bot.last_seq()
    (sent,) = await jia.press(zh("Send the request"), message=preview)
    assert "已提交巡察办" in sent["text"]
    requests = {}
    for person in (supervisor, second):
        requests[person.id] = next(m for m in await bot.collect(person.chat_id, before) if buttons_of(m))
        assert "需等待上级专项资金下达" in requests[person.id]["text"]
    (card,) = await supervisor.press(zh("Open the item"), message=requests[SUPERVISOR_ID])
    assert "已申请延期至" in card["text"] and zh("Approve the extension") in [b["text"] for b in buttons_of(card)]
    before = await bot.last_seq()
    approved = await supervisor.press(zh("Approve the extension"), message=requests[SUPERVISOR_ID])
    assert "已同意延期" in text_of(approved) and wanted in text_of(approved)
    # The request itself now says what was decided (it kept saying "overdue", with no outcome).
    request_now = next(m for m in await bot.client.messages(SUPERVISOR_ID)
                       if m["message_id"] == requests[SUPERVISOR_ID]["message_id"])
    assert f"已同意：时限改为 {wanted}" in request_now["text"] and not buttons_of(request_now)
    assert wanted in await outbox_text(bot, jia.chat_id, before)
    await second.press(zh("Approve the extension"), message=requests[SECOND_SUPERVISOR], expect_reply=False)
    await asyncio.sleep(1)
    assert (await callback_answers(bot, SECOND_SUPERVISOR))[-1].startswith("已处理：该延期申请已由Supervisor")

    # A second request refused with a reason by the second supervisor; the contact is told why.
    (tasks,) = await jia.send("/tasks")
    (item,) = await jia.press(next(b["text"] for b in buttons_of(tasks) if "督查检查" in b["text"]), message=tasks)
    await jia.press(zh("Ask for an extension"), message=item)
    await jia.send("人手不足")
    (preview,) = await jia.send((today + timedelta(days=30)).isoformat())
    before = await bot.last_seq()
    await jia.press(zh("Send the request"), message=preview)
    request = next(m for m in await bot.collect(SECOND_SUPERVISOR, before) if buttons_of(m))
    await second.press(zh("Refuse"), message=request)
    (confirm,) = await second.send("时限不能再延")
    before = await bot.last_seq()
    (refused,) = await second.press(zh("Refuse"), message=confirm)
    assert "已驳回" in refused["text"]
    assert "时限不能再延" in await outbox_text(bot, jia.chat_id, before)

    # /overdue pages in the chat: A-2, moved into the past.
    (overdue,) = await supervisor.send("/overdue")
    assert "逾期事项" in overdue["text"] and "第一轮-A-2" in overdue["text"] and "第一轮-A-1" not in overdue["text"]

    # A-2 closed directly (the ledger's own action, from the card); then no extension for it, politely.
    (card,) = await supervisor.press("第一轮-A-2", message=overdue)
    await supervisor.press(zh("Close directly"), message=card)
    (preview,) = await supervisor.send("政策调整，该项检查已取消")
    (closed,) = await supervisor.press(zh("Close directly"), message=preview)
    assert "第一轮-A-2" in closed["text"]
    replies = await jia.press(zh("Ask for an extension"), message=item)  # the closing notice may come along
    assert any("没有可延长的时限" in reply["text"] for reply in replies)
    (overdue,) = await supervisor.send("/overdue")
    assert overdue["text"] == zh("No item is overdue.")
    assert [b["text"] for b in buttons_of(overdue)] == [zh("Open the ledger by round")]  # not a "back" to nowhere

    # Forged data gets a polite answer, never a crash.
    for forged in ("wl:1:1:bogus:0:0", "wc:99999:0", "wy:deadline:1", "wk:1"):
        await bot.client.press(supervisor.id, rounds, forged)
    await bot.client.press(jia.id, item, "wv:1")
    await asyncio.sleep(1)
    assert (await callback_answers(bot, supervisor.id))[-4:] == [zh("This button has expired. Type /help to see what you can do.")] * 4
    assert (await callback_answers(bot, jia.id))[-1] == zh("This is only for supervisors.")
    log = bot.log_text()
    assert "Traceback" not in log and str(jia.id) not in log
