"""The error handler: log what broke without saying who it broke for, and apologise."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.db import DatabaseUnavailable
from bot.i18n import language_for, translator
from bot.logs import describe_exception
from handlers.context import Context

log = logging.getLogger(__name__)


async def report_error(update: object, context: Context) -> None:
    """Log the error (no update, no ids, no text) and tell the user politely."""
    error = context.error
    log.error("Error while handling an update: %s", describe_exception(error))
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    user = update.effective_user
    _ = translator(language_for(user.language_code if user else None, context.services.settings.bot.language))
    if isinstance(error, (SQLAlchemyError, DatabaseUnavailable, OSError)):
        text = _("Sorry, our storage is unavailable right now. Nothing was changed; please try again in a few minutes.")
    else:
        text = _("Sorry, something went wrong on our side. Nothing was changed; please try again.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None and update.effective_chat.type == "private":
            await update.effective_message.reply_text(text)
    except TelegramError as exc:
        log.warning("Could not tell the user about an error: %s", describe_exception(exc))
