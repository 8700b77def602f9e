"""The weekly digest for supervisors: where every unit stands, as a chart and a spreadsheet.

Planned once per ISO week, on the configured weekday at the configured time or at the first run
after it (a bot that was down on Monday morning plans it when it comes back), as one outbox row
per supervisor; the chart and spreadsheet are made when the row is sent, so they show the ledger
of that moment, and a supervisor who has not opened the bot yet gets it when they do.

The caption starts with one line of figures (open, overdue, closed in the past 7 days, not
acknowledged: reminded since the last 已知悉, or never acknowledged); the spreadsheet has the
overdue items first, the longest overdue on top, then the units (the full ledger is the export's).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot import charts
from bot.config import Settings
from bot.db import Database, insert_ignoring
from bot.i18n import Translate, translator
from bot.ledger.models import (ACTIVE_STATUSES, CLOSED_STATUSES, ItemHistory, ItemStatus, RectificationItem,
                               UnitContact)
from bot.ledger.service import ItemView, LedgerService, UnitSummary
from bot.outbox import Attachment, Claimed, OutboxMessage, OutboxStatus, Rendered, RenderEnv, renderer
from bot.reminders.messages import REMINDER_KINDS
from bot.reminders.models import DigestSent

KIND = "digest"
CAPTION_LIMIT = 1024

STATUS_ORDER = [ItemStatus.OPEN.value, ItemStatus.IN_PROGRESS.value, ItemStatus.CLOSURE_REQUESTED.value,
                ItemStatus.CLOSED.value, ItemStatus.CLOSED_DIRECTLY.value]
CHART_UNITS = 25  # bars in the chart; the text and the spreadsheet list every unit


@dataclass(frozen=True)
class Figures:
    """The caption's line of figures."""

    open: int            # active items
    overdue: int
    closed_this_week: int  # in the seven days before the digest
    unacknowledged: int  # active items reminded since their last acknowledgement (or never acknowledged)


@dataclass
class Digest:
    week: str
    text: str
    chart_png: bytes
    spreadsheet: bytes


def digest_week(now: datetime, settings: Settings) -> str | None:
    """This ISO week's key once its digest time has come, else None."""
    local = now.astimezone(settings.zone)
    digest = settings.ledger.digest
    if (local.isoweekday(), local.time()) < (digest.weekday, digest.at):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


async def already_planned(database: Database, week: str) -> bool:
    async with database.session() as session:
        return await session.get(DigestSent, week) is not None


async def mark_planned(database: Database, week: str) -> None:
    table = DigestSent.__table__
    async with database.engine.begin() as connection:
        await connection.execute(insert_ignoring(connection, table, ["week"]),
                                 {"week": week, "sent_at": datetime.now(timezone.utc)})


