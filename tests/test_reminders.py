"""Reminder policy, planner and sender: what is due when, to whom, and sent once."""

import asyncio
import re
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sqlmodel import select

from bot.ledger.models import InspectionRound, ItemHistory, RectificationItem, Unit, UnitContact
from bot.outbox import OutboxMessage
from bot.reminders.planner import NO_CONTACT, STANDING_PROGRESS, Planner
from bot.reminders.policy import (BEFORE, ESCALATION, GREEN, OVERDUE, RED, YELLOW, DayCount, Levels, Policy, Standing,
                                  Timing, levels_from_old)
from bot.workdays import WorkCalendar

import bot.reminders.messages  # noqa: F401  (registers the reminders' renderer)
from bot.outbox import Delivery, Outcome, RenderEnv, Sender

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = date(2026, 12, 31)  # a Thursday
SUPERVISOR = 900000001
ALWAYS = Timing(SHANGHAI, send_at=clock(9, 0), quiet_start=clock(22, 0), quiet_end=clock(8, 0),
                working_days=frozenset(range(1, 8)))


def day(offset: int) -> date:
    return DEADLINE + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    return datetime.combine(day(offset), clock(hour), tzinfo=SHANGHAI).astimezone(timezone.utc)


# -- levels (三色预警) ---------------------------------------------------------------------------

CALENDAR = WorkCalendar()  # China's statutory holidays and make-up days (2026 is known)
LEVELS = Levels(green_days=5, green_every=0, yellow_days=2, yellow_every=1, red_every=3, working=True)


def test_levels_count_working_days_across_national_day():
    count = DayCount(CALENDAR)
    deadline = date(2026, 10, 9)  # the Friday after National Day (10-01..08), 10-10 a make-up Saturday
    assert LEVELS.standing(deadline, date(2026, 9, 24), count) == Standing(GREEN, 5, False, 0)
    assert LEVELS.standing(deadline, date(2026, 10, 5), count) == Standing(YELLOW, 2, False, 0)  # holiday: still 2
    assert LEVELS.standing(deadline, date(2026, 10, 9), count) == Standing(YELLOW, 0, False, 2)
    assert LEVELS.standing(deadline, date(2026, 10, 10), count) == Standing(RED, 1, True, 0)  # 调休 Saturday
    assert LEVELS.standing(deadline, date(2026, 10, 11), count) == Standing(RED, 1, True, 0)  # Sunday: no day added
    assert LEVELS.standing(deadline, date(2026, 10, 14), count) == Standing(RED, 4, True, 1)


def test_next_day_after_finds_every_change_of_slot():
    """Walking the planner's next_on chain visits every day on which a new slot begins."""
    count = DayCount(CALENDAR)
    for deadline in (date(2026, 10, 9), date(2026, 12, 31), date(2026, 9, 30), date(2026, 10, 11)):
        for levels in (LEVELS, Levels(7, 2, 3, 1, 2, working=False)):
            day, visited = deadline - timedelta(days=40), set()
            while day < deadline + timedelta(days=40):
                visited.add(day)
                day = levels.next_day_after(deadline, day, count)
            keys = [(d, levels.key(deadline, d, count)) for d in
                    (deadline - timedelta(days=39) + timedelta(days=n) for n in range(78))]
            changes = {d for (d, k), (_, before) in zip(keys[1:], keys) if k and k != before}
            assert changes <= visited, (deadline, levels, sorted(changes - visited))


def test_old_slot_keys_become_levels_in_calendar_days():
    old = Policy(before_days=(7, 3, 1), on_the_day=True, overdue_every_days=3, escalate_after_days=7)
    assert levels_from_old(old) == Levels(green_days=7, green_every=0, yellow_days=1, yellow_every=1,
                                          red_every=3, working=False)


