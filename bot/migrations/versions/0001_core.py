"""Core tables: language preferences and open conversations.

Revision ID: 0001_core
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_preference",
        sa.Column("user_key", sa.String(64), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
    )
    op.create_table(
        "conversation_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("key_token", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_state")
    op.drop_table("user_preference")
