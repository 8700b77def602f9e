"""Ledger items as offices write them: a deadline that may be absent (standing items, 长期坚持), its
kind (date / immediate / standing), category, leader, the imported progress text, note, co-units
and the columns outside the vocabulary (extra, JSON); the title of the ledger a round came from.

Revision ID: 0008_ledger_real_files
Revises: 0007_pending_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_ledger_real_files"
down_revision = "0007_pending_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_round") as batch:
        batch.add_column(sa.Column("title", sa.String(500), nullable=True))
    with op.batch_alter_table("ledger_item") as batch:  # batch: SQLite rebuilds the table
        batch.alter_column("deadline", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("deadline_kind", sa.String(16), nullable=False, server_default="date"))
        batch.add_column(sa.Column("category", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("leader", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("progress_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("co_units", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE ledger_item SET deadline = '2099-12-31' WHERE deadline IS NULL")  # standing items
    with op.batch_alter_table("ledger_item") as batch:
        for name in ("extra", "co_units", "note", "progress_text", "leader", "category", "deadline_kind"):
            batch.drop_column(name)
        batch.alter_column("deadline", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("ledger_round") as batch:
        batch.drop_column("title")
