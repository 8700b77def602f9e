"""A whole anonymous-report case through the chat, both sides, then a search for the reporter.

The reporter reports with a photo and gets a receipt; the supervisor is notified, acknowledges
and asks a question; the reporter answers through /status; the supervisor closes the case with
an outcome; the reporter reads it. Then the database file and the log are searched for anything
that identifies the reporter: nothing may be found.
"""

import asyncio
import hashlib
import re
import sqlite3

import pytest

from tests.e2e import text_of, with_button
from tests.test_e2e_reports_reporter import CODE, photo_with_gps

pytestmark = pytest.mark.e2e
DESCRIPTION = "Every village cadre must post three patrol photos a day in the township work group, or lose points."
QUESTION = "Which township office sets the photo quota?"
REPLY = "The township party office, in its notice of May."
OUTCOME = "The township has withdrawn the photo quota and apologised."


async def wait_for(bot, chat_id: int, after: int, words: str) -> list[dict]:
    for _ in range(30):
        messages = await bot.collect(chat_id, after, expect_reply=False)
        if words in text_of(messages):
            return messages
        await asyncio.sleep(0.5)
    raise AssertionError(f"no message with {words!r} in chat {chat_id}")


async def test_a_whole_case_from_report_to_outcome_leaves_no_trace_of_the_reporter(bot_factory):
    bot = await bot_factory()
    reporter = await bot.user(language_code="en", first_name="Lanlan", last_name="Zhaoreporter",
                              username="quiet_villager")
    supervisor = await bot.supervisor(language_code="en")
    await supervisor.send("/language en")

    # The reporter: a report with a photo, and the receipt.
    await reporter.send("/report")
    await reporter.press("Leaving excessive traces")
    await reporter.send("Dongshan township")
    await reporter.send("since May")
    await reporter.send(DESCRIPTION)
    await reporter.send_photo(photo_with_gps())
    await reporter.send("done")
    before_submit = await bot.last_seq()
    code = CODE.search(text_of(await reporter.press("Submit")))[0]
    await reporter.press("I have saved my code")

    # The supervisor: notified (category and unit, not the text), acknowledges, asks a question.
    notice = await wait_for(bot, supervisor.id, before_submit, "New report")
    assert "Dongshan township" in text_of(notice) and DESCRIPTION[:20] not in text_of(notice)
    supervisor.last = notice
    card = await supervisor.press("Open report")
    assert DESCRIPTION in text_of(card)
    acknowledged = await supervisor.press("Acknowledge", message=with_button(card, "Acknowledge"))
    await supervisor.press("Ask the reporter", message=acknowledged[-1])
    preview = await supervisor.send(QUESTION)
    asked = await supervisor.press("Send", message=preview[-1])
    assert "Question sent to the reporter" in text_of(asked)

    # The reporter: reads the question with the code, answers it.
    status = await reporter.send(f"/status {code}")
    assert QUESTION in text_of(status)
    shown = await reporter.send(REPLY)
    assert "Send this to the supervisors?" in text_of(shown)  # shown back first
    before_reply = await bot.last_seq()
    assert "Sent to the supervisors" in text_of(await reporter.press("Send it", message=with_button(shown, "Send it")))

    # The supervisor: sees the answer, closes the case with an outcome.
    answer_notice = await wait_for(bot, supervisor.id, before_reply, "wrote or added a file")
    assert REPLY[:20] not in text_of(answer_notice)  # the notice never carries the text
    supervisor.last = answer_notice
    card = await supervisor.press("Open report")
    assert REPLY in text_of(card)
    await supervisor.press("Close with an outcome", message=with_button(card, "Close with an outcome"))
    preview = await supervisor.send(OUTCOME)
    closed = await supervisor.press("Send", message=preview[-1])
    assert "closed" in text_of(closed)

    # The reporter: the outcome, through the code.
    final = await reporter.send(f"/status {code}")
    assert OUTCOME in text_of(final) and "Closed" in text_of(final)
    # The view of a finished report takes one reply (a dispute) until Done or 15 minutes without activity.
    assert "you may reply once" in text_of(final)
    # The dispute: sent once, and then nothing more is offered (it invited more, then refused it).
    preview = await reporter.send("The township still requires the photos; nothing changed.")
    disputed = text_of(await reporter.press("Send it", message=with_button(preview, "Send it")))
    assert "they see that you dispute the outcome" in disputed and "write more" not in disputed
    assert "Sent to the supervisors" not in text_of(await reporter.send("one more thing, the photos are due daily"))

    # Nothing identifies the reporter: not in the database file (and its WAL), not in the log.
    await bot.stop()
    db_path = bot.data_dir / "qingfeng.db"
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT count(*) FROM pending_input WHERE data_token IS NOT NULL").fetchone() == (0,)
    stored = b"".join(path.read_bytes() for path in db_path.parent.glob("qingfeng.db*"))
    log = bot.log_text()
    identifiers = [str(reporter.id), "quiet_villager", "Lanlan", "Zhaoreporter",
                   hashlib.sha256(str(reporter.id).encode()).hexdigest()]
    for identifier in identifiers:
        assert identifier.encode() not in stored, identifier
        assert identifier not in log, identifier
    for text in (DESCRIPTION, REPLY, OUTCOME):  # encrypted at rest, never logged
        assert text[:25].encode() not in stored and text[:25] not in log
    assert not re.search(r"Traceback", log)
