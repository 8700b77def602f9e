"""Deadlines of reports: remind supervisors before each one, escalate when one is missed.

A report must be acknowledged within `reports.acknowledge_within_days` and answered (closed)
within `reports.answer_within_days`, both working days (`bot.workdays`: statutory holidays and
make-up working days counted; the due dates are set at submission). The reminder days come from the `reminders` section
(`before_days`, `on_the_day`, `overdue_every_days`), and the days and hours are worked out by
the reminder engine that serves rectification items (`bot.reminders.policy`: the same slots, the
same catching up after downtime, the same working days and quiet hours). `plan` writes what is
due to the outbox, one row per (report, deadline, stage, supervisor), so nothing is said twice
and nothing is lost across restarts; the words (days left or late) are worked out when the row
is sent (`bot/reports/notices.py`).

At each check only the most recent stage of a deadline is due: a bot that was down for a
week sends one reminder, not seven. Reminders before a deadline go to the supervisors of the
report's category; a missed deadline is escalated to every supervisor.
"""

from __future__ import annotations

from datetime import date, datetime

from bot import outbox
from bot.config import ReminderPolicy, Settings
from bot.reminders.policy import DUE, OVERDUE, Policy, timing_from
from bot.reports.service import ReportService

KIND = "report_deadline"


def stage_for(due: date, today: date, policy: ReminderPolicy | Policy) -> str | None:
    """The latest reminder slot of a deadline reached by today, as a stage name, or None. A
    missed deadline is "overdue" from the first day (and escalated), then at the policy's pace."""
    if not isinstance(policy, Policy):
        policy = Policy(tuple(policy.before_days), policy.on_the_day, policy.overdue_every_days, 0)
    slots = policy.latest_due(due, today)
    if today > due:
        late = [offset for kind, offset in slots if kind == OVERDUE]
        return f"overdue-{max(late) if late else 0}"
    if not slots:
        return None
    kind, offset = max(slots, key=lambda slot: slot[1])
    return "due" if kind == DUE else f"before-{-offset}"


def sending_time(settings: Settings, now: datetime) -> bool:
    """Reminders go out on working days (holidays skipped, 调休 days used), from `reminders.send_at`,
    outside quiet hours."""
    timing = timing_from(settings)
    today = now.astimezone(settings.zone).date()
    return timing.send_time(today) <= now and timing.outside_quiet_hours(now) == now


async def plan(service: ReportService, *, now: datetime) -> int:
    """Write today's deadline reminders to the outbox: before a deadline to the supervisors of the
    report's category, a missed one escalated to every supervisor. Returns the rows offered."""
    settings = service.settings
    if not sending_time(settings, now):
        return 0
    today = now.astimezone(settings.zone).date()
    everyone = sorted(settings.supervisor_ids)
    rows = []
    for report_id, category, deadline, due in await service.open_deadlines():
        stage = stage_for(due, today, settings.reminders)
        if stage is None:
            continue
        recipients = everyone if stage.startswith("overdue") else service.supervisors_for(category)
        rows += [outbox.message_row(KIND, f"{report_id}:{deadline}:{stage}:{chat_id}", chat_id, now,
                                    payload={"report_id": report_id, "deadline": deadline})
                 for chat_id in recipients]
    await outbox.enqueue_now(service.database, rows)
    return len(rows)
