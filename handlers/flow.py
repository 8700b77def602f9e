"""Who gets a user's next message: the Telegram side of pending input (`bot/pending.py`).

Every update reads the user's pending record from the database (`identify_user` puts it on the
context). A message that is not a command goes to the feature the record names, and to the
knowledge base only when there is none. A feature takes the next message with `expect` *before*
it replies, so whatever happens after (a crash, a restart, another bot process taking the next
update) the next message reaches the step the user was shown.

Rules every feature gets from here, not from its own code:
- starting a flow ends any other one, and the user is told which was dropped;
- a command or a menu button ends an open prompt (with a notice), except the flow's own
  (e.g. /cancel, or /report while writing a report);
- an expired prompt says so when the user next writes, and what was typed goes nowhere;
- /cancel ends whatever is open, in that feature's words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from telegram import Update

from bot.i18n import N_
from bot.pending import Pending
from handlers.context import Context

Callback = Callable[[Update, Context], Awaitable[object]]


@dataclass(frozen=True)
class Flow:
    """A feature that can own a user's next message."""

    receive: Callback                 # the next message (text, photo, document, anything)
    cancel: Callback                  # /cancel while it is open
    ttl: timedelta                    # how long it waits for an answer
    dropped: str                      # said when another flow or a command ends it ({target})
    expired: str                      # said when the user writes after it expired ({target})
    commands: frozenset[str] = frozenset({"cancel"})  # commands (and menu buttons) that belong to it


def now() -> datetime:
    return datetime.now(timezone.utc)


def _ids(update: Update) -> tuple[int, int] | None:
    chat, user = update.effective_chat, update.effective_user
    return (chat.id, user.id) if chat is not None and user is not None else None


async def expect(update: Update, context: Context, pending: Pending) -> None:
    """Make `pending` the owner of this user's next message in this chat (call before replying)."""
    chat_id, user_id = _ids(update)
    flow = context.flows[pending.feature]
    previous = await context.services.pending.open(chat_id=chat_id, user_id=user_id, pending=pending, ttl=flow.ttl,
                                                   now=now())
    context.pending = pending
    if previous is not None and not pending.same_flow(previous):
        await _tell(update, context, context.flows[previous.feature].dropped, previous)


async def done(update: Update, context: Context, feature: str | None = None) -> None:
    """The flow is over: the next message is nobody's in particular."""
    ids = _ids(update)
    if ids is not None:
        await context.services.pending.close(chat_id=ids[0], user_id=ids[1], feature=feature)
    if context.pending is not None and (feature is None or context.pending.feature == feature):
        context.pending = None


def _target(pending: Pending) -> str:
    """How the user knows the flow's target: its label (a ledger item's number), else its id."""
    return str(pending.data.get("label") or pending.target or "")


async def _tell(update: Update, context: Context, text: str, pending: Pending) -> None:
    await context.bot.send_message(update.effective_chat.id, "⚠️ " + context._(text, target=_target(pending)))


def command_of(update: Update) -> str | None:
    """The command or menu button of an update ("report" for /report, /start report and menu:report)."""
    query = update.callback_query
    if query is not None:
        data = query.data or ""
        return data.removeprefix("menu:") if data.startswith("menu:") else None
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if not text.startswith("/"):
        return None
    words = text[1:].split()
    name = words[0].split("@")[0].lower() if words else ""
    if name == "start" and len(words) > 1 and words[1] in ("report", "status"):
        return words[1]
    return name


async def end_if_left(update: Update, context: Context) -> None:
    """Group -1, after the record was read: a command or a menu button of another feature ends it."""
    pending = context.pending
    if pending is None:
        return
    command = command_of(update)
    if command is None:
        return
    flow = context.flows[pending.feature]
    if pending.expired or command in flow.commands:
        return
    await done(update, context)
    await _tell(update, context, flow.dropped, pending)


async def route_message(update: Update, context: Context, fallback: Callback) -> None:
    """A message that is not a command: to the flow that owns it, else to `fallback`."""
    pending = context.pending
    if pending is None:
        await fallback(update, context)
    elif pending.expired:
        context.pending = None
        await update.effective_message.reply_text(context._(context.flows[pending.feature].expired,
                                                            target=_target(pending)))
    else:
        await context.flows[pending.feature].receive(update, context)


async def cancel(update: Update, context: Context) -> None:
    """/cancel: ends what is open, in its feature's words."""
    pending = context.pending
    if pending is None or pending.expired:
        context.pending = None
        await update.effective_message.reply_text(context._(NOTHING_TO_CANCEL))
        return
    await context.flows[pending.feature].cancel(update, context)


NOTHING_TO_CANCEL = N_("There is nothing to cancel.")
