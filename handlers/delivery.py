"""The outbox on the Telegram side: delivering a rendered row, and the job that drains the outbox.

`deliver` maps Telegram's answers onto the outbox's outcomes: sent; retry later (5xx, timeouts,
429 with its retry_after); waiting (the person has not opened the bot: "chat not found", "bot
can't initiate conversation"); blocked (they blocked the bot, or left); failed (Telegram refused
the message itself). Sends here do not retry inline (`rate_limit_args`): the outbox retries, so
one slow chat never holds up the others.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from bot.outbox import Delivery, Outcome, Rendered
from bot.telegram_io import NO_RETRY

log = logging.getLogger(__name__)
SEND_BUDGET_SECONDS = 50  # one sender run; the next starts when it ends
NOT_STARTED = ("chat not found", "bot can't initiate conversation", "bot can't initiate")
GONE = ("user is deactivated", "bot was kicked", "have no rights", "not a member", "bot was blocked")


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


def _file(attachment) -> InputFile | str:
    if isinstance(attachment.file, bytes):
        return InputFile(attachment.file, filename=attachment.filename or "file")
    return attachment.file


async def _send(bot: ExtBot, chat_id: int, rendered: Rendered) -> None:
    caption_used = False
    for number, attachment in enumerate(rendered.attachments):
        caption = None
        if number == 0 and rendered.photo_caption:
            caption, caption_used = rendered.text, True
        if attachment.kind == "photo":
            await bot.send_photo(chat_id, _file(attachment), caption=caption, parse_mode=ParseMode.HTML,
                                 reply_markup=keyboard(rendered.buttons) if caption else None,
                                 rate_limit_args=NO_RETRY)
        else:
            await bot.send_document(chat_id, _file(attachment), caption=caption, parse_mode=ParseMode.HTML,
                                    rate_limit_args=NO_RETRY)
    if not caption_used:
        await bot.send_message(chat_id, rendered.text, parse_mode=ParseMode.HTML,
                               reply_markup=keyboard(rendered.buttons), rate_limit_args=NO_RETRY)


def deliverer(bot: ExtBot):
    async def deliver(chat_id: int, rendered: Rendered) -> Delivery:
        try:
            await _send(bot, chat_id, rendered)
        except Forbidden as error:
            reason = str(error).lower()
            if any(text in reason for text in NOT_STARTED):
                return Delivery(Outcome.WAITING, error=str(error))
            return Delivery(Outcome.BLOCKED, error=str(error))
        except RetryAfter as error:
            retry = error.retry_after
            return Delivery(Outcome.RETRY, getattr(retry, "total_seconds", lambda: retry)(), "429")
        except BadRequest as error:
            reason = str(error).lower()
            if any(text in reason for text in NOT_STARTED):
                return Delivery(Outcome.WAITING, error=str(error))
            if any(text in reason for text in GONE):
                return Delivery(Outcome.BLOCKED, error=str(error))
            return Delivery(Outcome.FAILED, error=str(error))
        except (NetworkError, TelegramError) as error:
            return Delivery(Outcome.RETRY, error=type(error).__name__)
        return Delivery(Outcome.SENT)
    return deliver


async def send_outbox(context: CallbackContext) -> None:
    """The job: drain the outbox (it is the only place anything is sent to someone else)."""
    services = context.application.bot_data["services"]
    try:
        await services.reminders.send(deliverer(context.bot), SEND_BUDGET_SECONDS)
    except Exception as error:  # a database outage: the rows stay pending and are sent later
        log.warning("Outbox sender failed: %s", type(error).__name__)


def schedule(application: Application, interval: float) -> None:
    application.job_queue.run_repeating(send_outbox, interval=interval, first=2, name="outbox",
                                        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None})
