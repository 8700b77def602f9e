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
from bot.ledger.service import LedgerService
from bot.reminders.digest import Digest, already_sent, digest_for, digest_week, mark_sent, spreadsheet_of
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

    async def due_digests(self, ledger: LedgerService, now: datetime) -> tuple[str, dict[int, Digest]] | None:
        """This week's digest for each supervisor, in their language, once its time has come and
        if it was not sent yet; None otherwise. An empty ledger counts as this week's digest."""
        week = digest_week(now, self.settings)
        supervisors = sorted(self.settings.supervisor_ids)
        if week is None or not supervisors or await already_sent(self.database, week):
            return None
        summary = await ledger.summary()
        if not summary:
            await mark_sent(self.database, week)
            return None
        spreadsheet = await spreadsheet_of(ledger)
        languages = await self.languages(supervisors)
        by_language = {language: digest_for(summary, spreadsheet, week, language) for language in set(languages.values())}
        return week, {supervisor: by_language[languages[supervisor]] for supervisor in supervisors}

    async def digest_sent(self, week: str) -> None:
        await mark_sent(self.database, week)

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
