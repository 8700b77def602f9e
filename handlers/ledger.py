"""Rectification ledger in chat: binding unit contacts, their items, progress, closing and review.

Unit contacts bind their chat with `/bind CODE` or the deep link `/start bind-CODE`, list their
unit's items with `/tasks`, report progress (text, photos, documents) and ask for closing.
Supervisors get `/ledger` (summary by unit and status), `/overdue`, and each closure request
with approve / send back buttons; they can also close an item directly with a reason.

Callback data (64 bytes at most; all checked on arrival, access included, since anyone can forge it):
  lt:<page>    the chat's items, one page       li:<item>   one item
  lp:<item>    report progress (then messages)   ld:<item>   progress done
  lc:<item>    request closure                   la:<item>   approve closing (supervisor)
  lb:<item>    send back with a comment (sup.)   lx:<item>   close directly with a reason (sup.)
  lo:          the overdue list (supervisor)
"""

from __future__ import annotations

import html
import logging
import re

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.i18n import N_, translator
from bot.ledger.models import ItemStatus
from bot.ledger.service import (Evidence, allowed, InvalidTransition, InviteInvalid, ItemView, LedgerError, LedgerService,
                                NotFound)
from handlers.common import buttons
from handlers.common import conversation as chat_conversation
from handlers.context import Context

log = logging.getLogger(__name__)

ITEMS_PER_PAGE = 6
OVERDUE_SHOWN = 30
OVERDUE_BUTTONS = 10
BUTTON_TEXT_LIMIT = 40
TEXT_LIMIT = 3800
EVIDENCE_FORWARDED = 5

# Conversation states: what the next message of this user in this chat is.
PROGRESS, COMMENT = "ledger-progress", "ledger-comment"

STATUS_LABELS = {
    ItemStatus.OPEN.value: N_("not started"),
    ItemStatus.IN_PROGRESS.value: N_("in progress"),
    ItemStatus.CLOSURE_REQUESTED.value: N_("closure requested"),
    ItemStatus.CLOSED.value: N_("closed after review"),
    ItemStatus.CLOSED_DIRECTLY.value: N_("closed directly"),
}
SEVERITY_LABELS = {"low": N_("minor"), "normal": N_("normal"), "high": N_("serious")}

ITEM_DATA = re.compile(r"l([ipdcabx]):(\d{1,10})")
PAGE_DATA = re.compile(r"lt:(\d{1,4})")


def ledger_of(context: Context) -> LedgerService:
    return context.services.ledger


