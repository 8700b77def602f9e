"""Anonymous reports, the reporter's side: the guided intake, ending with a receipt code.

Entered with /report, the menu button `menu:report` or the deep link `/start report`, in private
chats only: a group gets the deep link and nothing else. The steps, each answered by a button or
by typing: category → unit or place → when → description → attachments → review (change any
answer, or cancel) → submission, and the receipt code, shown once.

Where things live: the step is the user's pending input (`bot/pending.py`, feature "report",
written before each question is shown, so a crash or a restart cannot put an answer in the wrong
field); the answers and files are the ReportService draft (encrypted, under a keyed hash of the
chat, erased on submission or cancel). `STEPS` is the one table of the intake's steps: the
question each shows and the function that takes its answer, typed or pressed. The receipt code
is kept (encrypted, 24 hours at most) until the reporter presses "I have saved my code", and
shown again on their next message until then. Nothing here logs who wrote, or what.

Callback data (checked on arrival; anything else gets "This button has expired", with /help):
  rp:cat:<n>        category number n (1-based, in the configured order)
  rp:when:<n>       one of the suggested answers to "when"
  rp:more           attachments: go on to the review
  rp:clear          remove the attachments added so far
  rp:go | rp:new    an unfinished draft: continue it | start over
  rp:submit | rp:edit | rp:cancel      the review (rp:cancel works at every step)
  rp:ed:<field>     the answer to change; rp:back: back to the review
  rp:prev           back to the previous step (also typed: 返回, 上一步, back)
  rp:keep           a step asked again (back, or an edit): keep the answer it already has
  rp:saved          the receipt code is saved: erase it from the bot
  rp:erase:<keep|all|no>   after submitting: delete the intake's messages from the chat (keeping a
                    short message with the code, or not), or keep them

Erasing the intake: Telegram numbers the messages of a private chat in one sequence, both sides
together, so the intake is the range from its first message to the offer to erase it. Only the
first message's number is kept, in the encrypted pending input (feature "report_erase") and the
encrypted draft (an intake set aside and continued keeps its first message), never with the
reporter's id; the bot deletes the range (Telegram allows it for 48 hours).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
import unicodedata
from datetime import datetime, timezone

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.db import DatabaseUnavailable
from bot.i18n import N_
from bot.logs import describe_exception
from bot.pending import Pending
from bot.reports import files
from bot.reports.files import CleanFile, FileRefused
from bot.reports.service import (UNIT_MAX_CHARS, WHEN_MAX_CHARS, Draft, IncompleteDraft, KeptCode, NoDraft,
                                 ReportService, Throttled)
from handlers import flow
from handlers.common import buttons, expired_button
from handlers.context import Context

log = logging.getLogger(__name__)

FEATURE = "report"
# The steps, as the pending input's action (stored as these strings).
RESUME, CATEGORY, UNIT, WHEN, DESCRIPTION, FILES, REVIEW, EDIT = (
    "resume", "category", "unit", "when", "description", "files", "review", "edit")
NUMBERED = (CATEGORY, UNIT, WHEN, DESCRIPTION, FILES)
END = "end"
ERASE_FEATURE, ERASE = "report_erase", "offer"
# Where "back" goes from each step (the first step has none: /cancel stops).
PREVIOUS = {UNIT: CATEGORY, WHEN: UNIT, DESCRIPTION: WHEN, FILES: DESCRIPTION, REVIEW: FILES, EDIT: REVIEW}
BACK_WORDS = {"back", "previous", "返回", "上一步", "后退"}
CANCEL_WORDS = {"cancel", "取消", "取消举报", "退出"}  # typed as the Cancel button is labelled, as /cancel does
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids

REVIEW_DESCRIPTION_CHARS = 3000  # a review message must stay under Telegram's 4096 characters

WHEN_CHOICES = (N_("It is still going on"), N_("In the last month"), N_("Earlier this year"),
                N_("Earlier than that"))
FIELD_LABELS = {
    CATEGORY: N_("Category"),
    UNIT: N_("Unit or place"),
    WHEN: N_("When"),
    DESCRIPTION: N_("Description"),
    FILES: N_("Attachments"),
}
# Typed words that stand for a button (besides its label and its number).
ALIASES = {
    "submit": {"submit", "send", "yes", "ok", "提交", "发送", "确认", "是"},
    "edit": {"edit", "change", "修改", "编辑", "更改"},
    "cancel": {"cancel", "stop", "quit", "取消", "放弃", "退出"},
    "more": {"done", "continue", "next", "skip", "no", "nofiles", "none", "完成", "继续", "下一步", "跳过", "没有", "无", "好了"},
    "clear": {"clear", "remove", "delete", "删除", "清除"},
    "go": {"continue", "resume", "继续"},
    "new": {"new", "startover", "restart", "重新开始", "重来", "新的"},
    "back": {"back", "review", "返回"},
    "send": {"send", "sendit", "yes", "ok", "发送", "确认", "是"},        # /status: a typed message shown back
    "discard": {"dontsend", "donotsend", "no", "不发送", "不发", "不要发送", "否"},
}


async def say(update: Update, context: Context, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Message:
    """Send an HTML message to the update's chat; a pressed button is answered once, however many are sent."""
    query = update.callback_query
    if query is not None and not getattr(context, "query_answered", False):
        context.query_answered = True
        await query.answer()
    return await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML,
                                          reply_markup=keyboard)


def reports_of(context: Context) -> ReportService:
    return context.services.reports


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def normalise_choice(text: str | None) -> str:
    """Case, width, spaces, punctuation and emoji do not matter when a button is typed."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text or "").casefold())


def pick(text: str | None, options: list[tuple[str, str]]) -> str | None:
    """The option a typed text chooses: its number, its label (or a unique part of it), or an alias."""
    typed = normalise_choice(text)
    if not typed:
        return None
    if typed.isdigit():
        number = int(typed)
        return options[number - 1][0] if 1 <= number <= len(options) else None
    for key, label in options:
        if typed == normalise_choice(label) or typed in ALIASES.get(key, ()):
            return key
    partial = [key for key, label in options if len(typed) >= 2 and typed in normalise_choice(label)]
    return partial[0] if len(partial) == 1 else None


def options_of(rows: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """A keyboard's buttons as typed options, in the order shown: "2" is the second button."""
    return [(data.split(":", 1)[1], label) for row in rows for label, data in row]


