"""What the bot learns from use: questions it could not answer and answers users found unhelpful.

Only the question's text is kept, with the day: never who asked, nor the exact time.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class KnowledgeGap(SQLModel, table=True):
    __tablename__ = "knowledge_gap"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)           # "unanswered" or "unhelpful"
    question: str = Field(max_length=1000)
    entry_id: str | None = Field(default=None, max_length=64)  # the unhelpful answer
    language: str = Field(max_length=8)
    day: date


class KnowledgeFeedback(SQLModel, table=True):
    """Helpful / not helpful counts per entry and day."""

    __tablename__ = "knowledge_feedback"
    entry_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    helpful: int = 0
    unhelpful: int = 0
