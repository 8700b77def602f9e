"""Outbox messages about one item: closing requests to the supervisors, decisions and deadline
changes to the unit.

Both are rendered when sent, from the item as it is then: a request that a supervisor decided
meanwhile still reaches the others, showing the item's current status and only the buttons that
still apply.
"""

from __future__ import annotations

import html
from datetime import datetime

from bot import outbox
from bot.i18n import N_, translator
from bot.outbox import Attachment, Claimed, Rendered, RenderEnv, renderer

CLOSURE_REQUESTED = "closure_requested"
DECISION = "closure_decision"
DEADLINE_CHANGED = "deadline_changed"
REVIEWED = "closure_reviewed"
# The workspace's notices (bot/ledger/workspace_notices.py renders them): not reminders either.
NUDGED, REASSIGNED, REASSIGNED_AWAY, EXTENSION_REQUESTED, EXTENSION_DECIDED = (
    "item_nudged", "item_reassigned", "item_reassigned_away", "extension_requested", "extension_decided")
KINDS = (CLOSURE_REQUESTED, DECISION, DEADLINE_CHANGED, REVIEWED,
         NUDGED, REASSIGNED, REASSIGNED_AWAY, EXTENSION_REQUESTED, EXTENSION_DECIDED)  # not reminders: a new deadline does not cancel them
EVIDENCE_FORWARDED = 5
DECISIONS = {
    "approved": N_("Item {external_id} has been reviewed and <b>closed</b>."),
    "sent_back": N_("Item {external_id} was <b>sent back</b> by the inspection office: {comment}"),
    "closed_directly": N_("Item {external_id} was <b>closed directly</b> by the inspection office: {comment}"),
}


def closure_requested(item_id: int, request: int, supervisors: list[int], now: datetime, *,
                      resubmission: bool = False) -> list[dict]:
    """One row per supervisor; `request` tells one request from the next on the same item."""
    return [outbox.message_row(CLOSURE_REQUESTED, f"{item_id}:{request}:{chat_id}", chat_id, now, item_id=item_id,
                               payload={"item_id": item_id, "resubmission": resubmission}) for chat_id in supervisors]


def reviewed(item_id: int, event: int, kind: str, by: str, comment: str, supervisors: list[int],
             now: datetime) -> list[dict]:
    """Every other supervisor learns who decided what, so that nobody reviews the item again."""
    return [outbox.message_row(REVIEWED, f"{item_id}:{event}:{chat_id}", chat_id, now, item_id=item_id,
                               payload={"item_id": item_id, "decision": kind, "by": by, "comment": comment})
            for chat_id in supervisors]


def decision(item_id: int, event: int, kind: str, comment: str, chats: list[int], now: datetime) -> list[dict]:
    return [outbox.message_row(DECISION, f"{item_id}:{event}:{chat_id}", chat_id, now, item_id=item_id,
                               payload={"item_id": item_id, "decision": kind, "comment": comment}) for chat_id in chats]


def deadline_changed(item_id: int, event: int, old: str, new: str, reason: str, chats: list[int],
                     now: datetime) -> list[dict]:
    """The unit is told its deadline moved (a supervisor's change, an approved extension, a re-import)."""
    return [outbox.message_row(DEADLINE_CHANGED, f"{item_id}:{event}:{chat_id}", chat_id, now, item_id=item_id,
                               payload={"item_id": item_id, "old": old, "new": new, "reason": reason})
            for chat_id in chats]


async def item_for(env: RenderEnv, row: Claimed, *, supervisor: bool = False):
    """The item a notice is about, as its recipient may see it now; None (nothing is sent) if not."""
    from bot.ledger.service import NotFound  # the service makes these rows: import when used

    try:
        if supervisor:
            return await env.ledger.item(row.payload["item_id"], supervisor_id=row.chat_id)
        return await env.ledger.item(row.payload["item_id"], chat_id=row.chat_id)
    except NotFound:
        return None


