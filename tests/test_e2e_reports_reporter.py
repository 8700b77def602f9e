"""Anonymous reports, the reporter's side, end to end: the real bot process through the sandbox.

A whole intake with a photo carrying GPS data (and a restart of the bot in the middle), the
receipt, /status with that code (with a supervisor's question answered), wrong codes, /cancel,
the group deep link, and a scan of the database file and the log for the reporter's identity.
"""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
from datetime import datetime, timezone

import pytest
from PIL import ExifTags, Image

from bot.config import load_settings
from bot.crypto import Crypto
from bot.db import Database
from bot.workdays import calendar_from
from bot.reports.keys import with_lookup_secret
from bot.reports.service import ReportService
from bot.reports.states import Action
from tests.e2e import SUPERVISOR_ID, buttons_of, text_of, with_button

pytestmark = pytest.mark.e2e
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
DESCRIPTION = ("The township requires every village cadre to post four photos a day in the work group "
               "as proof of patrols, and scores us on the count.")


def photo_with_gps() -> bytes:
    """A small PNG whose EXIF names a camera and a GPS position."""
    image = Image.new("RGB", (120, 80), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCamMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 5.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (121.0, 28.0, 9.0)})
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


async def send_all(user, *texts: str) -> None:
    """Type these one after the other, each after the bot's reply to the one before."""
    for text in texts:
        await user.send(text)


async def service_for(bot) -> tuple[ReportService, Database]:
    """The bot's own report service, on its database, as a supervisor's tool would use it (with the
    database's lookup secret, as every process of the bot has it)."""
    key = bot.env["QINGFENG_SECURITY__ENCRYPTION_KEYS"]
    settings = load_settings(environ={"QINGFENG_DATABASE__URL": bot.database_url,
                                      "QINGFENG_BOT__DATA_DIR": str(bot.data_dir),
                                      "QINGFENG_SECURITY__ENCRYPTION_KEYS": key,
                                      "QINGFENG_ACCESS__SUPERVISORS": str(SUPERVISOR_ID)})
    database = Database.connect(bot.database_url)
    crypto = await with_lookup_secret(database, Crypto([key]))
    return ReportService(settings=settings, database=database, crypto=crypto), database


