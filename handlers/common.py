"""Small pieces every feature's handlers share: identifying the user, replying, keyboards."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot import outbox, preferences
from bot.db import DatabaseUnavailable
from bot.i18n import N_, language_for
from handlers import flow
from handlers.context import Context

log = logging.getLogger(__name__)


async def identify_user(update: Update, context: Context) -> None:
    """Group -1: settle the user's language, role and pending input before any feature handler runs;
    release what the outbox kept waiting for them; end a prompt that a command leaves."""
    user, chat = update.effective_user, update.effective_chat
    services = context.services
    context.is_supervisor = services.is_supervisor(user.id if user else None)
    if user is None:
        return
    context.language = language_for(user.language_code, services.settings.bot.language)
    now = flow.now()
    try:
        async with services.database.session() as session:
            chosen = await preferences.get_language(session=session, user_key=services.user_key(user.id))
        if chat is not None:
            context.pending = await services.pending.read(chat_id=chat.id, user_id=user.id, now=now)
            if chat.type == ChatType.PRIVATE:
                if context.is_supervisor and user.language_code:
                    await outbox.note_recipient_language(services.database, chat.id,
                                                         language_for(user.language_code, services.settings.bot.language))
                await outbox.release(services.database, chat.id, now)  # the sender's next run takes them
    except (SQLAlchemyError, DatabaseUnavailable, OSError):
        log.warning("Database unavailable while identifying a user")
        context.pending_known = False
        return
    if chosen:
        context.language = chosen
    await flow.end_if_left(update, context)


async def reply(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat of the update: a new message, or an edit when a button was pressed."""
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.answer()
        await query.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback_data) pairs as an inline keyboard."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows])


EXPIRED = N_("This button has expired. Type /help to see what you can do.")


async def expired_button(update: Update, context: Context) -> None:
    """An old, finished, foreign or forged button: one answer wherever it is pressed, with a way on
    (the message it sits on may be days old)."""
    await update.callback_query.answer(context._(EXPIRED))


async def mark_decided(update: Update, line: str) -> None:
    """The message pressed says what was decided, below what it said, and loses its buttons: read
    later, a request still saying "overdue" with no outcome looks undecided."""
    message = update.callback_query.message if update.callback_query else None
    try:
        if message is not None and message.text:
            await update.callback_query.edit_message_text(f"{message.text_html}\n\n{line}", parse_mode=ParseMode.HTML,
                                                          reply_markup=None)
            return
    except TelegramError:
        pass
    await clear_buttons(update)


async def clear_buttons(update: Update) -> None:
    """Take the buttons off the message pressed (a decision is made once); a message that can no longer
    be edited (too old, deleted) keeps them, and its buttons answer for themselves."""
    try:
        await update.callback_query.edit_message_reply_markup(None)
    except TelegramError:
        pass
