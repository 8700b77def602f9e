"""The words of reminders, in the recipient's language, computed when they are sent.

All of a recipient's due reminder rows go out as one message (`outbox.group_renderer`): one line
per item, the most urgent first (most overdue, then nearest deadline), each item named by round
and number (二轮-3) and stated as it stands on the day of sending (days left or overdue counted
as the policy counts them: calendar or working days, said so in the text), with a button per item
to open it. Rows of one item (a stale slot planned before a weekend, and today's) make one line.
A long list is cut into pages within Telegram's limits (4,096 characters, 100 buttons).

To a supervisor it is one summary of the escalations and the units without a reachable contact;
it says a unit "was reminded" only as often as the outbox shows reminders delivered to it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from bot.i18n import Translate, translator
from bot.ledger.models import CLOSED_STATUSES, InspectionRound, RectificationItem, Unit, UnitContact, item_label
from bot.outbox import Claimed, OutboxMessage, OutboxStatus, Rendered, RenderEnv, group_renderer, renderer
from bot.reminders.planner import NO_CONTACT, STANDING_PROGRESS
from bot.reminders.policy import BEFORE, DUE, ESCALATION, OVERDUE, RED, YELLOW, DayCount, Levels, Standing, levels_of

GROUP = "ledger_reminders"
REMINDER_KINDS = (BEFORE, DUE, OVERDUE, ESCALATION)
PROBLEM_PREVIEW = 80
PAGE_CHARS = 3800       # under Telegram's 4,096, with room for the page header
PAGE_ITEMS = 20         # two buttons per item: well under Telegram's 100
MAX_PAGES = 3           # more is a flood: the rest is named by count (and not counted as reminded)
MARK = {RED: "🔴", YELLOW: "🟡"}


@dataclass(frozen=True)
class Line:
    item_id: int
    label: str
    unit: str
    unit_id: int
    problem: str
    deadline: date | None
    standing: Standing | None   # None: a standing item (长期坚持) asked for progress
    working: bool = True
    reminded: int = 0           # reminders delivered to the unit's contacts (for supervisors)
    own_unit: int | None = None  # the recipient's own unit (a parent unit's contact sees others too)
    reachable: bool = True      # the unit has a contact the bot can reach

    @property
    def urgency(self) -> tuple:
        if self.standing is None:
            return (2, 0, self.item_id)
        if self.standing.overdue:
            return (0, -self.standing.days, self.item_id)
        return (1, self.standing.days, self.item_id)


def standing_text(_: Translate, standing: Standing, deadline: date, working: bool) -> str:
    """Where an item stands, in the policy's days, saying which days they are."""
    facts = dict(days=standing.days, deadline=deadline.isoformat())
    if standing.overdue:
        return (_("{days} working day(s) overdue (deadline {deadline})", **facts) if working
                else _("{days} day(s) overdue (deadline {deadline})", **facts))
    if standing.last_before:
        return _("today is the last working day before its deadline ({deadline}, a day off)", **facts)
    if standing.days == 0:
        return _("due today ({deadline})", **facts)
    return (_("due in {days} working day(s), on {deadline}", **facts) if working
            else _("due in {days} day(s), on {deadline}", **facts))


def line_text(_: Translate, line: Line, *, to_supervisor: bool, preview: bool = True) -> str:
    name = f"<b>{html.escape(line.label)}</b> {html.escape(line.unit)}"
    if line.standing is None:
        return _("📝 {item} (standing item): please report its progress.", item=name)
    mark = MARK.get(line.standing.level, "🟢")
    text = f"{mark} {name}: {standing_text(_, line.standing, line.deadline, line.working)}"
    if to_supervisor:
        text += "; " + (_("the unit was reminded {times} time(s)", times=line.reminded) if line.reminded
                        else _("the unit has no reachable contact and was not reminded") if not line.reachable
                        else _("no reminder has reached the unit yet"))
    if not preview:
        return text
    problem = line.problem if len(line.problem) <= PROBLEM_PREVIEW else line.problem[:PROBLEM_PREVIEW] + "…"
    return f"{text}\n    {html.escape(problem)}"


def pages_of(header: str, lines: list[Line], texts: list[str], buttons: list[list[list[tuple[str, str]]]],
             footer: str = "", more: str = "") -> list[Rendered]:
    """The lines (each with its rows of buttons) cut into messages within Telegram's limits, at
    most MAX_PAGES; `more` (with {count}) says how many items had no room."""
    pages: list[tuple[list[str], list]] = [([], [])]
    shown = 0
    for text, rows in zip(texts, buttons):
        chars = sum(len(t) + 1 for t in pages[-1][0])
        if pages[-1][0] and (chars + len(text) > PAGE_CHARS - len(header) - len(footer) - len(more)
                             or len(pages[-1][0]) >= PAGE_ITEMS):
            if len(pages) == MAX_PAGES:
                break
            pages.append(([], []))
        pages[-1][0].append(text)
        pages[-1][1].extend(rows)
        shown += 1
    left_out = frozenset(line.item_id for line in lines[shown:])
    ending = ([footer] if footer else []) + ([more.format(count=len(left_out))] if left_out else [])
    total = len(pages)
    rendered = []
    for number, (page_texts, rows) in enumerate(pages, 1):
        head = header if total == 1 else f"{header} ({number}/{total})"
        body = "\n\n".join([head, *page_texts] + (ending if number == total else []))
        rendered.append(Rendered(body, rows, left_out_items=left_out if number == total else frozenset()))
    return rendered


