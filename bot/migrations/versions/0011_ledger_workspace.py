"""The supervisors' workspace: extension requests (延期申请) from unit contacts, decided once.

Revision ID: 0011_ledger_workspace
Revises: 0009_reports_hardening
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_ledger_workspace"
down_revision = "0009_reports_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_extension",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old_deadline", sa.String(40), nullable=False),
        sa.Column("proposed", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(200), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
    )
    op.create_index("ix_ledger_extension_item_id", "ledger_extension", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_extension_item_id", "ledger_extension")
    op.drop_table("ledger_extension")
