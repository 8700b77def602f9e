"""The outbox: every message to someone other than the sender of the update being handled.

Report notices, report deadline reminders, ledger reminders and escalations, closure requests and
decisions, "contact unreachable" notices and the weekly digest are all rows of one table. A row
names *what* to say (its `kind` and a small JSON `payload`), never the words: the words are
rendered when the row is sent, in the recipient's language of that moment, from the database of
that moment, so a message delivered hours after it was planned states facts that are true when it
is read. A renderer may return None when the message has nothing left to say (the item was
closed meanwhile); the row is then cancelled.

Delivery is exactly-once as far as Telegram allows:
- the UNIQUE key (kind, slot) makes every enqueue idempotent (a planner pass repeated after a
  crash, or run by two processes, adds nothing twice);
- the sender claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL, a conditional update
  elsewhere) under a lease, delivers, and marks each row right after its own delivery: a crash
  repeats at most the message in flight;
- temporary failures (5xx, timeouts, 429 with Telegram's retry_after) are retried with backoff;
- "chat not found" / "bot can't initiate conversation" means the person has not opened the bot
  yet: the row *waits* (status `waiting`) and is released when that person first writes (see
  `release`), with a note of how long it waited (since the bot first found them unreachable);
- "blocked by the user" marks a unit contact unreachable and tells the parent unit and the
  supervisors, once a day.

Telegram allows about 30 messages a second overall and about one a second per chat; the sender
keeps to both. The rows taken together go in the order they were written, whatever their planned
time, so a chat reads a notice before the reminders planned after it.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot import preferences
from bot.crypto import Crypto
from bot.db import Database, UTCDateTime, insert_ignoring
from bot.i18n import translator
from bot.logs import describe_exception
from bot.workdays import calendar_from

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.05   # seconds between two messages to one chat
MAX_PER_CHAT = 3           # rows of one chat in one batch (see _few_per_chat)
MAX_GROUPED = 1000         # grouped rows claimed at once in one batch (bounded statements; the rest next)
OUTBOX_KEY = ["kind", "slot"]
UNREACHABLE = "unreachable"


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    WAITING = "waiting"      # the recipient has not opened the bot yet
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("kind", "slot", name="uq_outbox_kind_slot"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    slot: str = Field(max_length=160)   # the occurrence, unique within the kind
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    item_id: int | None = Field(default=None, sa_column=sa.Column(
        sa.Integer, sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=True, index=True))
    payload: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)


class RecipientLanguage(SQLModel, table=True):
    """The language Telegram gave for a supervisor or unit contact when they first wrote (they are
    named officials, not reporters: their chat id is what messages are sent to)."""

    __tablename__ = "recipient_language"
    chat_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    language: str = Field(max_length=8)


def message_row(kind: str, slot: str, chat_id: int, now: datetime, *, payload: dict | None = None,
        item_id: int | None = None, send_at: datetime | None = None) -> dict:
    """One outbox row, ready for `enqueue`."""
    return {"kind": kind, "slot": slot[:160], "chat_id": chat_id, "item_id": item_id,
            "payload": json.dumps(payload or {}, ensure_ascii=False), "status": OutboxStatus.PENDING.value,
            "attempts": 0, "next_attempt_at": send_at or now, "created_at": now}


async def enqueue(connection, rows: list[dict]) -> None:
    """Insert rows; an occurrence already there is left as it is."""
    if rows:
        await connection.execute(insert_ignoring(connection, OutboxMessage.__table__, OUTBOX_KEY), rows)


async def enqueue_now(database: Database, rows: list[dict]) -> None:
    async with database.engine.begin() as connection:
        await enqueue(connection, rows)


# ---- rendering ------------------------------------------------------------------------------------

Buttons = list[list[tuple[str, str]]]


@dataclass
class Attachment:
    kind: str                  # photo or document
    file: str | bytes          # a Telegram file id, or the bytes
    filename: str | None = None


@dataclass
class Rendered:
    text: str
    buttons: Buttons = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    photo_caption: bool = False   # the text is the caption of the first (photo) attachment
    # A group's message that had no room for some items (only said "and N more"): their rows are
    # cancelled, not marked sent, so nothing counts them as delivered.
    left_out_items: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    chat_id: int
    item_id: int | None
    payload: dict
    attempts: int
    created_at: datetime
    waiting_since: datetime | None


@dataclass(frozen=True)
class RenderEnv:
    """What a renderer may need besides the database: settings and who the supervisors are."""

    settings: object
    supervisors: frozenset[int]
    crypto: Crypto
    ledger: object = None   # the LedgerService, for the digest

    @property
    def zone(self):
        return self.settings.zone

    @functools.cached_property
    def calendar(self):
        """Working days (config `calendar`), for day counts said in working days."""
        return calendar_from(self.settings)

    def today(self, now: datetime):
        return now.astimezone(self.settings.zone).date()


Renderer = Callable[[object, Claimed, str, RenderEnv, datetime], Awaitable[Rendered | None]]
# A group's renderer: every row of the group due to one chat, as one message (its pages, in order;
# none when nothing is left to say).
GroupRenderer = Callable[[object, list[Claimed], str, RenderEnv, datetime], Awaitable[list[Rendered]]]
RENDERERS: dict[str, Renderer] = {}
GROUP_RENDERERS: dict[str, GroupRenderer] = {}
GROUP_OF: dict[str, str] = {}   # kind -> group
ERASED_WHEN_SENT: set[str] = set()


def renderer(*kinds: str, erase_when_sent: bool = False):
    """Register the function that writes the words of these kinds of message. Rows of kinds that
    concern a report are erased once delivered: even a coarse time must not outlive its use."""
    def register(function: Renderer) -> Renderer:
        for kind in kinds:
            RENDERERS[kind] = function
            if erase_when_sent:
                ERASED_WHEN_SENT.add(kind)
        return function
    return register


def group_renderer(group: str, *kinds: str):
    """Register the function that writes, as one message, all the rows of these kinds due to one
    chat: the sender claims them together and marks them together, so a recipient gets one
    message per pass (e.g. all their reminders), not one per row."""
    def register(function: GroupRenderer) -> GroupRenderer:
        GROUP_RENDERERS[group] = function
        for kind in kinds:
            GROUP_OF[kind] = group
        return function
    return register


# ---- delivery -------------------------------------------------------------------------------------

class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"        # a temporary failure: try again later
    WAITING = "waiting"    # the recipient has not opened the bot yet
    BLOCKED = "blocked"    # the user blocked the bot, or the chat is gone
    FAILED = "failed"      # Telegram refused the message itself: retrying will not help


@dataclass
class Delivery:
    outcome: Outcome
    retry_after: float | None = None
    error: str = ""


Deliver = Callable[[int, Rendered], Awaitable[Delivery]]


@dataclass
class SendResult:
    sent: int = 0          # rows delivered (a message may carry several: see group_renderer)
    messages: int = 0      # messages delivered
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    waiting: int = 0
    cancelled: int = 0


async def recipient_languages(database: Database, crypto: Crypto, chat_ids: list[int], default: str) -> dict[int, str]:
    """The language each recipient chose, else the one Telegram gave when they first wrote, else `default`."""
    chosen = await preferences.languages(database, crypto, chat_ids, "")
    missing = [chat_id for chat_id, language in chosen.items() if not language]
    if missing:
        table = RecipientLanguage.__table__
        async with database.engine.connect() as connection:
            given = dict((await connection.execute(
                sa.select(table.c.chat_id, table.c.language).where(table.c.chat_id.in_(missing)))).all())
        for chat_id in missing:
            chosen[chat_id] = given.get(chat_id, default)
    return chosen


async def note_recipient_language(database: Database, chat_id: int, language: str) -> None:
    """Keep the language Telegram gave the first time (only for supervisors and unit contacts)."""
    async with database.engine.begin() as connection:
        await connection.execute(insert_ignoring(connection, RecipientLanguage.__table__, ["chat_id"]),
                                 {"chat_id": chat_id, "language": language})


async def release(database: Database, chat_id: int, now: datetime) -> int:
    """This person has written to the bot: what was waiting for them can go now."""
    outbox = OutboxMessage.__table__
    waiting = sa.and_(outbox.c.chat_id == chat_id, outbox.c.status == OutboxStatus.WAITING.value)
    # A read first: most people have nothing waiting, and a write would wait for a running import.
    async with database.engine.connect() as connection:
        if (await connection.execute(sa.select(outbox.c.id).where(waiting).limit(1))).first() is None:
            return 0
    async with database.engine.begin() as connection:
        released = await connection.execute(outbox.update().where(waiting).values(
            status=OutboxStatus.PENDING.value, next_attempt_at=now, claimed_by=None, claimed_at=None))
    return released.rowcount or 0


class Sender:
    def __init__(self, database: Database, deliver: Deliver, languages: Callable[[list[int]], Awaitable[dict[int, str]]],
                 env: RenderEnv, *, worker: str, lease_seconds: float = 60, batch: int = 100, max_attempts: int = 8,
                 concurrency: int = 1, per_second: float = 28.0, clock: Callable[[], datetime] | None = None):
        self.database = database
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.deliver = deliver
        self.languages = languages
        self.env = env
        self.worker = worker
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
            claimed = await self._claim(self.clock())
            if not claimed:
                break
            await self._deliver_batch(claimed, result)
        return result

    async def _claim(self, now: datetime) -> list[Claimed]:
        outbox = OutboxMessage.__table__
        claimable = sa.and_(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now,
                            sa.or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < now - self.lease))
        async with self.database.engine.begin() as connection:
            due = (sa.select(outbox.c.id, outbox.c.chat_id, outbox.c.kind).where(claimable)
                   .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(self.batch * 3))
            if connection.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)  # another process skips these rows
            found = (await connection.execute(due)).all()
            ids = _few_per_chat(found, self.batch)
            if not ids:
                return []
            # The condition is checked again as the rows are written: where two processes read the
            # same rows (SQLite has no SKIP LOCKED), only the first to write gets them.
            await connection.execute(outbox.update().where(outbox.c.id.in_(ids), claimable)
                                     .values(claimed_by=self.worker, claimed_at=now))
            taken = set(ids)
            grouped_chats = sorted({r.chat_id for r in found if r.id in taken and r.kind in GROUP_OF})
            if grouped_chats:  # the rest of those chats' grouped rows go in the same message
                more = (sa.select(outbox.c.id).where(claimable, outbox.c.chat_id.in_(grouped_chats),
                                                     outbox.c.kind.in_(sorted(GROUP_OF)))
                        .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(MAX_GROUPED))
                if connection.dialect.name == "postgresql":  # rows another process holds stay its own
                    more = more.with_for_update(skip_locked=True)
                extra = list((await connection.execute(more)).scalars())
                ids += extra
                if extra:
                    await connection.execute(outbox.update().where(outbox.c.id.in_(extra), claimable)
                                             .values(claimed_by=self.worker, claimed_at=now))
            rows = await connection.execute(
                sa.select(outbox.c.id, outbox.c.kind, outbox.c.chat_id, outbox.c.item_id, outbox.c.payload,
                          outbox.c.attempts, outbox.c.created_at, outbox.c.waiting_since)
                .where(outbox.c.id.in_(ids), outbox.c.claimed_by == self.worker, outbox.c.claimed_at == now)
                # Delivered in the order written: a reminder planned for 09:00 after a notice written at
                # 10:00 still follows it ("deadline changed", then "overdue").
                .order_by(outbox.c.id))
            return [Claimed(r.id, r.kind, r.chat_id, r.item_id, json.loads(r.payload or "{}"), r.attempts,
                            r.created_at, r.waiting_since) for r in rows]

    async def _deliver_batch(self, rows: list[Claimed], result: SendResult) -> None:
        """Send in order, `concurrency` at a time, never two to one chat within PER_CHAT_INTERVAL.
        A chat's rows of one group go as one message."""
        languages = await self.languages(sorted({row.chat_id for row in rows}))
        pending = _messages_of(rows)

        async def worker() -> None:
            while pending:
                message = self._next_ready(pending)
                if message is None:
                    await asyncio.sleep(self._wait_for_a_chat(pending))
                    continue
                self._last_sent[message[0].chat_id] = time.monotonic()  # reserved before sending
                await self._deliver_one(message, languages[message[0].chat_id], result)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def _pace(self) -> None:
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def _next_ready(self, pending: list[list[Claimed]]) -> list[Claimed] | None:
        now = time.monotonic()
        for index, message in enumerate(pending):
            if self._last_sent.get(message[0].chat_id, -1e9) + PER_CHAT_INTERVAL <= now:
                return pending.pop(index)
        return None

    def _wait_for_a_chat(self, pending: list[list[Claimed]]) -> float:
        soonest = min(self._last_sent.get(message[0].chat_id, -1e9) for message in pending) + PER_CHAT_INTERVAL
        return max(0.01, soonest - time.monotonic())

    async def _render(self, rows: list[Claimed], language: str, now: datetime) -> list[Rendered]:
        """The pages of one message (none: nothing left to say)."""
        first = rows[0]
        group = GROUP_OF.get(first.kind)
        render = RENDERERS.get(first.kind)
        if group is None and render is None:
            log.error("Outbox row %s: no renderer for kind %s", first.id, first.kind)
            return []
        async with self.database.engine.connect() as connection:
            if group is not None:
                pages = await GROUP_RENDERERS[group](connection, rows, language, self.env, now)
            else:
                pages = [page for page in [await render(connection, first, language, self.env, now)] if page]
        waited = [row.waiting_since for row in rows if row.waiting_since is not None]
        if pages and waited:
            # Counted from when the bot first found them unreachable, not from the row's creation:
            # a report's notice is written with the hour only, which would add up to an hour.
            pages[0].text = waited_note(min(waited), now, language) + "\n\n" + pages[0].text
        return pages

    async def _deliver_one(self, rows: list[Claimed], language: str, result: SendResult) -> None:
        """One message (its pages one after the other, a chat's pace apart), then its rows marked
        together: a crash in between repeats at most this message."""
        now = self.clock()
        delivery = Delivery(Outcome.SENT)
        try:
            pages = await self._render(rows, language, now)
            if not pages:
                await self._cancel(rows, result)
                return
            for number, page in enumerate(pages):
                if number:
                    await asyncio.sleep(PER_CHAT_INTERVAL)
                await self._pace()
                delivery = await self.deliver(rows[0].chat_id, page)
                if delivery.outcome is not Outcome.SENT:
                    break
            self._last_sent[rows[0].chat_id] = time.monotonic()
        except Exception as error:  # never let one message stop the others
            log.warning("Outbox row %s: unexpected %s", rows[0].id, describe_exception(error))
            delivery = Delivery(Outcome.RETRY, error=type(error).__name__)
            pages = []
        left_out = frozenset().union(*(page.left_out_items for page in pages))
        if left_out and delivery.outcome is Outcome.SENT:
            await self._cancel([row for row in rows if row.item_id in left_out], result)
            rows = [row for row in rows if row.item_id not in left_out]
        await self._record(rows, delivery, result)

    async def _cancel(self, rows: list[Claimed], result: SendResult) -> None:
        outbox = OutboxMessage.__table__
        result.cancelled += len(rows)
        async with self.database.engine.begin() as connection:
            await connection.execute(outbox.update().where(outbox.c.id.in_([row.id for row in rows]),
                                                           outbox.c.claimed_by == self.worker)
                                     .values(status=OutboxStatus.CANCELLED.value))

    async def _record(self, rows: list[Claimed], delivery: Delivery, result: SendResult) -> None:
        """The outcome of one message, for all its rows in one transaction."""
        outbox = OutboxMessage.__table__
        now = self.clock()
        if delivery.outcome is Outcome.SENT:
            result.messages += 1
        async with self.database.engine.begin() as connection:
            for row in rows:
                await self._record_row(connection, outbox, row, delivery, result, now)
            if delivery.outcome is Outcome.BLOCKED and rows[0].chat_id not in self.env.supervisors:
                result.blocked += 1
                await self._escalate_unreachable(connection, rows[0], now)

    async def _record_row(self, connection, outbox, row: Claimed, delivery: Delivery, result: SendResult,
                          now: datetime) -> None:
        mine = sa.and_(outbox.c.id == row.id, outbox.c.claimed_by == self.worker)
        if delivery.outcome is Outcome.SENT and row.kind in ERASED_WHEN_SENT:
            result.sent += 1
            await connection.execute(outbox.delete().where(mine))
        elif delivery.outcome is Outcome.SENT:
            result.sent += 1
            await connection.execute(outbox.update().where(mine).values(
                status=OutboxStatus.SENT.value, sent_at=now, attempts=row.attempts + 1))
        elif delivery.outcome is Outcome.WAITING:
            result.waiting += 1
            await connection.execute(outbox.update().where(mine).values(
                status=OutboxStatus.WAITING.value, waiting_since=row.waiting_since or now,
                claimed_by=None, claimed_at=None, last_error=delivery.error[:500]))
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

    async def _escalate_unreachable(self, connection, row: Claimed, now: datetime) -> None:
        """A unit contact blocked the bot or left: stop sending to them; tell the parent unit and
        the supervisors (once a day per contact)."""
        from bot.ledger.models import RectificationItem, Unit, UnitContact

        contacts = UnitContact.__table__
        unit_id = (await connection.execute(sa.select(contacts.c.unit_id).where(contacts.c.chat_id == row.chat_id))).scalar()
        if unit_id is None:
            return
        await connection.execute(contacts.update().where(contacts.c.chat_id == row.chat_id, contacts.c.reachable.is_(True))
                                 .values(reachable=False, unreachable_since=now))
        log.info("Outbox row %s: a unit contact is unreachable; escalating", row.id)
        units = Unit.__table__
        parent = (await connection.execute(sa.select(units.c.parent_id).where(units.c.id == unit_id))).scalar()
        recipients = set(self.env.supervisors)
        if parent:
            recipients |= {c for (c,) in await connection.execute(
                sa.select(contacts.c.chat_id).where(contacts.c.unit_id == parent, contacts.c.reachable.is_(True)))}
        day = now.astimezone(self.env.zone).date().isoformat()
        item_id = row.item_id
        if item_id is None:  # name one of the unit's items, if it has any
            items = RectificationItem.__table__
            item_id = (await connection.execute(sa.select(sa.func.min(items.c.id)).where(items.c.unit_id == unit_id))).scalar()
        await enqueue(connection, [message_row(UNREACHABLE, f"{row.chat_id}:{day}:{chat_id}", chat_id, now,
                                               payload={"unit_id": unit_id}, item_id=item_id)
                                   for chat_id in sorted(recipients)])


