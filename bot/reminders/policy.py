"""When reminders are due: pure date arithmetic on the policy in config.yaml, no I/O.

A deadline has slots, each a (kind, offset in days from the deadline): "before" at -7, -3, -1;
"due" on the day; "overdue" every N days after it; "escalation" once, M days after. A reminder
is planned on its slot's day and sent at `send_at` local time, moved to the next working day
(statutory holidays skipped, make-up working days (调休) used: `bot.workdays`), and held until quiet hours end. After downtime only the latest missed slot is sent: one
reminder that says where things stand, not a burst of stale ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.workdays import WorkCalendar, calendar_from

BEFORE, DUE, OVERDUE, ESCALATION = "before", "due", "overdue", "escalation"
HORIZON_DAYS = 3660  # no item stays overdue for ten years; bounds the slot search


@dataclass(frozen=True)
class Policy:
    before_days: tuple[int, ...] = (7, 3, 1)
    on_the_day: bool = True
    overdue_every_days: int = 3
    escalate_after_days: int = 7

    def latest_due(self, deadline: date, today: date) -> list[tuple[str, int]]:
        """The most recent slot on or before `today` of each kind that is still worth sending:
        a reminder before the deadline only while it is still ahead, the escalation once."""
        offset = (today - deadline).days
        due: list[tuple[str, int]] = []
        if offset < 0:
            passed = [-d for d in self.before_days if -d <= offset]
            if passed:
                due.append((BEFORE, max(passed)))
            return due
        if offset == 0:
            return [(DUE, 0)] if self.on_the_day else []
        every = self.overdue_every_days
        if offset >= every:
            due.append((OVERDUE, offset - offset % every))
        elif self.on_the_day:
            due.append((DUE, 0))  # the due-day reminder missed during downtime, sent late once
        if offset >= self.escalate_after_days > 0:
            due.append((ESCALATION, self.escalate_after_days))
        return due

    def next_day_after(self, deadline: date, today: date) -> date | None:
        """The first day after `today` with a slot; None when no slot is left."""
        offset = (today - deadline).days
        candidates = [-d for d in self.before_days if -d > offset]
        if self.on_the_day and offset < 0:
            candidates.append(0)
        every = self.overdue_every_days
        candidates.append(max(offset + 1, 1) + (-max(offset + 1, 1)) % every)
        if self.escalate_after_days > offset and self.escalate_after_days > 0:
            candidates.append(self.escalate_after_days)
        upcoming = min(c for c in candidates if c > offset)
        return deadline + timedelta(days=upcoming) if upcoming <= HORIZON_DAYS else None


@dataclass(frozen=True)
class Timing:
    """When, on a given day, a reminder may go out."""

    zone: ZoneInfo
    send_at: time = time(9, 0)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    working_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    # The holidays and make-up days; None: the weekdays above only (no holidays).
    calendar: WorkCalendar | None = field(default=None, compare=False)

    def is_working_day(self, day: date) -> bool:
        if self.calendar is not None:
            return self.calendar.is_working_day(day)
        return day.isoweekday() in self.working_days or not self.working_days

    def send_time(self, day: date) -> datetime:
        """`send_at` on `day`, or on the next working day, outside quiet hours; in UTC."""
        if self.calendar is not None:
            day = self.calendar.next_working_day(day)
        else:
            for _ in range(14):
                if self.is_working_day(day):
                    break
                day += timedelta(days=1)
        moment = datetime.combine(day, self.send_at, tzinfo=self.zone)
        return self.outside_quiet_hours(moment).astimezone(timezone.utc)

    def outside_quiet_hours(self, moment: datetime) -> datetime:
        """`moment`, or the end of the quiet hours it falls in (quiet hours may span midnight)."""
        local = moment.astimezone(self.zone)
        clock = local.time()
        if self.quiet_start == self.quiet_end:
            return moment
        if self.quiet_start < self.quiet_end:
            quiet = self.quiet_start <= clock < self.quiet_end
            end_day = local.date()
        else:
            quiet = clock >= self.quiet_start or clock < self.quiet_end
            end_day = local.date() + timedelta(days=1) if clock >= self.quiet_start else local.date()
        if not quiet:
            return moment
        return datetime.combine(end_day, self.quiet_end, tzinfo=self.zone)


def policies_from(settings) -> tuple[Policy, dict[str, Policy]]:
    """The default policy and the per-severity ones; an override changes only the fields it names."""
    reminders = settings.reminders
    default = Policy(tuple(reminders.before_days), reminders.on_the_day, reminders.overdue_every_days,
                     reminders.escalate_after_days)
    by_severity = {}
    for severity, override in reminders.severity.items():
        changes = {name: getattr(override, name) for name in override.model_fields_set}
        if "before_days" in changes:
            changes["before_days"] = tuple(changes["before_days"])
        by_severity[severity] = Policy(**{**default.__dict__, **changes})
    return default, by_severity


def timing_from(settings) -> Timing:
    reminders = settings.reminders
    return Timing(settings.zone, reminders.send_at, reminders.quiet_hours.start, reminders.quiet_hours.end,
                  frozenset(reminders.working_days), calendar_from(settings))
