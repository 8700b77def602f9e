"""The long-lived services of a running bot, created at start and closed at shutdown.

Nothing here knows Telegram: handlers receive this object and call into it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from bot import charts, db, preferences, workdays
from bot.pending import PendingInputs
from bot.config import Settings
from bot.crypto import Crypto, load_or_create_local_key
from bot.knowledge.service import KnowledgeService
from bot.ledger.service import LedgerService
from bot.reminders.service import ReminderService
from bot.reports import keys
from bot.reports.service import ReportService
# Outbox renderers register themselves when their modules are imported.
import bot.ledger.notices  # noqa: E402,F401
import bot.ledger.workspace_notices  # noqa: E402,F401
import bot.reminders.digest  # noqa: E402,F401
import bot.reminders.messages  # noqa: E402,F401
import bot.reports.notices  # noqa: E402,F401

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database: db.Database
    crypto: Crypto
    knowledge: KnowledgeService
    reports: ReportService
    ledger: LedgerService
    reminders: ReminderService
    pending: PendingInputs

    @classmethod
    async def start(cls, settings: Settings) -> "Services":
        """Connect and check everything a bot needs before it talks to Telegram."""
        crypto = make_crypto(settings)
        knowledge_settings = settings.knowledge
        # A broken knowledge base stops the start with every problem listed (KnowledgeError).
        knowledge = KnowledgeService(settings.path(knowledge_settings.path), None,
                                     answer_threshold=knowledge_settings.answer_threshold,
                                     suggest_threshold=knowledge_settings.suggest_threshold,
                                     cache_file=settings.data_dir / "knowledge.cache")
        database = db.Database.connect(settings.database_url, echo=settings.database.echo)
        try:
            await db.prepare(database, auto_upgrade=settings.database.auto_upgrade)
            crypto = await keys.with_lookup_secret(database, crypto)  # keyed hashes outlive key rotation
        except Exception:
            await database.dispose()
            raise
        knowledge.database = database
        reports = ReportService(settings=settings, database=database, crypto=crypto)
        ledger = LedgerService(settings=settings, database=database)
        services = cls(settings=settings, database=database, crypto=crypto, knowledge=knowledge, reports=reports,
                       ledger=ledger, reminders=ReminderService(settings, database, crypto, ledger),
                       pending=PendingInputs(database, crypto))
        # One warning when the holiday calendar does not know this year or the next.
        workdays.warn_if_unknown(workdays.calendar_from(settings), datetime.now(settings.zone).date())
        await asyncio.to_thread(charts.check_fonts)  # the CJK font for charts, or one warning that there is none
        log.info("Services ready (database %s)", db.safe_url(settings.database_url))
        return services

    async def close(self) -> None:
        await self.database.dispose()

    def is_supervisor(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.supervisor_ids

    def user_key(self, user_id: int) -> str:
        """The keyed hash that stands for a user wherever a per-user row is unavoidable."""
        return preferences.user_key(self.crypto, user_id)



def make_crypto(settings: Settings) -> Crypto:
    keys = settings.encryption_keys() or [load_or_create_local_key(settings.data_dir)]
    return Crypto(keys)
