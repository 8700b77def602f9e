"""Reminders as the running bot uses them: one planner and one sender, made from the settings."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlmodel import select

from bot.config import Settings
from bot import preferences
from bot.crypto import Crypto
from bot.db import Database
from bot.ledger.models import ItemHistory, RectificationItem, UnitContact
from bot.reminders.planner import Planner, PlanResult
from bot.reminders.policy import policies_from, timing_from
from bot.reminders.sender import Deliver, Sender, SendResult


class ReminderService:
    def __init__(self, settings: Settings, database: Database, crypto: Crypto):
        self.settings = settings
        self.database = database
        self.crypto = crypto
        policy, by_severity = policies_from(settings)
        self.planner = Planner(database, policy, by_severity, timing_from(settings), settings.supervisor_ids)
        self.worker = f"worker-{uuid.uuid4().hex[:12]}"

    async def plan(self, now: datetime | None = None) -> PlanResult:
        return await self.planner.run(now or datetime.now(timezone.utc))

    def sender(self, deliver: Deliver) -> Sender:
        reminders = self.settings.reminders
        return Sender(self.database, deliver, self.languages, worker=self.worker,
                      supervisors=self.settings.supervisor_ids, zone=self.settings.zone,
                      lease_seconds=reminders.claim_lease_seconds, max_attempts=reminders.max_attempts,
                      concurrency=reminders.sender_concurrency, per_second=reminders.messages_per_second)

    async def send(self, deliver: Deliver, budget_seconds: float = 30.0) -> SendResult:
        return await self.sender(deliver).run(budget_seconds)

    async def languages(self, chat_ids: list[int]) -> dict[int, str]:
        return await preferences.languages(self.database, self.crypto, chat_ids, self.settings.bot.language)

    async def acknowledge(self, item_id: int, chat_id: int) -> bool:
        """A contact confirms a reminder was seen; only for an item of their own unit."""
        async with self.database.transaction() as session:
            item = await session.get(RectificationItem, item_id)
            contact = (await session.exec(select(UnitContact).where(UnitContact.chat_id == chat_id))).first()
            if item is None or contact is None or contact.unit_id != item.unit_id:
                return False
            session.add(ItemHistory(item_id=item_id, at=datetime.now(timezone.utc), actor_kind="contact",
                                    actor_id=chat_id, action="reminder_acknowledged"))
        return True
