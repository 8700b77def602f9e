"""The rectification ledger (整改台账): import, units and contacts, items, progress and closing.

No Telegram here: callers pass chat ids and user ids as plain integers and get dataclasses back.
Every action on an item checks access itself: a contact (a chat bound to a unit) sees and acts
on its unit's items only; supervisor actions need a supervisor's user id (from the settings).
A refused action and an item that does not exist look the same (`NotFound`), so a forged button
learns nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox, workdays
from bot.config import Settings
from bot.db import Database
from bot.ledger import evidence_store, importer, notices, states
from bot.i18n import N_
from bot.ledger.importer import ParsedItem, Problem, Table
from bot.ledger.models import (ACTIVE_STATUSES, CLOSED_STATUSES, EvidenceFile, InspectionRound, InviteCode, ItemHistory,
                               ItemStatus, ProgressEntry,
                               RectificationItem, Unit, UnitContact, item_label)
from bot.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 10
MAX_TEXT = 4000
IMPORT_BATCH = 500


class LedgerError(importer.ExplainedError):
    """An action that cannot be done; str() says why in English (logs), render(_) in the operator's language."""


class NotFound(LedgerError):
    """No such item, unit or chat binding — or not one this caller may see."""


class InvalidTransition(LedgerError):
    def __init__(self, status: str, message: str, /, **values):
        super().__init__(message, **values)
        self.status = status


class InviteInvalid(LedgerError):
    def __init__(self, reason: str, unit: str | None = None):  # unknown, used, expired, bound_elsewhere
        super().__init__(N_("the invite code is {reason}"), reason=reason)
        self.reason, self.unit = reason, unit


@dataclass(frozen=True)
class UnitInfo:
    id: int
    name: str
    parent: str | None = None
    contacts: int = 0
    reachable_contacts: int = 0
    active_items: int = 0


@dataclass(frozen=True)
class ItemView:
    id: int
    external_id: str
    round: str
    unit_id: int
    unit: str
    problem: str
    owner: str
    severity: str
    deadline: date | None  # None: a standing item (长期坚持), never overdue
    plan: str
    status: str
    closed_reason: str | None
    overdue: bool
    days_left: int | None  # negative when overdue; None for a standing item
    deadline_kind: str = "date"
    category: str = ""
    leader: str = ""
    progress_text: str = ""
    note: str = ""
    co_units: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    sent_back_comment: str | None = None  # the last send-back, until the item closes
    sent_back_at: datetime | None = None
    first_review_at: datetime | None = None  # with ledger.second_review: the first approval, if given
    first_reviewer: str | None = None

    @property
    def label(self) -> str:
        return item_label(self.round, self.external_id)


@dataclass(frozen=True)
class Evidence:
    kind: str
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)  # as downloaded, to keep
    stored_path: str | None = None  # relative to the data folder; None: the bot holds no copy


@dataclass(frozen=True)
class ProgressView:
    id: int
    item_id: int
    at: datetime
    author_kind: str
    text: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class ProgressRecorded:
    progress_id: int
    item: ItemView
    text: str
    files: int  # evidence files of this entry so far


@dataclass(frozen=True)
class HistoryView:
    at: datetime
    actor_kind: str
    actor_id: int | None
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    comment: str | None
    actor_name: str | None = None


class NeedsNewProgress(InvalidTransition):
    """A closure request after a send-back, with no progress reported since."""

    def __init__(self, status: str, label: str, sent_back_at: datetime, comment: str):
        super().__init__(status, "report new progress or evidence since the item was sent back")
        self.label, self.sent_back_at, self.comment = label, sent_back_at, comment


class SecondReviewNeeded(LedgerError):
    """With ledger.second_review, the supervisor who gave the first approval cannot give the second."""


class AlreadyDecided(InvalidTransition):
    """The review was decided meanwhile (by another supervisor): who, what and when."""

    def __init__(self, status: str, decision: HistoryView | None):
        super().__init__(status, "already decided")
        self.decision = decision


@dataclass(frozen=True)
class UnitSummary:
    unit_id: int
    unit: str
    counts: dict[str, int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ContactInfo:
    """A chat bound to a unit (contacts act for their unit openly: their chat id is shown to the office)."""

    unit: str
    chat_id: int
    bound_at: datetime
    reachable: bool
    unreachable_since: datetime | None = None


@dataclass(frozen=True)
class UnitRemoved:
    name: str
    moved_to: str | None
    moved: int                  # items moved to `moved_to`, each with a history row
    contacts: int               # chats unbound with the unit
    co_unit_of: int             # items that named it as a co-unit
    orphans: tuple[str, ...]    # units whose parent it was (they have none now)


@dataclass(frozen=True)
class Tasks:
    """What a contact's /tasks shows: their unit's open items to act on, then read-only the items
    their unit assists (配合单位) and the items of the units below theirs (by unit)."""

    unit: UnitInfo
    own: list[ItemView]
    assisting: list[ItemView]
    subordinate: list[ItemView]

    def __len__(self) -> int:
        return len(self.own) + len(self.assisting) + len(self.subordinate)


@dataclass(frozen=True)
class Invite:
    code: str
    unit: str
    expires_at: datetime


@dataclass
class ImportResult:
    created: list[ParsedItem] = field(default_factory=list)
    updated: list[tuple[ParsedItem, dict[str, tuple[str, str]]]] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    new_rounds: list[str] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: dict[str, str] = field(default_factory=dict)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)
    round_label: str = ""
    filing_date: date | None = None
    overdue_at_import: int = 0   # active items whose deadline is already past
    deleted_rows: list[ParsedItem] = field(default_factory=list)  # rows naming a deleted item: left out
    guessed_years: list[ParsedItem] = field(default_factory=list)  # 10月底 without a year or a 填报日期
    closed_at_import: int = 0
    # rows whose deadline differs from one a supervisor set in the bot: (row, the bot's, the file's)
    kept_deadlines: list[tuple[ParsedItem, str, str]] = field(default_factory=list)
    applied: bool = False

    @property
    def clean(self) -> bool:
        return not self.problems


