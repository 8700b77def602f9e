"""Alembic environment: migrations run on a connection handed in by `bot.db`.

`bot.db.Database.upgrade` opens an async connection and runs Alembic inside `run_sync`, so
one code path serves SQLite and PostgreSQL, the CLI, the bot's first start and the tests.
"""

from alembic import context
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers every table on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `qingfeng db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
