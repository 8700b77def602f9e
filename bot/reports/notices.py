"""The words of the outbox messages about reports, written when each is sent.

A notice names the report's category and the unit or place the reporter typed (never the text).
A deadline reminder is worked out on the day it is delivered: a deadline met since it was
planned says nothing, and the days left or late are those of that day.
"""

from __future__ import annotations

import html
import json
from datetime import datetime

import sqlalchemy as sa

from bot.i18n import N_, translator
from bot.outbox import Claimed, Rendered, RenderEnv, renderer
from bot.reports.deadlines import KIND as DEADLINE
from bot.reports.models import Report
from bot.reports.states import ACTIVE, Status

NOTICES = {
    "report_new": N_("📨 <b>New report #{id}</b>\nCategory: {category}\nUnit or place: {unit}"),
    "report_reply": N_("💬 <b>The reporter of #{id} wrote or added a file.</b>\nCategory: {category}\n"
                       "Unit or place: {unit}"),
    "report_dispute": N_("⚖️ <b>The reporter of #{id} disputes the outcome.</b> Open the report to read why; "
                         "you may reopen it.\nCategory: {category}\nUnit or place: {unit}"),
}
DEADLINE_MESSAGES = {
    ("acknowledge", "before"): N_("⏰ Report #{id} ({category}) must be acknowledged by {due}: "
                                  "{days} working day(s) left."),
    ("acknowledge", "today"): N_("⏰ Report #{id} ({category}) must be acknowledged today ({due})."),
    ("acknowledge", "missed"): N_("⚠️ <b>Deadline missed</b>: report #{id} ({category}) should have been "
                                  "acknowledged by {due}, {days} working day(s) ago."),
    ("answer", "before"): N_("⏰ Report #{id} ({category}) must be answered by {due}: {days} working day(s) left."),
    ("answer", "today"): N_("⏰ Report #{id} ({category}) must be answered today ({due})."),
    ("answer", "missed"): N_("⚠️ <b>Deadline missed</b>: report #{id} ({category}) should have been "
                             "answered by {due}, {days} working day(s) ago."),
}


def _category(env: RenderEnv, category_id: str, language: str) -> str:
    for category in env.settings.reports.categories:
        if category.id == category_id:
            return getattr(category.label, language, category.label.zh)
    return category_id


async def _report(connection, report_id: int):
    table = Report.__table__
    return (await connection.execute(sa.select(table).where(table.c.id == report_id))).first()


def _open_button(language: str, report_id: int) -> list[list[tuple[str, str]]]:
    _ = translator(language)
    return [[(_("Open report"), f"rc:{report_id}")]]


@renderer(*NOTICES, erase_when_sent=True)
async def render_notice(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    report = await _report(connection, row.payload["report_id"])
    if report is None:
        return None
    _ = translator(language)
    unit = json.loads(env.crypto.decrypt(report.content_token))["unit"]
    text = _(NOTICES[row.kind], id=report.id, category=html.escape(_category(env, report.category, language)),
             unit=html.escape(unit))
    if row.kind == "report_new" and Status(report.status) is Status.NEW:  # the deadlines that now run
        text += "\n" + _("Acknowledge it by {acknowledge}, answer it by {answer}.",
                         acknowledge=report.acknowledge_due.isoformat(), answer=report.answer_due.isoformat())
    return Rendered(text, _open_button(language, report.id))


@renderer(DEADLINE)
async def render_deadline(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    report = await _report(connection, row.payload["report_id"])
    deadline = row.payload["deadline"]
    if report is None or Status(report.status) not in ACTIVE:
        return None
    if deadline == "acknowledge" and Status(report.status) is not Status.NEW:
        return None  # acknowledged since the reminder was planned
    due = report.acknowledge_due if deadline == "acknowledge" else report.answer_due
    today = env.today(now)
    stage = "before" if due > today else "today" if due == today else "missed"
    # Said in working days, as the deadline was set (the new-report notice says "5 working days").
    days = max(abs(env.calendar.working_days_between(today, due)), 1 if stage != "today" else 0)
    _ = translator(language)
    text = _(DEADLINE_MESSAGES[deadline, stage], id=report.id,
             category=html.escape(_category(env, report.category, language)), due=due.isoformat(), days=abs(days))
    return Rendered(text, _open_button(language, report.id))
