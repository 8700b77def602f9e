"""The weekly digest for supervisors: where every unit stands, as a chart and a spreadsheet.

Planned once per ISO week, on the configured weekday at the configured time or at the first run
after it (a bot that was down on Monday morning plans it when it comes back), as one outbox row
per supervisor; the chart and spreadsheet are made when the row is sent, so they show the ledger
of that moment, and a supervisor who has not opened the bot yet gets it when they do.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import datetime, timezone

from bot import charts
from bot.config import Settings
from bot.db import Database, insert_ignoring
from bot.i18n import Translate, translator
from bot.ledger.models import ItemStatus
from bot.ledger.service import LedgerService, UnitSummary
from bot.outbox import Attachment, Claimed, Rendered, RenderEnv, renderer
from bot.reminders.models import DigestSent

KIND = "digest"
CAPTION_LIMIT = 1024

STATUS_ORDER = [ItemStatus.OPEN.value, ItemStatus.IN_PROGRESS.value, ItemStatus.CLOSURE_REQUESTED.value,
                ItemStatus.CLOSED.value, ItemStatus.CLOSED_DIRECTLY.value]
CHART_UNITS = 25  # bars in the chart; the text and the spreadsheet list every unit


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
    return digest_for(summary, await spreadsheet_of(ledger), week, language)


async def spreadsheet_of(ledger: LedgerService) -> bytes:
    out = io.BytesIO()
    await ledger.export_xlsx(out)
    return out.getvalue()


def digest_for(summary: list[UnitSummary], spreadsheet: bytes, week: str, language: str) -> Digest:
    """The digest in one language, from the ledger read once for all languages."""
    _ = translator(language)
    lines = [_("<b>Weekly rectification digest, {week}</b>", week=week), ""]
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
