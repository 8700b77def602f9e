"""The supervisors' workspace in the chat, and the unit contacts' extension requests (延期申请).

/ledger (or the menu button) → rounds → the units of a round (open, overdue, closure requested) →
a unit's items, 8 a page, with filters (overdue, due within 7 days, closure requested, not
acknowledged, by category) → an item's card: the item, "acknowledged on …", its whole history (paged)
and the actions: change the deadline, reassign, nudge now (催办), add a note, close directly (the
ledger's own button). Every level has a way back; the navigation edits one message in place.
/overdue pages through every overdue item the same way.

Typed input (a date, a reason, a unit's name, a note) is the user's pending input (feature
"workspace"); what is final is shown first and done when confirmed. A contact asks for an extension
from their item's card: a reason, a date, a preview, then every supervisor gets the request with
approve / refuse buttons; the first decision wins and the contact is told through the outbox.

Callback data (handlers/callback_data.py; all checked on arrival): wr wu wl wc wo wx wg wy wv wz wk
are the supervisors' (behind the gate in handlers/__init__.py); we wf (a contact's request) and wq
(cancel) anyone's, the service checking the chat's unit.
"""

from __future__ import annotations

import difflib
import html
from datetime import date, timedelta

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.ledger import texts, workspace_texts as wtexts
from bot.ledger.models import CLOSED_STATUSES
from bot.ledger.service import InvalidTransition, ItemView, LedgerError, NotFound
from bot.ledger.workspace import (ExtensionDecided, ExtensionPending, Workspace, parse_typed_date)
from bot.pending import Pending
from handlers import callback_data as data_of, flow
from handlers.common import buttons, clear_buttons, expired_button, mark_decided
from handlers.context import Context

FEATURE = "workspace"
DEADLINE_DATE, DEADLINE_REASON, DEADLINE_CONFIRM = "deadline_date", "deadline_reason", "deadline_confirm"
REASSIGN_UNIT, REASSIGN_CONFIRM, NOTE = "reassign_unit", "reassign_confirm", "note"
EXT_REASON, EXT_DATE, EXT_CONFIRM = "ext_reason", "ext_date", "ext_confirm"
REFUSE_REASON, REFUSE_CONFIRM = "refuse_reason", "refuse_confirm"
PER_PAGE = 8
UNIT_BUTTONS = 30
CATEGORY_BUTTONS = 9  # three rows of three
TEXT_LIMIT = 4000
DATE_EXAMPLES = "2027-01-31, 2027年1月31日, 1月31日"
FAR_AHEAD_DAYS = 300  # a month and day without a year is read as the next such day: say so when far off


def workspace_of(context: Context) -> Workspace:
    return Workspace(context.services.ledger)


def _zone(context: Context):
    return context.services.settings.zone


async def _say(update: Update, text: str, rows=None, *, answer: bool = True) -> None:
    """A new message in the chat of the update (a pressed button is answered once: `answer`)."""
    query = update.callback_query
    if query is not None and answer:
        await query.answer()
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=buttons(rows) if rows else None)


async def _show(update: Update, text: str, rows=None) -> None:
    """A level of the workspace, or the outcome of a confirmed action: the pressed message becomes it
    (its buttons go), a command gets a new one."""
    query = update.callback_query
    if query is None or query.message is None or not query.message.text:
        await _say(update, text, rows)
        return
    await query.answer()
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=buttons(rows) if rows else None)
    except BadRequest:  # the same page again: "message is not modified"
        pass


def _parsed(update: Update, format_: data_of.Format) -> tuple | None:
    return format_.parse(update.callback_query.data) if update.callback_query is not None else None


def _translated_paging(context: Context, rows: list, page: int, pages: int, data) -> None:
    _ = context._
    row = []
    if page > 0:
        row.append(("‹ " + _("Previous"), data(page - 1)))
    if page < pages - 1:
        row.append((_("Next") + " ›", data(page + 1)))
    if row:
        rows.append(row)


async def _page(update: Update, context: Context, format_: data_of.Format, *, entry: str) -> int | None:
    """The page a paging button asks for: 0 from the command or the `entry` button; None (said) if forged."""
    query = update.callback_query
    if query is None or query.data == entry:
        return 0
    parsed = _parsed(update, format_)
    if parsed is None:
        await expired_button(update, context)
        return None
    return parsed[0]


# ---- rounds → units → items -----------------------------------------------------------------

