"""Anonymous reports, the supervisors' side: export, figures, poster, key rotation, retention,
deadline reminders, and the commands, on real databases."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ReminderPolicy, Supervisor, load_settings
from bot.crypto import Crypto, generate_key
from bot.db import Database
from bot.outbox import Claimed, OutboxMessage, RenderEnv
from bot.pending import Pending, PendingInputs
from bot.reports import deadlines
from bot.reports.export import export, load_records
from bot.reports.keys import RotationFailed, rotate_all, with_lookup_secret
from bot.reports.models import Report, ReportEvent
from bot.reports.notices import render_deadline
from bot.reports.poster import find_cjk_font, render_image, render_poster, report_link
from bot.reports.service import Draft, Refused, ReportService
from bot.reports.states import Action, Status
from bot.reports.stats import compute, render_chart
from tests.conftest import TEST_KEY

SUPERVISOR = 900000001
SCOPED = 900000002
REPORTER_CHAT = 555000111
NOW = datetime(2026, 3, 4, 10, 30, tzinfo=timezone.utc)  # a Wednesday
DESCRIPTION = "县里要求每天在三个APP上打卡并截图上传，村干部每天花两个小时留痕。"


@pytest.fixture
def service(settings, database, crypto) -> ReportService:
    settings.access.supervisors = [Supervisor(id=SUPERVISOR), Supervisor(id=SCOPED, categories=["inaction"])]
    return ReportService(settings=settings, database=database, crypto=crypto)


async def submit(service: ReportService, *, now: datetime = NOW, category: str = "fingertip-formalism",
                 unit: str = "某县农业农村局", description: str = DESCRIPTION, chat_id: int = REPORTER_CHAT) -> int:
    await service.save_draft(chat_id=chat_id, draft=Draft(category=category, unit=unit, when="上周一",
                                                          description=description), now=now)
    return (await service.submit(chat_id=chat_id, now=now)).report_id


# ---- export -----------------------------------------------------------------------------------

async def test_xlsx_export_is_decrypted_complete_and_reporter_free(service):
    first = await submit(service)
    second = await submit(service, category="inaction", unit="=HYPERLINK(\"http://evil\",\"x\")",
                          description="=1+1 " + DESCRIPTION)
    await service.act(supervisor_id=SUPERVISOR, report_id=first, action=Action.ACKNOWLEDGE, now=NOW + timedelta(days=1))
    await service.act(supervisor_id=SUPERVISOR, report_id=first, action=Action.NOTE, now=NOW + timedelta(days=1),
                      text="已电话核实")
    await service.act(supervisor_id=SUPERVISOR, report_id=first, action=Action.CLOSE, now=NOW + timedelta(days=3),
                      text="已责令整改，取消打卡要求")

    data, count = await export(service, format="xlsx", language="zh")
    assert count == 2
    workbook = load_workbook(io.BytesIO(data))
    reports, events = workbook.worksheets
    rows = [[cell.value for cell in row] for row in reports.iter_rows()]
    assert rows[0][:3] == ["举报编号", "类别", "状态"]
    assert rows[1][0] == first and rows[1][2] == "已办结" and rows[1][10] == DESCRIPTION  # all in Chinese
    assert rows[1][12] == "已责令整改，取消打卡要求"
    assert rows[1][1] == "指尖上的形式主义（APP、工作群、打卡）"
    # A text that looks like a formula stays text.
    assert rows[2][8].startswith("=HYPERLINK") and reports.cell(row=3, column=9).data_type == "s"
    log = [[cell.value for cell in row] for row in events.iter_rows(min_row=2)]
    assert [row[5] for row in log if row[0] == first] == ["提交举报", "已受理", "内部备注", "办结，结果"]
    assert [(row[3], row[8]) for row in log if row[0] == first][2:] == [("纪检监察干部", "否"), ("纪检监察干部", "是")]
    assert {row[3] for row in log if row[5] == "提交举报"} == {"举报人"}
    assert any(row[4] == SUPERVISOR for row in log)
    flat = " ".join(str(value) for row in rows + log for value in row)
    assert str(REPORTER_CHAT) not in flat


async def test_csv_export_in_english_neutralises_formulas(service):
    await submit(service, unit="@SUM(A1)", description="+" + DESCRIPTION)
    data, count = await export(service, format="csv", language="en")
    assert count == 1 and data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Report", "Category", "Status"]
    assert rows[1][8] == "'@SUM(A1)" and rows[1][10].startswith("'+")


async def test_export_of_a_scoped_supervisor_holds_only_their_categories(service):
    await submit(service)
    inaction = await submit(service, category="inaction")
    records = await load_records(service, categories=service.scope(SCOPED))
    assert [r.id for r in records] == [inaction]
    with pytest.raises(Refused):
        service.scope(123)


# ---- figures ----------------------------------------------------------------------------------

async def test_stats_count_per_week_and_measure_medians(service):
    a = await submit(service, now=NOW - timedelta(days=14))
    b = await submit(service, now=NOW - timedelta(days=7), category="inaction")
    await submit(service, now=NOW)
    await service.act(supervisor_id=SUPERVISOR, report_id=a, action=Action.ACKNOWLEDGE,
                      now=NOW - timedelta(days=12))
    await service.act(supervisor_id=SUPERVISOR, report_id=a, action=Action.CLOSE, now=NOW - timedelta(days=4),
                      text="已整改")
    await service.act(supervisor_id=SUPERVISOR, report_id=b, action=Action.ACKNOWLEDGE, now=NOW - timedelta(days=3))

    stats = await compute(service, now=NOW)
    assert (stats.total, stats.open, stats.closed) == (3, 2, 1)
    assert stats.per_category["fingertip-formalism"][-3:] == [1, 0, 1]
    assert stats.per_category["inaction"][-3:] == [0, 1, 0]
    submitted_a = NOW.replace(minute=0) - timedelta(days=14)
    expected_ack = ((NOW - timedelta(days=12) - submitted_a).total_seconds() / 86400
                    + (NOW - timedelta(days=3) - (NOW.replace(minute=0) - timedelta(days=7))).total_seconds() / 86400) / 2
    assert stats.median_acknowledge_days == pytest.approx(expected_ack)
    assert stats.median_close_days == pytest.approx((NOW - timedelta(days=4) - submitted_a).total_seconds() / 86400)

    scoped = await compute(service, now=NOW, categories=service.scope(SCOPED))
    assert scoped.total == 1 and scoped.median_close_days is None

    for language in ("zh", "en"):
        png = render_chart(stats, labels=service.category_labels, language=language)
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG" and image.width > 500


async def test_a_supervisor_sends_the_reporter_a_cleaned_file(service):
    from bot.reports.files import sanitise

    picture = Image.new("RGB", (30, 20), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SupervisorCam"  # Make
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes())
    clean = sanitise(out.getvalue(), "image/jpeg", max_mb=10)
    report_id = await submit(service, category="inaction")
    with pytest.raises(Refused) as refused:  # work starts with acknowledging
        await service.supervisor_attach(supervisor_id=SUPERVISOR, report_id=report_id, file=clean, now=NOW)
    assert refused.value.reason == "acknowledge_first"
    await service.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.ACKNOWLEDGE, now=NOW)
    with pytest.raises(Refused):  # a file goes with the file, never as a bare action
        await service.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.SEND_FILE, now=NOW)
    assert await service.supervisor_attach(supervisor_id=SCOPED, report_id=report_id, file=clean,
                                           now=NOW) is Status.OPEN
    (sent,) = await service.files_for_reporter(report_id=report_id)
    assert b"SupervisorCam" not in sent.data and sent.extension == "jpg"
    view = await service.reporter_view(report_id=report_id)
    assert view.history[-1].action is Action.SEND_FILE and view.file_list[-1]["from"] == "supervisor"
    other = await submit(service)
    await service.act(supervisor_id=SUPERVISOR, report_id=other, action=Action.ACKNOWLEDGE, now=NOW)
    with pytest.raises(Refused) as refused:  # outside the scoped supervisor's categories
        await service.supervisor_attach(supervisor_id=SCOPED, report_id=other, file=clean, now=NOW)
    assert refused.value.reason == "out_of_scope"
    assert await service.files_for_reporter(report_id=other) == []


async def test_stats_of_no_reports_render(service):
    stats = await compute(service, now=NOW)
    assert stats.total == 0 and stats.median_acknowledge_days is None
    assert render_chart(stats, labels=service.category_labels, language="zh").startswith(b"\x89PNG")


# ---- poster -----------------------------------------------------------------------------------

def test_poster_png_and_pdf_with_the_deep_link(tmp_path):
    poster = render_poster(tmp_path / "out", "qingfeng_bot")
    assert poster.link == "https://t.me/qingfeng_bot?start=report" == report_link("@qingfeng_bot")
    with Image.open(poster.png) as image:
        assert image.size == (1240, 1754)
    assert poster.pdf.read_bytes().startswith(b"%PDF")
    assert poster.chinese == (find_cjk_font() is not None)


def test_poster_and_intake_say_what_telegram_knows_and_how_to_report_more_safely():
    from bot.i18n import catalog
    from bot.reports import poster

    for subtitle, steps in ((poster.SUBTITLE_ZH, poster.STEPS_ZH), (poster.SUBTITLE_EN, poster.STEPS_EN)):
        words = subtitle + " ".join(steps)
        assert "不需姓名电话" not in words and "No name or phone" not in words  # Telegram has the phone
        assert "Telegram" in steps[-1] and ("手机号" in steps[-1] or "phone" in steps[-1])
        assert "单独的账号" in steps[-1] or "separate account" in steps[-1]
    intake = next(m for m in catalog("zh") if m.id and str(m.id).startswith("🔒"))
    for said in (intake.id, intake.string):
        assert "nobody, the bot's operators" not in said and "任何人（包括机器人的运营者）" not in said
    assert "Telegram itself knows" in intake.id and "separate Telegram account" in intake.id
    assert "Telegram 本身知道" in intake.string and "单独的 Telegram 账号" in intake.string


def test_poster_without_a_chinese_font_still_renders():
    image = render_image("https://t.me/x_bot?start=report", font=None)
    assert image.size == (1240, 1754)


def test_poster_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QINGFENG_LANG", "en")  # the command's messages in English (Chinese by default)
    runner = CliRunner()
    result = runner.invoke(app, ["poster", "--output", str(tmp_path / "p"), "--bot-username", "qingfeng_bot"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "poster.png").exists() and (tmp_path / "p" / "poster.pdf").exists()
    result = runner.invoke(app, ["poster", "--bot-username", "no spaces!"])
    assert result.exit_code == 2 and "username" in result.output


# ---- key rotation -----------------------------------------------------------------------------

async def test_rotation_reencrypts_every_encrypted_column(settings, database):
    old, new = generate_key(), generate_key()
    service = ReportService(settings=settings, database=database, crypto=Crypto([old]))
    report_id = await submit(service)
    await service.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.NOTE, now=NOW, text="备注")
    await service.save_draft(chat_id=777, draft=Draft(unit="某乡"), now=NOW)
    await PendingInputs(database, Crypto([old])).open(chat_id=777, user_id=777, ttl=timedelta(hours=1), now=NOW,
                                                      pending=Pending("status", "view", data={"report": report_id}))

    result = await rotate_all(database, Crypto([new, old]))
    assert result.tables["report"] == 1 and result.tables["report_event"] == 1
    assert result.tables["report_draft"] == 1 and result.tables["pending_input"] == 1

    only_new = ReportService(settings=settings, database=database, crypto=Crypto([new]))
    card = await only_new.card(supervisor_id=SUPERVISOR, report_id=report_id)
    assert card.description == DESCRIPTION and card.history[-1].text == "备注"
    opened = await PendingInputs(database, Crypto([new, old])).read(chat_id=777, user_id=777, now=NOW)
    assert opened.data == {"report": report_id}

    with pytest.raises(RotationFailed):
        await rotate_all(database, Crypto([generate_key()]))


def test_receipt_codes_work_after_rotation_as_the_readme_describes(database_url, tmp_path, monkeypatch):
    """README, "Encryption key": the new key first, `qingfeng keys rotate`, then drop the old key."""
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("QINGFENG_DATABASE__URL", database_url)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QINGFENG_ACCESS__SUPERVISORS", str(SUPERVISOR))

    async def as_the_bot_starts(keys: list[str], work):
        database = Database.connect(database_url)
        try:
            if database.is_postgres:
                from tests.conftest import _empty_postgres
                if keys == [old]:
                    await _empty_postgres(database)
            crypto = await with_lookup_secret(database, Crypto(keys))
            return await work(ReportService(settings=load_settings(), database=database, crypto=crypto))
        finally:
            await database.dispose()

    async def submit_and_keep_code(service):
        await service.save_draft(chat_id=REPORTER_CHAT, draft=Draft(category="inaction", unit="某乡", when="上周",
                                                                    description=DESCRIPTION), now=NOW)
        receipt = await service.submit(chat_id=REPORTER_CHAT, now=NOW)
        return receipt.code, receipt.report_id

    code, report_id = asyncio.run(as_the_bot_starts([old], submit_and_keep_code))

    monkeypatch.setenv("QINGFENG_SECURITY__ENCRYPTION_KEYS", f"{new},{old}")
    result = CliRunner().invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("QINGFENG_SECURITY__ENCRYPTION_KEYS", new)

    async def open_with_code(service):
        return await service.open_by_code(user_id=REPORTER_CHAT, text=code.lower(), now=NOW + timedelta(days=1))

    check = asyncio.run(as_the_bot_starts([new], open_with_code))
    assert check.outcome == "found" and check.report_id == report_id


# ---- retention --------------------------------------------------------------------------------

async def test_purge_deletes_only_closed_reports_past_retention(service, database):
    days = service.settings.reports.retention_days
    old_closed = await submit(service, now=NOW - timedelta(days=days + 30))
    old_open = await submit(service, now=NOW - timedelta(days=days + 30))
    recent_closed = await submit(service, now=NOW - timedelta(days=10))
    for report_id, closed_at in ((old_closed, NOW - timedelta(days=days + 1)), (recent_closed, NOW - timedelta(days=2))):
        await service.act(supervisor_id=SUPERVISOR, report_id=report_id, action=Action.REJECT, now=closed_at,
                          text="重复举报", kind="spam")

    result = await service.purge(now=NOW)
    assert result.reports == 1
    async with database.session() as session:
        remaining = set((await session.exec(select(Report.id))).scalars())
        events = set((await session.exec(select(ReportEvent.report_id))).scalars())
        notices = {row.slot.split(":")[0] for row in (await session.exec(select(OutboxMessage))).scalars()}
    assert remaining == {old_open, recent_closed} and old_closed not in events
    assert str(old_closed) not in notices and str(old_open) in notices  # its notices went with it


# ---- deadlines --------------------------------------------------------------------------------

def test_deadline_stages():
    policy = ReminderPolicy(before_days=[7, 3, 1], on_the_day=True, overdue_every_days=3)
    due = date(2026, 3, 10)
    assert deadlines.stage_for(due, date(2026, 3, 1), policy) is None
    assert deadlines.stage_for(due, date(2026, 3, 3), policy) == "before-7"
    assert deadlines.stage_for(due, date(2026, 3, 5), policy) == "before-7"
    assert deadlines.stage_for(due, date(2026, 3, 7), policy) == "before-3"
    assert deadlines.stage_for(due, date(2026, 3, 9), policy) == "before-1"
    assert deadlines.stage_for(due, due, policy) == "due"
    assert deadlines.stage_for(due, date(2026, 3, 11), policy) == "overdue-0"
    assert deadlines.stage_for(due, date(2026, 3, 12), policy) == "overdue-0"
    assert deadlines.stage_for(due, date(2026, 3, 13), policy) == "overdue-3"
    assert deadlines.stage_for(due, date(2026, 3, 14), policy) == "overdue-3"
    assert deadlines.stage_for(due, date(2026, 3, 16), policy) == "overdue-6"


def test_reminders_wait_for_the_sending_time(settings):
    morning = datetime(2026, 3, 4, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai, a Wednesday
    assert not deadlines.sending_time(settings, morning)
    assert deadlines.sending_time(settings, morning + timedelta(hours=1))
    assert not deadlines.sending_time(settings, morning + timedelta(days=3, hours=1))  # Saturday
    assert not deadlines.sending_time(settings, morning + timedelta(hours=15))  # 23:30, quiet


async def deadline_rows(service):
    table = OutboxMessage.__table__
    async with service.database.engine.connect() as connection:
        rows = (await connection.execute(sa.select(table).where(table.c.kind == "report_deadline")
                                         .order_by(table.c.id))).all()
    return [(row.slot.split(":", 1)[1], row.chat_id) for row in rows]


async def test_deadline_reminders_are_planned_once_and_escalated_to_everyone(service):
    # The deadline is counted in working days (bot/workdays.py); reminders count calendar days to it.
    submitted_on = NOW.astimezone(service.settings.zone).date()
    ack_days = (service.calendar.add_working_days(submitted_on, service.settings.reports.acknowledge_within_days)
                - submitted_on).days
    report_id = await submit(service, category="inaction")
    near = NOW + timedelta(days=ack_days - 1)
    await deadlines.plan(service, now=near)
    await deadlines.plan(service, now=near)  # twice is harmless
    assert await deadline_rows(service) == [("acknowledge:before-1:" + str(SUPERVISOR), SUPERVISOR),
                                            ("acknowledge:before-1:" + str(SCOPED), SCOPED)]

    late = NOW + timedelta(days=ack_days + 2)
    await deadlines.plan(service, now=late)
    escalated = [slot for slot, _ in await deadline_rows(service) if "overdue" in slot]
    assert escalated == [f"acknowledge:overdue-0:{chat}" for chat in sorted(service.settings.supervisor_ids)]

    # Acknowledged: the acknowledge deadline is no longer running.
    await service.act(supervisor_id=SCOPED, report_id=report_id, action=Action.ACKNOWLEDGE, now=NOW)
    before = len(await deadline_rows(service))
    await deadlines.plan(service, now=late + timedelta(days=1))
    assert [slot for slot, _ in (await deadline_rows(service))[before:] if slot.startswith("acknowledge")] == []


async def deadline_reminder(service, report_id: int, deadline: str, now: datetime, language: str = "zh") -> str:
    row = Claimed(id=1, kind=deadlines.KIND, chat_id=SUPERVISOR, item_id=None, attempts=0, created_at=now,
                  payload={"report_id": report_id, "deadline": deadline}, waiting_since=None)
    env = RenderEnv(service.settings, frozenset(service.settings.supervisor_ids), service.crypto)
    async with service.database.engine.connect() as connection:
        return (await render_deadline(connection, row, language, env, now)).text


async def test_deadline_reminders_count_working_days_as_the_deadline_was_set(service):
    # Submitted on Wednesday 4 March: 5 working days to acknowledge end on Wednesday 11 March. On
    # Friday 6 March three working days are left (five calendar days); on Monday 16 March the
    # deadline was missed three working days ago (Thursday, Friday, Monday), not five.
    report_id = await submit(service)
    friday, monday = datetime(2026, 3, 6, 2, 0, tzinfo=timezone.utc), datetime(2026, 3, 16, 2, 0, tzinfo=timezone.utc)
    assert "2026-03-11 前受理，还剩 3 个工作日" in await deadline_reminder(service, report_id, "acknowledge", friday)
    assert "3 working day(s) left" in await deadline_reminder(service, report_id, "acknowledge", friday, "en")
    assert "已超期 3 个工作日" in await deadline_reminder(service, report_id, "acknowledge", monday)
    # Across a statutory holiday: submitted on Thursday 2 April, acknowledged by Friday 10 April
    # (Qingming takes Saturday 4 to Monday 6 April); on Friday 3 April four working days are left
    # (Tuesday to Friday), not seven.
    before_qingming = datetime(2026, 4, 2, 2, 0, tzinfo=timezone.utc)
    second = await submit(service, now=before_qingming)
    text = await deadline_reminder(service, second, "acknowledge", before_qingming + timedelta(days=1))
    assert "2026-04-10 前受理，还剩 4 个工作日" in text


# ---- the export command -----------------------------------------------------------------------

def test_export_and_rotate_commands(tmp_path, monkeypatch, sqlite_template):
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QINGFENG_DATABASE__URL", url)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QINGFENG_SECURITY__ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.delenv("QINGFENG_CONFIG", raising=False)
    monkeypatch.setenv("QINGFENG_LANG", "en")  # the command's messages in English (Chinese by default)

    async def seed() -> None:
        from bot.config import load_settings

        database = Database.connect(url)
        try:
            await submit(ReportService(settings=load_settings(), database=database, crypto=Crypto([TEST_KEY])))
        finally:
            await database.dispose()

    asyncio.run(seed())
    runner = CliRunner()
    result = runner.invoke(app, ["reports", "export", "--format", "csv", "--output", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert "1 report(s)" in result.output and DESCRIPTION in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    result = runner.invoke(app, ["reports", "export", "--format", "xlsx"])
    assert result.exit_code == 0 and list(tmp_path.glob("reports-*.xlsx"))
    assert runner.invoke(app, ["reports", "export", "--format", "pdf"]).exit_code == 2

    new = generate_key()
    monkeypatch.setenv("QINGFENG_SECURITY__ENCRYPTION_KEYS", f"{new},{TEST_KEY}")
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0 and "Re-encrypted" in result.output
    monkeypatch.setenv("QINGFENG_SECURITY__ENCRYPTION_KEYS", new)
    monkeypatch.delenv("QINGFENG_LANG")
    result = runner.invoke(app, ["reports", "export", "--format", "csv", "--output", "-"])
    assert result.exit_code == 0 and DESCRIPTION in result.output
    assert "新举报" in result.output  # the status, in the operator's language (Chinese by default)


# ---- the inbox: filters, search, reopening ----------------------------------------------------

async def three_reports(service) -> tuple[int, int, int]:
    """A rejected report, a closed one and a new one, from three reporters."""
    spam = await submit(service, chat_id=REPORTER_CHAT + 1, unit="城关镇人民政府",
                        description="广告广告广告，加微信领取奖品，与形式主义无关的内容。")
    closed = await submit(service, chat_id=REPORTER_CHAT + 2, category="inaction", unit="县住建局",
                          description="住建局对群众反映的小区漏水问题推诿扯皮，三个月没有人处理。")
    new = await submit(service, chat_id=REPORTER_CHAT + 3, unit="城关镇人民政府")
    await service.act(supervisor_id=SUPERVISOR, report_id=spam, action=Action.REJECT, now=NOW, text="广告",
                      kind="spam")
    await service.act(supervisor_id=SUPERVISOR, report_id=closed, action=Action.ACKNOWLEDGE, now=NOW)
    await service.act(supervisor_id=SUPERVISOR, report_id=closed, action=Action.CLOSE, now=NOW + timedelta(days=2),
                      text="已督促整改")
    return spam, closed, new


async def inbox_ids(service, **query) -> list[int]:
    page = await service.inbox(supervisor_id=SUPERVISOR, now=NOW, **query)
    return [item.id for item in page.items]


async def test_the_inbox_filters_rejected_apart_from_closed_and_by_category(service):
    spam, closed, new = await three_reports(service)
    assert await inbox_ids(service, filter="rejected") == [spam]
    assert await inbox_ids(service, filter="closed") == [closed]
    assert await inbox_ids(service, filter="all") == [new, closed, spam]
    assert await inbox_ids(service, filter="all", category="inaction") == [closed]
    with pytest.raises(Refused):
        await inbox_ids(service, filter="all", category="no-such-category")


async def test_the_inbox_searches_the_decrypted_text_and_unit_without_indexing_it(service, database):
    spam, closed, new = await three_reports(service)
    assert await inbox_ids(service, filter="all", unit="城关镇") == [new, spam]
    assert await inbox_ids(service, filter="all", text="漏水") == [closed]
    assert await inbox_ids(service, filter="active", unit="城关镇", text="打卡") == [new]
    rows = []
    async with database.engine.connect() as connection:  # nothing searchable was written in the clear
        for table in ("report", "report_event"):
            rows += (await connection.execute(sa.text(f"SELECT * FROM {table}"))).all()
    dump = " ".join(map(str, rows))
    assert "漏水" not in dump and "城关镇" not in dump


async def test_a_closed_or_rejected_report_can_be_reopened_with_a_reason_the_reporter_reads(service):
    spam, closed, new = await three_reports(service)
    with pytest.raises(Refused) as still_open:
        await service.act(supervisor_id=SUPERVISOR, report_id=new, action=Action.REOPEN, now=NOW, text="x")
    assert still_open.value.reason == "not_finished"
    status = await service.act(supervisor_id=SUPERVISOR, report_id=closed, action=Action.REOPEN,
                               now=NOW + timedelta(days=3), text="举报人反映问题仍未解决")
    assert status is Status.OPEN and await inbox_ids(service, filter="closed") == []
    seen = await service.reporter_view(report_id=closed)
    assert any(item.action is Action.REOPEN and item.text == "举报人反映问题仍未解决" for item in seen.history)
    stats = await compute(service, now=NOW + timedelta(days=3))
    assert (stats.open, stats.closed, stats.rejected) == (2, 0, 1) and stats.median_close_days is None
    # Being handled again, it has no outcome in the export yet (it showed the old one beside "open").
    (record,) = [r for r in await load_records(service) if r.id == closed]
    assert record.status == Status.OPEN and record.outcome is None
    assert [r.outcome for r in await load_records(service) if r.id == spam] == ["广告"]


async def test_stats_count_rejected_apart_and_leave_them_out_of_the_time_to_close(service):
    spam, closed, _new = await three_reports(service)
    stats = await compute(service, now=NOW + timedelta(days=3))
    assert (stats.total, stats.open, stats.closed, stats.rejected) == (3, 1, 1, 1)
    assert stats.median_close_days == pytest.approx(2 + 30 / 1440)  # submitted 10:00 (the hour), closed 10:30


def test_typed_filter_words_in_both_languages_and_unknown_ones_listed():
    from bot.reports import inbox_query

    categories = {"documents-meetings": ["文山会海（发文、开会过多）", "Too many documents and meetings"],
                  "inaction": ["不担当不作为、躺平", "Inaction and lying flat"]}
    assert inbox_query.parse("已驳回 类别:文山会海 单位：城关镇 搜索:“每天 打卡”", categories) == inbox_query.InboxQuery(
        status="rejected", category="documents-meetings", unit="城关镇", text="每天 打卡")
    assert inbox_query.parse('closed category:meetings search:"check in"', categories) == inbox_query.InboxQuery(
        status="closed", category="documents-meetings", text="check in")
    problem = inbox_query.parse("已驳回 昨天 category:a", categories)
    assert problem.unknown == ["昨天"] and problem.ambiguous == {"a": ["documents-meetings", "inaction"]}
    assert "不予受理" in inbox_query.known_words("zh") and "rejected" in inbox_query.known_words("en")


def test_the_card_names_a_supervisor_by_the_configured_name(settings):
    """Another supervisor reads "王科长 acknowledged", not a Telegram id, when access.supervisors names them."""
    from types import SimpleNamespace

    from bot.i18n import translator
    from bot.reports.service import Card, HistoryItem
    from bot.reports.states import Action, Status
    from handlers.reports.inbox import card_pieces

    settings.access.supervisors = [Supervisor(id=41, name="王科长"), Supervisor(id=42)]
    at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    card = Card(id=7, category="formalism", status=Status.OPEN, submitted_at=at, acknowledge_due=date(2026, 12, 8),
                answer_due=date(2026, 12, 22), unit="某镇", when="上周", description="每天拍照打卡",
                transferred_to=None, files=[], allowed=[],
                history=[HistoryItem(at, "supervisor", Action.ACKNOWLEDGE, Status.OPEN, supervisor_id=41),
                         HistoryItem(at, "supervisor", Action.NOTE, None, text="核实中", supervisor_id=42)])
    context = SimpleNamespace(_=translator("en"), language="en", services=SimpleNamespace(
        settings=settings, reports=SimpleNamespace(category_label=lambda category, language: category)))
    text = "\n".join(card_pieces(context, card))
    assert "王科长: " in text and "supervisor 41" not in text
    assert "supervisor 42: " in text  # no name configured: the id, as before


async def test_a_disputed_outcome_waits_in_the_active_inbox_with_a_mark(service):
    """A closed report the reporter disputes needs a supervisor again: listed under Active, marked,
    until it is reopened (or decided) again."""
    spam, closed, new = await three_reports(service)
    assert await inbox_ids(service, filter="active") == [new]
    await service.reporter_reply(report_id=closed, text="照片要求根本没有取消，还在每天报。", now=NOW + timedelta(days=3))
    page = await service.inbox(supervisor_id=SUPERVISOR, now=NOW, filter="active")
    assert [(item.id, item.disputed) for item in page.items] == [(new, False), (closed, True)]
    await service.act(supervisor_id=SUPERVISOR, report_id=closed, action=Action.REOPEN, now=NOW + timedelta(days=4),
                      text="重新核查")
    page = await service.inbox(supervisor_id=SUPERVISOR, now=NOW, filter="active")
    assert [(item.id, item.disputed) for item in page.items] == [(new, False), (closed, False)]
