"""Telegram handlers, thin: they translate updates into calls to `bot/` services and back.

`build_handlers` is THE ordered list of handlers, and `FLOWS` the features that can own a user's
next message. Order matters: within a group the first matching handler wins, so specific
handlers (deep links) come before general ones, and the catch-alls for unknown commands and
stale buttons come last. Access is declared here: every supervisors' handler is wrapped by
`supervisors_only`, which refuses everyone else and every group chat.

Messages that are not commands go to one handler, `route`, which gives them to the flow named by
the user's pending input (read from the database in group -1), and to the knowledge base only
when no flow owns them.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import (BaseHandler, CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler,
                          TypeHandler, filters)

from bot.i18n import N_
from handlers import flow, knowledge, ledger, reminders, start, workspace
from handlers.access import supervisors_only
from handlers.common import identify_user
from handlers.context import Context
from handlers.flow import Flow
from handlers.reports import inbox, intake, status

# Handlers in this group run before all others for every update.
PRE_GROUP = -1

FLOWS = {
    intake.FEATURE: Flow(
        receive=intake.receive, cancel=intake.cancel, ttl=timedelta(hours=24),
        dropped=N_("Your report was set aside; its draft is kept: /report continues it."),
        expired=N_("Your message was not used: the report you were writing expired and was deleted. "
                   "Type /report to begin again."),
        commands=frozenset({"cancel", "report"})),
    intake.ERASE_FEATURE: Flow(
        receive=intake.erase_choice, cancel=intake.keep_conversation, ttl=timedelta(hours=24),
        dropped=N_("The offer to delete your report's messages from this chat was closed; nothing was deleted."),
        expired=N_("The offer to delete your report's messages from this chat has expired; nothing was deleted. "
                   "You can still delete them yourself in Telegram.")),
    status.FEATURE: Flow(
        receive=status.receive, cancel=status.finish, ttl=status.SESSION,
        dropped=N_("Your report view (/status) was closed."),
        expired=N_("Your message was not sent: for your safety your report closed after 15 minutes without "
                   "activity. Type /status and your code to open it again, then send your message."),
        commands=frozenset({"cancel", "status"})),
    inbox.FEATURE: Flow(
        receive=inbox.receive_text, cancel=inbox.cancel_text, ttl=timedelta(minutes=30),
        dropped=N_("The text asked for on report #{target} was not sent; nothing was changed."),
        expired=N_("Your text was not sent: the prompt on report #{target} expired. Open the report and press "
                   "the action again.")),
    ledger.FEATURE: Flow(
        receive=ledger.receive, cancel=ledger.cancel, ttl=timedelta(hours=1),
        dropped=N_("What you were writing on item {target} was closed; what was recorded so far is kept."),
        expired=N_("Not recorded: what you were writing on item {target} closed after an hour without messages. "
                   "Open the item and press the button again.")),
    workspace.FEATURE: Flow(
        receive=workspace.receive, cancel=workspace.cancel, ttl=timedelta(hours=1),
        dropped=N_("What you were typing on item {target} was closed; nothing was changed."),
        expired=N_("Not used: what you were typing on item {target} closed after an hour without messages. Open "
                   "the item and press the button again.")),
}

PRIVATE = filters.ChatType.PRIVATE
MEDIA = (filters.PHOTO | filters.Document.ALL | filters.VIDEO | filters.VOICE | filters.AUDIO)


async def answer_without_flow(update: Update, context: Context) -> None:
    """A private message nobody asked for: a question for the knowledge base, or a file explained."""
    message = update.effective_message
    if not context.pending_known:  # the database is down: nobody may take it (it may be a reporter's answer)
        await message.reply_text(context._(STORAGE_DOWN))
    elif message.text:
        await knowledge.answer_question(update, context)
    elif MEDIA.check_update(update):
        await knowledge.explain_files(update, context)
    else:
        await message.reply_text(context._("Please type your question, or see /help."))


async def route(update: Update, context: Context) -> None:
    """Every private message that is not a command: to its flow, else `answer_without_flow`."""
    await flow.route_message(update, context, answer_without_flow)


STORAGE_DOWN = N_("Sorry, our storage is unavailable right now. Nothing was changed; please try again in a few "
                  "minutes.")


def guarded(handlers: list[BaseHandler]) -> list[BaseHandler]:
    return [supervisors_only(handler) for handler in handlers]


def build_handlers() -> list[tuple[BaseHandler, int]]:
    """Every handler with its group, in the order PTB should try them."""
    main = [
        # Anonymous reports, reporter side: /report and /status (and their deep links and menu
        # buttons) before the plain /start. In a group: the deep link and nothing else.
        *intake.entry_points(),
        *status.entry_points(),
        CommandHandler("report", intake.link_to_report, filters=~PRIVATE),
        CommandHandler("status", intake.link_to_status, filters=~PRIVATE),
        CallbackQueryHandler(intake.confirm_receipt, pattern=r"^rp:saved$"),
        CallbackQueryHandler(intake.press, pattern=r"^rp:"),
        CallbackQueryHandler(status.view_choice, pattern=r"^rs:(reply|file|files|refresh|done|send|discard)$"),
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
        *guarded([CommandHandler("reload", knowledge.reload_knowledge)]),
        CallbackQueryHandler(knowledge.show_topics, pattern=r"^(menu:topics|tp:)$"),
        CallbackQueryHandler(knowledge.show_topic_page, pattern=r"^tp:."),
        CallbackQueryHandler(knowledge.show_entry, pattern=r"^kb:"),
        CallbackQueryHandler(knowledge.record_feedback, pattern=r"^fb:"),
        InlineQueryHandler(knowledge.answer_inline),
        # Anonymous reports, supervisors' side: /inbox, cards and actions, /export, /stats.
        *guarded(inbox.build_inbox_handlers()),
        # Rectification ledger: contacts' /bind, /tasks, items, progress, closing; supervisors' review.
        *ledger.contact_handlers(),
        *guarded(ledger.supervisor_handlers()),
        # The supervisors' workspace: /ledger rounds → units → items → card, /overdue, card actions and
        # extension decisions; contacts' extension requests (延期申请).
        *workspace.contact_handlers(),
        *guarded(workspace.supervisor_handlers()),
        # Rectification reminders: "acknowledge" on a reminder.
        CallbackQueryHandler(reminders.acknowledge, pattern=r"^lk:"),
        # /cancel: whatever flow is open.
        CommandHandler("cancel", flow.cancel),
        # Catch-alls: last. A private message goes to the flow that owns it, else to the knowledge base.
        MessageHandler(filters.COMMAND, start.refuse_unknown_command),
        MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, route),
        MessageHandler(knowledge.QUESTION, knowledge.answer_question),
        CallbackQueryHandler(start.refuse_stale_button),
    ]
    pre = [(TypeHandler(Update, identify_user), PRE_GROUP - 1), (TypeHandler(Update, intake.remind_receipt), PRE_GROUP)]
    return pre + [(handler, 0) for handler in main]
