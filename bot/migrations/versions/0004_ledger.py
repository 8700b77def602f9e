"""Rectification ledger: rounds, units, contacts, items, progress, evidence, history, invites,
chat prompts, and the reminder outbox.

Revision ID: 0004_ledger
Revises: 0002_knowledge
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_ledger"
down_revision = "0002_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "ledger_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("ledger_unit.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_ledger_unit_parent_id", "ledger_unit", ["parent_id"])
    op.create_table(
        "ledger_contact",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("ledger_unit.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ledger_contact_unit_id", "ledger_contact", ["unit_id"])
    op.create_table(
        "ledger_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("ledger_round.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("ledger_unit.id", ondelete="CASCADE"), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("round_id", "external_id", name="uq_ledger_item_round_external"),
    )
    op.create_index("ix_ledger_item_round_id", "ledger_item", ["round_id"])
    op.create_index("ix_ledger_item_unit_id", "ledger_item", ["unit_id"])
    op.create_index("ix_ledger_item_deadline", "ledger_item", ["deadline"])
    op.create_index("ix_ledger_item_status", "ledger_item", ["status"])
    op.create_table(
        "ledger_progress",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_kind", sa.String(16), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_ledger_progress_item_id", "ledger_progress", ["item_id"])
    op.create_table(
        "ledger_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("progress_id", sa.Integer(), sa.ForeignKey("ledger_progress.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(255), nullable=False),
        sa.Column("file_unique_id", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("mime_type", sa.String(100), nullable=True),
    )
    op.create_index("ix_ledger_evidence_progress_id", "ledger_evidence", ["progress_id"])
    op.create_table(
        "ledger_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("field", sa.String(32), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    op.create_index("ix_ledger_history_item_id", "ledger_history", ["item_id"])
    op.create_table(
        "ledger_invite",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("ledger_unit.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_chat", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_ledger_invite_unit_id", "ledger_invite", ["unit_id"])
    op.create_table(
        "ledger_prompt",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("progress_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("item_id", "kind", "slot", name="uq_ledger_outbox_item_kind_slot"),
    )
    op.create_index("ix_ledger_outbox_due", "ledger_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_outbox_due", table_name="ledger_outbox")
    op.drop_table("ledger_outbox")
    op.drop_table("ledger_prompt")
    op.drop_index("ix_ledger_invite_unit_id", table_name="ledger_invite")
    op.drop_table("ledger_invite")
    op.drop_index("ix_ledger_history_item_id", table_name="ledger_history")
    op.drop_table("ledger_history")
    op.drop_index("ix_ledger_evidence_progress_id", table_name="ledger_evidence")
    op.drop_table("ledger_evidence")
    op.drop_index("ix_ledger_progress_item_id", table_name="ledger_progress")
    op.drop_table("ledger_progress")
    for index in ("status", "deadline", "unit_id", "round_id"):
        op.drop_index(f"ix_ledger_item_{index}", table_name="ledger_item")
    op.drop_table("ledger_item")
    op.drop_index("ix_ledger_contact_unit_id", table_name="ledger_contact")
    op.drop_table("ledger_contact")
    op.drop_index("ix_ledger_unit_parent_id", table_name="ledger_unit")
    op.drop_table("ledger_unit")
    op.drop_table("ledger_round")
