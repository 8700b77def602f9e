"""The reporter's side of the report service: drafts, submission, receipt codes, replies, files."""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image
from sqlalchemy import text

from bot.reports import codes, files
from bot.reports.files import FileRefused
from bot.reports.service import Draft, IncompleteDraft, NoDraft, Refused, ReportService, Throttled
from bot.reports.states import Action, Status

CHAT = 523456789
NOW = datetime(2025, 3, 4, 10, 32, 17, tzinfo=timezone.utc)
SUPERVISOR = 900000001
DESCRIPTION = "Every village must post four patrol photos a day in the work group, scored weekly."


@pytest.fixture
def reports(settings, database, crypto) -> ReportService:
    return ReportService(settings=settings, database=database, crypto=crypto)


def png_with_gps() -> bytes:
    image = Image.new("RGB", (60, 40), (10, 120, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCamMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({ExifTags.GPS.GPSLatitudeRef: "N",
                                               ExifTags.GPS.GPSLatitude: (31.0, 14.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


async def full_draft(reports: ReportService, chat: int = CHAT) -> Draft:
    draft = Draft(category="excessive-traces", unit="Qinghe township", when="since March", description=DESCRIPTION)
    return await reports.save_draft(chat_id=chat, draft=draft, now=NOW)


async def test_a_draft_is_kept_under_a_keyed_hash_and_cleared_of_files(reports, database):
    await full_draft(reports)
    clean = files.sanitise(png_with_gps(), "image/png", max_mb=10)
    assert await reports.add_draft_file(chat_id=CHAT, file=clean) == 1
    assert await reports.add_draft_file(chat_id=CHAT, file=clean) == 2
    assert (await reports.draft(chat_id=CHAT)).files == 2
    await reports.clear_draft_files(chat_id=CHAT)
    draft = await reports.draft(chat_id=CHAT)
    assert draft.files == 0 and draft.unit == "Qinghe township"
    async with database.engine.connect() as conn:
        dump = repr((await conn.execute(text("SELECT key, token FROM report_draft"))).all())
    assert str(CHAT) not in dump and "Qinghe" not in dump


async def test_submission_gives_a_code_that_opens_the_report_and_erases_the_draft(reports, database):
    await full_draft(reports)
    await reports.add_draft_file(chat_id=CHAT, file=files.sanitise(png_with_gps(), "image/png", max_mb=10))
    receipt = await reports.submit(chat_id=CHAT, now=NOW)
    assert codes.normalise(receipt.code) is not None and len(receipt.code) == 19
    assert await reports.draft(chat_id=CHAT) is None
    with pytest.raises(NoDraft):
        await reports.submit(chat_id=CHAT, now=NOW)

    check = await reports.open_by_code(user_id=42, text=receipt.code.lower().replace("-", " "), now=NOW)
    assert check.outcome == "found" and check.report_id == receipt.report_id
    view = await reports.reporter_view(report_id=receipt.report_id)
    assert view.status is Status.NEW and view.files == 1 and view.can_reply
    assert [item.action for item in view.history] == [Action.SUBMIT]
    assert view.history[0].at == NOW.replace(minute=0, second=0)  # the hour only
    async with database.engine.connect() as conn:
        dump = repr((await conn.execute(text("SELECT * FROM report"))).all())
        drafts = (await conn.execute(text("SELECT count(*) FROM report_draft_file"))).scalar_one()
    assert receipt.code not in dump and receipt.code.replace("-", "") not in dump and DESCRIPTION[:20] not in dump
    assert drafts == 0


async def test_the_receipt_keeps_the_day_to_check_back_by(reports):
    await full_draft(reports)
    receipt = await reports.submit(chat_id=CHAT, now=NOW)  # Tuesday 4 March 2025
    assert receipt.acknowledge_due == datetime(2025, 3, 11).date()  # 5 working days later
    kept = await reports.unsaved_receipt(chat_id=CHAT, now=NOW + timedelta(hours=3))
    assert [(item.code, item.acknowledge_due) for item in kept] == [(receipt.code, receipt.acknowledge_due)]


async def test_an_incomplete_draft_is_not_submitted_and_stays(reports):
    await reports.save_draft(chat_id=CHAT, draft=Draft(category="other", unit="X"), now=NOW)
    with pytest.raises(IncompleteDraft) as missing:
        await reports.submit(chat_id=CHAT, now=NOW)
    assert missing.value.missing == "when"
    assert (await reports.draft(chat_id=CHAT)).unit == "X"


async def test_wrong_codes_are_throttled_per_user_without_storing_the_user(reports, database):
    limits = reports.settings.reports
    assert (await reports.open_by_code(user_id=7, text="nonsense", now=NOW)).outcome == "bad_format"
    for left in range(limits.code_attempts - 1, -1, -1):
        check = await reports.open_by_code(user_id=7, text="0000-0000-0000-0000", now=NOW)
        assert check.outcome == "not_found" and check.attempts_left == left
    locked = await reports.open_by_code(user_id=7, text="0000-0000-0000-0000", now=NOW)
    assert locked.outcome == "locked" and locked.wait_minutes >= 1
    assert (await reports.open_by_code(user_id=8, text="0000-0000-0000-0000", now=NOW)).outcome == "not_found"
    later = NOW + timedelta(minutes=2 * limits.code_window_minutes + 1)
    assert (await reports.open_by_code(user_id=7, text="0000-0000-0000-0000", now=later)).outcome == "not_found"
    async with database.engine.connect() as conn:
        dump = repr((await conn.execute(text("SELECT * FROM report_code_attempt"))).all())
    assert "'7'" not in dump and ", 7," not in dump


async def test_one_chat_may_send_only_so_many_reports_per_window(reports, database):
    limits = reports.settings.reports
    limits.submissions_per_window, limits.submission_window_minutes = 2, 60
    for _ in range(2):
        await full_draft(reports)
        await reports.submit(chat_id=CHAT, now=NOW)
    assert await reports.submission_wait(chat_id=CHAT, now=NOW) == NOW.replace(hour=11, minute=0, second=0)
    await full_draft(reports)
    with pytest.raises(Throttled) as throttled:
        await reports.submit(chat_id=CHAT, now=NOW + timedelta(minutes=5))
    assert throttled.value.until == NOW.replace(hour=11, minute=0, second=0)  # when they can send again
    assert (await reports.draft(chat_id=CHAT)).description == DESCRIPTION  # kept for then
    await full_draft(reports, chat=CHAT + 1)  # another chat is not held back
    await reports.submit(chat_id=CHAT + 1, now=NOW)
    assert await reports.submission_wait(chat_id=CHAT, now=NOW + timedelta(hours=1)) is None
    await reports.submit(chat_id=CHAT, now=NOW + timedelta(hours=1))
    async with database.engine.connect() as conn:
        dump = repr((await conn.execute(text("SELECT * FROM throttle_count"))).all())
    assert str(CHAT) not in dump


async def test_wrong_codes_are_limited_per_day_for_the_whole_bot_across_accounts(reports):
    reports.settings.reports.code_attempts_per_day = 3
    await full_draft(reports)
    receipt = await reports.submit(chat_id=CHAT, now=NOW)
    for account in (1, 2, 3):  # one wrong guess each: no account is locked on its own
        assert (await reports.open_by_code(user_id=account, text="0000-0000-0000-0000", now=NOW)).outcome == "not_found"
    busy = await reports.open_by_code(user_id=4, text=receipt.code, now=NOW)
    # Until the next local midnight (Asia/Shanghai): 2025-03-05 00:00 there is 2025-03-04 16:00 UTC.
    assert busy.outcome == "busy" and busy.until == datetime(2025, 3, 4, 16, 0, tzinfo=timezone.utc)
    next_day = datetime(2025, 3, 4, 16, 1, tzinfo=timezone.utc)
    assert (await reports.open_by_code(user_id=4, text=receipt.code, now=next_day)).outcome == "found"


async def test_the_reporter_answers_a_question_and_adds_a_file(reports):
    await full_draft(reports)
    receipt = await reports.submit(chat_id=CHAT, now=NOW)
    report_id = receipt.report_id
    await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.ACKNOWLEDGE, now=NOW)
    await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.ASK, now=NOW, text="Which app?")
    await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.NOTE, now=NOW, text="internal")
    assert (await reports.reporter_view(report_id=report_id)).status is Status.WAITING

    assert await reports.reporter_reply(report_id=report_id, text="Daily Patrol", now=NOW) is Status.OPEN
    clean = dataclasses.replace(files.sanitise(png_with_gps(), "image/png", max_mb=10), caption="the app's screen")
    assert await reports.reporter_attach(report_id=report_id, file=clean, now=NOW) == 1
    view = await reports.reporter_view(report_id=report_id)
    # The reporter sees their own report: unit, when, description, and the files with their captions.
    assert (view.unit, view.when, view.description) == ("Qinghe township", "since March", DESCRIPTION)
    assert [(meta["kind"], meta.get("caption")) for meta in view.file_list] == [("image", "the app's screen")]
    texts = [item.text for item in view.history]
    assert "Which app?" in texts and "Daily Patrol" in texts and "internal" not in texts
    assert all(item.supervisor_id is None for item in view.history)
    with pytest.raises(Refused):
        await reports.reporter_reply(report_id=report_id, text="   ", now=NOW)

    await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.CLOSE, now=NOW, text="Fixed.")
    # After the outcome the reporter may reply once: a dispute, which supervisors are told of.
    view = await reports.reporter_view(report_id=report_id)
    assert view.can_reply and view.disputing
    assert await reports.reporter_reply(report_id=report_id, text="Nothing was fixed", now=NOW) is Status.CLOSED
    assert not (await reports.reporter_view(report_id=report_id)).can_reply
    with pytest.raises(Refused) as refused:
        await reports.reporter_reply(report_id=report_id, text="more", now=NOW)
    assert refused.value.reason == "finished"
    card = await reports.card(supervisor_id=SUPERVISOR, report_id=report_id)
    assert card.history[-1].action is Action.DISPUTE and card.history[-1].text == "Nothing was fixed"
    assert Action.REOPEN in card.allowed
    async with reports.database.engine.connect() as conn:
        kinds = [row[0] for row in (await conn.execute(text("SELECT kind FROM outbox")))]
    assert "report_dispute" in kinds
    # A supervisor reopens it: the reporter can write again, and dispute the next outcome once more.
    assert await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.REOPEN, now=NOW,
                             text="Checking again") is Status.OPEN
    assert await reports.reporter_reply(report_id=report_id, text="Thanks", now=NOW) is Status.OPEN
    await reports.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.REJECT, now=NOW, text="Dup",
                      kind="spam")
    assert (await reports.reporter_view(report_id=report_id)).disputing


