"""Shared fixtures: a migrated database on SQLite and, where TEST_DATABASE_URL is set, PostgreSQL.

Every test that takes `database` runs once per backend. SQLite gets a fresh file per test
(copied from one migrated template); PostgreSQL is migrated once and emptied between tests (one
database per pytest-xdist worker).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (the whole schema)
from bot.config import Settings, load_settings
from bot.crypto import Crypto, generate_key
from bot.db import Database

def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a database of its own (test → test_gw0, test_gw1 …), made
    here if missing: the tests empty their database, so two workers must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    if os.environ.get("TEST_WORKER_DATABASE_URL") == url:  # this module imported again (tests.conftest)
        return url
    base, _slash, name = url.rpartition("/")
    mine = f"{name}_{worker}"

    async def create() -> None:
        import asyncpg

        server = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql") + "/" + name)
        try:
            if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", mine):
                await server.execute(f'CREATE DATABASE "{mine}"')
        finally:
            await server.close()

    asyncio.run(create())
    os.environ["TEST_DATABASE_URL"] = os.environ["TEST_WORKER_DATABASE_URL"] = f"{base}/{mine}"
    return os.environ["TEST_DATABASE_URL"]  # (also for the modules that read it themselves)


POSTGRES_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TEST_KEY = generate_key()


def pytest_collection_modifyitems(config, items):
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        database = Database.connect(f"sqlite+aiosqlite:///{path}")
        await database.upgrade()
        await database.dispose()

    asyncio.run(migrate())
    return path


_postgres_migrated = False


async def _empty_postgres(database: Database) -> None:
    global _postgres_migrated
    if not _postgres_migrated:
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await database.upgrade()
        _postgres_migrated = True
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "qingfeng.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    return POSTGRES_URL


@pytest.fixture
async def database(database_url):
    database = Database.connect(database_url)
    if database.is_postgres:
        await _empty_postgres(database)
    yield database
    await database.dispose()


@pytest.fixture
def crypto() -> Crypto:
    return Crypto([TEST_KEY])


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    """Settings as a test bot would have them: temporary data dir, the test database."""
    return load_settings(environ={
        "QINGFENG_DATABASE__URL": database_url,
        "QINGFENG_BOT__DATA_DIR": str(tmp_path / "data"),
        "QINGFENG_SECURITY__ENCRYPTION_KEYS": TEST_KEY,
        "QINGFENG_ACCESS__SUPERVISORS": "900000001",
    })


@pytest.fixture(scope="session")
def knowledge_cache(tmp_path_factory) -> Path:
    """The knowledge base compiled once per test run; every bot process starts from a copy."""
    from bot.knowledge.cache import load_engine

    cache = tmp_path_factory.mktemp("knowledge") / "knowledge.cache"
    load_engine(Path(__file__).resolve().parent.parent / "knowledge", cache)
    return cache


async def launch_bot(data_dir: Path, knowledge_cache: Path, *, env: dict[str, str] | None = None,
                     database_url: str | None = None, enforce_limits: bool = False):
    """The real bot process against a fresh sandbox, with its own data directory and database
    (a new SQLite file set up by the bot on first start, unless `database_url` is given; a
    PostgreSQL one is emptied first)."""
    from bot.sandbox.client import SandboxClient
    from bot.sandbox.app import start_sandbox
    from tests.e2e import BotProcess, bot_environment

    url = database_url or f"sqlite+aiosqlite:///{data_dir / 'qingfeng.db'}"
    if url.startswith("postgresql"):
        database = Database.connect(url)
        await _empty_postgres(database)
        await database.dispose()
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(knowledge_cache, data_dir / "knowledge.cache")
    running = await start_sandbox(enforce_limits=enforce_limits)
    client = SandboxClient(running.url)
    bot = BotProcess(running, client, data_dir, url, bot_environment(running.url, url, data_dir, TEST_KEY, env or {}))
    await bot.start()
    return bot


async def stop_bot(bot) -> None:
    await bot.stop()
    await bot.client.aclose()
    await bot.sandbox.stop()


@pytest.fixture
async def bot_factory(tmp_path, knowledge_cache):
    """Start a bot of the test's own: `bot = await bot_factory(env={...})`, stopped afterwards."""
    started = []

    async def make(**options):
        bot = await launch_bot(tmp_path / f"bot{len(started)}", knowledge_cache, **options)
        started.append(bot)
        return bot

    yield make
    for bot in started:
        await stop_bot(bot)


@pytest.fixture(scope="module")
async def shared_bot(tmp_path_factory, knowledge_cache):
    """One bot for all the tests of a module that need no special settings: starting a bot
    process costs seconds, so tests share it and keep apart by each using new users."""
    bot = await launch_bot(tmp_path_factory.mktemp("shared-bot"), knowledge_cache)
    yield bot
    await stop_bot(bot)
