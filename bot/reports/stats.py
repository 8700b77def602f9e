"""Figures for supervisors: reports per category per week, open, closed and rejected, and the median
times to acknowledge and to close (closed reports only: a rejection is not a case handled), with a
chart (drawn by bot.charts).

Only counts and durations are computed; nothing is decrypted.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from bot import charts
from bot.i18n import Translate, translator
from bot.reports.models import Report, ReportEvent
from bot.reports.service import ReportService
from bot.reports.states import ACTIVE, Action, Status

WEEKS = 12


@dataclass
class Stats:
    total: int = 0
    open: int = 0  # new, open or waiting
    closed: int = 0  # closed with an outcome
    rejected: int = 0  # spam or out of scope
    weeks: list[date] = field(default_factory=list)  # Mondays, oldest first
    per_category: dict[str, list[int]] = field(default_factory=dict)  # category -> count per week
    median_acknowledge_days: float | None = None
    median_close_days: float | None = None


async def compute(service: ReportService, *, now: datetime, categories: frozenset[str] | None = None,
                  weeks: int = WEEKS) -> Stats:
    """The figures over the reports of these categories (None: all); weeks in local time."""
    zone = service.settings.zone
    query = select(Report.id, Report.category, Report.status, Report.submitted_at, Report.closed_at)
    acknowledged = (select(ReportEvent.report_id, func.min(ReportEvent.at))
                    .where(ReportEvent.action == str(Action.ACKNOWLEDGE)).group_by(ReportEvent.report_id))
    if categories is not None:
        query = query.where(Report.category.in_(sorted(categories)))
    async with service.database.session() as session:
        rows = (await session.exec(query)).all()
        acknowledged_at = dict((await session.exec(acknowledged)).all())

    this_monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    index = {monday: n for n, monday in enumerate(mondays)}
    stats = Stats(weeks=mondays)
    ack_days, close_days = [], []
    for report_id, category, status, submitted_at, closed_at in rows:
        stats.total += 1
        if status in {str(s) for s in ACTIVE}:
            stats.open += 1
        elif status == Status.REJECTED:
            stats.rejected += 1
        else:
            stats.closed += 1
        day = submitted_at.astimezone(zone).date()
        week = index.get(day - timedelta(days=day.weekday()))
        counts = stats.per_category.setdefault(category, [0] * weeks)
        if week is not None:
            counts[week] += 1
        if report_id in acknowledged_at and acknowledged_at[report_id] is not None:
            ack_days.append(_days(submitted_at, _aware(acknowledged_at[report_id])))
        if closed_at is not None and status == Status.CLOSED:
            close_days.append(_days(submitted_at, closed_at))
    stats.per_category = {category: counts for category, counts in stats.per_category.items() if any(counts)}
    stats.median_acknowledge_days = statistics.median(ack_days) if ack_days else None
    stats.median_close_days = statistics.median(close_days) if close_days else None
    return stats


def _aware(moment: datetime | str) -> datetime:
    # an aggregate (min) is not passed through the column's type on every backend
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _days(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 86400)


def render_chart(stats: Stats, *, labels: Callable[[str], Mapping[str, str]], language: str) -> bytes:
    """A PNG: reports per category per week (stacked bars), open vs closed, the two medians.

    `labels(language)` gives the categories' labels in a language (e.g. `ReportService.category_labels`);
    it is asked for English when Chinese cannot be drawn.
    """
    return charts.render(language, lambda language: _chart(stats, labels(language), translator(language)))


def _chart(stats: Stats, labels: Mapping[str, str], _: Translate) -> charts.Chart:
    def median(value: float | None) -> str:
        return "—" if value is None else _("{days} days", days=format(value, ".1f"))

    weekly = charts.Bars(
        title=_("Reports per category per week"), axis_label=_("Reports"),
        categories=[monday.strftime("%m-%d") for monday in stats.weeks],
        series=[charts.Series(labels.get(category, category), counts)
                for category, counts in sorted(stats.per_category.items())],
        legend_loc="upper left", tick_rotation=45, tick_size=8, width=3, label_width=60)
    totals = charts.Bars(
        title=_("Open, closed and rejected"), categories=[_("Open"), _("Closed"), _("Rejected")],
        series=[charts.Series("", [stats.open, stats.closed, stats.rejected], ["#d98c1f", "#2a7f5a", "#8a8a8a"])],
        legend=False)
    return charts.Chart([weekly, totals], size=(11, 6), spacer=0.05,
                        title=_("Median time to acknowledge: {ack}; to close: {close}",
                                ack=median(stats.median_acknowledge_days), close=median(stats.median_close_days)))