def local_moment(context: Context, moment: datetime) -> str:
    """A time the reporter reads: "15:00" today, "2026-03-05 15:00" on another day (the bot's time zone)."""
    zone = context.services.settings.zone
    local = moment.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == utc_now().astimezone(zone).date() else f"{local:%Y-%m-%d %H:%M}"


def too_many_reports_text(context: Context, until: datetime) -> str:
    limits = context.services.settings.reports
    return context._("Thank you for your reports. To keep the inbox usable, one chat can send at most {count} reports "
                     "in {minutes} minutes. You can send another from {time}; until then your draft is kept.",
                     count=limits.submissions_per_window, minutes=limits.submission_window_minutes,
                     time=local_moment(context, until))


def category_label(context: Context, category_id: str) -> str:
    return context.services.reports.category_label(category_id, context.language)


def category_options(context: Context) -> list[tuple[str, str]]:
    return list(context.services.reports.category_labels(context.language).items())


# ---- shared with /status: files, refusals, the group link ------------------------------------

ATTACHMENT = filters.PHOTO | filters.Document.ALL
REFUSED_MEDIA = (filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE | filters.ANIMATION
                 | filters.Sticker.ALL | filters.CONTACT | filters.LOCATION | filters.VENUE | filters.POLL
                 | filters.Dice.ALL | filters.STORY)


async def fetch_clean_file(message: Message, context: Context) -> CleanFile:
    """The photo or document of a message, downloaded and stripped of its metadata (FileRefused if not)."""
    max_mb = context.services.settings.reports.max_attachment_mb
    if message.photo:
        photo = message.photo[-1]
        files.check_size(photo.file_size, max_mb)
        source, mime = photo, "image/jpeg"  # the real format is read from the pixels' container
    elif message.document is not None:
        document = message.document
        mime = (document.mime_type or "").lower()
        if not files.accepts(mime) and mime not in files.OLD_OFFICE_TYPES:
            mime = files.mime_for_name(document.file_name) or mime
        files.check_type(mime)  # before downloading: old .doc/.xls and unknown types are refused
        files.check_size(document.file_size, max_mb)
        source = document
    else:
        raise FileRefused("type")
    telegram_file = await source.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    clean = await asyncio.to_thread(files.sanitise, data, mime, max_mb=max_mb)
    # The caption goes with the file (encrypted with its metadata), as the reporter wrote it.
    return dataclasses.replace(clean, caption=(message.caption or "").strip()[:files.CAPTION_MAX_CHARS])


def refusal_text(context: Context, reason: str) -> str:
    _ = context._
    limits = context.services.settings.reports
    if reason == "size":
        return _("This file is too big: the limit is {mb} MB per file.", mb=limits.max_attachment_mb)
    if reason == "count":
        return _("That is the limit of {count} files; this one was not added.", count=limits.max_attachments)
    if reason == "broken":
        return _("I could not read this file; it may be damaged. Please try another file or format.")
    if reason == "bomb":
        return _("I can't take this file: unpacked, it would be far bigger than it looks (too many pixels, "
                 "parts or megabytes). Please send a smaller picture, or the document saved again or as a PDF.")
    if reason == "old_office":
        return _("Old Word, Excel and PowerPoint files (.doc, .xls, .ppt) can carry the author's name in places "
                 "I cannot clean, so I don't take them. Please save the file as .docx, .xlsx, .pptx or PDF, "
                 "or send a screenshot.")
    return _("I can't take this kind of file. Please send photos, or documents of these types: {types}.",
             types=", ".join(files.ACCEPTED_EXTENSIONS))


CLEANED_LABELS = {
    "location": N_("the place it was taken (GPS position)"),
    "camera": N_("camera, time and other hidden data"),
    "properties": N_("the author, last editor and company in the document's properties"),
    "custom": N_("the document's custom properties"),
    "comment_authors": N_("the names and initials of the authors of comments"),
    "revisions": N_("the names of the authors of tracked changes, and when they made them"),
    "folder": N_("folder paths on the author's computer (they often hold a user name)"),
    "picture_location": N_("location and camera data of the pictures inside the document"),
    "pdf_info": N_("the PDF's document information (author, creator, dates)"),
    "xmp": N_("the PDF's XMP metadata"),
    "annotation_authors": N_("the authors of comments in the PDF"),
}
KEPT_LABELS = {
    "text": N_("names written in the text itself, in headers and footers or in pictures"),
    "embedded": N_("files embedded in the document: they are not cleaned"),
}


def cleaning_text(context: Context, clean: CleanFile) -> str:
    """What was removed from a file, and what may still name someone (plain text, one item a line)."""
    _ = context._
    if clean.cleaned:
        text = _("Removed from this file:") + "".join(f"\n• {_(CLEANED_LABELS[item])}" for item in clean.cleaned)
    else:
        text = _("No hidden data that names a person was found in this file.")
    if clean.kept:
        text += "\n" + _("Not removed, please check:") + "".join(f"\n• {_(KEPT_LABELS[item])}" for item in clean.kept)
    return text


async def refuse_media(update: Update, context: Context) -> None:
    """Voice, video, stickers, contacts, locations: refused politely, nothing kept."""
    _ = context._
    message = update.effective_message
    if message.contact is not None or message.location is not None or message.venue is not None:
        text = _("Please do not send a contact or a location: they can identify you. Nothing was kept.")
    else:
        text = _("I can't take voice messages, videos, audio or stickers: a voice or a face can identify you. "
                 "Please type your text, or send photos or documents.")
    await message.reply_text(text)


def deep_link(context: Context, payload: str) -> str:
    return f"https://t.me/{context.bot.username}?start={payload}"


