"""Reminder planner bookkeeping and weekly digests.

Revision ID: 0006_reminders
Revises: 0004_ledger
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_reminders"
down_revision = "0004_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_plan",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_reminder_plan_next_on", "reminder_plan", ["next_on"])
    op.create_table(
        "reminder_digest",
        sa.Column("week", sa.String(10), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reminder_digest")
    op.drop_index("ix_reminder_plan_next_on", "reminder_plan")
    op.drop_table("reminder_plan")
