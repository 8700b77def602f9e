"""Counters that limit how often something may happen, under a keyed hash, gone after their window.

A counter is found by a keyed hash of what it counts (a chat, a user and an answer, the whole
bot), never an id, and carries only the end of its window, rounded up to the window's own unit,
so it dates nothing more precisely than the limit it enforces.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import UTCDateTime


class ThrottleCount(SQLModel, table=True):
    __tablename__ = "throttle_count"

    key: str = Field(primary_key=True, max_length=64)
    until: datetime = Field(sa_type=UTCDateTime, index=True)
    count: int = 0


def window_end(now: datetime, window: timedelta) -> datetime:
    """The end of the fixed window `now` falls in (windows counted from the epoch, in UTC)."""
    step = int(window.total_seconds())
    return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=now.tzinfo)


async def used(session: AsyncSession, key: str, *, now: datetime) -> tuple[int, datetime | None]:
    """How often it happened in the running window, and when that window ends."""
    row = await session.get(ThrottleCount, key)
    if row is None or row.until <= now:
        return 0, None
    return row.count, row.until


async def count(session: AsyncSession, key: str, *, now: datetime, until: datetime) -> int:
    """Count one more, in the window that ends at `until` if none is running; the number in it now."""
    row = await session.get(ThrottleCount, key)
    if row is None:
        row = ThrottleCount(key=key, until=until, count=0)
        session.add(row)
    elif row.until <= now:
        row.until, row.count = until, 0
    row.count += 1
    return row.count


async def purge(session: AsyncSession, *, now: datetime) -> int:
    return (await session.exec(delete(ThrottleCount).where(ThrottleCount.until <= now))).rowcount or 0
