"""The rectification ledger end to end: the real bot process, the real CLI, users in the sandbox.

invite → /start bind-CODE → /tasks → progress with a photo (kept by the bot) → request closure →
the supervisor approves; a contact of another unit neither sees nor acts on the item; a send-back
comment stays on the card and a new request needs new progress.
"""

import asyncio
import io
from datetime import date, timedelta

import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.config import load_settings
from bot.db import Database
from bot.i18n import translator
from bot.ledger.service import LedgerService
from tests.e2e import SUPERVISOR_ID, button_data, buttons_of, text_of

pytestmark = pytest.mark.e2e
zh = translator("zh")
runner = CliRunner()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def qingfeng(bot, *args: str) -> str:
    """The `qingfeng` command against the bot's database (in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(runner.invoke, app, list(args), env=bot.env)
    assert result.exit_code == 0, result.output
    return result.output


async def callback_answers(bot, chat_id: int) -> list[str]:
    events = (await bot.client.events(chat_id=chat_id, after=0))["events"]
    return [e["text"] for e in events if e["type"] == "callback_answer"]


async def test_invite_bind_tasks_progress_closure_and_approval(bot_factory, tmp_path):
    bot = await bot_factory()
    deadline = (date.today() + timedelta(days=30)).isoformat()
    ledger_file = tmp_path / "ledger.csv"
    ledger_file.write_text("编号,问题描述,责任单位,整改时限\n"
                           f"A-1,要求村干部每天在政务APP打卡,甲局,{deadline}\n"
                           f"B-1,督查检查过多过频,乙局,{deadline}\n", encoding="utf-8")
    assert "2 item(s) were created" in await qingfeng(bot, "ledger", "import", str(ledger_file), "--create-units",
                                                     "--round", "第一轮", "--lang", "en")
    invite_a = await qingfeng(bot, "units", "invite", "甲局", "--bot", "qingfeng_sandbox_bot", "--lang", "en")
    link = next(word for word in invite_a.split() if word.startswith("https://t.me/"))
    start_parameter = link.split("?start=")[1]
    code_b = (await qingfeng(bot, "units", "invite", "乙局", "--lang", "en")).split("code: ")[1].split()[0]

    supervisor = await bot.supervisor()
    (rounds,) = await supervisor.send("/ledger")  # the workspace (tests/test_e2e_workspace.py)
    assert "第一轮" in rounds["text"] and "2 项未销号" in rounds["text"]

    # The contact of 甲局 opens the deep link; the code then works for nobody else.
    contact = await bot.user()
    (bound,) = await contact.send(f"/start {start_parameter}")
    assert "甲局" in bound["text"] and "/tasks" in bound["text"]
    other = await bot.user()
    (refused,) = await other.send(f"/bind {start_parameter.removeprefix('bind-')}")
    assert refused["text"] == zh("This code has already been used. Ask the inspection office for a new one.")
    (bound_b,) = await other.send(f"/bind {code_b}")
    assert "乙局" in bound_b["text"]

    # /tasks lists the unit's item; its buttons lead to progress with a photo, then closure.
    (tasks,) = await contact.send("/tasks")
    assert "A-1" in tasks["text"] and "B-1" not in tasks["text"]
    item_data = button_data(tasks, "1.")
    (item,) = await contact.press("1.")
    assert "要求村干部每天在政务APP打卡" in item["text"]
    (prompt,) = await contact.press(zh("Report progress"))
    assert "A-1" in prompt["text"]
    (recorded,) = await contact.send("已清理合并三个政务APP，取消每日打卡")
    assert "A-1" in recorded["text"]
    (with_photo,) = await contact.send_photo(png(), caption="通知文件")
    assert "1" in with_photo["text"]
    (done,) = await contact.press(zh("Done"), message=with_photo)
    assert "进展报告已保存" in done["text"]

    # The other unit's contact cannot see or act on the item, whatever data they forge.
    (other_tasks,) = await other.send("/tasks")
    assert "B-1" in other_tasks["text"] and "A-1" not in other_tasks["text"]
    item_id = item_data.removeprefix("li:")
    for forged in (f"li:{item_id}", f"lp:{item_id}", f"lc:{item_id}", f"la:{item_id}", f"lx:{item_id}", "lt:99", "li:x"):
        await bot.client.press(other.id, other_tasks, forged)
    await asyncio.sleep(1)
    expired, refused = zh("This button has expired. Type /help to see what you can do."), zh("This is only for supervisors.")
    assert (await callback_answers(bot, other.id))[-7:] == [expired] * 3 + [refused] * 2 + [expired] * 2

    # Closing is requested; the supervisors get the evidence and the review buttons.
    before = await bot.last_seq()
    (requested,) = await contact.press(zh("Request closure"), message=done)
    assert "A-1" in requested["text"]
    to_supervisor = await bot.collect(SUPERVISOR_ID, before)
    assert any(m.get("photo") for m in to_supervisor)
    review = next(m for m in to_supervisor if buttons_of(m))
    assert "甲局" in review["text"] and "已清理合并三个政务APP" in review["text"]

    before = await bot.last_seq()
    approved = await supervisor.press(zh("Approve closing"), message=review)
    assert "A-1" in text_of(approved)
    told = await bot.collect(contact.chat_id, before)
    assert "A-1" in text_of(told) and "经审核已销号" in text_of(told)
    await bot.client.press(contact.id, done, f"lp:{item_id}")  # the old progress button of the closed item
    await asyncio.sleep(1)
    assert (await callback_answers(bot, contact.id))[-1] == zh("This item is {status}.",
                                                              status=zh("closed after review"))

    # The other unit's item: closure requested, sent back with a comment, then closed directly.
    await other.send("/tasks")
    await other.press("1.")
    await other.press(zh("Report progress"))
    (recorded_b,) = await other.send("已制定年度督查检查计划")
    before = await bot.last_seq()
    await other.press(zh("Request closure"), message=recorded_b)
    review_b = next(m for m in await bot.collect(SUPERVISOR_ID, before) if buttons_of(m))
    (ask,) = await supervisor.press(zh("Send back"), message=review_b)
    assert "B-1" in ask["text"]
    before = await bot.last_seq()
    (sent_back,) = await supervisor.send("缺少会议纪要")
    assert "B-1" in sent_back["text"]
    assert "缺少会议纪要" in text_of(await bot.collect(other.chat_id, before))
    # The comment stays on the unit's card, and asking again needs new progress first.
    await other.send("/tasks")
    (card_b,) = await other.press("1.")
    assert "退回意见：缺少会议纪要" in card_b["text"]
    (again,) = await other.press(zh("Request closure"), message=card_b)
    assert "被退回：缺少会议纪要" in again["text"] and buttons_of(again)
    await supervisor.press(zh("Close directly"), message=review_b)
    (preview,) = await supervisor.send("政策调整，该项检查已取消")  # shown first: it is final
    assert "政策调整，该项检查已取消" in preview["text"]
    (closed_b,) = await supervisor.press(zh("Close directly"), message=preview)
    assert closed_b["text"] == zh("Item {external_id} is closed directly.", external_id="第一轮-B-1")

    settings = load_settings(environ=bot.env)
    database = Database.connect(bot.database_url)
    try:
        ledger = LedgerService(settings=settings, database=database)
        view = await ledger.item(int(item_id), supervisor_id=SUPERVISOR_ID)
        assert view.status == "closed"
        progress = await ledger.progress_of(int(item_id), supervisor_id=SUPERVISOR_ID)
        assert [len(p.evidence) for p in progress] == [1] and progress[0].evidence[0].kind == "photo"
        kept = settings.data_dir / progress[0].evidence[0].stored_path  # the bot keeps its own copy
        assert Image.open(kept).size == (32, 32)
        _unit, (other_item,), _total = await ledger.items_for_chat(other.chat_id, include_closed=True)
        assert (other_item.status, other_item.closed_reason) == ("closed_directly", "政策调整，该项检查已取消")
    finally:
        await database.dispose()
    log = bot.log_text()
    assert "Traceback" not in log
    assert str(contact.id) not in log


async def test_a_co_unit_and_a_parent_unit_read_the_items_in_tasks_and_every_button_works(bot_factory, tmp_path):
    """Issue 11 item 5, issue 12 item 5: 乙局 assists 甲局's item, 县政府 is above 甲局; both see it in
    /tasks, read-only, its card opens, and no button they are shown answers "expired"."""
    bot = await bot_factory()
    deadline = (date.today() + timedelta(days=30)).isoformat()
    ledger_file = tmp_path / "ledger.csv"
    ledger_file.write_text("编号,问题描述,责任单位,整改时限\n"
                           f"A-1,多头填报扶贫数据,甲局、乙局,{deadline}\n"
                           f"B-1,会议过多,乙局,{deadline}\n", encoding="utf-8")
    await qingfeng(bot, "ledger", "import", str(ledger_file), "--create-units", "--round", "第一轮")
    await qingfeng(bot, "units", "add", "县政府")
    await qingfeng(bot, "units", "add", "甲局", "--parent", "县政府")
    users = {}
    for unit in ("甲局", "乙局", "县政府"):
        code = (await qingfeng(bot, "units", "invite", unit, "--lang", "en")).split("code: ")[1].split()[0]
        users[unit] = await bot.user()
        assert unit in text_of(await users[unit].send(f"/bind {code}"))

    (assisting,) = await users["乙局"].send("/tasks")
    text = assisting["text"]
    assert text.index("B-1") < text.index("本单位配合的事项") < text.index("A-1")  # its own first, then what it assists
    (above,) = await users["县政府"].send("/tasks")
    assert "县政府" in above["text"] and "甲局" in above["text"] and "A-1" in above["text"]
    assert "B-1" not in above["text"]  # 乙局 is not under 县政府

    for reader, tasks in ((users["乙局"], assisting), (users["县政府"], above)):
        for button in buttons_of(tasks):  # every button of /tasks, and of every card it opens
            before = len(await callback_answers(bot, reader.chat_id))
            (card,) = await reader.press(data=button["callback_data"], message=tasks)
            assert zh("This button has expired. Type /help to see what you can do.") not in (await callback_answers(bot, reader.chat_id))[before:]
            if "A-1" not in card["text"]:
                continue
            assert "多头填报扶贫数据" in card["text"] and "由甲局报告" in card["text"]
            labels = [b["text"] for b in buttons_of(card)]
            assert labels == [zh("All items")], labels  # read-only: no progress, no closure
            await reader.press(zh("All items"), message=card)
            assert zh("This button has expired. Type /help to see what you can do.") not in await callback_answers(bot, reader.chat_id)
        for forged in ("lp:", "lc:"):  # acting on the item is refused, politely
            item_id = button_data(tasks, None if reader is users["县政府"] else "2.").removeprefix("li:")
            await bot.client.press(reader.id, tasks, f"{forged}{item_id}")
    await asyncio.sleep(1)
    assert (await callback_answers(bot, users["县政府"].chat_id))[-2:] == [zh("This button has expired. Type /help to see what you can do.")] * 2
    assert "Traceback" not in bot.log_text()
