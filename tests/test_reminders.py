"""Reminder policy, planner and sender: what is due when, to whom, and sent once."""

import asyncio
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.ledger.models import InspectionRound, RectificationItem, Unit, UnitContact
from bot.outbox import OutboxMessage
from bot.reminders.planner import Planner
from bot.reminders.policy import BEFORE, DUE, ESCALATION, OVERDUE, Policy, Timing
from types import SimpleNamespace

import bot.reminders.messages  # noqa: F401  (registers the reminders' renderer)
from bot.outbox import Delivery, Outcome, RenderEnv, Sender

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = date(2026, 12, 31)  # a Thursday
SUPERVISOR = 900000001
POLICY = Policy(before_days=(7, 3, 1), on_the_day=True, overdue_every_days=3, escalate_after_days=7)
ALWAYS = Timing(SHANGHAI, send_at=clock(9, 0), quiet_start=clock(22, 0), quiet_end=clock(8, 0),
                working_days=frozenset(range(1, 8)))


def day(offset: int) -> date:
    return DEADLINE + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    return datetime.combine(day(offset), clock(hour), tzinfo=SHANGHAI).astimezone(timezone.utc)


# -- policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset, expected", [
    (-10, []), (-7, [(BEFORE, -7)]), (-5, [(BEFORE, -7)]), (-3, [(BEFORE, -3)]), (-1, [(BEFORE, -1)]),
    (0, [(DUE, 0)]), (1, [(DUE, 0)]), (3, [(OVERDUE, 3)]), (5, [(OVERDUE, 3)]), (7, [(OVERDUE, 6), (ESCALATION, 7)]),
])
def test_latest_due_catches_up_once(offset, expected):
    assert POLICY.latest_due(DEADLINE, day(offset)) == expected


@pytest.mark.parametrize("offset, following", [(-30, -7), (-7, -3), (-3, -1), (-1, 0), (0, 3), (3, 6), (6, 7), (7, 9)])
def test_next_day_after(offset, following):
    assert POLICY.next_day_after(DEADLINE, day(offset)) == day(following)


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

async def seed(database, *, contacts=(5001,), parent_contacts=(6001,), deadline=DEADLINE, items=1) -> list[int]:
    now = datetime.now(timezone.utc)
    async with database.transaction() as session:
        parent = Unit(name="县委办")
        session.add(parent)
        await session.flush()
        unit = Unit(name="某镇", parent_id=parent.id)
        round_ = InspectionRound(name="第三轮")
        session.add_all([unit, round_])
        await session.flush()
        for chat in contacts:
            session.add(UnitContact(unit_id=unit.id, chat_id=chat, bound_at=now))
        for chat in parent_contacts:
            session.add(UnitContact(unit_id=parent.id, chat_id=chat, bound_at=now))
        made = [RectificationItem(round_id=round_.id, external_id=f"X-{n}", unit_id=unit.id, problem=f"问题{n}",
                                  deadline=deadline, created_at=now, updated_at=now) for n in range(items)]
        session.add_all(made)
        await session.flush()
        return [item.id for item in made]


async def outbox(database) -> list:
    async with database.engine.connect() as connection:
        table = OutboxMessage.__table__
        return (await connection.execute(sa.select(table).order_by(table.c.id))).all()


def planner(database) -> Planner:
    return Planner(database, POLICY, {}, ALWAYS, {SUPERVISOR})


async def test_planner_writes_each_reminder_once_even_when_run_again(database):
    await seed(database)
    plan = planner(database)
    await plan.run(at(-7))
    await plan.run(at(-7, 11))
    await plan.run(at(-5))
    rows = await outbox(database)
    assert [(r.kind, r.chat_id) for r in rows] == [(BEFORE, 5001)]
    await plan.run(at(-3))
    assert [r.slot for r in await outbox(database)][-1] .endswith(f":{DEADLINE}:-3:5001")


async def test_downtime_is_caught_up_with_one_reminder(database):
    await seed(database)
    await planner(database).run(at(5))  # first pass long after the deadline: only "3 days overdue"
    assert [(r.kind, r.slot) for r in await outbox(database)] == [(OVERDUE, f"1:{DEADLINE}:3:5001")]