class _LevelBook:
    """The levels of each severity and the day counters, made once per settings object (a day
    counter keeps its table of working days between messages)."""

    def __init__(self, settings):
        from bot.workdays import calendar_from

        self.settings = settings
        self.working, self.calendar = DayCount(calendar_from(settings)), DayCount(None)
        self.levels: dict[str | None, Levels] = {}

    def get(self, severity: str | None) -> tuple[Levels, DayCount]:
        if severity not in self.levels:
            self.levels[severity] = levels_of(self.settings, severity)
        levels = self.levels[severity]
        return levels, self.working if levels.working else self.calendar


_books: dict[int, _LevelBook] = {}


def _levels(env: RenderEnv, severity: str | None) -> tuple[Levels, DayCount]:
    book = _books.get(id(env.settings))
    if book is None or book.settings is not env.settings:
        book = _books[id(env.settings)] = _LevelBook(env.settings)
    return book.get(severity)


async def _lines(connection, rows: list[Claimed], env: RenderEnv, today: date, *, to_supervisor: bool) -> list[Line]:
    items, units, rounds = RectificationItem.__table__, Unit.__table__, InspectionRound.__table__
    ids = sorted({row.item_id for row in rows if row.item_id is not None and row.kind != NO_CONTACT})
    standing_ids = {row.item_id for row in rows if row.kind == STANDING_PROGRESS}
    if not ids:
        return []
    contacts = UnitContact.__table__
    own = sa.select(contacts.c.unit_id).where(contacts.c.chat_id == rows[0].chat_id).scalar_subquery()
    reachable = sa.exists().where(contacts.c.unit_id == items.c.unit_id, contacts.c.reachable.is_(True))
    found = (await connection.execute(  # one query: the message goes out at Telegram's pace
        sa.select(items.c.id, items.c.external_id, items.c.problem, items.c.deadline, items.c.status,
                  items.c.severity, items.c.unit_id, units.c.name, rounds.c.name.label("round"), own.label("own"),
                  reachable.label("reachable"))
        .select_from(items.join(units, units.c.id == items.c.unit_id).join(rounds, rounds.c.id == items.c.round_id))
        .where(items.c.id.in_(ids)))).all()
    reminded = await _reminded(connection, ids) if to_supervisor else {}
    lines = []
    for item in found:
        if item.status in CLOSED_STATUSES:
            continue  # closed meanwhile: nothing to say
        if item.deadline is None:
            if item.id in standing_ids:
                lines.append(Line(item.id, item_label(item.round, item.external_id), item.name, item.unit_id,
                                  item.problem, None, None, own_unit=item.own))
            continue
        levels, count = _levels(env, item.severity)
        lines.append(Line(item.id, item_label(item.round, item.external_id), item.name, item.unit_id, item.problem,
                          item.deadline, levels.standing(item.deadline, today, count), levels.working,
                          reminded.get(item.id, 0), item.own, bool(item.reachable)))
    return sorted(lines, key=lambda line: line.urgency)


async def _reminded(connection, item_ids: list[int]) -> dict[int, int]:
    """Reminders the outbox shows delivered to a contact of the item's own unit, per item (one
    message may have carried several rows of one item: counted once per delivery)."""
    table, contacts, items = OutboxMessage.__table__, UnitContact.__table__, RectificationItem.__table__
    found = await connection.execute(
        sa.select(table.c.item_id, sa.func.count(sa.distinct(table.c.sent_at)))
        .select_from(table.join(items, items.c.id == table.c.item_id)
                     .join(contacts, sa.and_(contacts.c.chat_id == table.c.chat_id, contacts.c.unit_id == items.c.unit_id)))
        .where(table.c.item_id.in_(item_ids), table.c.status == OutboxStatus.SENT.value,
               table.c.kind.in_(REMINDER_KINDS))
        .group_by(table.c.item_id))
    return dict(found.all())


