"""The lookup secret of keyed hashes, kept encrypted so that key rotation leaves receipt codes
working (lookup_secret), and throttle counters (throttle_count: report submissions per chat,
receipt-code guesses per bot, 👎 per answer and user).

Revision ID: 0009_reports_hardening
Revises: 0008_ledger_real_files
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_reports_hardening"
down_revision = "0008_ledger_real_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_secret",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("secret_token", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "throttle_count",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_throttle_count_until", "throttle_count", ["until"])


def downgrade() -> None:
    op.drop_index("ix_throttle_count_until", table_name="throttle_count")
    op.drop_table("throttle_count")
    op.drop_table("lookup_secret")