async def send_deep_link(update: Update, context: Context, payload: str = "report") -> None:
    """In a group: only the link to a private chat, where reports are made; nothing is asked here."""
    _ = context._
    if update.callback_query is not None:
        await update.callback_query.answer()
    if payload == "status":
        text = _("Check a report in a private chat with me (never show your receipt code in a group): {link}",
                 link=deep_link(context, payload))
    else:
        text = _("Reports are made in a private chat with me: {link}", link=deep_link(context, payload))
    await context.bot.send_message(update.effective_chat.id, text)


async def link_to_report(update: Update, context: Context) -> None:
    """/report or the report button in a group: the deep link."""
    await send_deep_link(update, context, "report")


async def link_to_status(update: Update, context: Context) -> None:
    """/status or the status button in a group: the deep link."""
    await send_deep_link(update, context, "status")


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


# ---- the steps ---------------------------------------------------------------------------------

def _header(context: Context, step: str) -> str:
    return context._("<b>Step {number} of {total}</b>", number=NUMBERED.index(step) + 1, total=len(NUMBERED))


def _cancel_row(context: Context) -> list[tuple[str, str]]:
    return [(context._("❌ Cancel"), "rp:cancel")]


def _nav_row(context: Context, step: str) -> list[tuple[str, str]]:
    """Back to the previous step (where there is one) and Cancel."""
    back = [(context._("← Back"), "rp:prev")] if step in PREVIOUS else []
    return back + _cancel_row(context)


def _first_message(update: Update, context: Context) -> int | None:
    """The intake's first message in this chat: carried from step to step, else this update's message."""
    pending = context.pending
    if pending is not None and pending.feature == FEATURE and pending.data.get("first"):
        return pending.data["first"]
    message = update.effective_message
    return message.message_id if message is not None else None


async def ask(update: Update, context: Context, step: str, draft: Draft | None = None, *,
              first: int | None = None) -> str:
    """Make `step` the owner of the reporter's next message, then show its question."""
    first = first or _first_message(update, context)
    await flow.expect(update, context, Pending(FEATURE, step, data={"first": first} if first else {}))
    _ = context._
    limits = context.services.settings.reports
    if step == CATEGORY:
        text = _header(context, step) + "\n" + _("What is it about? Choose a category, or type its number.")
        rows = [[(f"{number}. {label}", f"rp:cat:{number}")]
                for number, (_id, label) in enumerate(category_options(context), start=1)]
        await say(update, context, text, buttons(rows + [_cancel_row(context)]))
    elif step == UNIT:
        text = _header(context, step) + "\n" + _(
            "Which unit or place is it about? For example: “X township government”, “Y village committee”, "
            "“the county education bureau”. Type it (at most {max} characters).", max=UNIT_MAX_CHARS)
        await say(update, context, text + _answer_so_far(context, draft, step),
                  buttons(_keep_rows(context, draft, step) + [_nav_row(context, step)]))
    elif step == WHEN:
        text = _header(context, step) + "\n" + _(
            "When did it happen? Type a date or a period in your own words, or choose:")
        rows = [[(_(choice), f"rp:when:{number}")] for number, choice in enumerate(WHEN_CHOICES, start=1)]
        await say(update, context, text + _answer_so_far(context, draft, step),
                  buttons(rows + _keep_rows(context, draft, step) + [_nav_row(context, step)]))
    elif step == DESCRIPTION:
        text = _header(context, step) + "\n" + _(
            "Describe what happened: what was required, by which unit, how often, and what it cost. "
            "Between {min} and {max} characters.\n\n"
            "Do not write your own name or anything else that would identify you.",
            min=limits.description_min_chars, max=limits.description_max_chars)
        await say(update, context, text + _answer_so_far(context, draft, step),
                  buttons(_keep_rows(context, draft, step) + [_nav_row(context, step)]))
    elif step == FILES:
        await _ask_files(update, context, draft)
    elif step == REVIEW:
        await _show_review(update, context, draft)
    elif step == EDIT:
        rows = [[(_(label), f"rp:ed:{field}")] for field, label in FIELD_LABELS.items()]
        rows.append([(_("← Back to the review"), "rp:back")])
        await say(update, context, _("Which answer do you want to change?"), buttons(rows))
    return step


RECEIPT = N_(
    "✅ <b>Your report has been sent.</b> The supervisors will look into it.\n\n"
    "{codes}\n\n"
    "Write it down or keep it somewhere safe <b>now</b>: it is the only way back to your report. With it, "
    "/status shows what became of the report and the supervisors' questions, and lets you answer. "
    "{check_back} Anyone who has the code can read the answers: do not share it.\n\n"
    "Until you press the button below, I keep the code (encrypted) for at most 24 hours and show it again "
    "when you next write; then it is erased and cannot be recovered.")
RECEIPTS = N_(  # reports sent one after the other before any code was confirmed saved
    "✅ <b>Your report has been sent.</b> The supervisors will look into it.\n\n"
    "{codes}\n\n"
    "Write them down or keep them somewhere safe <b>now</b>: each is the only way back to its report. With a "
    "code, /status shows what became of that report and the supervisors' questions, and lets you answer. "
    "{check_back} Anyone who has a code can read its report's answers: do not share them.\n\n"
    "Until you press the button below, I keep these codes (encrypted) for at most 24 hours and show them again "
    "when you next write; then they are erased and cannot be recovered.")
KEPT_ANSWER_CHARS = 1000  # the description shown back, so that the question stays in one message


def _answer_so_far(context: Context, draft: Draft | None, step: str) -> str:
    """A step asked again (back, or an edit): the answer it has, kept unless replaced."""
    answer = getattr(draft, step, None) if draft is not None else None
    if not answer:
        return ""
    answer = context._(answer) if step == WHEN else answer  # a choice pressed is kept as its msgid
    shown = answer if len(answer) <= KEPT_ANSWER_CHARS else answer[:KEPT_ANSWER_CHARS] + "…"
    return "\n\n" + context._("Your answer now:\n{answer}\n\nType a new one to replace it, or press Keep.",
                               answer=html.escape(shown))


def _keep_rows(context: Context, draft: Draft | None, step: str) -> list[list[tuple[str, str]]]:
    return [[(context._("✔️ Keep this answer"), "rp:keep")]] if draft is not None and getattr(draft, step, None) else []