async def test_draft_files_are_limited_in_number(reports):
    await full_draft(reports)
    clean = files.sanitise(png_with_gps(), "image/png", max_mb=10)
    for _ in range(reports.settings.reports.max_attachments):
        await reports.add_draft_file(chat_id=CHAT, file=clean)
    with pytest.raises(FileRefused) as refused:
        await reports.add_draft_file(chat_id=CHAT, file=clean)
    assert refused.value.reason == "count"


def test_images_lose_their_exif_and_unsupported_files_are_refused():
    clean = files.sanitise(png_with_gps(), "image/jpeg", max_mb=10)  # a photo's declared type does not matter
    assert clean.mime == "image/png" and b"SecretCamMaker" not in clean.data
    assert not dict(Image.open(io.BytesIO(clean.data)).getexif())
    assert clean.cleaned == ("location", "camera")  # it had them, and the reporter is told they were removed
    # A photo with only its camera model is not said to have lost a place it never held.
    image, out = Image.new("RGB", (60, 40)), io.BytesIO()
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCamMaker"
    image.save(out, "JPEG", exif=exif)
    assert files.sanitise(out.getvalue(), "image/jpeg", max_mb=10).cleaned == ("camera",)
    with pytest.raises(FileRefused) as refused:
        files.sanitise(b"PK\x03\x04", "application/zip", max_mb=10)
    assert refused.value.reason == "type"
    with pytest.raises(FileRefused) as refused:
        files.sanitise(b"x" * (1024 * 1024 + 1), "text/plain", max_mb=1)
    assert refused.value.reason == "size"


def test_codes_are_forgiving_to_type():
    code = codes.new_code()
    assert codes.normalise(codes.format_code(code).lower()) == code
    assert codes.normalise("ＫＯ1L-" + "2" * 12) == "K011" + "2" * 12
    assert codes.normalise("K7QF-2M9X") is None and codes.normalise("U" * 16) is None
