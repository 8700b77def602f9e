"""Anonymous reports: reports, their events (audit log and messages), files, drafts, code attempts.

Revision ID: 0003_reports
Revises: 0002_knowledge
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_reports"
down_revision = "0002_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("locator", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_due", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_notice", sa.String(16), nullable=True),
        sa.Column("content_token", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_report_locator", "report", ["locator"])
    op.create_index("ix_report_category", "report", ["category"])
    op.create_index("ix_report_status", "report", ["status"])
    op.create_table(
        "report_event",
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("supervisor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status_from", sa.String(16), nullable=True),
        sa.Column("status_to", sa.String(16), nullable=True),
        sa.Column("visible_to_reporter", sa.Boolean(), nullable=False),
        sa.Column("text_token", sa.LargeBinary(), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_attachment",
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("meta_token", sa.LargeBinary(), nullable=False),
        sa.Column("data_token", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "report_draft",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("token", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "report_draft_file",
        sa.Column("draft_key", sa.String(64), sa.ForeignKey("report_draft.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("meta_token", sa.LargeBinary(), nullable=False),
        sa.Column("data_token", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "report_code_attempt",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_report_code_attempt_bucket", "report_code_attempt", ["bucket"])


def downgrade() -> None:
    op.drop_index("ix_report_code_attempt_bucket", table_name="report_code_attempt")
    op.drop_table("report_code_attempt")
    op.drop_table("report_draft_file")
    op.drop_table("report_draft")
    op.drop_table("report_attachment")
    op.drop_table("report_event")
    op.drop_index("ix_report_status", table_name="report")
    op.drop_index("ix_report_category", table_name="report")
    op.drop_index("ix_report_locator", table_name="report")
    op.drop_table("report")