async def keep_answer(update: Update, context: Context) -> str | int:
    """rp:keep: the step's answer stays; on to the step after it (or back to the review)."""
    draft = await _load(update, context)
    if draft is None:
        return END
    step = context.pending.action
    answer = getattr(draft, step, None)
    if not answer:
        await expired_button(update, context)
        return step
    return await _store(update, context, step, answer)


async def _ask_files(update: Update, context: Context, draft: Draft | None) -> None:
    _ = context._
    limits = context.services.settings.reports
    count = draft.files if draft else 0
    if count >= limits.max_attachments:  # no more may be added: none is offered
        text = _header(context, FILES) + "\n" + _(
            "You have added {count} files, the most one report can take. Press Continue, or remove them to "
            "choose others.", count=count)
        await say(update, context, text, buttons(_files_rows(context, count)))
        return
    text = _header(context, FILES) + "\n" + _(
        "You can add up to {count} photos or documents (at most {mb} MB each), for example a screenshot of a "
        "notice or of a work-group message. Send them now, or press Continue.",
        count=limits.max_attachments, mb=limits.max_attachment_mb)
    text += "\n\n" + _(
        "Location and camera data are removed from images. From Word, Excel, PowerPoint, OpenDocument and PDF "
        "files I remove the names kept outside the text: the document's properties, the authors of comments and "
        "of tracked changes, and PDF metadata. Names written in the text itself, in pictures or in files embedded "
        "in a document stay: check them before sending. Old .doc/.xls/.ppt files are not taken. After each file "
        "I tell you what was removed.")
    if count:
        text += "\n\n" + _("Files added so far: {count}", count=count)
    await say(update, context, text, buttons(_files_rows(context, count)))


def _files_rows(context: Context, count: int) -> list[list[tuple[str, str]]]:
    """The files step's buttons: Continue, Remove (once there are files), Back, Cancel."""
    rows = [[(context._("Continue →"), "rp:more")]]
    if count:
        rows.append([(context._("Remove the files added"), "rp:clear")])
    return rows + [_nav_row(context, FILES)]


def file_line(context: Context, number: int, meta: dict) -> str:
    """One of a report's files as the reporter sent it: its kind and type, and its caption."""
    kind = context._("photo") if meta.get("kind") == "image" else context._("document")
    if meta.get("from") == "supervisor":
        kind = context._("from the supervisors: {kind}", kind=kind)
    caption = f" · {html.escape(meta['caption'])}" if meta.get("caption") else ""
    return f"  {number}. {kind} (.{html.escape(meta.get('extension', ''))}){caption}"


async def _show_review(update: Update, context: Context, draft: Draft) -> None:
    _ = context._
    files = await reports_of(context).draft_files(chat_id=update.effective_chat.id) if draft.files else []
    description = draft.description or ""
    if len(description) > REVIEW_DESCRIPTION_CHARS:
        description = description[:REVIEW_DESCRIPTION_CHARS] + "…"
    lines = [
        _("<b>Please check your report before sending it</b>"),
        "",
        f"<b>{_('Category')}:</b> {html.escape(category_label(context, draft.category or ''))}",
        f"<b>{_('Unit or place')}:</b> {html.escape(draft.unit or '')}",
        f"<b>{_('When')}:</b> {html.escape(_(draft.when) if draft.when else '')}",
        f"<b>{_('Description')}:</b>\n{html.escape(description)}",
        f"<b>{_('Attachments')}:</b> {draft.files}",
        *[file_line(context, number, meta) for number, meta in enumerate(files, start=1)],  # with their captions
        "",
        _("Send it, change an answer, or cancel (the draft is then deleted)."),
    ]
    await say(update, context, "\n".join(lines), buttons(_review_rows(context)))


def _review_rows(context: Context) -> list[list[tuple[str, str]]]:
    _ = context._
    return [[(_("✅ Submit"), "rp:submit")], [(_("✏️ Edit an answer"), "rp:edit")], _nav_row(context, REVIEW)]


# ---- entering ----------------------------------------------------------------------------------

async def start_report(update: Update, context: Context) -> str | int:
    """/report, menu:report, /start report: begin a report, or offer to continue an unfinished one."""
    if not is_private(update):
        await send_deep_link(update, context, "report")
        return END
    _ = context._
    reports = reports_of(context)
    chat_id = update.effective_chat.id
    until = await reports.submission_wait(chat_id=chat_id, now=utc_now())
    if until is not None:  # said before the reporter writes it all
        await say(update, context, too_many_reports_text(context, until))
        return END
    draft = await reports.draft(chat_id=chat_id)
    if draft is not None and (draft.category or draft.files):
        await flow.expect(update, context, Pending(FEATURE, RESUME))
        await say(update, context, _("You have an unfinished report. Continue it, or start over (the draft is deleted)?"),
                  buttons(_resume_rows(context)))
        return RESUME
    return await _begin(update, context)


async def _begin(update: Update, context: Context) -> str:
    _ = context._
    chat_id = update.effective_chat.id
    reports = reports_of(context)
    await reports.erase_draft(chat_id=chat_id)
    command = update.message.message_id if update.message is not None else None
    intro = await say(update, context, _(
        "🔒 <b>Anonymous report</b>\n"
        "Qingfeng keeps no Telegram name, username, phone number or id with the report or in its logs, and "
        "stores the report's text and files encrypted. But Telegram itself knows which account writes to this "
        "bot, and that account's phone number, and while you write, the running bot sees your account (it "
        "keeps only keyed hashes of the chat, for your draft and the limits on sending).\n"
        "To report more safely: use a separate Telegram account, and leave out details that would identify "
        "you (your name, your post, things only you could know). You will get a receipt code to read the "
        "answers later.\n"
        "Type /cancel at any time to stop; nothing is kept then."))
    # Saved once its first message is known (the command, or the intro when a button began it).
    draft = await reports.save_draft(chat_id=chat_id, draft=Draft(first=command or intro.message_id), now=utc_now())
    return await ask(update, context, CATEGORY, draft, first=draft.first)


