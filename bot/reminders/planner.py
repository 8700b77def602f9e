"""The planner: from the ledger to the outbox, by warning levels (三色预警).

An item's reminders come in levels (`bot.reminders.policy.Levels`, config `reminders.levels`):
green N days before the deadline to the unit's contacts; yellow M days before (through the
deadline day) to them and the parent unit's contacts; red when overdue to those and the
supervisors, repeated every K days. Days are working days (`bot.workdays`) unless the config
says calendar days.

Each pass (1) keeps `reminder_plan` in step with the items (new items, changed deadlines, closed
items), then (2) for the items whose `next_on` has come, writes ONE row per item and recipient for
where the item stands *today* (its level and the slot within the level) and moves `next_on` to the
day the next slot starts. A slot that passed while the bot was down, or over a weekend, is never
written: only the present one is, so one reminder says where things stand. An acknowledgement
(已知悉) given since the current level started stops that level's repeats, not the next level.

The outbox's unique key (kind, slot) makes a pass idempotent: repeated after a crash, or run by
two processes at once, it adds nothing twice. A slot names the item, the deadline, the level slot
and the recipient ("12:2026-12-31:red1:5001"), so a changed deadline gives new slots (the ledger
cancels the old pending ones). The sender delivers all of one recipient's reminders as one message
(`bot/reminders/messages.py`); its words are computed when it is sent.

A unit that nobody can be reached in is put once on the supervisors' list of units without a
contact (a "no_contact" row per supervisor), instead of its reminders going to no one or to
the supervisors one by one. Standing items (长期坚持) get a progress request every
`ledger.standing_progress_every_days`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa

from bot import outbox
from bot.db import Database
from bot.ledger.models import CLOSED_STATUSES, ItemHistory, ProgressEntry, RectificationItem, Unit, UnitContact
from bot.reminders.models import ReminderPlan
from bot.reminders.policy import (BEFORE, DUE, ESCALATION, OVERDUE, RED, YELLOW, DayCount, Levels, Policy,
                                  Standing, Timing, levels_from_old)

log = logging.getLogger(__name__)

NO_CONTACT = "no_contact"
STANDING_PROGRESS = "standing_progress"
ACKNOWLEDGED = "reminder_acknowledged"
CHUNK = 5000  # rows per statement: bounded memory and statement size at 100,000 items


@dataclass
class PlanResult:
    synced: int = 0     # items whose plan was (re)computed
    due: int = 0        # items with something due today
    written: int = 0    # outbox rows offered (duplicates are ignored by the database)


def kind_for(standing: Standing, role: str) -> str:
    """The outbox kind of a reminder: what it is to this recipient (role: unit, parent, supervisor)."""
    if standing.level == RED:
        return OVERDUE if role == "unit" else ESCALATION
    return DUE if standing.due_today else BEFORE


class Planner:
    def __init__(self, database: Database, levels: Levels | Policy, by_severity: dict, timing: Timing,
                 supervisors: set[int], *, standing_every_days: int = 0):
        self.database = database
        self.levels = levels_from_old(levels) if isinstance(levels, Policy) else levels
        self.by_severity = {name: levels_from_old(p) if isinstance(p, Policy) else p for name, p in by_severity.items()}
        self.timing = timing
        self.supervisors = sorted(supervisors)
        self.standing_every_days = standing_every_days
        self._working = DayCount(timing.calendar or _weekdays(timing))
        self._calendar = DayCount(None)
        self._standing_checked: date | None = None  # a cache only: the outbox's keys make a repeat harmless

    def levels_for(self, severity: str | None) -> Levels:
        return self.by_severity.get(severity or "", self.levels)

    def count_for(self, levels: Levels) -> DayCount:
        return self._working if levels.working else self._calendar

    async def run(self, now: datetime) -> PlanResult:
        today = now.astimezone(self.timing.zone).date()
        result = PlanResult()
        async with self.database.engine.begin() as connection:
            result.synced = await self._sync(connection, today)
        async with self.database.engine.begin() as connection:
            result.due, result.written = await self._plan_due(connection, today, now)
        if self.standing_every_days and self._standing_checked != today:
            async with self.database.engine.begin() as connection:
                result.written += await self._plan_standing(connection, today, now)
            self._standing_checked = today
        if result.written:
            log.info("Planned %d reminder(s) for %d item(s)", result.written, result.due)
        return result

    async def _sync(self, connection, today: date) -> int:
        items, plans = RectificationItem.__table__, ReminderPlan.__table__
        closed = sa.select(items.c.id).where(sa.or_(items.c.status.in_(CLOSED_STATUSES),
                                                    items.c.deadline.is_(None)))  # standing items: see _plan_standing
        await connection.execute(plans.delete().where(plans.c.item_id.in_(closed)))
        stale = await connection.execute(
            sa.select(items.c.id, items.c.deadline, items.c.severity)
            .select_from(items.outerjoin(plans, plans.c.item_id == items.c.id))
            .where(items.c.status.not_in(CLOSED_STATUSES), items.c.deadline.is_not(None))
            .where(sa.or_(plans.c.item_id.is_(None), plans.c.deadline != items.c.deadline)))
        rows = stale.all()
        for chunk in _chunks(rows):
            await connection.execute(plans.delete().where(plans.c.item_id.in_([r.id for r in chunk])))
            await connection.execute(plans.insert(), [
                {"item_id": r.id, "deadline": r.deadline, "next_on": self._first_day(r.deadline, r.severity, today)}
                for r in chunk])
        return len(rows)

    def _first_day(self, deadline: date, severity: str | None, today: date) -> date:
        levels = self.levels_for(severity)
        count = self.count_for(levels)
        return today if levels.standing(deadline, today, count).level else levels.next_day_after(deadline, today, count)

    async def _plan_due(self, connection, today: date, now: datetime) -> tuple[int, int]:
        items, plans, units = RectificationItem.__table__, ReminderPlan.__table__, Unit.__table__
        due = (await connection.execute(
            sa.select(items.c.id, items.c.deadline, items.c.severity, items.c.unit_id, units.c.parent_id)
            .select_from(plans.join(items, items.c.id == plans.c.item_id).join(units, units.c.id == items.c.unit_id))
            .where(plans.c.next_on <= today, items.c.status.not_in(CLOSED_STATUSES)))).all()
        if not due:
            return 0, 0
        contacts = await self._contacts(connection)
        acknowledged = await self._acknowledged(connection, [item.id for item in due])
        send_at = max(self.timing.send_time(today), self.timing.outside_quiet_hours(now))
        rows, moves, unreached = [], [], set()
        for item in due:
            levels = self.levels_for(item.severity)
            count = self.count_for(levels)
            standing = levels.standing(item.deadline, today, count)
            moves.append({"plan_id": item.id, "next": levels.next_day_after(item.deadline, today, count)})
            if standing.level is None or self._stopped(item.id, standing, levels, item.deadline, count, acknowledged):
                continue
            slot = f"{standing.level}{standing.slot}"
            for chat_id, role in self._recipients(standing.level, item.unit_id, item.parent_id, contacts):
                rows.append(outbox.message_row(kind_for(standing, role), f"{item.id}:{item.deadline.isoformat()}:{slot}:{chat_id}",
                                               chat_id, now, item_id=item.id, send_at=send_at))
            if not contacts.get(item.unit_id):
                unreached.add(item.unit_id)
        rows += self._no_contact_rows(unreached, now, send_at)
        for chunk in _chunks(rows):
            await outbox.enqueue(connection, chunk)
        plans_update = plans.update().where(plans.c.item_id == sa.bindparam("plan_id")).values(next_on=sa.bindparam("next"))
        for chunk in _chunks(moves):
            await connection.execute(plans_update, chunk)
        return len(due), len(rows)

    @staticmethod
    def _stopped(item_id: int, standing: Standing, levels: Levels, deadline: date, count: DayCount,
                 acknowledged: dict[int, date]) -> bool:
        """A repeat of a level whose reminder the unit acknowledged (已知悉) since the level began."""
        seen = acknowledged.get(item_id)
        return standing.slot > 0 and seen is not None and seen >= levels.level_start(standing.level, deadline, count)

    async def _acknowledged(self, connection, item_ids: list[int]) -> dict[int, date]:
        """The local day of each item's latest acknowledgement."""
        history = ItemHistory.__table__
        found: dict[int, date] = {}
        for chunk in _chunks(item_ids):
            for item_id, at in await connection.execute(
                    sa.select(history.c.item_id, sa.func.max(history.c.at))
                    .where(history.c.action == ACKNOWLEDGED, history.c.item_id.in_(chunk)).group_by(history.c.item_id)):
                found[item_id] = _local_day(at, self.timing.zone)
        return found

    def _no_contact_rows(self, units: set[int], now: datetime, send_at: datetime) -> list[dict]:
        """Each unit without a reachable contact goes on the supervisors' list once (not per reminder)."""
        return [outbox.message_row(NO_CONTACT, f"{unit_id}:{chat_id}", chat_id, now, payload={"unit_id": unit_id},
                                   send_at=send_at)
                for unit_id in sorted(units) for chat_id in self.supervisors]

    async def _plan_standing(self, connection, today: date, now: datetime) -> int:
        """长期坚持 items: a progress request to their unit's contacts when no progress was reported
        for `standing_progress_every_days` (counted from the import, then from the last report)."""
        items, progress = RectificationItem.__table__, ProgressEntry.__table__
        every = self.standing_every_days
        last = (sa.select(progress.c.item_id, sa.func.max(progress.c.at).label("at"))
                .group_by(progress.c.item_id).subquery())
        found = (await connection.execute(
            sa.select(items.c.id, items.c.unit_id, items.c.created_at, last.c.at)
            .select_from(items.outerjoin(last, last.c.item_id == items.c.id))
            .where(items.c.deadline_kind == "standing", items.c.status.not_in(CLOSED_STATUSES)))).all()
        if not found:
            return 0
        contacts = await self._contacts(connection)
        send_at = max(self.timing.send_time(today), self.timing.outside_quiet_hours(now))
        rows = []
        for item in found:
            since = _local_day(item.at or item.created_at, self.timing.zone)
            quiet = (today - since).days
            if quiet < every:
                continue
            for chat_id in contacts.get(item.unit_id, []):
                rows.append(outbox.message_row(STANDING_PROGRESS, f"{item.id}:{since.isoformat()}:{quiet // every}:{chat_id}",
                                               chat_id, now, item_id=item.id, send_at=send_at))
        for chunk in _chunks(rows):
            await outbox.enqueue(connection, chunk)
        return len(rows)

    async def _contacts(self, connection) -> dict[int, list[int]]:
        table = UnitContact.__table__
        found: dict[int, list[int]] = defaultdict(list)
        for unit_id, chat_id in await connection.execute(
                sa.select(table.c.unit_id, table.c.chat_id).where(table.c.reachable.is_(True))):
            found[unit_id].append(chat_id)
        return found

    def _recipients(self, level: str, unit_id: int, parent_id: int | None,
                    contacts: dict[int, list[int]]) -> list[tuple[int, str]]:
        """Green: the unit's contacts; yellow: and the parent unit's; red: and the supervisors.
        Each chat once, in its closest role."""
        chosen: dict[int, str] = {}
        if level == RED:
            chosen.update((chat, "supervisor") for chat in self.supervisors)
        if level in (YELLOW, RED) and parent_id:
            chosen.update((chat, "parent") for chat in contacts.get(parent_id, []))
        chosen.update((chat, "unit") for chat in contacts.get(unit_id, []))
        return sorted(chosen.items())


def _local_day(moment, zone) -> date:
    """The local day of a stored time (UTC; SQLite hands an aggregate of one back as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).date()


def _weekdays(timing: Timing):
    from bot.workdays import WorkCalendar
    return WorkCalendar(statutory=False, weekdays=timing.working_days)


def _chunks(rows: list) -> list[list]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]

