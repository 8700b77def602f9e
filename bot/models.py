"""Every table, registered on `SQLModel.metadata` for Alembic and the tests.

Core tables live here; each feature keeps its tables in its own `models` module, imported at
the bottom so that importing `bot.models` registers the whole schema.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class UserPreference(SQLModel, table=True):
    """A user's chosen language, under a keyed hash of their id: no id, no timestamp."""

    __tablename__ = "user_preference"
    user_key: str = Field(primary_key=True, max_length=64)
    language: str = Field(max_length=8)


import bot.knowledge.models  # noqa: E402,F401  (feature tables)
import bot.reports.models  # noqa: E402,F401
import bot.ledger.models  # noqa: E402,F401
import bot.reminders.models  # noqa: E402,F401  (imported for the tables they register)
import bot.pending  # noqa: E402,F401
import bot.outbox  # noqa: E402,F401
import bot.throttle  # noqa: E402,F401