async def test_a_report_with_a_photo_survives_a_restart_and_leaves_no_trace_of_the_reporter(bot_factory):
    bot = await bot_factory()
    user = await bot.user(language_code="en", first_name="Xiaoming", last_name="Wangreporter",
                          username="secret_whistler")

    # In a group: the deep link and nothing else.
    group = await user.send("/report", chat_id=-100777)
    assert len(group) == 1 and not buttons_of(group[0])
    assert "?start=report" in group[0]["text"] and "Step" not in group[0]["text"]

    started = await user.send("/report")
    assert "Anonymous report" in text_of(started) and "Step 1 of 5" in text_of(started)
    assert "Step 2 of 5" in text_of(await user.press("Inspection and assessment overload"))
    assert "Step 3 of 5" in text_of(await user.send("Qinghe township government"))

    await bot.restart()  # in the middle of the intake: nothing may be lost
    assert "Step 4 of 5" in text_of(await user.send("every week since March"))
    assert "at least 20" in text_of(await user.send("too short"))
    files_step = text_of(await user.send(DESCRIPTION))
    assert "Step 5 of 5" in files_step and "authors of comments" in files_step

    assert "File 1 of at most 5 added" in text_of(await user.send_photo(photo_with_gps()))
    assert "can't take this kind of file" in text_of(await user.send_document(b"PK\x03\x04zip", "x.zip",
                                                                              "application/zip"))
    review = text_of(await user.send("done"))
    assert "Qinghe township government" in review and "every week since March" in review
    assert "Attachments:</b> 1" in review or "Attachments: 1" in review

    await user.press("Edit an answer")
    assert "Which unit" in text_of(await user.press("Unit or place"))
    review = text_of(await user.send("Qinghe township, Party and Government Office"))
    assert "Party and Government Office" in review and "check your report" in review

    receipt = text_of(await user.press("Submit"))
    code = CODE.search(receipt)[0]
    assert "no longer kept" in text_of(await user.press("I have saved my code"))
    assert "only way back" in receipt
    # When to check back: the acknowledgement deadline, a date, counted in working days from today.
    settings = load_settings(environ={})
    today = datetime.now(settings.zone).date()
    due = calendar_from(settings).add_working_days(today, settings.reports.acknowledge_within_days)
    assert f"Check back on {due.isoformat()} at the latest" in receipt

    # A supervisor acknowledges and asks a question (through the service, as their inbox does).
    reports, database = await service_for(bot)
    try:
        now = datetime.now(timezone.utc)
        found = await reports.open_by_code(user_id=1, text=code, now=now)
        assert found.outcome == "found", (found, code, receipt)
        await reports.act(supervisor_id=SUPERVISOR_ID, report_id=found.report_id, action=Action.ACKNOWLEDGE, now=now)
        await reports.act(supervisor_id=SUPERVISOR_ID, report_id=found.report_id, action=Action.ASK, now=now,
                          text="Which app is it?")
        (stored,) = await reports.files(supervisor_id=SUPERVISOR_ID, report_id=found.report_id)
    finally:
        await database.dispose()
    assert b"SecretCamMaker" not in stored.data and not dict(Image.open(io.BytesIO(stored.data)).getexif())

    # /status: wrong format, then the code; the question is shown and answered.
    assert "does not look like a receipt code" in text_of(await user.send("/status hello"))
    view = text_of(await user.send(code.lower().replace("-", " ")))
    assert "Which app is it?" in view and "waiting for your answer" in view and "Report sent" in view
    # A greeting typed by habit is shown back and not sent; the answer is sent once confirmed.
    hello = await user.send("hello")
    assert "Send this to the supervisors?" in text_of(hello)
    assert "Not sent" in text_of(await user.press("Don't send", message=with_button(hello, "Don't send")))
    answer = await user.send("It is the Daily Patrol app.")
    assert "Sent to the supervisors" in text_of(await user.press("Send it", message=with_button(answer, "Send it")))
    refreshed = text_of(await user.press("Refresh"))
    assert "Your message: It is the Daily Patrol app." in refreshed and "Your message: hello" not in refreshed
    assert "Closed" in text_of(await user.press("Done"))
    assert "No report has this code" in text_of(await user.send("/status 0000-0000-0000-0000"))

    # Nothing that identifies the reporter: database file (with its WAL) and the log.
    await bot.stop()
    db_path = bot.data_dir / "qingfeng.db"
    with sqlite3.connect(db_path) as conn:  # the intake left nothing under the chat
        # No open flow names a report (a code still being asked for names none).
        assert conn.execute("SELECT count(*) FROM pending_input WHERE data_token IS NOT NULL").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM report_draft").fetchone() == (0,)
    stored_bytes = b"".join(p.read_bytes() for p in db_path.parent.glob("qingfeng.db*"))
    log = bot.log_text()
    assert "Traceback" not in log
    for secret in (str(user.id), "secret_whistler", "Xiaoming", "Wangreporter",
                   hashlib.sha256(str(user.id).encode()).hexdigest(), DESCRIPTION[:30], "Daily Patrol"):
        assert secret.encode() not in stored_bytes, secret
        if secret not in (DESCRIPTION[:30], "Daily Patrol"):
            assert secret not in log, secret
    assert DESCRIPTION[:30] not in log and "Daily Patrol" not in log


async def test_erasing_an_intake_resumed_after_start_deletes_its_first_steps_too(shared_bot):
    bot = shared_bot
    user = await bot.user(language_code="en")
    await user.send("/report")
    await user.send("1")
    await user.send("Eastlake Township Education Office")
    assert "Qingfeng" in text_of(await user.send("/start"))  # set aside, the draft is kept
    assert "unfinished" in text_of(await user.send("/report"))
    await user.press("Continue it")
    await user.send("since March")
    await user.send(DESCRIPTION)
    await user.send("done")
    receipt = await user.press("Submit")
    await user.press("Erase everything", message=with_button(receipt, "Erase everything"))
    left = [m.get("text") or "" for m in await bot.client.messages(user.id)]
    assert not any("Eastlake" in text or DESCRIPTION in text for text in left), left


async def test_a_question_nobody_answers_while_a_report_is_set_aside_points_back_to_it(shared_bot):
    """/help in the middle of step 4, then words no entry answers: the advice is /report to go on
    (it spoke of a receipt code the reporter does not have yet)."""
    user = await shared_bot.user(language_code="zh")
    await send_all(user, "/report", "1", "东湖镇人民政府", "上个月", "/help")
    unknown = text_of(await user.send("纸鹤怎么折"))
    assert "输入 /report 即可继续填写" in unknown and "回执码" not in unknown


