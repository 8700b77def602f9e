"""Knowledge gaps and feedback.

Revision ID: 0002_knowledge
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_knowledge"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_gap",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.String(1000), nullable=False),
        sa.Column("entry_id", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_table(
        "knowledge_feedback",
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("helpful", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unhelpful", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("knowledge_feedback")
    op.drop_table("knowledge_gap")
