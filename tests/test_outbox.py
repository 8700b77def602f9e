"""The outbox: one way out for every notice, in the recipient's language of the moment, waiting
for people who have not opened the bot, counted as sent only when delivered."""

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot import outbox, preferences
from bot.outbox import Delivery, Outcome, OutboxMessage, Rendered, RenderEnv, Sender, group_renderer, renderer

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@renderer("test_notice")
async def render_test_notice(connection, row, language, env, now):
    return Rendered({"zh": "你好", "en": "Hello"}[language])


class Telegram:
    def __init__(self):
        self.answer = Delivery(Outcome.SENT)
        self.sent: list[tuple[int, str]] = []

    async def deliver(self, chat_id, rendered):
        if self.answer.outcome is Outcome.SENT:
            self.sent.append((chat_id, rendered.text))
        return self.answer


def sender(database, crypto, telegram, clock):
    env = RenderEnv(SimpleNamespace(zone=ZoneInfo("Asia/Shanghai")), frozenset(), crypto)

    async def languages(chat_ids):
        return await outbox.recipient_languages(database, crypto, chat_ids, "zh")

    return Sender(database, telegram.deliver, languages, env, worker="t", clock=clock)


async def rows(database):
    async with database.engine.connect() as connection:
        return (await connection.execute(sa.select(OutboxMessage.__table__))).all()


async def test_a_message_waits_for_someone_who_never_opened_the_bot_and_says_how_long(database, crypto):
    await outbox.enqueue_now(database, [outbox.message_row("test_notice", "1:7001", 7001, NOW)])
    telegram = Telegram()
    telegram.answer = Delivery(Outcome.WAITING, error="Bad Request: chat not found")
    result = await sender(database, crypto, telegram, lambda: NOW).run(2)
    assert result.waiting == 1 and [r.status for r in await rows(database)] == ["waiting"]
    assert (await sender(database, crypto, telegram, lambda: NOW + timedelta(hours=1)).run(1)).sent == 0

    # Two days later they write to the bot: the message goes, saying how long it waited.
    later = NOW + timedelta(days=2)
    assert await outbox.release(database, 7001, later) == 1
    assert await outbox.release(database, 7002, later) == 0  # nobody else's
    telegram.answer = Delivery(Outcome.SENT)
    assert (await sender(database, crypto, telegram, lambda: later).run(2)).sent == 1
    assert telegram.sent == [(7001, "（这条消息等了 2 天，直到您打开本机器人。）\n\n你好")]
    assert [r.status for r in await rows(database)] == ["sent"]


async def test_the_language_is_the_one_chosen_else_telegrams_else_the_default(database, crypto):
    for chat in (7001, 7002, 7003):
        await outbox.enqueue_now(database, [outbox.message_row("test_notice", f"1:{chat}", chat, NOW)])
    await outbox.note_recipient_language(database, 7002, "en")
    await outbox.note_recipient_language(database, 7002, "zh")  # only the first one counts
    async with database.transaction() as session:
        await preferences.set_language(session=session, user_key=preferences.user_key(crypto, 7003), language="en")
    telegram = Telegram()
    await sender(database, crypto, telegram, lambda: NOW).run(5)
    assert sorted(telegram.sent) == [(7001, "你好"), (7002, "Hello"), (7003, "Hello")]


async def test_an_enqueue_repeated_adds_nothing(database, crypto):
    row = outbox.message_row("test_notice", "1:7001", 7001, NOW)
    await outbox.enqueue_now(database, [row])
    await outbox.enqueue_now(database, [row, dict(row)])
    assert len(await rows(database)) == 1


@group_renderer("test_group", "test_grouped")
async def render_test_group(connection, rows, language, env, now):
    return [Rendered("+".join(sorted(row.payload["word"] for row in rows)))]