async def test_a_typed_number_chooses_the_button_shown_at_that_place(shared_bot):
    user = await shared_bot.user(language_code="en")
    await user.send("/report")
    await user.send("1")
    await user.send("Westbank Township")
    await user.send("last week")
    files = text_of(await user.send(DESCRIPTION))
    assert "Step 5 of 5" in files  # buttons: Continue, Back, Cancel
    assert "Step 4 of 5" in text_of(await user.send("2"))  # Back, not "remove the files"
    await user.send(DESCRIPTION)
    assert "check your report" in text_of(await user.send("1"))  # Continue
    # The review shows Submit, Edit an answer, Back, Cancel: "3" goes back and deletes nothing.
    assert "Step 5 of 5" in text_of(await user.send("3"))
    assert "check your report" in text_of(await user.send("done"))
    code = CODE.search(text_of(await user.send("1")))[0]  # Submit
    await user.press("I have saved my code")

    # /status: a message shown back waits under "Send it" (1) and "Don't send" (2).
    await user.send(f"/status {code}")
    assert "Send this to the supervisors?" in text_of(await user.send("hello"))
    assert "Not sent" in text_of(await user.send("2"))
    assert "Send this to the supervisors?" in text_of(await user.send("The notice came on Monday."))
    assert "Sent to the supervisors" in text_of(await user.send("1"))
    refreshed = text_of(await user.send("refresh"))
    assert "Your message: The notice came on Monday." in refreshed and "Your message: hello" not in refreshed


async def test_the_offer_to_erase_stays_open_after_another_message_and_after_a_failed_receipt(shared_bot):
    bot = shared_bot

    async def intake(user, unit: str) -> None:
        await user.send("/report")
        await user.send("1")
        await user.send(unit)
        await user.send("last week")
        await user.send(DESCRIPTION)
        await user.send("done")

    # A "thanks" typed after the receipt: the offer is asked again, not closed.
    user = await bot.user(language_code="en")
    await intake(user, "Northgate Township")
    await user.press("Submit")
    await user.press("I have saved my code")
    again = await user.send("thanks")
    assert "Shall I delete this conversation's messages?" in text_of(again)
    # The code is no longer kept: no short message with it can be offered.
    assert not any("keep a short message" in b["text"] for m in again for b in buttons_of(m))
    assert "deleted from this chat" in text_of(await user.press("Erase everything",
                                                                message=with_button(again, "Erase everything")))
    left = [m.get("text") or "" for m in await bot.client.messages(user.id)]
    assert not any("Northgate" in text for text in left), left

    # The receipt could not be sent: the next message shows it again, with the offer to erase.
    other = await bot.user(language_code="en")
    await intake(other, "Southgate Township")
    await bot.client.inject_fault("sendMessage", "400", count=1, chat_id=other.id,
                                  description="Bad Request: message is too long")
    await other.press("Submit", expect_reply=False)
    answers = [e["text"] for e in (await bot.client.events(chat_id=None, after=0, timeout=0))["events"]
               if e["type"] == "callback_answer" and e.get("text")]
    assert "receipt code could not be shown just now" in answers[-1]
    shown = await other.send("hello?")
    assert CODE.search(text_of(shown)) and "Erase everything" in [b["text"].removeprefix("🧹 ")
                                                                   for m in shown for b in buttons_of(m)]
    code = CODE.search(text_of(shown))[0]
    await other.send("one more thing")  # the receipt is shown again, below the one pressed next
    await other.press("Erase everything", message=with_button(shown, "Erase everything"))
    left = [m.get("text") or "" for m in await bot.client.messages(other.id)]
    assert not any("Southgate" in text or code in text for text in left), left  # every copy of the code too


async def test_an_unsaved_code_is_shown_again_once_not_at_every_step_of_the_next_report(shared_bot):
    """A reporter who has not pressed "I have saved my code" and starts another report sees the code
    again when they start, not at each answer; the second receipt names each code with its own day."""
    user = await shared_bot.user(language_code="en")
    await send_all(user, "/report", "1", "Eastgate Township", "last week", DESCRIPTION, "done")
    first = CODE.search(text_of(await user.press("Submit")))[0]

    started = text_of(await user.send("/report"))
    assert "here it is again" in started and first in started
    steps = [text_of(await user.send(answer)) for answer in ("1", "Westgate Township", "yesterday", DESCRIPTION, "done")]
    assert not any("here it is again" in step or first in step for step in steps), steps
    receipt = text_of(await user.press("Submit"))
    codes = CODE.findall(receipt)
    assert len(set(codes)) == 2 and first in codes
    assert "one for each report" in receipt and receipt.count("check back by") == 2
    assert "Write them down" in receipt and "each is the only way back to its report" in receipt


