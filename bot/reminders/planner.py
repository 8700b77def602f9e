"""The planner: from the ledger to the outbox, one row per reminder occurrence and recipient.

Each pass (1) keeps `reminder_plan` in step with the items (new items, changed deadlines,
closed items), then (2) for the items whose `next_on` has come, writes the reminders due today
to the outbox and moves `next_on` to the next slot. The outbox's unique key (kind, slot)
makes a pass idempotent: repeated after a crash, or run by two processes at once, it adds
nothing twice. A slot names the deadline, the offset and the recipient, so a changed deadline
gives new slots (the ledger cancels the old pending ones).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from bot import outbox
from bot.db import Database
from bot.ledger.models import CLOSED_STATUSES, RectificationItem, Unit, UnitContact
from bot.reminders.models import ReminderPlan
from bot.reminders.policy import ESCALATION, Policy, Timing

log = logging.getLogger(__name__)

SUPERVISOR_KINDS = {ESCALATION}
CHUNK = 5000  # rows per statement: bounded memory and statement size at 100,000 items


@dataclass
class PlanResult:
    synced: int = 0     # items whose plan was (re)computed
    due: int = 0        # items with something due today
    written: int = 0    # outbox rows offered (duplicates are ignored by the database)


class Planner:
    def __init__(self, database: Database, policy: Policy, by_severity: dict[str, Policy], timing: Timing,
                 supervisors: set[int]):
        self.database = database
        self.policy = policy
        self.by_severity = by_severity
        self.timing = timing
        self.supervisors = sorted(supervisors)

    def policy_for(self, severity: str | None) -> Policy:
        return self.by_severity.get(severity or "", self.policy)

    async def run(self, now: datetime) -> PlanResult:
        today = now.astimezone(self.timing.zone).date()
        result = PlanResult()
        async with self.database.engine.begin() as connection:
            result.synced = await self._sync(connection, today)
        async with self.database.engine.begin() as connection:
            result.due, result.written = await self._plan_due(connection, today, now)
        if result.written:
            log.info("Planned %d reminder(s) for %d item(s)", result.written, result.due)
        return result

    async def _sync(self, connection, today: date) -> int:
        items, plans = RectificationItem.__table__, ReminderPlan.__table__
        closed = sa.select(items.c.id).where(sa.or_(items.c.status.in_(CLOSED_STATUSES),
                                                    items.c.deadline.is_(None)))  # standing items: no reminders
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

    def _first_day(self, deadline: date, severity: str | None, today: date) -> date | None:
        policy = self.policy_for(severity)
        return today if policy.latest_due(deadline, today) else policy.next_day_after(deadline, today)

    async def _plan_due(self, connection, today: date, now: datetime) -> tuple[int, int]:
        items, plans, units = RectificationItem.__table__, ReminderPlan.__table__, Unit.__table__
        due = (await connection.execute(
            sa.select(items.c.id, items.c.deadline, items.c.severity, items.c.unit_id, units.c.parent_id)
            .select_from(plans.join(items, items.c.id == plans.c.item_id).join(units, units.c.id == items.c.unit_id))
            .where(plans.c.next_on <= today, items.c.status.not_in(CLOSED_STATUSES)))).all()
        if not due:
            return 0, 0
        contacts = await self._contacts(connection)
        send_at = max(self.timing.send_time(today), self.timing.outside_quiet_hours(now))
        rows, moves = [], []
        for item in due:
            policy = self.policy_for(item.severity)
            for kind, offset in policy.latest_due(item.deadline, today):
                for chat_id in self._recipients(kind, item.unit_id, item.parent_id, contacts):
                    rows.append(outbox.message_row(kind, f"{item.id}:{item.deadline.isoformat()}:{offset}:{chat_id}",
                                                   chat_id, now, item_id=item.id, send_at=send_at))
            moves.append({"plan_id": item.id, "next": policy.next_day_after(item.deadline, today)})
        for chunk in _chunks(rows):
            await outbox.enqueue(connection, chunk)
        plans_update = plans.update().where(plans.c.item_id == sa.bindparam("plan_id")).values(next_on=sa.bindparam("next"))
        for chunk in _chunks(moves):
            await connection.execute(plans_update, chunk)
        return len(due), len(rows)

    async def _contacts(self, connection) -> dict[int, list[int]]:
        table = UnitContact.__table__
        found: dict[int, list[int]] = defaultdict(list)
        for unit_id, chat_id in await connection.execute(
                sa.select(table.c.unit_id, table.c.chat_id).where(table.c.reachable.is_(True))):
            found[unit_id].append(chat_id)
        return found

    def _recipients(self, kind: str, unit_id: int, parent_id: int | None, contacts: dict[int, list[int]]) -> list[int]:
        """The unit's contacts; an escalation goes to the parent unit's contacts and the supervisors.
        A unit nobody can be reached in has its reminders go to the supervisors: never to no one."""
        if kind in SUPERVISOR_KINDS:
            return sorted(set(contacts.get(parent_id, []) if parent_id else []) | set(self.supervisors))
        return contacts.get(unit_id) or list(self.supervisors)


def _chunks(rows: list) -> list[list]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]
