"""Reminder engine speed: planner passes over 100,000 open items, and delivery against Telegram's limits.

    .venv/bin/python bench/reminders.py [--items 100000] [--messages 900] [--database URL]

1. Planner. A ledger of N open items (1,000 units, one contact each, deadlines spread over four
   months around today) in a fresh database (SQLite by default). Timed: the first pass (every
   item planned once), then a steady pass later the same day (what runs every minute). Baseline
   in the same run: the naive planner that recomputes every item on every pass and offers all
   due reminders to the outbox (duplicates refused by the unique key).
2. Delivery. M reminders to M different chats, sent by the real sender through python-telegram-bot
   with its AIORateLimiter to the local sandbox enforcing Telegram's limits (30 messages a second
   overall, 1 per second per chat). Each chat's reminders go as one message (the grouping
   renderer runs for every one of them). Reported: messages per second against the 30/s limit,
   and the 429 answers received (the target is none).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot import outbox  # noqa: E402
from bot.db import Database, prepare  # noqa: E402
from bot.outbox import Delivery, OutboxMessage, Outcome, RenderEnv, Sender  # noqa: E402
from bot.ledger.models import (InspectionRound, RectificationItem, Unit,  # noqa: E402
                               UnitContact)
import bot.reminders.messages  # noqa: E402,F401  (the reminders' renderer)
from bot.reminders.planner import Planner  # noqa: E402
from bot.reminders.planner import kind_for  # noqa: E402
from bot.reminders.policy import levels_by_severity, timing_from  # noqa: E402

UNITS = 1000


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def make_ledger(database: Database, items: int, today) -> None:
    now = datetime.now(timezone.utc)
    async with database.engine.begin() as connection:
        await connection.execute(Unit.__table__.insert(), [{"id": u + 1, "name": f"unit {u}"} for u in range(UNITS)])
        await connection.execute(InspectionRound.__table__.insert(), [{"id": 1, "name": "bench"}])
        await connection.execute(UnitContact.__table__.insert(), [
            {"unit_id": u + 1, "chat_id": 10_000_000 + u, "reachable": True, "bound_at": now} for u in range(UNITS)])
        rows = [{"round_id": 1, "external_id": f"B-{n}", "unit_id": n % UNITS + 1, "problem": f"problem {n}",
                 "owner": "", "severity": "normal", "deadline": today + timedelta(days=n % 120 - 60), "plan": "",
                 "status": "open", "created_at": now, "updated_at": now} for n in range(items)]
        for start in range(0, items, 10_000):
            await connection.execute(RectificationItem.__table__.insert(), rows[start:start + 10_000])


async def naive_pass(database: Database, planner: Planner, today, now) -> int:
    """Recompute every open item and offer every due reminder to the outbox."""
    items, contacts = RectificationItem.__table__, UnitContact.__table__
    async with database.engine.begin() as connection:
        chats = {}
        for unit_id, chat_id in await connection.execute(sa.select(contacts.c.unit_id, contacts.c.chat_id)):
            chats.setdefault(unit_id, []).append(chat_id)
        offered = []
        for row in await connection.execute(sa.select(items.c.id, items.c.deadline, items.c.unit_id)
                                            .where(items.c.status == "open")):
            standing = planner.levels.standing(row.deadline, today, planner.count_for(planner.levels))
            if standing.level is None:
                continue
            for chat in chats.get(row.unit_id, []):
                offered.append(outbox.message_row(kind_for(standing, "unit"),
                                                  f"{row.id}:{row.deadline}:{standing.level}{standing.slot}:{chat}",
                                                  chat, now, item_id=row.id))
        for start in range(0, len(offered), 5000):
            await outbox.enqueue(connection, offered[start:start + 5000])
    return len(offered)


async def bench_planner(url: str, items: int) -> list[tuple[str, str, str]]:
    settings = load_settings(None)
    levels, by_severity = levels_by_severity(settings)
    database = Database.connect(url)
    await prepare(database, auto_upgrade=True)
    now = datetime.now(timezone.utc).replace(hour=3)
    today = now.astimezone(settings.zone).date()
    print(f"Creating {items} items ...", file=sys.stderr)
    await make_ledger(database, items, today)
    planner = Planner(database, levels, by_severity, timing_from(settings), settings.supervisor_ids,
                      standing_every_days=settings.ledger.standing_progress_every_days)
    gc.collect()
    before = resident_mib()
    started = time.perf_counter()
    first = await planner.run(now)
    first_seconds = time.perf_counter() - started
    grown = resident_mib() - before
    async with database.engine.connect() as connection:  # grouping: one message per chat and pass
        table = OutboxMessage.__table__
        chats = (await connection.execute(sa.select(sa.func.count(sa.distinct(table.c.chat_id))))).scalar()
    started = time.perf_counter()
    await planner.run(now + timedelta(minutes=1))
    steady = time.perf_counter() - started
    started = time.perf_counter()
    await naive_pass(database, planner, today, now + timedelta(minutes=2))
    naive = time.perf_counter() - started
    await database.dispose()
    return [
        ("planner, first pass (plans every item)", f"{first_seconds:.2f} s",
         f"{first.written} reminders in {chats} messages, +{grown:.0f} MiB"),
        ("planner, steady pass (every minute)", f"{steady:.3f} s", "nothing new"),
        ("baseline: naive pass (recompute all)", f"{naive:.2f} s", "same reminders, all offered again"),
    ]


async def bench_delivery(messages: int, concurrency: int) -> tuple[str, str, str]:
    from telegram.error import Forbidden, RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot

    from bot.sandbox.client import SandboxClient
    from bot.sandbox.app import start_sandbox
    from bot.sandbox.state import DEFAULT_TOKEN

    running = await start_sandbox(enforce_limits=True)
    client = SandboxClient(running.url)
    with tempfile.TemporaryDirectory() as temp:
        database = Database.connect(f"sqlite+aiosqlite:///{temp}/delivery.db")
        await prepare(database, auto_upgrade=True)
        now = datetime.now(timezone.utc)
        async with database.engine.begin() as connection:
            await connection.execute(Unit.__table__.insert(), [{"id": 1, "name": "unit"}])
            await connection.execute(InspectionRound.__table__.insert(), [{"id": 1, "name": "bench"}])
            await connection.execute(RectificationItem.__table__.insert(), [{
                "id": 1, "round_id": 1, "external_id": "D-1", "unit_id": 1, "problem": "problem", "owner": "",
                "severity": "normal", "deadline": now.date(), "plan": "", "status": "open", "created_at": now,
                "updated_at": now}])
            await connection.execute(OutboxMessage.__table__.insert(), [{
                "item_id": 1, "kind": "due", "slot": f"s{n}", "chat_id": 20_000_000 + n, "payload": "{}",
                "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} for n in range(messages)])
        for n in range(messages):
            await client.create_user(id=20_000_000 + n, first_name="u")
        bot = ExtBot(DEFAULT_TOKEN, base_url=f"{running.url}/bot", rate_limiter=AIORateLimiter(max_retries=3))
        await bot.initialize()

        async def deliver(chat_id, rendered):
            try:
                await bot.send_message(chat_id, rendered.text)
            except RetryAfter:
                return Delivery(Outcome.RETRY, 1, "429")
            except Forbidden:
                return Delivery(Outcome.BLOCKED)
            except TelegramError as error:
                return Delivery(Outcome.RETRY, error=str(error))
            return Delivery(Outcome.SENT)

        async def languages(chat_ids):
            return {c: "en" for c in chat_ids}

        env = RenderEnv(load_settings(None), frozenset(), None)
        sender = Sender(database, deliver, languages, env, worker="bench", concurrency=concurrency)
        started = time.perf_counter()
        sent = 0
        while sent < messages and time.perf_counter() - started < 600:
            sent += (await sender.run(budget_seconds=60)).sent
        seconds = time.perf_counter() - started
        stats = await client.stats()
        await bot.shutdown()
        await database.dispose()
    await client.aclose()
    await running.stop()
    rate = sent / seconds
    return (f"delivery, {concurrency} in flight", f"{rate:.1f} msg/s = {rate / 30:.0%} of the 30/s limit",
            f"{sent} sent, {stats['errors'].get('429', 0)} answered 429")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=900)
    parser.add_argument("--database", help="database URL for the planner part (default: a new SQLite file)")
    args = parser.parse_args()

    async def run():
        with tempfile.TemporaryDirectory() as temp:
            url = args.database or f"sqlite+aiosqlite:///{temp}/planner.db"
            rows = await bench_planner(url, args.items)
        print(f"Delivering {args.messages} reminders ...", file=sys.stderr)
        rows.append(await bench_delivery(args.messages, 1))
        rows.append(await bench_delivery(args.messages, 4))
        return rows

    rows = asyncio.run(run())
    print(f"\n{args.items} open items; {args.messages} reminders to deliver\n")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")


if __name__ == "__main__":
    main()
