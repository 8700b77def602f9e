"""The sender: drains the outbox through Telegram, at Telegram's pace, without sending twice.

A pass claims a batch of due rows (on PostgreSQL with FOR UPDATE SKIP LOCKED, so two processes
take different rows), delivers them, and marks each row sent right after its own delivery: a
crash can repeat at most the message in flight. A claim expires after `lease` seconds, so rows
claimed by a process that died are picked up again. Temporary failures are retried with backoff;
"blocked by the user" marks the contact unreachable and escalates to the supervisors instead.

Telegram allows about 30 messages a second overall (the application's rate limiter keeps to it)
and about one a second to one chat, which the rate limiter does not enforce: the sender spaces
messages to the same chat itself, sending to other chats meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.db import Database, insert_ignoring
from bot.ledger.models import OutboxMessage, OutboxStatus, RectificationItem, Unit, UnitContact
from bot.reminders.messages import Reminder, render
from bot.reminders.planner import OUTBOX_KEY

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.05   # seconds between two messages to one chat
MAX_PER_CHAT = 3           # rows of one chat in one batch (see _few_per_chat)
UNREACHABLE = "unreachable"


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"        # a temporary failure: try again later
    BLOCKED = "blocked"    # the user blocked the bot, or the chat is gone
    FAILED = "failed"      # Telegram refused the message itself: retrying will not help


@dataclass
class Delivery:
    outcome: Outcome
    retry_after: float | None = None
    error: str = ""


Deliver = Callable[[int, str, list[list[tuple[str, str]]]], Awaitable[Delivery]]
LanguageOf = Callable[[list[int]], Awaitable[dict[int, str]]]


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    chats_waited: dict[int, float] = field(default_factory=dict)


class Sender:
    def __init__(self, database: Database, deliver: Deliver, language_of: LanguageOf, *, worker: str,
                 supervisors: set[int], zone, lease_seconds: float = 60, batch: int = 100, max_attempts: int = 8,
                 concurrency: int = 1, per_second: float = 28.0):
        self.database = database
        self.deliver = deliver
        self.language_of = language_of
        self.worker = worker
        self.supervisors = sorted(supervisors)
        self.zone = zone
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.max_attempts = max_attempts
        # Messages in flight at once. A crash can repeat each of them (sent, not yet marked): one
        # at a time keeps that to the single message in flight; more buys speed on a slow link.
        self.concurrency = max(1, concurrency)
        # Telegram allows about 30 a second; the rate limiter lets a burst of 30 through at once,
        # which arrives at Telegram with jitter and earns 429s. Spacing sends evenly just under the
        # limit costs a few percent of speed and keeps clear of them.
        self.interval = 1.0 / per_second
        self._next_start = 0.0
        self._last_sent: dict[int, float] = {}   # chat id -> monotonic time of the last message

    async def run(self, budget_seconds: float = 30.0) -> SendResult:
        """Send what is due, batch after batch, until nothing is or the budget is spent."""
        result = SendResult()
        started = time.monotonic()
        while time.monotonic() - started < budget_seconds:
            claimed = await self._claim(datetime.now(timezone.utc))
            if not claimed:
                break
            await self._deliver_batch(claimed, result)
        return result

    async def _claim(self, now: datetime) -> list:
        outbox = OutboxMessage.__table__
        claimable = sa.and_(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now,
                            sa.or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < now - self.lease))
        async with self.database.engine.begin() as connection:
            due = (sa.select(outbox.c.id, outbox.c.chat_id).where(claimable)
                   .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(self.batch * 3))
            if connection.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)  # another process skips these rows
            ids = _few_per_chat(await connection.execute(due), self.batch)
            if not ids:
                return []
            # The condition is checked again as the rows are written: where two processes read the
            # same rows (SQLite has no SKIP LOCKED), only the first to write gets them.
            await connection.execute(outbox.update().where(outbox.c.id.in_(ids), claimable)
                                     .values(claimed_by=self.worker, claimed_at=now))
            items, units = RectificationItem.__table__, Unit.__table__
            rows = await connection.execute(
                sa.select(outbox.c.id, outbox.c.item_id, outbox.c.kind, outbox.c.chat_id, outbox.c.payload,
                          outbox.c.attempts, items.c.external_id, items.c.problem, items.c.deadline, units.c.name)
                .select_from(outbox.join(items, items.c.id == outbox.c.item_id).join(units, units.c.id == items.c.unit_id))
                .where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.worker, outbox.c.claimed_at == now)
                .order_by(outbox.c.next_attempt_at, outbox.c.id))
            return rows.all()

    async def _deliver_batch(self, rows: list, result: SendResult) -> None:
        """Send in order, `concurrency` at a time, never two to one chat within PER_CHAT_INTERVAL."""
        languages = await self.language_of(sorted({row.chat_id for row in rows}))
        pending = list(rows)

        async def worker() -> None:
            while pending:
                row = self._next_ready(pending)
                if row is None:
                    await asyncio.sleep(self._wait_for_a_chat(pending))
                    continue
                self._last_sent[row.chat_id] = time.monotonic()  # reserved before sending
                await self._pace()
                await self._deliver_one(row, languages[row.chat_id], result)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def _pace(self) -> None:
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def _next_ready(self, pending: list):
        now = time.monotonic()
        for index, row in enumerate(pending):
            if self._last_sent.get(row.chat_id, -1e9) + PER_CHAT_INTERVAL <= now:
                return pending.pop(index)
        return None

    def _wait_for_a_chat(self, pending: list) -> float:
        soonest = min(self._last_sent.get(row.chat_id, -1e9) for row in pending) + PER_CHAT_INTERVAL
        return max(0.01, soonest - time.monotonic())

    async def _deliver_one(self, row, language: str, result: SendResult) -> None:
        reminder = Reminder(kind=row.kind, item_id=row.item_id, external_id=row.external_id, unit=row.name,
                            problem=row.problem, deadline=row.deadline,
                            offset=json.loads(row.payload or "{}").get("offset", 0),
                            to_supervisor=row.chat_id in self.supervisors)
        text, buttons = render(reminder, language)
        try:
            delivery = await self.deliver(row.chat_id, text, buttons)
        except Exception as error:  # never let one message stop the others
            log.warning("Reminder %s: unexpected %s", row.id, type(error).__name__)
            delivery = Delivery(Outcome.RETRY, error=type(error).__name__)
        await self._record(row, delivery, result)

    async def _record(self, row, delivery: Delivery, result: SendResult) -> None:
        outbox = OutboxMessage.__table__
        now = datetime.now(timezone.utc)
        mine = sa.and_(outbox.c.id == row.id, outbox.c.claimed_by == self.worker)
        async with self.database.engine.begin() as connection:
            if delivery.outcome is Outcome.SENT:
                result.sent += 1
                await connection.execute(outbox.update().where(mine).values(
                    status=OutboxStatus.SENT.value, sent_at=now, attempts=row.attempts + 1))
            elif delivery.outcome is Outcome.RETRY and row.attempts + 1 < self.max_attempts:
                result.retried += 1
                delay = delivery.retry_after or min(3600, 5 * 2 ** row.attempts)
                await connection.execute(outbox.update().where(mine).values(
                    attempts=row.attempts + 1, next_attempt_at=now + timedelta(seconds=delay),
                    claimed_by=None, claimed_at=None, last_error=delivery.error[:500]))
            else:
                result.failed += 1
                await connection.execute(outbox.update().where(mine).values(
                    status=OutboxStatus.FAILED.value, attempts=row.attempts + 1,
                    last_error=(delivery.error or delivery.outcome.value)[:500]))
                if delivery.outcome is Outcome.BLOCKED and row.chat_id not in self.supervisors:
                    result.blocked += 1
                    await self._escalate_unreachable(connection, row, now)

    async def _escalate_unreachable(self, connection, row, now: datetime) -> None:
        """The contact blocked the bot or left: stop sending to them; tell the parent unit and the supervisors."""
        contacts = UnitContact.__table__
        await connection.execute(contacts.update().where(contacts.c.chat_id == row.chat_id, contacts.c.reachable.is_(True))
                                 .values(reachable=False, unreachable_since=now))
        log.info("Reminder %s: contact unreachable; escalating", row.id)
        items, units = RectificationItem.__table__, Unit.__table__
        parent = (await connection.execute(sa.select(units.c.parent_id).select_from(
            items.join(units, units.c.id == items.c.unit_id)).where(items.c.id == row.item_id))).scalar()
        recipients = set(self.supervisors)
        if parent:
            recipients |= {c for (c,) in await connection.execute(
                sa.select(contacts.c.chat_id).where(contacts.c.unit_id == parent, contacts.c.reachable.is_(True)))}
        day = now.astimezone(self.zone).date().isoformat()
        rows = [{"item_id": row.item_id, "kind": UNREACHABLE, "slot": f"{row.chat_id}:{day}:{chat_id}",
                 "chat_id": chat_id, "payload": json.dumps({"offset": 0}), "status": OutboxStatus.PENDING.value,
                 "attempts": 0, "next_attempt_at": now, "created_at": now} for chat_id in sorted(recipients)]
        if rows:
            await connection.execute(insert_ignoring(connection, OutboxMessage.__table__, OUTBOX_KEY), rows)


def _few_per_chat(rows, limit: int) -> list[int]:
    """At most MAX_PER_CHAT rows of any one chat: one chat takes a second per message, and a batch
    must finish well within the claim's lease or another process would take its rows again."""
    taken: dict[int, int] = defaultdict(int)
    ids = []
    for row in rows:
        if taken[row.chat_id] < MAX_PER_CHAT and len(ids) < limit:
            taken[row.chat_id] += 1
            ids.append(row.id)
    return ids
