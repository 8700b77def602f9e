"""PTB persistence that keeps only open conversations, in the database, with encrypted keys.

Part of the Telegram adapter layer. PTB's default persistences store `user_data` and
`chat_data` under the Telegram id of everyone who wrote to the bot; this one stores neither
(see `store_data`), so nothing per user is kept that a reporter never asked to be kept.
"""

from __future__ import annotations

import json
from collections import defaultdict

from sqlmodel import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.crypto import Crypto
from bot.db import Database
from bot.models import ConversationState


class DatabasePersistence(BasePersistence[dict, dict, dict]):
    def __init__(self, database: Database, crypto: Crypto, *, update_interval: float = 1.0):
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self._database = database
        self._crypto = crypto

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self._database.session() as session:
            rows = (await session.exec(select(ConversationState).where(ConversationState.name == name))).all()
        return {tuple(json.loads(self._crypto.decrypt(row.key_token))): json.loads(row.state) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        key_hash = self._crypto.keyed_hash("conversation", name, *key)
        async with self._database.transaction() as session:
            row = await session.get(ConversationState, (name, key_hash))
            if new_state is None:
                if row is not None:
                    await session.delete(row)
                return
            state = json.dumps(new_state)
            if row is None:
                token = self._crypto.encrypt(json.dumps(list(key)).encode())
                session.add(ConversationState(name=name, key_hash=key_hash, key_token=token, state=state))
            else:
                row.state = state

    async def drop_conversations(self, name: str) -> None:
        async with self._database.transaction() as session:
            await session.exec(delete(ConversationState).where(ConversationState.name == name))

    # Nothing else is stored: these satisfy the interface.
    async def get_user_data(self) -> dict[int, dict]:
        return defaultdict(dict)

    async def get_chat_data(self) -> dict[int, dict]:
        return defaultdict(dict)

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        return None

    async def update_bot_data(self, data: dict) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return None

    async def flush(self) -> None:
        return None
