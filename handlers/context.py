"""The context every handler receives: the services, and the user's language and role, ready.

`identify_user` (registered first, in group -1) fills in `language` and `is_supervisor` once per
update, so handlers never open a database session just to know how to talk to someone.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translate, translator
from bot.services import Services


class Context(CallbackContext[ExtBot, dict, dict, dict]):
    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.language: str = application.bot_data["services"].settings.bot.language
        self.is_supervisor: bool = False

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    @property
    def _(self) -> Translate:
        """The translator for this user's language: `context._("Hello")`."""
        return translator(self.language)