async def test_a_when_chosen_by_button_reads_in_each_readers_language(bot_factory):
    """A Chinese reporter presses 现在仍在发生; an English supervisor's card says "It is still going on"."""
    bot = await bot_factory()
    reporter = await bot.user(language_code="zh")
    await send_all(reporter, "/report", "1", "青河镇人民政府")
    await reporter.press("现在仍在发生")
    await reporter.send("镇里要求每个村干部每天在工作群发四张巡查照片，按数量打分，占用大量时间。")
    review_text = text_of(await reporter.send("完成"))
    assert "现在仍在发生" in review_text  # the reporter reads it in Chinese
    await reporter.press("提交")

    supervisor = await bot.supervisor(language_code="en")
    inbox = await supervisor.send("/inbox")
    card = text_of(await supervisor.press(message=inbox[-1], data=buttons_of(inbox[-1])[0]["callback_data"]))
    assert "When: It is still going on" in card and "现在仍在发生" not in card


async def test_cancel_typed_as_the_button_is_labelled_cancels(shared_bot):
    """取消 / cancel typed at a step cancels the intake, as the ❌ Cancel button does (it was taken as
    the unit's name)."""
    for language, typed, said in (("zh", "取消", "已取消"), ("en", "cancel", "Cancelled")):
        user = await shared_bot.user(language_code=language)
        await user.send("/report")
        await user.send("1")
        assert said in text_of(await user.send(typed))
        assert await _no_draft(shared_bot, user)


async def _no_draft(bot, user) -> bool:
    service, database = await service_for(bot)
    try:
        return await service.draft(chat_id=user.id) is None
    finally:
        await database.dispose()


async def test_cancel_deep_link_throttling_and_forged_buttons(bot_factory):
    bot = await bot_factory()
    user = await bot.user(language_code="zh")

    # The deep link starts the intake; /cancel midway deletes the draft.
    assert "第 1 步" in text_of(await user.send("/start report"))
    await user.send("3")  # a typed category number
    assert "第 3 步" in text_of(await user.send("某某乡政府"))
    await user.press(data="rp:when:9", expect_reply=False)  # forged: refused, nothing changes
    assert "未完成" in text_of(await user.send("/report"))  # an unfinished draft: continue it?
    assert "第 3 步" in text_of(await user.send("继续"))  # typed instead of pressed
    # /status sets the report aside (the draft is kept) and asks for a code; /report takes it up again.
    assert "草稿仍保留" in text_of(await user.send("/status"))
    assert "未完成" in text_of(await user.send("/report"))
    assert "已取消" in text_of(await user.send("/cancel"))
    started = await user.press("举报形式主义", message=(await user.send("/start"))[-1])
    assert "第 1 步" in text_of(started)  # a fresh draft: the old answers are gone
    assert "未完成" not in text_of(started)
    await user.send("/cancel")

    # Wrong codes: five, then a polite wait.
    assert "回执码" in text_of(await user.send("/status"))
    for attempt in range(5):
        assert "没有与这个回执码对应的举报" in text_of(await user.send(f"0000-0000-0000-000{attempt}"))
    assert "请等待" in text_of(await user.send("0000-0000-0000-0009"))
    assert "请等待" in text_of(await user.send("/status 0000-0000-0000-0008"))

    answers = [e for e in (await bot.client.events(chat_id=user.id, after=0))["events"]
               if e["type"] == "callback_answer"]
    assert any("失效" in (a.get("text") or "") for a in answers)
    assert "Traceback" not in bot.log_text()


