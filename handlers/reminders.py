"""Reminders on the Telegram side: the jobs that plan and send them, delivery, and "acknowledge".

The jobs only start work that lives in the database (bot/reminders): if the bot stops between
two runs, the next run finds everything where it was.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.reminders.sender import Delivery, Outcome
from handlers.common import buttons
from handlers.context import Context

log = logging.getLogger(__name__)
SEND_BUDGET_SECONDS = 50  # one sender run; the next starts when it ends
DIGEST_CHECK_SECONDS = 300
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights", "not a member")


def schedule_reminder_jobs(application: Application, settings) -> None:
    reminders = settings.reminders
    queue = application.job_queue
    queue.run_repeating(plan_reminders, interval=reminders.planner_interval_seconds, first=1, name="reminder-planner")
    queue.run_repeating(send_weekly_digest, interval=DIGEST_CHECK_SECONDS, first=5, name="weekly-digest")
    queue.run_repeating(send_reminders, interval=reminders.sender_interval_seconds, first=2, name="reminder-sender",
                        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None})


async def plan_reminders(context: Context) -> None:
    try:
        await context.services.reminders.plan(datetime.now(timezone.utc))
    except Exception as error:  # the next run tries again; nothing is lost in between
        log.warning("Reminder planner failed: %s", type(error).__name__)


async def send_reminders(context: Context) -> None:
    bot = context.bot

    async def deliver(chat_id: int, text: str, rows: list[list[tuple[str, str]]]) -> Delivery:
        keyboard = buttons(rows)
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except Forbidden as error:
            return Delivery(Outcome.BLOCKED, error=str(error))
        except RetryAfter as error:
            retry = error.retry_after
            return Delivery(Outcome.RETRY, getattr(retry, "total_seconds", lambda: retry)(), "429")
        except BadRequest as error:
            gone = any(reason in str(error).lower() for reason in GONE)
            return Delivery(Outcome.BLOCKED if gone else Outcome.FAILED, error=str(error))
        except (NetworkError, TelegramError) as error:
            return Delivery(Outcome.RETRY, error=type(error).__name__)
        return Delivery(Outcome.SENT)

    try:
        await context.services.reminders.send(deliver, SEND_BUDGET_SECONDS)
    except Exception as error:  # a database outage: the rows stay pending and are sent later
        log.warning("Reminder sender failed: %s", type(error).__name__)


async def send_weekly_digest(context: Context) -> None:
    """Once a week: the chart and the XLSX to every supervisor, in their language."""
    services = context.services
    due = await services.reminders.due_digests(services.ledger, datetime.now(timezone.utc))
    if due is None:
        return
    week, digests = due
    for supervisor, digest in digests.items():
        try:
            await context.bot.send_photo(supervisor, digest.chart_png, caption=digest.text[:1024], parse_mode=ParseMode.HTML)
            await context.bot.send_document(supervisor, digest.spreadsheet, filename=f"ledger-{week}.xlsx")
        except TelegramError as error:  # one supervisor's chat must not hold up the others
            log.warning("Weekly digest not delivered to a supervisor: %s", type(error).__name__)
    await services.reminders.digest_sent(week)


async def acknowledge(update: Update, context: Context) -> None:
    """lk:<item>: the contact has seen the reminder; noted in the item's history."""
    query = update.callback_query
    match = re.fullmatch(r"lk:(\d{1,12})", query.data or "")
    chat = update.effective_chat
    if match is None or chat is None or not await context.services.reminders.acknowledge(int(match[1]), chat.id):
        await query.answer(context._("This button has expired."))
        return
    await query.answer(context._("Noted: the supervisors can see that you have read this reminder."))
