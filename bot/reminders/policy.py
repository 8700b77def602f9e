"""When reminders are due: pure date arithmetic on the policy in config.yaml, no I/O.

Rectification items go by warning levels (`Levels`, 三色预警: green, yellow, red, in working or
calendar days; see the section "levels" below). Report deadlines go by the older per-slot
`Policy`, described here:

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


def timing_from(settings) -> Timing:
    reminders = settings.reminders
    return Timing(settings.zone, reminders.send_at, reminders.quiet_hours.start, reminders.quiet_hours.end,
                  frozenset(reminders.working_days), calendar_from(settings))


# ---- levels (三色预警): what the rectification reminders use ---------------------------------

GREEN, YELLOW, RED = "green", "yellow", "red"
WINDOW_DAYS = 400  # working days are counted from a table this many days either side of today


class DayCount:
    """Days between two dates as the policy counts them: calendar days, or working days of the
    calendar (holidays out, make-up days in), looked up in a table so a pass over 100,000 items
    costs no more than with calendar days."""

    def __init__(self, calendar: WorkCalendar | None):
        self.calendar = calendar        # None: calendar days
        self._start: date | None = None
        self._upto: list[int] = []      # working days from the window's start up to and including each day
        self._working: list[date] = []

    @property
    def working(self) -> bool:
        return self.calendar is not None

    def _window(self, *days: date) -> bool:
        """Whether the table covers these days (made around the first when it does not)."""
        if self._start is None or not all(0 <= (d - self._start).days < len(self._upto) for d in days):
            self._start = days[0] - timedelta(days=WINDOW_DAYS)
            self._upto, self._working, total = [], [], 0
            for offset in range(2 * WINDOW_DAYS + 1):
                day = self._start + timedelta(days=offset)
                if self.calendar.is_working_day(day):
                    total += 1
                    self._working.append(day)
                self._upto.append(total)
        return all(0 <= (d - self._start).days < len(self._upto) for d in days)

    def between(self, start: date, end: date) -> int:
        """Days after `start` up to and including `end` (negative when `end` is earlier)."""
        if self.calendar is None:
            return (end - start).days
        if not self._window(start, end):
            return self.calendar.working_days_between(start, end)
        return self._upto[(end - self._start).days] - self._upto[(start - self._start).days]

    def left_from(self, deadline: date, left: int) -> date:
        """The first day on which `left` days (or fewer) are left before `deadline`."""
        counted = self.calendar is None or self.calendar.is_working_day(deadline)
        return self.add(deadline, -left if counted else -(left + 1))

    def add(self, day: date, n: int) -> date:
        """The n-th day after `day` (before it when n < 0) as counted; `day` itself for n == 0."""
        if self.calendar is None:
            return day + timedelta(days=n)
        if n == 0:
            return day
        if self._window(day):
            upto = self._upto[(day - self._start).days]
            index = upto + n - 1 if n > 0 else upto - int(self.calendar.is_working_day(day)) + n
            if 0 <= index < len(self._working):
                return self._working[index]
        return self.calendar.add_working_days(day, n)


@dataclass(frozen=True)
class Standing:
    """Where an item stands on a day, in the policy's days."""

    level: str | None      # green, yellow, red; None: too early for any reminder
    days: int              # days left (before the deadline), or days overdue
    overdue: bool
    slot: int = 0          # which reminder of the level this day is (0: the first)
    last_before: bool = False  # no day left, but the deadline is a later day off: today is the last day to act

    @property
    def due_today(self) -> bool:
        return not self.overdue and self.days == 0


@dataclass(frozen=True)
class Levels:
    """Green from `green_days` before the deadline, yellow from `yellow_days` before (through the
    deadline day), red from the first day overdue; each repeated every `*_every` days (0: once;
    red at least every day). Days are working days when `working`."""

    green_days: int = 5
    green_every: int = 0
    yellow_days: int = 2
    yellow_every: int = 1
    red_every: int = 3
    working: bool = True

    def standing(self, deadline: date, today: date, count: DayCount) -> Standing:
        if today > deadline:
            late = max(1, count.between(deadline, today))  # the first day overdue counts, weekend or not
            return Standing(RED, late, True, (late - 1) // self.red_every)
        left = count.between(today, deadline)
        for level, start, every in ((YELLOW, self.yellow_days, self.yellow_every),
                                    (GREEN, self.green_days, self.green_every)):
            if left <= start:
                return Standing(level, left, False, (start - left) // every if every else 0,
                                last_before=left == 0 and today < deadline)
        return Standing(None, left, False)

    def key(self, deadline: date, day: date, count: DayCount) -> str | None:
        """The reminder slot of `day` (e.g. "yellow1"), None when none is due."""
        found = self.standing(deadline, day, count)
        return f"{found.level}{found.slot}" if found.level else None

    def level_start(self, level: str, deadline: date, count: DayCount) -> date:
        if level == RED:
            return deadline + timedelta(days=1)
        return count.left_from(deadline, self.yellow_days if level == YELLOW else self.green_days)

    def next_day_after(self, deadline: date, today: date, count: DayCount) -> date:
        """The first day after `today` that starts a new slot (there is always one: red repeats)."""
        if today >= deadline:
            late = max(1, count.between(deadline, today)) if today > deadline else 0
            following = deadline + timedelta(days=1) if late == 0 else \
                count.add(deadline, 1 + ((late - 1) // self.red_every + 1) * self.red_every)
            return max(following, today + timedelta(days=1))
        days = []
        for start, every, until in ((self.green_days, self.green_every, self.yellow_days),
                                    (self.yellow_days, self.yellow_every, -1)):
            if start <= until:
                continue
            left = start
            while left > until:
                days.append(count.left_from(deadline, left))
                if not every:
                    break
                left -= every
        days.append(deadline + timedelta(days=1))
        return min(d for d in days if d > today)


def levels_of(settings, severity: str | None = None) -> Levels:
    chosen = settings.reminders.levels.for_severity(severity)
    return Levels(chosen.green.days_before, chosen.green.every_days, chosen.yellow.days_before,
                  chosen.yellow.every_days, chosen.red.every_days, chosen.count == "working")


def levels_by_severity(settings) -> tuple[Levels, dict[str, Levels]]:
    return levels_of(settings), {name: levels_of(settings, name) for name in settings.reminders.levels.severity}


def levels_from_old(policy: Policy) -> Levels:
    """The levels an old per-slot policy (before_days ...) meant, in calendar days."""
    days = sorted(policy.before_days, reverse=True) or [0]
    return Levels(green_days=days[0], green_every=0, yellow_days=days[-1] if len(days) > 1 else 0,
                  yellow_every=1, red_every=policy.overdue_every_days, working=False)
