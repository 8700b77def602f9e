"""Reminders end to end: the real bot process plans and sends them through the sandbox.

The crash test kills the bot (SIGKILL) while it is sending a batch, starts it again, and counts
what the users received: everyone gets their reminder, and nobody gets it twice except at most
the one message that was in flight at the moment of the kill.
"""

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database
from bot.ledger.models import InspectionRound, RectificationItem, Unit, UnitContact
from tests.e2e import SUPERVISOR_ID, buttons_of

pytestmark = pytest.mark.e2e
FIRST_CONTACT = 300000001
REMINDER_ENV = {
    "QINGFENG_REMINDERS__SEND_AT": "00:00",
    "QINGFENG_REMINDERS__QUIET_HOURS__START": "00:00",
    "QINGFENG_REMINDERS__QUIET_HOURS__END": "00:00",
    "QINGFENG_REMINDERS__WORKING_DAYS": "[1, 2, 3, 4, 5, 6, 7]",
    "QINGFENG_REMINDERS__PLANNER_INTERVAL_SECONDS": "1",
    "QINGFENG_REMINDERS__SENDER_INTERVAL_SECONDS": "0.5",
    "QINGFENG_REMINDERS__CLAIM_LEASE_SECONDS": "3",
}


async def seed_ledger(database_url: str, contacts: list[int], *, parent_contacts: tuple[int, ...] = ()) -> None:
    """One unit with these contacts and one item due tomorrow (so "1 day before" is due today)."""
    database = Database.connect(database_url)
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    now = datetime.now(timezone.utc)
    try:
        async with database.transaction() as session:
            parent = Unit(name="县委办")
            session.add(parent)
            await session.flush()
            unit = Unit(name="青山镇", parent_id=parent.id)
            rnd = InspectionRound(name="第三轮巡察")
            session.add_all([unit, rnd])
            await session.flush()
            session.add_all([UnitContact(unit_id=unit.id, chat_id=chat, bound_at=now) for chat in contacts])
            session.add_all([UnitContact(unit_id=parent.id, chat_id=chat, bound_at=now) for chat in parent_contacts])
            session.add(RectificationItem(round_id=rnd.id, external_id="QS-01", unit_id=unit.id,
                                          problem="村务公开栏长期未更新", deadline=tomorrow, created_at=now, updated_at=now))
    finally:
        await database.dispose()


def reminder_counts(events: list[dict]) -> Counter:
    return Counter(e["chat_id"] for e in events
                   if e["type"] == "message" and "QS-01" in (e["message"].get("text") or ""))


async def test_a_killed_sender_resumes_without_losing_or_doubling_reminders(bot_factory):
    bot = await bot_factory(env=REMINDER_ENV)
    contacts = list(range(FIRST_CONTACT, FIRST_CONTACT + 90))
    for chat in contacts:
        await bot.client.create_user(id=chat, first_name="联系人", language_code="zh")
    await seed_ledger(bot.database_url, contacts)

    for _ in range(200):  # wait until the batch is being sent, then kill the bot
        await asyncio.sleep(0.05)
        if len(reminder_counts((await bot.client.events(after=0))["events"])) >= 15:
            break
    await bot.kill()
    at_kill = len(reminder_counts((await bot.client.events(after=0))["events"]))
    assert 0 < at_kill < len(contacts), "the kill should land in the middle of the batch"

    await bot.start()
    for _ in range(300):
        await asyncio.sleep(0.1)
        if len(reminder_counts((await bot.client.events(after=0))["events"])) == len(contacts):
            break
    await asyncio.sleep(2)  # anything sent twice would show up by now
    counts = reminder_counts((await bot.client.events(after=0))["events"])
    assert set(counts) == set(contacts), "every contact got the reminder"
    assert sum(n - 1 for n in counts.values()) <= 1, f"sent twice: {[c for c, n in counts.items() if n > 1]}"
    assert (await bot.client.stats())["errors"].get("429", 0) == 0


async def test_reminder_buttons_and_a_contact_who_blocked_the_bot(bot_factory):
    bot = await bot_factory(env=REMINDER_ENV)
    reader, blocker, parent = FIRST_CONTACT + 500, FIRST_CONTACT + 501, FIRST_CONTACT + 502
    for chat in (reader, blocker, parent, SUPERVISOR_ID):
        await bot.client.create_user(id=chat, first_name="用户", language_code="zh")
    await bot.client.block(blocker)
    await seed_ledger(bot.database_url, [reader, blocker], parent_contacts=(parent,))

    reminder = None
    for _ in range(100):
        await asyncio.sleep(0.2)
        messages = [e["message"] for e in (await bot.client.events(chat_id=reader, after=0))["events"]
                    if e["type"] == "message"]
        if messages:
            reminder = messages[0]
            break
    assert reminder is not None and "第三轮巡察-QS-01" in reminder["text"] and "还有 1 个工作日到期" in reminder["text"]
    labels = [b["text"] for b in buttons_of(reminder)]
    assert labels == ["查看 第三轮巡察-QS-01", "已知悉", "报告进展", "申请销号"], labels

    query = await bot.client.press(reader, reminder, buttons_of(reminder)[1]["callback_data"])
    assert "已记录" in (await bot.client.callback_answer(query))["answer"]["text"]
    forged = await bot.client.press(reader, reminder, "lk:99999")
    assert "失效" in (await bot.client.callback_answer(forged))["answer"]["text"]

    # The blocked contact: the parent unit's contact and the supervisor are told instead.
    for _ in range(100):
        await asyncio.sleep(0.2)
        told = {e["chat_id"] for e in (await bot.client.events(after=0))["events"]
                if e["type"] == "message" and "无法联系" in (e["message"].get("text") or "")}
        if told == {parent, SUPERVISOR_ID}:
            break
    assert told == {parent, SUPERVISOR_ID}