async def test_escalation_goes_to_the_parent_unit_and_supervisors(database):
    await seed(database)
    await planner(database).run(at(7))
    rows = await outbox(database)
    assert {(r.kind, r.chat_id) for r in rows} == {(OVERDUE, 5001), (ESCALATION, 6001), (ESCALATION, SUPERVISOR)}


async def test_a_unit_nobody_can_reach_has_its_reminders_go_to_supervisors(database):
    await seed(database, contacts=())
    await planner(database).run(at(-1))
    assert [(r.kind, r.chat_id) for r in await outbox(database)] == [(BEFORE, SUPERVISOR)]


async def test_changed_deadline_gives_new_slots_and_closed_items_stop(database):
    (item_id,) = await seed(database)
    plan = planner(database)
    await plan.run(at(-1))
    async with database.transaction() as session:
        item = await session.get(RectificationItem, item_id)
        item.deadline = DEADLINE + timedelta(days=10)
    await plan.run(at(0))  # the old deadline's day: nothing, the new deadline is 10 days away
    assert len(await outbox(database)) == 1
    await plan.run(at(3))  # 7 days before the new deadline
    assert (await outbox(database))[-1].slot.endswith(f":{DEADLINE + timedelta(days=10)}:-7:5001")
    async with database.transaction() as session:
        (await session.get(RectificationItem, item_id)).status = "closed"
    await plan.run(at(7))
    assert len(await outbox(database)) == 2


async def test_planner_pass_is_fast_on_many_items(database):
    await seed(database, items=3000)
    plan = planner(database)
    await plan.run(at(-20))  # plans every item once
    started = time.perf_counter()
    await plan.run(at(-20, 11))
    assert time.perf_counter() - started < 2.0  # a steady pass looks only at what is due


# -- sender ------------------------------------------------------------------------------------

class Telegram:
    """The network edge, as the sender sees it: records sends, answers as told."""

    def __init__(self, answers=None):
        self.sent: list[tuple[int, str, float]] = []
        self.answers = answers or {}

    async def deliver(self, chat_id, rendered):
        await asyncio.sleep(0)
        answer = self.answers.get(chat_id, Delivery(Outcome.SENT))
        if answer.outcome is Outcome.SENT:
            self.sent.append((chat_id, rendered.text, time.monotonic()))
        return answer


async def languages(chat_ids):
    return {chat_id: "zh" for chat_id in chat_ids}


def sender(database, telegram, worker="w1", lease=60, today=-1) -> Sender:
    """A sender whose clock reads `today` (days from the deadline), 10:01, and runs on."""
    env = RenderEnv(SimpleNamespace(zone=SHANGHAI), frozenset({SUPERVISOR}), None)
    shift = at(today) + timedelta(minutes=1) - datetime.now(timezone.utc)
    return Sender(database, telegram.deliver, languages, env, worker=worker, lease_seconds=lease,
                  clock=lambda: datetime.now(timezone.utc) + shift)


async def due_now(database):
    async with database.engine.begin() as connection:
        table = OutboxMessage.__table__
        await connection.execute(table.update().values(next_attempt_at=at(-1) - timedelta(seconds=1)))


async def test_sender_delivers_each_reminder_once_and_spaces_messages_to_one_chat(database):
    await seed(database, items=3)
    await planner(database).run(at(-1))
    await due_now(database)
    telegram = Telegram()
    result = await sender(database, telegram).run(budget_seconds=10)
    assert result.sent == 3 and [chat for chat, _, _ in telegram.sent] == [5001] * 3
    times = [moment for _, _, moment in telegram.sent]
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:]))
    assert "还有 1 天到期" in telegram.sent[0][1]
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
    assert sorted(chats) == sorted(contacts)


async def test_temporary_failures_are_retried_later(database):
    await seed(database)
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
    await seed(database)
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
    from bot.config import ReminderPolicy
    from bot.reminders.policy import policies_from

    settings.reminders.severity = {"high": ReminderPolicy.model_validate({"before_days": [3, 1]})}
    default, by_severity = policies_from(settings)
    high = by_severity["high"]
    assert high.before_days == (3, 1) and high.overdue_every_days == default.overdue_every_days


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
