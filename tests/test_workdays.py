"""Working days: statutory holidays and make-up working days (调休), config entries, unknown years;
used by the reminders' sending time and the report deadlines."""

from __future__ import annotations

import inspect
import logging
from datetime import date, datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from bot import workdays
from bot.config import ConfigError, load_settings
from bot.reminders.planner import Planner
from bot.reminders.policy import BEFORE, Policy, Timing, timing_from
from bot.reports import deadlines
from bot.services import Services
from bot.workdays import WorkCalendar, calendar_from, warn_if_unknown
from tests.test_reminders import outbox, seed
from tests.test_reports_supervisor import service, submit  # noqa: F401  (the `service` fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY_2026 = [date(2026, 10, day) for day in range(1, 8)]
# The make-up working days (调休) of 2026, as chinese_calendar has them (checked below).
SPRING_FESTIVAL_MAKEUP = [date(2026, 2, 14), date(2026, 2, 28)]  # Saturdays
NATIONAL_DAY_MAKEUP = [date(2026, 9, 20), date(2026, 10, 10)]  # a Sunday and a Saturday
UNKNOWN_YEAR = 2100  # chinese_calendar raises NotImplementedError for it


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(workdays, "_warned_years", set())


def weekend_workdays(start: date, end: date) -> list[date]:
    return [day for day in chinese_calendar.get_workdays(start, end) if day.isoweekday() >= 6]


def timing(calendar: WorkCalendar | None = None) -> Timing:
    return Timing(SHANGHAI, send_at=clock(9, 0), quiet_start=clock(22, 0), quiet_end=clock(8, 0),
                  working_days=frozenset({1, 2, 3, 4, 5}), calendar=calendar or WorkCalendar())


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # SQLite gives naive UTC back
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


# ---- the calendar ------------------------------------------------------------------------------

def test_the_national_day_week_is_not_working():
    calendar = WorkCalendar()
    assert [calendar.is_working_day(day) for day in NATIONAL_DAY_2026] == [False] * 7
    assert calendar.is_working_day(date(2026, 10, 8))
    assert not calendar.is_working_day(date(2026, 2, 16))  # 春节 on a Monday


def test_make_up_weekend_days_are_working_days():
    # The dates come from chinese_calendar itself, not from memory.
    assert weekend_workdays(date(2026, 2, 1), date(2026, 3, 15)) == SPRING_FESTIVAL_MAKEUP
    assert weekend_workdays(date(2026, 9, 1), date(2026, 10, 31)) == NATIONAL_DAY_MAKEUP
    calendar = WorkCalendar()
    for day in SPRING_FESTIVAL_MAKEUP + NATIONAL_DAY_MAKEUP:
        assert day.isoweekday() >= 6 and calendar.is_working_day(day), day
    assert not calendar.is_working_day(date(2026, 10, 11))  # the Sunday after: an ordinary one


def test_adding_and_counting_working_days():
    calendar = WorkCalendar()
    wednesday = date(2026, 9, 30)
    # Thu 8, Fri 9, Sat 10 (调休), Mon 12, Tue 13 October.
    assert calendar.add_working_days(wednesday, 5) == date(2026, 10, 13)
    assert calendar.add_working_days(wednesday, 0) == wednesday
    assert calendar.add_working_days(date(2026, 10, 13), -5) == wednesday
    assert calendar.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)  # from inside a holiday
    assert calendar.working_days_between(wednesday, date(2026, 10, 13)) == 5
    assert calendar.working_days_between(date(2026, 10, 13), wednesday) == -5
    assert calendar.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    for n in (1, 7, 15, 30):
        assert calendar.working_days_between(wednesday, calendar.add_working_days(wednesday, n)) == n
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


def test_statutory_off_is_the_office_week():
    calendar = WorkCalendar(statutory=False)
    assert calendar.is_working_day(date(2026, 10, 1))  # a Thursday
    assert not calendar.is_working_day(date(2026, 10, 10))  # a Saturday


def test_extra_holidays_and_working_days_from_the_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("calendar:\n  extra_holidays: [2026-12-07]\n  extra_working_days: ['2026-12-05']\n",
                    encoding="utf-8")
    settings = load_settings(path, environ={"QINGFENG_CALENDAR__EXTRA_HOLIDAYS": "2026-12-07, 2026-12-08"})
    assert settings.calendar.extra_holidays == [date(2026, 12, 7), date(2026, 12, 8)]
    calendar = calendar_from(settings)
    assert not calendar.is_working_day(date(2026, 12, 7))  # a Monday
    assert calendar.is_working_day(date(2026, 12, 5))  # a Saturday
    assert calendar.add_working_days(date(2026, 12, 4), 2) == date(2026, 12, 9)  # Sat 5, (Mon 7, Tue 8 off), Wed 9
    # ... and the reminders' sending time follows them.
    send = timing_from(settings)
    assert local(send.send_time(date(2026, 12, 5))) == datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)
    assert local(send.send_time(date(2026, 12, 7))) == datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI)