def test_weekends_and_quiet_hours_move_the_sending_time():
    office = Timing(SHANGHAI, send_at=clock(9, 0), quiet_start=clock(22, 0), quiet_end=clock(8, 0),
                    working_days=frozenset({1, 2, 3, 4, 5}))
    saturday = date(2027, 1, 2)
    assert office.send_time(saturday).astimezone(SHANGHAI) == datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    late = datetime(2026, 12, 30, 23, 30, tzinfo=SHANGHAI)
    assert office.outside_quiet_hours(late) == datetime(2026, 12, 31, 8, 0, tzinfo=SHANGHAI)
    early = datetime(2026, 12, 31, 6, 0, tzinfo=SHANGHAI)
    assert office.outside_quiet_hours(early) == datetime(2026, 12, 31, 8, 0, tzinfo=SHANGHAI)


# -- planner -----------------------------------------------------------------------------------

async def seed(database, *, contacts=(5001,), parent_contacts=(6001,), deadline=DEADLINE, items=1,
               deadlines=None, round_name="第三轮", unit_name="某镇") -> list[int]:
    now = datetime.now(timezone.utc)
    async with database.transaction() as session:
        parent = (await session.exec(select(Unit).where(Unit.name == "县委办"))).first()
        if parent is None:
            parent = Unit(name="县委办")
            session.add(parent)
            await session.flush()
            for chat in parent_contacts:
                session.add(UnitContact(unit_id=parent.id, chat_id=chat, bound_at=now))
        unit = Unit(name=unit_name, parent_id=parent.id)
        round_ = (await session.exec(select(InspectionRound).where(InspectionRound.name == round_name))).first()
        round_ = round_ or InspectionRound(name=round_name)
        session.add_all([unit, round_])
        await session.flush()
        for chat in contacts:
            session.add(UnitContact(unit_id=unit.id, chat_id=chat, bound_at=now))
        deadlines = deadlines or [deadline] * items
        made = [RectificationItem(round_id=round_.id, external_id=f"{n + 1}", unit_id=unit.id, problem=f"问题{n}",
                                  deadline=due, created_at=now, updated_at=now) for n, due in enumerate(deadlines)]
        session.add_all(made)
        await session.flush()
        return [item.id for item in made]


async def outbox(database) -> list:
    async with database.engine.connect() as connection:
        table = OutboxMessage.__table__
        return (await connection.execute(sa.select(table).order_by(table.c.id))).all()


def planner(database, levels=None, timing=ALWAYS) -> Planner:
    return Planner(database, levels or Levels(5, 0, 2, 1, 3, working=False), {}, timing, {SUPERVISOR})


async def test_planner_writes_each_reminder_once_even_when_run_again(database):
    await seed(database)
    plan = planner(database)
    await plan.run(at(-5))
    await plan.run(at(-5, 11))
    await plan.run(at(-4))
    assert [(r.kind, r.chat_id) for r in await outbox(database)] == [(BEFORE, 5001)]
    await plan.run(at(-2))  # yellow: the parent unit's contact too
    assert [(r.kind, r.chat_id, r.slot.split(":")[2]) for r in await outbox(database)][1:] == [
        (BEFORE, 5001, "yellow0"), (BEFORE, 6001, "yellow0")]


async def test_downtime_is_caught_up_with_one_reminder_per_recipient(database):
    await seed(database)
    await planner(database).run(at(5))  # first pass long after the deadline: where it stands now
    rows = await outbox(database)
    assert sorted((r.kind, r.chat_id, r.slot.split(":")[2]) for r in rows) == [
        (ESCALATION, 6001, "red1"), (ESCALATION, SUPERVISOR, "red1"), (OVERDUE, 5001, "red1")]


async def test_red_repeats_every_k_days_until_acknowledged_but_a_new_level_still_comes(database, settings, crypto):
    from bot.ledger.service import LedgerService
    from bot.reminders.service import ReminderService

    (item_id,) = await seed(database)
    plan = planner(database)
    await plan.run(at(-2))
    service = ReminderService(settings, database, crypto, LedgerService(settings=settings, database=database))
    assert await service.acknowledge(item_id, 5001, now=at(-2))
    assert not await service.acknowledge(item_id, 6001, now=at(-2))  # the parent unit's contact acknowledges nothing
    await plan.run(at(-1))  # a yellow repeat: stopped by the acknowledgement
    assert [r.slot.split(":")[2] for r in await outbox(database) if r.chat_id == 5001] == ["yellow0"]
    await plan.run(at(1))   # red: a new level, sent
    await plan.run(at(4))   # its repeat: not stopped (acknowledged before red began)
    assert [r.slot.split(":")[2] for r in await outbox(database) if r.chat_id == 5001] == ["yellow0", "red0", "red1"]
    async with database.transaction() as session:  # acknowledged during red: red stops repeating
        session.add(ItemHistory(item_id=item_id, at=at(4), actor_kind="contact", actor_id=5001,
                                action="reminder_acknowledged"))
    await plan.run(at(7))
    assert [r.slot.split(":")[2] for r in await outbox(database) if r.chat_id == 5001] == ["yellow0", "red0", "red1"]


