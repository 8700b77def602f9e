"""Anonymous reports, the supervisors' side, end to end: one bot process, a report submitted into
its database, the supervisor notified and working the case through the sandbox, and everyone
else refused."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.config import load_settings
from bot.crypto import Crypto
from bot.db import Database
from bot.reports.files import sanitise
from bot.reports.service import Draft, ReportService
from tests.e2e import SUPERVISOR_ID, button_data, buttons_of, text_of

pytestmark = pytest.mark.e2e
DESCRIPTION = "镇里要求每个村每周上报三次工作照片，村干部为了拍照专门组织活动，真正的工作反而没时间做。"
UNIT = "某某镇党政办"


async def seed_report(database_url: str, key: str) -> int:
    """A report as the intake would submit it (with a photo), written into the bot's database."""
    settings = load_settings(environ={"QINGFENG_DATABASE__URL": database_url, "QINGFENG_SECURITY__ENCRYPTION_KEYS": key,
                                      "QINGFENG_ACCESS__SUPERVISORS": str(SUPERVISOR_ID)})
    database = Database.connect(database_url)
    try:
        service = ReportService(settings=settings, database=database, crypto=Crypto([key]))
        now = datetime.now(timezone.utc)
        await service.save_draft(chat_id=424242, draft=Draft(category="excessive-traces", unit=UNIT, when="本月",
                                                             description=DESCRIPTION), now=now)
        picture = io.BytesIO()
        Image.new("RGB", (40, 30), "red").save(picture, "PNG")
        await service.add_draft_file(chat_id=424242, file=sanitise(picture.getvalue(), "image/png", max_mb=10))
        return (await service.submit(chat_id=424242, now=now)).report_id
    finally:
        await database.dispose()


async def add_ledger_unit(bot, name: str) -> None:
    from bot.ledger.service import LedgerService

    database = Database.connect(bot.database_url)
    try:
        await LedgerService(settings=load_settings(environ=bot.env), database=database).add_unit(name)
    finally:
        await database.dispose()


async def answers(bot, chat_id: int, after: int, count: int = 1) -> list[str]:
    """The texts of the bot's next callback answers in a chat."""
    found: list[str] = []
    for _ in range(100):  # the events call returns at once when some are there: poll for 10 s at most
        events = (await bot.client.events(chat_id=chat_id, after=after, timeout=0.5))["events"]
        found = [e.get("text") or "" for e in events if e["type"] == "callback_answer"]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no callback answers: {found}")


async def history(database_url: str, key: str, report_id: int) -> list[str]:
    settings = load_settings(environ={"QINGFENG_DATABASE__URL": database_url, "QINGFENG_SECURITY__ENCRYPTION_KEYS": key})
    database = Database.connect(database_url)
    try:
        service = ReportService(settings=settings, database=database, crypto=Crypto([key]))
        view = await service.reporter_view(report_id=report_id)
        return [f"{item.action}:{item.text or ''}" for item in view.history] + [f"status:{view.status}"]
    finally:
        await database.dispose()


