"""The context every handler receives: the services, and the user's language and role, ready.

`identify_user` (registered first, in group -1) fills in `language`, `is_supervisor` and `pending`
once per update, so handlers never open a database session just to know how to talk to someone
or where their message belongs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translate, translator
from bot.pending import Pending
from bot.services import Services

if TYPE_CHECKING:
    from handlers.flow import Flow


class Context(CallbackContext[ExtBot, dict, dict, dict]):
    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.language: str = application.bot_data["services"].settings.bot.language
        self.is_supervisor: bool = False
        # Who gets this user's next message (bot/pending.py), read once per update; `pending_known`
        # is False when the database could not be read, and then nobody may take the message.
        self.pending: Pending | None = None
        self.pending_known: bool = True
        self.receipt_shown: bool = False  # an unconfirmed receipt code was shown for this update

    @property
    def flows(self) -> dict[str, "Flow"]:
        """Every feature that can own a user's next message, by name (handlers.FLOWS)."""
        return self.application.bot_data["flows"]

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    @property
    def _(self) -> Translate:
        """The translator for this user's language: `context._("Hello")`."""
        return translator(self.language)
