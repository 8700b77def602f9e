"""Anonymous reports: drafts, submission, receipt codes, the reporter's and the supervisors' side.

`ReportService` is created once by `Services.start`; each method is one unit of work (one
transaction) and takes `now` explicitly. Supervisors are checked on every action: is this
user a supervisor, and is the report's category in their scope? A button press proves nothing.

Nothing here receives or stores who a reporter is. The draft is kept under a keyed hash of the
chat id; the wrong-code counter under a keyed hash of the user id and a time bucket. Neither
survives its purpose: the draft is erased on submission, the counter after its window.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.crypto import Crypto
from bot import outbox, throttle
from bot.db import Database
from bot.reports import codes
from bot.reports.files import CleanFile, FileRefused
from bot.workdays import WorkCalendar, calendar_from
from bot.reports.models import (Report, ReportAttachment, ReportCodeAttempt, ReportDraft, ReportDraftFile,
                                ReportReceipt,
                                ReportEvent)
from bot.reports.states import (ACTIVE, FINISHED, INTERNAL_ACTIONS, REJECT_KINDS, SUPERVISOR_ACTIONS, TEXT_ACTIONS,
                                Action, Status, allowed_actions, next_status, refusal)

DRAFT_TTL_DAYS = 30  # an abandoned draft is erased after this
RECEIPT_KEPT = timedelta(hours=24)  # an unconfirmed receipt code is erased after this
REPORT_KINDS = ("report_new", "report_reply", "report_dispute", "report_deadline")  # outbox rows about a report (slot: "<id>:…")
UNIT_MAX_CHARS = 200
WHEN_MAX_CHARS = 200
PAGE_SIZE = 8
REPORT_FILES_FACTOR = 10  # a report may gather this many times max_attachments over its life
FILTERS = {
    "active": ACTIVE,
    "new": {Status.NEW},
    "open": {Status.OPEN},
    "waiting": {Status.WAITING},
    "closed": {Status.CLOSED},
    "rejected": {Status.REJECTED},
    "all": set(Status),
}
SEARCH_RESULTS = 20  # a text or unit search lists at most this many, newest first, without pages


class Refused(Exception):
    """An action that is not allowed; `reason` is a code the handlers turn into a sentence."""

    def __init__(self, reason: str, status: Status | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class NoDraft(Exception):
    """There is no draft in this chat (never begun, submitted, cancelled or expired)."""


class Throttled(Exception):
    """Too many for now (reports from one chat, wrong codes across the bot); possible again at `until`."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


class IncompleteDraft(Exception):
    def __init__(self, missing: str):
        super().__init__(missing)
        self.missing = missing


# ---- values handed to the handlers ----------------------------------------------------------

@dataclass
class Draft:
    category: str | None = None
    unit: str | None = None
    when: str | None = None
    description: str | None = None
    editing: bool = False  # changing one answer from the review: go back to the review after it
    begun: str = ""  # ISO date, only inside the encrypted token, for expiring abandoned drafts
    files: int = 0  # attachments so far (counted, not stored in the token)
    first: int | None = None  # the intake's first message in the chat, so a resumed draft erases it all

    STEPS = ("category", "unit", "when", "description")

    def missing(self) -> str | None:
        return next((step for step in self.STEPS if not getattr(self, step)), None)

    def payload(self) -> dict:
        data = asdict(self)
        data.pop("files")
        return data


@dataclass(frozen=True)
class Receipt:
    code: str  # grouped for reading; shown once, never stored
    report_id: int
    acknowledge_due: date | None = None  # when the reporter should check back


@dataclass(frozen=True)
class KeptCode:
    """A receipt code not yet confirmed saved, with the day its report should be acknowledged by."""
    code: str
    acknowledge_due: date


@dataclass(frozen=True)
class CodeCheck:
    outcome: str  # "found", "not_found", "bad_format", "locked" (this account), "busy" (the whole bot)
    report_id: int | None = None
    attempts_left: int = 0
    wait_minutes: int = 0
    until: datetime | None = None  # "busy": when codes may be tried again


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    actor: str
    action: Action
    status_to: Status | None
    text: str | None = None
    kind: str | None = None
    supervisor_id: int | None = None
    visible_to_reporter: bool = True
    by_name: str | None = None  # the supervisor's Telegram name when they acted (never shown to the reporter)


@dataclass(frozen=True)
class ReporterView:
    category: str
    status: Status
    submitted_on: date
    history: list[HistoryItem]
    files: int
    can_reply: bool
    disputing: bool = False  # finished: the reporter's one reply is a dispute of the outcome
    unit: str = ""
    when: str = ""
    description: str = ""
    file_list: list[dict] = field(default_factory=list)  # each file's kind, extension and caption