async def test_supervisor_is_notified_works_the_case_and_others_are_refused(bot_factory):
    bot = await bot_factory()
    supervisor = await bot.supervisor(language_code="en")
    cadre = await bot.user(language_code="en")
    (greeting,) = await cadre.send("/start")
    await supervisor.send("/language en")  # jobs speak the language a supervisor chose

    # A new report: the supervisor is told its category and unit, never its text.
    after = await bot.last_seq()
    key = bot.env["QINGFENG_SECURITY__ENCRYPTION_KEYS"]
    report_id = await seed_report(bot.database_url, key)
    (notice,) = await bot.collect(SUPERVISOR_ID, after)
    assert f"New report #{report_id}" in notice["text"] and UNIT in notice["text"]
    assert "Leaving excessive traces" in notice["text"] and DESCRIPTION[:10] not in notice["text"]
    supervisor.last = [notice]

    # The card: decrypted text, only what the state allows.
    card = await supervisor.press("Open report")
    assert DESCRIPTION in text_of(card) and "Status: new" in text_of(card)
    # The notice named the deadlines the card shows.
    ack, answer = re.search(r"acknowledge by (\S+) · answer by (\S+)", text_of(card)).groups()
    assert f"Acknowledge it by {ack}, answer it by {answer}." in notice["text"]
    labels = [b["text"] for b in buttons_of(card[-1])]
    assert "✅ Acknowledge" in labels and "❓ Ask the reporter" not in labels
    first_card = card[-1]
    assert ":xx reporter: submitted" in text_of(card)  # the reporter's time is known to the hour only

    # Someone else pressing the same buttons, or typing /inbox, gets nothing.
    before = await bot.last_seq()
    for data in (button_data(first_card, "Acknowledge"), button_data(first_card, "Reject"),
                 f"rc:{report_id}", f"rf:{report_id}", f"rr:spam:{report_id}", "rb:active:0"):
        await bot.client.press(cadre.id, greeting, data)
    assert set(await answers(bot, cadre.id, before, 6)) == {"This is only for supervisors."}
    (refused,) = await cadre.send("/inbox")
    assert refused["text"] == "This is only for supervisors."

    # Forged or stale data: expired, nothing changes.
    before = await bot.last_seq()
    for forged in ("ra:ack:x", "rc:", "rb:everything:0", "ra:fly:1", "rr:maybe:1", "rf:1:2"):
        await bot.client.press(supervisor.id, first_card, forged)
    assert set(await answers(bot, supervisor.id, before, 6)) == {"This button has expired. Type /help to see what you can do."}

    # Acknowledge, then the old button is refused with the reason.
    done = await supervisor.press("Acknowledge", message=first_card)
    assert f"Report #{report_id} acknowledged." in text_of(done)
    # The history names who did it as the ledger's does, by Telegram name (it said "supervisor <id>").
    assert re.search(r"\d\d:\d\d Supervisor: ", text_of(done)) and f"supervisor {SUPERVISOR_ID}" not in text_of(done)
    assert "❓ Ask the reporter" in [b["text"] for b in buttons_of(done[-1])]
    before = await bot.last_seq()
    await bot.client.press(supervisor.id, first_card, button_data(first_card, "Acknowledge"))
    assert await answers(bot, supervisor.id, before) == ["Not done: this report has already been acknowledged."]

    # The attachment, as a file.
    files = await supervisor.press("Attachments (1)", message=done[-1])
    assert any(m.get("document") for m in files)

    # Rejecting asks for the kind first: a reason typed before choosing waits for the choice.
    kinds = await supervisor.press("Reject", message=done[-1])
    (choose,) = await supervisor.send("不属于本机关管辖")
    assert "First choose above" in choose["text"] and buttons_of(choose)
    await supervisor.press("Cancel", message=kinds[-1])

    # Ask the reporter: the text is asked for, then sent.
    prompt = await supervisor.press("Ask the reporter", message=done[-1])
    assert "Type your question" in text_of(prompt)
    preview = await supervisor.send("请问这项要求是哪个文件规定的？")  # what the reporter will read, to confirm
    assert "Send this question" in text_of(preview) and "请问这项要求是哪个文件规定的？" in text_of(preview)
    asked = await supervisor.press("Send", message=preview[-1])
    assert f"Question sent to the reporter of #{report_id}: they read it when they open /status" in text_of(asked)
    assert "waiting for the reporter" in text_of(asked)

    # Transfer: to a unit of the ledger, pressed or typed (an unknown name lists the units).
    await add_ledger_unit(bot, "某某镇人民政府")
    prompt = await supervisor.press("Transfer to a unit", message=asked[-1])
    assert "Choose the unit" in text_of(prompt) and "某某镇人民政府" in [b["text"] for b in buttons_of(prompt[-1])]
    (unknown_unit,) = await supervisor.send("不存在的局")
    assert "no unit of that name" in unknown_unit["text"] and "某某镇人民政府" in unknown_unit["text"]
    transferred = await supervisor.press("某某镇人民政府", message=prompt[-1])
    assert f"Report #{report_id} transferred." in text_of(transferred)
    assert "Transferred to: 某某镇人民政府" in text_of(transferred)

    # Close with an outcome.
    await supervisor.press("Close with an outcome", message=transferred[-1])
    preview = await supervisor.send("已督促镇里取消每周三次照片上报的要求。")
    assert "may dispute it once" in text_of(preview)  # true: the reporter's /status offers one dispute
    before = await bot.last_seq()
    closed = await supervisor.press("Send", message=preview[-1])
    assert f"Report #{report_id} closed." in text_of(closed) and "closed" in text_of(closed)
    # Said once, in the chat: the pressed button's answer does not pop up the same words again.
    assert await answers(bot, supervisor.id, before) == [""]
    assert "acknowledge by" not in text_of(closed)  # a closed report has no deadline running
    assert "Acknowledge" not in " ".join(b["text"] for b in buttons_of(closed[-1]))

    assert await history(bot.database_url, key, report_id) == [
        "submit:", "acknowledge:", "ask:请问这项要求是哪个文件规定的？", "transfer:某某镇人民政府", "close:已督促镇里取消每周三次照片上报的要求。",
        "status:closed"]

    # The inbox, with its filters.
    (inbox,) = await supervisor.send("/inbox")
    assert "No reports here." in inbox["text"]
    closed_page = await supervisor.press("Closed", message=inbox)
    assert f"#{report_id}" in text_of(closed_page)
    (found,) = await supervisor.send(f"/inbox all search:{DESCRIPTION[2:8]}")
    assert f"#{report_id}" in found["text"] and "1 found" in found["text"]
    (nothing,) = await supervisor.send("/inbox rejected")
    assert "No reports here." in nothing["text"]
    (unknown,) = await supervisor.send("/inbox yesterday")
    assert "yesterday" in unknown["text"] and "rejected" in unknown["text"] and "search:" in unknown["text"]

    # A closed report is reopened with a reason the reporter will read.
    prompt = await supervisor.press("Reopen", message=closed[-1])
    assert "reopened" in text_of(prompt)
    preview = await supervisor.send("举报人反映镇里仍在要求照片上报。")
    reopened = await supervisor.press("Send", message=preview[-1])
    assert f"Report #{report_id} reopened." in text_of(reopened)

    # Export and figures.
    exported = await supervisor.send("/export")
    document = next(m["document"] for m in exported if m.get("document"))
    workbook = load_workbook(io.BytesIO(await bot.client.download(document["file_id"])))
    cells = " ".join(str(c.value) for row in workbook.worksheets[0].iter_rows() for c in row)
    assert DESCRIPTION in cells and UNIT in cells
    stats = await supervisor.send("/stats")
    assert any(m.get("photo") for m in stats) and "1 in all" in text_of(stats)

    await asyncio.sleep(0.5)
    assert "Traceback" not in bot.log_text()
    assert str(cadre.id) not in bot.log_text()
