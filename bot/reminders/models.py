"""The planner's bookkeeping: for each open item, the next day something may be due.

Keeping `next_on` lets a planner pass look only at the items with something due today instead of
recomputing all of them; `deadline` notices a deadline changed since the item was planned.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ReminderPlan(SQLModel, table=True):
    __tablename__ = "reminder_plan"
    item_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("ledger_item.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False))
    deadline: date
    next_on: date | None = Field(default=None, index=True)


class DigestSent(SQLModel, table=True):
    """One weekly digest per ISO week, however often the job looks."""

    __tablename__ = "reminder_digest"
    week: str = Field(primary_key=True, max_length=10)  # e.g. 2026-W48
    sent_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