@dataclass(frozen=True)
class InboxItem:
    id: int
    category: str
    status: Status
    submitted_on: date
    unit: str
    overdue: bool
    disputed: bool = False  # finished, and the reporter disputes the outcome


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class Card:
    id: int
    category: str
    status: Status
    submitted_at: datetime
    acknowledge_due: date
    answer_due: date
    unit: str
    when: str
    description: str
    transferred_to: str | None
    history: list[HistoryItem]
    files: list[dict]
    allowed: list[Action]


@dataclass(frozen=True)
class StoredFile:
    seq: int
    kind: str
    mime: str
    extension: str
    data: bytes
    caption: str = ""  # the reporter's caption, if they wrote one


@dataclass
class PurgeResult:
    reports: int = 0
    drafts: int = 0
    attempts: int = 0


@dataclass
class ReportService:
    settings: Settings
    database: Database
    crypto: Crypto
    _dummy_hash: str | None = field(default=None, repr=False)
    _calendar: WorkCalendar | None = field(default=None, repr=False)

    @property
    def calendar(self) -> WorkCalendar:
        """Working days (config `calendar`): report deadlines are counted in them."""
        if self._calendar is None:
            self._calendar = calendar_from(self.settings)
        return self._calendar

    # ---- sealing ----------------------------------------------------------------------------
    def _seal(self, value: object) -> bytes:
        return self.crypto.encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def _open(self, token: bytes) -> dict:
        return json.loads(self.crypto.decrypt(token))

    def _draft_key(self, chat_id: int) -> str:
        return self.crypto.keyed_hash("report-draft", chat_id)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.settings.zone).date()

    def category_ids(self) -> list[str]:
        return [category.id for category in self.settings.reports.categories]

    def category_labels(self, language: str) -> dict[str, str]:
        """Each category's label in `language`, in the configured order."""
        return {c.id: getattr(c.label, language, c.label.zh) for c in self.settings.reports.categories}

    def category_label(self, category_id: str, language: str) -> str:
        return self.category_labels(language).get(category_id, category_id)

    # ---- limits the handlers check before saving -------------------------------------------
    def description_problem(self, text: str) -> str | None:
        """"short" or "long" when a description (or a reply) is outside the configured limits."""
        length = len((text or "").strip())
        limits = self.settings.reports
        if length < limits.description_min_chars:
            return "short"
        if length > limits.description_max_chars:
            return "long"
        return None

    # ---- drafts -----------------------------------------------------------------------------
    async def draft(self, *, chat_id: int) -> Draft | None:
        key = self._draft_key(chat_id)
        async with self.database.session() as session:
            row = await session.get(ReportDraft, key)
            if row is None:
                return None
            count = await _count(session, select(func.count()).select_from(ReportDraftFile)
                                 .where(ReportDraftFile.draft_key == key))
        return Draft(**self._open(row.token), files=count)

    async def draft_files(self, *, chat_id: int) -> list[dict]:
        """What the review lists of each file added so far: its kind, type and caption (no data)."""
        key = self._draft_key(chat_id)
        async with self.database.session() as session:
            tokens = (await session.exec(select(ReportDraftFile.meta_token).where(ReportDraftFile.draft_key == key)
                                         .order_by(ReportDraftFile.seq))).scalars().all()
        return [self._open(token) for token in tokens]

    async def save_draft(self, *, chat_id: int, draft: Draft, now: datetime) -> Draft:
        if draft.category is not None and draft.category not in self.category_ids():
            raise ValueError("unknown category")
        draft.begun = draft.begun or self._local_day(now).isoformat()
        key = self._draft_key(chat_id)
        async with self.database.transaction() as session:
            row = await session.get(ReportDraft, key)
            if row is None:
                session.add(ReportDraft(key=key, token=self._seal(draft.payload())))
            else:
                row.token = self._seal(draft.payload())
        return draft

    async def add_draft_file(self, *, chat_id: int, file: CleanFile) -> int:
        """Attach a sanitised file to the draft; the number of files now. FileRefused("count") at the limit."""
        key = self._draft_key(chat_id)
        async with self.database.transaction() as session:
            if await session.get(ReportDraft, key) is None:
                raise NoDraft()
            seqs = list((await session.exec(select(ReportDraftFile.seq).where(ReportDraftFile.draft_key == key))).scalars())
            if len(seqs) >= self.settings.reports.max_attachments:
                raise FileRefused("count")
            session.add(ReportDraftFile(draft_key=key, seq=max(seqs, default=0) + 1,
                                        meta_token=self._seal(file.meta()), data_token=self.crypto.encrypt(file.data)))
        return len(seqs) + 1

    async def erase_draft(self, *, chat_id: int) -> None:
        key = self._draft_key(chat_id)
        async with self.database.transaction() as session:
            await _erase_draft(session, key)

    async def clear_draft_files(self, *, chat_id: int) -> None:
        """Remove the files attached to the draft so far (the answers stay)."""
        key = self._draft_key(chat_id)
        async with self.database.transaction() as session:
            await session.exec(delete(ReportDraftFile).where(ReportDraftFile.draft_key == key))

    # ---- submission -------------------------------------------------------------------------
    async def submit(self, *, chat_id: int, now: datetime) -> Receipt:
        """The draft becomes a report, in one transaction; the draft is erased with it.

        On any failure nothing is written and the draft stays, so the reporter can retry.
        """
        code = codes.new_code()
        code_hash = await codes.hash_code(code)
        key = self._draft_key(chat_id)
        submitted_at = _hour(now)
        day = self._local_day(now)
        limits = self.settings.reports
        async with self.database.transaction() as session:
            row = await session.get(ReportDraft, key)
            if row is None:
                raise NoDraft()
            draft = Draft(**self._open(row.token))
            if draft.missing():
                raise IncompleteDraft(draft.missing())
            sent, until = await throttle.used(session, self._submissions_key(chat_id), now=now)
            if sent >= limits.submissions_per_window:
                raise Throttled(until)
            await throttle.count(session, self._submissions_key(chat_id), now=now, until=throttle.window_end(
                now, timedelta(minutes=limits.submission_window_minutes)))
            report = Report(
                locator=codes.locator(self.crypto, code), code_hash=code_hash, category=draft.category,
                status=Status.NEW, submitted_at=submitted_at,
                # Working days, as in the 2020 rules (检举控告工作规则): holidays and 调休 counted.
                acknowledge_due=self.calendar.add_working_days(day, limits.acknowledge_within_days),
                answer_due=self.calendar.add_working_days(day, limits.answer_within_days),
                content_token=self._seal({"unit": draft.unit, "when": draft.when, "description": draft.description}),
            )
            session.add(report)
            await session.flush()
            session.add(ReportEvent(report_id=report.id, seq=1, at=submitted_at, actor="reporter",
                                    action=Action.SUBMIT, status_to=Status.NEW))
            files = (await session.exec(select(ReportDraftFile).where(ReportDraftFile.draft_key == key)
                                        .order_by(ReportDraftFile.seq))).scalars().all()
            for seq, file in enumerate(files, start=1):
                session.add(ReportAttachment(report_id=report.id, seq=seq, event_seq=1,
                                             meta_token=file.meta_token, data_token=file.data_token))
            await _erase_draft(session, key)
            # The code waits, encrypted, until the reporter confirms they saved it (24 h at most),
            # and the supervisors' notices go out through the outbox: both with the report, or neither.
            formatted = codes.format_code(code)
            kept = [formatted, report.acknowledge_due.isoformat()]
            receipt = await session.get(ReportReceipt, self._receipt_key(chat_id))
            if receipt is None:
                session.add(ReportReceipt(key=self._receipt_key(chat_id), code_token=self._seal([kept]),
                                          expires_at=submitted_at + RECEIPT_KEPT))
            else:  # an earlier code not yet confirmed stays with this one
                receipt.code_token = self._seal([*self._open_list(receipt.code_token), kept])
                receipt.expires_at = submitted_at + RECEIPT_KEPT
            await self._notify(session, report, "report_new", 1, submitted_at)
        return Receipt(code=formatted, report_id=report.id, acknowledge_due=report.acknowledge_due)

    def _submissions_key(self, chat_id: int) -> str:
        return self.crypto.keyed_hash("report-submissions", chat_id)

    async def submission_wait(self, *, chat_id: int, now: datetime) -> datetime | None:
        """When this chat may send a report again, or None if it may now."""
        async with self.database.session() as session:
            sent, until = await throttle.used(session, self._submissions_key(chat_id), now=now)
        return until if sent >= self.settings.reports.submissions_per_window else None

    def _receipt_key(self, chat_id: int) -> str:
        return self.crypto.keyed_hash("report-receipt", chat_id)

    async def unsaved_receipt(self, *, chat_id: int, now: datetime) -> list[KeptCode]:
        """The receipt codes this chat has not confirmed saving yet (erased once 24 hours have passed)."""
        async with self.database.transaction() as session:
            row = await session.get(ReportReceipt, self._receipt_key(chat_id))
            if row is None:
                return []
            if row.expires_at <= now:
                await session.delete(row)
                return []
            entries = self._open_list(row.code_token)
        # A code kept before due dates were kept with it (at most a day old): its due date from today.
        fallback = self.calendar.add_working_days(self._local_day(now), self.settings.reports.acknowledge_within_days)
        return [KeptCode(entry, fallback) if isinstance(entry, str) else KeptCode(entry[0], date.fromisoformat(entry[1]))
                for entry in entries]

    def _open_list(self, token: bytes) -> list[str]:
        return json.loads(self.crypto.decrypt(token))

    async def confirm_receipt(self, *, chat_id: int) -> bool:
        """The reporter has saved the code: it is erased. False if there was none."""
        async with self.database.transaction() as session:
            row = await session.get(ReportReceipt, self._receipt_key(chat_id))
            if row is None:
                return False
            await session.delete(row)
        await self.database.checkpoint()
        return True

    async def _notify(self, session: AsyncSession, report: Report, kind: str, seq: int, at: datetime) -> None:
        """Tell the report's supervisors, through the outbox (category and unit only, rendered when sent).
        Times are the report's hour, like the report's own: a notice must not date it more exactly."""
        connection = await session.connection()
        await outbox.enqueue(connection, [
            outbox.message_row(kind, f"{report.id}:{seq}:{supervisor}", supervisor, at,
                               payload={"report_id": report.id})
            for supervisor in self.supervisors_for(report.category)])

    # ---- the reporter's side: the code, the view, replies -----------------------------------
    async def open_by_code(self, *, user_id: int, text: str, now: datetime) -> CodeCheck:
        """Find a report by its receipt code, with guessing throttled per user (under a keyed hash) and,
        so that many accounts cannot share the guessing, per day for the whole bot."""
        limits = self.settings.reports
        bot_key = self.crypto.keyed_hash("report-code-guesses", "bot")
        async with self.database.session() as session:
            guessed, until = await throttle.used(session, bot_key, now=now)
        if guessed >= limits.code_attempts_per_day:
            return CodeCheck("busy", until=until)
        window = limits.code_window_minutes * 60
        bucket = int(now.timestamp()) // window
        current_key = self.crypto.keyed_hash("report-code-attempts", user_id, bucket)
        previous_key = self.crypto.keyed_hash("report-code-attempts", user_id, bucket - 1)
        async with self.database.session() as session:
            rows = {row.key: row.count for row in (await session.exec(
                select(ReportCodeAttempt).where(ReportCodeAttempt.key.in_([current_key, previous_key])))).scalars()}
        current, previous = rows.get(current_key, 0), rows.get(previous_key, 0)
        if current + previous >= limits.code_attempts:
            ends = (bucket + (2 if current >= limits.code_attempts else 1)) * window
            return CodeCheck("locked", wait_minutes=max(1, math.ceil((ends - now.timestamp()) / 60)))
        code = codes.normalise(text)
        if code is None:
            return CodeCheck("bad_format", attempts_left=limits.code_attempts - current - previous)
        async with self.database.session() as session:
            candidates = (await session.exec(select(Report.id, Report.code_hash)
                                             .where(Report.locator == codes.locator(self.crypto, code)))).all()
        for report_id, code_hash in candidates:
            if await codes.verify_code(code_hash, code):
                return CodeCheck("found", report_id=report_id)
        if not candidates:  # the same work either way: the answer's timing tells nothing
            await codes.verify_code(await self._dummy(), code)
        async with self.database.transaction() as session:
            await session.exec(delete(ReportCodeAttempt).where(ReportCodeAttempt.bucket < bucket - 1))
            row = await session.get(ReportCodeAttempt, current_key)
            if row is None:
                session.add(ReportCodeAttempt(key=current_key, bucket=bucket, count=1))
            else:
                row.count += 1
            await throttle.count(session, bot_key, now=now, until=self._next_midnight(now))
        return CodeCheck("not_found", attempts_left=max(0, limits.code_attempts - current - previous - 1))

    def _next_midnight(self, now: datetime) -> datetime:
        """The start of the next local day."""
        tomorrow = self._local_day(now) + timedelta(days=1)
        return datetime.combine(tomorrow, datetime.min.time(), self.settings.zone).astimezone(timezone.utc)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await codes.hash_code(codes.new_code())
        return self._dummy_hash

    async def reporter_view(self, *, report_id: int) -> ReporterView:
        async with self.database.session() as session:
            report = await _report(session, report_id)
            events = await self._history(session, report_id, reporter=True)
            metas = [self._open(token) for token in (await session.exec(
                select(ReportAttachment.meta_token).where(ReportAttachment.report_id == report_id)
                .order_by(ReportAttachment.seq))).scalars()]
        status = Status(report.status)
        disputing = status in FINISHED and not _disputed(events)
        content = self._open(report.content_token)
        return ReporterView(category=report.category, status=status, submitted_on=self._local_day(report.submitted_at),
                            history=events, files=len(metas), can_reply=status not in FINISHED or disputing,
                            disputing=disputing, unit=content["unit"], when=content["when"],
                            description=content["description"], file_list=metas)

    def checked_reply(self, text: str) -> str:
        """The reporter's message as it would be sent; Refused("text_required" | "text_too_long")."""
        text = (text or "").strip()
        if not text:
            raise Refused("text_required")
        if len(text) > self.settings.reports.description_max_chars:
            raise Refused("text_too_long")
        return text

    async def reporter_reply(self, *, report_id: int, text: str, now: datetime) -> Status:
        """A message from the reporter to the supervisors; answers a question if one was asked."""
        text = self.checked_reply(text)
        async with self.database.transaction() as session:
            report = await _report(session, report_id)
            action, kind = Action.REPLY, "report_reply"
            if Status(report.status) in FINISHED:  # one reply after the outcome: a dispute
                if _disputed(await self._history(session, report_id, reporter=True)):
                    raise Refused("finished", Status(report.status))
                action, kind = Action.DISPUTE, "report_dispute"
            status = await self._record(session, report, action, actor="reporter", at=_hour(now),
                                        text={"text": text})
            await self._notify(session, report, kind, await _last_seq(session, report_id), _hour(now))
        return status

    async def reporter_attach(self, *, report_id: int, file: CleanFile, now: datetime) -> int:
        """A file added after submission; the number of files of the report now."""
        async with self.database.transaction() as session:
            report = await _report(session, report_id)
            seqs = list((await session.exec(select(ReportAttachment.seq)
                                            .where(ReportAttachment.report_id == report_id))).scalars())
            # Files are limited per sending (the handler counts them); this only bounds the report's size.
            if len(seqs) >= self.settings.reports.max_attachments * REPORT_FILES_FACTOR:
                raise FileRefused("count")
            await self._record(session, report, Action.ATTACH, actor="reporter", at=_hour(now))
            event_seq = await _last_seq(session, report_id)
            session.add(ReportAttachment(report_id=report_id, seq=max(seqs, default=0) + 1, event_seq=event_seq,
                                         meta_token=self._seal(file.meta()), data_token=self.crypto.encrypt(file.data)))
            await self._notify(session, report, "report_reply", event_seq, _hour(now))
        return len(seqs) + 1

    # ---- the supervisors' side --------------------------------------------------------------
    def scope(self, user_id: int | None) -> frozenset[str] | None:
        """The categories a supervisor may see (None: all). Refused("not_supervisor") for anyone else."""
        entries = [entry for entry in self.settings.access.supervisors if entry.id == user_id]
        if user_id is None or not entries:
            raise Refused("not_supervisor")
        if any(not entry.categories for entry in entries):
            return None
        return frozenset(category for entry in entries for category in entry.categories)

    def supervisors_for(self, category: str) -> list[int]:
        return sorted({entry.id for entry in self.settings.access.supervisors
                       if not entry.categories or category in entry.categories})

    async def supervisor_attach(self, *, supervisor_id: int, report_id: int, file: CleanFile, now: datetime,
                                by_name: str | None = None) -> Status:
        """A supervisor's file for the reporter (cleaned like the reporter's), shown to them in /status."""
        async with self.database.transaction() as session:
            report = await self._report_in_scope(session, supervisor_id, report_id)
            seqs = list((await session.exec(select(ReportAttachment.seq)
                                            .where(ReportAttachment.report_id == report_id))).scalars())
            status = await self._record(session, report, Action.SEND_FILE, actor="supervisor", at=now,
                                        supervisor_id=supervisor_id, text=_named(None, by_name))
            session.add(ReportAttachment(report_id=report_id, seq=max(seqs, default=0) + 1,
                                         event_seq=await _last_seq(session, report_id),
                                         meta_token=self._seal({**file.meta(), "from": "supervisor"}),
                                         data_token=self.crypto.encrypt(file.data)))
        return status

    async def files_for_reporter(self, *, report_id: int) -> list[StoredFile]:
        """The files the supervisors sent to the reporter of this report (the reporter has its code)."""
        async with self.database.session() as session:
            await _report(session, report_id)
            rows = (await session.exec(select(ReportAttachment).where(ReportAttachment.report_id == report_id)
                                       .order_by(ReportAttachment.seq))).scalars().all()
        result = []
        for row in rows:
            meta = self._open(row.meta_token)
            if meta.get("from") == "supervisor":
                result.append(StoredFile(seq=row.seq, kind=meta["kind"], mime=meta["mime"],
                                         extension=meta["extension"], data=self.crypto.decrypt(row.data_token),
                                         caption=meta.get("caption", "")))
        return result

    async def _report_in_scope(self, session: AsyncSession, supervisor_id: int, report_id: int) -> Report:
        scope = self.scope(supervisor_id)
        report = await session.get(Report, report_id)
        if report is None:
            raise Refused("not_found")
        if scope is not None and report.category not in scope:
            raise Refused("out_of_scope")
        return report

    async def inbox(self, *, supervisor_id: int, filter: str = "active", page: int = 0, now: datetime,
                    category: str | None = None, unit: str | None = None, text: str | None = None) -> InboxPage:
        """A page of the supervisor's reports by status and category; a unit or text search (over the
        decrypted unit, place, time and description, in memory: never an index on disk) lists the
        newest SEARCH_RESULTS matches in one page."""
        scope = self.scope(supervisor_id)
        statuses = FILTERS.get(filter)
        if statuses is None or (category is not None and category not in self.category_ids()):
            raise Refused("bad_filter")
        listed = Report.status.in_([str(s) for s in statuses])
        if filter == "active":  # a finished report the reporter disputes waits for a supervisor too
            listed = sa.or_(listed, _disputed_now())
        query = select(Report).where(listed)
        if scope is not None:
            query = query.where(Report.category.in_(sorted(scope)))
        if category is not None:
            query = query.where(Report.category == category)
        today = self._local_day(now)
        async with self.database.session() as session:
            if unit or text:
                return await self._search(session, query.order_by(Report.id.desc()), unit, text, today)
            total = await _count(session, select(func.count()).select_from(query.subquery()))
            pages = max(1, math.ceil(total / PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            rows = (await session.exec(query.order_by(Report.id.desc()).offset(page * PAGE_SIZE).limit(PAGE_SIZE))).scalars().all()
            disputed = await self._disputed_among(session, rows)
        items = [self._inbox_item(row, self._open(row.content_token), today, row.id in disputed) for row in rows]
        return InboxPage(items=items, page=page, pages=pages, total=total)

    async def _disputed_among(self, session: AsyncSession, rows: list[Report]) -> set[int]:
        """The ids of these reports that are finished and disputed by the reporter."""
        finished = [row.id for row in rows if Status(row.status) in FINISHED]
        if not finished:
            return set()
        return set((await session.exec(select(Report.id).where(Report.id.in_(finished), _disputed_now()))).scalars())

    async def _search(self, session: AsyncSession, query, unit: str | None, text: str | None,
                      today: date) -> InboxPage:
        unit, text = (unit or "").casefold().strip(), (text or "").casefold().strip()
        found, total = [], 0
        for row in (await session.exec(query)).scalars():
            content = self._open(row.content_token)
            if unit and unit not in content["unit"].casefold():
                continue
            if text and text not in " ".join((content["unit"], content["when"], content["description"])).casefold():
                continue
            total += 1
            if len(found) < SEARCH_RESULTS:
                found.append((row, content))
        disputed = await self._disputed_among(session, [row for row, _ in found])
        return InboxPage(items=[self._inbox_item(row, content, today, row.id in disputed) for row, content in found],
                         page=0, pages=1, total=total)

    def _inbox_item(self, row: Report, content: dict, today: date, disputed: bool) -> InboxItem:
        return InboxItem(id=row.id, category=row.category, status=Status(row.status),
                         submitted_on=self._local_day(row.submitted_at), unit=content["unit"],
                         overdue=_overdue(row, today), disputed=disputed)

    async def card(self, *, supervisor_id: int, report_id: int) -> Card:
        async with self.database.session() as session:
            report = await self._report_in_scope(session, supervisor_id, report_id)
            history = await self._history(session, report_id, reporter=False)
            metas = [self._open(token) for token in (await session.exec(
                select(ReportAttachment.meta_token).where(ReportAttachment.report_id == report_id)
                .order_by(ReportAttachment.seq))).scalars()]
        content = self._open(report.content_token)
        transfers = [item.text for item in history if item.action is Action.TRANSFER]
        status = Status(report.status)
        return Card(id=report.id, category=report.category, status=status, submitted_at=report.submitted_at,
                    acknowledge_due=report.acknowledge_due, answer_due=report.answer_due, unit=content["unit"],
                    when=content["when"], description=content["description"],
                    transferred_to=transfers[-1] if transfers else None, history=history, files=metas,
                    allowed=allowed_actions(status))

    async def files(self, *, supervisor_id: int, report_id: int) -> list[StoredFile]:
        async with self.database.session() as session:
            await self._report_in_scope(session, supervisor_id, report_id)
            rows = (await session.exec(select(ReportAttachment).where(ReportAttachment.report_id == report_id)
                                       .order_by(ReportAttachment.seq))).scalars().all()
        result = []
        for row in rows:
            meta = self._open(row.meta_token)
            result.append(StoredFile(seq=row.seq, kind=meta["kind"], mime=meta["mime"], extension=meta["extension"],
                                     data=self.crypto.decrypt(row.data_token), caption=meta.get("caption", "")))
        return result

    async def check_action(self, *, supervisor_id: int, report_id: int, action: Action) -> Status:
        """Before asking a supervisor for a text: may they do this, now? Returns the current status."""
        async with self.database.session() as session:
            report = await self._report_in_scope(session, supervisor_id, report_id)
        status = Status(report.status)
        if action not in SUPERVISOR_ACTIONS:
            raise Refused("bad_action")
        if next_status(action, status) is None:
            raise Refused(refusal(action, status), status)
        return status

    async def act(self, *, supervisor_id: int, report_id: int, action: Action, now: datetime,
                  text: str | None = None, kind: str | None = None, by_name: str | None = None) -> Status:
        """A supervisor's action, checked (supervisor, scope, state, text) and written to the audit log."""
        if action not in SUPERVISOR_ACTIONS or action is Action.SEND_FILE:  # a file goes by supervisor_attach
            raise Refused("bad_action")
        payload = None
        if action in TEXT_ACTIONS:
            text = (text or "").strip()
            if not text:
                raise Refused("text_required")
            if len(text) > self.settings.reports.description_max_chars:
                raise Refused("text_too_long")
            payload = {"text": text}
            if action is Action.REJECT:
                if kind not in REJECT_KINDS:
                    raise Refused("reject_kind")
                payload["kind"] = kind
        async with self.database.transaction() as session:
            report = await self._report_in_scope(session, supervisor_id, report_id)
            status = await self._record(session, report, action, actor="supervisor", at=now,
                                        supervisor_id=supervisor_id, text=_named(payload, by_name))
            if status in FINISHED:
                report.closed_at = now
            elif action is Action.REOPEN:
                report.closed_at = None  # no longer counted closed, nor purged after the retention period
        return status

    async def _record(self, session: AsyncSession, report: Report, action: Action, *, actor: str, at: datetime,
                      supervisor_id: int | None = None, text: dict | None = None) -> Status:
        """Apply an action to a report through the state machine and log it as an event."""
        before = Status(report.status)
        after = next_status(action, before)
        if after is None:
            raise Refused(refusal(action, before), before)
        session.add(ReportEvent(
            report_id=report.id, seq=await _last_seq(session, report.id) + 1, at=at, actor=actor,
            supervisor_id=supervisor_id, action=action, status_from=before,
            status_to=after if after != before else None, visible_to_reporter=action not in INTERNAL_ACTIONS,
            text_token=self._seal(text) if text else None,
        ))
        report.status = after
        await session.flush()
        return after

    async def _history(self, session: AsyncSession, report_id: int, *, reporter: bool) -> list[HistoryItem]:
        query = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.seq)
        if reporter:
            query = query.where(ReportEvent.visible_to_reporter.is_(True))
        items = []
        for event in (await session.exec(query)).scalars():
            payload = self._open(event.text_token) if event.text_token else {}
            items.append(HistoryItem(
                at=event.at, actor=event.actor, action=Action(event.action),
                status_to=Status(event.status_to) if event.status_to else None, text=payload.get("text"),
                kind=payload.get("kind"), supervisor_id=None if reporter else event.supervisor_id,
                visible_to_reporter=event.visible_to_reporter, by_name=None if reporter else payload.get("by"),
            ))
        return items

    # ---- deadlines --------------------------------------------------------------------------
    async def open_deadlines(self) -> list[tuple[int, str, str, date]]:
        """(report id, category, "acknowledge" or "answer", due date) of every deadline still running."""
        async with self.database.session() as session:
            rows = (await session.exec(select(Report.id, Report.category, Report.status, Report.acknowledge_due,
                                              Report.answer_due).where(Report.status.in_([str(s) for s in ACTIVE]))
                                       .order_by(Report.id))).all()
        result = []
        for report_id, category, status, acknowledge_due, answer_due in rows:
            if status == Status.NEW:
                result.append((report_id, category, "acknowledge", acknowledge_due))
            result.append((report_id, category, "answer", answer_due))
        return result

    # ---- retention --------------------------------------------------------------------------
    async def purge(self, *, now: datetime) -> PurgeResult:
        """Delete closed reports (with their files and events) after the retention period, stale
        drafts and expired code counters. Returns counts only."""
        result = PurgeResult()
        cutoff = now - timedelta(days=self.settings.reports.retention_days)
        async with self.database.transaction() as session:
            ids = list((await session.exec(select(Report.id).where(Report.status.in_([str(s) for s in FINISHED]))
                                           .where(Report.closed_at < cutoff))).scalars())
            for chunk in _chunks(ids, 500):
                await session.exec(delete(ReportAttachment).where(ReportAttachment.report_id.in_(chunk)))
                await session.exec(delete(ReportEvent).where(ReportEvent.report_id.in_(chunk)))
                await session.exec(delete(Report).where(Report.id.in_(chunk)))
                await session.exec(delete(outbox.OutboxMessage).where(
                    outbox.OutboxMessage.kind.in_(REPORT_KINDS),
                    sa.or_(*(outbox.OutboxMessage.slot.startswith(f"{report_id}:") for report_id in chunk))))
            result.reports = len(ids)
            stale = (self._local_day(now) - timedelta(days=DRAFT_TTL_DAYS)).isoformat()
            for row in (await session.exec(select(ReportDraft))).scalars().all():
                if (self._open(row.token).get("begun") or "") < stale:
                    await _erase_draft(session, row.key)
                    result.drafts += 1
            bucket = int(now.timestamp()) // (self.settings.reports.code_window_minutes * 60)
            result.attempts = (await session.exec(delete(ReportCodeAttempt)
                                                  .where(ReportCodeAttempt.bucket < bucket - 1))).rowcount or 0
            await session.exec(delete(ReportReceipt).where(ReportReceipt.expires_at <= now))
            await throttle.purge(session, now=now)
        return result


# ---- helpers ----------------------------------------------------------------------------------

def _hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware `now`")
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _named(payload: dict | None, by_name: str | None) -> dict | None:
    """An event's encrypted payload with the acting supervisor's name, as the ledger keeps it (the
    reporter never reads it)."""
    return {**(payload or {}), "by": by_name} if by_name else payload


def _disputed_now():
    """SQL: the report's latest outcome (close, reject, reopen) is followed by the reporter's dispute."""
    outcome, dispute = aliased(ReportEvent), aliased(ReportEvent)
    decided = (select(sa.func.max(outcome.seq))
               .where(outcome.report_id == Report.id,
                      outcome.action.in_([str(Action.CLOSE), str(Action.REJECT), str(Action.REOPEN)]))
               .scalar_subquery())
    return sa.exists().where(dispute.report_id == Report.id, dispute.action == str(Action.DISPUTE),
                             dispute.seq > sa.func.coalesce(decided, 0))


def _disputed(history: list[HistoryItem]) -> bool:
    """Has the reporter disputed the latest outcome already (once per outcome)?"""
    for item in reversed(history):
        if item.action is Action.DISPUTE:
            return True
        if item.action in (Action.CLOSE, Action.REJECT, Action.REOPEN):
            return False
    return False


def _overdue(report: Report, today: date) -> bool:
    if Status(report.status) in FINISHED:
        return False
    return report.answer_due < today or (report.status == Status.NEW and report.acknowledge_due < today)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def _count(session: AsyncSession, query) -> int:
    return int((await session.exec(query)).scalar_one())


async def _report(session: AsyncSession, report_id: int) -> Report:
    report = await session.get(Report, report_id)
    if report is None:
        raise Refused("not_found")
    return report


async def _last_seq(session: AsyncSession, report_id: int) -> int:
    return int((await session.exec(select(func.coalesce(func.max(ReportEvent.seq), 0))
                                   .where(ReportEvent.report_id == report_id))).scalar_one())


async def _erase_draft(session: AsyncSession, key: str) -> None:
    await session.exec(delete(ReportDraftFile).where(ReportDraftFile.draft_key == key))
    await session.exec(delete(ReportDraft).where(ReportDraft.key == key))
