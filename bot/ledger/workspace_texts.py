"""How the workspace reads: an item's history as lines, counts, filters, extension requests.

Shared by the chat handlers (handlers/workspace.py) and the outbox renderers
(bot/ledger/workspace_notices.py), in the reader's language.
"""

from __future__ import annotations

import html
from datetime import datetime

from bot.i18n import N_, Translate
from bot.ledger import texts
from bot.ledger.workspace import Counts, Event, Extension

FILTER_LABELS = {"all": N_("All"), "overdue": N_("Overdue"), "due7": N_("Due within 7 days"),
                 "requested": N_("Closure requested"), "unack": N_("Not acknowledged")}
REMINDER_KINDS = {"before": N_("before the deadline"), "due": N_("due today"), "overdue": N_("overdue"),
                  "escalation": N_("escalation"), "unreachable": N_("a contact cannot be reached"),
                  "standing_progress": N_("progress of a standing item"), "no_contact": N_("no contact bound")}
REMINDER = N_("reminder")  # a kind of notice not named above
ACTORS = {"contact": N_("the unit's contact"), "import": N_("the ledger import"),
          "cli": N_("the office (command line)"), "system": N_("the bot")}


def when(moment: datetime, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def counts_text(counts: Counts, _: Translate) -> str:
    parts = [_("{count} open", count=counts.open)]
    if counts.overdue:
        parts.append("⚠️ " + _("{count} overdue", count=counts.overdue))
    if counts.requested:
        parts.append(_("{count} closure requested", count=counts.requested))
    return ", ".join(parts)


def actor(event: Event, _: Translate) -> str:
    if event.actor_kind == "supervisor":
        return html.escape(event.actor_name or _("a supervisor"))
    return _(ACTORS.get(event.actor_kind, ACTORS["system"]))


def _clip(text: str | None, limit: int = 300) -> str:
    return html.escape(texts.short(text or "", limit)) or "—"


def event_line(event: Event, _: Translate, zone) -> str | None:
    """One readable line of the history; None for rows that say nothing new (a status set by progress)."""
    at, by = when(event.at, zone), actor(event, _)
    kind = event.kind
    if kind == "reminder":
        what = _(REMINDER_KINDS.get(event.detail, REMINDER))
        if event.actor_kind == "supervisor":
            return "📨 " + _("{at} reminder delivered to a supervisor ({what})", at=at, what=what)
        if event.actor_name:
            return "📨 " + _("{at} reminder delivered to {unit}'s contact ({what})", at=at, what=what,
                            unit=html.escape(event.actor_name))
        return "📨 " + _("{at} reminder delivered to a former contact ({what})", at=at, what=what)
    if kind == "reminder_acknowledged":
        return "👁 " + _("{at} the unit's contact acknowledged a reminder", at=at)
    if kind == "progress":
        files = " " + _("({count} evidence files)", count=event.files) if event.files else ""
        return "📝 " + _("{at} progress by {by}: {text}", at=at, by=by, text=_clip(event.comment)) + files
    if kind == "closure_requested":
        return "🙋 " + _("{at} closure requested by {by}", at=at, by=by)
    if kind in texts.REVIEW_ACTIONS:
        line = _("{at} {action} by {by}", at=at, action=_(texts.REVIEW_ACTIONS[kind]), by=by)
        return "⚖️ " + line + (": " + _clip(event.comment) if event.comment else "")
    if kind == "deadline_changed":
        return "🗓 " + _("{at} deadline {old} → {new} by {by}; reason: {reason}", at=at, by=by,
                        old=texts.deadline_value(event.old or "", _), new=texts.deadline_value(event.new or "", _),
                        reason=_clip(event.comment))
    if kind == "note":
        return "🗒 " + _("{at} note by {by}: {text}", at=at, by=by, text=_clip(event.comment, 800))
    if kind == "reassigned":
        return "↪️ " + _("{at} reassigned from {old} to {new} by {by}", at=at, by=by,
                        old=html.escape(event.old or ""), new=html.escape(event.new or ""))
    if kind == "nudged":
        return "📣 " + _("{at} nudged by {by}: the item goes to {count} contact(s)", at=at, by=by, count=event.new or "0")
    if kind == "extension_requested":
        return "⏳ " + _("{at} extension to {date} requested by {by}: {reason}", at=at, by=by,
                        date=event.new or "", reason=_clip(event.comment))
    if kind == "extension_approved":
        return "✅ " + _("{at} extension to {date} approved by {by}", at=at, by=by, date=event.new or "")
    if kind == "extension_refused":
        return "✖️ " + _("{at} extension to {date} refused by {by}: {reason}", at=at, by=by, date=event.new or "",
                        reason=_clip(event.comment))
    if kind == "created":
        return "➕ " + _("{at} entered in the ledger by {by}", at=at, by=by)
    if kind == "started":
        return None
    return "✏️ " + _("{at} {field} changed by {by}: {old} → {new}", at=at, by=by,
                    field=html.escape(event.detail or kind), old=_clip(event.old, 120), new=_clip(event.new, 120))


def history_lines(events: list[Event], _: Translate, zone) -> list[str]:
    """Newest first: what a supervisor looks for first is what happened last."""
    return [line for line in (event_line(e, _, zone) for e in reversed(events)) if line]


def history_pages(lines: list[str], per_page: int = 10, chars: int = 3000) -> list[list[str]]:
    """The history in pages of `per_page` lines at most and `chars` characters at most (a page of
    long notes still fits one message); one empty page when there is nothing."""
    pages, current, size = [], [], 0
    for line in lines:
        if current and (len(current) == per_page or size + len(line) + 1 > chars):
            pages.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    return pages + [current] if current or not pages else pages


def acknowledged_line(at: datetime | None, _: Translate, zone) -> str:
    return "👁 " + (_("Acknowledged on {date}", date=when(at, zone)) if at else _("Not acknowledged yet"))


def extension_text(request: Extension, _: Translate) -> str:
    return "\n".join([
        _("<b>Extension requested</b> by {unit} for item {label}", unit=html.escape(request.unit),
          label=html.escape(request.label)),
        _("Deadline: {old} → proposed {new}", old=texts.deadline_value(request.old_deadline, _),
          new=request.proposed.isoformat()),
        _("Reason: {reason}", reason=html.escape(request.reason)),
    ])


def decided_text(request: Extension, _: Translate, zone) -> str:
    """Who decided the request, what and when: what a second supervisor is told."""
    by = html.escape(request.decided_by_name or _("a supervisor"))
    at = when(request.decided_at, zone) if request.decided_at else ""
    if request.status == "approved":
        return _("Already decided: the extension was approved by {by} at {time}.", by=by, time=at)
    return _("Already decided: the extension was refused by {by} at {time}.", by=by, time=at)


def waiting_line(request: Extension, _: Translate) -> str:
    """On the item's card while a request waits for a decision."""
    return "⏳ " + _("Extension to {date} requested, waiting for a decision: {reason}",
                    date=request.proposed.isoformat(), reason=html.escape(texts.short(request.reason, 300)))