def _resume_rows(context: Context) -> list[list[tuple[str, str]]]:
    return [[(context._("Continue it"), "rp:go")], [(context._("Start over"), "rp:new")], _cancel_row(context)]


async def resume_choice(update: Update, context: Context) -> str | int:
    """rp:go / rp:new, or typed: continue the unfinished draft or start over."""
    _ = context._
    query = update.callback_query
    if query is not None:
        choice = query.data.removeprefix("rp:")
    else:
        choice = pick(update.effective_message.text, options_of(_resume_rows(context)))
    if choice == "cancel":
        return await cancel(update, context)
    if choice == "new":
        return await _begin(update, context)
    if choice != "go":
        await say(update, context, _("Please choose: continue the unfinished report, or start over."))
        return RESUME
    draft = await reports_of(context).draft(chat_id=update.effective_chat.id)
    if draft is None:
        return await _begin(update, context)
    draft.editing = False
    return await ask(update, context, draft.missing() or REVIEW, draft, first=draft.first)


# ---- answers -----------------------------------------------------------------------------------

async def _load(update: Update, context: Context) -> Draft | None:
    draft = await reports_of(context).draft(chat_id=update.effective_chat.id)
    if draft is None:
        await say(update, context, context._("This report is no longer in progress (it was sent, cancelled or expired). "
                                      "Type /report to begin a new one."))
    return draft


async def _store(update: Update, context: Context, field: str, value: str) -> str | int:
    """Save one answer, then ask the next question (or go back to the review after an edit)."""
    draft = await _load(update, context)
    if draft is None:
        return END
    setattr(draft, field, value)
    editing, draft.editing = draft.editing, False
    await reports_of(context).save_draft(chat_id=update.effective_chat.id, draft=draft, now=utc_now())
    if editing:
        return await ask(update, context, draft.missing() or REVIEW, draft)
    # In order, also after going back: the step after this one, unless an earlier one is unanswered.
    following = NUMBERED[NUMBERED.index(field) + 1]
    missing = draft.missing()
    return await ask(update, context, missing if missing and NUMBERED.index(missing) < NUMBERED.index(following)
                     else following, draft)


async def choose_category(update: Update, context: Context) -> str | int:
    """rp:cat:<n> or a typed category (its number, its name, or part of it)."""
    options = category_options(context)
    query = update.callback_query
    if query is not None:
        match = re.fullmatch(r"rp:cat:(\d{1,2})", query.data or "")
        number = int(match[1]) if match else 0
        if not 1 <= number <= len(options):
            await expired_button(update, context)
            return CATEGORY
        chosen = options[number - 1][0]
    else:
        chosen = pick(update.effective_message.text, options)
        if chosen is None:
            await say(update, context, context._("Please choose one of the categories above, or type its number "
                                          "(1 to {count}).", count=len(options)))
            return CATEGORY
    return await _store(update, context, "category", chosen)


async def type_unit(update: Update, context: Context) -> str | int:
    """The unit or place, typed."""
    text = " ".join((update.effective_message.text or "").split())
    if len(text) < 2:
        await say(update, context, context._("Please type the unit or place, e.g. “Y village committee”."))
        return UNIT
    if len(text) > UNIT_MAX_CHARS:
        await say(update, context, context._("That is {length} characters; please keep the unit or place under {max} "
                                      "(details go in the description).", length=len(text), max=UNIT_MAX_CHARS))
        return UNIT
    return await _store(update, context, "unit", text)


async def choose_when(update: Update, context: Context) -> str | int:
    """rp:when:<n> or a typed date or period."""
    _ = context._
    query = update.callback_query
    if query is not None:
        match = re.fullmatch(r"rp:when:(\d)", query.data or "")
        number = int(match[1]) if match else 0
        if not 1 <= number <= len(WHEN_CHOICES):
            await expired_button(update, context)
            return WHEN
        text = WHEN_CHOICES[number - 1]  # kept as its msgid: each reader sees it in their language
    else:
        text = " ".join((update.effective_message.text or "").split())
        chosen = pick(text, [(choice, _(choice)) for choice in WHEN_CHOICES]) if text.isdigit() else None
        text = chosen or text
        if not text:
            await say(update, context, _("Please type when it happened, e.g. “since March”, “every Monday”."))
            return WHEN
        if len(text) > WHEN_MAX_CHARS:
            await say(update, context, _("Please say when in fewer than {max} characters (details go in the description).",
                                  max=WHEN_MAX_CHARS))
            return WHEN
    return await _store(update, context, "when", text)


async def type_description(update: Update, context: Context) -> str | int:
    """The description, within the configured length."""
    _ = context._
    text = (update.effective_message.text or "").strip()
    limits = context.services.settings.reports
    problem = reports_of(context).description_problem(text)
    if problem == "short":
        await say(update, context, _("That is {length} characters. Please write at least {min}, so that the supervisors "
                              "can act on it: what was required, by which unit, how often.",
                              length=len(text), min=limits.description_min_chars))
        return DESCRIPTION
    if problem == "long":
        await say(update, context, _("That is {length} characters; the limit is {max}. Please shorten it (you can add "
                              "details as a document in the next step).",
                              length=len(text), max=limits.description_max_chars))
        return DESCRIPTION
    return await _store(update, context, "description", text)


# ---- attachments ---------------------------------------------------------------------------------

async def _add_file(update: Update, context: Context) -> tuple[int, CleanFile] | None:
    """Download, clean and add the file to the draft; the number of files and the file, or None (the reporter
    was told)."""
    try:
        clean = await fetch_clean_file(update.effective_message, context)
        return await reports_of(context).add_draft_file(chat_id=update.effective_chat.id, file=clean), clean
    except FileRefused as refused:
        await update.effective_message.reply_text(refusal_text(context, refused.reason))
    except NoDraft:
        await _load(update, context)
    except TelegramError as exc:
        log.warning("Could not download an attachment: %s", describe_exception(exc))
        await update.effective_message.reply_text(
            context._("I could not receive this file. Please send it again."))
    return None


