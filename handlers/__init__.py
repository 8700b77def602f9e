"""Telegram handlers, thin: they translate updates into calls to `bot/` services and back.

`build_handlers` is THE ordered list of handlers. Order matters: within a group the first
matching handler wins, so specific handlers (deep links, conversations) come before general
ones, and the catch-alls for unknown commands and stale buttons come last.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (BaseHandler, CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler,
                          TypeHandler, filters)

from handlers import knowledge, start
from handlers.common import identify_user

# Handlers in this group run before all others for every update.
PRE_GROUP = -1


def build_handlers() -> list[tuple[BaseHandler, int]]:
    """Every handler with its group, in the order PTB should try them."""
    main = [
        CommandHandler("start", start.show_start),
        CommandHandler("help", start.show_help),
        CommandHandler("language", start.choose_language),
        CallbackQueryHandler(start.set_language, pattern=r"^lang:"),
        CallbackQueryHandler(start.show_help, pattern=r"^menu:help$"),
        CallbackQueryHandler(start.explain_asking, pattern=r"^menu:ask$"),
        CallbackQueryHandler(start.choose_language, pattern=r"^menu:language$"),
        # Policy answers
        CommandHandler("topics", knowledge.show_topics),
        CommandHandler("reload", knowledge.reload_knowledge),
        CallbackQueryHandler(knowledge.show_topics, pattern=r"^(menu:topics|tp:)$"),
        CallbackQueryHandler(knowledge.show_topic_page, pattern=r"^tp:."),
        CallbackQueryHandler(knowledge.show_entry, pattern=r"^kb:"),
        CallbackQueryHandler(knowledge.record_feedback, pattern=r"^fb:"),
        InlineQueryHandler(knowledge.answer_inline),
        # Catch-alls: last.
        MessageHandler(filters.COMMAND, start.refuse_unknown_command),
        MessageHandler(knowledge.QUESTION, knowledge.answer_question),
        CallbackQueryHandler(start.refuse_stale_button),
    ]
    return [(TypeHandler(Update, identify_user), PRE_GROUP)] + [(handler, 0) for handler in main]
