"""Policy answers: questions in chat, topics to browse, inline mode, feedback, reloading.

Callback data (64 bytes at most, all checked on arrival since anyone can forge it):
  kb:<entry id>            show an entry
  fb:<entry id>:<1|0>      helpful / not helpful
  tp:                      the list of topics
  tp:<topic id>:<page>     one page of a topic's entries
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import timedelta

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle,
                      InputTextMessageContent, Message, Update)
from telegram.constants import ChatType, ParseMode
from telegram.ext import filters

from bot.i18n import translator
from bot.knowledge.engine import Answer, Band
from bot.knowledge.render import entry_html, first_paragraph
from bot.knowledge.schema import Entry
from bot.knowledge.service import KnowledgeService
from bot.knowledge.text import script_of
from bot.reports.codes import holds_code
from handlers import flow
from handlers.common import buttons, expired_button
from handlers.context import Context

log = logging.getLogger(__name__)

ENTRIES_PER_PAGE = 8
RELATED_BUTTONS = 3
INLINE_RESULTS = 5
BUTTON_TEXT_LIMIT = 60


def knowledge_of(context: Context) -> KnowledgeService:
    return context.services.knowledge


class AddressedToBot(filters.MessageFilter):
    """In a group, only messages that mention the bot or reply to it are questions for it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        return f"@{bot.username}".lower() in (message.text or "").lower()


QUESTION = filters.TEXT & ~filters.COMMAND & AddressedToBot()


