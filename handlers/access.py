"""Who may do what, declared once where handlers are registered (handlers/__init__.py).

`supervisors_only` wraps a callback so that it runs only for a supervisor in a private chat:
anyone else, and any group chat, gets one translated answer and nothing runs. Every callback of
the supervisors' features is registered through it, buttons included, since callback data can be
forged by anyone.
"""

from __future__ import annotations

import functools

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler

from bot.i18n import N_
from handlers.context import Context

NOT_SUPERVISOR = N_("This is only for supervisors.")
NOT_HERE = N_("Supervisors' commands work only in a private chat with me.")


async def refuse(update: Update, context: Context, text: str) -> None:
    """Say no: as a pop-up to a pressed button, as a message otherwise."""
    query = update.callback_query
    if query is not None:
        await query.answer(context._(text), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(context._(text))


def supervisors_only(handler: BaseHandler) -> BaseHandler:
    """The same handler, whose callback first checks the user and the chat."""
    callback = handler.callback

    @functools.wraps(callback)
    async def guarded(update: Update, context: Context):
        chat = update.effective_chat
        if not context.is_supervisor:
            await refuse(update, context, NOT_SUPERVISOR)
        elif chat is None or chat.type != ChatType.PRIVATE:
            await refuse(update, context, NOT_HERE)
        else:
            return await callback(update, context)
        return None

    handler.callback = guarded
    return handler