async def test_a_unit_nobody_can_reach_goes_once_on_the_supervisors_list(database):
    await seed(database, contacts=(), items=3)
    plan = planner(database)
    await plan.run(at(-2))
    await plan.run(at(1))
    await plan.run(at(4))
    rows = await outbox(database)
    assert [r.chat_id for r in rows if r.kind == NO_CONTACT] == [SUPERVISOR]
    assert {(r.kind, r.chat_id) for r in rows if r.kind != NO_CONTACT} == {
        (BEFORE, 6001), (ESCALATION, 6001), (ESCALATION, SUPERVISOR)}


async def test_changed_deadline_gives_new_slots_and_closed_items_stop(database):
    (item_id,) = await seed(database)
    plan = planner(database)
    await plan.run(at(-1))
    count = len(await outbox(database))
    async with database.transaction() as session:
        item = await session.get(RectificationItem, item_id)
        item.deadline = DEADLINE + timedelta(days=10)
    await plan.run(at(0))  # the old deadline's day: nothing, the new deadline is 10 days away
    assert len(await outbox(database)) == count
    await plan.run(at(5))  # 5 days before the new deadline: green
    assert (await outbox(database))[-1].slot.endswith(f":{DEADLINE + timedelta(days=10)}:green0:5001")
    async with database.transaction() as session:
        (await session.get(RectificationItem, item_id)).status = "closed"
    count = len(await outbox(database))
    await plan.run(at(12))
    assert len(await outbox(database)) == count


async def test_planner_pass_is_fast_on_many_items(database):
    await seed(database, items=3000)
    plan = planner(database)
    await plan.run(at(-20))  # plans every item once
    started = time.perf_counter()
    await plan.run(at(-20, 11))
    assert time.perf_counter() - started < 2.0  # a steady pass looks only at what is due


async def test_standing_items_are_asked_for_progress_on_their_cycle(database):
    (item_id,) = await seed(database, deadline=None)
    async with database.transaction() as session:
        item = await session.get(RectificationItem, item_id)
        item.deadline_kind, item.created_at = "standing", at(-40)
    plan = Planner(database, Levels(), {}, ALWAYS, {SUPERVISOR}, standing_every_days=30)
    await plan.run(at(-20))  # 20 days after the import: not yet
    assert await outbox(database) == []
    await plan.run(at(-10))
    await Planner(database, Levels(), {}, ALWAYS, {SUPERVISOR}, standing_every_days=30).run(at(-9))
    assert [(r.kind, r.chat_id) for r in await outbox(database)] == [(STANDING_PROGRESS, 5001)]


# -- sender ------------------------------------------------------------------------------------

class Telegram:
    """The network edge, as the sender sees it: records sends, answers as told."""

    def __init__(self, answers=None):
        self.sent: list[tuple[int, str, float]] = []
        self.buttons: list[list] = []
        self.answers = answers or {}

    async def deliver(self, chat_id, rendered):
        await asyncio.sleep(0)
        answer = self.answers.get(chat_id, Delivery(Outcome.SENT))
        if answer.outcome is Outcome.SENT:
            self.sent.append((chat_id, rendered.text, time.monotonic()))
            self.buttons.append([button for row in rendered.buttons for button in row])
        return answer


async def languages(chat_ids):
    return {chat_id: "zh" for chat_id in chat_ids}


def fixed_clock(moment: datetime):
    shift = moment - datetime.now(timezone.utc)
    return lambda: datetime.now(timezone.utc) + shift


