"""Working days: China's statutory holidays and make-up working days (调休), plus the config's own.

A day is a working day when, in this order:
1. it is listed in `calendar.extra_working_days` (yes) or `calendar.extra_holidays` (no);
2. `calendar.statutory` is on and the `chinese-calendar` package knows the year: a statutory
   holiday (春节, 国庆节…, including the weekend days inside the holiday) is not a working day, a
   make-up working day (调休, e.g. a Saturday before National Day) is one;
3. otherwise its ISO weekday is one of the office week (`reminders.working_days`, Monday–Friday
   by default).

`chinese-calendar` knows the years the State Council has published (it raises
NotImplementedError for the others): for a year it does not know the office week and the config
entries are used, and one warning is logged per year and process (`warn_if_unknown` does it at
start, for the current and the coming year). A new year's holidays come with a new release of
the package (`pip install -U chinese-calendar`), or can be written into the config meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)

OFFICE_WEEK = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, Monday = 1
MAX_SEARCH_DAYS = 3660  # no run of days off is this long; bounds every search

_warned_years: set[int] = set()  # one warning per unknown year and process


class WorkCalendar:
    """Which days are working days; date arithmetic in working days."""

    def __init__(self, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = (), *,
                 statutory: bool = True, weekdays: Iterable[int] = OFFICE_WEEK) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        both = self.extra_holidays & self.extra_working_days
        if both:
            raise ValueError(f"days listed both as holidays and as working days: {sorted(both)}")
        self.statutory = statutory
        self.weekdays = frozenset(weekdays) or frozenset(range(1, 8))  # none listed: every day
        self._cache: dict[date, bool] = {}

    def __repr__(self) -> str:
        return (f"WorkCalendar(extra_holidays={sorted(self.extra_holidays)}, "
                f"extra_working_days={sorted(self.extra_working_days)}, statutory={self.statutory}, "
                f"weekdays={sorted(self.weekdays)})")

    def knows(self, year: int) -> bool:
        """Whether the statutory calendar of `year` is known (always False with statutory off)."""
        return self.statutory and knows_year(year)

    def is_working_day(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._decide(day)
        return cached

    def _decide(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        if self.statutory:
            try:
                off, festival = chinese_calendar.get_holiday_detail(day)
            except NotImplementedError:
                _warn_unknown(day.year)
            else:
                if festival is not None:  # a statutory holiday, or a make-up working day (调休)
                    return not off
        return day.isoweekday() in self.weekdays

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day in ten years: check calendar and reminders.working_days")

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0.
        `day` need not be a working day: 5 working days from a holiday are counted from the
        first working day after it."""
        step = timedelta(days=1 if n >= 0 else -1)
        left, idle = abs(n), 0
        while left:
            day += step
            if self.is_working_day(day):
                left, idle = left - 1, 0
            else:
                idle += 1
                if idle > MAX_SEARCH_DAYS:
                    raise ValueError("no working day in ten years: check calendar and reminders.working_days")
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start), so
        that `working_days_between(d, add_working_days(d, n)) == n`."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for offset in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=offset)))


def knows_year(year: int) -> bool:
    """Whether the installed `chinese-calendar` has the statutory holidays of `year`."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _warn_unknown(*years: int) -> bool:
    """One warning naming the years not warned about yet; False when there were none."""
    fresh = sorted(set(years) - _warned_years)
    if not fresh:
        return False
    _warned_years.update(fresh)
    log.warning("The holiday calendar (chinese-calendar %s) does not know %s: statutory holidays and "
                "make-up working days (调休) are not counted there; working days are the office week "
                "(reminders.working_days) plus calendar.extra_working_days, minus calendar.extra_holidays. "
                "Update the package (pip install -U chinese-calendar) or list the days in config.yaml.",
                getattr(chinese_calendar, "__version__", "?"), ", ".join(str(year) for year in fresh))
    return True


def warn_if_unknown(calendar: WorkCalendar, today: date) -> list[int]:
    """At start: one warning when the statutory calendar does not know the current or the coming
    year. Returns those years (none when `calendar.statutory` is off)."""
    if not calendar.statutory:
        return []
    missing = [year for year in (today.year, today.year + 1) if not knows_year(year)]
    _warn_unknown(*missing)
    return missing


def calendar_from(settings) -> WorkCalendar:
    """The calendar the config describes (`calendar` section, office week from `reminders.working_days`)."""
    section = settings.calendar
    return WorkCalendar(section.extra_holidays, section.extra_working_days, statutory=section.statutory,
                        weekdays=settings.reminders.working_days)
