"""Pending input: who gets a user's next message in a chat.

One record per (chat, user), found by a keyed hash of the pair (never the ids themselves), names
the feature that owns the next message, the step or action, its target and an expiry. Handlers
read it from the database on every update and write it *before* they reply, so a restart, a
kill -9 or a second bot process sees exactly what the first one saw. Nothing else in the bot
keeps conversation state.

Anything a flow needs besides its step (the report a /status view shows, the text a supervisor
is about to send) is kept encrypted in `data_token`. Expiry times are rounded up to the minute, so a
row does not date the moment someone wrote to the bot.

A private chat in which a report flow was open in the last 24 hours is *shielded*: nothing typed
there is kept for the knowledge editors (a reporter's words never land in knowledge_gap).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.crypto import Crypto
from bot.db import Database, UTCDateTime

REPORT_FEATURES = frozenset({"report", "status", "report_erase"})
SHIELD = timedelta(hours=24)


class PendingInput(SQLModel, table=True):
    __tablename__ = "pending_input"
    key: str = Field(primary_key=True, max_length=64)
    feature: str = Field(max_length=24)
    action: str = Field(max_length=40)
    target: str | None = Field(default=None, max_length=40)
    data_token: bytes | None = None  # encrypted JSON (the `*_token` convention: key rotation finds it)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ReportShield(SQLModel, table=True):
    """A chat where a report flow was open recently (keyed hash, time rounded up to the hour)."""

    __tablename__ = "report_shield"
    key: str = Field(primary_key=True, max_length=64)
    until: datetime = Field(sa_type=UTCDateTime, index=True)


@dataclass(frozen=True)
class Pending:
    feature: str
    action: str
    target: str | None = None
    data: dict = field(default_factory=dict)
    expired: bool = False

    def same_flow(self, other: "Pending | None") -> bool:
        return other is not None and (other.feature, other.target) == (self.feature, self.target)


def _round_up(moment: datetime, unit: timedelta) -> datetime:
    step = unit.total_seconds()
    seconds = moment.timestamp()
    rounded = -(-seconds // step) * step
    return datetime.fromtimestamp(rounded, tz=moment.tzinfo)


class PendingInputs:
    def __init__(self, database: Database, crypto: Crypto):
        self.database = database
        self.crypto = crypto

    def _key(self, chat_id: int, user_id: int) -> str:
        return self.crypto.keyed_hash("pending", chat_id, user_id)

    def _shield_key(self, chat_id: int) -> str:
        return self.crypto.keyed_hash("report-shield", chat_id)

    async def read(self, *, chat_id: int, user_id: int, now: datetime) -> Pending | None:
        """The record, or an expired one (returned once, with `expired`, then gone)."""
        async with self.database.transaction() as session:
            row = await session.get(PendingInput, self._key(chat_id, user_id))
            if row is None:
                return None
            pending = self._pending(row)
            if row.expires_at > now:
                return pending
            await session.delete(row)
        return Pending(pending.feature, pending.action, pending.target, pending.data, expired=True)

    async def open(self, *, chat_id: int, user_id: int, pending: Pending, ttl: timedelta,
                   now: datetime) -> Pending | None:
        """Make `pending` the owner of the next message; the live record it replaced, if any."""
        key = self._key(chat_id, user_id)
        data = self.crypto.encrypt_text(json.dumps(pending.data)) if pending.data else None
        expires = _round_up(now + ttl, timedelta(minutes=1))
        async with self.database.transaction() as session:
            row = await session.get(PendingInput, key)
            previous = self._pending(row) if row is not None and row.expires_at > now else None
            if row is None:
                session.add(PendingInput(key=key, feature=pending.feature, action=pending.action,
                                         target=pending.target, data_token=data, expires_at=expires))
            else:
                row.feature, row.action, row.target, row.data_token, row.expires_at = (
                    pending.feature, pending.action, pending.target, data, expires)
            if pending.feature in REPORT_FEATURES:
                await self._shield(session, chat_id, now)
        return previous

    async def close(self, *, chat_id: int, user_id: int, feature: str | None = None) -> None:
        """End the record (only if it belongs to `feature`, when one is named)."""
        table = PendingInput.__table__
        condition = table.c.key == self._key(chat_id, user_id)
        if feature is not None:
            condition = sa.and_(condition, table.c.feature == feature)
        async with self.database.transaction() as session:
            await session.exec(table.delete().where(condition))

    async def shielded(self, *, chat_id: int, now: datetime) -> bool:
        async with self.database.session() as session:
            row = await session.get(ReportShield, self._shield_key(chat_id))
        return row is not None and row.until > now

    async def purge(self, *, now: datetime) -> int:
        """Delete expired records and shields (abandoned flows leave nothing behind)."""
        async with self.database.transaction() as session:
            gone = await session.exec(PendingInput.__table__.delete().where(PendingInput.__table__.c.expires_at
                                                                            < now - timedelta(days=1)))
            await session.exec(ReportShield.__table__.delete().where(ReportShield.__table__.c.until < now))
        return gone.rowcount or 0

    async def _shield(self, session, chat_id: int, now: datetime) -> None:
        key = self._shield_key(chat_id)
        until = _round_up(now + SHIELD, timedelta(hours=1))
        row = await session.get(ReportShield, key)
        if row is None:
            session.add(ReportShield(key=key, until=until))
        else:
            row.until = until

    def _pending(self, row: PendingInput) -> Pending:
        data = json.loads(self.crypto.decrypt_text(row.data_token)) if row.data_token else {}
        return Pending(row.feature, row.action, row.target, data)
