"""Reminders on the Telegram side: the jobs that plan what to say, and "acknowledge".

The jobs only write to the database (the outbox); `handlers/delivery.py` sends. If the bot
stops between two runs, the next run finds everything where it was.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from telegram import Update
from telegram.ext import Application

from bot.reports import deadlines
from handlers import callback_data as data_of, delivery
from handlers.common import expired_button
from handlers.context import Context

log = logging.getLogger(__name__)
DIGEST_CHECK_SECONDS = 300
REPORT_DEADLINE_CHECK_SECONDS = 3600


def schedule_reminder_jobs(application: Application, settings) -> None:
    reminders = settings.reminders
    queue = application.job_queue
    queue.run_repeating(plan_reminders, interval=reminders.planner_interval_seconds, first=1, name="reminder-planner")
    queue.run_repeating(plan_report_deadlines, interval=REPORT_DEADLINE_CHECK_SECONDS, first=30,
                        name="report-deadlines")
    queue.run_repeating(plan_weekly_digest, interval=DIGEST_CHECK_SECONDS, first=5, name="weekly-digest")
    delivery.schedule(application, reminders.sender_interval_seconds)


async def plan_reminders(context: Context) -> None:
    try:
        await context.services.reminders.plan(datetime.now(timezone.utc))
    except Exception as error:  # the next run tries again; nothing is lost in between
        log.warning("Reminder planner failed: %s", type(error).__name__)


async def plan_report_deadlines(context: Context) -> None:
    """Hourly: reminders before each report deadline, escalation to every supervisor after."""
    try:
        await deadlines.plan(context.services.reports, now=datetime.now(timezone.utc))
    except Exception as error:
        log.warning("Report deadline planner failed: %s", type(error).__name__)


async def plan_weekly_digest(context: Context) -> None:
    """Once a week: the chart and the XLSX for every supervisor, through the outbox."""
    try:
        await context.services.reminders.plan_digest(datetime.now(timezone.utc))
    except Exception as error:
        log.warning("Weekly digest planner failed: %s", type(error).__name__)


async def acknowledge(update: Update, context: Context) -> None:
    """lk:<item>: the contact has seen the reminder; noted in the item's history."""
    query = update.callback_query
    parsed = data_of.ACKNOWLEDGE.parse(query.data)
    chat = update.effective_chat
    if parsed is None or chat is None or not await context.services.reminders.acknowledge(parsed[0], chat.id):
        await expired_button(update, context)
        return
    await query.answer(context._("Noted: the supervisors can see that you have read this reminder."))