@renderer(KIND)
async def render_digest(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    """The chart with the figures as its caption, then the spreadsheet."""
    week = row.payload["week"]
    found = await build_digest(env.ledger, week, language)
    # A caption holds 1,024 characters; a longer digest goes as its own message (never cut: a cut
    # HTML entity would make Telegram refuse the whole message).
    return Rendered(found.text, attachments=[Attachment("photo", found.chart_png),
                                             Attachment("document", found.spreadsheet, f"ledger-{week}.xlsx")],
                    photo_caption=len(found.text) <= CAPTION_LIMIT)


async def build_digest(ledger: LedgerService, week: str, language: str) -> Digest:
    summary = await ledger.summary()
    overdue = await ledger.overdue()
    acknowledged = await _acknowledged(ledger.database, [item.id for item in overdue])
    found = await figures(ledger, summary)
    return digest_for(summary, spreadsheet_of(overdue, acknowledged, summary, ledger.today(), language), week,
                      language, found)


async def figures(ledger: LedgerService, summary: list[UnitSummary]) -> Figures:
    active = sum(unit.counts.get(status, 0) for unit in summary for status in ACTIVE_STATUSES)
    # The digest goes out at the start of a week: "this week" is the seven days before it.
    week_start = ledger.now() - timedelta(days=7)
    items, history, table = RectificationItem.__table__, ItemHistory.__table__, OutboxMessage.__table__
    contacts = UnitContact.__table__
    last_ack = (sa.select(history.c.item_id, sa.func.max(history.c.at).label("at"))
                .where(history.c.action == "reminder_acknowledged").group_by(history.c.item_id).subquery())
    reminded = (sa.select(table.c.item_id, sa.func.max(table.c.sent_at).label("at"))
                .select_from(table.join(items, items.c.id == table.c.item_id)
                             .join(contacts, sa.and_(contacts.c.chat_id == table.c.chat_id,
                                                     contacts.c.unit_id == items.c.unit_id)))
                .where(table.c.status == OutboxStatus.SENT.value, table.c.kind.in_(REMINDER_KINDS))
                .group_by(table.c.item_id).subquery())
    async with ledger.database.engine.connect() as connection:
        closed = (await connection.execute(sa.select(sa.func.count()).select_from(items).where(
            items.c.status.in_(CLOSED_STATUSES), items.c.closed_at >= week_start))).scalar()
        unacknowledged = (await connection.execute(
            sa.select(sa.func.count()).select_from(items.join(reminded, reminded.c.item_id == items.c.id)
                                                   .outerjoin(last_ack, last_ack.c.item_id == items.c.id))
            .where(items.c.status.in_(ACTIVE_STATUSES),
                   sa.or_(last_ack.c.at.is_(None), last_ack.c.at < reminded.c.at)))).scalar()
    return Figures(active, sum(unit.overdue for unit in summary), closed or 0, unacknowledged or 0)


async def _acknowledged(database: Database, item_ids: list[int]) -> set[int]:
    history = ItemHistory.__table__
    found: set[int] = set()
    async with database.engine.connect() as connection:
        for start in range(0, len(item_ids), 5000):
            found |= set((await connection.execute(sa.select(history.c.item_id).where(
                history.c.action == "reminder_acknowledged", history.c.item_id.in_(item_ids[start:start + 5000])))).scalars())
    return found


def spreadsheet_of(overdue: list[ItemView], acknowledged: set[int], summary: list[UnitSummary], today, language: str) -> bytes:
    """The digest's workbook: the overdue items first (the longest overdue at the top), then the units."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = translator(language)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Overdue items")[:31]
    sheet.append([_("Item"), _("Unit"), _("Problem"), _("Deadline"), _("Days overdue"), _("Acknowledged")])
    for item in sorted(overdue, key=lambda i: (i.deadline, i.id)):
        sheet.append([item.label, item.unit, item.problem, item.deadline, (today - item.deadline).days,
                      _("yes") if item.id in acknowledged else ""])
    units = book.create_sheet(_("Units")[:31])
    units.append([_("Unit"), _("Total"), _("Closed items"), _("Overdue")])
    for unit in summary:
        units.append([unit.unit, unit.total, sum(unit.counts.get(status, 0) for status in CLOSED_STATUSES), unit.overdue])
    for page in (sheet, units):
        for cell in page[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def digest_for(summary: list[UnitSummary], spreadsheet: bytes, week: str, language: str,
               found: Figures | None = None) -> Digest:
    """The digest in one language, from the ledger read once for all languages."""
    _ = translator(language)
    lines = [_("<b>Weekly rectification digest, {week}</b>", week=week)]
    if found is not None:
        lines.append(_("Open {open} · overdue {overdue} · closed in the past 7 days {closed} · not acknowledged {unacknowledged}",
                       open=found.open, overdue=found.overdue, closed=found.closed_this_week,
                       unacknowledged=found.unacknowledged))
    lines.append("")
    for unit in summary:
        done = unit.counts.get(ItemStatus.CLOSED.value, 0) + unit.counts.get(ItemStatus.CLOSED_DIRECTLY.value, 0)
        lines.append(_("{unit}: {done}/{total} closed, {overdue} overdue",
                       unit=html.escape(unit.unit), done=done, total=unit.total, overdue=unit.overdue))
    if not summary:
        lines.append(_("The ledger is empty."))
    return Digest(week, "\n".join(lines), render_progress_chart(summary, language), spreadsheet)


def render_progress_chart(summary: list[UnitSummary], language: str) -> bytes:
    """Stacked bars: each unit's items by status, the units by name (at most CHART_UNITS)."""
    return charts.render(language, lambda language: _progress_chart(summary, translator(language)))


def _progress_chart(summary: list[UnitSummary], _: Translate) -> charts.Chart:
    names = {ItemStatus.OPEN.value: _("not started"), ItemStatus.IN_PROGRESS.value: _("in progress"),
             ItemStatus.CLOSURE_REQUESTED.value: _("closure requested"),
             ItemStatus.CLOSED.value: _("closed after review"), ItemStatus.CLOSED_DIRECTLY.value: _("closed directly")}
    units = summary[:CHART_UNITS]
    bars = charts.Bars(
        title=_("Rectification items by unit and status"), horizontal=True,
        categories=[unit.unit for unit in units],  # shortened and made drawable by bot.charts
        series=[charts.Series(names[status], [unit.counts.get(status, 0) for unit in units])
                for status in STATUS_ORDER])
    return charts.Chart([bars], size=(10, max(3, 0.4 * len(units) + 1.5)))
