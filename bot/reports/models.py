"""Tables of anonymous reports: nothing here can lead back to a reporter.

What is deliberately absent: any Telegram id, name or chat of a reporter (a report is found only
by its receipt code, kept as a slow salted hash plus a short keyed locator), exact submission
times (the hour at most), original file names. Every text a person wrote (report, messages,
notes, the unit transferred to) and every file is a Fernet token (`*_token` columns, which
`qingfeng keys rotate` re-encrypts). Events and files are keyed per report (`report_id`, `seq`)
without a rowid, so no table-wide sequence interleaves a reporter's action with supervisors'
exactly-timed actions.

The one row under a chat is the draft of a report being written (`report_draft`), keyed by a
keyed hash of the chat id, encrypted, and erased on submission or cancel.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.db import UTCDateTime



class Report(SQLModel, table=True):
    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    # keyed hash of the first characters of the receipt code: finds the candidate rows
    locator: str = Field(max_length=64, index=True)
    # Argon2id hash (with its own salt) of the whole code: proves the code
    code_hash: str = Field(max_length=200)
    category: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16, index=True)
    # submission time rounded down to the hour: enough for deadlines and statistics
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    acknowledge_due: date
    answer_due: date
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # "new" or "reply" while supervisors have not been told yet; None once they have
    # encrypted JSON: {"unit": ..., "when": ..., "description": ...}
    content_token: bytes


class ReportEvent(SQLModel, table=True):
    """The audit log and the conversation: every state change, message and note, in order."""

    __tablename__ = "report_event"
    __table_args__ = {"sqlite_with_rowid": False}

    report_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("report.id", ondelete="CASCADE"),
                                               primary_key=True))
    seq: int = Field(primary_key=True)
    # supervisors' actions: exact; the reporter's: rounded down to the hour
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=16)  # reporter, supervisor, system
    supervisor_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    action: str = Field(max_length=16)
    status_from: str | None = Field(default=None, max_length=16)
    status_to: str | None = Field(default=None, max_length=16)
    visible_to_reporter: bool = True
    text_token: bytes | None = None


class ReportAttachment(SQLModel, table=True):
    """A file of a report: sanitised, encrypted, with its metadata encrypted too."""

    __tablename__ = "report_attachment"

    report_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("report.id", ondelete="CASCADE"),
                                               primary_key=True))
    seq: int = Field(primary_key=True)
    event_seq: int  # the event (submission or reply) that brought it
    meta_token: bytes  # encrypted JSON: {"kind", "mime", "extension", "size"}
    data_token: bytes


class ReportDraft(SQLModel, table=True):
    """A report being written, so that a restart loses nothing. No timestamp, no id in the clear."""

    __tablename__ = "report_draft"

    key: str = Field(primary_key=True, max_length=64)  # keyed hash of the chat id
    token: bytes  # encrypted JSON of the answers so far (and the day it was begun)


class ReportDraftFile(SQLModel, table=True):
    __tablename__ = "report_draft_file"

    draft_key: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("report_draft.key", ondelete="CASCADE"),
                                               primary_key=True))
    seq: int = Field(primary_key=True)
    meta_token: bytes
    data_token: bytes


class ReportCodeAttempt(SQLModel, table=True):
    """Wrong receipt codes per user and time bucket: under a keyed hash of both, gone after the window."""

    __tablename__ = "report_code_attempt"

    key: str = Field(primary_key=True, max_length=64)
    bucket: int = Field(sa_type=sa.BigInteger, index=True)
    count: int = 0


class ReportReceipt(SQLModel, table=True):
    """A receipt code the reporter has not yet confirmed saving: encrypted, under a keyed hash of the
    chat, for at most 24 hours (time rounded up to the hour), then erased."""

    __tablename__ = "report_receipt"

    key: str = Field(primary_key=True, max_length=64)
    code_token: bytes
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LookupSecret(SQLModel, table=True):
    """The secret of every keyed hash (receipt-code locators, chat and user keys), encrypted.

    One row. A keyed hash cannot be re-computed without what it hides, so its secret must outlive
    the encryption keys: `qingfeng keys rotate` re-encrypts this value and leaves it unchanged.
    """

    __tablename__ = "lookup_secret"

    id: int = Field(default=1, primary_key=True)
    secret_token: bytes
