"""The composition root: builds the PTB Application from the services and runs it.

Part of the Telegram adapter layer (with `bot/telegram_io.py`): the only place in `bot/` that
imports `handlers`. There is no PTB persistence: who gets a user's next message is pending
input in the database (bot/pending.py), read on every update. The lifecycle is explicit rather than `run_polling`'s, so
that the database is checked before Telegram is contacted and a Telegram outage at start is
retried with backoff instead of crashing.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import HTTPXRequest

import handlers
from bot.config import ConfigError, Settings
from bot.i18n import LANGUAGES, N_, translator
from bot.logs import describe_exception
from bot.services import Services
from bot.telegram_io import (ConfirmingApplication, PerChatUpdates, RetryingRateLimiter, TolerantBot,
                             patch_webhook_handler)
from handlers.commands import COMMANDS
from handlers.context import Context
from handlers.errors import report_error

log = logging.getLogger(__name__)
MAX_BACKOFF = 60.0


def build_application(services: Services, token: str, *, updates: object | None = None) -> Application:
    """The bot; `updates` is how updates are processed (default: concurrently across chats, in
    order within one; bench/concurrency.py passes False for the old one-at-a-time baseline)."""
    settings = services.settings
    telegram = settings.telegram
    timeout = telegram.request_timeout
    bot = TolerantBot(
        token, base_url=f"{telegram.base_url}/bot", base_file_url=f"{telegram.base_url}/file/bot",
        request=HTTPXRequest(connection_pool_size=64, read_timeout=timeout, write_timeout=timeout),
        get_updates_request=HTTPXRequest(read_timeout=telegram.poll_timeout + 10, write_timeout=timeout),
        rate_limiter=RetryingRateLimiter(retry_for=telegram.retry_for_seconds),
    )
    application = (
        ApplicationBuilder()
        .application_class(ConfirmingApplication)
        .bot(bot)
        .context_types(ContextTypes(context=Context))
        .concurrent_updates(PerChatUpdates() if updates is None else updates)
        .build()
    )
    application.bot_data["services"] = services
    application.bot_data["flows"] = handlers.FLOWS
    for handler, group in handlers.build_handlers():
        application.add_handler(handler, group)
    application.add_error_handler(report_error)
    schedule_jobs(application, settings)
    return application


def schedule_jobs(application: Application, settings: Settings) -> None:
    """Repeating jobs. They only look at files and the database, so a restart loses nothing."""
    if settings.knowledge.watch:
        application.job_queue.run_repeating(handlers.knowledge.watch_files, interval=settings.knowledge.watch_seconds,
                                            first=settings.knowledge.watch_seconds, name="knowledge-watch")
    # Anonymous reports: retention.
    handlers.reports.inbox.schedule_report_jobs(application.job_queue, settings)
    # Reminders and digests fill the outbox; the outbox's sender delivers every notice.
    handlers.reminders.schedule_reminder_jobs(application, settings)


async def publish_commands(application: Application, settings: Settings) -> None:
    """setMyCommands per language, and the supervisors' longer list in their own chats."""
    bot = application.bot
    for language in (None, *LANGUAGES):
        _ = translator(language or settings.bot.language)
        public = [BotCommand(c.name, _(c.description)) for c in COMMANDS if not c.supervisor_only]
        full = [BotCommand(c.name, _(c.description)) for c in COMMANDS]
        await bot.set_my_commands(public, scope=BotCommandScopeDefault(), language_code=language)
        for supervisor in settings.supervisor_ids:
            with suppress(TelegramError):  # a supervisor who never opened the bot has no chat yet
                await bot.set_my_commands(full, scope=BotCommandScopeChat(supervisor), language_code=language)


async def _initialize_with_backoff(application: Application, stop: asyncio.Event) -> bool:
    """Contact Telegram until it answers; an invalid token is final, an outage is not."""
    delay = 1.0
    while not stop.is_set():
        try:
            await application.initialize()
            return True
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter, TelegramError) as exc:
            log.warning("Telegram is not reachable (%s); retrying in %.0f s", describe_exception(exc), delay)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, MAX_BACKOFF)
    return False


def check_webhook(settings: Settings) -> None:
    """Webhook mode without a secret token would take any POST as an update from Telegram: a forged
    supervisor's button press included. Refuse to start instead (said in the CLI's language, as every
    other ConfigError)."""
    if settings.telegram.mode == "webhook" and not settings.webhook_secret():
        raise ConfigError(N_(
            "webhook mode needs a secret token, or anyone who finds the URL can post forged updates: set "
            "QINGFENG_TELEGRAM__WEBHOOK_SECRET (1-256 letters, digits, _ and -) or telegram.webhook.secret_file"))


async def serve(settings: Settings) -> None:
    """Run the bot until SIGINT or SIGTERM."""
    token = settings.bot_token()
    if not token:
        raise ConfigError(N_(
            "no bot token: set QINGFENG_TELEGRAM__TOKEN (create a bot with @BotFather to get one) "
            "or name a file holding it in telegram.token_file; to try the bot without Telegram, run `qingfeng chat`"
        ))
    check_webhook(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    services = await Services.start(settings)
    application = build_application(services, token)
    try:
        if not await _initialize_with_backoff(application, stop):
            return
        try:
            await _start_updates(application, settings)
            await application.start()
            with suppress(TelegramError):
                await publish_commands(application, settings)
            log.info("Qingfeng is running (%s) as @%s", settings.telegram.mode, application.bot.username)
            await stop.wait()
            log.info("Stopping")
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()  # every update in hand is handled first
                if settings.telegram.mode == "polling":
                    await application.bot.confirm_handled()
            await application.shutdown()
    finally:
        await services.close()


def _polling_failed(error: TelegramError) -> None:
    """A failed getUpdates is retried by PTB; PTB would log each failure with a whole traceback."""
    log.warning("Telegram did not answer getUpdates (%s: %s); polling again", type(error).__name__, error)


async def _start_updates(application: Application, settings: Settings) -> None:
    telegram = settings.telegram
    if telegram.mode == "polling":
        await application.updater.start_polling(
            timeout=telegram.poll_timeout, bootstrap_retries=-1, allowed_updates=["message", "callback_query", "inline_query"],
            error_callback=_polling_failed,
        )
        return
    webhook = telegram.webhook
    patch_webhook_handler()
    if not webhook.url:
        raise ConfigError(N_("telegram.webhook.url is needed in webhook mode: the public HTTPS URL Telegram posts to"))
    await application.updater.start_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.path.lstrip("/"),
        webhook_url=webhook.url,
        secret_token=settings.webhook_secret(),
        bootstrap_retries=-1,
        allowed_updates=["message", "callback_query", "inline_query"],
    )
