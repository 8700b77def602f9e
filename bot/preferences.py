"""Per-user preferences, stored under a keyed hash of the user's id."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.crypto import Crypto
from bot.db import Database
from bot.models import UserPreference


def user_key(crypto: Crypto, user_id: int) -> str:
    """The keyed hash that stands for a user wherever a per-user row is unavoidable."""
    return crypto.keyed_hash("user", user_id)


async def get_language(*, session: AsyncSession, user_key: str) -> str | None:
    row = await session.get(UserPreference, user_key)
    return row.language if row else None


async def set_language(*, session: AsyncSession, user_key: str, language: str) -> None:
    row = await session.get(UserPreference, user_key)
    if row is None:
        session.add(UserPreference(user_key=user_key, language=language))
    else:
        row.language = language


async def languages(database: Database, crypto: Crypto, user_ids: list[int], default: str) -> dict[int, str]:
    """Each user's chosen language, in one query (a private chat's id is its user's); `default`
    for those who never chose, and for groups."""
    keys = {user_key(crypto, user_id): user_id for user_id in user_ids if user_id > 0}
    chosen: dict[int, str] = {}
    if keys:
        table = UserPreference.__table__
        async with database.engine.connect() as connection:
            for key, language in await connection.execute(
                    sa.select(table.c.user_key, table.c.language).where(table.c.user_key.in_(list(keys)))):
                chosen[keys[key]] = language
    return {user_id: chosen.get(user_id, default) for user_id in user_ids}
