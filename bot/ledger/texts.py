"""How ledger items read, in any language: the one place for an item's line, card and buttons.

Used by the chat handlers and by the outbox renderers (closure requests, decisions), so that an
item looks the same whether a person opened it or was sent it. Buttons are (label, callback
data) rows; the handlers turn them into keyboards.
"""

from __future__ import annotations

import html

from bot.i18n import N_, Translate
from bot.ledger.models import ACTIVE_STATUSES, ItemStatus
from bot.ledger.service import ItemView, ProgressView, allowed

Buttons = list[list[tuple[str, str]]]

STATUS_LABELS = {
    ItemStatus.OPEN.value: N_("not started"),
    ItemStatus.IN_PROGRESS.value: N_("in progress"),
    ItemStatus.CLOSURE_REQUESTED.value: N_("closure requested"),
    ItemStatus.CLOSED.value: N_("closed after review"),
    ItemStatus.CLOSED_DIRECTLY.value: N_("closed directly"),
}
REVIEW_ACTIONS = {"approved": N_("closing approved"), "sent_back": N_("sent back"),
                  "closed_directly": N_("closed directly"), "first_approved": N_("first approval")}
SEVERITY_LABELS = {"low": N_("minor"), "normal": N_("normal"), "high": N_("serious")}
BUTTON_TEXT_LIMIT = 40


def short(text: str, limit: int = BUTTON_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_label(_: Translate, status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def deadline_value(value: str, _: Translate) -> str:
    """A deadline as the history keeps it ("2026-12-31", "2026-12-08 (immediate)", "standing")."""
    if value in ("", "standing"):
        return _("standing, no final deadline")
    day, immediate = value.removesuffix(" (immediate)"), value.endswith(" (immediate)")
    return day + (" (" + _("immediate") + ")" if immediate else "")


def item_line(item: ItemView, _: Translate) -> str:
    due = _("overdue by {days} calendar days", days=-item.days_left) if item.overdue else \
        _("standing, no final deadline") if item.deadline is None else _("due {date}", date=item.deadline.isoformat())
    return (f"[{html.escape(item.label)}] {html.escape(short(item.problem, 60))} — "
            f"{status_label(_, item.status)}, {due}")


def day(moment, zone=None) -> str:
    return (moment.astimezone(zone) if zone else moment).strftime("%Y-%m-%d")


def item_text(item: ItemView, _: Translate, progress: list[str] = (), zone=None) -> str:
    lines = [
        _("<b>Item {label}</b>", label=html.escape(item.label)),
        _("Unit: {unit}", unit=html.escape(item.unit)),
        _("Problem: {problem}", problem=html.escape(short(item.problem, 1500))),
    ]
    if item.plan:
        lines.append(_("Plan: {plan}", plan=html.escape(short(item.plan, 1000))))
    if item.owner:
        lines.append(_("Responsible: {owner}", owner=html.escape(item.owner)))
    lines.append(_("Severity: {severity}", severity=_(SEVERITY_LABELS.get(item.severity, item.severity))))
    if item.co_units:
        lines.append(_("Co-units: {units}", units=html.escape("、".join(item.co_units))))
    if item.leader:
        lines.append(_("Responsible leader: {leader}", leader=html.escape(item.leader)))
    if item.category:
        lines.append(_("Category: {category}", category=html.escape(item.category)))
    if item.deadline is None:
        lines.append(_("Deadline: standing, no final deadline"))
    else:
        lines.append(_("Deadline: {date}", date=item.deadline.isoformat())
                     + (" (" + _("immediate") + ")" if item.deadline_kind == "immediate" else "")
                     + (" — " + _("overdue by {days} calendar days", days=-item.days_left) if item.overdue else ""))
    lines.append(_("Status: {status}", status=status_label(_, item.status)))
    if item.progress_text:
        lines.append(_("Progress in the ledger: {text}", text=html.escape(short(item.progress_text, 500))))
    if item.note:
        lines.append(_("Note: {note}", note=html.escape(short(item.note, 500))))
    for header, value in item.extra.items():  # the ledger's own columns, as written
        lines.append(f"{html.escape(header)}: {html.escape(short(value, 300))}")
    if item.closed_reason:
        lines.append(_("Reason for closing directly: {reason}", reason=html.escape(item.closed_reason)))
    if item.sent_back_comment and item.sent_back_at:  # what the office asked for, until the item closes
        lines.append(_("Sent back on {date}: {comment}", date=day(item.sent_back_at, zone),
                       comment=html.escape(short(item.sent_back_comment, 800))))
    if item.first_review_at:
        lines.append(_("First approval given by {by} on {date}; a second supervisor's approval closes it.",
                       by=html.escape(item.first_reviewer or _("a supervisor")), date=day(item.first_review_at, zone)))
    if progress:
        lines += ["", _("<b>Latest progress</b>")] + list(progress)
    return "\n".join(lines)


def progress_lines(entries: list[ProgressView], _: Translate, zone, count: int = 3) -> list[str]:
    lines = []
    for entry in entries[-count:]:
        when = entry.at.astimezone(zone).strftime("%Y-%m-%d")
        attached = _(" ({count} files)", count=len(entry.evidence)) if entry.evidence else ""
        lines.append(f"• {when}: {html.escape(short(entry.text, 400)) or '—'}{attached}")
    return lines


def item_buttons(item: ItemView, _: Translate, *, as_supervisor: bool, as_contact: bool,
                 read_only: bool = False) -> Buttons:
    """The actions this reader may take; `read_only`: a bound chat of another unit (co-unit, parent)
    that may open /tasks but not act on the item."""
    rows = []
    if as_contact and allowed(item, "progress"):
        row = [(_("Report progress"), f"lp:{item.id}")]
        if allowed(item, "request_closure"):
            row.append((_("Request closure"), f"lc:{item.id}"))
        rows.append(row)
    if as_contact and item.deadline is not None and item.status in ACTIVE_STATUSES:
        rows.append([(_("Ask for an extension"), f"we:{item.id}")])  # 延期申请 (handlers/workspace.py)
    if as_supervisor:
        if allowed(item, "approve"):
            rows.append([(_("Approve closing"), f"la:{item.id}"), (_("Send back"), f"lb:{item.id}")])
        if allowed(item, "close_directly"):
            rows.append([(_("Close directly"), f"lx:{item.id}")])
    if as_contact or read_only:
        rows.append([(_("All items"), "lt:0")])
    return rows
