"""Anonymous reports, the supervisors' side: /inbox, report cards and actions, /export and /stats,
and the retention job. Notices and deadline reminders go through the outbox (bot/reports/notices.py).

Everything here is for supervisors, in their private chat with the bot (a card shows a report's
text): `handlers/__init__.py` registers these callbacks behind the supervisors' gate. Every action
is still checked by the service on arrival: in scope? allowed by the state machine now? A button
proves nothing. A text asked for (a question, a note, an outcome, a reason) is the supervisor's
pending input (feature "inbox"); what the reporter will read is shown first and sent only when
the supervisor confirms.

Callback data (64 bytes at most, parsed strictly: anyone can forge it):
  rb:<filter>:<page>    a page of the inbox (filter: active, new, open, waiting, closed)
  rc:<id>               a report's card
  rf:<id>               the report's attachments, sent as files
  ra:<action>:<id>      an action: ack, ask, note, transfer, close, reject
  rr:<spam|scope>:<id>  reject as spam or out of scope (then the reason is asked for)
  rx:                   cancel the text being asked for
  ry:                   confirm: send the text shown (to the reporter) and do the action
  rz:                   write the text again
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime, timezone

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, JobQueue

from bot.config import Settings
from bot.i18n import N_
from bot.pending import Pending
from bot.reports.export import export
from bot.reports.files import FileRefused
from bot.reports import inbox_query
from bot.reports.inbox_query import InboxQuery
from bot.reports.service import Card, Refused, ReportService
from bot.reports.states import FINISHED, HISTORY_LABELS, REJECT_KINDS, REJECT_LABELS, STATUS_LABELS, Action
from bot.reports.stats import compute, render_chart
from handlers import callback_data as data_of, flow
from handlers.common import EXPIRED, buttons
from handlers.context import Context
from handlers.reports.intake import cleaning_text, fetch_clean_file, refusal_text

log = logging.getLogger(__name__)

FEATURE = "inbox"
CONFIRM = "confirm"  # the pending action once the text is typed and shown for confirmation
CHOOSE_KIND = "reject_kind"  # a rejection's kind (spam, out of scope) is being chosen with the buttons
MESSAGE_LIMIT = 4000
UNIT_BUTTONS = 30  # units offered as buttons for a transfer (more can be typed)
RETENTION_SECONDS = 24 * 3600

ACTION_CODES = {"ack": Action.ACKNOWLEDGE, "ask": Action.ASK, "note": Action.NOTE, "transfer": Action.TRANSFER,
                "close": Action.CLOSE, "reject": Action.REJECT, "reopen": Action.REOPEN,
                "file": Action.SEND_FILE}
CODE_OF = {action: code for code, action in ACTION_CODES.items()}
FILTER_ORDER = data_of.INBOX_STATUSES
FILTER_LABELS = {"active": N_("Active"), "new": N_("New"), "open": N_("Open"), "waiting": N_("Waiting for reporter"),
                 "closed": N_("Closed"), "rejected": N_("Rejected"), "all": N_("All")}
ACTION_BUTTONS = {Action.ACKNOWLEDGE: N_("✅ Acknowledge"), Action.ASK: N_("❓ Ask the reporter"),
                  Action.NOTE: N_("📝 Internal note"), Action.TRANSFER: N_("↪️ Transfer to a unit"),
                  Action.CLOSE: N_("🏁 Close with an outcome"), Action.REJECT: N_("🚫 Reject"),
                  Action.REOPEN: N_("♻️ Reopen"), Action.SEND_FILE: N_("📎 Send the reporter a file")}
PROMPTS = {Action.ASK: N_("Type your question to the reporter. They will see it with their receipt code."),
           Action.NOTE: N_("Type the internal note. The reporter never sees notes."),
           Action.TRANSFER: N_("Type the unit the report is transferred to."),
           Action.CLOSE: N_("Type the outcome. The reporter will see it."),
           Action.REJECT: N_("Type the reason for rejecting it. The reporter will see it."),
           Action.REOPEN: N_("Type why the report is reopened. The reporter will see it."),
           Action.SEND_FILE: N_("Send the photo or document for the reporter. Its metadata is removed first, as "
                                "from the reporter's files; the reporter gets it in /status.")}
DONE = {Action.ACKNOWLEDGE: N_("Report #{id} acknowledged."), Action.ASK: N_("Question sent to the reporter of #{id}: they read it when they open /status with their code "
                    "(the bot cannot write to them first)."),
        Action.NOTE: N_("Note added to #{id}."), Action.TRANSFER: N_("Report #{id} transferred."),
        Action.CLOSE: N_("Report #{id} closed."), Action.REJECT: N_("Report #{id} rejected."),
        Action.REOPEN: N_("Report #{id} reopened."),
        Action.SEND_FILE: N_("File sent to the reporter of #{id}: they get it when they open /status.")}
REASONS = {
    "not_supervisor": N_("This is only for supervisors."),
    "out_of_scope": N_("This report is outside the categories you supervise."),
    "not_found": N_("This report no longer exists."),
    "already_acknowledged": N_("Not done: this report has already been acknowledged."),
    "acknowledge_first": N_("Not done: acknowledge the report first."),
    "finished": N_("Not done: this report is already closed; only internal notes can be added."),
    "text_required": N_("Please type some text."),
    "text_too_long": N_("That is too long; please shorten it."),
    "reject_kind": EXPIRED,
    "bad_action": EXPIRED,
    "bad_filter": EXPIRED,
    "not_finished": N_("Not done: this report is still being handled; only closed or rejected reports are reopened."),
}

# What the reporter reads: shown to the supervisor before it is sent.
SEEN_BY_REPORTER = {Action.ASK, Action.CLOSE, Action.REJECT, Action.REOPEN}
CONFIRM_QUESTIONS = {Action.ASK: N_("Send this question to the reporter of #{id}?"),
                     Action.CLOSE: N_("Close report #{id} with this outcome? The reporter will read it in /status and "
                                      "may dispute it once; you may then reopen it."),
                     Action.REJECT: N_("Reject report #{id} with this reason? The reporter will read it."),
                     Action.REOPEN: N_("Reopen report #{id} with this reason? The reporter will read it.")}


def reports_of(context: Context) -> ReportService:
    return context.services.reports


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _category(context: Context, category: str) -> str:
    return reports_of(context).category_label(category, context.language)


def _reason(context: Context, refusal: Refused) -> str:
    return context._(REASONS.get(refusal.reason, EXPIRED))


async def _refuse(update: Update, context: Context, text: str) -> None:
    """Say no: as a pop-up to a pressed button, as a message otherwise."""
    query = update.callback_query
    if query is not None:
        await query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def _expired(update: Update, context: Context) -> None:
    await _refuse(update, context, context._(EXPIRED))


async def _send(update: Update, text: str, keyboard=None) -> None:
    message = update.effective_message
    await message.get_bot().send_message(message.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


# ---- the inbox ---------------------------------------------------------------------------------

async def show_inbox(update: Update, context: Context) -> None:
    """/inbox [words], the menu button, or rb:<status>:<category>:<page>: a page of reports. The words
    (bot/reports/inbox_query.py) pick a status, a category, a unit or words in the report."""
    query = update.callback_query
    wanted, page = InboxQuery(), 0
    categories = reports_of(context).category_ids()
    if query is not None and query.data != "menu:inbox":
        parsed = data_of.INBOX_PAGE.parse(query.data)
        if parsed is None or parsed[1] > len(categories):
            await _expired(update, context)
            return
        status, category, page = parsed
        wanted = InboxQuery(status=status, category=categories[category - 1] if category else None)
    elif query is None:
        words = (update.effective_message.text or "").partition(" ")[2]
        read = inbox_query.parse(words, _category_names(context))
        if isinstance(read, inbox_query.QueryProblem):
            await update.effective_message.reply_text(_query_problem(context, read))
            return
        wanted = read
    _ = context._
    try:
        inbox = await reports_of(context).inbox(supervisor_id=update.effective_user.id, filter=wanted.status,
                                                category=wanted.category, unit=wanted.unit, text=wanted.text,
                                                page=page, now=_now())
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return
    text, keyboard = _inbox_page(context, wanted, inbox, categories)
    if query is not None and query.data != "menu:inbox":
        await query.answer()
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except BadRequest:  # the same page again: "message is not modified"
            pass
        return
    if query is not None:
        await query.answer()
    await _send(update, text, keyboard)


def _inbox_page(context: Context, wanted: InboxQuery, inbox, categories: list[str]):
    _ = context._
    title = _(FILTER_LABELS[wanted.status])
    if wanted.category:
        title += " · " + html.escape(_category(context, wanted.category))
    if wanted.searching:
        looked_for = " ".join(filter(None, [wanted.unit and _("unit “{unit}”", unit=wanted.unit),
                                            wanted.text and _("words “{text}”", text=wanted.text)]))
        lines = [_("<b>Reports: {filter}</b>, {looked_for}: {total} found", filter=title,
                   looked_for=html.escape(looked_for), total=inbox.total)]
        if inbox.total > len(inbox.items):
            lines.append(_("The newest {shown} are listed; add words to narrow the search.", shown=len(inbox.items)))
    else:
        lines = [_("<b>Reports: {filter}</b> ({total}), page {page}/{pages}", filter=title,
                   total=inbox.total, page=inbox.page + 1, pages=inbox.pages)]
    if not inbox.items:
        lines.append(_("No reports here."))
    rows = []
    for item in inbox.items:
        late = " ⚠️" + _("overdue") if item.overdue else " ⚖️" + _("disputed by the reporter") if item.disputed else ""
        lines.append(f"#{item.id} · {item.submitted_on:%Y-%m-%d} · {_(STATUS_LABELS[item.status])} · "
                     f"{html.escape(_category(context, item.category))} · {html.escape(item.unit)}{late}")
        rows.append([(f"#{item.id} · {item.unit[:40]}", f"rc:{item.id}")])
    category = categories.index(wanted.category) + 1 if wanted.category else 0
    choices = [(("• " if name == wanted.status else "") + _(FILTER_LABELS[name]),
                data_of.INBOX_PAGE.pack(name, category, 0)) for name in FILTER_ORDER]
    rows += [choices[:4], choices[4:]]
    paging = []
    if inbox.page > 0:
        paging.append(("‹ " + _("Previous"), data_of.INBOX_PAGE.pack(wanted.status, category, inbox.page - 1)))
    if inbox.page < inbox.pages - 1:
        paging.append((_("Next") + " ›", data_of.INBOX_PAGE.pack(wanted.status, category, inbox.page + 1)))
    if paging:
        rows.append(paging)
    return "\n".join(lines), buttons(rows)


def _category_names(context: Context) -> dict[str, list[str]]:
    """Each category id with its labels in every language: what a typed category word may match."""
    service = reports_of(context)
    names: dict[str, list[str]] = {cid: [] for cid in service.category_ids()}
    for language in ("zh", "en"):
        for cid, label in service.category_labels(language).items():
            names[cid].append(label)
    return names


def _query_problem(context: Context, problem: inbox_query.QueryProblem) -> str:
    _ = context._
    lines = []
    if problem.unknown:
        lines.append(_("I don't know these filter words: {words}.", words="、".join(problem.unknown)))
    for word, fits in problem.ambiguous.items():
        lines.append(_("“{word}” fits several categories: {categories}. Type more of the name.", word=word,
                       categories="; ".join(_category(context, cid) for cid in fits)))
    lines.append(_("Filter words: {words}", words=" ".join(inbox_query.known_words(context.language))))
    lines.append(_("Categories: {categories}", categories="; ".join(
        _category(context, cid) for cid in reports_of(context).category_ids())))
    lines.append(_("For example: /inbox {example}", example=_("rejected category:meetings unit:town search:check-in")))
    return "\n".join(lines)


# ---- the card ----------------------------------------------------------------------------------

def card_pieces(context: Context, card: Card) -> list[str]:
    """The card as HTML messages within Telegram's limit (a long description is split)."""
    _ = context._
    zone = context.services.settings.zone
    head = [
        _("<b>Report #{id}</b> · {category}", id=card.id, category=html.escape(_category(context, card.category))),
        _("Status: <b>{status}</b>", status=_(STATUS_LABELS[card.status])),
        _("Submitted: {time} · acknowledge by {ack} · answer by {answer}",
          time=card.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:00"), ack=card.acknowledge_due.isoformat(),
          answer=card.answer_due.isoformat()) if card.status not in FINISHED else  # no deadline runs any more
        _("Submitted: {time}", time=card.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:00")),
        _("Unit or place: {unit}", unit=html.escape(card.unit)),
        _("When: {when}", when=html.escape(_(card.when))),  # a choice is kept as its msgid
    ]
    if card.transferred_to:
        head.append(_("Transferred to: {unit}", unit=html.escape(card.transferred_to)))
    if card.files:
        head.append(_("Attachments: {count}", count=len(card.files)))
    history = [_("<b>History</b>")]
    names = {s.id: s.name for s in context.services.settings.access.supervisors if s.name}
    for item in card.history:
        who = _("reporter") if item.actor == "reporter" else (
            html.escape(names.get(item.supervisor_id) or item.by_name or _("supervisor {id}", id=item.supervisor_id))
            if item.supervisor_id else _("system"))
        # The reporter's times are kept to the hour only (anonymity): shown as such, not as :00 sharp,
        # so that a reply does not read as older than the question it answers.
        local = item.at.astimezone(zone)
        when = f"{local:%m-%d %H}:xx" if item.actor == "reporter" else f"{local:%m-%d %H:%M}"
        line = f"• {when} {who}: {_(HISTORY_LABELS[item.action])}"
        if item.kind:
            line += f" [{_(REJECT_LABELS.get(item.kind, item.kind))}]"
        if item.text:
            line += f": {html.escape(item.text)}"
        history.append(line)
    blocks = ["\n".join(head), "<b>" + _("Description") + "</b>\n" + html.escape(card.description), "\n".join(history)]
    pieces, current = [], ""
    for block in blocks:
        for part in _split(block):
            if current and len(current) + 2 + len(part) > MESSAGE_LIMIT:
                pieces.append(current)
                current = part
            else:
                current = f"{current}\n\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _split(block: str) -> list[str]:
    """A block in parts under the limit, cut at line ends (or anywhere in a very long line)."""
    if len(block) <= MESSAGE_LIMIT:
        return [block]
    parts, current = [], ""
    for line in block.split("\n"):
        while len(line) > MESSAGE_LIMIT:
            cut = line.rfind(" ", 0, MESSAGE_LIMIT)
            cut = cut if cut > MESSAGE_LIMIT // 2 else MESSAGE_LIMIT
            if "&" in line[cut - 8:cut]:  # never cut an HTML entity in two
                cut = line.rfind("&", 0, cut)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        if current and len(current) + 1 + len(line) > MESSAGE_LIMIT:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts


def card_keyboard(context: Context, card: Card):
    _ = context._
    actions = [(_(ACTION_BUTTONS[action]), f"ra:{CODE_OF[action]}:{card.id}") for action in card.allowed]
    rows = [actions[i:i + 2] for i in range(0, len(actions), 2)]
    extra = []
    if card.files:
        extra.append((_("📎 Attachments ({count})", count=len(card.files)), f"rf:{card.id}"))
    extra.append(("‹ " + _("Inbox"), data_of.INBOX_PAGE.pack("active", 0, 0)))
    rows.append(extra)
    return buttons(rows)


async def send_card(update: Update, context: Context, report_id: int) -> bool:
    """The report's card in the chat; False (with the reason said) when it cannot be shown."""
    try:
        card = await reports_of(context).card(supervisor_id=update.effective_user.id, report_id=report_id)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return False
    pieces = card_pieces(context, card)
    for number, piece in enumerate(pieces):
        await _send(update, piece, card_keyboard(context, card) if number == len(pieces) - 1 else None)
    return True


async def show_card(update: Update, context: Context) -> None:
    """rc:<id>: the report's card with its decrypted text, history and actions."""
    parsed = data_of.REPORT_CARD.parse(update.callback_query.data)
    if parsed is None:
        await _expired(update, context)
        return
    if await send_card(update, context, parsed[0]):
        await update.callback_query.answer()


async def send_files(update: Update, context: Context) -> None:
    """rf:<id>: the report's attachments, as documents (as they were stored: metadata removed)."""
    query = update.callback_query
    parsed = data_of.REPORT_FILES.parse(query.data)
    if parsed is None:
        await _expired(update, context)
        return
    (report_id,) = parsed
    try:
        files = await reports_of(context).files(supervisor_id=update.effective_user.id, report_id=report_id)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return
    await query.answer()
    if not files:
        await _send(update, context._("This report has no attachments."))
        return
    bot = update.effective_message.get_bot()
    for file in files:
        name = f"report-{report_id}-{file.seq}.{file.extension}"
        label = f"#{report_id} · {file.seq}/{len(files)}"
        caption = f"{label}\n{file.caption}" if file.caption else label  # the reporter's caption, with the file
        await bot.send_document(update.effective_chat.id, InputFile(file.data, filename=name),
                                caption=caption[:1024])


# ---- actions -----------------------------------------------------------------------------------

async def acknowledge(update: Update, context: Context) -> None:
    """ra:ack:<id>: acknowledge at once (no text needed)."""
    parsed = data_of.REPORT_ACTION.parse(update.callback_query.data)
    if parsed is None or parsed[0] != "ack":
        await _expired(update, context)
        return
    await _do(update, context, Action.ACKNOWLEDGE, parsed[1])


async def choose_reject_kind(update: Update, context: Context) -> None:
    """ra:reject:<id>: spam or out of scope? (checked first: is rejecting allowed now?)"""
    parsed = data_of.REPORT_ACTION.parse(update.callback_query.data)
    if parsed is None or parsed[0] != "reject":
        await _expired(update, context)
        return
    report_id = parsed[1]
    if not await _check(update, context, Action.REJECT, report_id):
        return
    await update.callback_query.answer()
    # The choice owns the next message too: a reason typed before choosing is not a question.
    await flow.expect(update, context, Pending(FEATURE, CHOOSE_KIND, target=str(report_id)))
    await _send(update, context._("Reject report #{id} as:", id=report_id), _reject_kinds(context, report_id))


def _reject_kinds(context: Context, report_id: int):
    _ = context._
    return buttons([[(_(REJECT_LABELS[kind]), f"rr:{kind}:{report_id}") for kind in REJECT_KINDS],
                    [(_("Cancel"), "rx:")]])


async def _check(update: Update, context: Context, action: Action, report_id: int) -> bool:
    try:
        await reports_of(context).check_action(supervisor_id=update.effective_user.id, report_id=report_id,
                                               action=action)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return False
    return True


async def ask_for_text(update: Update, context: Context) -> None:
    """ra:<ask|note|transfer|close>:<id> or rr:<kind>:<id>: check, then ask for the text."""
    data = update.callback_query.data
    kind = None
    if (parsed := data_of.REPORT_REJECT.parse(data)) is not None:
        action, (kind, report_id) = Action.REJECT, parsed
    elif (parsed := data_of.REPORT_ACTION.parse(data)) is not None and parsed[0] in ("ask", "note", "transfer", "close",
                                                                                      "reopen", "file"):
        action, report_id = ACTION_CODES[parsed[0]], parsed[1]
    else:
        await _expired(update, context)
        return
    if not await _check(update, context, action, report_id):
        return
    await update.callback_query.answer()
    await _prompt(update, context, action, report_id, kind)


async def _prompt(update: Update, context: Context, action: Action, report_id: int, kind: str | None) -> None:
    await flow.expect(update, context, Pending(FEATURE, CODE_OF[action], target=str(report_id),
                                               data={"kind": kind} if kind else {}))
    rows = [[(context._("Cancel"), "rx:")]]
    prompt = context._(PROMPTS[action])
    if action is Action.TRANSFER and (units := await _ledger_units(context)):
        prompt = context._("Choose the unit the report is transferred to, or type its name.")
        shown = units[:UNIT_BUTTONS]
        rows = [[(name[:30], data_of.TRANSFER_UNIT.pack(unit_id)) for unit_id, name in shown[i:i + 2]]
                for i in range(0, len(shown), 2)] + rows
    await _send(update, f"#{report_id}: " + prompt + "\n" + context._("(/cancel to stop)"), buttons(rows))


async def _ledger_units(context: Context) -> list[tuple[int, str]]:
    """The ledger's responsible units (qingfeng units add, or a ledger import): where a report is
    transferred. Empty when the ledger has none, and then any name is taken."""
    return [(unit.id, unit.name) for unit in await context.services.ledger.list_units()]


def _unit_named(units: list[tuple[int, str]], text: str) -> str | list[str]:
    """The unit a typed name means: the exact name, else the one unit whose name contains it; else the
    names it could be (several, or all of them when none fits)."""
    names = [name for _id, name in units]
    if text in names:
        return text
    fits = [name for name in names if text in name]
    return fits[0] if len(fits) == 1 else (fits or names)


async def transfer_to_unit(update: Update, context: Context) -> None:
    """rt:<unit>: the unit pressed while a transfer is being written."""
    parsed = data_of.TRANSFER_UNIT.parse(update.callback_query.data)
    pending = context.pending
    if parsed is None or pending is None or pending.feature != FEATURE or pending.action != "transfer" \
            or pending.expired:
        await _expired(update, context)
        return
    name = dict(await _ledger_units(context)).get(parsed[0])
    if name is None:
        await _expired(update, context)
        return
    await flow.done(update, context, FEATURE)
    await _do(update, context, Action.TRANSFER, int(pending.target), text=name)


async def receive_file_for_reporter(update: Update, context: Context) -> None:
    """The supervisor's photo or document for the reporter: cleaned, then kept with the report."""
    message = update.effective_message
    report_id = int(context.pending.target)
    if not (message.photo or message.document is not None):
        await message.reply_text(context._("Please send a photo or a document, or /cancel."))
        return
    try:
        clean = await fetch_clean_file(message, context)
        await reports_of(context).supervisor_attach(supervisor_id=update.effective_user.id, report_id=report_id,
                                                    file=clean, now=_now(), by_name=update.effective_user.full_name)
    except FileRefused as refused:
        await message.reply_text(refusal_text(context, refused.reason))
        return
    except Refused as refusal:
        await flow.done(update, context, FEATURE)
        await _refuse(update, context, _reason(context, refusal))
        return
    await flow.done(update, context, FEATURE)
    await _send(update, context._(DONE[Action.SEND_FILE], id=report_id) + "\n\n"
                + html.escape(cleaning_text(context, clean)))
    await send_card(update, context, report_id)


async def receive_text(update: Update, context: Context) -> None:
    """The supervisor's next message: the text of the action asked for. What the reporter will read
    is shown first, to be confirmed; an internal note or a transfer is done at once."""
    pending = context.pending
    if pending.action == CODE_OF[Action.SEND_FILE]:
        await receive_file_for_reporter(update, context)
        return
    text = (update.effective_message.text or "").strip()
    if pending.action == CHOOSE_KIND:
        await update.effective_message.reply_text(
            context._("First choose above why the report is rejected; then type the reason."),
            reply_markup=_reject_kinds(context, int(pending.target)))
        return
    if pending.action == CONFIRM:
        await update.effective_message.reply_text(context._("Please press Send, Write again or Cancel above."))
        return
    if not text or len(text) > context.services.settings.reports.description_max_chars:
        await update.effective_message.reply_text(context._(REASONS["text_too_long" if text else "text_required"]))
        return
    action, report_id = ACTION_CODES[pending.action], int(pending.target)
    if action is Action.TRANSFER and (units := await _ledger_units(context)):
        unit = _unit_named(units, text)
        if isinstance(unit, list):
            await update.effective_message.reply_text(context._(
                "There is no unit of that name in the ledger. Units: {units}", units="、".join(unit[:UNIT_BUTTONS])))
            return
        text = unit
    if action not in SEEN_BY_REPORTER:
        await flow.done(update, context, FEATURE)
        await _do(update, context, action, report_id, text=text)
        return
    await flow.expect(update, context, Pending(FEATURE, CONFIRM, target=pending.target,
                                               data={**pending.data, "action": pending.action, "text": text}))
    _ = context._
    await _send(update, _(CONFIRM_QUESTIONS[action], id=report_id) + "\n\n" + html.escape(text),
                buttons([[(_("✅ Send"), "ry:"), (_("✏️ Write again"), "rz:")], [(_("Cancel"), "rx:")]]))


async def confirm_text(update: Update, context: Context) -> None:
    """ry: send the text shown and do the action; rz: write it again."""
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.action != CONFIRM or pending.expired:
        await _expired(update, context)
        return
    action, report_id = ACTION_CODES[pending.data["action"]], int(pending.target)
    if update.callback_query.data == "rz:":
        await update.callback_query.answer()
        await _prompt(update, context, action, report_id, pending.data.get("kind"))
        return
    await flow.done(update, context, FEATURE)
    await _do(update, context, action, report_id, text=pending.data["text"], kind=pending.data.get("kind"))


async def cancel_text(update: Update, context: Context) -> None:
    """/cancel or the Cancel button while a text is asked for."""
    pending = context.pending
    if update.callback_query is not None:
        if pending is None or pending.feature != FEATURE:
            await update.callback_query.answer(context._("Nothing to cancel."))
            return
        await update.callback_query.answer()
    await flow.done(update, context, FEATURE)
    await _send(update, context._("Cancelled; nothing was changed."))


async def _do(update: Update, context: Context, action: Action, report_id: int, *, text: str | None = None,
              kind: str | None = None) -> None:
    """The action, checked by the service, then the updated card."""
    try:
        await reports_of(context).act(supervisor_id=update.effective_user.id, report_id=report_id, action=action,
                                      now=_now(), text=text, kind=kind, by_name=update.effective_user.full_name)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return
    done = context._(DONE[action], id=report_id)
    if update.callback_query is not None:
        await update.callback_query.answer()  # said once, in the chat, not again in a pop-up
    await _send(update, done)
    await send_card(update, context, report_id)


# ---- export and figures ------------------------------------------------------------------------

async def send_export(update: Update, context: Context) -> None:
    """/export: the reports of the supervisor's categories as an XLSX document."""
    service = reports_of(context)
    try:
        scope = service.scope(update.effective_user.id)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return
    data, count = await export(service, format="xlsx", language=context.language, categories=scope)
    day = _now().astimezone(context.services.settings.zone)
    await update.effective_message.reply_document(
        InputFile(data, filename=f"reports-{day:%Y-%m-%d}.xlsx"),
        caption=context._("{count} report(s), decrypted, with their audit log. Keep this file safe.", count=count))


async def send_stats(update: Update, context: Context) -> None:
    """/stats: figures and a chart of the reports of the supervisor's categories."""
    _ = context._
    service = reports_of(context)
    try:
        scope = service.scope(update.effective_user.id)
    except Refused as refusal:
        await _refuse(update, context, _reason(context, refusal))
        return
    stats = await compute(service, now=_now(), categories=scope)

    def days(value: float | None) -> str:
        return "—" if value is None else _("{days} days", days=format(value, ".1f"))

    caption = _("<b>Reports</b>: {total} in all, {open} open, {closed} closed, {rejected} rejected.\n"
                "Median time to acknowledge: {ack}; to close (closed reports only): {close}.",
                total=stats.total, open=stats.open, closed=stats.closed, rejected=stats.rejected,
                ack=days(stats.median_acknowledge_days), close=days(stats.median_close_days))
    chart = await asyncio.to_thread(render_chart, stats, labels=service.category_labels, language=context.language)
    await update.effective_message.reply_photo(InputFile(chart, filename="stats.png"), caption=caption,
                                               parse_mode=ParseMode.HTML)


# ---- jobs --------------------------------------------------------------------------------------

async def purge_old_reports(context: Context) -> None:
    """Daily job: closed reports past the retention period are deleted; only counts are logged."""
    result = await reports_of(context).purge(now=_now())
    log.info("Retention: deleted %s closed report(s), %s abandoned draft(s), %s expired code counter(s)",
             result.reports, result.drafts, result.attempts)


def schedule_report_jobs(job_queue: JobQueue, settings: Settings) -> None:
    """The supervisors' side's repeating jobs; each only reads the database."""
    job_queue.run_repeating(purge_old_reports, interval=RETENTION_SECONDS, first=60, name="report-retention")


# ---- the handlers, in order --------------------------------------------------------------------

def build_inbox_handlers() -> list[BaseHandler]:
    """The supervisors' report handlers, in order (registered behind the supervisors' gate)."""
    return [
        CommandHandler("inbox", show_inbox),
        CommandHandler("export", send_export),
        CommandHandler("stats", send_stats),
        CallbackQueryHandler(show_inbox, pattern=r"^(menu:inbox$|rb:)"),
        CallbackQueryHandler(show_card, pattern=r"^rc:"),
        CallbackQueryHandler(send_files, pattern=r"^rf:"),
        CallbackQueryHandler(acknowledge, pattern=r"^ra:ack:"),
        CallbackQueryHandler(choose_reject_kind, pattern=r"^ra:reject:"),
        CallbackQueryHandler(ask_for_text, pattern=r"^(ra:(ask|note|transfer|close|reopen|file):|rr:)"),
        CallbackQueryHandler(transfer_to_unit, pattern=r"^rt:"),
        CallbackQueryHandler(confirm_text, pattern=r"^r[yz]:$"),
        CallbackQueryHandler(cancel_text, pattern=r"^rx:$"),
        CallbackQueryHandler(_expired, pattern=r"^r[bcfartxyz]:"),  # anything else of ours: forged or stale
    ]
