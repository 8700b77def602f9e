"""Anonymous reports: deadline reminders already sent, so that none goes out twice.

Revision ID: 0005_report_deadlines
Revises: 0003_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_report_deadlines"
down_revision = "0003_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_deadline_notice",
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("deadline", sa.String(16), primary_key=True),
        sa.Column("stage", sa.String(24), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("report_deadline_notice")
