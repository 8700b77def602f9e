"""Export of reports for supervisors: decrypted, and with nothing about who reported.

`load_records` reads every report (of a supervisor's categories, or all for the command line)
with its audit log, decrypted; `to_xlsx` and `to_csv` write them out. There is nothing about a
reporter to leave out: the tables hold no identifier of one. Texts people wrote are written as
text, never as formulas (a description starting with "=" stays a string in Excel).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from bot.i18n import N_, Translate, translator
from bot.reports.models import Report, ReportAttachment, ReportEvent
from bot.reports.service import ReportService
from bot.reports.states import ACTOR_LABELS, HISTORY_LABELS, REJECT_LABELS, STATUS_LABELS, Action

FORMATS = ("xlsx", "csv")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class EventRecord:
    seq: int
    at: datetime
    actor: str
    supervisor_id: int | None
    action: str
    status_from: str | None
    status_to: str | None
    visible_to_reporter: bool
    text: str | None
    kind: str | None


@dataclass
class ReportRecord:
    id: int
    category: str
    status: str
    submitted_at: datetime
    acknowledge_due: date
    answer_due: date
    closed_at: datetime | None
    unit: str
    when: str
    description: str
    attachments: int
    events: list[EventRecord] = field(default_factory=list)

    @property
    def acknowledged_at(self) -> datetime | None:
        return next((e.at for e in self.events if e.action == Action.ACKNOWLEDGE), None)

    @property
    def transferred_to(self) -> str | None:
        transfers = [e.text for e in self.events if e.action == Action.TRANSFER]
        return transfers[-1] if transfers else None

    @property
    def outcome(self) -> str | None:
        """The closing outcome, or the reason of a rejection; none once reopened (the audit log keeps
        the old one): a report being handled again has no outcome yet."""
        last = self._last_decision()
        return last.text if last is not None and last.action != Action.REOPEN else None

    @property
    def reject_kind(self) -> str | None:
        last = self._last_decision()
        return last.kind if last is not None and last.action == Action.REJECT else None

    def _last_decision(self) -> EventRecord | None:
        decisions = [e for e in self.events if e.action in (Action.CLOSE, Action.REJECT, Action.REOPEN)]
        return decisions[-1] if decisions else None


async def load_records(service: ReportService, *, categories: frozenset[str] | None = None) -> list[ReportRecord]:
    """Every report (of these categories; None: all), decrypted, with its events, oldest first."""
    crypto = service.crypto

    def opened(token: bytes) -> dict:
        return json.loads(crypto.decrypt(token))

    query = select(Report).order_by(Report.id)
    if categories is not None:
        query = query.where(Report.category.in_(sorted(categories)))
    async with service.database.session() as session:
        reports = (await session.exec(query)).scalars().all()
        ids = [report.id for report in reports]
        events: dict[int, list[EventRecord]] = defaultdict(list)
        files: dict[int, int] = {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for event in (await session.exec(select(ReportEvent).where(ReportEvent.report_id.in_(chunk))
                                             .order_by(ReportEvent.report_id, ReportEvent.seq))).scalars():
                payload = opened(event.text_token) if event.text_token else {}
                events[event.report_id].append(EventRecord(
                    seq=event.seq, at=event.at, actor=event.actor, supervisor_id=event.supervisor_id,
                    action=event.action, status_from=event.status_from, status_to=event.status_to,
                    visible_to_reporter=event.visible_to_reporter, text=payload.get("text"), kind=payload.get("kind")))
            files.update((await session.exec(
                select(ReportAttachment.report_id, func.count()).where(ReportAttachment.report_id.in_(chunk))
                .group_by(ReportAttachment.report_id))).all())
    records = []
    for report in reports:
        content = opened(report.content_token)
        records.append(ReportRecord(
            id=report.id, category=report.category, status=report.status, submitted_at=report.submitted_at,
            acknowledge_due=report.acknowledge_due, answer_due=report.answer_due, closed_at=report.closed_at,
            unit=content["unit"], when=content["when"], description=content["description"],
            attachments=files.get(report.id, 0), events=events.get(report.id, [])))
    return records


# ---- writing ----------------------------------------------------------------------------------

REPORT_COLUMNS = [
    N_("Report"), N_("Category"), N_("Status"), N_("Submitted (hour)"), N_("Acknowledge by"), N_("Answer by"),
    N_("Acknowledged"), N_("Closed"), N_("Unit or place"), N_("When it happened"), N_("Description"),
    N_("Transferred to"), N_("Outcome or reason"), N_("Attachments"),
]
EVENT_COLUMNS = [
    N_("Report"), N_("No."), N_("Time"), N_("Who"), N_("Supervisor id"), N_("Action"), N_("Status before"),
    N_("Status after"), N_("Shown to the reporter"), N_("Text"),
]


def _stamp(moment: datetime | None, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _label(_: Translate, labels: dict, value: str | None) -> str:
    """A status, action, actor or rejection kind in the export's language (as stored if unknown)."""
    if not value:
        return ""
    try:
        return _(labels[value])
    except KeyError:
        return value


