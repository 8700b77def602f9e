"""Outbox messages of the workspace: a nudge (催办) and a reassignment to the unit's contacts, an
extension request to every supervisor, its decision to the contact who asked.

Rendered when sent, from the database of that moment: a nudge or a reassignment about an item
that closed (or moved again) meanwhile is not sent; an extension request decided meanwhile says
who decided it, without buttons.
"""

from __future__ import annotations

import html
from datetime import datetime

from bot.i18n import translator
from bot.ledger import notices
from bot.outbox import Claimed, Rendered, RenderEnv, renderer


def _ledger(env: RenderEnv):
    from bot.ledger.workspace import Workspace  # the service makes these rows: import when used

    return env.ledger, Workspace(env.ledger)


async def _contact_item(env: RenderEnv, row: Claimed):
    """The open item the notice is about, as the contact may see it; None if closed or not theirs."""
    from bot.ledger.models import ACTIVE_STATUSES

    item = await notices.item_for(env, row)
    return item if item is not None and item.status in ACTIVE_STATUSES else None


@renderer(notices.NUDGED)
async def render_nudge(connection, row: Claimed, language: str, env: RenderEnv, now: datetime) -> Rendered | None:
    from bot.ledger import texts

    item = await _contact_item(env, row)
    if item is None:
        return None
    _ = translator(language)
    text = _("📣 <b>The inspection office asks {unit} to act now</b> on item {label}.", unit=html.escape(item.unit),
             label=html.escape(item.label)) + "\n\n" + texts.item_text(item, _, zone=env.zone)
    return Rendered(text, texts.item_buttons(item, _, as_supervisor=False, as_contact=True))


@renderer(notices.REASSIGNED)
async def render_reassigned(connection, row: Claimed, language: str, env: RenderEnv,
                            now: datetime) -> Rendered | None:
    from bot.ledger import texts

    item = await _contact_item(env, row)
    if item is None:
        return None
    _ = translator(language)
    text = _("↪️ Item {label} was reassigned to <b>{unit}</b> by the inspection office (it was {old}'s): your unit "
             "now rectifies it.", label=html.escape(item.label), unit=html.escape(item.unit),
             old=html.escape(row.payload.get("old_unit", ""))) + "\n\n" + texts.item_text(item, _, zone=env.zone)
    return Rendered(text, texts.item_buttons(item, _, as_supervisor=False, as_contact=True))


@renderer(notices.REASSIGNED_AWAY)
async def render_reassigned_away(connection, row: Claimed, language: str, env: RenderEnv,
                                 now: datetime) -> Rendered | None:
    """To the unit the item was taken from: it no longer sees the item, so the words come from the payload."""
    _ = translator(language)
    return Rendered(_("↪️ Item {label} was reassigned to <b>{unit}</b> by the inspection office: your unit no longer "
                      "rectifies it, and it has left your /tasks.", label=html.escape(row.payload["label"]),
                      unit=html.escape(row.payload["new_unit"])), [[(_("All items"), "lt:0")]])


@renderer(notices.EXTENSION_REQUESTED)
async def render_extension_request(connection, row: Claimed, language: str, env: RenderEnv,
                                   now: datetime) -> Rendered | None:
    from bot.ledger import texts, workspace_texts
    from bot.ledger.models import ACTIVE_STATUSES
    from bot.ledger.service import NotFound

    ledger, workspace = _ledger(env)
    try:
        request = await workspace.extension(row.payload["extension_id"], supervisor_id=row.chat_id)
        item = await ledger.item(request.item_id, supervisor_id=row.chat_id)
    except NotFound:
        return None
    _ = translator(language)
    text = workspace_texts.extension_text(request, _) + "\n\n" + texts.item_text(item, _, zone=env.zone)
    if request.status != "pending":
        return Rendered(workspace_texts.decided_text(request, _, env.zone) + "\n\n" + text,
                        [[(_("Open the item"), f"li:{item.id}")]])
    if item.status not in ACTIVE_STATUSES:  # closed meanwhile: nothing left to decide
        return Rendered(text, [[(_("Open the item"), f"li:{item.id}")]])
    return Rendered(text, [[(_("Approve the extension"), f"wv:{request.id}"), (_("Refuse"), f"wz:{request.id}")],
                           [(_("Open the item"), f"li:{item.id}")]])


@renderer(notices.EXTENSION_DECIDED)
async def render_extension_decided(connection, row: Claimed, language: str, env: RenderEnv,
                                   now: datetime) -> Rendered | None:
    from bot.ledger import texts
    from bot.ledger.service import NotFound

    ledger, workspace = _ledger(env)
    try:
        request = await workspace.extension(row.payload["extension_id"], chat_id=row.chat_id)
        item = await ledger.item(request.item_id, chat_id=row.chat_id)
    except NotFound:
        return None  # the chat no longer acts for the item's unit
    _ = translator(language)
    deadline = item.deadline.isoformat() if item.deadline else _("standing, no final deadline")  # as it is now
    if request.status == "approved":
        text = _("✅ Your extension request for item {label} was <b>approved</b>: the deadline is now {date}.",
                 label=html.escape(item.label), date=deadline)
    else:
        text = _("✖️ Your extension request for item {label} was <b>refused</b> by the inspection office: {reason}\n"
                 "The deadline stays {date}.", label=html.escape(item.label),
                 reason=html.escape(request.refusal or ""), date=deadline)
    return Rendered(text + "\n\n" + texts.item_text(item, _, zone=env.zone),
                    texts.item_buttons(item, _, as_supervisor=False, as_contact=True))
