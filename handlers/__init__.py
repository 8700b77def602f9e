"""Telegram handlers, thin: they translate updates into calls to `bot/` services and back.

`build_handlers` is THE ordered list of handlers. Order matters: within a group the first
matching handler wins, so specific handlers (deep links, conversations) come before general
ones, and the catch-alls for unknown commands and stale buttons come last.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (BaseHandler, CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler,
                          TypeHandler, filters)

from handlers import knowledge, reminders, start
from handlers import report_intake, report_status  # anonymous reports, reporter side
from handlers import report_inbox  # anonymous reports, supervisor side
from handlers import ledger  # rectification ledger
from handlers.common import identify_user

# Handlers in this group run before all others for every update.
PRE_GROUP = -1


def build_handlers() -> list[tuple[BaseHandler, int]]:
    """Every handler with its group, in the order PTB should try them."""
    main = [
        # Anonymous reports, reporter side. Its conversations come first: they catch the deep links
        # `/start report` and `/start status` before the plain /start, and while one is open its
        # answers must not be taken for questions. In a group: the deep link and nothing else.
        report_intake.intake_handler(),
        report_status.status_handler(),
        CommandHandler("report", report_intake.link_to_report, filters=~filters.ChatType.PRIVATE),
        CommandHandler("status", report_intake.link_to_status, filters=~filters.ChatType.PRIVATE),
        # Rectification ledger: the binding deep link `/start bind-CODE` before the plain /start.
        CommandHandler("start", ledger.bind_from_link, filters=ledger.DEEP_LINK),
        # Greeting and menu
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
        # Anonymous reports, supervisor side: /inbox, cards and actions (a conversation while a text
        # is asked for: before the catch-all that takes text for a question), /export, /stats.
        *report_inbox.build_inbox_handlers(),
        # Rectification ledger: /bind, /tasks, items, progress (a conversation: before the catch-all that
        # takes text for a question), closing and review, /ledger, /overdue.
        *ledger.build(),
        # Rectification reminders: "acknowledge" on a reminder.
        CallbackQueryHandler(reminders.acknowledge, pattern=r"^lk:"),
        # /cancel with nothing open; files sent outside a report or a progress report.
        CommandHandler("cancel", knowledge.nothing_to_cancel),
        MessageHandler(filters.ChatType.PRIVATE & (filters.PHOTO | filters.Document.ALL | filters.VIDEO
                                                   | filters.VOICE | filters.AUDIO), knowledge.explain_files),
        # Catch-alls: last.
        MessageHandler(filters.COMMAND, start.refuse_unknown_command),
        MessageHandler(knowledge.QUESTION, knowledge.answer_question),
        CallbackQueryHandler(start.refuse_stale_button),
    ]
    return [(TypeHandler(Update, identify_user), PRE_GROUP)] + [(handler, 0) for handler in main]
