"""Rectification ledger in chat: binding unit contacts, their items, progress, closing and review.

Unit contacts bind their chat with `/bind CODE` or the deep link `/start bind-CODE`, list their
unit's items with `/tasks`, report progress (text, photos, documents) and ask for closing. `/tasks`
also lists, read-only, the items their unit assists (配合单位) and those of the units below it:
their cards open (li:) with no action buttons, and the service refuses actions on them.
Supervisors get each closure request with approve / send back buttons; they can also close an
item directly with a reason (shown first, sent when confirmed). Their /ledger, /overdue and item
cards with history and actions are handlers/workspace.py (li: opens that card for them). A progress report being written, or a comment asked for, is the
user's pending input (feature "ledger"). Closure requests and decisions reach the other side
through the outbox (bot/ledger/notices.py). The supervisors' callbacks are registered behind the
supervisors' gate (handlers/__init__.py).

Callback data (64 bytes at most; all checked on arrival, access included, since anyone can forge it):
  lt:<page>    the chat's items, one page       li:<item>   one item
  lp:<item>    report progress (then messages)   ld:<item>   progress done
  lc:<item>    request closure                   la:<item>   approve closing (supervisor)
  lb:<item>    send back with a comment (sup.)   lx:<item>   close directly with a reason (sup.)
  ly:<item>   confirm closing directly (sup.)
"""

from __future__ import annotations

import dataclasses
import html
import logging


from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import outbox
from bot.i18n import N_, language_for
from bot.ledger import texts
from bot.ledger.models import ItemStatus
from bot.ledger.service import (AlreadyDecided, Evidence, InvalidTransition, InviteInvalid, ItemView, LedgerError,
                                LedgerService, NeedsNewProgress, NotFound, SecondReviewNeeded)
from bot.pending import Pending
from handlers import callback_data as data_of, flow, workspace
from handlers.common import buttons, clear_buttons, expired_button
from handlers.context import Context

log = logging.getLogger(__name__)

FEATURE = "ledger"
PROGRESS, SEND_BACK, CLOSE_DIRECTLY, CONFIRM_CLOSE = "progress", "send_back", "close_directly", "confirm_close"
ITEMS_PER_PAGE = 6



def ledger_of(context: Context) -> LedgerService:
    return context.services.ledger


_short = texts.short


def _item_id(update: Update, kind: str) -> int | None:
    parsed = data_of.item(kind).parse(update.callback_query.data)
    return parsed[0] if parsed else None