def waited_note(waiting_since: datetime, now: datetime, language: str) -> str:
    _ = translator(language)
    seconds = max(0, (now - waiting_since).total_seconds())
    hours = int(seconds // 3600)
    if hours < 1:
        return _("(This message waited less than an hour for you to open the bot.)")
    if hours < 24:
        return _("(This message waited {hours} hour(s) for you to open the bot.)", hours=hours)
    return _("(This message waited {days} day(s) for you to open the bot.)", days=hours // 24)


def _messages_of(rows: list[Claimed]) -> list[list[Claimed]]:
    """The messages to send: each row alone, but a chat's rows of one group together (in the
    place of the first of them)."""
    messages: list[list[Claimed]] = []
    together: dict[tuple[int, str], list[Claimed]] = {}
    for row in rows:
        group = GROUP_OF.get(row.kind)
        if group is None:
            messages.append([row])
        elif (row.chat_id, group) in together:
            together[row.chat_id, group].append(row)
        else:
            together[row.chat_id, group] = [row]
            messages.append(together[row.chat_id, group])
    return messages


def _few_per_chat(rows, limit: int) -> list[int]:
    """At most MAX_PER_CHAT rows of any one chat: one chat takes a second per message, and a batch
    must finish well within the claim's lease or another process would take its rows again."""
    taken: dict[int, int] = defaultdict(int)
    ids = []
    for found in rows:
        if taken[found.chat_id] < MAX_PER_CHAT and len(ids) < limit:
            taken[found.chat_id] += 1
            ids.append(found.id)
    return ids