async def show_rounds(update: Update, context: Context) -> None:
    """/ledger, the menu button or wr:<page>: the rounds, with their open, overdue and requested counts."""
    _ = context._
    page = await _page(update, context, data_of.ROUNDS, entry="menu:ledger")
    if page is None:
        return
    rounds = await workspace_of(context).rounds(supervisor_id=update.effective_user.id)
    if not rounds:
        await _say(update, _("The ledger is empty. Import items with <code>qingfeng ledger import FILE</code>."))
        return
    pages = max(1, -(-len(rounds) // PER_PAGE))
    if page >= pages:
        await expired_button(update, context)
        return
    lines = [_("<b>Rectification ledger</b>: choose a round"), ""]
    rows = []
    for row in rounds[page * PER_PAGE:(page + 1) * PER_PAGE]:
        lines.append(f"<b>{html.escape(row.name)}</b>: {wtexts.counts_text(row.counts, _)}")
        rows.append([(texts.short(row.name, 30), data_of.ROUND_UNITS.pack(row.id, 0))])
    _translated_paging(context, rows, page, pages, lambda p: data_of.ROUNDS.pack(p))
    rows.append([(_("Overdue items"), data_of.OVERDUE_PAGE.pack(0))])
    query = update.callback_query
    if query is not None and query.data == "menu:ledger":  # the menu stays; the ledger comes below it
        await _say(update, "\n".join(lines), rows)
    else:
        await _show(update, "\n".join(lines), rows)


async def show_units(update: Update, context: Context) -> None:
    """wu:<round>:<page>: the units with open items in the round, the most overdue first."""
    _ = context._
    parsed = _parsed(update, data_of.ROUND_UNITS)
    if parsed is None:
        await expired_button(update, context)
        return
    round_id, page = parsed
    try:
        name, units = await workspace_of(context).units_of_round(round_id, supervisor_id=update.effective_user.id)
    except NotFound:
        await expired_button(update, context)
        return
    pages = max(1, -(-len(units) // PER_PAGE))
    if page >= pages:
        await expired_button(update, context)
        return
    lines = [_("<b>{round}</b>: units with open items", round=html.escape(name)), ""]
    if not units:
        lines.append(_("No open item in this round."))
    rows = []
    for unit in units[page * PER_PAGE:(page + 1) * PER_PAGE]:
        lines.append(f"<b>{html.escape(unit.name)}</b>: {wtexts.counts_text(unit.counts, _)}")
        rows.append([(texts.short(unit.name, 30), data_of.UNIT_ITEMS.pack(round_id, unit.id, "all", 0, 0))])
    _translated_paging(context, rows, page, pages, lambda p: data_of.ROUND_UNITS.pack(round_id, p))
    rows.append([("‹ " + _("Rounds"), data_of.ROUNDS.pack(0))])
    await _show(update, "\n".join(lines), rows)


async def show_items(update: Update, context: Context) -> None:
    """wl:<round>:<unit>:<filter>:<category>:<page>: a unit's open items in a round, filtered, paged."""
    _ = context._
    parsed = _parsed(update, data_of.UNIT_ITEMS)
    if parsed is None:
        await expired_button(update, context)
        return
    round_id, unit_id, kind, category, page = parsed
    try:
        listed = await workspace_of(context).items(round_id, unit_id, supervisor_id=update.effective_user.id,
                                                   kind=kind, category=category, page=page)
    except NotFound:
        await expired_button(update, context)
        return
    chosen = listed.categories[category] if kind == "category" and category < len(listed.categories) else ""
    title = _(wtexts.FILTER_LABELS[kind]) if kind != "category" else "🏷 " + html.escape(chosen)
    lines = [f"<b>{html.escape(listed.round)} · {html.escape(listed.unit)}</b>",
             _("{filter}: {count} item(s)", filter=title, count=listed.total)]
    if listed.pages > 1:
        lines.append(_("Page {page}/{pages}", page=page + 1, pages=listed.pages))
    lines.append("")
    if not listed.items:
        lines.append(_("No open item matches this filter."))
    rows = []
    for number, item in enumerate(listed.items, start=page * PER_PAGE + 1):
        seen = " 👁" if item.id in listed.acknowledged else ""
        lines.append(f"{number}. {texts.item_line(item, _)}{seen}")
        rows.append([(f"{number}. {item.label} {texts.short(item.problem, 24)}", data_of.CARD.pack(item.id, 0))])
    pack = lambda k, c=0: data_of.UNIT_ITEMS.pack(round_id, unit_id, k, c, 0)  # noqa: E731
    _translated_paging(context, rows, page, listed.pages,
                       lambda p: data_of.UNIT_ITEMS.pack(round_id, unit_id, kind, category, p))
    mark = lambda k, c=0: "• " if (kind, category if kind == "category" else 0) == (k, c) else ""  # noqa: E731
    filters = [(mark(k) + _(label), pack(k)) for k, label in wtexts.FILTER_LABELS.items()]
    rows += [filters[:3], filters[3:]]
    categories = [(mark("category", i) + "🏷 " + texts.short(name, 16), pack("category", i))
                  for i, name in enumerate(listed.categories[:CATEGORY_BUTTONS])]
    rows += [categories[i:i + 3] for i in range(0, len(categories), 3)]
    rows.append([("‹ " + _("Units of {round}", round=texts.short(listed.round, 20)),
                  data_of.ROUND_UNITS.pack(round_id, 0))])
    await _show(update, "\n".join(lines), rows)


async def show_overdue(update: Update, context: Context) -> None:
    """/overdue, lo: or wo:<page>: every overdue item, the longest overdue first, a page at a time."""
    _ = context._
    page = await _page(update, context, data_of.OVERDUE_PAGE, entry="lo:")
    if page is None:
        return
    items, total = await workspace_of(context).overdue(supervisor_id=update.effective_user.id, page=page)
    if not total:
        # Not "‹ back": /overdue may be the first thing a supervisor opens; this leads on to the ledger.
        await _say(update, _("No item is overdue."), [[(_("Open the ledger by round"), data_of.ROUNDS.pack(0))]])
        return
    pages = max(1, -(-total // PER_PAGE))
    if page >= pages:
        await expired_button(update, context)
        return
    lines = [_("<b>Overdue items</b>: {count}", count=total)]
    if pages > 1:
        lines.append(_("Page {page}/{pages}", page=page + 1, pages=pages))
    lines.append("")
    rows = []
    for number, item in enumerate(items, start=page * PER_PAGE + 1):
        lines.append(f"{number}. {html.escape(item.unit)} · {texts.item_line(item, _)}")
        rows.append([(f"{number}. {item.label} {texts.short(item.unit, 12)}", data_of.CARD.pack(item.id, 0))])
    _translated_paging(context, rows, page, pages, lambda p: data_of.OVERDUE_PAGE.pack(p))
    rows.append([("‹ " + _("Rounds"), data_of.ROUNDS.pack(0))])
    query = update.callback_query
    if query is not None and query.data == "lo:":
        await _say(update, "\n".join(lines), rows)
    else:
        await _show(update, "\n".join(lines), rows)


# ---- the card ---------------------------------------------------------------------------------

async def show_card(update: Update, context: Context) -> None:
    """wc:<item>:<page>: the item, whether it was acknowledged, its history (newest first) and actions."""
    parsed = _parsed(update, data_of.CARD)
    if parsed is None:
        await expired_button(update, context)
        return
    await open_card(update, context, *parsed, edit=True)


async def open_card(update: Update, context: Context, item_id: int, page: int = 0, *, edit: bool = False) -> None:
    """The supervisor's card; also what li:<item> opens for a supervisor (handlers/ledger.py)."""
    _ = context._
    work = workspace_of(context)
    user_id = update.effective_user.id
    try:
        item = await context.services.ledger.item(item_id, supervisor_id=user_id)
        events = await work.timeline(item_id, supervisor_id=user_id)
    except NotFound:
        await expired_button(update, context)
        return
    history = wtexts.history_pages(wtexts.history_lines(events, _, _zone(context)))
    pages = len(history)
    if page >= pages:
        await expired_button(update, context)
        return
    card = texts.item_text(item, _, zone=_zone(context)) + "\n" + \
        wtexts.acknowledged_line(await work.acknowledged_at(item_id), _, _zone(context))
    waiting = await work.pending_extension(item_id)
    if waiting is not None:
        card += "\n" + wtexts.waiting_line(waiting, _)
    heading = _("<b>History</b>") + (" " + _("(page {page}/{pages})", page=page + 1, pages=pages) if pages > 1 else "")
    shown = history[page] or [_("Nothing recorded yet.")]
    block = "\n".join([heading, *shown])
    rows = _card_buttons(context, item, page, pages, await work.round_of(item_id))
    if waiting is not None:
        rows.insert(0, [(_("Approve the extension"), data_of.EXTENSION_APPROVE.pack(waiting.id)),
                        (_("Refuse"), data_of.EXTENSION_REFUSE.pack(waiting.id))])
    if len(card) + len(block) + 2 > TEXT_LIMIT:  # a long item: the card, then its history with the buttons
        await _say(update, card)
        await _say(update, block, rows, answer=False)
    elif edit:
        await _show(update, card + "\n\n" + block, rows)
    else:
        await _say(update, card + "\n\n" + block, rows)


def _card_buttons(context: Context, item: ItemView, page: int, pages: int, round_id: int) -> list:
    _ = context._
    rows = list(texts.item_buttons(item, _, as_supervisor=True, as_contact=False))
    active = item.status not in CLOSED_STATUSES
    if active:
        rows.append([(_("Change the deadline"), data_of.CARD_ACTION.pack("deadline", item.id)),
                     (_("Reassign"), data_of.CARD_ACTION.pack("reassign", item.id))])
        rows.append([(_("Nudge now"), data_of.CARD_ACTION.pack("nudge", item.id)),
                     (_("Add a note"), data_of.CARD_ACTION.pack("note", item.id))])
    else:
        rows.append([(_("Add a note"), data_of.CARD_ACTION.pack("note", item.id))])
    row = []
    if page > 0:
        row.append(("‹ " + _("Newer"), data_of.CARD.pack(item.id, page - 1)))
    if page < pages - 1:
        row.append((_("Older") + " ›", data_of.CARD.pack(item.id, page + 1)))
    if row:
        rows.append(row)
    rows.append([("‹ " + _("Items of {unit}", unit=texts.short(item.unit, 20)),
                  data_of.UNIT_ITEMS.pack(round_id, item.unit_id, "all", 0, 0))])
    return rows


# ---- card actions -----------------------------------------------------------------------------

async def _expect(update: Update, context: Context, action: str, target: int, label: str, **data) -> None:
    await flow.expect(update, context, Pending(FEATURE, action, target=str(target), data={"label": label, **data}))


def _pending(context: Context, *actions: str) -> Pending | None:
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.expired or pending.action not in actions:
        return None
    return pending


async def _confirmed(update: Update, context: Context, format_: data_of.Format, action: str) -> Pending | None:
    """The pending step a confirm button answers (ended here), or None (said: the button expired)
    when the button names another target or the step is not open any more."""
    parsed = _parsed(update, format_)
    pending = _pending(context, action)
    if parsed is None or pending is None or pending.target != str(parsed[0]):
        await expired_button(update, context)
        return None
    await flow.done(update, context, FEATURE)
    return pending


def _cancel_row(context: Context) -> list:
    return [(context._("Cancel"), "wq:")]


async def start_action(update: Update, context: Context) -> None:
    """wx:<action>:<item>: change the deadline, reassign, nudge, or add a note."""
    _ = context._
    parsed = _parsed(update, data_of.CARD_ACTION)
    if parsed is None:
        await expired_button(update, context)
        return
    action, item_id = parsed
    try:
        item = await context.services.ledger.item(item_id, supervisor_id=update.effective_user.id)
    except NotFound:
        await expired_button(update, context)
        return
    label = html.escape(item.label)
    if action != "note" and item.status in CLOSED_STATUSES:
        await update.callback_query.answer(_("This item is {status}.", status=texts.status_label(_, item.status)),
                                           show_alert=True)
        return
    if action == "deadline":
        await _expect(update, context, DEADLINE_DATE, item.id, item.label)
        current = texts.deadline_value(item.deadline.isoformat() if item.deadline else "", _)
        await _say(update, _("Item {label} (deadline {deadline}): type the new deadline, e.g. {examples}. "
                             "/cancel to stop.", label=label, deadline=current, examples=DATE_EXAMPLES))
    elif action == "reassign":
        await _expect(update, context, REASSIGN_UNIT, item.id, item.label)
        units = [u for u in await workspace_of(context).units() if u.id != item.unit_id]
        rows = [[(texts.short(u.name, 20), data_of.REASSIGN_TO.pack(item.id, u.id)) for u in units[i:i + 2]]
                for i in range(0, min(len(units), UNIT_BUTTONS), 2)]
        await _say(update, _("Item {label} is {unit}'s. Pick the unit that takes it over, or type its name. "
                             "/cancel to stop.", label=label, unit=html.escape(item.unit)),
                   rows + [_cancel_row(context)])
    elif action == "nudge":
        await _preview_nudge(update, context, item)
    else:
        await _expect(update, context, NOTE, item.id, item.label)
        await _say(update, _("Type the note for item {label} (supervisors see it on the card). /cancel to stop.",
                             label=label))


async def _preview_nudge(update: Update, context: Context, item: ItemView) -> None:
    _ = context._
    bound, reachable = await workspace_of(context).contact_counts(item.unit_id)
    if not reachable:
        await _say(update, _no_contact(context, item.unit, bound))
        return
    await _say(update, _("Nudge {unit} now about item {label}? Its {count} contact(s) will be sent the item.",
                         unit=html.escape(item.unit), label=html.escape(item.label), count=reachable),
               [[(_("Send the nudge"), data_of.CONFIRM.pack("nudge", item.id))], _cancel_row(context)])


def _no_contact(context: Context, unit: str, bound: int) -> str:
    _ = context._
    if bound:
        return _("{unit}'s contacts cannot be reached (they blocked the bot or left); nobody was nudged.",
                 unit=html.escape(unit))
    return _("{unit} has no contact bound; nobody was nudged.", unit=html.escape(unit))


async def pick_unit(update: Update, context: Context) -> None:
    """wg:<item>:<unit>: the unit pressed in the reassignment list: shown before it is done."""
    parsed = _parsed(update, data_of.REASSIGN_TO)
    if parsed is None:
        await expired_button(update, context)
        return
    item_id, unit_id = parsed
    units = {u.id: u for u in await workspace_of(context).units()}
    if unit_id not in units:
        await update.callback_query.answer(context._("This unit no longer exists."), show_alert=True)
        return
    await _preview_reassign(update, context, item_id, units[unit_id])


async def _preview_reassign(update: Update, context: Context, item_id: int, unit) -> None:
    _ = context._
    try:
        item = await context.services.ledger.item(item_id, supervisor_id=update.effective_user.id)
    except NotFound:
        if update.callback_query is not None:
            await expired_button(update, context)
        else:
            await flow.done(update, context, FEATURE)
            await _changed_meanwhile(update, context)
        return
    if unit.id == item.unit_id:
        await _say(update, _("Item {label} is {unit}'s already. Pick another unit, or /cancel.",
                             label=html.escape(item.label), unit=html.escape(unit.name)))
        return
    await _expect(update, context, REASSIGN_CONFIRM, item.id, item.label, unit=unit.id)
    await _say(update, _("Reassign item {label} from {old} to {new}? Its pending reminders are cancelled.",
                         label=html.escape(item.label), old=html.escape(item.unit), new=html.escape(unit.name))
               + " " + await _who_is_told(context, unit.id, unit.name),
               [[(_("Reassign"), data_of.CONFIRM.pack("reassign", item.id))], _cancel_row(context)])


async def confirm(update: Update, context: Context) -> None:
    """wy:<action>:<item>: do what was shown (a deadline change, a reassignment, a nudge)."""
    parsed = _parsed(update, data_of.CONFIRM)
    if parsed is None:
        await expired_button(update, context)
        return
    action, item_id = parsed
    if action == "nudge":
        await _nudge(update, context, item_id)
        return
    pending = _pending(context, DEADLINE_CONFIRM if action == "deadline" else REASSIGN_CONFIRM)
    if pending is None or pending.target != str(item_id):
        await expired_button(update, context)
        return
    await flow.done(update, context, FEATURE)
    if action == "deadline":
        await _change_deadline(update, context, item_id, pending.data)
    else:
        await _reassign(update, context, item_id, pending.data["unit"])


async def _changed_meanwhile(update: Update, context: Context) -> None:
    await _say(update, context._("This item has changed meanwhile; nothing was done. Open it again."))


async def _change_deadline(update: Update, context: Context, item_id: int, data: dict) -> None:
    _ = context._
    try:
        item = await workspace_of(context).change_deadline(
            item_id, date.fromisoformat(data["date"]), reason=data["reason"], supervisor_id=update.effective_user.id,
            by_name=update.effective_user.full_name)
    except (NotFound, InvalidTransition):
        await _changed_meanwhile(update, context)
        return
    _bound, reachable = await workspace_of(context).contact_counts(item.unit_id)
    told = _("{count} contact(s) of {unit} are told.", count=reachable, unit=html.escape(item.unit)) if reachable \
        else _("{unit} has no reachable contact: nobody was told.", unit=html.escape(item.unit))
    overdue = " " + _("It is overdue by {days} days.", days=-item.days_left) if item.overdue else ""
    await _show(update, _("The deadline of item {label} is now {date}.", label=html.escape(item.label),
                         date=item.deadline.isoformat()) + overdue + " " + told,
               [[(_("Open the item"), data_of.CARD.pack(item.id, 0))]])


async def _reassign(update: Update, context: Context, item_id: int, unit_id: int) -> None:
    _ = context._
    try:
        done = await workspace_of(context).reassign(item_id, supervisor_id=update.effective_user.id, unit_id=unit_id,
                                                    by_name=update.effective_user.full_name)
    except NotFound:
        await _say(update, _("That unit no longer exists; nothing was done."))
        return
    except (InvalidTransition, LedgerError):
        await _changed_meanwhile(update, context)
        return
    unit = html.escape(done.item.unit)
    told = _("The item goes to {count} contact(s) of {unit}.", count=done.contacts, unit=unit) if done.contacts \
        else _("{unit} has no reachable contact: nobody was told yet.", unit=unit)
    await _show(update, _("Item {label} now belongs to {unit} (it was {old}'s).", label=html.escape(done.item.label),
                         unit=unit, old=html.escape(done.old_unit)) + " " + told,
               [[(_("Open the item"), data_of.CARD.pack(item_id, 0))]])


async def _nudge(update: Update, context: Context, item_id: int) -> None:
    _ = context._
    try:
        done = await workspace_of(context).nudge(item_id, supervisor_id=update.effective_user.id,
                                                 by_name=update.effective_user.full_name)
    except NotFound:
        await expired_button(update, context)
        return
    except InvalidTransition as refused:
        await update.callback_query.answer(_("This item is {status}.", status=texts.status_label(_, refused.status)),
                                           show_alert=True)
        return
    if not done.sent:
        await _say(update, _no_contact(context, done.item.unit, done.bound))
        return
    await _show(update, _("Nudge sent: {count} contact(s) of {unit} are sent item {label} now.", count=done.sent,
                         unit=html.escape(done.item.unit), label=html.escape(done.item.label)),
               [[(_("Open the item"), data_of.CARD.pack(item_id, 0))]])


# ---- typed input --------------------------------------------------------------------------------

async def receive(update: Update, context: Context) -> None:
    """The next message of a workspace prompt: a date, a reason, a unit's name or a note."""
    _ = context._
    pending = context.pending
    text = (update.effective_message.text or "").strip()
    if pending.action in (DEADLINE_CONFIRM, REASSIGN_CONFIRM, EXT_CONFIRM, REFUSE_CONFIRM):
        await _say(update, _("Please press a button above, or /cancel."))
        return
    if not text:
        await _say(update, _("Please type it as text."))
        return
    step = {DEADLINE_DATE: _receive_deadline_date, DEADLINE_REASON: _receive_deadline_reason,
            REASSIGN_UNIT: _receive_unit, NOTE: _receive_note, EXT_REASON: _receive_extension_reason,
            EXT_DATE: _receive_extension_date, REFUSE_REASON: _receive_refusal}[pending.action]
    await step(update, context, pending, text)


def _unreadable_date(context: Context, text: str) -> str:
    return context._("I could not read a date in “{text}”. Type it like {examples}.",
                     text=html.escape(texts.short(text, 40)), examples=DATE_EXAMPLES)


async def _receive_deadline_date(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    day = parse_typed_date(text, context.services.ledger.today())
    if day is None:
        await _say(update, _unreadable_date(context, text))
        return
    far = (day - context.services.ledger.today()).days > FAR_AHEAD_DAYS  # 11月1日 typed on 12-02: next year's
    if far and pending.data.get("far") != day.isoformat():
        await _expect(update, context, DEADLINE_DATE, int(pending.target), pending.data["label"], far=day.isoformat())
        await _say(update, "⚠️ " + _("{date} is almost a year away. Type it again to confirm it, or type the date "
                                     "you meant with its year, e.g. {earlier}.", date=day.isoformat(),
                                     earlier=(day - timedelta(days=365)).isoformat()))
        return
    await _expect(update, context, DEADLINE_REASON, int(pending.target), pending.data["label"], date=day.isoformat())
    await _say(update, _("New deadline of item {label}: {date}. Now type the reason (the unit will read it).",
                         label=html.escape(pending.data["label"]), date=day.isoformat()))


async def _receive_deadline_reason(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    item_id = int(pending.target)
    if len(text) <= 16 and parse_typed_date(text, context.services.ledger.today()) is not None:
        await _say(update, _("That looks like a date, not a reason. The new deadline is {date}; type why it changes "
                             "(the unit will read it), or /cancel.", date=pending.data["date"]))
        return
    try:
        item = await context.services.ledger.item(item_id, supervisor_id=update.effective_user.id)
    except NotFound:
        await flow.done(update, context, FEATURE)
        await _changed_meanwhile(update, context)
        return
    new = date.fromisoformat(pending.data["date"])
    await _expect(update, context, DEADLINE_CONFIRM, item_id, item.label, date=new.isoformat(), reason=text)
    old = texts.deadline_value(item.deadline.isoformat() if item.deadline else "", _)
    lines = [_("Change the deadline of item {label}: {old} → {new}?", label=html.escape(item.label), old=old,
               new=new.isoformat()),
             _("Reason: {reason}", reason=html.escape(text))]
    late = (context.services.ledger.today() - new).days
    if late > 0:
        lines.append("⚠️ " + _("This date is past: the item will be overdue by {days} days as soon as it is changed.",
                               days=late))
    lines.append(await _who_is_told(context, item.unit_id, item.unit))
    await _say(update, "\n".join(lines), [[(_("Change the deadline"), data_of.CONFIRM.pack("deadline", item_id))],
                                          _cancel_row(context)])


async def _who_is_told(context: Context, unit_id: int, unit: str) -> str:
    """Who a change will be told to, as it stands now (a unit may have no reachable contact)."""
    _bound, reachable = await workspace_of(context).contact_counts(unit_id)
    if reachable:
        return context._("{count} contact(s) of {unit} will be told.", count=reachable, unit=html.escape(unit))
    return context._("{unit} has no reachable contact: nobody will be told.", unit=html.escape(unit))


async def _receive_unit(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    units = await workspace_of(context).units()
    by_name = {u.name: u for u in units}
    if text in by_name:
        await _preview_reassign(update, context, int(pending.target), by_name[text])
        return
    close = difflib.get_close_matches(text, list(by_name), n=3, cutoff=0.4)
    hint = " " + _("Did you mean: {names}?", names=html.escape("、".join(close))) if close else ""
    await _say(update, _("There is no unit named “{name}”.", name=html.escape(texts.short(text, 40))) + hint + " "
               + _("Pick one above or type the name again, or /cancel."))


async def _receive_note(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    item_id = int(pending.target)
    await flow.done(update, context, FEATURE)
    try:
        item = await workspace_of(context).add_note(item_id, supervisor_id=update.effective_user.id, text=text,
                                                    by_name=update.effective_user.full_name)
    except NotFound:
        await _changed_meanwhile(update, context)
        return
    await _say(update, _("Note added to item {label}.", label=html.escape(item.label)),
               [[(_("Open the item"), data_of.CARD.pack(item_id, 0))]])


# ---- extension requests: the contact ---------------------------------------------------------------

async def waiting_text(context: Context, item_id: int) -> str:
    """A line for the contact's card while their unit's request waits ("" if none): handlers/ledger.py."""
    waiting = await workspace_of(context).pending_extension(item_id)
    return "\n" + wtexts.waiting_line(waiting, context._) if waiting else ""


async def ask_extension(update: Update, context: Context) -> None:
    """we:<item> (a contact): ask for an extension; first the reason."""
    _ = context._
    parsed = _parsed(update, data_of.EXTENSION_ASK)
    if parsed is None:
        await expired_button(update, context)
        return
    (item_id,) = parsed
    try:
        item = await workspace_of(context).check_extension(item_id, chat_id=update.effective_chat.id)
    except NotFound:
        await expired_button(update, context)
        return
    except (InvalidTransition, ExtensionPending) as refused:
        await _say(update, await _no_extension(context, refused, item_id))
        return
    await _expect(update, context, EXT_REASON, item.id, item.label)
    await _say(update, _("Extension request for item {label} (deadline {deadline}). First type the reason. "
                         "/cancel to stop.", label=html.escape(item.label), deadline=item.deadline.isoformat()))


async def _no_extension(context: Context, refused: Exception, item_id: int) -> str:
    """Why no extension can be asked: the item is closed, standing, or a request is waiting."""
    _ = context._
    if isinstance(refused, ExtensionPending):
        return _("An extension request for item {label} (to {date}) is already waiting for the inspection office's "
                 "decision.", label=html.escape(refused.extension.label), date=refused.extension.proposed.isoformat())
    if refused.status in CLOSED_STATUSES:
        return _("This item is {status}: there is no deadline to extend.",
                 status=texts.status_label(_, refused.status))
    return _("This item is a standing one: it has no deadline to extend.")


async def _receive_extension_reason(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    await _expect(update, context, EXT_DATE, int(pending.target), pending.data["label"], reason=text)
    await _say(update, _("Now type the date you propose, e.g. {examples}.", examples=DATE_EXAMPLES))


async def _receive_extension_date(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    ledger = context.services.ledger
    day = parse_typed_date(text, ledger.today())
    if day is None:
        await _say(update, _unreadable_date(context, text))
        return
    item_id = int(pending.target)
    try:
        item = await workspace_of(context).check_extension(item_id, chat_id=update.effective_chat.id)
    except (NotFound, InvalidTransition, ExtensionPending) as refused:
        await flow.done(update, context, FEATURE)
        text = _("This item has changed meanwhile; nothing was done. Open it again.") \
            if isinstance(refused, NotFound) else await _no_extension(context, refused, item_id)
        await _say(update, text)
        return
    if day <= max(item.deadline, ledger.today()):
        await _say(update, _("The proposed date must be later than the deadline ({deadline}) and than today. Type "
                             "another date, or /cancel.", deadline=item.deadline.isoformat()))
        return
    await _expect(update, context, EXT_CONFIRM, item_id, item.label, reason=pending.data["reason"],
                  date=day.isoformat())
    await _say(update, "\n".join([
        _("Send this extension request to the inspection office?"),
        _("Item {label}: deadline {old} → {new}", label=html.escape(item.label), old=item.deadline.isoformat(),
          new=day.isoformat()),
        _("Reason: {reason}", reason=html.escape(pending.data["reason"]))]),
        [[(_("Send the request"), data_of.EXTENSION_SEND.pack(item_id)),
          (_("Write again"), data_of.EXTENSION_ASK.pack(item_id))], _cancel_row(context)])


async def send_extension(update: Update, context: Context) -> None:
    """wf:<item> (a contact): send the request shown; every supervisor gets it through the outbox."""
    _ = context._
    pending = await _confirmed(update, context, data_of.EXTENSION_SEND, EXT_CONFIRM)
    if pending is None:
        return
    item_id = int(pending.target)
    try:
        request = await workspace_of(context).request_extension(
            item_id, chat_id=update.effective_chat.id, reason=pending.data["reason"],
            proposed=date.fromisoformat(pending.data["date"]))
    except NotFound:
        await expired_button(update, context)
        return
    except (InvalidTransition, ExtensionPending) as refused:
        await _say(update, await _no_extension(context, refused, item_id))
        return
    except LedgerError:
        await _changed_meanwhile(update, context)
        return
    await _show(update, _("Your extension request for item {label} (to {date}) was sent to the inspection office. "
                         "You will be told their decision here.", label=html.escape(request.label),
                         date=request.proposed.isoformat()))


# ---- extension requests: the supervisors ------------------------------------------------------------

async def _already(update: Update, context: Context, refused: ExtensionDecided) -> None:
    await update.callback_query.answer(wtexts.decided_text(refused.extension, context._, _zone(context)),
                                       show_alert=True)
    await clear_buttons(update)


async def approve_extension(update: Update, context: Context) -> None:
    """wv:<request>: the deadline moves to the proposed date; the contact is told."""
    _ = context._
    parsed = _parsed(update, data_of.EXTENSION_APPROVE)
    if parsed is None:
        await expired_button(update, context)
        return
    try:
        request = await workspace_of(context).approve_extension(parsed[0], supervisor_id=update.effective_user.id,
                                                                by_name=update.effective_user.full_name)
    except NotFound:
        await expired_button(update, context)
        return
    except ExtensionDecided as refused:
        await _already(update, context, refused)
        return
    except InvalidTransition as refused:
        await update.callback_query.answer(_("This item is {status}: there is no deadline to extend.",
                                             status=texts.status_label(_, refused.status)), show_alert=True)
        return
    await _say(update, _("Extension approved: the deadline of item {label} is now {date}. {unit} is told.",
                         label=html.escape(request.label), date=request.proposed.isoformat(),
                         unit=html.escape(request.unit)),
               [[(_("Open the item"), data_of.CARD.pack(request.item_id, 0))]])
    await mark_decided(update, _("✅ Approved by {name}: the deadline is now {date}.",
                                 name=html.escape(update.effective_user.full_name), date=request.proposed.isoformat()))


async def start_refusal(update: Update, context: Context) -> None:
    """wz:<request>: ask for the short reason of a refusal."""
    _ = context._
    parsed = _parsed(update, data_of.EXTENSION_REFUSE)
    if parsed is None:
        await expired_button(update, context)
        return
    try:
        request = await workspace_of(context).extension(parsed[0], supervisor_id=update.effective_user.id)
    except NotFound:
        await expired_button(update, context)
        return
    if request.status != "pending":
        await _already(update, context, ExtensionDecided(request))
        return
    await _expect(update, context, REFUSE_REASON, request.id, request.label)
    await _say(update, _("Type a short reason for refusing the extension of item {label} (the unit reads it). "
                         "/cancel to stop.", label=html.escape(request.label)))


async def _receive_refusal(update: Update, context: Context, pending: Pending, text: str) -> None:
    _ = context._
    request_id = int(pending.target)
    await _expect(update, context, REFUSE_CONFIRM, request_id, pending.data["label"], reason=text)
    await _say(update, _("Refuse the extension of item {label} with this reason? The unit will be told.",
                         label=html.escape(pending.data["label"])) + "\n\n" + html.escape(text),
               [[(_("Refuse"), data_of.EXTENSION_REFUSED.pack(request_id)),
                 (_("Write again"), data_of.EXTENSION_REFUSE.pack(request_id))], _cancel_row(context)])


async def confirm_refusal(update: Update, context: Context) -> None:
    """wk:<request>: refuse with the reason shown."""
    _ = context._
    pending = await _confirmed(update, context, data_of.EXTENSION_REFUSED, REFUSE_CONFIRM)
    if pending is None:
        return
    try:
        request = await workspace_of(context).refuse_extension(int(pending.target),
                                                               supervisor_id=update.effective_user.id,
                                                               reason=pending.data["reason"],
                                                               by_name=update.effective_user.full_name)
    except NotFound:
        await expired_button(update, context)
        return
    except ExtensionDecided as refused:
        await _say(update, wtexts.decided_text(refused.extension, _, _zone(context)) + " " + _("Nothing was changed."))
        return
    except InvalidTransition:
        await _changed_meanwhile(update, context)
        return
    await _show(update, _("The extension of item {label} is refused; {unit} is told.",
                          label=html.escape(request.label), unit=html.escape(request.unit)), [])


async def cancel(update: Update, context: Context) -> None:
    """/cancel or wq:: leave what was being typed; nothing is changed."""
    await flow.done(update, context, FEATURE)
    await _say(update, context._("Cancelled."))


# ---- registration -------------------------------------------------------------------------------

def contact_handlers() -> list:
    """Anyone's (the service checks the chat's unit): a contact's extension request, and cancel."""
    return [
        CallbackQueryHandler(ask_extension, pattern=data_of.EXTENSION_ASK.pattern),
        CallbackQueryHandler(send_extension, pattern=data_of.EXTENSION_SEND.pattern),
        CallbackQueryHandler(cancel, pattern=r"^wq:$"),
    ]


def supervisor_handlers() -> list:
    """The supervisors' workspace: registered behind the supervisors' gate."""
    return [
        CommandHandler("ledger", show_rounds),
        CommandHandler("overdue", show_overdue),
        CallbackQueryHandler(show_rounds, pattern=r"^menu:ledger$"),
        CallbackQueryHandler(show_overdue, pattern=r"^lo:"),
        *(CallbackQueryHandler(callback, pattern=format_.pattern) for callback, format_ in (
            (show_rounds, data_of.ROUNDS), (show_units, data_of.ROUND_UNITS), (show_items, data_of.UNIT_ITEMS),
            (show_card, data_of.CARD), (show_overdue, data_of.OVERDUE_PAGE), (start_action, data_of.CARD_ACTION),
            (pick_unit, data_of.REASSIGN_TO), (confirm, data_of.CONFIRM),
            (approve_extension, data_of.EXTENSION_APPROVE), (start_refusal, data_of.EXTENSION_REFUSE),
            (confirm_refusal, data_of.EXTENSION_REFUSED))),
    ]