def sender(database, telegram, worker="w1", lease=60, today=-1, settings=None, clock=None) -> Sender:
    """A sender whose clock reads `today` (days from the deadline), 10:01, and runs on."""
    env = RenderEnv(settings or calendar_days_settings(), frozenset({SUPERVISOR}), None)
    return Sender(database, telegram.deliver, languages, env, worker=worker, lease_seconds=lease,
                  clock=clock or fixed_clock(at(today) + timedelta(minutes=1)))


def calendar_days_settings():
    from bot.config import load_settings
    settings = load_settings(None)
    settings.reminders.levels = settings.reminders.levels.model_validate(
        {"count": "calendar", "green": {"days_before": 5}, "yellow": {"days_before": 2, "every_days": 1},
         "red": {"every_days": 3}})
    return settings


async def due_now(database, moment=None):
    async with database.engine.begin() as connection:
        table = OutboxMessage.__table__
        await connection.execute(table.update().values(next_attempt_at=(moment or at(-1)) - timedelta(seconds=1)))


async def test_one_message_per_recipient_for_all_their_items_most_urgent_first(database):
    await seed(database, deadlines=[day(2), day(-3), day(0)])
    await seed(database, contacts=(), parent_contacts=(), deadlines=[day(-8)], unit_name="无人镇", round_name="第二轮")
    await planner(database).run(at(0))
    await due_now(database, at(0))
    telegram = Telegram()
    result = await sender(database, telegram, today=0).run(budget_seconds=10)
    by_chat = {chat: text for chat, text, _ in telegram.sent}
    assert sorted(by_chat) == [5001, 6001, SUPERVISOR] and result.messages == 3
    contact = by_chat[5001]
    assert contact.index("第三轮-2") < contact.index("第三轮-3") < contact.index("第三轮-1")
    assert "已逾期 3 天（时限 2026-12-28，按自然日计）" in contact and "今天（2026-12-31）到期" in contact
    assert "还有 2 天到期（2027-01-02，按自然日计）" in contact
    buttons = telegram.buttons[[chat for chat, _, _ in telegram.sent].index(5001)]
    assert ("查看 第三轮-2", f"li:{2}") in [(b[0], b[1]) for b in buttons]
    supervisor = by_chat[SUPERVISOR]
    assert supervisor.count("🔴") == 2 and "第二轮-1" in supervisor and "第三轮-2" in supervisor
    assert "该单位没有可联系的联系人，未能提醒" in supervisor  # 无人镇: nobody was told, and it says so
    assert "已提醒该单位 1 次" in supervisor  # 某镇's contact got theirs a moment before
    assert "没有可联系联系人的单位" in supervisor and "无人镇" in supervisor.split("没有可联系联系人的单位")[1]
    assert {r.status for r in await outbox(database)} == {"sent"}
    assert (await sender(database, telegram, today=0).run(budget_seconds=2)).sent == 0


async def test_a_supervisor_is_told_how_often_the_unit_was_really_reminded(database):
    await seed(database)
    plan = planner(database)
    for offset in (1, 4):
        await plan.run(at(offset))
        await due_now(database, at(offset))
        telegram = Telegram()
        await sender(database, telegram, today=offset).run(budget_seconds=5)
    supervisor = [text for chat, text, _ in telegram.sent if chat == SUPERVISOR]
    assert len(supervisor) == 1 and "已提醒该单位 2 次" in supervisor[0]  # red0, then red1 just before this


async def test_a_long_list_is_paged_within_telegrams_limits(database):
    await seed(database, items=45, deadline=day(-1))
    await planner(database).run(at(0))
    await due_now(database, at(0))
    telegram = Telegram()
    await sender(database, telegram, today=0).run(budget_seconds=20)
    pages = [(text, buttons) for (chat, text, _), buttons in zip(telegram.sent, telegram.buttons) if chat == 5001]
    assert len(pages) == 3 and "(1/3)" in pages[0][0]
    assert all(len(text) <= 4096 and len(buttons) <= 100 for text, buttons in pages)
    assert sum(text.count("第三轮-") for text, _ in pages) == 45


