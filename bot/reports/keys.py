"""The lookup secret of keyed hashes, and `qingfeng keys rotate`: re-encrypt every encrypted value
under the newest key.

Keyed hashes (receipt-code locators, the keys of drafts, open conversations and preferences) are
not under an encryption key but under one lookup secret, created once per database, kept in it
encrypted (`lookup_secret.secret_token`), and read at start by `with_lookup_secret`. Rotation
re-encrypts it with everything else and keeps its value, so after the old key is dropped every
receipt code still finds its report. A database from before the secret was kept gets the secret
its hashes were made with (derived from the oldest key); a new one gets a random secret.

Encrypted columns are found, not listed: every binary column named `*token` of every table in
the schema (reports, their events and files, drafts, open conversations, and whatever a later
feature adds under the same convention). Each table is rewritten in one transaction; a value
that no configured key opens stops the rotation with the table's name, before anything of that
table is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import secrets

import sqlalchemy as sa
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers every table)
from bot.crypto import Crypto, InvalidToken, derived_lookup_secret
from bot.db import Database, insert_ignoring
from bot.i18n import N_, TranslatableError
from bot.models import UserPreference
from bot.pending import PendingInput
from bot.reports.models import LookupSecret, Report, ReportDraft

BATCH = 500


class RotationFailed(TranslatableError):
    """A value could not be decrypted with any configured key."""


class LookupSecretLocked(TranslatableError):
    """The database's lookup secret opens with none of the configured keys."""


# Tables whose keys are keyed hashes worth keeping: if any has rows, the old derived secret stays.
_HASHED = (Report.__table__, ReportDraft.__table__, PendingInput.__table__, UserPreference.__table__)


async def with_lookup_secret(database: Database, crypto: Crypto) -> Crypto:
    """`crypto` with keyed hashes under the database's lookup secret, created on first use."""
    table = LookupSecret.__table__
    async with database.engine.begin() as conn:
        token = (await conn.execute(sa.select(table.c.secret_token))).scalar()
        if token is None:
            in_use = False
            for hashed in _HASHED:
                in_use = in_use or (await conn.execute(sa.select(sa.literal(1)).select_from(hashed).limit(1))).first() is not None
            secret = derived_lookup_secret(crypto.keys) if in_use else secrets.token_bytes(32)
            # Two processes starting at once: the first insert wins, both read the same row.
            await conn.execute(insert_ignoring(conn, table, ["id"]), {"id": 1, "secret_token": crypto.encrypt(secret)})
            token = (await conn.execute(sa.select(table.c.secret_token))).scalar_one()
    try:
        return crypto.with_lookup_secret(crypto.decrypt(bytes(token)))
    except InvalidToken:
        raise LookupSecretLocked(N_("the database's lookup secret cannot be decrypted with any configured "
                                    "encryption key: set QINGFENG_SECURITY__ENCRYPTION_KEYS to the keys this "
                                    "database was encrypted with")) from None


@dataclass
class RotationResult:
    values: int = 0
    tables: dict[str, int] = field(default_factory=dict)


def encrypted_columns() -> dict[sa.Table, list[sa.Column]]:
    found = {}
    for table in SQLModel.metadata.sorted_tables:
        columns = [column for column in table.columns
                   if column.name.endswith("token") and isinstance(column.type, sa.LargeBinary)]
        if columns:
            found[table] = columns
    return found


async def rotate_all(database: Database, crypto: Crypto) -> RotationResult:
    result = RotationResult()
    for table, columns in encrypted_columns().items():
        keys = list(table.primary_key.columns)
        count = 0
        async with database.engine.begin() as conn:
            rows = (await conn.execute(sa.select(*keys, *columns))).all()
            for start in range(0, len(rows), BATCH):
                for row in rows[start:start + BATCH]:
                    values = {}
                    for column in columns:
                        token = row._mapping[column]
                        if token is None:
                            continue
                        try:
                            values[column.name] = crypto.rotate(bytes(token))
                        except InvalidToken:
                            raise RotationFailed(N_("a value in {column} cannot be decrypted with any configured "
                                                    "key; nothing in that table was changed"),
                                                 column=f"{table.name}.{column.name}") from None
                    if values:
                        condition = sa.and_(*(key == row._mapping[key] for key in keys))
                        await conn.execute(table.update().where(condition).values(**values))
                        count += len(values)
        result.tables[table.name] = count
        result.values += count
    return result
