"""The schema: set up on first start, refused (or upgraded) when behind, clear when unreachable."""

import pytest
from sqlalchemy import text

from bot.db import Database, DatabaseUnavailable, SchemaBehind, SchemaState, prepare


async def test_migrated_database_is_current(database):
    assert await database.schema_status() is SchemaState.CURRENT


async def test_new_sqlite_file_is_set_up_on_first_start(tmp_path):
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'q.db'}")
    try:
        assert await database.schema_status() is SchemaState.EMPTY
        await prepare(database, auto_upgrade=False)
        assert await database.schema_status() is SchemaState.CURRENT
    finally:
        await database.dispose()


async def set_versions(database: Database, versions: list[str]) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))
        for version in versions:
            await conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})


async def current_versions(database: Database) -> list[str]:
    async with database.engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


async def test_schema_behind_is_refused_with_next_step(database):
    heads = await current_versions(database)
    await set_versions(database, ["0001_core"] if heads != ["0001_core"] else [])
    try:
        assert await database.schema_status() is SchemaState.BEHIND
        with pytest.raises(SchemaBehind, match="qingfeng db upgrade"):
            await prepare(database, auto_upgrade=False)
    finally:
        await set_versions(database, heads)


async def test_unreachable_database_says_where_without_password():
    database = Database.connect("postgresql+asyncpg://qingfeng:s3cret@127.0.0.1:1/none")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await database.schema_status()
    finally:
        await database.dispose()
    assert "127.0.0.1:1" in str(caught.value)
    assert "s3cret" not in str(caught.value)
