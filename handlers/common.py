"""Small pieces every feature's handlers share: identifying the user, replying, keyboards."""

from __future__ import annotations

import logging
import warnings

from sqlalchemy.exc import SQLAlchemyError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from bot import preferences
from bot.i18n import language_for
from handlers.context import Context

log = logging.getLogger(__name__)


async def identify_user(update: Update, context: Context) -> None:
    """Group -1: settle the user's language and role before any feature handler runs."""
    user = update.effective_user
    services = context.services
    context.is_supervisor = services.is_supervisor(user.id if user else None)
    if user is None:
        return
    context.language = language_for(user.language_code, services.settings.bot.language)
    try:
        async with services.database.session() as session:
            chosen = await preferences.get_language(session=session, user_key=services.user_key(user.id))
    except (SQLAlchemyError, OSError):
        log.warning("Database unavailable while reading a language preference")
        return
    if chosen:
        context.language = chosen


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


def conversation(**options) -> ConversationHandler:
    """A ConversationHandler whose answer is the chat's next message (per_message=False, on
    purpose): PTB warns about that combination with button entry points; the warning is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*")
        return ConversationHandler(**options)