async def _unreached_units(connection, rows: list[Claimed]) -> list[str]:
    unit_ids = sorted({row.payload.get("unit_id") for row in rows if row.kind == NO_CONTACT} - {None})
    if not unit_ids:
        return []
    units, contacts = Unit.__table__, UnitContact.__table__
    reachable = sa.select(contacts.c.unit_id).where(contacts.c.reachable.is_(True))
    return list((await connection.execute(sa.select(units.c.name).where(units.c.id.in_(unit_ids),
                                                                        units.c.id.not_in(reachable))
                                          .order_by(units.c.name))).scalars())


@group_renderer(GROUP, *REMINDER_KINDS, NO_CONTACT, STANDING_PROGRESS)
async def render_reminders(connection, rows: list[Claimed], language: str, env: RenderEnv, now: datetime) -> list[Rendered]:
    """One message for all of a recipient's due reminders (paged), in the words of today."""
    _ = translator(language)
    chat_id = rows[0].chat_id
    to_supervisor = chat_id in env.supervisors
    lines = await _lines(connection, rows, env, env.today(now), to_supervisor=to_supervisor)
    if to_supervisor:
        return _supervisor_summary(_, lines, await _unreached_units(connection, rows))
    if not lines:
        return []
    own = lines[0].own_unit
    mine = [line for line in lines if line.unit_id == own]
    others = [line for line in lines if line.unit_id != own]
    pages = []
    if mine:
        pages += _contact_pages(_, mine)
    if others:  # a parent unit's contact: their subordinate units' items, to open and follow up
        pages += pages_of(_("📋 Items of your subordinate units that need attention ({count}):", count=len(others)),
                          others, [line_text(_, line, to_supervisor=False) for line in others],
                          [[[(_("Open {item}", item=line.label), f"li:{line.item_id}")]] for line in others],
                          more=_more(_))
    return pages


def _contact_pages(_: Translate, lines: list[Line]) -> list[Rendered]:
    if len(lines) == 1:
        line = lines[0]
        rows = [[(_("Open {item}", item=line.label), f"li:{line.item_id}")]]
        if line.standing is None:
            rows.append([(_("Report progress"), f"lp:{line.item_id}")])
        else:
            rows += [[(_("Acknowledge"), f"lk:{line.item_id}")],
                     [(_("Report progress"), f"lp:{line.item_id}"), (_("Request closure"), f"lc:{line.item_id}")]]
        return [Rendered(_("⏰ Rectification reminder") + "\n\n" + line_text(_, line, to_supervisor=False, preview=False)
                         + "\n\n" + html.escape(line.problem if len(line.problem) <= 600 else line.problem[:600] + "…"),
                         rows)]
    return pages_of(_("⏰ Rectification reminders: {count} item(s), the most urgent first.", count=len(lines)),
                    lines, [line_text(_, line, to_supervisor=False) for line in lines],
                    [[[(_("Open {item}", item=line.label), f"li:{line.item_id}"),
                       (_("Acknowledge") if line.standing else _("Report progress"),
                        f"lk:{line.item_id}" if line.standing else f"lp:{line.item_id}")]] for line in lines],
                    more=_more(_))


def _supervisor_summary(_: Translate, lines: list[Line], unreached: list[str]) -> list[Rendered]:
    footer = ""
    if unreached:
        footer = _("Units without a reachable contact (nobody there is told of their items; invite a contact): {units}",
                   units="、".join(html.escape(name) for name in unreached))
    if not lines:
        return [Rendered(footer)] if footer else []
    return pages_of(_("🚨 Escalation: {count} overdue item(s), the longest overdue first.", count=len(lines)),
                    lines, [line_text(_, line, to_supervisor=True) for line in lines],
                    [[[(_("Open {item}", item=line.label), f"li:{line.item_id}")]] for line in lines], footer,
                    more=_more(_))


def _more(_: Translate) -> str:
    """The note for items with no room in the message ({count} is filled in by pages_of)."""
    return _("… and {more} more item(s), not listed here: see /tasks (contacts) or /overdue (supervisors).",
             more="{count}")


@renderer("unreachable")
async def render_unreachable(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    """A unit contact blocked the bot or left: the parent unit and the supervisors are told."""
    _ = translator(language)
    items, units, rounds = RectificationItem.__table__, Unit.__table__, InspectionRound.__table__
    item = (await connection.execute(
        sa.select(items.c.id, items.c.external_id, items.c.deadline, units.c.name, rounds.c.name.label("round"))
        .select_from(items.join(units, units.c.id == items.c.unit_id).join(rounds, rounds.c.id == items.c.round_id))
        .where(items.c.id == row.item_id))).first()
    if item is None:
        return None
    text = _("🚨 A contact of {unit} can no longer be reached (they blocked the bot or left). "
             "Rectification item {item} (deadline {deadline}) needs another way in.",
             unit=html.escape(item.name), item=html.escape(item_label(item.round, item.external_id)),
             deadline=item.deadline.isoformat() if item.deadline else "—")
    return Rendered(text, [[(_("Open {item}", item=item_label(item.round, item.external_id)), f"li:{item.id}")]])
