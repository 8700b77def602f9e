"""The supervisors' workspace on the ledger (issue 12 item 6), and the contacts' extension requests.

Reads: rounds → units of a round (open, overdue, closure requested) → a unit's items, a page at a
time, filtered (overdue, due within 7 days, closure requested, not acknowledged, by category); an
item's whole history as events (reminders delivered, acknowledgements, progress with its evidence
count, reviews, deadline changes, notes, reassignments, nudges, extension requests).

Actions, each recorded in the item's history: a note, a reassignment to another unit (its pending
reminders are cancelled, the new unit's contacts told), a nudge (催办) to the unit's reachable
contacts. A contact's extension request (延期申请) reaches every supervisor; the first decision wins
(a conditional update), an approval moves the deadline with `LedgerService.change_deadline`.

No Telegram here: `Workspace` wraps the LedgerService (its settings, database and access checks).
Messages to others go through the outbox (bot/ledger/workspace_notices.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlmodel import col, select

from bot import outbox
from bot.i18n import N_
from bot.ledger import importer, notices, workspace_notices  # noqa: F401  (its renderers)
from bot.ledger.models import (ACTIVE_STATUSES, EvidenceFile, ExtensionRequest, InspectionRound, ItemHistory,
                               ItemStatus, ProgressEntry, RectificationItem, Unit, UnitContact)
from bot.ledger.service import (MAX_TEXT, InvalidTransition, ItemView, LedgerError, LedgerService, NotFound,
                                UnitInfo, _deadline_text)
from bot.outbox import OutboxMessage, OutboxStatus

PER_PAGE = 8
DUE_SOON_DAYS = 7
FILTERS = ("all", "overdue", "due7", "requested", "unack", "category")
ACKNOWLEDGED = "reminder_acknowledged"
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")


@dataclass(frozen=True)
class Counts:
    open: int = 0
    overdue: int = 0
    requested: int = 0


@dataclass(frozen=True)
class RoundRow:
    id: int
    name: str
    counts: Counts


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    counts: Counts


@dataclass(frozen=True)
class ItemPage:
    round: str
    unit: str
    items: list[ItemView]
    total: int
    page: int
    pages: int
    categories: tuple[str, ...]  # of the unit's open items in the round, by name: the filter's index
    acknowledged: frozenset[int]  # items of this page with an acknowledgement


@dataclass(frozen=True)
class Event:
    """One line of an item's history. `kind`: reminder, progress, or the history row's action."""

    at: datetime
    kind: str
    actor_kind: str = ""
    actor_name: str | None = None
    old: str | None = None
    new: str | None = None
    comment: str | None = None
    files: int = 0          # progress: evidence files
    detail: str = ""        # reminder: the outbox kind; updated: the field


@dataclass(frozen=True)
class Nudged:
    item: ItemView
    sent: int      # reachable contacts told
    bound: int     # contacts bound to the unit, reachable or not


@dataclass(frozen=True)
class Reassigned:
    item: ItemView
    old_unit: str
    contacts: int  # reachable contacts of the new unit told


@dataclass(frozen=True)
class Extension:
    id: int
    item_id: int
    label: str
    unit: str
    chat_id: int
    reason: str
    old_deadline: str
    proposed: date
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by_name: str | None = None
    refusal: str | None = None


class ExtensionDecided(LedgerError):
    """The request was decided already (by another supervisor): what, by whom, when."""

    def __init__(self, extension: Extension):
        super().__init__("the extension request was decided already")
        self.extension = extension


class ExtensionPending(LedgerError):
    """A request of the item is waiting for a decision: one at a time."""

    def __init__(self, extension: Extension):
        super().__init__("an extension request of this item is waiting for a decision")
        self.extension = extension


def parse_typed_date(text: str, today: date) -> date | None:
    """A date as people type it: 2027-01-31, 2027/1/31, 2027.1.31, 2027年1月31日, or 1月31日 (the next
    such day on or after today). None when it is no date."""
    text = (text or "").strip()
    full = importer.parse_date(text)
    if full is not None:
        return full
    match = _MONTH_DAY.fullmatch(re.sub(r"\s+", "", text))
    if match is None:
        return None
    month, day = int(match[1]), int(match[2])
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


class Workspace:
    def __init__(self, ledger: LedgerService):
        self.ledger = ledger
        self.database = ledger.database

    def _supervisor(self, supervisor_id: int | None) -> None:
        if not self.ledger.is_supervisor(supervisor_id):
            raise NotFound(N_("no such item"))

    # ---- reading --------------------------------------------------------------------------
    def _counted(self):
        today = self.ledger.today()
        item = RectificationItem
        return (func.count(),
                func.sum(sa.case((sa.and_(col(item.deadline).is_not(None), item.deadline < today), 1), else_=0)),
                func.sum(sa.case((item.status == ItemStatus.CLOSURE_REQUESTED.value, 1), else_=0)))

    async def rounds(self, *, supervisor_id: int) -> list[RoundRow]:
        """Every round, with the counts of its open items (a round of closed items shows zeros)."""
        self._supervisor(supervisor_id)
        async with self.database.session() as session:
            rounds = (await session.exec(select(InspectionRound).order_by(InspectionRound.id))).all()
            counts = {round_id: Counts(n, int(late or 0), int(asked or 0)) for round_id, n, late, asked in (
                await session.exec(select(RectificationItem.round_id, *self._counted())
                                   .where(col(RectificationItem.status).in_(ACTIVE_STATUSES))
                                   .group_by(RectificationItem.round_id))).all()}
        return [RoundRow(r.id, r.name, counts.get(r.id, Counts())) for r in rounds]

    async def units_of_round(self, round_id: int, *, supervisor_id: int) -> tuple[str, list[UnitRow]]:
        """The round's name and the units with open items in it, the most overdue first."""
        self._supervisor(supervisor_id)
        async with self.database.session() as session:
            round_row = await session.get(InspectionRound, round_id)
            if round_row is None:
                raise NotFound(N_("no such round"))
            rows = (await session.exec(
                select(Unit.id, Unit.name, *self._counted()).join(Unit, Unit.id == RectificationItem.unit_id)
                .where(RectificationItem.round_id == round_id, col(RectificationItem.status).in_(ACTIVE_STATUSES))
                .group_by(Unit.id, Unit.name))).all()
        units = [UnitRow(unit_id, name, Counts(n, int(late or 0), int(asked or 0)))
                 for unit_id, name, n, late, asked in rows]
        return round_row.name, sorted(units, key=lambda u: (-u.counts.overdue, -u.counts.requested, u.name))

    async def items(self, round_id: int, unit_id: int, *, supervisor_id: int, kind: str = "all",
                    category: int = 0, page: int = 0, per_page: int = PER_PAGE) -> ItemPage:
        """A unit's open items in a round, filtered, by deadline (standing items last)."""
        self._supervisor(supervisor_id)
        if kind not in FILTERS:
            raise NotFound(N_("no such filter"))
        today = self.ledger.today()
        item = RectificationItem
        async with self.database.session() as session:
            round_row, unit = await session.get(InspectionRound, round_id), await session.get(Unit, unit_id)
            if round_row is None or unit is None:
                raise NotFound(N_("no such round or unit"))
            where = [item.round_id == round_id, item.unit_id == unit_id, col(item.status).in_(ACTIVE_STATUSES)]
            named = (await session.exec(select(item.category).where(*where))).all()
            categories = tuple(sorted({c for c in named if c}))
            acknowledged = select(ItemHistory.item_id).where(ItemHistory.action == ACKNOWLEDGED)
            where += {
                "all": [],
                "overdue": [item.deadline < today],
                "due7": [item.deadline >= today, item.deadline <= today + timedelta(days=DUE_SOON_DAYS)],
                "requested": [item.status == ItemStatus.CLOSURE_REQUESTED.value],
                "unack": [col(item.id).not_in(acknowledged)],
                "category": [item.category == (categories[category] if category < len(categories) else None)],
            }[kind]
            total = (await session.exec(select(func.count()).select_from(item).where(*where))).one()
            pages = max(1, -(-total // per_page))
            if page >= pages:
                raise NotFound(N_("no such page"))
            views = await self.ledger._views(session, select(item, Unit.name, InspectionRound.name).where(*where)
                                             .order_by(col(item.deadline).is_(None), item.deadline, item.id)
                                             .offset(page * per_page).limit(per_page))
            seen = set((await session.exec(select(ItemHistory.item_id).where(
                ItemHistory.action == ACKNOWLEDGED, col(ItemHistory.item_id).in_([v.id for v in views])))).all())
        return ItemPage(round_row.name, unit.name, views, total, page, pages, categories, frozenset(seen))

    async def overdue(self, *, supervisor_id: int, page: int = 0,
                      per_page: int = PER_PAGE) -> tuple[list[ItemView], int]:
        """Overdue items of every round and unit, the longest overdue first, a page at a time."""
        self._supervisor(supervisor_id)
        item = RectificationItem
        where = [col(item.status).in_(ACTIVE_STATUSES), item.deadline < self.ledger.today()]
        async with self.database.session() as session:
            total = (await session.exec(select(func.count()).select_from(item).where(*where))).one()
            views = await self.ledger._views(session, select(item, Unit.name, InspectionRound.name).where(*where)
                                             .order_by(item.deadline, item.id).offset(page * per_page).limit(per_page))
        return views, total

    async def round_of(self, item_id: int) -> int:
        """The round id of an item (for the card's way back to its unit's list)."""
        async with self.database.session() as session:
            round_id = (await session.exec(select(RectificationItem.round_id)
                                           .where(RectificationItem.id == item_id))).first()
        if round_id is None:
            raise NotFound(N_("no such item"))
        return round_id

    async def contact_counts(self, unit_id: int) -> tuple[int, int]:
        """The unit's bound contacts, and how many of them can be reached."""
        async with self.database.session() as session:
            rows = (await session.exec(select(UnitContact.reachable).where(UnitContact.unit_id == unit_id))).all()
        return len(rows), sum(bool(r) for r in rows)

    async def acknowledged_at(self, item_id: int) -> datetime | None:
        """When a contact last said they had read a reminder of the item."""
        async with self.database.session() as session:
            return (await session.exec(select(func.max(ItemHistory.at)).where(
                ItemHistory.item_id == item_id, ItemHistory.action == ACKNOWLEDGED))).one()

    async def timeline(self, item_id: int, *, supervisor_id: int) -> list[Event]:
        """The item's whole history, oldest first: history rows (each "progress" row read with its
        progress entry, which the service writes together, to count the evidence files) and the
        reminders the outbox delivered."""
        async with self.database.session() as session:
            await self.ledger._visible(session, item_id, supervisor_id=supervisor_id)
            files = Counter(dict((await session.exec(
                select(EvidenceFile.progress_id, func.count())
                .join(ProgressEntry, ProgressEntry.id == EvidenceFile.progress_id)
                .where(ProgressEntry.item_id == item_id).group_by(EvidenceFile.progress_id))).all()))
            entries = iter((await session.exec(select(ProgressEntry).where(ProgressEntry.item_id == item_id)
                                               .order_by(ProgressEntry.id))).all())
            events = []
            for h in (await session.exec(select(ItemHistory).where(ItemHistory.item_id == item_id)
                                         .order_by(ItemHistory.id))).all():
                entry = next(entries, None) if h.action == "progress" else None
                if entry is not None:  # the text as it grew with later messages, and its files
                    events.append(Event(h.at, "progress", h.actor_kind, comment=entry.text, files=files[entry.id]))
                else:
                    name = h.actor_name or (self.ledger.supervisor_name(h.actor_id) or None
                                            if h.actor_kind == "supervisor" else None)
                    events.append(Event(h.at, h.action, h.actor_kind, name, h.old_value, h.new_value, h.comment,
                                        detail=h.field or ""))
            sent = (await session.exec(
                select(OutboxMessage.kind, OutboxMessage.chat_id, OutboxMessage.sent_at, Unit.name)
                .join(UnitContact, UnitContact.chat_id == OutboxMessage.chat_id, isouter=True)
                .join(Unit, Unit.id == UnitContact.unit_id, isouter=True)
                .where(OutboxMessage.item_id == item_id, OutboxMessage.status == OutboxStatus.SENT.value,
                       col(OutboxMessage.kind).not_in(notices.KINDS)))).all()
            supervisors = self.ledger.settings.supervisor_ids
            # To whom: a supervisor, or a contact named by the unit the chat acts for now (the item's
            # unit, its parent …); a chat unbound since has no unit.
            events += [Event(sent_at, "reminder", "supervisor" if chat_id in supervisors else "contact", unit,
                             detail=kind) for kind, chat_id, sent_at, unit in sent if sent_at is not None]
        return sorted(events, key=lambda e: e.at)  # stable: rows of one moment keep their order

    # ---- supervisors' actions -------------------------------------------------------------
    async def add_note(self, item_id: int, *, supervisor_id: int, text: str, by_name: str = "") -> ItemView:
        text = (text or "").strip()[:MAX_TEXT]
        if not text:
            raise LedgerError(N_("a note needs text"))
        async with self.database.transaction() as session:
            view = await self.ledger._visible(session, item_id, supervisor_id=supervisor_id)
            session.add(ItemHistory(item_id=item_id, at=self.ledger.now(), actor_kind="supervisor",
                                    actor_id=supervisor_id, actor_name=self._name(supervisor_id, by_name),
                                    action="note", comment=text))
            return view

    def _name(self, supervisor_id: int, by_name: str) -> str | None:
        return self.ledger.supervisor_name(supervisor_id, by_name) or None

    async def units(self) -> list[UnitInfo]:
        return await self.ledger.list_units()

    async def reassign(self, item_id: int, *, supervisor_id: int, unit_id: int | None = None,
                       unit_name: str | None = None, by_name: str = "") -> Reassigned:
        """Give an open item to another unit (by id, from the list, or by name, typed): its pending
        reminders are cancelled (the planner makes the new unit's), both units' contacts are told."""
        now = self.ledger.now()
        async with self.database.transaction() as session:
            item = await self.ledger._item_for_update(session, item_id)
            view = await self.ledger._visible(session, item_id, supervisor_id=supervisor_id)
            if view.status not in ACTIVE_STATUSES:
                raise InvalidTransition(view.status, N_("a closed item cannot be reassigned"))
            target = await session.get(Unit, unit_id) if unit_id is not None else \
                (await session.exec(select(Unit).where(Unit.name == (unit_name or "").strip()))).first()
            if target is None:
                raise NotFound(N_("no unit named {name}"), name=(unit_name or "").strip())
            if target.id == item.unit_id:
                raise LedgerError(N_("the item is {unit}'s already"), unit=target.name)
            item.unit_id, item.updated_at = target.id, now
            item.co_units = [u for u in (item.co_units or ()) if u != target.name]  # the lead is no co-unit
            event = ItemHistory(item_id=item_id, at=now, actor_kind="supervisor", actor_id=supervisor_id,
                                actor_name=self._name(supervisor_id, by_name), action="reassigned", field="unit",
                                old_value=view.unit, new_value=target.name)
            session.add(event)
            await self.ledger._cancel_pending(session, item_id)
            await session.flush()
            chats = await self._reachable(session, target.id)
            left = await self._reachable(session, view.unit_id)  # the old unit: told it is no longer theirs
            await outbox.enqueue(await session.connection(), [
                outbox.message_row(notices.REASSIGNED, f"{item_id}:{event.id}:{chat}", chat, now, item_id=item_id,
                                   payload={"item_id": item_id, "old_unit": view.unit}) for chat in chats] + [
                outbox.message_row(notices.REASSIGNED_AWAY, f"{item_id}:{event.id}:{chat}", chat, now, item_id=item_id,
                                   payload={"label": view.label, "new_unit": target.name}) for chat in left])
            return Reassigned(await self.ledger._view(session, item_id), view.unit, len(chats))

    async def change_deadline(self, item_id: int, deadline: date, *, supervisor_id: int, reason: str,
                              by_name: str = "") -> ItemView:
        """`LedgerService.change_deadline` by a supervisor, whose name the history then shows."""
        self._supervisor(supervisor_id)
        view = await self.ledger.change_deadline(item_id, deadline, reason=reason, actor_kind="supervisor",
                                                 actor_id=supervisor_id)
        await self._sign_deadline_change(item_id, supervisor_id, by_name)
        return view

    async def _sign_deadline_change(self, item_id: int, supervisor_id: int, by_name: str) -> None:
        name = self._name(supervisor_id, by_name)
        if not name:
            return
        async with self.database.transaction() as session:
            latest = (await session.exec(select(func.max(ItemHistory.id)).where(
                ItemHistory.item_id == item_id, ItemHistory.action == "deadline_changed",
                ItemHistory.actor_id == supervisor_id))).one()
            await session.exec(update(ItemHistory).where(ItemHistory.id == latest,
                                                         col(ItemHistory.actor_name).is_(None)).values(actor_name=name))

    async def nudge(self, item_id: int, *, supervisor_id: int, by_name: str = "") -> Nudged:
        """催办: the unit's reachable contacts are sent the item now. With none, nothing is recorded
        and nothing is said to have been sent (`sent` 0)."""
        now = self.ledger.now()
        async with self.database.transaction() as session:
            view = await self.ledger._visible(session, item_id, supervisor_id=supervisor_id)
            if view.status not in ACTIVE_STATUSES:
                raise InvalidTransition(view.status, N_("a closed item needs no nudge"))
            contacts = (await session.exec(select(UnitContact.chat_id, UnitContact.reachable)
                                           .where(UnitContact.unit_id == view.unit_id))).all()
            chats = [chat for chat, reachable in contacts if reachable]
            if not chats:
                return Nudged(view, 0, len(contacts))
            event = ItemHistory(item_id=item_id, at=now, actor_kind="supervisor", actor_id=supervisor_id,
                                actor_name=self._name(supervisor_id, by_name), action="nudged",
                                new_value=str(len(chats)))
            session.add(event)
            await session.flush()
            await outbox.enqueue(await session.connection(), [
                outbox.message_row(notices.NUDGED, f"{item_id}:{event.id}:{chat}", chat, now, item_id=item_id,
                                   payload={"item_id": item_id}) for chat in chats])
            return Nudged(view, len(chats), len(contacts))

    @staticmethod
    async def _reachable(session, unit_id: int) -> list[int]:
        return list((await session.exec(select(UnitContact.chat_id).where(
            UnitContact.unit_id == unit_id, UnitContact.reachable == True))).all())  # noqa: E712

    # ---- extension requests ---------------------------------------------------------------
    async def check_extension(self, item_id: int, *, chat_id: int) -> ItemView:
        """May this contact ask for an extension of the item now? (NotFound, InvalidTransition,
        ExtensionPending.) Asked before the prompts, and again when the request is sent."""
        async with self.database.session() as session:
            return await self._extensible(session, item_id, chat_id)

    async def _extensible(self, session, item_id: int, chat_id: int) -> ItemView:
        view = await self.ledger._visible(session, item_id, chat_id=chat_id)
        if view.status not in ACTIVE_STATUSES:
            raise InvalidTransition(view.status, N_("a closed item has no deadline to extend"))
        if view.deadline is None:
            raise InvalidTransition(view.status, N_("a standing item has no deadline to extend"))
        waiting = (await session.exec(select(ExtensionRequest).where(
            ExtensionRequest.item_id == item_id, ExtensionRequest.status == PENDING))).first()
        if waiting is not None:
            raise ExtensionPending(self._extension(waiting, view))
        return view

    async def request_extension(self, item_id: int, *, chat_id: int, reason: str, proposed: date) -> Extension:
        """延期申请: every supervisor is sent the request with approve / refuse buttons. The proposed date
        must be later than the deadline (and than today)."""
        reason = (reason or "").strip()[:MAX_TEXT]
        if not reason:
            raise LedgerError(N_("an extension request needs a reason"))
        now = self.ledger.now()
        async with self.database.transaction() as session:
            await self.ledger._item_for_update(session, item_id)
            view = await self._extensible(session, item_id, chat_id)
            if proposed <= max(view.deadline, self.ledger.today()):
                raise LedgerError(N_("the proposed date must be later than the deadline ({deadline}) and than today"),
                                  deadline=view.deadline.isoformat())
            request = ExtensionRequest(item_id=item_id, chat_id=chat_id, reason=reason, proposed=proposed,
                                       old_deadline=_deadline_text(view.deadline_kind, view.deadline),
                                       status=PENDING, created_at=now)
            session.add(request)
            await session.flush()
            session.add(ItemHistory(item_id=item_id, at=now, actor_kind="contact", actor_id=chat_id,
                                    action="extension_requested", field="deadline", old_value=request.old_deadline,
                                    new_value=proposed.isoformat(), comment=reason))
            await outbox.enqueue(await session.connection(), [
                outbox.message_row(notices.EXTENSION_REQUESTED, f"{request.id}:{chat}", chat, now, item_id=item_id,
                                   payload={"extension_id": request.id})
                for chat in sorted(self.ledger.settings.supervisor_ids)])
            return self._extension(request, view)

    async def pending_extension(self, item_id: int) -> Extension | None:
        """The item's request waiting for a decision, if any (the caller has checked access)."""
        async with self.database.session() as session:
            request = (await session.exec(select(ExtensionRequest).where(
                ExtensionRequest.item_id == item_id, ExtensionRequest.status == PENDING))).first()
            return self._extension(request, await self.ledger._view(session, item_id)) if request else None

    async def extension(self, extension_id: int, *, supervisor_id: int | None = None,
                        chat_id: int | None = None) -> Extension:
        """A request, for a supervisor or the contact who made it."""
        async with self.database.session() as session:
            request = await session.get(ExtensionRequest, extension_id)
            if request is None:
                raise NotFound(N_("no such extension request"))
            if supervisor_id is None and request.chat_id != chat_id:
                raise NotFound(N_("no such extension request"))
            view = await self.ledger._view(session, request.item_id) if supervisor_id is None else \
                await self.ledger._visible(session, request.item_id, supervisor_id=supervisor_id)
            return self._extension(request, view)

    async def approve_extension(self, extension_id: int, *, supervisor_id: int, by_name: str = "") -> Extension:
        """The deadline moves to the proposed date (with the request's reason); the contact is told."""
        request = await self._decide(extension_id, supervisor_id, APPROVED, None, by_name)
        try:
            await self.ledger.change_deadline(request.item_id, request.proposed, reason=request.reason,
                                              actor_kind="supervisor", actor_id=supervisor_id)
        except LedgerError:  # the item closed between the two steps: the request waits again
            await self._undo_approval(request)
            raise
        await self._sign_deadline_change(request.item_id, supervisor_id, by_name)
        await self._tell_decision(request, approved_by=supervisor_id)
        return request

    async def _undo_approval(self, request: Extension) -> None:
        async with self.database.transaction() as session:
            await session.exec(update(ExtensionRequest).where(ExtensionRequest.id == request.id).values(
                status=PENDING, decided_at=None, decided_by=None, decided_by_name=None))

    async def refuse_extension(self, extension_id: int, *, supervisor_id: int, reason: str,
                               by_name: str = "") -> Extension:
        reason = (reason or "").strip()[:MAX_TEXT]
        if not reason:
            raise LedgerError(N_("a refusal needs a short reason"))
        request = await self._decide(extension_id, supervisor_id, REFUSED, reason, by_name)
        await self._tell_decision(request)
        return request

    async def _decide(self, extension_id: int, supervisor_id: int, status: str, refusal: str | None,
                      by_name: str) -> Extension:
        """Claim the decision: only the first of two supervisors changes a pending request."""
        now = self.ledger.now()
        name = self._name(supervisor_id, by_name)
        async with self.database.transaction() as session:
            request = await session.get(ExtensionRequest, extension_id)
            if request is None:
                raise NotFound(N_("no such extension request"))
            view = await self.ledger._visible(session, request.item_id, supervisor_id=supervisor_id)
            if request.status == PENDING and view.status not in ACTIVE_STATUSES:
                raise InvalidTransition(view.status, N_("a closed item has no deadline to extend"))
            claimed = await session.exec(update(ExtensionRequest).where(
                ExtensionRequest.id == extension_id, ExtensionRequest.status == PENDING).values(
                status=status, decided_at=now, decided_by=supervisor_id, decided_by_name=name, refusal=refusal))
            await session.refresh(request)
            if claimed.rowcount != 1:
                raise ExtensionDecided(self._extension(request, view))
            if status == REFUSED:  # an approval is written once the deadline has moved (_tell_decision)
                session.add(ItemHistory(item_id=request.item_id, at=now, actor_kind="supervisor",
                                        actor_id=supervisor_id, actor_name=name, action="extension_refused",
                                        field="deadline", new_value=request.proposed.isoformat(), comment=refusal))
            return self._extension(request, view)

    async def _tell_decision(self, request: Extension, *, approved_by: int | None = None) -> None:
        """The contact who asked is told the decision; on an approval (written to the history now that
        the deadline has moved) this one message replaces, for them, the "deadline changed" notice
        (their unit's other contacts still get that)."""
        now = self.ledger.now()
        async with self.database.transaction() as session:
            if approved_by is not None:
                session.add(ItemHistory(item_id=request.item_id, at=now, actor_kind="supervisor", actor_id=approved_by,
                                        actor_name=request.decided_by_name, action="extension_approved",
                                        field="deadline", new_value=request.proposed.isoformat()))
                event = (await session.exec(select(func.max(ItemHistory.id)).where(
                    ItemHistory.item_id == request.item_id, ItemHistory.action == "deadline_changed"))).one()
                await session.exec(update(OutboxMessage).where(
                    OutboxMessage.kind == notices.DEADLINE_CHANGED,
                    OutboxMessage.slot == f"{request.item_id}:{event}:{request.chat_id}",
                    OutboxMessage.status == OutboxStatus.PENDING.value).values(status=OutboxStatus.CANCELLED.value))
            await outbox.enqueue(await session.connection(), [outbox.message_row(
                notices.EXTENSION_DECIDED, f"{request.id}:{request.chat_id}", request.chat_id, now,
                item_id=request.item_id, payload={"extension_id": request.id})])

    @staticmethod
    def _extension(request: ExtensionRequest, view: ItemView) -> Extension:
        return Extension(request.id, request.item_id, view.label, view.unit, request.chat_id, request.reason,
                         request.old_deadline, request.proposed, request.status, request.created_at,
                         request.decided_at, request.decided_by_name, request.refusal)


__all__ = ["Counts", "Event", "Extension", "ExtensionDecided", "ExtensionPending", "FILTERS", "ItemPage", "Nudged",
           "PER_PAGE", "Reassigned", "RoundRow", "UnitRow", "Workspace", "parse_typed_date"]
