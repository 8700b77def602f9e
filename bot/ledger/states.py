"""The life of a rectification item: which action is allowed in which status, and where it leads.

    open ──progress──▶ in_progress ──request_closure──▶ closure_requested ──approve──▶ closed
      └──────────────request_closure (after progress)──────────▲   │
                                           in_progress ◀──send_back┘
    any active status ──close_directly──▶ closed_directly (a supervisor, with a reason)

One table (`TRANSITIONS`), as for reports (bot/reports/states.py): the service enforces it, the
chat shows only the buttons it allows. Asking for closing also needs a progress report first,
which the service checks.
"""

from __future__ import annotations

from enum import StrEnum

from bot.ledger.models import ItemStatus


class ItemAction(StrEnum):
    PROGRESS = "progress"
    REQUEST_CLOSURE = "request_closure"
    APPROVE = "approve"
    SEND_BACK = "send_back"
    CLOSE_DIRECTLY = "close_directly"


_OPEN, _WORKING, _REQUESTED = ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.CLOSURE_REQUESTED
TRANSITIONS: dict[ItemAction, dict[ItemStatus, ItemStatus]] = {
    ItemAction.PROGRESS: {_OPEN: _WORKING, _WORKING: _WORKING, _REQUESTED: _REQUESTED},
    ItemAction.REQUEST_CLOSURE: {_OPEN: _REQUESTED, _WORKING: _REQUESTED},
    ItemAction.APPROVE: {_REQUESTED: ItemStatus.CLOSED},
    ItemAction.SEND_BACK: {_REQUESTED: _WORKING},
    ItemAction.CLOSE_DIRECTLY: {status: ItemStatus.CLOSED_DIRECTLY for status in (_OPEN, _WORKING, _REQUESTED)},
}


def next_status(action: str, status: str) -> ItemStatus | None:
    """Where `action` leads from `status`, or None where it is not allowed."""
    return TRANSITIONS[ItemAction(action)].get(ItemStatus(status))