async def test_a_list_longer_than_three_pages_names_the_rest_by_count_and_does_not_count_it_reminded(database):
    await seed(database, items=70, deadline=day(-1), parent_contacts=())
    await planner(database).run(at(0))
    await due_now(database, at(0))
    telegram = Telegram()
    result = await sender(database, telegram, today=0).run(budget_seconds=20)
    texts = [text for chat, text, _ in telegram.sent if chat == 5001]
    assert len(texts) == 3 and "另有 10 项未在此列出" in texts[-1]
    statuses = [r.status for r in await outbox(database) if r.chat_id == 5001]
    assert statuses.count("sent") == 60 and statuses.count("cancelled") == 10
    assert result.cancelled == 20  # the supervisor's summary too


async def test_sender_delivers_each_reminder_once_and_spaces_messages_to_one_chat(database):
    await seed(database, items=3)
    await planner(database).run(at(-1))
    await due_now(database)
    telegram = Telegram()
    result = await sender(database, telegram).run(budget_seconds=10)
    assert result.sent == 6 and result.messages == 2  # 3 items to the unit and to the parent unit: 2 messages
    assert sorted(chat for chat, _, _ in telegram.sent) == [5001, 6001]
    assert "还有 1 天到期" in [text for chat, text, _ in telegram.sent if chat == 5001][0]
    assert (await sender(database, telegram).run(budget_seconds=2)).sent == 0
    assert {r.status for r in await outbox(database)} == {"sent"}


async def test_two_senders_at_once_never_send_the_same_reminder_twice(database):
    contacts = tuple(range(7001, 7041))
    await seed(database, contacts=contacts)
    await planner(database).run(at(-1))
    await due_now(database)
    telegram = Telegram()
    await asyncio.gather(sender(database, telegram, "a").run(5), sender(database, telegram, "b").run(5))
    chats = [chat for chat, _, _ in telegram.sent]
    assert sorted(chats) == sorted(contacts + (6001,))


async def test_temporary_failures_are_retried_later(database):
    await seed(database, parent_contacts=())
    await planner(database).run(at(-1))
    await due_now(database)
    telegram = Telegram({5001: Delivery(Outcome.RETRY, retry_after=30, error="429")})
    result = await sender(database, telegram).run(2)
    (row,) = await outbox(database)
    assert result.retried == 1 and row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at.replace(tzinfo=timezone.utc) > at(-1) + timedelta(seconds=20)


async def test_a_contact_who_blocked_the_bot_is_marked_and_escalated(database):
    await seed(database)
    await planner(database).run(at(-1))
    await due_now(database)
    telegram = Telegram({5001: Delivery(Outcome.BLOCKED, error="Forbidden: bot was blocked by the user")})
    result = await sender(database, telegram).run(2)
    assert result.blocked == 1
    async with database.engine.connect() as connection:
        reachable = (await connection.execute(sa.select(UnitContact.__table__.c.reachable)
                                              .where(UnitContact.__table__.c.chat_id == 5001))).scalar()
    assert reachable is False
    escalations = {(r.kind, r.chat_id) for r in await outbox(database) if r.kind == "unreachable"}
    assert escalations == {("unreachable", 6001), ("unreachable", SUPERVISOR)}


async def test_rows_claimed_by_a_dead_process_are_taken_over_after_the_lease(database):
    await seed(database, parent_contacts=())
    await planner(database).run(at(-1))
    await due_now(database)
    async with database.engine.begin() as connection:
        table = OutboxMessage.__table__
        await connection.execute(table.update().values(claimed_by="dead", claimed_at=at(-1)))
    telegram = Telegram()
    assert (await sender(database, telegram, lease=3600).run(1)).sent == 0
    assert (await sender(database, telegram, lease=0.001).run(2)).sent == 1


# -- settings, digest --------------------------------------------------------------------------