def allowed(view: "ItemView", action: str) -> bool:
    """May `action` be taken on the item now (bot/ledger/states.py)? The chat shows only these buttons."""
    return states.next_status(action, view.status) is not None


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class LedgerService:
    def __init__(self, *, settings: Settings, database: Database, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.database = database
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    # ---- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock().astimezone(timezone.utc)

    def today(self) -> date:
        return self._clock().astimezone(self.settings.zone).date()

    def is_supervisor(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.supervisor_ids

    # ---- units and contacts ----------------------------------------------------------------
    async def add_unit(self, name: str, parent: str | None = None) -> UnitInfo:
        """Add a unit, or set the parent of an existing one; parent "" clears it, None leaves it.
        A parent that would make a cycle (A → B → C → A) is refused."""
        name = name.strip()
        if not name or len(name) > importer.MAX_SHORT:
            raise LedgerError(N_("a unit name must have 1 to 200 characters"))
        async with self.database.transaction() as session:
            parent_row = None
            if parent and parent.strip():
                parent_row = await self._unit_by_name(session, parent.strip())
                if parent_row is None:
                    raise NotFound(N_("no unit named {name}"), name=parent.strip())
            unit = await self._unit_by_name(session, name)
            if unit is None:
                unit = Unit(name=name)
                session.add(unit)
                await session.flush()
            if parent is not None and not parent.strip():
                unit.parent_id = None
            elif parent_row is not None:
                if parent_row.id == unit.id:
                    raise LedgerError(N_("a unit cannot be its own parent"))
                chain, above = [parent_row.name], parent_row
                while above.parent_id is not None:
                    above = await session.get(Unit, above.parent_id)
                    chain.append(above.name)
                    if above.id == unit.id:
                        raise LedgerError(N_("{parent} cannot be the parent of {unit}: that would make a cycle "
                                             "({cycle})"), parent=parent_row.name, unit=unit.name,
                                          cycle=" → ".join([unit.name, *chain]))
                unit.parent_id = parent_row.id
            await session.flush()
            current = await session.get(Unit, unit.parent_id) if unit.parent_id else None
            return UnitInfo(unit.id, unit.name, current.name if current else None)

    async def list_units(self) -> list[UnitInfo]:
        async with self.database.session() as session:
            units = (await session.exec(select(Unit).order_by(Unit.name))).all()
            names = {u.id: u.name for u in units}
            contacts = Counter()
            reachable = Counter()
            for unit_id, ok in (await session.exec(select(UnitContact.unit_id, UnitContact.reachable))).all():
                contacts[unit_id] += 1
                reachable[unit_id] += bool(ok)
            active = dict((await session.exec(
                select(RectificationItem.unit_id, func.count()).where(col(RectificationItem.status).in_(ACTIVE_STATUSES))
                .group_by(RectificationItem.unit_id))).all())
        return [UnitInfo(u.id, u.name, names.get(u.parent_id), contacts[u.id], reachable[u.id], active.get(u.id, 0))
                for u in units]

    async def unit_of_chat(self, chat_id: int) -> UnitInfo | None:
        async with self.database.session() as session:
            row = (await session.exec(select(Unit).join(UnitContact, UnitContact.unit_id == Unit.id)
                                      .where(UnitContact.chat_id == chat_id))).first()
            return UnitInfo(row.id, row.name) if row else None

    async def contact_chats(self, unit_id: int) -> list[int]:
        """The reachable chats of a unit: where its notices go."""
        async with self.database.session() as session:
            rows = await session.exec(select(UnitContact.chat_id).where(UnitContact.unit_id == unit_id,
                                                                        UnitContact.reachable == True))  # noqa: E712
            return list(rows.all())

    async def mark_unreachable(self, chat_id: int) -> None:
        """The contact blocked the bot or left: keep the binding, stop sending to it."""
        async with self.database.transaction() as session:
            contact = (await session.exec(select(UnitContact).where(UnitContact.chat_id == chat_id))).first()
            if contact is not None and contact.reachable:
                contact.reachable = False
                contact.unreachable_since = self.now()

    # ---- administration (the CLI's units and ledger commands) -----------------------------
    async def rename_unit(self, old: str, new: str) -> UnitInfo:
        """A unit's new name; items naming it as a co-unit follow (with a history row each)."""
        new = new.strip()
        if not new or len(new) > importer.MAX_SHORT:
            raise LedgerError(N_("a unit name must have 1 to 200 characters"))
        async with self.database.transaction() as session:
            unit = await self._unit_by_name(session, old.strip())
            if unit is None:
                raise NotFound(N_("no unit named {name}"), name=old.strip())
            if new != unit.name:
                if await self._unit_by_name(session, new) is not None:
                    raise LedgerError(N_("a unit named {new} exists already: to merge {old} into it, use "
                                         "`qingfeng units remove {old} --reassign-to {new}`"), old=unit.name, new=new)
                await self._rename_co_unit(session, unit.name, new, "renamed")
                unit.name = new
            return UnitInfo(unit.id, unit.name)

    async def remove_unit(self, name: str, *, reassign_to: str | None = None) -> UnitRemoved:
        """Remove a unit. While it has items (open, closed or deleted: their history would go with
        it) this is refused, unless `reassign_to` names the unit that takes them over: each item is
        moved with a history row, and its pending reminders are cancelled (the new unit's contacts
        get their own from the next planner pass). Its contacts are unbound; its children lose
        their parent; co-unit mentions move to the new unit (or are dropped)."""
        async with self.database.transaction() as session:
            unit = await self._unit_by_name(session, name.strip())
            if unit is None:
                raise NotFound(N_("no unit named {name}"), name=name.strip())
            target = None
            if reassign_to is not None:
                target = await self._unit_by_name(session, reassign_to.strip())
                if target is None:
                    raise NotFound(N_("no unit named {name}"), name=reassign_to.strip())
                if target.id == unit.id:
                    raise LedgerError(N_("a unit cannot take over its own items: name another unit"))
            items = list((await session.exec(select(RectificationItem).where(RectificationItem.unit_id == unit.id)
                                             .order_by(RectificationItem.id))).all())
            if items and target is None:
                active = sum(i.status in ACTIVE_STATUSES for i in items)
                if active:
                    raise LedgerError(N_("{unit} has {count} open item(s): nothing was removed. Move them to another "
                                         "unit with --reassign-to OTHER (their history goes with them)"),
                                      unit=unit.name, count=active)
                raise LedgerError(N_("{unit} has {count} closed item(s) whose history would be lost: nothing was "
                                     "removed. Move them to another unit with --reassign-to OTHER"),
                                  unit=unit.name, count=len(items))
            now = self.now()
            for item in items:
                item.unit_id, item.updated_at = target.id, now
                item.co_units = [u for u in (item.co_units or ()) if u != target.name]  # the lead is no co-unit
                session.add(ItemHistory(item_id=item.id, at=now, actor_kind="cli", action="reassigned", field="unit",
                                        old_value=unit.name, new_value=target.name,
                                        comment=f"unit {unit.name} removed"))
                await self._cancel_pending(session, item.id)
            co_unit_of = await self._rename_co_unit(session, unit.name, target.name if target else None, "removed")
            contacts = (await session.exec(delete(UnitContact).where(UnitContact.unit_id == unit.id))).rowcount
            await session.exec(delete(InviteCode).where(InviteCode.unit_id == unit.id))
            children = list((await session.exec(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name))).all())
            for child in children:
                child.parent_id = None
            await session.flush()
            await session.delete(unit)
            return UnitRemoved(unit.name, target.name if target else None, len(items), contacts or 0, co_unit_of,
                               tuple(c.name for c in children))

    async def _rename_co_unit(self, session: AsyncSession, old: str, new: str | None, why: str) -> int:
        """Items naming `old` as a co-unit name `new` instead (None: no longer); a history row each."""
        changed = 0
        for item in (await session.exec(select(RectificationItem))).all():
            if old not in (item.co_units or ()):
                continue
            before = list(item.co_units)
            after = list(dict.fromkeys(new if u == old else u for u in before if u != old or new is not None))
            unit_name = (await session.get(Unit, item.unit_id)).name
            item.co_units = [u for u in after if u != unit_name]
            session.add(ItemHistory(item_id=item.id, at=self.now(), actor_kind="cli", action="co_units_changed",
                                    field="co_units", old_value="、".join(before), new_value="、".join(item.co_units),
                                    comment=f"unit {old} {why}"))
            changed += 1
        return changed

    async def contacts(self, unit: str | None = None) -> list[ContactInfo]:
        """Bound chats, by unit then by binding date; NotFound for an unknown unit."""
        async with self.database.session() as session:
            stmt = select(UnitContact, Unit.name).join(Unit, Unit.id == UnitContact.unit_id)
            if unit is not None:
                row = await self._unit_by_name(session, unit.strip())
                if row is None:
                    raise NotFound(N_("no unit named {name}"), name=unit.strip())
                stmt = stmt.where(UnitContact.unit_id == row.id)
            rows = (await session.exec(stmt.order_by(Unit.name, UnitContact.bound_at))).all()
        return [ContactInfo(name, c.chat_id, c.bound_at, c.reachable, c.unreachable_since) for c, name in rows]

    async def unbind(self, chat_id: int) -> ContactInfo:
        """The chat no longer acts for its unit: nothing about its items is sent there any more
        (pending reminders and notices to it are cancelled), and it is told so once, by the outbox."""
        now = self.now()
        async with self.database.transaction() as session:
            row = (await session.exec(select(UnitContact, Unit.name).join(Unit, Unit.id == UnitContact.unit_id)
                                      .where(UnitContact.chat_id == chat_id))).first()
            if row is None:
                raise NotFound(N_("no contact with chat id {chat_id}: see `qingfeng units contacts`"), chat_id=chat_id)
            contact, unit_name = row
            await session.exec(update(OutboxMessage).where(OutboxMessage.chat_id == chat_id,
                                                           col(OutboxMessage.item_id).is_not(None),
                                                           OutboxMessage.status == OutboxStatus.PENDING.value)
                               .values(status=OutboxStatus.CANCELLED.value))
            await session.delete(contact)
            await session.flush()
            if contact.reachable:
                await outbox.enqueue(await session.connection(), notices.unbound(chat_id, unit_name, now))
            return ContactInfo(unit_name, chat_id, contact.bound_at, contact.reachable, contact.unreachable_since)

    async def delete_item(self, round_name: str, number: str, *, reason: str) -> ItemView:
        """Take an item out of the ledger, keeping it and its history: its status becomes "deleted"
        (with a history row giving the reason), so it leaves /tasks, reminders, the export and the
        digest, and a re-import of its number does not bring it back."""
        reason = (reason or "").strip()[:MAX_TEXT]
        if not reason:
            raise LedgerError(N_("a reason is needed to delete an item"))
        label = f"{round_name.strip()}-{number.strip()}"
        async with self.database.transaction() as session:
            round_row = (await session.exec(select(InspectionRound)
                                            .where(InspectionRound.name == round_name.strip()))).first()
            item = None if round_row is None else (await session.exec(
                select(RectificationItem).where(RectificationItem.round_id == round_row.id,
                                                RectificationItem.external_id == number.strip())
                .with_for_update())).first()
            if item is None:
                raise NotFound(N_("no item {label} (round {round}, number {number})"), label=label,
                               round=round_name.strip(), number=number.strip())
            if item.status == ItemStatus.DELETED.value:
                raise LedgerError(N_("item {label} is deleted already"), label=label)
            view = await self._view(session, item.id)
            now = self.now()
            session.add(ItemHistory(item_id=item.id, at=now, actor_kind="cli", action="deleted", field="status",
                                    old_value=item.status, new_value=ItemStatus.DELETED.value, comment=reason))
            item.status, item.updated_at = ItemStatus.DELETED.value, now
            await self._cancel_pending(session, item.id)
            return view

    # ---- invites ---------------------------------------------------------------------------
    async def create_invite(self, unit: str) -> Invite:
        """A one-time code binding a chat to the unit; it expires after ledger.invite_ttl_hours."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        now = self.now()
        expires = now + timedelta(hours=self.settings.ledger.invite_ttl_hours)
        async with self.database.transaction() as session:
            row = await self._unit_by_name(session, unit.strip())
            if row is None:
                raise NotFound(N_("no unit named {name}"), name=unit.strip())
            session.add(InviteCode(code_hash=hash_code(code), unit_id=row.id, created_at=now, expires_at=expires))
            return Invite(code=code, unit=row.name, expires_at=expires)

    async def bind(self, code: str, chat_id: int) -> UnitInfo:
        """Bind the chat to the invite's unit. A code works once; an expired one is refused."""
        now = self.now()
        async with self.database.transaction() as session:
            invite = (await session.exec(select(InviteCode).where(InviteCode.code_hash == hash_code(code)))).first()
            if invite is None:
                raise InviteInvalid("unknown")
            if invite.used_at is not None:
                raise InviteInvalid("used")
            if invite.expires_at <= now:
                raise InviteInvalid("expired")
            contact = (await session.exec(select(UnitContact).where(UnitContact.chat_id == chat_id))).first()
            if contact is not None and contact.unit_id != invite.unit_id and await self._left_alone(session, contact):
                # Moving the chat would leave its unit's open items unreminded, silently: refused, code unused.
                raise InviteInvalid("bound_elsewhere", (await session.get(Unit, contact.unit_id)).name)
            # Claim the code atomically: of two chats using it at once, one wins.
            claimed = await session.exec(update(InviteCode).where(InviteCode.id == invite.id, col(InviteCode.used_at).is_(None))
                                         .values(used_at=now, used_by_chat=chat_id))
            if claimed.rowcount != 1:
                raise InviteInvalid("used")
            if contact is None:
                session.add(UnitContact(unit_id=invite.unit_id, chat_id=chat_id, reachable=True, bound_at=now))
            else:
                contact.unit_id, contact.reachable, contact.bound_at, contact.unreachable_since = invite.unit_id, True, now, None
            unit = await session.get(Unit, invite.unit_id)
            return UnitInfo(unit.id, unit.name)

    @staticmethod
    async def _left_alone(session: AsyncSession, contact: UnitContact) -> bool:
        """Would the contact's unit keep open items and no other reachable contact without it?"""
        others = (await session.exec(select(func.count()).select_from(UnitContact).where(
            UnitContact.unit_id == contact.unit_id, UnitContact.id != contact.id,
            UnitContact.reachable == True))).one()  # noqa: E712
        open_items = (await session.exec(select(func.count()).select_from(RectificationItem).where(
            RectificationItem.unit_id == contact.unit_id, col(RectificationItem.status).in_(ACTIVE_STATUSES)))).one()
        return not others and bool(open_items)

    # ---- import / export -------------------------------------------------------------------
    async def import_file(self, path: Path, **options) -> ImportResult:
        return await self.import_table(importer.read_table(path), **options)

    async def import_table(self, table: Table, *, dry_run: bool = False, skip_invalid: bool = False,
                           create_units: bool = False, default_round: str | None = None,
                           update_round: bool = False,
                           progress: Callable[[int], None] | None = None) -> ImportResult:
        """Check every row; write nothing unless the file is clean (or skip_invalid); update by round and
        number. Only the rounds the file names are read, so another ledger's items are never touched."""
        result = ImportResult(ignored_headers=list(table.ignored_headers), extra_headers=list(table.extra_headers),
                              sheets_read=list(table.sheets_read), sheets_skipped=dict(table.sheets_skipped),
                              skipped_rows=list(table.skipped_rows), header_rows=list(table.header_rows),
                              round_label=table.round_label, filing_date=table.filing_date)
        today = self.today()
        async with self.database.transaction() as session:
            units = {u.name: u for u in (await session.exec(select(Unit))).all()}
            rounds = {r.name: r for r in (await session.exec(select(InspectionRound))).all()}
            wanted_rounds = {default_round or importer._text(r.values.get("round")) or table.round_label
                             for r in table.rows}
            existing: dict[tuple[str, str], RectificationItem] = {}
            round_ids = [rounds[name].id for name in wanted_rounds if name in rounds]
            if round_ids:
                round_names = {r.id: r.name for r in rounds.values()}
                for item in (await session.exec(select(RectificationItem)
                                                .where(col(RectificationItem.round_id).in_(round_ids)))).all():
                    existing[round_names[item.round_id], item.external_id] = item
            items, result.problems = importer.check_rows(
                table, known_units=set(units), today=today, create_units=create_units, default_round=default_round,
                immediate_days=self.settings.ledger.immediate_working_days, calendar=workdays.calendar_from(self.settings))
            for name in sorted(wanted_rounds):  # the same round from another ledger: say so, unless meant
                known = rounds.get(name)
                if known and known.title and table.title and known.title != table.title and not update_round:
                    result.problems.append(Problem.of(
                        table.header_rows[0] if table.header_rows else 0, "-",
                        N_("round {round} already came from the ledger titled {old}; this file is titled {new}. "
                           "If it is the same ledger, import it with --update-round"),
                        round=name, old=known.title, new=table.title))
                    items = []
            unit_names = {u.id: n for n, u in units.items()}
            for parsed in items:
                item = existing.get((parsed.round, parsed.external_id))
                if item is not None and item.status == ItemStatus.DELETED.value:
                    result.deleted_rows.append(parsed)  # deleted from the ledger on purpose: left so
                    continue
                if item is None:
                    result.created.append(parsed)
                    if parsed.status != "closed" and parsed.deadline is not None and parsed.deadline < today:
                        result.overdue_at_import += 1
                    result.closed_at_import += parsed.status == "closed"
                    continue
                changes = _changes(item, parsed, unit_names)
                if changes:
                    result.updated.append((parsed, changes))
                else:
                    result.unchanged += 1
            await self._keep_deadlines_set_in_bot(session, result, existing)
            result.guessed_years = [p for p in items if p.year_guessed_from_import and p not in result.deleted_rows]
            result.new_units = sorted({u for p in items for u in (p.unit, *p.co_units) if u not in units})
            result.new_rounds = sorted({p.round for p in items if p.round not in rounds})
            if dry_run or (result.problems and not skip_invalid):
                await session.rollback()
                return result
            now = self.now()
            for name in result.new_units:
                units[name] = Unit(name=name)
                session.add(units[name])
            for name in result.new_rounds:
                rounds[name] = InspectionRound(name=name, title=table.title or None)
                session.add(rounds[name])
            for name in wanted_rounds:
                if name in rounds and table.title and (update_round or not rounds[name].title):
                    rounds[name].title = table.title
            await session.flush()
            for start in range(0, len(result.created), IMPORT_BATCH):  # batched: one flush per batch
                chunk = result.created[start:start + IMPORT_BATCH]
                batch = [RectificationItem(round_id=rounds[p.round].id, external_id=p.external_id,
                                           unit_id=units[p.unit].id, problem=p.problem, owner=p.owner,
                                           severity=p.severity, deadline=p.deadline, deadline_kind=p.deadline_kind,
                                           plan=p.plan, category=p.category, leader=p.leader,
                                           progress_text=p.progress, note=p.note, co_units=list(p.co_units),
                                           extra=dict(p.extra), status=_IMPORTED_STATUS[p.status],
                                           closed_at=now if p.status == "closed" else None,
                                           closed_reason=_closed_reason(p) if p.status == "closed" else None,
                                           created_at=now, updated_at=now)
                         for p in chunk]
                session.add_all(batch)
                await session.flush()
                history = []
                for item, parsed in zip(batch, chunk):
                    history.append(ItemHistory(item_id=item.id, at=now, actor_kind="import", action="created",
                                               new_value=_deadline_text(item.deadline_kind, item.deadline)))
                    if parsed.status != "open":
                        history.append(ItemHistory(item_id=item.id, at=now, actor_kind="import",
                                                   action="closed" if parsed.status == "closed" else "status",
                                                   field="status", old_value=ItemStatus.OPEN.value,
                                                   new_value=item.status, comment=parsed.progress or None))
                session.add_all(history)
                await session.flush()
                if progress:
                    progress(len(batch))
            for parsed, changes in result.updated:
                item = existing[parsed.round, parsed.external_id]
                new = _parsed_values(parsed)
                for name in changes:
                    if name == "unit":
                        item.unit_id = units[parsed.unit].id
                    elif name == "deadline":
                        item.deadline, item.deadline_kind = parsed.deadline, parsed.deadline_kind
                    elif name == "co_units":
                        item.co_units = list(parsed.co_units)
                    elif name == "extra":
                        item.extra = {**(item.extra or {}), **parsed.extra}
                    else:
                        setattr(item, name, parsed.progress if name == "progress_text" else new[name])
                item.updated_at = now
                for name, (old, new_value) in changes.items():
                    action = "deadline_changed" if name == "deadline" else "updated"
                    event = ItemHistory(item_id=item.id, at=now, actor_kind="import", action=action, field=name,
                                        old_value=old, new_value=new_value)
                    session.add(event)
                    if name == "deadline" and item.status in ACTIVE_STATUSES:
                        await session.flush()
                        await self._tell_deadline(session, item, event)
                if "deadline" in changes or "unit" in changes:
                    await self._cancel_pending(session, item.id)
                if progress:
                    progress(1)
            if progress and result.unchanged:
                progress(result.unchanged)
            result.applied = True
        return result

    async def export_rows(self) -> list[list[object]]:
        return (await self._export())[1]

    async def _export(self) -> tuple[list[str], list[list[object]]]:
        """The ledgers' own columns (佐证材料 …) and every item's row."""
        async with self.database.session() as session:
            views = await self._views(session, select(RectificationItem, Unit.name, InspectionRound.name)
                                      .where(RectificationItem.status != ItemStatus.DELETED.value)
                                      .order_by(InspectionRound.name, RectificationItem.external_id))
            latest: dict[int, str] = {}
            counts: Counter = Counter()
            for item_id, text in (await session.exec(select(ProgressEntry.item_id, ProgressEntry.text)
                                                      .order_by(ProgressEntry.id))).all():
                counts[item_id] += 1
                latest[item_id] = text
        extra = list(dict.fromkeys(h for v in views for h in v.extra))  # in the order first seen
        return extra, [[v.external_id, v.round, v.problem, v.unit, v.owner, importer.SEVERITY_ZH.get(v.severity, v.severity),
                 v.deadline if v.deadline is not None else "长期坚持", v.plan,
                 importer.STATUS_ZH.get(v.status, v.status), "是" if v.overdue else "",
                 counts[v.id], latest.get(v.id, ""), v.closed_reason or "",
                 v.category, v.leader, "、".join(v.co_units), v.progress_text, v.note]
                + [v.extra.get(h, "") for h in extra] for v in views]

    async def export_xlsx(self, target, *, evidence_dir: Path | None = None) -> int:
        """The ledger, its history sheet and its evidence list; with `evidence_dir`, every evidence
        file the bot kept is copied there, in one folder per item (第一轮-3/)."""
        extra, rows = await self._export()
        history, evidence = await self._archive(evidence_dir)
        importer.write_export(target, rows, extra, history, evidence)
        return len(rows)

    async def _archive(self, evidence_dir: Path | None) -> tuple[list[list[object]], list[list[object]]]:
        zone = self.settings.zone
        async with self.database.session() as session:
            labels = {i: item_label(r, e) for i, r, e in (await session.exec(
                select(RectificationItem.id, InspectionRound.name, RectificationItem.external_id)
                .join(InspectionRound, InspectionRound.id == RectificationItem.round_id))).all()}
            events = (await session.exec(select(ItemHistory).order_by(ItemHistory.item_id, ItemHistory.id))).all()
            files = (await session.exec(select(EvidenceFile, ProgressEntry.item_id, ProgressEntry.at)
                                        .join(ProgressEntry, ProgressEntry.id == EvidenceFile.progress_id)
                                        .order_by(EvidenceFile.id))).all()
        history = [[labels.get(h.item_id, ""), h.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    " ".join(filter(None, [importer.ACTOR_ZH.get(h.actor_kind, h.actor_kind), h.actor_name])),
                    importer.ACTION_ZH.get(h.action, h.action), importer.FIELD_ZH.get(h.field, h.field or ""),
                    _value_zh(h.field, h.old_value), _value_zh(h.field, h.new_value), h.comment or ""] for h in events]
        evidence = []
        for row, item_id, at in files:
            placed = ""
            if row.stored_path and evidence_dir is not None:
                placed = await asyncio.to_thread(evidence_store.copy_out, self.settings.data_dir, row.stored_path,
                                                 evidence_dir, labels.get(item_id, str(item_id)))
            evidence.append([labels.get(item_id, ""), at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                             "照片" if row.kind == "photo" else "文件", row.file_name or "",
                             placed or ("未导出" if row.stored_path else "机器人未保存副本"), row.size or "",
                             row.sha256 or ""])
        return history, evidence

    # ---- reading items ---------------------------------------------------------------------
    async def items_for_chat(self, chat_id: int, *, page: int = 0, per_page: int = 8,
                             include_closed: bool = False) -> tuple[UnitInfo, list[ItemView], int]:
        """A contact's items: active ones first by deadline. NotFound if the chat is bound to no unit."""
        unit = await self.unit_of_chat(chat_id)
        if unit is None:
            raise NotFound(N_("this chat is not bound to a unit"))
        async with self.database.session() as session:
            where = [RectificationItem.unit_id == unit.id]
            if not include_closed:
                where.append(col(RectificationItem.status).in_(ACTIVE_STATUSES))
            total = (await session.exec(select(func.count()).select_from(RectificationItem).where(*where))).one()
            stmt = (select(RectificationItem, Unit.name, InspectionRound.name).where(*where)
                    .order_by(RectificationItem.deadline, RectificationItem.id).offset(page * per_page).limit(per_page))
            return unit, await self._views(session, stmt), total

    async def tasks_for_chat(self, chat_id: int) -> Tasks:
        """Everything /tasks shows a contact, unpaged (a unit's open items number tens, not thousands):
        their unit's open items, the open items it assists, and those of every unit below it, each by
        deadline (standing items last), the units below by name. NotFound if the chat is bound to no unit."""
        unit = await self.unit_of_chat(chat_id)
        if unit is None:
            raise NotFound(N_("this chat is not bound to a unit"))
        async with self.database.session() as session:
            tree = await self._unit_tree(session)
            below = _below(tree, unit.id)
            assisted = [item_id for item_id, co_units in (await session.exec(
                select(RectificationItem.id, RectificationItem.co_units)
                .where(col(RectificationItem.status).in_(ACTIVE_STATUSES), RectificationItem.unit_id != unit.id))).all()
                if unit.name in (co_units or ())]
            wanted = [RectificationItem.unit_id == unit.id, col(RectificationItem.id).in_(assisted)]
            if below:
                wanted.append(col(RectificationItem.unit_id).in_(below))
            views = await self._views(session, select(RectificationItem, Unit.name, InspectionRound.name).where(
                col(RectificationItem.status).in_(ACTIVE_STATUSES), or_(*wanted)))
        views.sort(key=lambda v: (v.deadline is None, v.deadline or date.max, v.id))
        own = [v for v in views if v.unit_id == unit.id]
        assisting = [v for v in views if v.unit_id != unit.id and unit.name in v.co_units]
        subordinate = sorted((v for v in views if v.unit_id in below and unit.name not in v.co_units),
                             key=lambda v: v.unit)  # stable: by deadline within each unit
        return Tasks(unit, own, assisting, subordinate)

    async def item(self, item_id: int, *, chat_id: int | None = None, supervisor_id: int | None = None) -> ItemView:
        """One item, if the caller may see it: a supervisor, a chat bound to the item's unit, or (to
        read only) a chat of a co-unit or of a unit above the item's unit."""
        async with self.database.session() as session:
            return await self._visible(session, item_id, chat_id=chat_id, supervisor_id=supervisor_id, to_act=False)

    async def progress_of(self, item_id: int, *, chat_id: int | None = None,
                          supervisor_id: int | None = None) -> list[ProgressView]:
        async with self.database.session() as session:
            await self._visible(session, item_id, chat_id=chat_id, supervisor_id=supervisor_id, to_act=False)
            entries = (await session.exec(select(ProgressEntry).where(ProgressEntry.item_id == item_id)
                                          .order_by(ProgressEntry.id))).all()
            files: dict[int, list[Evidence]] = defaultdict(list)
            if entries:
                for row in (await session.exec(select(EvidenceFile).where(
                        col(EvidenceFile.progress_id).in_([e.id for e in entries])).order_by(EvidenceFile.id))).all():
                    files[row.progress_id].append(Evidence(row.kind, row.file_id, row.file_name, row.mime_type,
                                                          stored_path=row.stored_path))
        return [ProgressView(e.id, e.item_id, e.at, e.author_kind, e.text, tuple(files[e.id])) for e in entries]

    async def history(self, item_id: int) -> list[HistoryView]:
        async with self.database.session() as session:
            rows = (await session.exec(select(ItemHistory).where(ItemHistory.item_id == item_id)
                                       .order_by(ItemHistory.id))).all()
        return [_history_view(h) for h in rows]

    async def summary(self) -> list[UnitSummary]:
        """Counts by unit and status, with the overdue count, for supervisors."""
        today = self.today()
        async with self.database.session() as session:
            names = dict((await session.exec(select(Unit.id, Unit.name))).all())
            counts: dict[int, Counter] = defaultdict(Counter)
            for unit_id, status, n in (await session.exec(
                    select(RectificationItem.unit_id, RectificationItem.status, func.count())
                    .where(RectificationItem.status != ItemStatus.DELETED.value)
                    .group_by(RectificationItem.unit_id, RectificationItem.status))).all():
                counts[unit_id][status] = n
            overdue = dict((await session.exec(
                select(RectificationItem.unit_id, func.count())
                .where(col(RectificationItem.status).in_(ACTIVE_STATUSES), RectificationItem.deadline < today)
                .group_by(RectificationItem.unit_id))).all())
        return sorted((UnitSummary(unit_id, names.get(unit_id, "?"), dict(c), overdue.get(unit_id, 0))
                       for unit_id, c in counts.items()), key=lambda s: (-s.overdue, s.unit))

    async def overdue(self, *, limit: int | None = None) -> list[ItemView]:
        """Active items past their deadline, the longest overdue first."""
        async with self.database.session() as session:
            stmt = (select(RectificationItem, Unit.name, InspectionRound.name)
                    .where(col(RectificationItem.status).in_(ACTIVE_STATUSES), RectificationItem.deadline < self.today())
                    .order_by(RectificationItem.deadline, RectificationItem.id))
            if limit:
                stmt = stmt.limit(limit)
            return await self._views(session, stmt)

    # ---- before a prompt: may this chat act on this item now? ----------------------------
    async def check_prompt(self, *, chat_id: int, user_id: int, action: str, item_id: int) -> ItemView:
        """The item, if the next message of this user may be `action` on it (NotFound, InvalidTransition)."""
        supervisor_action = action in ("send_back", "close_directly")
        async with self.database.session() as session:
            view = await self._visible(session, item_id, chat_id=None if supervisor_action else chat_id,
                                       supervisor_id=user_id if supervisor_action else None)
        self._check_action(view, action)
        return view

    # ---- acting on items -------------------------------------------------------------------
    async def record_progress(self, item_id: int, *, chat_id: int, text: str = "", evidence: list[Evidence] = (),
                              entry_id: int | None = None) -> ProgressRecorded:
        """A contact reports progress (text and/or files). Messages of one progress report add to
        the entry the first one made (`entry_id`). Files that came with their content are kept
        under the data folder, named by item, so the archive outlives Telegram's copy."""
        text = (text or "").strip()[:MAX_TEXT]
        if not text and not evidence:
            raise LedgerError(N_("progress needs text or a file"))
        now = self.now()
        async with self.database.transaction() as session:
            item = await self._item_for_update(session, item_id)
            view = await self._visible(session, item_id, chat_id=chat_id)
            self._check_action(view, "progress")
            entry = await session.get(ProgressEntry, entry_id) if entry_id else None
            if entry is not None and item.sent_back_at is not None and entry.at <= item.sent_back_at:
                entry = None  # a report begun before the send-back: what comes now is new progress
            if entry is None or entry.item_id != item_id:
                entry = ProgressEntry(item_id=item_id, at=now, author_kind="contact", author_id=chat_id, text=text)
                session.add(entry)
                await session.flush()
                session.add(ItemHistory(item_id=item_id, at=now, actor_kind="contact", actor_id=chat_id,
                                        action="progress", comment=text or None))
            elif text:
                entry.text = (entry.text + "\n" + text).strip()[:MAX_TEXT]
            for file in evidence:
                row = EvidenceFile(progress_id=entry.id, kind=file.kind, file_id=file.file_id,
                                   file_unique_id="", file_name=file.file_name, mime_type=file.mime_type)
                session.add(row)
                if file.content is not None:
                    await session.flush()
                    row.stored_path, row.size, row.sha256 = await asyncio.to_thread(
                        evidence_store.keep, self.settings.data_dir, view.label, row.id, file)
            if item.status == ItemStatus.OPEN.value:
                self._set_status(session, item, ItemStatus.IN_PROGRESS, "contact", chat_id, now)
            await session.flush()
            count = (await session.exec(select(func.count()).select_from(EvidenceFile)
                                        .where(EvidenceFile.progress_id == entry.id))).one()
            return ProgressRecorded(progress_id=entry.id, item=view, text=entry.text, files=count)

    async def request_closure(self, item_id: int, *, chat_id: int, note: str | None = None) -> ItemView:
        """The unit asks for closing (销号); it needs a progress report first, and after a send-back
        one made since: the supervisors' request then says it is a resubmission."""
        now = self.now()
        async with self.database.transaction() as session:
            item = await self._item_for_update(session, item_id)
            view = await self._visible(session, item_id, chat_id=chat_id)
            self._check_action(view, "request_closure")
            reported = select(func.count()).select_from(ItemHistory).where(ItemHistory.item_id == item_id,
                                                                             ItemHistory.action == "progress")
            if item.sent_back_at is not None:  # progress reported after the last send-back
                sent_back = select(func.max(ItemHistory.id)).where(ItemHistory.item_id == item_id,
                                                                  ItemHistory.action == "sent_back")
                reported = reported.where(ItemHistory.id > sent_back.scalar_subquery())
            if not (await session.exec(reported)).one():
                if item.sent_back_at is not None:
                    raise NeedsNewProgress(item.status, view.label, item.sent_back_at, item.sent_back_comment or "")
                raise InvalidTransition(item.status, N_("report progress (with evidence) before asking for closing"))
            event = self._set_status(session, item, ItemStatus.CLOSURE_REQUESTED, "contact", chat_id, now, note)
            item.first_review_by = item.first_review_at = None
            await session.flush()
            await outbox.enqueue(await session.connection(), notices.closure_requested(
                item_id, event.id, sorted(self.settings.supervisor_ids), now,
                resubmission=item.sent_back_at is not None))
        return await self.item(item_id, chat_id=chat_id)

    async def approve(self, item_id: int, *, supervisor_id: int, comment: str | None = None,
                      by_name: str = "") -> ItemView:
        return await self._review(item_id, supervisor_id, comment, "approve", by_name)

    async def send_back(self, item_id: int, *, supervisor_id: int, comment: str, by_name: str = "") -> ItemView:
        if not (comment or "").strip():
            raise LedgerError(N_("a comment is needed to send an item back"))
        return await self._review(item_id, supervisor_id, comment.strip()[:MAX_TEXT], "send_back", by_name)

    async def close_directly(self, item_id: int, *, supervisor_id: int, reason: str, by_name: str = "") -> ItemView:
        """直接销号: an item that cannot be rectified (policy change, force majeure, inaccurate finding)."""
        if not (reason or "").strip():
            raise LedgerError(N_("a reason is needed to close an item directly"))
        return await self._review(item_id, supervisor_id, reason.strip()[:MAX_TEXT], "close_directly", by_name)

    def supervisor_name(self, supervisor_id: int | None, telegram_name: str = "") -> str:
        """A supervisor as the others see them: the configured name, else their Telegram name."""
        configured = next((s.name for s in self.settings.access.supervisors if s.id == supervisor_id), "")
        return (configured or telegram_name or "").strip()[:200]

    async def _review(self, item_id: int, supervisor_id: int, comment: str | None, action: str,
                      by_name: str) -> ItemView:
        """Decide a closure (or close directly). Every other supervisor is told who decided what; with
        ledger.second_review, a first approval waits for a second supervisor's."""
        now = self.now()
        name = self.supervisor_name(supervisor_id, by_name)
        async with self.database.transaction() as session:
            item = await self._item_for_update(session, item_id)
            view = await self._visible(session, item_id, supervisor_id=supervisor_id)
            if not allowed(view, action):  # of two supervisors deciding at once, the second lands here
                decided = await self._last_decision(session, item_id)
                if decided is not None and view.status != ItemStatus.OPEN.value:
                    raise AlreadyDecided(view.status, decided)
                self._check_action(view, action)
            if action == "approve" and self.settings.ledger.second_review and item.first_review_at is None:
                return await self._first_approval(session, item, supervisor_id, name, comment, now)
            if action == "approve" and item.first_review_by == supervisor_id:
                raise SecondReviewNeeded("the second approval must come from another supervisor")
            target = states.next_status(action, item.status)
            event = self._set_status(session, item, target, "supervisor", supervisor_id, now, comment)
            event.actor_name = name or None
            if target in (ItemStatus.CLOSED, ItemStatus.CLOSED_DIRECTLY):
                item.closed_at = now
                item.closed_reason = comment if target is ItemStatus.CLOSED_DIRECTLY else None
                item.sent_back_comment = item.sent_back_at = None
                await self._cancel_pending(session, item_id)
            else:  # sent back: the comment stays on the card until the item closes
                item.sent_back_comment, item.sent_back_at = comment, now
            item.first_review_by = item.first_review_at = None
            await session.flush()
            decision = {"approve": "approved", "send_back": "sent_back", "close_directly": "closed_directly"}[action]
            contacts = list((await session.exec(select(UnitContact.chat_id).where(
                UnitContact.unit_id == item.unit_id, UnitContact.reachable == True))).all())  # noqa: E712
            connection = await session.connection()
            await outbox.enqueue(connection, notices.decision(item_id, event.id, decision, comment or "", contacts, now))
            await outbox.enqueue(connection, notices.reviewed(item_id, event.id, decision, name, comment or "",
                                                              self._other_supervisors(supervisor_id), now))
            return await self._view(session, item_id)

    async def _first_approval(self, session: AsyncSession, item: RectificationItem, supervisor_id: int, name: str,
                              comment: str | None, now: datetime) -> ItemView:
        item.first_review_by, item.first_review_at = supervisor_id, now
        event = ItemHistory(item_id=item.id, at=now, actor_kind="supervisor", actor_id=supervisor_id,
                            actor_name=name or None, action="first_approved", comment=comment)
        session.add(event)
        await session.flush()
        await outbox.enqueue(await session.connection(), notices.reviewed(
            item.id, event.id, "first_approved", name, comment or "", self._other_supervisors(supervisor_id), now))
        return await self._view(session, item.id)

    def _other_supervisors(self, supervisor_id: int) -> list[int]:
        return sorted(self.settings.supervisor_ids - {supervisor_id})

    async def last_decision(self, item_id: int) -> HistoryView | None:
        async with self.database.session() as session:
            return await self._last_decision(session, item_id)

    @staticmethod
    async def _last_decision(session: AsyncSession, item_id: int) -> HistoryView | None:
        row = (await session.exec(select(ItemHistory).where(
            ItemHistory.item_id == item_id, col(ItemHistory.action).in_(REVIEW_ACTIONS))
            .order_by(col(ItemHistory.id).desc()))).first()
        return _history_view(row) if row else None

    async def change_deadline(self, item_id: int, deadline: date | None, *, reason: str, actor_kind: str,
                              actor_id: int | None) -> ItemView:
        """Move an item's deadline (None: standing); the reason is kept and the unit's contacts are
        told. A date in the past is allowed: the item is overdue from now on, and the view says so."""
        reason = (reason or "").strip()[:MAX_TEXT]
        if not reason:
            raise LedgerError(N_("a reason is needed to change a deadline"))
        async with self.database.transaction() as session:
            item = await self._item_for_update(session, item_id)
            if item.status not in ACTIVE_STATUSES:
                raise InvalidTransition(item.status, N_("a closed item has no deadline to change"))
            old = _deadline_text(item.deadline_kind, item.deadline)
            item.deadline, item.deadline_kind = deadline, "date" if deadline else "standing"
            item.updated_at = self.now()
            event = ItemHistory(item_id=item.id, at=item.updated_at, actor_kind=actor_kind, actor_id=actor_id,
                                action="deadline_changed", field="deadline", old_value=old,
                                new_value=_deadline_text(item.deadline_kind, deadline), comment=reason)
            session.add(event)
            await self._cancel_pending(session, item.id)
            await session.flush()
            await self._tell_deadline(session, item, event)
            return await self._view(session, item_id)

    # ---- helpers ---------------------------------------------------------------------------
    async def _tell_deadline(self, session: AsyncSession, item: RectificationItem, event: ItemHistory) -> None:
        contacts = list((await session.exec(select(UnitContact.chat_id).where(
            UnitContact.unit_id == item.unit_id, UnitContact.reachable == True))).all())  # noqa: E712
        await outbox.enqueue(await session.connection(), notices.deadline_changed(
            item.id, event.id, event.old_value or "", event.new_value or "", event.comment or "", contacts, self.now()))

    @staticmethod
    def _check_action(view: ItemView, action: str) -> None:
        if not allowed(view, action):
            raise InvalidTransition(view.status, N_("cannot {action} an item that is {status}"),
                                    action=action.replace("_", " "), status=view.status)

    def _set_status(self, session: AsyncSession, item: RectificationItem, status: ItemStatus, actor_kind: str,
                    actor_id: int | None, now: datetime, comment: str | None = None) -> ItemHistory:
        action = {ItemStatus.IN_PROGRESS: "sent_back" if item.status == ItemStatus.CLOSURE_REQUESTED.value else "started",
                  ItemStatus.CLOSURE_REQUESTED: "closure_requested", ItemStatus.CLOSED: "approved",
                  ItemStatus.CLOSED_DIRECTLY: "closed_directly"}.get(status, "status")
        event = ItemHistory(item_id=item.id, at=now, actor_kind=actor_kind, actor_id=actor_id, action=action,
                            field="status", old_value=item.status, new_value=status.value, comment=comment)
        session.add(event)
        item.status = status.value
        item.updated_at = now
        return event

    async def _cancel_pending(self, session: AsyncSession, item_id: int) -> None:
        """Reminders planned for an old deadline (or a closed item) are not sent."""
        await session.exec(update(OutboxMessage).where(OutboxMessage.item_id == item_id,
                                                       col(OutboxMessage.kind).not_in(notices.KINDS),
                                                       OutboxMessage.status == OutboxStatus.PENDING.value)
                           .values(status=OutboxStatus.CANCELLED.value))

    async def _item_for_update(self, session: AsyncSession, item_id: int) -> RectificationItem:
        item = (await session.exec(select(RectificationItem).where(RectificationItem.id == item_id)
                                   .with_for_update())).first()
        if item is None:
            raise NotFound(N_("no such item"))
        return item

    async def _view(self, session: AsyncSession, item_id: int) -> ItemView:
        """The item as it stands, unchecked: for callers that checked access already (or the CLI)."""
        views = await self._views(session, select(RectificationItem, Unit.name, InspectionRound.name)
                                  .where(RectificationItem.id == item_id))
        if not views:
            raise NotFound(N_("no such item"))
        return views[0]

    async def _visible(self, session: AsyncSession, item_id: int, *, chat_id: int | None = None,
                       supervisor_id: int | None = None, to_act: bool = True) -> ItemView:
        """The item if the caller may see it: a supervisor; the contact of its unit; and, only to read
        (`to_act` False), the contact of a co-unit or of a unit above the item's unit. A deleted
        item is seen by nobody."""
        view = await self._view(session, item_id)
        if view.status == ItemStatus.DELETED.value:
            raise NotFound(N_("no such item"))
        if supervisor_id is not None and self.is_supervisor(supervisor_id):
            return view
        if chat_id is not None:
            bound = (await session.exec(select(UnitContact.unit_id).where(UnitContact.chat_id == chat_id))).first()
            if bound is not None and (bound == view.unit_id
                                      or not to_act and await self._reads_as_other_unit(session, bound, view)):
                return view
        raise NotFound(N_("no such item"))

    async def _reads_as_other_unit(self, session: AsyncSession, unit_id: int, view: ItemView) -> bool:
        """Is `unit_id` a co-unit of the item, or above its unit (parent, parent's parent …)?"""
        tree = await self._unit_tree(session)
        return tree[unit_id][0] in view.co_units or view.unit_id in _below(tree, unit_id)

    @staticmethod
    async def _unit_tree(session: AsyncSession) -> dict[int, tuple[str, int | None]]:
        return {u.id: (u.name, u.parent_id) for u in (await session.exec(select(Unit))).all()}

    async def _views(self, session: AsyncSession, stmt) -> list[ItemView]:
        stmt = (stmt.join(Unit, Unit.id == RectificationItem.unit_id)
                .join(InspectionRound, InspectionRound.id == RectificationItem.round_id))
        today = self.today()
        return [ItemView(id=i.id, external_id=i.external_id, round=round_name, unit_id=i.unit_id, unit=unit_name,
                         problem=i.problem, owner=i.owner, severity=i.severity, deadline=i.deadline, plan=i.plan,
                         status=i.status, closed_reason=i.closed_reason,
                         overdue=i.status in ACTIVE_STATUSES and i.deadline is not None and i.deadline < today,
                         days_left=None if i.deadline is None else (i.deadline - today).days,
                         deadline_kind=i.deadline_kind, category=i.category, leader=i.leader,
                         progress_text=i.progress_text, note=i.note, co_units=tuple(i.co_units or ()),
                         extra=dict(i.extra or {}), sent_back_comment=i.sent_back_comment, sent_back_at=i.sent_back_at,
                         first_review_at=i.first_review_at,
                         first_reviewer=self.supervisor_name(i.first_review_by) if i.first_review_by else None)
                for i, unit_name, round_name in (await session.exec(stmt)).all()]

    async def _keep_deadlines_set_in_bot(self, session: AsyncSession, result: ImportResult,
                                         existing: dict[tuple[str, str], RectificationItem]) -> None:
        """A deadline a supervisor changed in the bot (with a reason, the unit told) is not undone by
        the office's older spreadsheet: the row's deadline change is dropped, and said so."""
        def item_id(parsed: ParsedItem) -> int:
            return existing[parsed.round, parsed.external_id].id

        set_in_bot = await self._deadlines_set_in_bot(
            session, [item_id(parsed) for parsed, changes in result.updated if "deadline" in changes])
        for parsed, changes in result.updated:
            if "deadline" in changes and item_id(parsed) in set_in_bot:
                bot_value, file_value = changes.pop("deadline")
                result.kept_deadlines.append((parsed, bot_value, file_value))
        result.unchanged += sum(1 for _parsed, changes in result.updated if not changes)
        result.updated = [(parsed, changes) for parsed, changes in result.updated if changes]

    @staticmethod
    async def _deadlines_set_in_bot(session: AsyncSession, item_ids: list[int]) -> set[int]:
        """The items whose deadline was last changed in the bot (by a supervisor, or an approved
        extension), not by an import."""
        if not item_ids:
            return set()
        last: dict[int, str] = {}
        for start in range(0, len(item_ids), IMPORT_BATCH):
            rows = await session.exec(select(ItemHistory.item_id, ItemHistory.actor_kind)
                                      .where(col(ItemHistory.item_id).in_(item_ids[start:start + IMPORT_BATCH]),
                                             ItemHistory.action == "deadline_changed")
                                      .order_by(col(ItemHistory.id)))
            last.update({item_id: actor for item_id, actor in rows.all()})
        return {item_id for item_id, actor in last.items() if actor != "import"}

    @staticmethod
    async def _unit_by_name(session: AsyncSession, name: str) -> Unit | None:
        return (await session.exec(select(Unit).where(Unit.name == name))).first()


# item attribute -> the importer's field that sets it (a column absent from the file leaves it as it was)
_IMPORTED = {"problem": "problem", "unit": "unit", "owner": "owner", "severity": "severity", "deadline": "deadline",
             "plan": "plan", "category": "category", "leader": "leader", "progress_text": "progress", "note": "note",
             "co_units": "unit", "extra": None}


_IMPORTED_STATUS = {"open": ItemStatus.OPEN.value, "in_progress": ItemStatus.IN_PROGRESS.value,
                    "closed": ItemStatus.CLOSED.value}


def _value_zh(field: str | None, value: str | None) -> str:
    """A history value as the export's Chinese reader knows it: statuses and deadline kinds named."""
    if not value:
        return ""
    if field == "status":
        return importer.STATUS_ZH.get(value, value)
    if field == "deadline":
        return "长期坚持" if value == "standing" else value.replace(" (immediate)", "（立行立改）")
    return value


REVIEW_ACTIONS = ("approved", "sent_back", "closed_directly", "first_approved")


def _history_view(h: ItemHistory) -> HistoryView:
    return HistoryView(h.at, h.actor_kind, h.actor_id, h.action, h.field, h.old_value, h.new_value, h.comment,
                       h.actor_name)


def _below(tree: dict[int, tuple[str, int | None]], unit_id: int) -> set[int]:
    """The units under `unit_id`: its children, their children, and so on (parents form no cycle)."""
    found, frontier = set(), {unit_id}
    while frontier:
        frontier = {child for child, (_name, parent) in tree.items() if parent in frontier} - found - {unit_id}
        found |= frontier
    return found


def _closed_reason(parsed: ParsedItem) -> str:
    return "closed in the imported ledger" + (f": {parsed.progress}" if parsed.progress else "")


def _item_values(item: RectificationItem, unit_names: dict[int, str]) -> dict[str, str]:
    return {"problem": item.problem, "unit": unit_names.get(item.unit_id, ""), "owner": item.owner,
            "severity": item.severity, "deadline": _deadline_text(item.deadline_kind, item.deadline), "plan": item.plan,
            "category": item.category, "leader": item.leader, "progress_text": item.progress_text, "note": item.note,
            "co_units": "、".join(item.co_units or ()), "extra": _extra_text(item.extra or {})}


def _parsed_values(parsed: ParsedItem) -> dict[str, str]:
    return {"problem": parsed.problem, "unit": parsed.unit, "owner": parsed.owner, "severity": parsed.severity,
            "deadline": _deadline_text(parsed.deadline_kind, parsed.deadline), "plan": parsed.plan,
            "category": parsed.category, "leader": parsed.leader, "progress_text": parsed.progress,
            "note": parsed.note, "co_units": "、".join(parsed.co_units), "extra": _extra_text(parsed.extra)}


def _deadline_text(kind: str, deadline: date | None) -> str:
    return "standing" if deadline is None else deadline.isoformat() + (" (immediate)" if kind == "immediate" else "")


def _extra_text(extra: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(extra.items()))


def _changes(item: RectificationItem, parsed: ParsedItem, unit_names: dict[int, str]) -> dict[str, tuple[str, str]]:
    """What the row would change; a field whose column the file does not have is not compared."""
    old, new = _item_values(item, unit_names), _parsed_values(parsed)
    present = parsed.present or frozenset(_IMPORTED.values())
    changes = {}
    for name, source in _IMPORTED.items():
        if source is not None and source not in present:
            continue
        if name == "extra":  # unknown columns: those of this file replace those of the same name only
            merged = {**(item.extra or {}), **parsed.extra}
            new[name] = _extra_text(merged)
        if old[name] != new[name]:
            changes[name] = (old[name], new[name])
    return changes


__all__ = ["CLOSED_STATUSES", "ContactInfo", "Evidence", "ImportResult", "Invite", "InviteInvalid", "InvalidTransition", "ItemView",
           "LedgerError", "LedgerService", "NotFound", "ProgressView", "Tasks", "UnitInfo", "UnitRemoved", "UnitSummary"]
