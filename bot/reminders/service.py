"""Reminders as the running bot uses them: one planner and one sender, made from the settings."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import select

from bot import outbox
from bot.config import Settings
from bot.crypto import Crypto
from bot.db import Database
from bot.ledger.models import ItemHistory, RectificationItem, UnitContact
from bot.ledger.service import LedgerService
from bot.outbox import Deliver, RenderEnv, Sender, SendResult
from bot.reminders import digest
from bot.reminders.models import ReminderPlan
from bot.reminders.planner import Planner, PlanResult
from bot.reminders.policy import levels_by_severity, timing_from


class ReminderService:
    """The planner and the outbox's sender, made from the settings (the sender serves every feature)."""

    def __init__(self, settings: Settings, database: Database, crypto: Crypto, ledger: LedgerService):
        self.settings = settings
        self.database = database
        self.crypto = crypto
        self.ledger = ledger
        levels, by_severity = levels_by_severity(settings)
        self.planner = Planner(database, levels, by_severity, timing_from(settings), settings.supervisor_ids,
                               standing_every_days=settings.ledger.standing_progress_every_days)
        self.worker = f"worker-{uuid.uuid4().hex[:12]}"

    async def plan(self, now: datetime | None = None) -> PlanResult:
        return await self.planner.run(now or datetime.now(timezone.utc))

    def sender(self, deliver: Deliver) -> Sender:
        reminders = self.settings.reminders
        env = RenderEnv(self.settings, frozenset(self.settings.supervisor_ids), self.crypto, self.ledger)
        return Sender(self.database, deliver, self.languages, env, worker=self.worker,
                      lease_seconds=reminders.claim_lease_seconds, max_attempts=reminders.max_attempts,
                      concurrency=reminders.sender_concurrency, per_second=reminders.messages_per_second)

    async def send(self, deliver: Deliver, budget_seconds: float = 30.0) -> SendResult:
        return await self.sender(deliver).run(budget_seconds)

    async def languages(self, chat_ids: list[int]) -> dict[int, str]:
        return await outbox.recipient_languages(self.database, self.crypto, chat_ids, self.settings.bot.language)

    async def plan_digest(self, now: datetime) -> str | None:
        """Once this week's digest time has come: one outbox row per supervisor (rendered, in their
        language, when it is sent). The week is planned once; it counts as sent where delivered."""
        week = digest.digest_week(now, self.settings)
        supervisors = sorted(self.settings.supervisor_ids)
        if week is None or not supervisors or await digest.already_planned(self.database, week):
            return None
        if await self.ledger.summary():
            await outbox.enqueue_now(self.database, [outbox.message_row(digest.KIND, f"{week}:{chat_id}", chat_id, now,
                                                                        payload={"week": week})
                                                     for chat_id in supervisors])
        await digest.mark_planned(self.database, week)
        return week

    async def replan_unit(self, unit_id: int, now: datetime | None = None) -> int:
        """A contact has just bound the unit: its open items are planned again at the next pass, so
        that what is due today reaches them today (a pass that found nobody to tell had moved on)."""
        plans, items = ReminderPlan.__table__, RectificationItem.__table__
        today = (now or datetime.now(timezone.utc)).astimezone(self.settings.zone).date()
        async with self.database.transaction() as session:
            result = await session.exec(plans.update().where(
                plans.c.item_id.in_(sa.select(items.c.id).where(items.c.unit_id == unit_id)),
                plans.c.next_on > today).values(next_on=today))
        return result.rowcount

    async def acknowledge(self, item_id: int, chat_id: int, *, now: datetime | None = None) -> bool:
        """A contact confirms a reminder was seen (已知悉); only for an item of their own unit. It
        stops the repeats of the item's current level (see the planner)."""
        async with self.database.transaction() as session:
            item = await session.get(RectificationItem, item_id)
            contact = (await session.exec(select(UnitContact).where(UnitContact.chat_id == chat_id))).first()
            if item is None or contact is None or contact.unit_id != item.unit_id:
                return False
            session.add(ItemHistory(item_id=item_id, at=now or datetime.now(timezone.utc), actor_kind="contact",
                                    actor_id=chat_id, action="reminder_acknowledged"))
        return True