def _short(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"


def _question_text(message: Message) -> str:
    text = message.text or ""
    if message.chat.type != ChatType.PRIVATE:
        text = re.sub(rf"@{re.escape(message.get_bot().username or '')}", " ", text, flags=re.IGNORECASE)
    return text


SMALL_TALK = re.compile(r"^\W*(你好|您好|嗨|哈喽|在吗|谢谢|多谢|感谢|谢啦|再见|hi|hello|hey|thanks|thank you|thx|bye)\W*$",
                        re.IGNORECASE)
THANKS_OR_BYE = re.compile(r"谢|再见|thank|thx|bye", re.IGNORECASE)


async def answer_question(update: Update, context: Context) -> None:
    """Free text: answer it, ask "did you mean", or say plainly that we don't know.

    The entry's own text comes in the language of the question; everything the bot says around
    it (buttons, "did you mean", "no answer") in the user's language.
    """
    message = update.effective_message
    _ = context._
    question = _question_text(message)
    if SMALL_TALK.match(question):  # a greeting or thanks is not a question nobody could answer
        if THANKS_OR_BYE.search(question):
            await message.reply_text(_("You are welcome. Ask again whenever you need to; /topics shows what I know."))
        else:
            await message.reply_text(_("Hello! Ask me about burden reduction, formalism, accountability or fault "
                                       "tolerance in your own words, or see /topics and /help."))
        return
    if holds_code(question):  # a receipt code typed outside /status: said where it goes, never kept
        await message.reply_text(_("That looks like a receipt code. To open your report, send /status and then "
                                   "the code. I have not kept what you wrote; you may delete your message."))
        return
    knowledge = knowledge_of(context)
    answer = knowledge.ask(question, context.language)
    if answer.band is Band.EMPTY:
        await message.reply_text(_("Please ask a question in a few words, for example: "
                                   "“Can the county make us clock in on an app every day?”"))
    elif answer.band is Band.ANSWER:
        for number, entry in enumerate(answer.entries):  # the best, then the message's other questions'
            await send_entry(knowledge, message, entry, answer.language, context.language, reply=number == 0)
    elif answer.band is Band.SUGGEST:
        rows = [[(_short(m.entry.question[answer.language]), f"kb:{m.entry.id}")] for m in answer.suggestions]
        await message.reply_text(_("I am not sure I understood. Did you mean:"), reply_markup=buttons(rows),
                                 reply_to_message_id=message.message_id)
    else:
        await _say_unknown(message, answer, context)


async def _say_unknown(message: Message, answer: Answer, context: Context) -> None:
    if answer.other_field:  # 留置针, a credit card: another field's question, no gap for the editors to fill
        text = context._("That is outside what I answer: I know the rules on burden reduction, formalism and "
                         "bureaucratism, accountability, fault tolerance, discipline and reporting, and how to use "
                         "this bot. You can browse the topics:")
        await message.reply_text(text, reply_markup=topics_keyboard(knowledge_of(context), context.language))
        return
    if await _shielded(message, context):  # nothing is kept, so nothing is said to be
        text = context._("I have no answer to that, and I did not keep what you wrote. If it is about the report "
                         "you were writing, type /report to go on with it. You can browse the topics I know "
                         "about:") if await _has_draft(message, context) else context._(
            "I have no answer to that, and I did not keep what you wrote. If it is about your "
            "report, open /status with your receipt code to add it there, or send a new /report. "
            "You can browse the topics I know about:")
        await message.reply_text(text, reply_markup=topics_keyboard(knowledge_of(context), context.language))
        return
    text = context._("I have no answer to that yet. I have noted the question (not who asked) so that the "
                     "editors can add one. You can browse the topics I know about:")
    await message.reply_text(text, reply_markup=topics_keyboard(knowledge_of(context), context.language))
    try:
        await knowledge_of(context).record_unanswered(answer.question, answer.language)
    except Exception:  # the user has their answer; a lost gap record is only logged
        log.warning("Could not record an unanswered question", exc_info=True)


async def _has_draft(message: Message, context: Context) -> bool:
    """An unfinished report in this chat (set aside with /help or /start): /report continues it."""
    try:
        return await context.services.reports.draft(chat_id=message.chat.id) is not None
    except Exception:  # cannot tell: the general advice
        return False


async def _shielded(message: Message, context: Context) -> bool:
    """A private chat where a report flow was open in the last 24 hours: nothing typed there is kept
    (a reporter's words must never reach the editors' list of questions)."""
    if message.chat.type != ChatType.PRIVATE:
        return False
    try:
        return await context.services.pending.shielded(chat_id=message.chat.id, now=flow.now())
    except Exception:  # cannot tell: keep nothing
        return True


async def send_entry(knowledge: KnowledgeService, message: Message, entry: Entry, language: str, ui_language: str,
                     *, reply: bool = True) -> None:
    """The entry's answer (in `language`), split if long, with related questions and feedback
    buttons (labelled in `ui_language`) on the last piece."""
    pieces = entry_html(entry, language)
    keyboard = entry_keyboard(knowledge, entry, language, feedback=True, ui_language=ui_language)
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        await message.reply_text(piece, parse_mode=ParseMode.HTML, reply_markup=keyboard if last else None,
                                 reply_to_message_id=message.message_id if reply and number == 0 else None)


def entry_keyboard(knowledge: KnowledgeService, entry: Entry, language: str, feedback: bool,
                   ui_language: str | None = None) -> InlineKeyboardMarkup:
    _ = translator(ui_language or language)
    related = [e for e in map(knowledge.entry, entry.related) if e is not None][:RELATED_BUTTONS]
    rows = [[InlineKeyboardButton("→ " + _short(e.question[language]), callback_data=f"kb:{e.id}")] for e in related]
    if feedback:
        rows.append([InlineKeyboardButton(_("👍 Helpful"), callback_data=f"fb:{entry.id}:1"),
                     InlineKeyboardButton(_("👎 Not helpful"), callback_data=f"fb:{entry.id}:0")])
    return InlineKeyboardMarkup(rows)


async def show_entry(update: Update, context: Context) -> None:
    """kb:<id>: a related question or a "did you mean" choice was pressed."""
    query = update.callback_query
    knowledge = knowledge_of(context)
    entry = knowledge.entry(query.data.removeprefix("kb:"))
    if entry is None or query.message is None:
        await expired_button(update, context)
        return
    await query.answer()
    await send_entry(knowledge, query.message, entry, context.language, context.language, reply=False)


async def record_feedback(update: Update, context: Context) -> None:
    """fb:<id>:<1|0>: count it, keep the question of an unhelpful answer, remove the buttons."""
    query = update.callback_query
    match = re.fullmatch(r"fb:([a-z0-9-]+):([01])", query.data or "")
    knowledge = knowledge_of(context)
    if match is None or knowledge.entry(match[1]) is None:
        await expired_button(update, context)
        return
    entry_id, helpful = match[1], match[2] == "1"
    asked = query.message.reply_to_message.text if query.message and query.message.reply_to_message else None
    if asked and query.message and await _shielded(query.message, context):
        asked = None
    # Once per answer and user (a keyed hash of both): pressing again, or forging the press, counts nothing.
    voter = context.services.crypto.keyed_hash("feedback", update.effective_user.id, entry_id)
    days = context.services.settings.reports.feedback_once_per_days
    if not await knowledge.record_feedback(entry_id, helpful, asked, context.language, voter=voter,
                                           once_for=timedelta(days=days)):
        await query.answer(context._("You have already rated this answer; thank you."))
    else:
        await query.answer(context._("Thank you for your feedback.") if helpful else
                           context._("Thank you. The editors will see that this answer did not help."))
    language = script_of(query.message.text or "") if query.message else None
    await query.edit_message_reply_markup(entry_keyboard(knowledge, knowledge.entry(entry_id),
                                                         language or context.language, feedback=False,
                                                         ui_language=context.language))


def topics_keyboard(knowledge: KnowledgeService, language: str) -> InlineKeyboardMarkup:
    rows = [[(topic.title[language], f"tp:{topic.id}:0")] for topic in knowledge.topics()]
    return buttons(rows)


async def show_topics(update: Update, context: Context) -> None:
    """/topics, the menu button, or "all topics": the list of topics."""
    _ = context._
    text = _("<b>Topics</b>\nChoose a topic to see its questions.")
    keyboard = topics_keyboard(knowledge_of(context), context.language)
    query = update.callback_query
    if query is not None and query.data == "tp:":
        await query.answer()
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    elif query is not None:
        await query.answer()
        await query.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    else:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def show_topic_page(update: Update, context: Context) -> None:
    """tp:<topic>:<page>: one page of a topic's questions, with paging."""
    query = update.callback_query
    _ = context._
    match = re.fullmatch(r"tp:([a-z0-9-]+):(\d{1,4})", query.data or "")
    knowledge = knowledge_of(context)
    topic = knowledge.topic(match[1]) if match else None
    entries = knowledge.knowledge.in_topic(topic.id) if topic else []
    pages = max(1, -(-len(entries) // ENTRIES_PER_PAGE))
    page = int(match[2]) if match else -1
    if topic is None or not 0 <= page < pages:
        await expired_button(update, context)
        return
    shown = entries[page * ENTRIES_PER_PAGE:(page + 1) * ENTRIES_PER_PAGE]
    rows = [[InlineKeyboardButton(_short(e.question[context.language]), callback_data=f"kb:{e.id}")] for e in shown]
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton("‹ " + _("Previous"), callback_data=f"tp:{topic.id}:{page - 1}"))
    if page < pages - 1:
        paging.append(InlineKeyboardButton(_("Next") + " ›", callback_data=f"tp:{topic.id}:{page + 1}"))
    rows.append(paging + [InlineKeyboardButton(_("All topics"), callback_data="tp:")])
    text = (f"<b>{html.escape(topic.title[context.language])}</b> ({page + 1}/{pages})\n"
            f"{html.escape(topic.description[context.language])}")
    await query.answer()
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(rows))


async def answer_inline(update: Update, context: Context) -> None:
    """@bot question, in any chat: the best matching entries, each sent as its answer."""
    query = update.inline_query
    knowledge = knowledge_of(context)
    language = script_of(query.query) or context.language
    matches = [m for m in knowledge.search(query.query, INLINE_RESULTS)
               if m.confidence >= knowledge.engine.suggest_threshold]
    results = [
        InlineQueryResultArticle(
            id=m.entry.id, title=m.entry.question[language], description=_short(first_paragraph(m.entry, language)),
            input_message_content=InputTextMessageContent(entry_html(m.entry, language)[0], parse_mode=ParseMode.HTML))
        for m in matches
    ]
    await query.answer(results, cache_time=60, is_personal=False)


async def reload_knowledge(update: Update, context: Context) -> None:
    """/reload (supervisors): read the knowledge files again; a broken file keeps the old ones."""
    _ = context._
    message = update.effective_message
    knowledge = knowledge_of(context)
    problems = await asyncio.to_thread(knowledge.reload)  # seconds for a large base: off the event loop
    if problems:
        listed = "\n".join(html.escape(str(p)) for p in problems[:10])
        more = _("… and {count} more.", count=len(problems) - 10) if len(problems) > 10 else ""
        await message.reply_text(_("The knowledge base was <b>not</b> reloaded; the previous one is still in use. "
                                   "Problems:") + f"\n<code>{listed}</code>\n{more}", parse_mode=ParseMode.HTML)
    else:
        await message.reply_text(_("Knowledge base reloaded: {entries} entries in {topics} topics.",
                                   entries=len(knowledge.knowledge.entries), topics=len(knowledge.knowledge.topics)))


async def watch_files(context: Context) -> None:
    """A repeating job: reload when the files change (a failed reload is not retried until they change again)."""
    await asyncio.to_thread(knowledge_of(context).reload_if_changed)


async def explain_files(update: Update, context: Context) -> None:
    """A photo or file sent outside a report: say where evidence goes, keep nothing."""
    await update.effective_message.reply_text(context._(
        "I only keep photos and files inside a report. To report anonymously with evidence, start with "
        "/report; to add it to a report you have made, use /status with your receipt code."))
