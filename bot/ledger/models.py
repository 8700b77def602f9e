"""Tables of the rectification ledger (整改台账).

Unit contacts are not anonymous: they are named officials acting for their unit, so their chat
id is stored in the clear (it is what reminders are sent to). Reporters never appear here.

Statuses of an item (`ItemStatus`): open → in_progress (first progress report) →
closure_requested → closed (approved by a supervisor) or back to in_progress (sent back with a
comment); a supervisor may also close an item directly (closed_directly) with a reason.
An item deleted from the ledger (`qingfeng ledger delete`, with a reason) keeps its row and its
history with status "deleted": it leaves /tasks, reminders, the export and the digest, and a
re-import of its number leaves it deleted (the summary says so).
"Overdue" is not stored: an active item whose deadline is before today (in the configured zone).
A standing item (长期坚持 / 持续推进 / 常态化: deadline_kind "standing") has no deadline and is never
overdue; an immediate one (立行立改) has the deadline computed at import.

Reminders go through the bot's one outbox (`bot/outbox.py`); the contract with the planner:
the planner inserts one row per reminder occurrence and recipient, with `item_id` set and a
slot that names the item, the deadline it was computed from, the level and its repeat, and the
recipient (e.g. "12:2026-12-31:red1:5001"), so that a changed deadline gives new slots; the ledger cancels
pending rows of an item whose deadline changed or that was closed (status "cancelled").
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.db import UTCDateTime


class ItemStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSURE_REQUESTED = "closure_requested"
    CLOSED = "closed"
    CLOSED_DIRECTLY = "closed_directly"
    DELETED = "deleted"  # removed from the ledger by `qingfeng ledger delete`; its history is kept


ACTIVE_STATUSES = (ItemStatus.OPEN.value, ItemStatus.IN_PROGRESS.value, ItemStatus.CLOSURE_REQUESTED.value)
# Statuses that get no reminders (the planner and the renderers read this): closed, and deleted.
CLOSED_STATUSES = (ItemStatus.CLOSED.value, ItemStatus.CLOSED_DIRECTLY.value, ItemStatus.DELETED.value)


def item_label(round_name: str, external_id: str) -> str:
    """How people name an item: its round and number (二轮-3), since numbers repeat across rounds."""
    return f"{round_name}-{external_id}"


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True) -> sa.Column:
    return sa.Column(sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class InspectionRound(SQLModel, table=True):
    """A round of inspection (巡视/巡察轮次): items are grouped by it."""

    __tablename__ = "ledger_round"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    title: str | None = Field(default=None, max_length=500)  # the title row of the ledger it came from


class Unit(SQLModel, table=True):
    """A responsible unit (责任单位); overdue items escalate to its parent."""

    __tablename__ = "ledger_unit"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    parent_id: int | None = Field(default=None, sa_column=_fk("ledger_unit.id", nullable=True, ondelete="SET NULL"))


class UnitContact(SQLModel, table=True):
    """A Telegram chat bound to a unit with an invite code. One chat acts for one unit."""

    __tablename__ = "ledger_contact"
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(sa_column=_fk("ledger_unit.id"))
    chat_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True))
    reachable: bool = True
    bound_at: datetime = Field(sa_type=UTCDateTime)
    unreachable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RectificationItem(SQLModel, table=True):
    """One problem to rectify (整改事项), identified by its external id within its round."""

    __tablename__ = "ledger_item"
    __table_args__ = (sa.UniqueConstraint("round_id", "external_id", name="uq_ledger_item_round_external"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=_fk("ledger_round.id"))
    external_id: str = Field(max_length=100)
    unit_id: int = Field(sa_column=_fk("ledger_unit.id"))
    problem: str = Field(sa_type=sa.Text)
    owner: str = Field(default="", max_length=200)
    severity: str = Field(default="normal", max_length=16)
    deadline: date | None = Field(default=None, index=True)  # None: a standing item (长期坚持), never overdue
    deadline_kind: str = Field(default="date", max_length=16)  # date, immediate (立行立改), standing
    plan: str = Field(default="", sa_type=sa.Text)
    category: str = Field(default="", max_length=200)
    leader: str = Field(default="", max_length=200)
    progress_text: str = Field(default="", sa_type=sa.Text)  # 完成情况 / 整改进展 as the ledger file wrote it
    note: str = Field(default="", sa_type=sa.Text)
    co_units: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # names of the co-units (配合单位)
    extra: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)  # columns outside the vocabulary
    status: str = Field(default=ItemStatus.OPEN.value, max_length=24, index=True)
    closed_reason: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The closing review: the last send-back (shown on the card until the item closes; a new request
    # needs progress made after it) and, with ledger.second_review, the first of the two approvals.
    sent_back_comment: str | None = Field(default=None, sa_type=sa.Text)
    sent_back_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_review_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    first_review_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProgressEntry(SQLModel, table=True):
    """A progress report on an item, by a unit contact (or a supervisor)."""

    __tablename__ = "ledger_progress"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("ledger_item.id"))
    at: datetime = Field(sa_type=UTCDateTime)
    author_kind: str = Field(max_length=16)  # contact, supervisor
    author_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # chat id / supervisor's user id
    text: str = Field(default="", sa_type=sa.Text)


class EvidenceFile(SQLModel, table=True):
    """A photo or document sent as evidence: downloaded when received and kept under the data folder
    (`stored_path`, relative to it), so that the archive does not depend on Telegram keeping the file;
    the Telegram file id stays for forwarding. A file the bot could not fetch has no stored_path."""

    __tablename__ = "ledger_evidence"
    id: int | None = Field(default=None, primary_key=True)
    progress_id: int = Field(sa_column=_fk("ledger_progress.id"))
    kind: str = Field(max_length=16)  # photo, document
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(default="", max_length=100)
    file_name: str | None = Field(default=None, max_length=255)
    mime_type: str | None = Field(default=None, max_length=100)
    stored_path: str | None = Field(default=None, max_length=500)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)


class ItemHistory(SQLModel, table=True):
    """Every change of an item: what, from what to what, who and when."""

    __tablename__ = "ledger_history"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("ledger_item.id"))
    at: datetime = Field(sa_type=UTCDateTime)
    actor_kind: str = Field(max_length=16)  # import, cli, contact, supervisor, system
    actor_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    actor_name: str | None = Field(default=None, max_length=200)  # a supervisor's name, for the others
    action: str = Field(max_length=32)  # created, updated, progress, closure_requested, approved, ...
    field: str | None = Field(default=None, max_length=32)
    old_value: str | None = Field(default=None, sa_type=sa.Text)
    new_value: str | None = Field(default=None, sa_type=sa.Text)
    comment: str | None = Field(default=None, sa_type=sa.Text)


class InviteCode(SQLModel, table=True):
    """A one-time code that binds a chat to a unit. Only its SHA-256 is kept (the code is random)."""

    __tablename__ = "ledger_invite"
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    unit_id: int = Field(sa_column=_fk("ledger_unit.id"))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_chat: int | None = Field(default=None, sa_type=sa.BigInteger)




class ExtensionRequest(SQLModel, table=True):
    """An extension request (延期申请) from a unit contact: a reason and a proposed date, decided once
    by a supervisor (approved: the deadline moves; refused: with a short reason). The status changes
    from pending by a conditional update, so of two supervisors deciding at once only one does."""

    __tablename__ = "ledger_extension"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("ledger_item.id"))
    chat_id: int = Field(sa_type=sa.BigInteger)  # the contact who asked (a named official, not a reporter)
    reason: str = Field(sa_type=sa.Text)
    old_deadline: str = Field(default="", max_length=40)  # the deadline when asked, as the history writes it
    proposed: date
    status: str = Field(default="pending", max_length=16)  # pending, approved, refused
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    decided_by_name: str | None = Field(default=None, max_length=200)
    refusal: str | None = Field(default=None, sa_type=sa.Text)