def test_severity_overrides_change_only_what_they_name(settings):
    from bot.config import LevelSettings, ReminderPolicy, ReminderSettings
    from bot.reminders.policy import levels_by_severity

    settings.reminders.levels = LevelSettings.model_validate(
        {"severity": {"high": {"green": {"days_before": 10}, "red": {"every_days": 1}}}})
    default, by_severity = levels_by_severity(settings)
    high = by_severity["high"]
    assert (high.green_days, high.red_every) == (10, 1)
    assert (high.yellow_days, high.green_every, high.working) == (default.yellow_days, default.green_every, True)
    # A config of before the levels: its severity overrides become levels overrides.
    old = ReminderSettings.model_validate({"severity": {"high": ReminderPolicy.model_validate(
        {"before_days": [3, 1], "overdue_every_days": 1}).model_dump(exclude_unset=True)}})
    high = old.levels.for_severity("high")
    assert (high.count, high.green.days_before, high.yellow.days_before, high.red.every_days) == ("calendar", 3, 1, 1)


async def test_weekly_digest_once_a_week_with_chart_and_spreadsheet(database, settings):
    from bot.ledger.service import LedgerService
    from bot.reminders.digest import already_planned, build_digest, digest_week, mark_planned

    await seed(database, items=2)
    monday_morning = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
    assert digest_week(monday_morning, settings) is None  # before 09:00
    week = digest_week(monday_morning + timedelta(hours=2), settings)
    assert week == "2026-W49" and digest_week(monday_morning + timedelta(days=2), settings) == week
    digest = await build_digest(LedgerService(settings=settings, database=database), week, "zh")
    assert "某镇" in digest.text and "0/2" in digest.text
    assert "未销号 2 · 逾期 0 · 近 7 天销号 0 · 未确认知悉 0" in digest.text
    assert digest.chart_png.startswith(b"\x89PNG") and digest.spreadsheet.startswith(b"PK")
    assert not await already_planned(database, week)
    await mark_planned(database, week)
    await mark_planned(database, week)
    assert await already_planned(database, week)


async def test_digest_is_planned_once_a_week_per_supervisor_and_not_for_an_empty_ledger(database, settings, crypto):
    from bot.ledger.service import LedgerService
    from bot.reminders.service import ReminderService

    service = ReminderService(settings, database, crypto, LedgerService(settings=settings, database=database))
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    await service.plan_digest(monday)  # empty ledger: nothing to send, the week is done
    assert [r for r in await outbox(database) if r.kind == "digest"] == []
    await seed(database)
    await service.plan_digest(monday)
    assert [r for r in await outbox(database) if r.kind == "digest"] == []
    next_monday = monday + timedelta(days=7)
    assert await service.plan_digest(next_monday) == "2026-W50"
    assert await service.plan_digest(next_monday) is None
    digests = [r for r in await outbox(database) if r.kind == "digest"]
    assert [(r.chat_id, r.status) for r in digests] == [(SUPERVISOR, "pending")]