async def receive_file(update: Update, context: Context) -> str:
    """A photo or document at the attachments step."""
    added = await _add_file(update, context)
    if added is not None:
        _ = context._
        count, clean = added
        limit = context.services.settings.reports.max_attachments
        said = (_("File {count} of at most {max} added. Send more, or press Continue.", count=count, max=limit)
                if count < limit else
                _("File {count} of {max} added: that is the most one report can take. Press Continue.",
                  count=count, max=limit))
        await say(update, context, said + "\n\n" + html.escape(cleaning_text(context, clean)),
                  buttons([[(_("Continue →"), "rp:more")], _nav_row(context, FILES)]))
    return FILES


async def receive_early_file(update: Update, context: Context) -> None:
    """A photo or document before the attachments step: kept with the draft all the same."""
    added = await _add_file(update, context)
    if added is not None:
        count, clean = added
        await update.effective_message.reply_text(context._(
            "File {count} added; it will be sent with the report. Please answer the question above.", count=count)
            + "\n\n" + cleaning_text(context, clean))


async def files_done(update: Update, context: Context) -> str | int:
    """rp:more or typed "done": on to the review; rp:clear: remove the files added so far."""
    _ = context._
    query = update.callback_query
    if query is not None:
        choice = query.data.removeprefix("rp:")
    else:
        draft = await reports_of(context).draft(chat_id=update.effective_chat.id)
        choice = pick(update.effective_message.text, options_of(_files_rows(context, draft.files if draft else 0)))
    if choice == "prev":
        return await go_back(update, context)
    if choice == "cancel":
        return await cancel(update, context)
    if choice == "clear":
        await reports_of(context).clear_draft_files(chat_id=update.effective_chat.id)
        draft = await _load(update, context)
        return END if draft is None else await ask(update, context, FILES, draft)
    if choice != "more":
        await say(update, context, _("To attach something, send a photo or a document. To go on, press Continue "
                              "(or type “done”)."), buttons([[(_("Continue →"), "rp:more")], _nav_row(context, FILES)]))
        return FILES
    draft = await _load(update, context)
    if draft is None:
        return END
    draft.editing = False
    await reports_of(context).save_draft(chat_id=update.effective_chat.id, draft=draft, now=utc_now())
    return await ask(update, context, draft.missing() or REVIEW, draft)


# ---- review, edit, submit, cancel --------------------------------------------------------------

async def review_choice(update: Update, context: Context) -> str | int:
    """rp:submit / rp:edit, or typed."""
    query = update.callback_query
    choice = query.data.removeprefix("rp:") if query is not None else pick(update.effective_message.text,
                                                                           options_of(_review_rows(context)))
    if choice == "prev":
        return await go_back(update, context)
    if choice == "submit":
        return await submit(update, context)
    if choice == "edit":
        return await ask(update, context, EDIT)
    if choice == "cancel":
        return await cancel(update, context)
    await say(update, context, context._("Please choose: Submit, Edit an answer, or Cancel."))
    return REVIEW


async def edit_choice(update: Update, context: Context) -> str | int:
    """rp:ed:<field> / rp:back, or typed: which answer to change."""
    _ = context._
    query = update.callback_query
    options = [(field, _(label)) for field, label in FIELD_LABELS.items()] + [("back", _("← Back to the review"))]
    if query is not None:
        data = query.data or ""
        choice = "back" if data == "rp:back" else data.removeprefix("rp:ed:")
        if choice not in dict(options):
            await expired_button(update, context)
            return EDIT
    else:
        choice = pick(update.effective_message.text, options)
        if choice is None:
            await say(update, context, _("Please choose the answer to change (type its number, 1 to {count}).",
                                  count=len(options)))
            return EDIT
    draft = await _load(update, context)
    if draft is None:
        return END
    if choice == "back":
        return await ask(update, context, REVIEW, draft)
    draft.editing = True
    await reports_of(context).save_draft(chat_id=update.effective_chat.id, draft=draft, now=utc_now())
    return await ask(update, context, choice, draft)


async def submit(update: Update, context: Context) -> str:
    """Turn the draft into a report (one transaction, with the receipt code kept until saved) and show
    the code. A second submit of the same draft finds no draft and shows the same code again."""
    _ = context._
    chat_id = update.effective_chat.id
    try:
        receipt = await reports_of(context).submit(chat_id=chat_id, now=utc_now())
    except Throttled as throttled:
        await say(update, context, too_many_reports_text(context, throttled.until),
                  buttons([[(_("✅ Submit"), "rp:submit")], _cancel_row(context)]))
        return REVIEW
    except IncompleteDraft as missing:
        draft = await _load(update, context)
        return END if draft is None else await ask(update, context, missing.missing, draft)
    except NoDraft:
        kept = await reports_of(context).unsaved_receipt(chat_id=chat_id, now=utc_now())
        if not kept:
            await _load(update, context)
        else:
            await flow.done(update, context, FEATURE)
            if not context.receipt_shown:  # group -1 may have shown it for this update
                await show_receipt(update, context, kept, again=True)
        return END
    except (SQLAlchemyError, DatabaseUnavailable, OSError) as exc:
        log.warning("A report could not be submitted: %s", describe_exception(exc))
        await say(update, context, _("Sorry, your report could not be saved just now. Your draft is kept: "
                              "please press Submit again in a moment."),
                    buttons([[(_("✅ Submit"), "rp:submit")], _cancel_row(context)]))
        return REVIEW
    first = _first_message(update, context)
    await flow.done(update, context, FEATURE)
    if first:  # the offer's step keeps only the number of the intake's first message, encrypted
        await flow.expect(update, context, Pending(ERASE_FEATURE, ERASE, data={"first": first}))
    try:
        await show_receipt(update, context, await reports_of(context).unsaved_receipt(chat_id=chat_id, now=utc_now())
                           or [KeptCode(receipt.code, receipt.acknowledge_due)], erase=bool(first))
    except TelegramError as exc:  # the report is saved and its code kept: the next message shows it
        log.warning("A receipt code could not be shown: %s", describe_exception(exc))
        if update.callback_query is not None and not getattr(context, "query_answered", False):
            context.query_answered = True
            await update.callback_query.answer(_("Your report has been saved, but its receipt code could not be "
                                                 "shown just now. Send any message to see it."), show_alert=True)
    return END


