"""The life of a report: statuses, actions, and which action is allowed in which status.

    new ──acknowledge──▶ open ──ask──▶ waiting (for the reporter)
     │                   │  ▲            │
     │                   │  └──reply─────┘   transfer and note keep the status
     │                   ├──close──▶ closed  (with an outcome, shown to the reporter)
     └──────reject───────┴──reject─▶ rejected (spam or out of scope, with a reason)
    closed / rejected ──reopen (with a reason)──▶ open

Work on a report (ask, transfer, close) starts with acknowledging it; rejecting does not need
that. Closed and rejected reports take only internal notes, until a supervisor reopens them; their
reporter may reply once (a dispute: "the reporter disputes the outcome"), which changes nothing
until a supervisor reopens the report.
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import N_


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"
    REJECTED = "rejected"


FINISHED = frozenset({Status.CLOSED, Status.REJECTED})
ACTIVE = frozenset(Status) - FINISHED


class Action(StrEnum):
    SUBMIT = "submit"
    ACKNOWLEDGE = "acknowledge"
    ASK = "ask"
    NOTE = "note"
    TRANSFER = "transfer"
    CLOSE = "close"
    REJECT = "reject"
    REOPEN = "reopen"
    REPLY = "reply"
    ATTACH = "attach"
    DISPUTE = "dispute"  # the reporter's one reply after the outcome
    SEND_FILE = "send_file"  # a supervisor's file for the reporter (cleaned like theirs)


SUPERVISOR_ACTIONS = (Action.ACKNOWLEDGE, Action.ASK, Action.NOTE, Action.TRANSFER, Action.CLOSE, Action.REJECT,
                      Action.REOPEN, Action.SEND_FILE)
TEXT_ACTIONS = frozenset({Action.ASK, Action.NOTE, Action.TRANSFER, Action.CLOSE, Action.REJECT, Action.REOPEN})
INTERNAL_ACTIONS = frozenset({Action.NOTE})  # never shown to the reporter
REJECT_KINDS = ("spam", "scope")

_WORKING = {Status.OPEN: Status.OPEN, Status.WAITING: Status.WAITING}
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ACKNOWLEDGE: {Status.NEW: Status.OPEN},
    Action.ASK: {Status.OPEN: Status.WAITING, Status.WAITING: Status.WAITING},
    Action.NOTE: {status: status for status in Status},
    Action.TRANSFER: dict(_WORKING),
    Action.CLOSE: {Status.OPEN: Status.CLOSED, Status.WAITING: Status.CLOSED},
    Action.REJECT: {Status.NEW: Status.REJECTED, Status.OPEN: Status.REJECTED, Status.WAITING: Status.REJECTED},
    Action.REOPEN: {Status.CLOSED: Status.OPEN, Status.REJECTED: Status.OPEN},
    Action.REPLY: {Status.NEW: Status.NEW, Status.OPEN: Status.OPEN, Status.WAITING: Status.OPEN},
    Action.ATTACH: {Status.NEW: Status.NEW, Status.OPEN: Status.OPEN, Status.WAITING: Status.WAITING},
    Action.DISPUTE: {Status.CLOSED: Status.CLOSED, Status.REJECTED: Status.REJECTED},
    Action.SEND_FILE: dict(_WORKING),
}


def next_status(action: Action, status: Status) -> Status | None:
    """The status after `action`, or None when the action is not allowed in `status`."""
    return TRANSITIONS[action].get(status)


def allowed_actions(status: Status) -> list[Action]:
    return [action for action in SUPERVISOR_ACTIONS if status in TRANSITIONS[action]]


def refusal(action: Action, status: Status) -> str:
    """Why `action` is not allowed now, as a reason code the handlers translate."""
    if action is Action.REOPEN:
        return "not_finished"
    if status in FINISHED:
        return "finished"
    if action is Action.ACKNOWLEDGE:
        return "already_acknowledged"
    return "acknowledge_first"


# How statuses, actions and rejection kinds read, to supervisors and in the export.
STATUS_LABELS = {Status.NEW: N_("new"), Status.OPEN: N_("open"), Status.WAITING: N_("waiting for the reporter"),
                 Status.CLOSED: N_("closed"), Status.REJECTED: N_("rejected")}
HISTORY_LABELS = {Action.SUBMIT: N_("submitted"), Action.ACKNOWLEDGE: N_("acknowledged"),
                  Action.ASK: N_("asked the reporter"), Action.NOTE: N_("internal note"),
                  Action.TRANSFER: N_("transferred to"), Action.CLOSE: N_("closed, outcome"),
                  Action.REJECT: N_("rejected, reason"), Action.REOPEN: N_("reopened, reason"),
                  Action.REPLY: N_("reporter's message"), Action.ATTACH: N_("reporter added a file"),
                  Action.DISPUTE: N_("the reporter disputes the outcome"),
                  Action.SEND_FILE: N_("file sent to the reporter")}
REJECT_LABELS = {"spam": N_("Spam"), "scope": N_("Out of scope")}
ACTOR_LABELS = {"reporter": N_("reporter"), "supervisor": N_("supervisor"), "system": N_("system")}