async def test_digest_figures_and_the_overdue_sheet_first_longest_overdue_on_top(database, settings):
    import io

    from openpyxl import load_workbook

    from bot.ledger.service import LedgerService
    from bot.reminders.digest import build_digest

    ids = await seed(database, deadlines=[date(2026, 11, 20), date(2026, 11, 1), date(2026, 12, 20)])
    async with database.transaction() as session:
        session.add(ItemHistory(item_id=ids[0], at=datetime(2026, 11, 25, tzinfo=timezone.utc), actor_kind="contact",
                                actor_id=5001, action="reminder_acknowledged"))
    await outbox_rows_sent(database, [(ids[0], 5001, datetime(2026, 11, 24, tzinfo=timezone.utc)),
                                      (ids[1], 5001, datetime(2026, 11, 24, tzinfo=timezone.utc))])
    ledger = LedgerService(settings=settings, database=database,
                           clock=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
    digest = await build_digest(ledger, "2026-W49", "zh")
    assert "未销号 3 · 逾期 2 · 近 7 天销号 0 · 未确认知悉 1" in digest.text  # ids[1]: reminded, never acknowledged
    book = load_workbook(io.BytesIO(digest.spreadsheet))
    assert book.sheetnames[0] == "逾期事项"
    rows = list(book.active.values)
    assert rows[0][:5] == ("事项", "责任单位", "问题", "整改时限", "逾期天数")
    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [("第三轮-2", 29, None), ("第三轮-1", 10, "是")]


async def outbox_rows_sent(database, sent):
    from bot import outbox as box
    rows = [dict(box.message_row(OVERDUE, f"{item}:{chat}:{at}", chat, at, item_id=item), status="sent", sent_at=at)
            for item, chat, at in sent]
    await box.enqueue_now(database, rows)


# -- a moving clock: weekends, National Day (10-01..07), make-up days (09-20, 10-10), 8 days down --

LINE = re.compile(r"<b>(?P<label>[^<]+)</b> (?P<unit>[^:]+): (?P<said>[^\n;]+)")


def check_said(said: str, today: date) -> None:
    """A reminder line's day count, checked against the working-day calendar on the day it is read."""
    if found := re.fullmatch(r"已逾期 (\d+) 个工作日（时限 (\S+)）", said):
        deadline = date.fromisoformat(found[2])
        assert today > deadline and int(found[1]) == max(1, CALENDAR.working_days_between(deadline, today)), said
    elif found := re.fullmatch(r"还有 (\d+) 个工作日到期（(\S+)）", said):
        deadline = date.fromisoformat(found[2])
        assert today < deadline and int(found[1]) == CALENDAR.working_days_between(today, deadline) > 0, said
    elif found := re.fullmatch(r"今天（(\S+)）到期", said):
        assert date.fromisoformat(found[1]) == today, said
    elif found := re.fullmatch(r"今天是整改时限（(\S+)，非工作日）前的最后一个工作日", said):
        deadline = date.fromisoformat(found[1])
        assert today < deadline and CALENDAR.working_days_between(today, deadline) == 0, said
    else:
        raise AssertionError(f"unexpected wording: {said}")


async def test_every_text_delivered_under_a_moving_clock_is_true_on_the_day_it_is_read(database, settings):
    from bot.reminders.policy import levels_of, timing_from

    deadlines = [date(2026, 9, 18), date(2026, 9, 26), date(2026, 9, 28), date(2026, 10, 1), date(2026, 10, 9),
                 date(2026, 10, 11), date(2026, 10, 14), date(2026, 10, 20), date(2026, 10, 23)]
    await seed(database, deadlines=deadlines)
    plan = Planner(database, levels_of(settings), {}, timing_from(settings), {SUPERVISOR})
    env_settings = settings
    delivered: list[tuple[date, int, str]] = []
    today, down = date(2026, 9, 14), {date(2026, 10, 12) + timedelta(days=n) for n in range(8)}
    while today <= date(2026, 10, 31):
        for hour, minute in ((0, 30), (9, 5), (15, 0)):
            if today in down:
                continue
            moment = datetime.combine(today, clock(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)
            await plan.run(moment)
            telegram = Telegram()
            await sender(database, telegram, settings=env_settings, clock=fixed_clock(moment)).run(budget_seconds=5)
            chats = [chat for chat, _, _ in telegram.sent]
            assert len(chats) == len(set(chats)), f"{today}: two messages to one chat in one pass"
            for chat, text, _ in telegram.sent:
                labels = [m["label"] for m in LINE.finditer(text)]
                assert labels and len(labels) == len(set(labels)), f"{today}: an item twice in one message"
                delivered.append((today, chat, text))
        today += timedelta(days=1)
    assert delivered
    for day_read, chat, text in delivered:
        assert CALENDAR.is_working_day(day_read), f"sent on a day off: {day_read}"
        for line in LINE.finditer(text):
            check_said(line["said"], day_read)
    days = {d for d, _, _ in delivered}
    assert date(2026, 10, 10) in days  # the make-up Saturday is a working day
    assert not days & {date(2026, 10, 1) + timedelta(days=n) for n in range(7)}  # National Day, 10-01..07
    assert date(2026, 10, 20) in days  # the first day back after the downtime catches up
    first_back = [text for d, chat, text in delivered if d == date(2026, 10, 20) and chat == 5001]
    assert len(first_back) == 1 and "已逾期 8 个工作日（时限 2026-10-09）" in first_back[0]