def report_rows(records: list[ReportRecord], *, labels: dict[str, str], zone, _: Translate) -> list[list]:
    rows = []
    for r in records:
        outcome = r.outcome or ""
        if r.reject_kind:
            outcome = f"[{_label(_, REJECT_LABELS, r.reject_kind)}] {outcome}"
        rows.append([r.id, labels.get(r.category, r.category), _label(_, STATUS_LABELS, r.status),
                     _stamp(r.submitted_at, zone),
                     r.acknowledge_due.isoformat(), r.answer_due.isoformat(), _stamp(r.acknowledged_at, zone),
                     _stamp(r.closed_at, zone), r.unit, _(r.when), r.description, r.transferred_to or "", outcome,
                     r.attachments])
    return rows


def event_rows(records: list[ReportRecord], *, zone, _: Translate) -> list[list]:
    return [[r.id, e.seq, _stamp(e.at, zone), _label(_, ACTOR_LABELS, e.actor), e.supervisor_id or "",
             _label(_, HISTORY_LABELS, e.action), _label(_, STATUS_LABELS, e.status_from),
             _label(_, STATUS_LABELS, e.status_to), _("yes") if e.visible_to_reporter else _("no"),
             ((f"[{_label(_, REJECT_LABELS, e.kind)}] " if e.kind else "") + (e.text or ""))]
            for r in records for e in r.events]


def _safe(value):
    """A cell that a spreadsheet will never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(records: list[ReportRecord], *, labels: dict[str, str], zone, language: str = "zh") -> bytes:
    """One row per report, UTF-8 with a byte order mark so that Excel reads the Chinese right."""
    _ = translator(language)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(name) for name in REPORT_COLUMNS])
    for row in report_rows(records, labels=labels, zone=zone, _=_):
        writer.writerow([_safe(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(records: list[ReportRecord], *, labels: dict[str, str], zone, language: str = "zh") -> bytes:
    """A workbook: the reports on one sheet, their audit log (events) on another."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    _ = translator(language)
    workbook = Workbook()
    sheets = [(workbook.active, _("Reports"), REPORT_COLUMNS, report_rows(records, labels=labels, zone=zone, _=_)),
              (workbook.create_sheet(), _("Audit log"), EVENT_COLUMNS, event_rows(records, zone=zone, _=_))]
    for sheet, title, columns, rows in sheets:
        sheet.title = title
        sheet.append([_(name) for name in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_plain(value) for value in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        for index, _name in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            width = max((len(str(c.value or "")) for c in sheet[letter][:200]), default=8)
            sheet.column_dimensions[letter].width = min(60, max(8, width + 2))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _plain(value):
    # openpyxl refuses control characters other than tab and newlines in cells
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    return value


async def export(service: ReportService, *, format: str, language: str,
                 categories: frozenset[str] | None = None) -> tuple[bytes, int]:
    """The export file's bytes and the number of reports in it."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    records = await load_records(service, categories=categories)
    labels = service.category_labels(language)
    writer = to_xlsx if format == "xlsx" else to_csv
    return writer(records, labels=labels, zone=service.settings.zone, language=language), len(records)

