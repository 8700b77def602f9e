"""Open conversations survive a restart, and their Telegram ids are never stored in the clear."""

from sqlalchemy import text

from bot.persistence import DatabasePersistence

CHAT, USER = 523456789, 523456789


async def test_conversation_survives_a_new_persistence_instance(database, crypto):
    first = DatabasePersistence(database, crypto)
    await first.update_conversation("report", (CHAT, USER), 3)
    await first.update_conversation("report", (CHAT, USER), 4)

    restarted = DatabasePersistence(database, crypto)
    assert await restarted.get_conversations("report") == {(CHAT, USER): 4}
    assert await restarted.get_conversations("other") == {}


async def test_ended_conversation_leaves_no_row(database, crypto):
    persistence = DatabasePersistence(database, crypto)
    await persistence.update_conversation("report", (CHAT, USER), 2)
    await persistence.update_conversation("report", (CHAT, USER), None)
    async with database.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM conversation_state"))).scalar_one()
    assert count == 0


async def test_ids_are_not_stored_in_the_clear(database, crypto):
    persistence = DatabasePersistence(database, crypto)
    await persistence.update_conversation("report", (CHAT, USER), 1)
    async with database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT name, key_hash, key_token, state FROM conversation_state"))).all()
    dump = repr(rows)
    assert str(CHAT) not in dump
    assert "523456789" not in bytes(rows[0].key_token).decode("latin-1")


async def test_nothing_per_user_is_kept(database, crypto):
    persistence = DatabasePersistence(database, crypto)
    assert not persistence.store_data.user_data and not persistence.store_data.chat_data
    await persistence.update_user_data(USER, {"name": "Zhang San"})
    assert await persistence.get_user_data() == {}
