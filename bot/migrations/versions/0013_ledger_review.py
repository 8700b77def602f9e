"""The closing review keeps what it said: the send-back comment and time on the item (shown on its
card, and a new request after it needs new progress), the first of two reviews when a second is
configured, the name of the supervisor who decided; evidence files kept by the bot (a path under the data folder, size and SHA-256).

Revision ID: 0013_ledger_review
Revises: 0011_ledger_workspace
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_ledger_review"
down_revision = "0011_ledger_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_item") as batch:
        batch.add_column(sa.Column("sent_back_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sent_back_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_review_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("first_review_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger_history") as batch:
        batch.add_column(sa.Column("actor_name", sa.String(200), nullable=True))
    with op.batch_alter_table("ledger_evidence") as batch:
        batch.add_column(sa.Column("stored_path", sa.String(500), nullable=True))
        batch.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_evidence") as batch:
        for name in ("sha256", "size", "stored_path"):
            batch.drop_column(name)
    with op.batch_alter_table("ledger_history") as batch:
        batch.drop_column("actor_name")
    with op.batch_alter_table("ledger_item") as batch:
        for name in ("first_review_at", "first_review_by", "sent_back_at", "sent_back_comment"):
            batch.drop_column(name)
