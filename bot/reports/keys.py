"""`qingfeng keys rotate`: re-encrypt every encrypted value under the newest key.

Encrypted columns are found, not listed: every binary column named `*token` of every table in
the schema (reports, their events and files, drafts, open conversations, and whatever a later
feature adds under the same convention). Each table is rewritten in one transaction; a value
that no configured key opens stops the rotation with the table's name, before anything of that
table is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers every table)
from bot.crypto import Crypto, InvalidToken
from bot.db import Database

BATCH = 500


class RotationFailed(Exception):
    """A value could not be decrypted with any configured key."""


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
                            raise RotationFailed(f"a value in {table.name}.{column.name} cannot be decrypted with "
                                                 "any configured key; nothing in that table was changed") from None
                    if values:
                        condition = sa.and_(*(key == row._mapping[key] for key in keys))
                        await conn.execute(table.update().where(condition).values(**values))
                        count += len(values)
        result.tables[table.name] = count
        result.values += count
    return result