async def show_receipt(update: Update, context: Context, kept: list[KeptCode], *, again: bool = False,
                       erase: bool = False) -> None:
    """The receipt code(s), with the day to check back by and the button that erases them from the bot
    once the reporter has them; just after submitting (`erase`), the offer to delete the intake's messages."""
    _ = context._
    if again:
        await context.bot.send_message(update.effective_chat.id, _(
            "🔁 You have not yet confirmed that you saved your receipt code, so here it is again:"))
    codes, check_back = _codes_said(context, kept)
    # Sent as a message of its own, never as the answer to a pressed button: the button's own
    # handler answers it.
    await context.bot.send_message(update.effective_chat.id, _(RECEIPT if len(kept) == 1 else RECEIPTS,
                                                               codes=codes, check_back=check_back)
                                   + ("\n\n" + _erase_offer(context) if erase else ""),
        parse_mode=ParseMode.HTML, reply_markup=buttons([[(_("✔️ I have saved my code"), "rp:saved")]] + (
            _erase_rows(_erase_options(context)) if erase else [])))


def _codes_said(context: Context, kept: list[KeptCode]) -> tuple[str, str]:
    """The code(s) kept, and when to check back: several (reports sent one after the other before
    any code was confirmed) are listed each with its own day."""
    _ = context._
    span = working_days(_, context.services.settings.reports.acknowledge_within_days)
    if len(kept) == 1:
        return (_("Your receipt code:\n<code>{code}</code>", code=kept[0].code),
                _("Check back on {date} at the latest ({span}): by then the report should have been acknowledged.",
                  date=kept[0].acknowledge_due.isoformat(), span=span))
    listed = "\n".join(_("<code>{code}</code>: check back by {date}", code=item.code,
                         date=item.acknowledge_due.isoformat()) for item in kept)
    return (_("Your receipt codes, one for each report you have not yet confirmed saving:") + "\n" + listed,
            _("Check back on each report's day at the latest ({span} after it was sent): by then it should have "
              "been acknowledged.", span=span))


def working_days(_, days: int) -> str:
    """"1 working day", "5 working days" (一个 / 5 个工作日)."""
    return _("{days} working day", days=days) if days == 1 else _("{days} working days", days=days)


# ---- erasing the intake from the chat ------------------------------------------------------------

def _erase_options(context: Context, *, code_kept: bool = True) -> list[tuple[str, str]]:
    """The choices; a short message with the code only while the bot still has the code to write in it."""
    _ = context._
    keep = [("keep", _("🧹 Erase, keep a short message with my code"))] if code_kept else []
    return keep + [("all", _("🧹 Erase everything")), ("no", _("Keep the conversation"))]


