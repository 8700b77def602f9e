"""The words of a reminder, in the recipient's language, with its buttons (as callback data)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from bot.i18n import translator
from bot.ledger.models import CLOSED_STATUSES, RectificationItem, Unit, UnitContact
from bot.outbox import Claimed, Rendered, RenderEnv, renderer

PROBLEM_PREVIEW = 600


@dataclass(frozen=True)
class Reminder:
    kind: str
    item_id: int
    external_id: str
    unit: str
    problem: str
    deadline: date
    offset: int               # days from the deadline (negative: before it)
    to_supervisor: bool = False
    own_unit: bool = True     # the recipient acts for the item's unit (a parent unit's contact only reads it)


def render(reminder: Reminder, language: str) -> tuple[str, list[list[tuple[str, str]]]]:
    """HTML text and rows of (label, callback data) buttons."""
    _ = translator(language)
    facts = dict(item=html.escape(reminder.external_id), unit=html.escape(reminder.unit),
                 deadline=reminder.deadline.isoformat(), days=abs(reminder.offset))
    headline = {
        "before": _("⏰ Rectification item {item} of {unit} is due in {days} day(s), on {deadline}.", **facts),
        "due": _("⏰ Today ({deadline}) is the deadline of rectification item {item} of {unit}.", **facts),
        "overdue": _("⚠️ Rectification item {item} of {unit} is {days} day(s) overdue (deadline {deadline}).", **facts),
        "escalation": _("🚨 Escalation: rectification item {item} of {unit} is {days} day(s) overdue "
                        "(deadline {deadline}); the unit has been reminded.", **facts),
        "unreachable": _("🚨 A contact of {unit} can no longer be reached (they blocked the bot or left). "
                         "Rectification item {item} (deadline {deadline}) needs another way in.", **facts),
    }.get(reminder.kind, _("⏰ Reminder about rectification item {item} of {unit}.", **facts))
    problem = reminder.problem if len(reminder.problem) <= PROBLEM_PREVIEW else reminder.problem[:PROBLEM_PREVIEW] + "…"
    text = f"{headline}\n\n{html.escape(problem)}"
    if reminder.to_supervisor or not reminder.own_unit:  # only buttons that work for them: open the card
        return text, [[(_("Open the item"), f"li:{reminder.item_id}")]]
    return text, [[(_("Acknowledge"), f"lk:{reminder.item_id}")],
                  [(_("Report progress"), f"lp:{reminder.item_id}"), (_("Request closure"), f"lc:{reminder.item_id}")]]


@renderer("before", "due", "overdue", "escalation", "unreachable")
async def render_reminder(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    """A ledger reminder in the words of the day it is delivered: a closed item says nothing, and a
    "before" or "due" planned earlier says how the item stands today (e.g. overdue since)."""
    items, units = RectificationItem.__table__, Unit.__table__
    item = (await connection.execute(
        sa.select(items.c.id, items.c.external_id, items.c.problem, items.c.deadline, items.c.status, items.c.unit_id,
                  units.c.name)
        .select_from(items.join(units, units.c.id == items.c.unit_id)).where(items.c.id == row.item_id))).first()
    if item is None or item.deadline is None or (item.status in CLOSED_STATUSES and row.kind != "unreachable"):
        return None  # closed, or a standing item (长期坚持): no deadline to remind of
    offset = (env.today(now) - item.deadline).days
    kind = row.kind
    if kind in ("before", "due", "overdue"):
        kind = "before" if offset < 0 else "due" if offset == 0 else "overdue"
    reminder = Reminder(kind=kind, item_id=item.id, external_id=item.external_id, unit=item.name,
                        problem=item.problem, deadline=item.deadline, offset=offset,
                        to_supervisor=row.chat_id in env.supervisors,
                        own_unit=await _acts_for(connection, row.chat_id, item.unit_id))
    text, buttons = render(reminder, language)
    return Rendered(text, buttons)


async def _acts_for(connection, chat_id: int, unit_id: int) -> bool:
    contacts = UnitContact.__table__
    bound = (await connection.execute(sa.select(contacts.c.unit_id).where(contacts.c.chat_id == chat_id))).scalar()
    return bound == unit_id
