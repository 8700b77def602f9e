"""Pending input: one record per user in a chat, read from the database, with no ids in it."""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.pending import Pending, PendingInput, PendingInputs

NOW = datetime(2026, 12, 1, 2, 3, 4, tzinfo=timezone.utc)
CHAT = USER = 523456789


async def test_a_record_is_seen_by_a_new_instance_and_replacing_it_names_the_one_dropped(database, crypto):
    first = PendingInputs(database, crypto)
    assert await first.open(chat_id=CHAT, user_id=USER, pending=Pending("report", "unit"), ttl=timedelta(hours=1),
                            now=NOW) is None
    second = PendingInputs(database, crypto)  # another process, or after a restart
    assert await second.read(chat_id=CHAT, user_id=USER, now=NOW) == Pending("report", "unit")
    dropped = await second.open(chat_id=CHAT, user_id=USER, pending=Pending("status", "view", data={"report": 5}),
                                ttl=timedelta(minutes=15), now=NOW)
    assert dropped == Pending("report", "unit")
    assert (await first.read(chat_id=CHAT, user_id=USER, now=NOW)).data == {"report": 5}
    assert await first.read(chat_id=CHAT, user_id=USER + 1, now=NOW) is None  # per user


async def test_an_expired_record_is_said_once_then_gone(database, crypto):
    pending = PendingInputs(database, crypto)
    await pending.open(chat_id=CHAT, user_id=USER, pending=Pending("inbox", "ask", target="3"),
                       ttl=timedelta(minutes=30), now=NOW)
    later = NOW + timedelta(minutes=31)
    assert (await pending.read(chat_id=CHAT, user_id=USER, now=later)).expired
    assert await pending.read(chat_id=CHAT, user_id=USER, now=later) is None


async def test_closing_only_its_own_feature(database, crypto):
    pending = PendingInputs(database, crypto)
    await pending.open(chat_id=CHAT, user_id=USER, pending=Pending("ledger", "progress", target="9"),
                       ttl=timedelta(hours=1), now=NOW)
    await pending.close(chat_id=CHAT, user_id=USER, feature="report")
    assert await pending.read(chat_id=CHAT, user_id=USER, now=NOW) is not None
    await pending.close(chat_id=CHAT, user_id=USER)
    assert await pending.read(chat_id=CHAT, user_id=USER, now=NOW) is None


async def test_no_id_no_exact_time_and_a_report_flow_shields_the_chat(database, crypto):
    pending = PendingInputs(database, crypto)
    await pending.open(chat_id=CHAT, user_id=USER, pending=Pending("status", "view", data={"report": 42}),
                       ttl=timedelta(minutes=15), now=NOW)
    async with database.engine.connect() as connection:
        (row,) = (await connection.execute(sa.select(PendingInput.__table__))).all()
    # The data is encrypted: its words are not in the token (b"42" could be, by chance, in ciphertext's base64).
    assert str(CHAT) not in repr(tuple(row)) and row.data_token and b"report" not in row.data_token
    assert row.expires_at.second == 0 and row.expires_at.microsecond == 0  # rounded: no exact moment
    assert await pending.shielded(chat_id=CHAT, now=NOW + timedelta(hours=23))
    assert not await pending.shielded(chat_id=CHAT, now=NOW + timedelta(hours=26))
    assert not await pending.shielded(chat_id=CHAT + 1, now=NOW)