async def test_a_chats_grouped_rows_go_as_one_message_and_are_marked_together(database, crypto):
    await outbox.enqueue_now(database, [outbox.message_row("test_grouped", f"{word}:7001", 7001, NOW, payload={"word": word})
                                        for word in ("a", "b", "c", "d", "e")]
                             + [outbox.message_row("test_grouped", "z:7002", 7002, NOW, payload={"word": "z"}),
                                outbox.message_row("test_notice", "1:7001", 7001, NOW)])
    telegram = Telegram()
    result = await sender(database, crypto, telegram, lambda: NOW).run(5)
    assert sorted(telegram.sent) == [(7001, "a+b+c+d+e"), (7001, "你好"), (7002, "z")]
    assert result.sent == 7 and result.messages == 3
    assert {r.status for r in await rows(database)} == {"sent"}


async def test_a_sender_killed_mid_message_repeats_at_most_that_message_and_loses_nothing(database, crypto):
    """The process dies while Telegram is answering: the rows stay claimed, unmarked; after the
    lease another sender delivers them once, as one message again."""
    await outbox.enqueue_now(database, [outbox.message_row("test_grouped", f"{word}:{chat}", chat, NOW, payload={"word": word})
                                        for chat in (7001, 7002) for word in ("a", "b")])
    stuck = asyncio.Event()

    class Dying(Telegram):
        async def deliver(self, chat_id, rendered):
            self.sent.append((chat_id, rendered.text))
            if chat_id == 7002:
                stuck.set()
                await asyncio.sleep(3600)  # killed here
            return Delivery(Outcome.SENT)

    dying = Dying()
    task = asyncio.create_task(sender(database, crypto, dying, lambda: NOW).run(5))
    await asyncio.wait_for(stuck.wait(), 5)
    task.cancel()
    later = NOW + timedelta(minutes=5)  # past the lease
    telegram = Telegram()
    await sender(database, crypto, telegram, lambda: later).run(5)
    delivered = dying.sent + telegram.sent
    assert sorted(delivered) == [(7001, "a+b"), (7002, "a+b"), (7002, "a+b")]  # the one in flight, twice
    assert {r.status for r in await rows(database)} == {"sent"}


@renderer("test_said")
async def render_said(connection, row, language, env, now):
    return Rendered(row.payload["said"])


async def test_a_chats_messages_go_in_the_order_they_were_written(database, crypto):
    # A notice written now, then a reminder planned for 09:00 this morning (its slot, an hour ago):
    # the notice still comes first, as it was written first ("deadline changed", then "overdue").
    await outbox.enqueue_now(database, [outbox.message_row("test_said", "a", 7001, NOW, payload={"said": "changed"})])
    await outbox.enqueue_now(database, [outbox.message_row("test_said", "b", 7001, NOW - timedelta(hours=1),
                                                           payload={"said": "overdue"})])
    telegram = Telegram()
    await sender(database, crypto, telegram, lambda: NOW).run(5)
    assert telegram.sent == [(7001, "changed"), (7001, "overdue")]


async def test_the_wait_is_counted_from_when_the_bot_first_found_them_unreachable(database, crypto):
    # A report's notice is written with the hour only (14:00 for a report sent at 14:55, anonymity):
    # delivered at 15:10 it waited 15 minutes, not "1 hour".
    submitted, tried, opened = NOW.replace(minute=0), NOW.replace(minute=55), NOW.replace(minute=0) + timedelta(minutes=70)
    await outbox.enqueue_now(database, [outbox.message_row("test_notice", "1:7001", 7001, submitted)])
    telegram = Telegram()
    telegram.answer = Delivery(Outcome.WAITING, error="Forbidden: bot can't initiate conversation with a user")
    await sender(database, crypto, telegram, lambda: tried).run(1)
    assert await outbox.release(database, 7001, opened) == 1
    telegram.answer = Delivery(Outcome.SENT)
    await sender(database, crypto, telegram, lambda: opened).run(1)
    assert telegram.sent == [(7001, "（这条消息等了不到一小时，直到您打开本机器人。）\n\n你好")]


def test_a_short_wait_is_not_said_as_zero_hours():
    assert outbox.waited_note(NOW, NOW + timedelta(seconds=24), "en") == \
        "(This message waited less than an hour for you to open the bot.)"
    assert outbox.waited_note(NOW, NOW + timedelta(minutes=42), "zh") == "（这条消息等了不到一小时，直到您打开本机器人。）"
    assert outbox.waited_note(NOW, NOW + timedelta(hours=5), "zh") == "（这条消息等了 5 小时，直到您打开本机器人。）"