async def _send(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


# ---- binding ---------------------------------------------------------------------------------

async def bind_chat(update: Update, context: Context) -> None:
    """/bind CODE: bind this chat to the unit the one-time code was made for."""
    if not context.args:
        await _send(update, context._("Send the code you were given, e.g. <code>/bind K7Q2M9XW4D</code>."))
        return
    await _bind(update, context, context.args[0])


async def bind_from_link(update: Update, context: Context) -> None:
    """/start bind-CODE (deep link from `qingfeng units invite`)."""
    await _bind(update, context, context.args[0].removeprefix("bind-"))


async def _bind(update: Update, context: Context, code: str) -> None:
    _ = context._
    try:
        unit = await ledger_of(context).bind(code, update.effective_chat.id)
    except InviteInvalid as refused:
        text = {"expired": _("This code has expired. Ask the inspection office for a new one."),
                "used": _("This code has already been used. Ask the inspection office for a new one."),
                "bound_elsewhere": _("This chat already acts for {unit}, which would be left without it. Nothing was "
                                     "changed. To act for another unit, ask the inspection office to unbind this chat "
                                     "first (or use another chat).", unit=html.escape(refused.unit or ""))}.get(
            refused.reason, _("This code is not valid. Check it, or ask the inspection office for a new one."))
        await _send(update, text)
        return
    log.info("A chat was bound to a unit")
    await context.services.reminders.replan_unit(unit.id)
    user = update.effective_user
    if user is not None and user.language_code:  # what the outbox writes to them in, unless they choose
        await outbox.note_recipient_language(context.services.database, update.effective_chat.id,
                                             language_for(user.language_code, context.services.settings.bot.language))
    await _send(update, _("This chat now acts for <b>{unit}</b>. You will receive its rectification reminders here. "
                          "See its items with /tasks.", unit=html.escape(unit.name)))


# ---- the contact's items ---------------------------------------------------------------------

async def show_tasks(update: Update, context: Context) -> None:
    """/tasks or lt:<page>: the unit's open items, then (read-only) the items it assists as a co-unit
    and those of the units below it, grouped by unit; a page at a time, numbered across sections."""
    _ = context._
    query = update.callback_query
    page = 0
    if query is not None:
        parsed = data_of.TASK_PAGE.parse(query.data)
        if parsed is None:
            await expired_button(update, context)
            return
        (page,) = parsed
    try:
        tasks = await ledger_of(context).tasks_for_chat(update.effective_chat.id)
    except NotFound:
        if query is not None:
            await expired_button(update, context)
        else:
            await _send(update, _("This chat is not bound to a unit. Unit contacts get a code from the inspection "
                                  "office and send <code>/bind CODE</code>."))
        return
    entries = ([(OWN, i) for i in tasks.own] + [(ASSISTING, i) for i in tasks.assisting]
               + [(SUBORDINATE, i) for i in tasks.subordinate])
    pages = max(1, -(-len(entries) // ITEMS_PER_PAGE))
    if page >= pages:
        await expired_button(update, context)
        return
    if query is not None:
        await query.answer()
    unit = html.escape(tasks.unit.name)
    if not entries:
        await _send(update, _("<b>{unit}</b> has no open rectification items.", unit=unit))
        return
    counts = {OWN: len(tasks.own), ASSISTING: len(tasks.assisting), SUBORDINATE: len(tasks.subordinate)}
    lines = [_("Page {page}/{pages}", page=page + 1, pages=pages)] if pages > 1 else []
    if page == 0 and not tasks.own:
        lines += [_("<b>{unit}</b> has no open rectification items.", unit=unit), ""]
    rows, section, group = [], None, None
    for number, (kind, item) in enumerate(entries[page * ITEMS_PER_PAGE:(page + 1) * ITEMS_PER_PAGE],
                                          start=page * ITEMS_PER_PAGE + 1):
        if kind != section:
            section, group = kind, None
            lines += ([""] if lines and lines[-1] else []) + [_(SECTION_TITLES[kind], unit=unit, count=counts[kind])]
        if kind == SUBORDINATE and item.unit != group:
            group = item.unit
            lines.append(f"<b>{html.escape(item.unit)}</b>")
        lines.append(f"{number}. {_item_line(item, context)}")
        rows.append([(f"{number}. {_short(item.problem)}", f"li:{item.id}")])
    paging = []
    if page > 0:
        paging.append(("‹ " + _("Previous"), f"lt:{page - 1}"))
    if page < pages - 1:
        paging.append((_("Next") + " ›", f"lt:{page + 1}"))
    if paging:
        rows.append(paging)
    await _send(update, "\n".join(lines), buttons(rows))


OWN, ASSISTING, SUBORDINATE = "own", "assisting", "subordinate"
SECTION_TITLES = {
    OWN: N_("<b>{unit}</b>: {count} open rectification items"),
    ASSISTING: N_("<b>Items you assist</b> as a co-unit (配合单位), read-only: {count}"),
    SUBORDINATE: N_("<b>Open items of the units under {unit}</b>, read-only: {count}"),
}


def _item_line(item: ItemView, context: Context) -> str:
    return texts.item_line(item, context._)


async def _progress_lines(ledger: LedgerService, item: ItemView, context: Context, *, chat_id: int | None,
                          supervisor_id: int | None) -> list[str]:
    entries = await ledger.progress_of(item.id, chat_id=chat_id, supervisor_id=supervisor_id)
    return texts.progress_lines(entries, context._, context.services.settings.zone)


async def show_item(update: Update, context: Context) -> None:
    """li:<item>: one item with its latest progress and the actions this user may take."""
    item_id = _item_id(update, "i")
    if context.is_supervisor:  # the supervisor's card: history and actions (handlers/workspace.py)
        await workspace.open_card(update, context, item_id or 0)
        return
    ledger = ledger_of(context)
    supervisor_id = update.effective_user.id if context.is_supervisor else None
    chat_id = update.effective_chat.id
    try:
        item = await ledger.item(item_id or 0, chat_id=chat_id, supervisor_id=supervisor_id)
    except NotFound:
        await expired_button(update, context)
        return
    await update.callback_query.answer()
    unit = await ledger.unit_of_chat(chat_id)
    as_contact = unit is not None and item.unit_id == unit.id
    lines = await _progress_lines(ledger, item, context, chat_id=chat_id, supervisor_id=supervisor_id)
    text = texts.item_text(item, context._, lines, zone=context.services.settings.zone)
    if as_contact:  # their extension request (延期申请), while it waits
        text += await workspace.waiting_text(context, item.id)
    if unit is not None and not as_contact:  # a co-unit's or a parent unit's contact: they read, the unit acts
        text += "\n\n" + context._("You see this item as {relation}; {unit} reports its progress.",
                                    relation=context._(CO_UNIT if unit.name in item.co_units else PARENT_UNIT),
                                    unit=html.escape(item.unit))
    await _send(update, text, buttons(texts.item_buttons(item, context._, as_supervisor=context.is_supervisor,
                                                         as_contact=as_contact, read_only=unit is not None)))


CO_UNIT, PARENT_UNIT = N_("a co-unit (配合单位)"), N_("the unit above its unit")


# ---- progress, and the supervisors' comments: the pending input ---------------------------------

async def _expect(update: Update, context: Context, action: str, item: ItemView, **data) -> None:
    await flow.expect(update, context, Pending(FEATURE, action, target=str(item.id),
                                               data={"label": item.label, **data}))


def _pending_item(context: Context, *actions: str) -> int | None:
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.expired or pending.action not in actions:
        return None
    return int(pending.target)


async def start_progress(update: Update, context: Context) -> None:
    """lp:<item>: the next messages (text, photos, documents) are this item's progress report."""
    _ = context._
    item_id = _item_id(update, "p")
    try:
        item = await ledger_of(context).check_prompt(chat_id=update.effective_chat.id, user_id=update.effective_user.id,
                                                     action="progress", item_id=item_id or 0)
    except NotFound:
        await expired_button(update, context)
        return
    except InvalidTransition as refused:  # closed meanwhile: say so, as the item's other buttons do
        await update.callback_query.answer(_status_text(context, refused.status), show_alert=True)
        return
    await update.callback_query.answer()
    await _expect(update, context, PROGRESS, item)
    await _send(update, _("Progress on item {external_id}: describe what has been done. You can send photos or "
                          "documents as evidence (with a caption or on their own). Press “Done” when finished, or "
                          "send /cancel.", external_id=html.escape(item.label)))


async def receive(update: Update, context: Context) -> None:
    """The next message of a progress report, or a supervisor's comment."""
    action = context.pending.action
    if action == PROGRESS:
        await receive_progress(update, context)
    elif action in (SEND_BACK, CLOSE_DIRECTLY):
        await receive_comment(update, context)
    else:
        await _send(update, context._("Please press Close directly, Write again or Cancel above."))


async def receive_progress(update: Update, context: Context) -> None:
    """A text, photo or document while a progress report is open."""
    _ = context._
    message = update.effective_message
    pending = context.pending
    item_id = int(pending.target)
    evidence = []
    if message.photo or message.document:
        evidence.append(await _fetch_evidence(message, context))
    try:
        recorded = await ledger_of(context).record_progress(item_id, chat_id=update.effective_chat.id,
                                                            text=message.text or message.caption or "",
                                                            evidence=evidence, entry_id=pending.data.get("entry"))
    except (NotFound, InvalidTransition):
        await flow.done(update, context, FEATURE)
        await _send(update, _("This item can no longer take progress reports."))
        return
    except LedgerError:
        await _send(update, _("Please send text, a photo or a document."))
        return
    await _expect(update, context, PROGRESS, recorded.item, entry=recorded.progress_id)
    not_kept = evidence and evidence[0].content is None
    await message.reply_text(
        _("Recorded for item {external_id} ({count} files so far). Send more, or press “Done”.",
          external_id=html.escape(recorded.item.label), count=recorded.files)
        + ("\n" + _("The bot could not keep a copy of this file (over {mb} MB or not downloadable): the office "
                     "sees it in the chat only. If it matters, send it smaller or split.",
                     mb=context.services.settings.ledger.max_evidence_mb) if not_kept else ""),
        parse_mode=ParseMode.HTML,
        reply_markup=buttons([[(_("Done"), f"ld:{item_id}"), (_("Request closure"), f"lc:{item_id}")]]))


async def _fetch_evidence(message: Message, context: Context) -> Evidence:
    """The photo or document, downloaded so the bot keeps it (Telegram's copy may not last); a file
    too big for bots to download is recorded by its Telegram id only."""
    if message.photo:
        source, evidence = message.photo[-1], Evidence("photo", message.photo[-1].file_id)
    else:
        document = message.document
        source = document
        evidence = Evidence("document", document.file_id, document.file_name, document.mime_type)
    limit = context.services.settings.ledger.max_evidence_mb * 1024 * 1024
    if (source.file_size or 0) > limit:
        return evidence
    try:
        telegram_file = await source.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("evidence file not downloaded: %s", type(exc).__name__)
        return evidence
    return dataclasses.replace(evidence, content=content) if len(content) <= limit else evidence


async def finish_progress(update: Update, context: Context) -> None:
    """ld:<item>: the progress report is complete."""
    _ = context._
    item_id = _item_id(update, "d")
    if item_id is None or _pending_item(context, PROGRESS) != item_id:
        await expired_button(update, context)
        return
    if not context.pending.data.get("entry"):  # nothing sent yet: nothing to call saved
        await update.callback_query.answer(_("Nothing has been recorded yet: send a text, photo or document "
                                             "first, or /cancel."), show_alert=True)
        return
    await flow.done(update, context, FEATURE)
    await update.callback_query.answer()
    await _send(update, _("Thank you, the progress report is saved. When the rectification is complete, press "
                          "“Request closure” on the item."),
                buttons([[(_("Request closure"), f"lc:{item_id}"), (_("All items"), "lt:0")]]))


async def cancel(update: Update, context: Context) -> None:
    """/cancel or the Cancel button: leave the progress report or comment being written. What a
    progress report already recorded stays recorded, and the contact is told so."""
    kept = _pending_item(context, PROGRESS) is not None and context.pending.data.get("entry")
    await flow.done(update, context, FEATURE)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await _send(update, context._("Stopped. What you had sent is kept as a progress report.") if kept
                else context._("Cancelled."))


# ---- closing ---------------------------------------------------------------------------------

def _status_text(context: Context, status: str) -> str:
    return context._("This item is {status}.", status=texts.status_label(context._, status))


async def request_closure(update: Update, context: Context) -> None:
    """lc:<item>: the unit asks for closing; the supervisors get the request (through the outbox)."""
    _ = context._
    item_id = _item_id(update, "c")
    try:
        item = await ledger_of(context).request_closure(item_id or 0, chat_id=update.effective_chat.id)
    except NotFound:
        await expired_button(update, context)
        return
    except NeedsNewProgress as refused:
        await update.callback_query.answer()
        await _send(update, _("Item {label} was sent back on {date}: {comment}\nReport the new progress or evidence "
                              "first (“Report progress”), then ask for closing again.",
                              label=html.escape(refused.label), date=texts.day(
                                  refused.sent_back_at, context.services.settings.zone),
                              comment=html.escape(refused.comment)),
                    buttons([[(_("Report progress"), f"lp:{item_id}")]]))
        return
    except InvalidTransition as refused:
        if refused.status in (ItemStatus.OPEN.value, ItemStatus.IN_PROGRESS.value):
            await update.callback_query.answer(_("Report progress first: what was done, with photos or documents if you have them."), show_alert=True)
        else:
            await update.callback_query.answer(_status_text(context, refused.status), show_alert=True)
        return
    await flow.done(update, context, FEATURE)
    await update.callback_query.answer()
    await _send(update, _("Closure of item {external_id} is requested. The inspection office will review it and "
                          "tell you here.", external_id=html.escape(item.label)))


async def approve_closure(update: Update, context: Context) -> None:
    """la:<item> (supervisors): close the item; the unit is told."""
    _ = context._
    item_id = _item_id(update, "a")
    if item_id is None:
        await expired_button(update, context)
        return
    try:
        item = await ledger_of(context).approve(item_id, supervisor_id=update.effective_user.id,
                                                by_name=update.effective_user.full_name)
    except NotFound:
        await expired_button(update, context)
        return
    except SecondReviewNeeded:
        await update.callback_query.answer(_("You gave the first approval: the second must come from another "
                                             "supervisor."), show_alert=True)
        return
    except AlreadyDecided as refused:
        await update.callback_query.answer(_already_decided(context, refused), show_alert=True)
        await clear_buttons(update)
        return
    except InvalidTransition as refused:
        await update.callback_query.answer(_status_text(context, refused.status), show_alert=True)
        return
    await update.callback_query.answer()
    await clear_buttons(update)
    if item.first_review_at is not None and item.status == ItemStatus.CLOSURE_REQUESTED.value:
        await _send(update, _("First approval of item {label} recorded. A second supervisor's approval closes it; "
                              "they have been sent the request.", label=html.escape(item.label)))
        return
    await _send(update, _("Item {external_id} is closed.", external_id=html.escape(item.label)))


def _already_decided(context: Context, refused: AlreadyDecided) -> str:
    """What the second of two supervisors deciding at once is told: who decided what, and when."""
    _ = context._
    decision = refused.decision
    if decision is None:
        return _status_text(context, refused.status)
    return _("Already decided: {action} by {by} at {time}.", action=_(texts.REVIEW_ACTIONS[decision.action]),
             by=decision.actor_name or _("a supervisor"),
             time=decision.at.astimezone(context.services.settings.zone).strftime("%Y-%m-%d %H:%M"))


async def start_comment(update: Update, context: Context) -> None:
    """lb:<item> (send back) or lx:<item> (close directly), supervisors: ask for the comment or reason."""
    _ = context._
    query = update.callback_query
    kind = (query.data or "")[1:2]
    item_id = _item_id(update, kind) if kind in ("b", "x") else None
    if item_id is None:
        await expired_button(update, context)
        return
    action = SEND_BACK if kind == "b" else CLOSE_DIRECTLY
    try:
        item = await ledger_of(context).check_prompt(chat_id=update.effective_chat.id, user_id=update.effective_user.id,
                                                     action=action, item_id=item_id)
    except NotFound:
        await expired_button(update, context)
        return
    except InvalidTransition as refused:
        await query.answer(_status_text(context, refused.status), show_alert=True)
        return
    await query.answer()
    await _expect(update, context, action, item)
    if action == SEND_BACK:
        text = _("Item {external_id}: type the comment for the unit (what is missing). /cancel to stop.",
                 external_id=html.escape(item.label))
    else:
        text = _("Item {external_id}: type the reason for closing it directly (e.g. policy change, force majeure, "
                 "inaccurate finding). /cancel to stop.", external_id=html.escape(item.label))
    await _send(update, text)


async def receive_comment(update: Update, context: Context) -> None:
    """The supervisor's comment (send back: done at once) or reason (close directly: shown to confirm)."""
    _ = context._
    pending = context.pending
    comment = (update.effective_message.text or "").strip()
    if not comment:
        await _send(update, _("Please type the comment as text."))
        return
    item_id = int(pending.target)
    if pending.action == CLOSE_DIRECTLY:
        await flow.expect(update, context, Pending(FEATURE, CONFIRM_CLOSE, target=pending.target,
                                                   data={**pending.data, "text": comment}))
        await _send(update, _("Close item {external_id} directly with this reason? The unit will be told.",
                              external_id=html.escape(pending.data.get("label", ""))) + "\n\n" + html.escape(comment),
                    buttons([[(_("Close directly"), f"ly:{item_id}"), (_("Write again"), f"lx:{item_id}")],
                             [(_("Cancel"), "lq:")]]))
        return
    await flow.done(update, context, FEATURE)
    await _decide(update, context, SEND_BACK, item_id, comment)


async def confirm_close(update: Update, context: Context) -> None:
    """ly:<item>: close directly with the reason shown."""
    item_id = _item_id(update, "y")
    if item_id is None or _pending_item(context, CONFIRM_CLOSE) != item_id:
        await expired_button(update, context)
        return
    reason = context.pending.data["text"]
    await update.callback_query.answer()
    await flow.done(update, context, FEATURE)
    await _decide(update, context, CLOSE_DIRECTLY, item_id, reason)


async def _decide(update: Update, context: Context, action: str, item_id: int, comment: str) -> None:
    _ = context._
    ledger = ledger_of(context)
    user_id = update.effective_user.id
    try:
        name = update.effective_user.full_name
        if action == SEND_BACK:
            item = await ledger.send_back(item_id, supervisor_id=user_id, comment=comment, by_name=name)
        else:
            item = await ledger.close_directly(item_id, supervisor_id=user_id, reason=comment, by_name=name)
    except AlreadyDecided as refused:
        await _send(update, _already_decided(context, refused) + " " + _("Nothing was changed."))
        return
    except (NotFound, InvalidTransition):
        await _send(update, _("This item has changed meanwhile; nothing was done. Open it again."))
        return
    ref = html.escape(item.label)
    if action == SEND_BACK:
        await _send(update, _("Item {external_id} was sent back to {unit}.", external_id=ref, unit=html.escape(item.unit)))
    else:
        await _send(update, _("Item {external_id} is closed directly.", external_id=ref))


# ---- registration ----------------------------------------------------------------------------

DEEP_LINK = filters.Regex(r"^/start(@\w+)?\s+bind-")


def contact_handlers() -> list:
    """Unit contacts' handlers (and anyone's: the service checks the unit of the chat)."""
    return [
        CommandHandler("bind", bind_chat),
        CommandHandler("tasks", show_tasks),
        CallbackQueryHandler(show_tasks, pattern=r"^lt:"),
        CallbackQueryHandler(show_item, pattern=r"^li:"),
        CallbackQueryHandler(start_progress, pattern=r"^lp:"),
        CallbackQueryHandler(finish_progress, pattern=r"^ld:"),
        CallbackQueryHandler(request_closure, pattern=r"^lc:"),
        CallbackQueryHandler(cancel, pattern=r"^lq:$"),
    ]


def supervisor_handlers() -> list:
    """Supervisors' handlers: registered behind the supervisors' gate."""
    return [
        CallbackQueryHandler(approve_closure, pattern=r"^la:"),
        CallbackQueryHandler(start_comment, pattern=r"^l[bx]:"),
        CallbackQueryHandler(confirm_close, pattern=r"^ly:"),
    ]
