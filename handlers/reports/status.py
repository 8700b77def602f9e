"""Anonymous reports, the reporter's side: /status with the receipt code.

`/status` (or the menu button `menu:status`, or the deep link `/start status`) asks for the code,
or takes it at once (`/status K7QF-2M9X-...`). It shows the report's status history and the
supervisors' messages, and lets the reporter answer or add information and files, by buttons or
by typing. Wrong codes are throttled by the service (under a keyed hash, never the user id).

The open report is the user's pending input (feature "status"): the report's number encrypted
under a keyed hash of the chat and user, for 15 minutes after the last activity, so a restart
or a second bot process keeps the view open; after the pause the code is asked again, and a
message typed into an expired view is neither delivered nor kept anywhere.

What the reporter types in the view is shown back first and sent only when confirmed (rs:send):
a greeting or a policy question typed by habit must not reach the supervisors. Until then the
text is kept only in the encrypted pending input.

Callback data (checked on arrival):
  rs:reply   type an answer or more information
  rs:send | rs:discard   send the message typed (shown back first), or not
  rs:file    send a file
  rs:refresh show the report again
  rs:done    close the view
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from telegram import InputFile, Update

from bot.i18n import N_
from bot.pending import Pending
from bot.reports import codes
from bot.reports.files import FileRefused
from bot.reports.service import HistoryItem, Refused, ReporterView
from bot.reports.states import FINISHED, Action, Status
from handlers import flow
from handlers.common import buttons
from handlers.context import Context
from handlers.reports.intake import (REFUSED_MEDIA, category_label, file_line, local_moment, private_entry_points,
                                     fetch_clean_file, cleaning_text, is_private, normalise_choice, options_of, pick, refusal_text, refuse_media,
                                     reports_of, say, send_deep_link, utc_now)

FEATURE = "status"
CODE, VIEW = "code", "view"
END = "end"
SESSION = timedelta(minutes=15)  # how long an opened report stays open without activity
MESSAGE_LIMIT = 3800  # under Telegram's 4096, with room for the markup
QUOTE_CHARS = 1500  # the reporter's own messages are shown shortened
_CODE_IN_TEXT = re.compile(r"[0-9A-Za-z]{4}(?:[\s\-_.]*[0-9A-Za-z]{4}){3}")

STATUS_NAMES = {
    Status.NEW: N_("received, waiting to be acknowledged"),
    Status.OPEN: N_("being handled"),
    Status.WAITING: N_("waiting for your answer"),
    Status.CLOSED: N_("closed"),
    Status.REJECTED: N_("rejected"),
}


# ---- the open report: the pending input -------------------------------------------------------

async def _remember(update: Update, context: Context, report_id: int, files: int | None = None,
                    typed: str | None = None) -> None:
    """The view of `report_id` owns the next message (for another SESSION), with the number of files sent
    in this visit (the file limit counts per visit, not over the report's life) and the message typed
    but not yet confirmed, if any."""
    files = _files_sent(context) if files is None else files
    data = {"report": report_id, "files": files} if files else {"report": report_id}
    if typed is not None:
        data["typed"] = typed
    await flow.expect(update, context, Pending(FEATURE, VIEW, data=data))


def _typed(context: Context) -> str | None:
    """The message shown back, waiting for Send."""
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.action != VIEW or pending.expired:
        return None
    return pending.data.get("typed")


def _files_sent(context: Context) -> int:
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.action != VIEW or pending.expired:
        return 0
    return int(pending.data.get("files", 0))


def _may_send_files(context: Context) -> bool:
    return _files_sent(context) < context.services.settings.reports.max_attachments


def _current(context: Context) -> int | None:
    pending = context.pending
    if pending is None or pending.feature != FEATURE or pending.action != VIEW or pending.expired:
        return None
    return pending.data.get("report")


async def _forget(update: Update, context: Context) -> None:
    await flow.done(update, context, FEATURE)


# ---- entering, the code --------------------------------------------------------------------------

async def start_status(update: Update, context: Context) -> str | int:
    """/status [CODE], menu:status, /start status: ask for the receipt code (or check the one given)."""
    if not is_private(update):
        await send_deep_link(update, context, "status")
        return END
    given = " ".join(context.args or []) if update.callback_query is None else ""
    if given and given.lower() != "status":
        return await _check(update, context, given)
    await flow.expect(update, context, Pending(FEATURE, CODE))
    await say(update, context, context._("Please send your receipt code (16 letters and digits, like "
                                  "<code>K7QF-2M9X-ABCD-EFGH</code>). /cancel to stop."))
    return CODE


async def type_code(update: Update, context: Context) -> str | int:
    """The receipt code, typed or pasted."""
    return await _check(update, context, update.effective_message.text or "")


def _code_candidate(text: str) -> str:
    """The code itself when the reporter pasted it with other words (e.g. the whole receipt message)."""
    if codes.normalise(text) is not None:
        return text
    found = _CODE_IN_TEXT.findall(text)
    return found[0] if len(found) == 1 else text


async def _check(update: Update, context: Context, text: str) -> str | int:
    _ = context._
    check = await reports_of(context).open_by_code(user_id=update.effective_user.id, text=_code_candidate(text),
                                                   now=utc_now())
    if check.outcome == "busy":
        await say(update, context, _("Too many wrong receipt codes have been tried today, by all users of this bot "
                                     "together. To protect every reporter, no code can be tried until {time}. Your "
                                     "report and its code are safe: please try again then.",
                                     time=local_moment(context, check.until)))
        await _forget(update, context)
        return END
    if check.outcome == "locked":
        await say(update, context, _("Too many wrong codes. For your protection, please wait {minutes} minutes and then "
                              "try again.", minutes=check.wait_minutes))
        await _forget(update, context)
        return END
    if check.outcome == "bad_format":
        await flow.expect(update, context, Pending(FEATURE, CODE))
        await say(update, context, _("That does not look like a receipt code. A code has 16 letters and digits in four "
                              "groups, like <code>K7QF-2M9X-ABCD-EFGH</code>. Please type it again, or /cancel."))
        return CODE
    if check.outcome == "not_found":
        await flow.expect(update, context, Pending(FEATURE, CODE))
        await say(update, context, _("No report has this code. Please check it and try again ({left} attempts left "
                              "before a pause), or /cancel.", left=check.attempts_left))
        return CODE
    return await _show(update, context, check.report_id)


# ---- the view ------------------------------------------------------------------------------------

def _history_line(context: Context, item: HistoryItem) -> str | None:
    _ = context._
    day = item.at.astimezone(context.services.settings.zone).date().isoformat()
    text = html.escape(item.text or "")
    if item.action is Action.SUBMIT:
        line = _("Report sent")
    elif item.action is Action.ACKNOWLEDGE:
        line = _("Acknowledged by the supervisors")
    elif item.action is Action.ASK:
        line = _("<b>Question from the supervisors:</b> {text}", text=text)
    elif item.action is Action.TRANSFER:
        line = _("Passed on to the unit responsible")
    elif item.action is Action.CLOSE:
        line = _("<b>Closed. Outcome:</b> {text}", text=text)
    elif item.action is Action.REJECT:
        line = (_("<b>Rejected as spam:</b> {text}", text=text) if item.kind == "spam"
                else _("<b>Rejected as outside our remit:</b> {text}", text=text))
    elif item.action is Action.SEND_FILE:
        line = _("<b>The supervisors sent you a file</b> (📥 below)")
    elif item.action is Action.DISPUTE:
        own = item.text or ""
        own = own if len(own) <= QUOTE_CHARS else own[:QUOTE_CHARS] + "…"
        line = _("You disputed the outcome: {text}", text=html.escape(own))
    elif item.action is Action.REOPEN:
        line = _("<b>Reopened:</b> {text}", text=text)
    elif item.action is Action.REPLY:
        own = item.text or ""
        own = own if len(own) <= QUOTE_CHARS else own[:QUOTE_CHARS] + "…"
        line = _("Your message: {text}", text=html.escape(own))
    elif item.action is Action.ATTACH:
        line = _("You added a file")
    else:
        return None
    return f"{day} · {line}"


def _shortened(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS * 2 else text[:QUOTE_CHARS * 2] + "…"


def _view_keyboard(context: Context, *, supervisor_files: int = 0, files_allowed: bool = True):
    """The view's buttons; "Add a file" only while more files may be sent; the supervisors' files if any."""
    _ = context._
    rows = [[(_("✍️ Answer or add information"), "rs:reply")]]
    if files_allowed and _may_send_files(context):
        rows.append([(_("📎 Add a file"), "rs:file")])
    if supervisor_files:
        rows.append([(_("📥 Files from the supervisors ({count})", count=supervisor_files), "rs:files")])
    return buttons(rows + [[(_("🔄 Refresh"), "rs:refresh"), (_("✔️ Done"), "rs:done")]])


def _confirm_rows(context: Context) -> list[list[tuple[str, str]]]:
    return [[(context._("📨 Send it"), "rs:send"), (context._("✖️ Don't send"), "rs:discard")]]


def _view_options(context: Context) -> list[tuple[str, str]]:
    """What a typed text may choose: while a message waits to be sent, "1" is Send it and "2" Don't
    send, as the buttons under it show; the view's own buttons are chosen by name."""
    _ = context._
    options = [("reply", _("✍️ Answer or add information")), ("file", _("📎 Add a file")),
               ("refresh", _("🔄 Refresh")), ("done", _("✔️ Done"))]
    return (options_of(_confirm_rows(context)) + options) if _typed(context) is not None else options


def _pieces(lines: list[str]) -> list[str]:
    """Lines joined into messages under Telegram's limit."""
    pieces, current = [], ""
    for line in lines:
        line = line if len(line) <= MESSAGE_LIMIT else line[:MESSAGE_LIMIT] + "…"
        if current and len(current) + len(line) + 1 > MESSAGE_LIMIT:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return pieces + [current] if current else pieces


async def _show(update: Update, context: Context, report_id: int) -> str | int:
    """The report's status, history and the supervisors' messages; then what the reporter can do."""
    _ = context._
    try:
        view: ReporterView = await reports_of(context).reporter_view(report_id=report_id)
    except Refused:  # deleted meanwhile (retention)
        await _forget(update, context)
        await say(update, context, _("This report no longer exists: closed reports are deleted after a while."))
        return END
    lines = [
        _("<b>Your report</b>"),
        f"{_('Category')}: {html.escape(category_label(context, view.category))}",
        f"{_('Unit or place')}: {html.escape(view.unit)}",
        f"{_('When')}: {html.escape(_(view.when))}",
        _("Sent on: {day}", day=view.submitted_on.isoformat()),
        _("Status: <b>{status}</b>", status=_(STATUS_NAMES[view.status])),
        "",
        f"<b>{_('Description')}:</b>",
        html.escape(_shortened(view.description)),
        _("Files: {count}", count=view.files),
        *[file_line(context, number, meta) for number, meta in enumerate(view.file_list, start=1)],
        "",
        _("<b>History</b>"),
    ]
    lines += [line for line in (_history_line(context, item) for item in view.history) if line]
    pieces = _pieces(lines)
    for piece in pieces[:-1]:
        await say(update, context, piece)
    if not view.can_reply:
        await _forget(update, context)
        await say(update, context, pieces[-1] + "\n\n" + _("This report is finished; it can no longer be answered."))
        return END
    await _remember(update, context, report_id)
    if view.disputing:
        hint = _("This report is finished. If you disagree with the outcome, you may reply once: type why below, "
                 "and the supervisors will see that you dispute it.")
    elif view.status is Status.WAITING:
        hint = _("The supervisors are waiting for your answer: type it below.")
    else:
        hint = _("To answer or add information, type it below; to add a photo or document, send it.")
    sent_to_reporter = sum(1 for meta in view.file_list if meta.get("from") == "supervisor")
    await say(update, context, pieces[-1] + "\n\n" + hint,
              _view_keyboard(context, supervisor_files=sent_to_reporter, files_allowed=not view.disputing))
    return VIEW


async def _report_or_restart(update: Update, context: Context) -> int | None:
    report_id = _current(context)
    if report_id is None:
        await say(update, context, context._("Your report is no longer open here (for your safety it closes after a "
                                      "while). Nothing was sent. Type /status and your code to open it again."))
    else:
        await _remember(update, context, report_id, typed=_typed(context))  # activity keeps the view open
    return report_id


async def view_choice(update: Update, context: Context) -> str | int:
    """rs:reply / rs:file / rs:refresh / rs:done."""
    choice = update.callback_query.data.removeprefix("rs:")
    return await _act_on(update, context, choice)


async def _act_on(update: Update, context: Context, choice: str) -> str | int:
    _ = context._
    if choice == "done":
        return await finish(update, context)
    report_id = await _report_or_restart(update, context)
    if report_id is None:
        return END
    if choice == "refresh":
        return await _show(update, context, report_id)
    if choice == "send":
        return await _send_typed(update, context, report_id)
    if choice == "discard":
        await _remember(update, context, report_id)
        await say(update, context, _("Not sent. You can type something else, send a file, or press Done."),
                  _view_keyboard(context))
        return VIEW
    if choice == "files":
        await _send_supervisor_files(update, context, report_id)
        return VIEW
    if choice == "file" and not _may_send_files(context):
        await say(update, context, _files_limit_text(context), _view_keyboard(context))
    elif choice == "file":
        await say(update, context, _("Send the photo or document now (at most {mb} MB). Location and camera data are "
                              "removed from images; documents may carry the author's name in their properties.",
                              mb=context.services.settings.reports.max_attachment_mb))
    else:
        await say(update, context, _("Type your answer or the information you want to add, and send it."))
    return VIEW


async def _send_supervisor_files(update: Update, context: Context, report_id: int) -> None:
    """The files the supervisors sent, to the reporter who opened the report with its code."""
    _ = context._
    stored = await reports_of(context).files_for_reporter(report_id=report_id)
    if update.callback_query is not None and not getattr(context, "query_answered", False):
        context.query_answered = True
        await update.callback_query.answer()
    if not stored:
        await say(update, context, _("The supervisors have not sent you any file."), _view_keyboard(context))
        return
    for number, file in enumerate(stored, start=1):
        caption = _("From the supervisors, {number}/{count}", number=number, count=len(stored))
        await context.bot.send_document(update.effective_chat.id,
                                        InputFile(file.data, filename=f"file-{number}.{file.extension}"),
                                        caption=(caption + ("\n" + file.caption if file.caption else ""))[:1024])


async def send_message(update: Update, context: Context) -> str | int:
    """Typed text in the view: a button's name, or a message for the supervisors, shown back first."""
    _ = context._
    text = (update.effective_message.text or "").strip()
    choice = pick(text, _view_options(context)) if len(normalise_choice(text)) <= 12 else None
    if choice is not None:
        return await _act_on(update, context, choice)
    report_id = await _report_or_restart(update, context)
    if report_id is None:
        return END
    try:
        text = reports_of(context).checked_reply(text)
    except Refused as refused:
        await _say_refused_text(update, context, refused, text)
        return VIEW
    await _remember(update, context, report_id, typed=text)
    await say(update, context, _("Send this to the supervisors? They will not see who you are.\n\n<i>{text}</i>\n\n"
                                 "To change it, type it again.", text=html.escape(_shortened(text))),
              buttons(_confirm_rows(context)))
    return VIEW


async def _say_refused_text(update: Update, context: Context, refused: Refused, text: str) -> None:
    _ = context._
    if refused.reason == "text_too_long":
        await say(update, context, _("That is {length} characters; the limit is {max}. Please shorten it or send it "
                                     "in two parts.", length=len(text),
                                     max=context.services.settings.reports.description_max_chars))
    else:
        await say(update, context, _("Type your answer or the information you want to add, and send it."))


async def _send_typed(update: Update, context: Context, report_id: int) -> str | int:
    """rs:send: the message shown back goes to the supervisors."""
    _ = context._
    text = _typed(context)
    if text is None:
        await say(update, context, _("There is no message waiting to be sent. Type it below."), _view_keyboard(context))
        return VIEW
    try:
        status = await reports_of(context).reporter_reply(report_id=report_id, text=text, now=utc_now())
    except Refused as refused:
        if refused.reason in ("text_too_long", "text_required"):
            await _say_refused_text(update, context, refused, text)
            return VIEW
        await _forget(update, context)
        await say(update, context, _("This report is finished; it can no longer be answered."))
        return END
    if status in FINISHED:  # that was the one reply a finished report takes: nothing more is offered
        await _forget(update, context)
        await say(update, context, _("✅ Sent to the supervisors: they see that you dispute the outcome, and may "
                                     "reopen the report. That was the one reply a finished report takes; open /status "
                                     "again later to see what they decide."))
        return END
    await _remember(update, context, report_id)
    await say(update, context, _("✅ Sent to the supervisors; they do not see who you are. Status: <b>{status}</b>.\n"
                          "You can write more, send a file, or press Done.", status=_(STATUS_NAMES[status])),
                _view_keyboard(context))
    return VIEW


async def send_file(update: Update, context: Context) -> str | int:
    """A photo or document in the view: cleaned and added to the report."""
    _ = context._
    sent = _files_sent(context)
    report_id = await _report_or_restart(update, context)
    if report_id is None:
        return END
    if sent >= context.services.settings.reports.max_attachments:
        await say(update, context, _files_limit_text(context), _view_keyboard(context))
        return VIEW
    try:
        clean = await fetch_clean_file(update.effective_message, context)
        count = await reports_of(context).reporter_attach(report_id=report_id, file=clean, now=utc_now())
        await _remember(update, context, report_id, files=sent + 1, typed=_typed(context))
    except FileRefused as refused:
        await say(update, context, refusal_text(context, refused.reason))
        return VIEW
    except Refused:
        await _forget(update, context)
        await say(update, context, _("This report is finished; it can no longer be answered."))
        return END
    await say(update, context, _("✅ File added to your report ({count} files now). The supervisors will see it.",
                          count=count) + "\n\n" + html.escape(cleaning_text(context, clean)), _view_keyboard(context))
    return VIEW


def _files_limit_text(context: Context) -> str:
    return context._("You have sent {count} files this time, the most at once. Press Done, and open the report "
                     "again with /status to send more.", count=context.services.settings.reports.max_attachments)


async def ask_for_code(update: Update, context: Context) -> str:
    """Anything but text while the code is expected."""
    await say(update, context, context._("Please type your receipt code, or /cancel."))
    return CODE


async def finish(update: Update, context: Context) -> str:
    """rs:done or /cancel: close the report view (the code is needed to open it again)."""
    await _forget(update, context)
    await say(update, context, context._("Closed. To see your report again, type /status and your code."))
    return END


async def receive(update: Update, context: Context) -> None:
    """The next message while the code is asked for, or while the report is open."""
    message = update.effective_message
    if context.pending.action == CODE:
        await (type_code(update, context) if message.text else ask_for_code(update, context))
    elif message.photo or message.document is not None:
        await send_file(update, context)
    elif REFUSED_MEDIA.check_update(update):
        await refuse_media(update, context)
    elif message.text:
        await send_message(update, context)
    else:
        await say(update, context, context._("Type your answer or the information you want to add, and send it."))


def entry_points() -> list:
    """/status, the deep link /start status and the menu button: before the plain /start."""
    return private_entry_points("status", start_status)