@renderer(CLOSURE_REQUESTED)
async def render_request(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    from bot.ledger import texts  # the service makes these rows, and texts read its views: import when used
    from bot.ledger.service import NotFound

    ledger = env.ledger
    try:
        item = await ledger.item(row.payload["item_id"], supervisor_id=row.chat_id)
        entries = await ledger.progress_of(item.id, supervisor_id=row.chat_id)
    except NotFound:
        return None
    _ = translator(language)
    progress = texts.progress_lines(entries, _, env.zone)
    heading = _("<b>Closure requested again</b> by {unit}, after it was sent back", unit=html.escape(item.unit)) \
        if row.payload.get("resubmission") else _("<b>Closure requested</b> by {unit}", unit=html.escape(item.unit))
    text = heading + "\n\n" + texts.item_text(item, _, progress, zone=env.zone)
    files = [file for entry in entries for file in entry.evidence][-EVIDENCE_FORWARDED:]
    return Rendered(text, texts.item_buttons(item, _, as_supervisor=True, as_contact=False),
                    attachments=[Attachment(file.kind, file.file_id) for file in files])


@renderer(DECISION)
async def render_decision(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    item = await item_for(env, row)
    if item is None:
        return None
    _ = translator(language)
    text = _(DECISIONS[row.payload["decision"]], external_id=html.escape(item.label),
             comment=html.escape(row.payload.get("comment", "")))
    return Rendered(text, [[(_("All items"), "lt:0")]])


REVIEWS = {
    "approved": N_("{by} <b>approved</b> the closing of item {label}."),
    "sent_back": N_("{by} <b>sent back</b> item {label}: {comment}"),
    "closed_directly": N_("{by} <b>closed</b> item {label} <b>directly</b>: {comment}"),
    "first_approved": N_("{by} gave the <b>first approval</b> to closing item {label}; a second supervisor's "
                         "approval closes it."),
}


@renderer(REVIEWED)
async def render_reviewed(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    from bot.ledger import texts

    item = await item_for(env, row, supervisor=True)
    if item is None:
        return None
    _ = translator(language)
    payload = row.payload
    text = _(REVIEWS[payload["decision"]], by=html.escape(payload.get("by") or _("a supervisor")),
             label=html.escape(item.label), comment=html.escape(payload.get("comment", "")))
    buttons = texts.item_buttons(item, _, as_supervisor=True, as_contact=False) \
        if payload["decision"] == "first_approved" else [[(_("Open the item"), f"li:{item.id}")]]
    return Rendered(text, buttons)


@renderer(DEADLINE_CHANGED)
async def render_deadline_changed(connection, row: Claimed, language: str, env: RenderEnv,
                                  now: datetime) -> Rendered | None:
    """Says the change as it was made and where the item stands on the day it is read."""
    from bot.ledger import texts

    item = await item_for(env, row)
    if item is None:
        return None
    _ = translator(language)
    payload = row.payload
    lines = [_("🗓 The deadline of item {label} was changed: {old} → {new}.", label=html.escape(item.label),
               old=texts.deadline_value(payload["old"], _), new=texts.deadline_value(payload["new"], _))]
    if payload.get("reason"):
        lines.append(_("Reason: {reason}", reason=html.escape(payload["reason"])))
    lines += ["", texts.item_text(item, _, zone=env.zone)]
    return Rendered("\n".join(lines), texts.item_buttons(item, _, as_supervisor=False, as_contact=True))


UNBOUND = "contact_unbound"


def unbound(chat_id: int, unit: str, now: datetime) -> list[dict]:
    """The chat is told once that it no longer acts for its unit (`qingfeng units unbind`)."""
    return [outbox.message_row(UNBOUND, f"{chat_id}:{now.isoformat()}", chat_id, now, payload={"unit": unit})]


@renderer(UNBOUND)
async def render_unbound(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    _ = translator(language)
    return Rendered(_("This chat no longer acts for <b>{unit}</b>: the inspection office has unbound it. No more "
                      "rectification reminders will be sent here.", unit=html.escape(row.payload["unit"])))
