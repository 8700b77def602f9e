"""One owner for a user's next message (pending_input, report_shield), one outbox for every
notice (outbox, recipient_language), and receipt codes kept until the reporter saved them.

Replaces conversation_state (PTB persistence), ledger_prompt, ledger_outbox, report_deadline_notice
and report.pending_notice. Pending ledger reminders are carried over into the outbox.

Revision ID: 0007_pending_outbox
Revises: 0005_report_deadlines, 0006_reminders
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_pending_outbox"
down_revision = ("0005_report_deadlines", "0006_reminders")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_input",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("feature", sa.String(24), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(40), nullable=True),
        sa.Column("data_token", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pending_input_expires_at", "pending_input", ["expires_at"])
    op.create_table(
        "report_shield",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_report_shield_until", "report_shield", ["until"])
    op.create_table(
        "report_receipt",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("code_token", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "recipient_language",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(8), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("slot", sa.String(160), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("ledger_item.id", ondelete="CASCADE"), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("kind", "slot", name="uq_outbox_kind_slot"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    op.create_index("ix_outbox_item_id", "outbox", ["item_id"])
    op.execute(
        "INSERT INTO outbox (kind, slot, chat_id, item_id, payload, status, attempts, next_attempt_at, created_at,"
        " last_error) SELECT kind, CAST(item_id AS VARCHAR(12)) || ':' || slot, chat_id, item_id, payload, status,"
        " attempts, next_attempt_at, created_at, last_error FROM ledger_outbox"
        " WHERE status = 'pending' AND chat_id IS NOT NULL")
    op.drop_table("ledger_outbox")
    op.drop_table("ledger_prompt")
    op.drop_table("conversation_state")
    op.drop_table("report_deadline_notice")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("pending_notice")


def downgrade() -> None:
    raise NotImplementedError("0007 cannot be undone: restore the backup taken before the upgrade")
