"""Per-user preferences, stored under a keyed hash of the user's id."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import UserPreference


async def get_language(*, session: AsyncSession, user_key: str) -> str | None:
    row = await session.get(UserPreference, user_key)
    return row.language if row else None


async def set_language(*, session: AsyncSession, user_key: str, language: str) -> None:
    row = await session.get(UserPreference, user_key)
    if row is None:
        session.add(UserPreference(user_key=user_key, language=language))
    else:
        row.language = language
