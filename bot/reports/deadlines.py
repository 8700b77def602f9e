"""Deadlines of reports: remind supervisors before each one, escalate when one is missed.

A report must be acknowledged within `reports.acknowledge_within_days` and answered (closed)
within `reports.answer_within_days`. The reminder days come from the `reminders` section
(`before_days`, `on_the_day`, `overdue_every_days`), and the days and hours are worked out by
the reminder engine that serves rectification items (`bot.reminders.policy`: the same slots, the
same catching up after downtime, the same working days and quiet hours). Delivery differs: a
report is not a ledger item, so instead of the ledger's outbox the job asks `due_reminders` for
what should be said today and `mark_sent` records it (`report_deadline_notice`), so that nothing
is sent twice and nothing is lost across restarts.

At each check only the most recent stage of a deadline is due: a bot that was down for a
week sends one reminder, not seven. Reminders before a deadline go to the supervisors of the
report's category; a missed deadline is escalated to every supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import ReminderPolicy, Settings
from bot.reminders.policy import DUE, OVERDUE, Policy, timing_from
from bot.reports.models import ReportDeadlineNotice
from bot.reports.service import ReportService


@dataclass(frozen=True)
class DeadlineReminder:
    report_id: int
    category: str
    deadline: str  # "acknowledge" or "answer"
    due: date
    stage: str
    days: int  # days left (before), 0 (on the day), days late (overdue)
    escalated: bool
    recipients: list[int]


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
    """Reminders go out on working days, from `reminders.send_at`, outside quiet hours."""
    timing = timing_from(settings)
    today = now.astimezone(settings.zone).date()
    return timing.send_time(today) <= now and timing.outside_quiet_hours(now) == now


async def due_reminders(service: ReportService, *, now: datetime) -> list[DeadlineReminder]:
    """What should be said today about running deadlines and has not been said yet."""
    settings = service.settings
    today = now.astimezone(settings.zone).date()
    everyone = sorted(settings.supervisor_ids)
    candidates = []
    for report_id, category, deadline, due in await service.open_deadlines():
        stage = stage_for(due, today, settings.reminders)
        if stage is not None:
            candidates.append((report_id, category, deadline, due, stage))
    if not candidates:
        return []
    async with service.database.session() as session:
        sent = set((await session.exec(
            select(ReportDeadlineNotice.report_id, ReportDeadlineNotice.deadline, ReportDeadlineNotice.stage)
            .where(ReportDeadlineNotice.report_id.in_(sorted({c[0] for c in candidates}))))).all())
    result = []
    for report_id, category, deadline, due, stage in candidates:
        if (report_id, deadline, stage) in sent:
            continue
        escalated = stage.startswith("overdue")
        result.append(DeadlineReminder(
            report_id=report_id, category=category, deadline=deadline, due=due, stage=stage,
            days=abs((due - today).days), escalated=escalated,
            recipients=everyone if escalated else service.supervisors_for(category)))
    return result


async def mark_sent(service: ReportService, reminder: DeadlineReminder) -> None:
    try:
        async with service.database.transaction() as session:
            session.add(ReportDeadlineNotice(report_id=reminder.report_id, deadline=reminder.deadline,
                                             stage=reminder.stage))
    except IntegrityError:  # already marked (or the report was purged meanwhile): nothing to do
        pass
