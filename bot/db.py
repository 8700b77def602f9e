"""The database: async engine, sessions, migrations and the schema check at start.

SQLite (aiosqlite) is the embedded default, PostgreSQL (asyncpg) the production one. The
schema is owned by Alembic (`bot/migrations`); `upgrade` applies it and `schema_status` tells
whether a database is new, current or behind.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, TypeDecorator, event, inspect
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, TranslatableError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(TranslatableError):
    """The database cannot be reached; the message says where, never with a password."""


class SchemaState(enum.Enum):
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers work while a writer writes; the busy timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (a submitted draft, an erased receipt code) are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> "Database":
        engine = create_engine(url, echo=echo)
        return cls(engine, async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database and empty it, so erased rows are gone from both."""
        if self.engine.dialect.name != "sqlite":
            return
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def schema_status(self) -> SchemaState:
        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(_schema_status)
        except (OperationalError, DBAPIError, OSError) as exc:
            raise _unavailable(self.engine, exc) from None

    async def upgrade(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(_run_upgrade)
        except (OperationalError, OSError) as exc:
            raise _unavailable(self.engine, exc) from None


def _unavailable(engine: AsyncEngine, exc: Exception) -> DatabaseUnavailable:
    reason = str(getattr(exc, "orig", exc) or exc).splitlines()[0][:200]  # the driver's text, as it is
    return DatabaseUnavailable(N_("cannot reach the database at {url}: {reason}"), url=safe_url(str(engine.url)),
                               reason=reason)


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _run_upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def _schema_status(connection: Connection) -> SchemaState:
    if not [t for t in inspect(connection).get_table_names() if t != "alembic_version"]:
        return SchemaState.EMPTY
    current = set(MigrationContext.configure(connection).get_current_heads())
    wanted = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return SchemaState.CURRENT if current == wanted else SchemaState.BEHIND


async def prepare(database: Database, *, auto_upgrade: bool) -> None:
    """At start: set up a new database, refuse (or upgrade) an old one."""
    state = await database.schema_status()
    if state is SchemaState.EMPTY or (state is SchemaState.BEHIND and auto_upgrade):
        log.info("Applying database migrations")
        await database.upgrade()
    elif state is SchemaState.BEHIND:
        raise SchemaBehind(N_("the database schema is older than this version of Qingfeng: "
                              "run `qingfeng db upgrade`, then start again"))


class SchemaBehind(TranslatableError):
    """The database needs `qingfeng db upgrade`."""


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite returns naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def insert_ignoring(connection: Connection, table, keys: list[str]):
    """INSERT ... ON CONFLICT (keys) DO NOTHING, in the dialect of `connection`: how the planner and
    sender make a repeated write harmless."""
    insert = postgres_insert if connection.dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=keys)