def _erase_rows(options: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    return [[(label, f"rp:erase:{key}")] for key, label in options]


def _erase_offer(context: Context) -> str:
    """After submitting: the report is still readable in this chat; the offer to delete it."""
    return context._(
        "Your report (the answers, the description, the files and the code) can still be read in this chat, on "
        "every device where this Telegram account is open. I can delete this conversation's messages, mine and "
        "yours, for both of us; Telegram allows it for 48 hours.")


async def erase_choice(update: Update, context: Context) -> None:
    """rp:erase:<keep|all|no>, or typed: delete the intake's messages (or keep them)."""
    _ = context._
    query = update.callback_query
    chat_id = update.effective_chat.id
    kept = await reports_of(context).unsaved_receipt(chat_id=chat_id, now=utc_now())
    options = _erase_options(context, code_kept=bool(kept))
    if query is not None:
        choice = query.data.removeprefix("rp:erase:")
    else:
        choice = pick(update.effective_message.text, options)
    if choice is None and _erase_offer_open(context):
        # Something else typed: the offer stays open (Telegram allows deleting for 48 hours), asked again.
        if context.receipt_shown:  # shown just now, with the choices under it
            await say(update, context, _("Shall I delete this conversation's messages? Choose with the buttons "
                                         "under your receipt code, or type /cancel to keep them."))
        else:
            await say(update, context, _("Shall I delete this conversation's messages? Choose below, or type "
                                         "/cancel to keep them."),
                      buttons(_erase_rows(options)))
        return
    pending = context.pending
    first = pending.data.get("first") if pending is not None and pending.feature == ERASE_FEATURE else None
    await flow.done(update, context, ERASE_FEATURE)
    if choice not in ("keep", "all") or not first or pending.expired:
        await say(update, context, _("Nothing was erased. You can still delete the messages yourself in Telegram."))
        return
    if query is not None and not getattr(context, "query_answered", False):
        context.query_answered = True
        await query.answer()
    # The outcome is said first, then everything before it goes: the intake, and whatever came after it
    # while the offer was open (receipts shown again, messages typed, old buttons' answers).
    if choice == "keep" and kept:
        # Once this message is in the chat the code is there: the bot's copy would only post it again
        # into the chat just cleaned, so it is erased (if the send fails, it stays, to be shown again).
        codes, check_back = _codes_said(context, kept)
        said = await context.bot.send_message(chat_id, _(
            "🧹 The report's messages were deleted from this chat.\n\n{codes}\n{check_back} Use /status with the "
            "code. This message is now the only copy of the code: the bot no longer keeps it.",
            codes=codes, check_back=check_back), parse_mode=ParseMode.HTML)
        await reports_of(context).confirm_receipt(chat_id=chat_id)
    elif choice == "keep":
        said = await say(update, context, _("🧹 The report's messages were deleted from this chat. The code is no "
                                            "longer kept by the bot (you confirmed saving it), so I cannot show it "
                                            "again."))
    else:
        said = await say(update, context, _("🧹 The report's messages were deleted from this chat."))
    await _delete_messages(context, chat_id, range(first, said.message_id))


async def _delete_messages(context: Context, chat_id: int, ids: range) -> None:
    """Delete what can be deleted; a message Telegram no longer lets us delete (48 hours) stays."""
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await context.bot.delete_messages(chat_id, list(ids[start:start + DELETE_BATCH]))
        except TelegramError as exc:
            log.warning("Could not delete the messages of an intake: %s", describe_exception(exc))


async def keep_conversation(update: Update, context: Context) -> None:
    """/cancel while the offer to erase is open: nothing is deleted."""
    await flow.done(update, context, ERASE_FEATURE)
    await say(update, context, context._("Nothing was erased. You can still delete the messages yourself in "
                                         "Telegram."))


async def confirm_receipt(update: Update, context: Context) -> None:
    """rp:saved: the reporter has the code; erase it from the bot."""
    _ = context._
    erased = await reports_of(context).confirm_receipt(chat_id=update.effective_chat.id)
    await say(update, context, _("Thank you. The code is no longer kept by the bot; only you have it.") if erased
              else _("The code is no longer kept by the bot."))


async def remind_receipt(update: Update, context: Context) -> None:
    """Group -1: while a receipt code is unconfirmed, the reporter's next message shows it again
    first (a receipt whose first sending failed is never lost)."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or not context.pending_known:
        return
    pending = context.pending
    if pending is not None and not pending.expired and pending.feature != ERASE_FEATURE:
        return  # in the middle of another conversation (the next report's steps): shown when it starts, not at each answer
    query = update.callback_query
    if query is not None and (query.data == "rp:saved" or (query.data or "").startswith("rp:erase:")):
        return
    try:
        kept = await reports_of(context).unsaved_receipt(chat_id=chat.id, now=utc_now())
    except (SQLAlchemyError, DatabaseUnavailable, OSError):
        return
    if kept:  # with the offer to erase the intake while it is open (its first sending may have failed)
        await show_receipt(update, context, kept, again=True, erase=_erase_offer_open(context))
        context.receipt_shown = True


def _erase_offer_open(context: Context) -> bool:
    pending = context.pending
    return pending is not None and pending.feature == ERASE_FEATURE and not pending.expired


async def cancel(update: Update, context: Context) -> str:
    """/cancel or rp:cancel at any step: the draft and its files are deleted."""
    await flow.done(update, context, FEATURE)
    await reports_of(context).erase_draft(chat_id=update.effective_chat.id)
    await say(update, context, context._("Cancelled. Your draft and its files have been deleted; nothing was kept."))
    return END


async def not_now(update: Update, context: Context) -> None:
    """Anything else during the intake: say what is expected."""
    await update.effective_message.reply_text(context._(
        "Please answer the question above with text or a button, or type /cancel to stop."))


# ---- the handler ---------------------------------------------------------------------------------

TEXT = filters.TEXT & ~filters.COMMAND
PRIVATE = filters.ChatType.PRIVATE


def private_entry_points(name: str, callback) -> list:
    """Three ways into a private conversation: /name, the deep link /start name, the menu button."""
    return [CommandHandler(name, callback, filters=PRIVATE),
            CommandHandler("start", callback, filters=PRIVATE & filters.Regex(rf"^/start(@\w+)? {name}$")),
            CallbackQueryHandler(callback, pattern=rf"^menu:{name}$")]


# The intake's steps: the function that takes the answer to each (typed, or a button pressed).
STEPS = {
    RESUME: resume_choice,
    CATEGORY: choose_category,
    UNIT: type_unit,
    WHEN: choose_when,
    DESCRIPTION: type_description,
    FILES: files_done,
    REVIEW: review_choice,
    EDIT: edit_choice,
}
BUTTON_STEPS = {RESUME, CATEGORY, WHEN, FILES, REVIEW, EDIT}  # steps that show buttons
KEEPABLE = {UNIT, WHEN, DESCRIPTION}  # typed answers a step asked again may keep (rp:keep)


async def go_back(update: Update, context: Context) -> str | int:
    """rp:prev or typed 返回 / 上一步 / back: the previous step's question again (its answer is kept until
    replaced)."""
    draft = await _load(update, context)
    if draft is None:
        return END
    if draft.editing:
        draft.editing = False
        await reports_of(context).save_draft(chat_id=update.effective_chat.id, draft=draft, now=utc_now())
    return await ask(update, context, PREVIOUS[context.pending.action], draft)


def _is_back(text: str | None) -> bool:
    return normalise_choice(text) in BACK_WORDS


async def receive(update: Update, context: Context) -> None:
    """The reporter's next message, for the step the pending input names."""
    step = context.pending.action
    message = update.effective_message
    if message.text and step in PREVIOUS and _is_back(message.text):
        await _finish(update, context, await go_back(update, context))
    elif message.text and normalise_choice(message.text) in CANCEL_WORDS:
        await _finish(update, context, await cancel(update, context))
    elif message.photo or message.document is not None:
        await (receive_file(update, context) if step == FILES else receive_early_file(update, context))
    elif REFUSED_MEDIA.check_update(update):
        await refuse_media(update, context)
    elif message.text and step in STEPS:
        await _finish(update, context, await STEPS[step](update, context))
    else:
        await not_now(update, context)


async def press(update: Update, context: Context) -> None:
    """rp:…: a button of the intake, valid only while a report is being written."""
    pending = context.pending
    data = update.callback_query.data or ""
    if data == "rp:cancel" and pending is not None and pending.feature == FEATURE:
        await cancel(update, context)
    elif data.startswith("rp:erase:"):
        await erase_choice(update, context)
    elif data == "rp:prev" and pending is not None and pending.feature == FEATURE and not pending.expired \
            and pending.action in PREVIOUS:
        await _finish(update, context, await go_back(update, context))
    elif data == "rp:keep" and pending is not None and pending.feature == FEATURE and not pending.expired \
            and pending.action in KEEPABLE:
        await _finish(update, context, await keep_answer(update, context))
    elif pending is None or pending.feature != FEATURE or pending.expired or pending.action not in BUTTON_STEPS:
        await expired_button(update, context)
    else:
        await _finish(update, context, await STEPS[pending.action](update, context))


async def _finish(update: Update, context: Context, step: str) -> None:
    if step == END:
        await flow.done(update, context, FEATURE)


def entry_points() -> list:
    """/report, the deep link /start report and the menu button: before the plain /start."""
    return private_entry_points("report", start_report)