async def test_back_at_every_step_captions_file_limits_erasing_the_intake_and_throttles(bot_factory):
    bot = await bot_factory(env={"QINGFENG_REPORTS__MAX_ATTACHMENTS": "2",
                                 "QINGFENG_REPORTS__SUBMISSIONS_PER_WINDOW": "1"})
    user = await bot.user(language_code="en")

    # Back, pressed or typed, at every step after the first.
    assert "Step 1 of 5" in text_of(await user.send("/report"))
    assert "Step 2 of 5" in text_of(await user.press("Leaving excessive traces"))
    assert "Step 1 of 5" in text_of(await user.press("← Back"))
    assert "Step 2 of 5" in text_of(await user.send("4"))
    assert "Step 3 of 5" in text_of(await user.send("Qinghe township"))
    assert "Step 2 of 5" in text_of(await user.send("返回"))
    assert "Step 3 of 5" in text_of(await user.send("Qinghe township government"))
    assert "Step 2 of 5" in text_of(await user.send("上一步"))
    assert "Step 3 of 5" in text_of(await user.send("Qinghe township government"))
    assert "Step 4 of 5" in text_of(await user.send("since March"))
    assert "Step 3 of 5" in text_of(await user.press("← Back"))
    assert "Step 4 of 5" in text_of(await user.send("since March"))
    assert "Step 5 of 5" in text_of(await user.send(DESCRIPTION))

    # Files: the caption goes with the file; at the limit no more is offered.
    assert "File 1 of at most 2 added" in text_of(await user.send_photo(photo_with_gps(), caption="the notice"))
    last = text_of(await user.send_photo(photo_with_gps()))
    assert "File 2 of 2 added: that is the most" in last and "Send more" not in last
    # Back to the description: it is shown, and kept with a button rather than typed again.
    asked_again = await user.send("back")
    assert "Step 4 of 5" in text_of(asked_again) and f"Your answer now:\n{DESCRIPTION}" in text_of(asked_again)
    at_limit = text_of(await user.press("Keep this answer", message=with_button(asked_again, "Keep this answer")))
    assert "You have added 2 files, the most" in at_limit and "Send them now" not in at_limit
    review = text_of(await user.send("done"))
    assert "check your report" in review and "1. photo (.png) · the notice" in review  # with its caption
    assert "Step 5 of 5" in text_of(await user.press("← Back"))
    assert "check your report" in text_of(await user.send("done"))

    receipt = await user.press("Submit")
    code = CODE.search(text_of(receipt))[0]
    assert "delete this conversation's messages" in text_of(receipt)

    # Erase the intake, keeping a short message with the code.
    kept = text_of(await user.press("Erase, keep a short message with my code", message=receipt[-1]))
    assert code in kept and "deleted from this chat" in kept
    left = await bot.client.messages(user.id)
    assert all(DESCRIPTION not in (m.get("text") or "") and "Qinghe" not in (m.get("text") or "") for m in left)
    assert not any(m.get("photo") for m in left)
    assert [m for m in left if code in (m.get("text") or "")]  # the short message, and nothing of the intake
    assert len(left) <= 2, [m.get("text") for m in left]
    assert "the only copy of the code" in kept
    # The code is in the chat now: the next message does not post it again into the cleaned chat.
    assert code not in text_of(await user.send("/help"))

    # The caption reached the supervisors with its file.
    reports, database = await service_for(bot)
    try:
        found = await reports.open_by_code(user_id=1, text=code, now=datetime.now(timezone.utc))
        stored = await reports.files(supervisor_id=SUPERVISOR_ID, report_id=found.report_id)
    finally:
        await database.dispose()
    assert [file.caption for file in stored] == ["the notice", ""]

    # A supervisor acknowledges it and sends the reporter a file (cleaned like the reporter's).
    supervisor = await bot.supervisor(language_code="en")
    inbox = await supervisor.send("/inbox")

    async def card_actions(label: str) -> dict:
        card = await supervisor.press(data=f"rc:{found.report_id}", message=inbox[-1])
        return [m for m in card if any(label in b["text"] for b in buttons_of(m))][-1]

    await supervisor.press("Acknowledge", message=await card_actions("Acknowledge"))
    prompt = await supervisor.press("Send the reporter a file", message=await card_actions("Send the reporter a file"))
    assert "metadata is removed" in text_of(prompt)
    assert "File sent to the reporter" in text_of(await supervisor.send_photo(photo_with_gps(), caption="the order"))

    # /status shows the reporter their own report, files and captions included, and the supervisors' file.
    shown_view = await user.send(f"/status {code}")
    view = text_of(shown_view)
    for shown in ("Qinghe township government", "since March", DESCRIPTION, "the notice", "Files: 3",
                  "The supervisors sent you a file", "from the supervisors: photo (.png) · the order"):
        assert shown in view, shown
    sent = await user.press("Files from the supervisors", message=with_button(shown_view, "Files from the supervisors"))
    assert [m.get("caption") for m in sent if m.get("document")] == ["From the supervisors, 1/1\nthe order"]

    # One report per window for this chat: said before the reporter writes another.
    again = text_of(await user.send("/report"))
    assert "at most 1 reports in 60 minutes" in again and "You can send another from" in again
    assert "Step 1" not in again
    assert "Traceback" not in bot.log_text()