def test_a_day_both_holiday_and_working_day_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("calendar:\n  extra_holidays: [2026-12-07]\n  extra_working_days: [2026-12-07]\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="calendar.*2026-12-07"):
        load_settings(path, environ={})


def test_committed_config_counts_statutory_holidays():
    settings = load_settings(environ={})
    assert settings.calendar.statutory is True
    assert settings.calendar.extra_holidays == [] and settings.calendar.extra_working_days == []
    assert (settings.reports.acknowledge_within_days, settings.reports.answer_within_days) == (5, 15)


def test_an_unknown_year_warns_once_and_falls_back_to_monday_to_friday(caplog):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(UNKNOWN_YEAR, 1, 4))
    calendar = WorkCalendar(extra_holidays=[date(UNKNOWN_YEAR, 1, 5)], extra_working_days=[date(UNKNOWN_YEAR, 1, 9)])
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        week = [calendar.is_working_day(date(UNKNOWN_YEAR, 1, day)) for day in range(4, 11)]  # Mon 4 .. Sun 10
        calendar.add_working_days(date(UNKNOWN_YEAR, 3, 1), 40)
        WorkCalendar().is_working_day(date(UNKNOWN_YEAR, 5, 1))  # another calendar: still warned about
    assert week == [True, False, True, True, True, True, False]  # Tue 5 extra holiday, Sat 9 extra working day
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(UNKNOWN_YEAR) in warnings[0].getMessage()


def test_start_warns_once_when_the_coming_year_is_unknown(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        assert warn_if_unknown(WorkCalendar(), date(UNKNOWN_YEAR - 1, 12, 1)) == [UNKNOWN_YEAR - 1, UNKNOWN_YEAR]
        assert warn_if_unknown(WorkCalendar(), date(UNKNOWN_YEAR - 1, 12, 1)) == [UNKNOWN_YEAR - 1, UNKNOWN_YEAR]
        WorkCalendar().is_working_day(date(UNKNOWN_YEAR, 2, 1))  # already warned about
        assert warn_if_unknown(WorkCalendar(), date(2025, 6, 1)) == []  # 2025 and 2026 are known
        assert warn_if_unknown(WorkCalendar(statutory=False), date(UNKNOWN_YEAR, 1, 1)) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"{UNKNOWN_YEAR - 1}, {UNKNOWN_YEAR}" in warnings[0].getMessage()
    assert "warn_if_unknown" in inspect.getsource(Services.start)


# ---- reminders ---------------------------------------------------------------------------------

def test_a_reminder_due_on_a_holiday_goes_out_on_the_next_working_day():
    send = timing()
    assert local(send.send_time(date(2026, 10, 1))) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)
    assert local(send.send_time(date(2026, 2, 15))) == datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)


def test_a_make_up_saturday_gets_its_reminder_at_send_at():
    send = timing()
    for saturday in (date(2026, 2, 14), date(2026, 10, 10)):
        assert local(send.send_time(saturday)) == datetime.combine(saturday, clock(9, 0), tzinfo=SHANGHAI)
    # An ordinary Saturday still waits for Monday.
    assert local(send.send_time(date(2026, 10, 17))) == datetime(2026, 10, 19, 9, 0, tzinfo=SHANGHAI)


async def test_the_planner_holds_a_holiday_reminder_until_the_next_working_day(database):
    await seed(database, deadline=date(2026, 10, 8))  # 7 days before: 1 October
    policy = Policy(before_days=(7,), on_the_day=True, overdue_every_days=3, escalate_after_days=7)
    planner = Planner(database, policy, {}, timing(), {900000001})
    await planner.run(datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc))
    rows = await outbox(database)
    assert [(row.kind, row.chat_id) for row in rows] == [(BEFORE, 5001)]
    assert local(rows[0].next_attempt_at) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)


def test_report_deadline_reminders_wait_for_working_days(tmp_path):
    settings = load_settings(environ={"QINGFENG_BOT__DATA_DIR": str(tmp_path)})
    holiday = datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)
    makeup = datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)
    assert not deadlines.sending_time(settings, holiday.astimezone(timezone.utc))
    assert deadlines.sending_time(settings, makeup.astimezone(timezone.utc))


# ---- report deadlines ----------------------------------------------------------------------------

async def test_a_report_before_national_day_is_due_five_working_days_later(service):  # noqa: F811
    from bot.reports.models import Report

    before_holiday = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
    report_id = await submit(service, now=before_holiday)
    async with service.database.session() as session:
        report = await session.get(Report, report_id)
    assert service.settings.reports.acknowledge_within_days == 5
    assert report.acknowledge_due == date(2026, 10, 13)  # Thu 8, Fri 9, Sat 10 (调休), Mon 12, Tue 13
    assert report.answer_due == service.calendar.add_working_days(date(2026, 9, 30), 15)
    assert service.calendar.working_days_between(date(2026, 9, 30), report.answer_due) == 15


async def test_extra_holidays_move_report_deadlines(service):  # noqa: F811
    from bot.reports.models import Report
    from bot.config import CalendarSettings

    service.settings.calendar = CalendarSettings(extra_holidays=[date(2026, 3, 5), date(2026, 3, 6)],
                                                 extra_working_days=[date(2026, 3, 7)])
    wednesday = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
    report_id = await submit(service, now=wednesday)
    async with service.database.session() as session:
        report = await session.get(Report, report_id)
    # Thu 5 and Fri 6 off; Sat 7 (extra working day), Mon 9, Tue 10, Wed 11, Thu 12.
    assert report.acknowledge_due == date(2026, 3, 12)