def _short(text: str, limit: int = BUTTON_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _item_id(update: Update, kind: str) -> int | None:
    match = ITEM_DATA.fullmatch(update.callback_query.data or "")
    return int(match[2]) if match and match[1] == kind else None


async def _expired(update: Update, context: Context) -> None:
    await update.callback_query.answer(context._("This button has expired."))


async def _send(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def _chunks(lines: list[str]) -> list[str]:
    pieces, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > TEXT_LIMIT:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return pieces + ([current] if current else [])


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
                "used": _("This code has already been used. Ask the inspection office for a new one.")}.get(
            refused.reason, _("This code is not valid. Check it, or ask the inspection office for a new one."))
        await _send(update, text)
        return
    log.info("A chat was bound to a unit")
    await _send(update, _("This chat now acts for <b>{unit}</b>. You will receive its rectification reminders here. "
                          "See its items with /tasks.", unit=html.escape(unit.name)))


# ---- the contact's items ---------------------------------------------------------------------

async def show_tasks(update: Update, context: Context) -> None:
    """/tasks or lt:<page>: the unit's open items, a page at a time."""
    _ = context._
    query = update.callback_query
    page = 0
    if query is not None:
        match = PAGE_DATA.fullmatch(query.data or "")
        if match is None:
            await _expired(update, context)
            return
        page = int(match[1])
    try:
        unit, items, total = await ledger_of(context).items_for_chat(update.effective_chat.id, page=page,
                                                                     per_page=ITEMS_PER_PAGE)
    except NotFound:
        if query is not None:
            await _expired(update, context)
        else:
            await _send(update, _("This chat is not bound to a unit. Unit contacts get a code from the inspection "
                                  "office and send <code>/bind CODE</code>."))
        return
    pages = max(1, -(-total // ITEMS_PER_PAGE))
    if page >= pages:
        await _expired(update, context)
        return
    if query is not None:
        await query.answer()
    if not total:
        await _send(update, _("<b>{unit}</b> has no open rectification items.", unit=html.escape(unit.name)))
        return
    lines = [_("<b>{unit}</b>: {count} open rectification items ({page}/{pages})", unit=html.escape(unit.name),
               count=total, page=page + 1, pages=pages), ""]
    rows = []
    for number, item in enumerate(items, start=page * ITEMS_PER_PAGE + 1):
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


def _item_line(item: ItemView, context: Context) -> str:
    _ = context._
    due = _("overdue by {days} days", days=-item.days_left) if item.overdue else \
        _("due {date}", date=item.deadline.isoformat())
    return (f"[{html.escape(item.external_id)}] {html.escape(_short(item.problem, 60))} — "
            f"{_(STATUS_LABELS.get(item.status, item.status))}, {due}")


def _item_text(item: ItemView, context: Context, progress_lines: list[str] = ()) -> str:
    _ = context._
    lines = [
        _("<b>Item {external_id}</b> ({round})", external_id=html.escape(item.external_id), round=html.escape(item.round)),
        _("Unit: {unit}", unit=html.escape(item.unit)),
        _("Problem: {problem}", problem=html.escape(_short(item.problem, 1500))),
    ]
    if item.plan:
        lines.append(_("Plan: {plan}", plan=html.escape(_short(item.plan, 1000))))
    if item.owner:
        lines.append(_("Responsible: {owner}", owner=html.escape(item.owner)))
    lines.append(_("Severity: {severity}", severity=_(SEVERITY_LABELS.get(item.severity, item.severity))))
    lines.append(_("Deadline: {date}", date=item.deadline.isoformat())
                 + (" — " + _("overdue by {days} days", days=-item.days_left) if item.overdue else ""))
    lines.append(_("Status: {status}", status=_(STATUS_LABELS.get(item.status, item.status))))
    if item.closed_reason:
        lines.append(_("Reason for closing directly: {reason}", reason=html.escape(item.closed_reason)))
    if progress_lines:
        lines += ["", _("<b>Latest progress</b>")] + list(progress_lines)
    return "\n".join(lines)


async def _progress_lines(ledger: LedgerService, item: ItemView, context: Context, *, chat_id: int | None,
                          supervisor_id: int | None, count: int = 3) -> tuple[list[str], list[Evidence]]:
    entries = await ledger.progress_of(item.id, chat_id=chat_id, supervisor_id=supervisor_id)
    zone = context.services.settings.zone
    lines, files = [], []
    for entry in entries[-count:]:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d")
        attached = context._(" ({count} files)", count=len(entry.evidence)) if entry.evidence else ""
        lines.append(f"• {when}: {html.escape(_short(entry.text, 400)) or '—'}{attached}")
        files += entry.evidence
    return lines, files


def _item_keyboard(item: ItemView, context: Context, *, as_supervisor: bool, as_contact: bool) -> InlineKeyboardMarkup:
    _ = context._
    rows = []
    if as_contact and allowed(item, "progress"):
        row = [(_("Report progress"), f"lp:{item.id}")]
        if allowed(item, "request_closure"):
            row.append((_("Request closure"), f"lc:{item.id}"))
        rows.append(row)
    if as_supervisor:
        if allowed(item, "approve"):
            rows.append([(_("Approve closing"), f"la:{item.id}"), (_("Send back"), f"lb:{item.id}")])
        if allowed(item, "close_directly"):
            rows.append([(_("Close directly"), f"lx:{item.id}")])
    if as_contact:
        rows.append([(_("All items"), "lt:0")])
    return buttons(rows)


async def show_item(update: Update, context: Context) -> None:
    """li:<item>: one item with its latest progress and the actions this user may take."""
    item_id = _item_id(update, "i")
    ledger = ledger_of(context)
    supervisor_id = update.effective_user.id if context.is_supervisor else None
    chat_id = update.effective_chat.id
    try:
        item = await ledger.item(item_id or 0, chat_id=chat_id, supervisor_id=supervisor_id)
    except NotFound:
        await _expired(update, context)
        return
    await update.callback_query.answer()
    as_contact = item.unit_id == ((await ledger.unit_of_chat(chat_id)) or _NoUnit).id
    lines, _files = await _progress_lines(ledger, item, context, chat_id=chat_id, supervisor_id=supervisor_id)
    await _send(update, _item_text(item, context, lines),
                _item_keyboard(item, context, as_supervisor=context.is_supervisor, as_contact=as_contact))


class _NoUnit:
    id = None


# ---- progress (a short conversation) ---------------------------------------------------------

async def start_progress(update: Update, context: Context) -> str | int:
    """lp:<item>: the next messages (text, photos, documents) are this item's progress report."""
    _ = context._
    item_id = _item_id(update, "p")
    try:
        item = await ledger_of(context).start_prompt(chat_id=update.effective_chat.id, user_id=update.effective_user.id,
                                                     action="progress", item_id=item_id or 0)
    except (NotFound, InvalidTransition):
        await _expired(update, context)
        return ConversationHandler.END
    await update.callback_query.answer()
    await _send(update, _("Progress on item {external_id}: describe what has been done. You can send photos or "
                          "documents as evidence (with a caption or on their own). Press “Done” when finished, or "
                          "send /cancel.", external_id=html.escape(item.external_id)))
    return PROGRESS


async def receive_progress(update: Update, context: Context) -> str | int:
    """A text, photo or document while a progress report is open."""
    _ = context._
    message = update.effective_message
    ledger = ledger_of(context)
    chat_id, user_id = update.effective_chat.id, update.effective_user.id
    prompt = await ledger.prompt(chat_id=chat_id, user_id=user_id)
    if prompt is None or prompt.action != "progress":
        await ledger.end_prompt(chat_id=chat_id, user_id=user_id)
        await _send(update, _("The progress report was closed after a while without messages. Open the item with "
                              "/tasks and press “Report progress” again."))
        return ConversationHandler.END
    evidence = []
    if message.photo:
        evidence.append(Evidence("photo", message.photo[-1].file_id))
    elif message.document:
        evidence.append(Evidence("document", message.document.file_id, message.document.file_name,
                                 message.document.mime_type))
    try:
        recorded = await ledger.record_progress(prompt.item_id, chat_id=chat_id, user_id=user_id,
                                                text=message.text or message.caption or "", evidence=evidence)
    except (NotFound, InvalidTransition):
        await ledger.end_prompt(chat_id=chat_id, user_id=user_id)
        await _send(update, _("This item can no longer take progress reports."))
        return ConversationHandler.END
    except LedgerError:
        await _send(update, _("Please send text, a photo or a document."))
        return PROGRESS
    await message.reply_text(
        _("Recorded for item {external_id} ({count} files so far). Send more, or press “Done”.",
          external_id=html.escape(recorded.item.external_id), count=recorded.files),
        parse_mode=ParseMode.HTML,
        reply_markup=buttons([[(_("Done"), f"ld:{prompt.item_id}"), (_("Request closure"), f"lc:{prompt.item_id}")]]))
    return PROGRESS


async def finish_progress(update: Update, context: Context) -> int:
    """ld:<item>: the progress report is complete."""
    _ = context._
    item_id = _item_id(update, "d")
    ledger = ledger_of(context)
    chat_id, user_id = update.effective_chat.id, update.effective_user.id
    prompt = await ledger.prompt(chat_id=chat_id, user_id=user_id)
    if item_id is None or prompt is None or prompt.item_id != item_id:
        await _expired(update, context)
        return ConversationHandler.END
    await ledger.end_prompt(chat_id=chat_id, user_id=user_id)
    await update.callback_query.answer()
    await _send(update, _("Thank you, the progress report is saved. When the rectification is complete, press "
                          "“Request closure” on the item."),
                buttons([[(_("Request closure"), f"lc:{item_id}"), (_("All items"), "lt:0")]]))
    return ConversationHandler.END


async def cancel(update: Update, context: Context) -> int:
    """/cancel: leave the progress report or comment being written."""
    await ledger_of(context).end_prompt(chat_id=update.effective_chat.id, user_id=update.effective_user.id)
    await _send(update, context._("Cancelled."))
    return ConversationHandler.END


# ---- closing ---------------------------------------------------------------------------------

async def request_closure(update: Update, context: Context) -> int:
    """lc:<item>: the unit asks for closing; the supervisors get the request with review buttons."""
    _ = context._
    item_id = _item_id(update, "c")
    ledger = ledger_of(context)
    chat_id = update.effective_chat.id
    try:
        item = await ledger.request_closure(item_id or 0, chat_id=chat_id)
    except NotFound:
        await _expired(update, context)
        return ConversationHandler.END
    except InvalidTransition as refused:
        if refused.status in (ItemStatus.OPEN.value, ItemStatus.IN_PROGRESS.value):
            await update.callback_query.answer(_("Report progress with evidence first."), show_alert=True)
        else:
            await update.callback_query.answer(_("This item is {status}.", status=_(STATUS_LABELS.get(refused.status, refused.status))),
                                               show_alert=True)
        return ConversationHandler.END
    await ledger.end_prompt(chat_id=chat_id, user_id=update.effective_user.id)
    await update.callback_query.answer()
    await _send(update, _("Closure of item {external_id} is requested. The inspection office will review it and "
                          "tell you here.", external_id=html.escape(item.external_id)))
    await _notify_supervisors(context, item)
    return ConversationHandler.END


async def _notify_supervisors(context: Context, item: ItemView) -> None:
    ledger = ledger_of(context)
    for supervisor_id in sorted(context.services.settings.supervisor_ids):
        language = await context.services.language_of(supervisor_id)
        _ = translator(language)
        view = _LanguageView(context, language)
        lines, files = await _progress_lines(ledger, item, view, chat_id=None, supervisor_id=supervisor_id)
        text = _("<b>Closure requested</b> by {unit}", unit=html.escape(item.unit)) + "\n\n" + _item_text(item, view, lines)
        try:
            for file in files[-EVIDENCE_FORWARDED:]:
                if file.kind == "photo":
                    await context.bot.send_photo(supervisor_id, file.file_id)
                else:
                    await context.bot.send_document(supervisor_id, file.file_id)
            await context.bot.send_message(supervisor_id, text, parse_mode=ParseMode.HTML,
                                           reply_markup=_item_keyboard(item, view, as_supervisor=True, as_contact=False))
        except TelegramError as exc:  # a supervisor who never opened the bot, for instance
            log.warning("Could not tell a supervisor about a closure request: %s", type(exc).__name__)


class _LanguageView:
    """Stands in for a Context when writing to someone else, in their language."""

    def __init__(self, context: Context, language: str):
        self.services = context.services
        self._ = translator(language)


async def _notify_unit(context: Context, item: ItemView, text_of) -> None:
    ledger = ledger_of(context)
    for chat_id in await ledger.contact_chats(item.unit_id):
        _ = translator(await context.services.language_of(chat_id))
        try:
            await context.bot.send_message(chat_id, text_of(_), parse_mode=ParseMode.HTML,
                                           reply_markup=buttons([[(_("All items"), "lt:0")]]))
        except Forbidden:
            await ledger.mark_unreachable(chat_id)
            log.info("A unit contact blocked the bot; marked unreachable")
        except TelegramError as exc:
            log.warning("Could not tell a unit contact about a review: %s", type(exc).__name__)


async def approve_closure(update: Update, context: Context) -> None:
    """la:<item> (supervisors): close the item; the unit is told."""
    _ = context._
    item_id = _item_id(update, "a")
    if not context.is_supervisor or item_id is None:
        await _expired(update, context)
        return
    try:
        item = await ledger_of(context).approve(item_id, supervisor_id=update.effective_user.id)
    except NotFound:
        await _expired(update, context)
        return
    except InvalidTransition as refused:
        await update.callback_query.answer(_("This item is {status}.", status=_(STATUS_LABELS.get(refused.status, refused.status))),
                                           show_alert=True)
        return
    await update.callback_query.answer()
    await _clear_buttons(update)
    await _send(update, _("Item {external_id} is closed.", external_id=html.escape(item.external_id)))
    await _notify_unit(context, item, lambda _: _("Item {external_id} has been reviewed and <b>closed</b>.",
                                                  external_id=html.escape(item.external_id)))


async def _clear_buttons(update: Update) -> None:
    try:
        await update.callback_query.edit_message_reply_markup(None)
    except TelegramError:
        pass


async def start_comment(update: Update, context: Context) -> str | int:
    """lb:<item> (send back) or lx:<item> (close directly), supervisors: ask for the comment or reason."""
    _ = context._
    query = update.callback_query
    match = ITEM_DATA.fullmatch(query.data or "")
    if not context.is_supervisor or match is None or match[1] not in "bx":
        await _expired(update, context)
        return ConversationHandler.END
    action = "send_back" if match[1] == "b" else "close_directly"
    try:
        item = await ledger_of(context).start_prompt(chat_id=update.effective_chat.id, user_id=update.effective_user.id,
                                                     action=action, item_id=int(match[2]))
    except NotFound:
        await _expired(update, context)
        return ConversationHandler.END
    except InvalidTransition as refused:
        await query.answer(_("This item is {status}.", status=_(STATUS_LABELS.get(refused.status, refused.status))),
                           show_alert=True)
        return ConversationHandler.END
    await query.answer()
    if action == "send_back":
        text = _("Item {external_id}: type the comment for the unit (what is missing). /cancel to stop.",
                 external_id=html.escape(item.external_id))
    else:
        text = _("Item {external_id}: type the reason for closing it directly (e.g. policy change, force majeure, "
                 "inaccurate finding). /cancel to stop.", external_id=html.escape(item.external_id))
    await _send(update, text)
    return COMMENT


async def receive_comment(update: Update, context: Context) -> int | str:
    """The supervisor's comment (send back) or reason (close directly)."""
    _ = context._
    ledger = ledger_of(context)
    chat_id, user_id = update.effective_chat.id, update.effective_user.id
    prompt = await ledger.prompt(chat_id=chat_id, user_id=user_id)
    await ledger.end_prompt(chat_id=chat_id, user_id=user_id)
    if prompt is None or prompt.action not in ("send_back", "close_directly") or not context.is_supervisor:
        await _send(update, _("Nothing is waiting for a comment. Open the item again."))
        return ConversationHandler.END
    comment = update.effective_message.text or ""
    try:
        if prompt.action == "send_back":
            item = await ledger.send_back(prompt.item_id, supervisor_id=user_id, comment=comment)
        else:
            item = await ledger.close_directly(prompt.item_id, supervisor_id=user_id, reason=comment)
    except (NotFound, InvalidTransition):
        await _send(update, _("This item has changed meanwhile; nothing was done. Open it again."))
        return ConversationHandler.END
    ref = html.escape(item.external_id)
    quoted = html.escape(comment.strip())
    if prompt.action == "send_back":
        await _send(update, _("Item {external_id} was sent back to {unit}.", external_id=ref, unit=html.escape(item.unit)))
        await _notify_unit(context, item, lambda _: _("Item {external_id} was <b>sent back</b> by the inspection office: "
                                                      "{comment}", external_id=ref, comment=quoted))
    else:
        await _send(update, _("Item {external_id} is closed directly.", external_id=ref))
        await _notify_unit(context, item, lambda _: _("Item {external_id} was <b>closed directly</b> by the inspection "
                                                      "office: {comment}", external_id=ref, comment=quoted))
    return ConversationHandler.END


# ---- supervisors' overview -------------------------------------------------------------------

async def show_ledger(update: Update, context: Context) -> None:
    """/ledger or the menu button (supervisors): items by unit and status, with overdue counts."""
    _ = context._
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not context.is_supervisor:
        await _send(update, _("This command is for supervisors."))
        return
    summary = await ledger_of(context).summary()
    if not summary:
        await _send(update, _("The ledger is empty. Import items with <code>qingfeng ledger import FILE</code>."))
        return
    lines = [_("<b>Rectification ledger</b> by unit"), ""]
    for unit in summary:
        counts = ", ".join(f"{_(label)} {unit.counts[status]}" for status, label in STATUS_LABELS.items()
                           if unit.counts.get(status))
        overdue = " — ⚠️ " + _("{count} overdue", count=unit.overdue) if unit.overdue else ""
        lines.append(f"<b>{html.escape(unit.unit)}</b> ({unit.total}): {counts}{overdue}")
    pieces = _chunks(lines)
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        await _send(update, piece, buttons([[(_("Overdue items"), "lo:")]]) if last else None)


async def show_overdue(update: Update, context: Context) -> None:
    """/overdue or lo: (supervisors): overdue items, the longest overdue first."""
    _ = context._
    query = update.callback_query
    if query is not None:
        if not context.is_supervisor or query.data != "lo:":
            await _expired(update, context)
            return
        await query.answer()
    if not context.is_supervisor:
        await _send(update, _("This command is for supervisors."))
        return
    items = await ledger_of(context).overdue(limit=OVERDUE_SHOWN + 1)
    if not items:
        await _send(update, _("No item is overdue."))
        return
    lines = [_("<b>Overdue items</b>"), ""]
    lines += [f"{html.escape(i.unit)} · {_item_line(i, context)}" for i in items[:OVERDUE_SHOWN]]
    if len(items) > OVERDUE_SHOWN:
        lines.append(_("… and more: see <code>qingfeng ledger export</code>."))
    rows = [[(f"{_short(i.unit, 12)} · {_short(i.problem, 24)}", f"li:{i.id}")] for i in items[:OVERDUE_BUTTONS]]
    pieces = _chunks(lines)
    for number, piece in enumerate(pieces):
        await _send(update, piece, buttons(rows) if number == len(pieces) - 1 else None)


# ---- registration ----------------------------------------------------------------------------

DEEP_LINK = filters.Regex(r"^/start(@\w+)?\s+bind-")
PROGRESS_MESSAGE = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL


def conversation() -> ConversationHandler:
    """Progress reports and supervisors' comments: the next message belongs to the button pressed."""
    return chat_conversation(
        entry_points=[CallbackQueryHandler(start_progress, pattern=r"^lp:"),
                      CallbackQueryHandler(start_comment, pattern=r"^l[bx]:")],
        states={
            PROGRESS: [MessageHandler(PROGRESS_MESSAGE, receive_progress),
                       CallbackQueryHandler(finish_progress, pattern=r"^ld:"),
                       CallbackQueryHandler(request_closure, pattern=r"^lc:")],
            COMMENT: [MessageHandler(filters.TEXT & ~filters.COMMAND, receive_comment)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        allow_reentry=True,
        name="ledger",
        persistent=True,
    )


def build() -> list:
    """The ledger's handlers, in order (the deep link is registered separately, before /start)."""
    return [
        CommandHandler("bind", bind_chat),
        CommandHandler("tasks", show_tasks),
        CommandHandler("ledger", show_ledger),
        CommandHandler("overdue", show_overdue),
        conversation(),
        CallbackQueryHandler(show_tasks, pattern=r"^lt:"),
        CallbackQueryHandler(show_item, pattern=r"^li:"),
        CallbackQueryHandler(finish_progress, pattern=r"^ld:"),
        CallbackQueryHandler(request_closure, pattern=r"^lc:"),
        CallbackQueryHandler(approve_closure, pattern=r"^la:"),
        CallbackQueryHandler(show_ledger, pattern=r"^menu:ledger$"),
        CallbackQueryHandler(show_overdue, pattern=r"^lo:"),
    ]
