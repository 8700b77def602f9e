"""Greeting, menu, help, language choice, and the polite answers to what we don't know."""

from __future__ import annotations

from telegram import Update

from bot import preferences
from bot.i18n import LANGUAGES, normalise_language
from handlers.commands import visible_commands
from handlers.common import buttons, expired_button, reply
from handlers.context import Context

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def menu_keyboard(context: Context):
    _ = context._
    rows = [
        [(_("Ask a question"), "menu:ask"), (_("Browse topics"), "menu:topics")],
        [(_("Report formalism anonymously"), "menu:report"), (_("Check my report"), "menu:status")],
        [(_("Help"), "menu:help"), ("中文 / English", "menu:language")],
    ]
    if context.is_supervisor:
        rows.insert(2, [(_("Report inbox"), "menu:inbox"), (_("Rectification ledger"), "menu:ledger")])
    return buttons(rows)


async def show_start(update: Update, context: Context) -> None:
    """/start: greet the user and show what the bot can do."""
    _ = context._
    text = _(
        "Hello, I am <b>Qingfeng</b> (清风), an assistant for reducing the burden on the grassroots.\n\n"
        "• Ask me about burden reduction, formalism and bureaucracy, accountability and fault tolerance: just type your question.\n"
        "• Report formalism anonymously: /report. You get a receipt code; the supervisors cannot see who you are.\n"
        "• Check a report with its code: /status.\n"
        "• Unit contacts: see your rectification items with /tasks.\n\n"
        "Choose below or type /help."
    )
    await reply(update, text, menu_keyboard(context))


async def show_help(update: Update, context: Context) -> None:
    """/help: list the commands."""
    _ = context._
    lines = [_("<b>What I can do</b>"), ""]
    lines += [f"/{name} — {_(description)}" for name, description in visible_commands(context.is_supervisor)]
    lines += ["", _("Any other text is treated as a question about the policies.")]
    await reply(update, "\n".join(lines))


async def explain_asking(update: Update, context: Context) -> None:
    """Menu button "ask": tell the user they can simply type."""
    _ = context._
    await reply(update, _("Type your question in your own words, in Chinese or English, e.g. "
                          "“Can the county make us clock in on an app every day?”"))


async def choose_language(update: Update, context: Context) -> None:
    """/language [zh|en]: switch at once with an argument, or offer the choice."""
    _ = context._
    if context.args:
        language = normalise_language(context.args[0])
        if language is None:
            await reply(update, _("Unknown language. Choose 中文 (zh) or English (en)."))
            return
        await _remember_language(update, context, language)
        return
    keyboard = buttons([[(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGUAGES]])
    await reply(update, _("Choose your language:"), keyboard)


async def set_language(update: Update, context: Context) -> None:
    """Button lang:<code>: remember the choice."""
    language = update.callback_query.data.removeprefix("lang:")
    if language not in LANGUAGES:
        await refuse_stale_button(update, context)
        return
    await _remember_language(update, context, language)


async def _remember_language(update: Update, context: Context, language: str) -> None:
    services = context.services
    async with services.database.transaction() as session:
        await preferences.set_language(
            session=session, user_key=services.user_key(update.effective_user.id), language=language
        )
    context.language = language
    await reply(update, context._("From now on I will talk to you in English."), menu_keyboard(context))


async def refuse_unknown_command(update: Update, context: Context) -> None:
    """Any command nobody handles, unless it is addressed to another bot (/cmd@otherbot in a group)."""
    command = (update.effective_message.text or "").split(maxsplit=1)[0] if update.effective_message else ""
    _, _at, addressee = command.partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return
    await reply(update, context._("I don't know that command. Type /help to see what I can do."))


async def refuse_stale_button(update: Update, context: Context) -> None:
    """Callback data nobody handles: an old, forged or foreign button."""
    await expired_button(update, context)
