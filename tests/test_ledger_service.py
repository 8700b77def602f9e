"""LedgerService: invites bind once and expire; contacts see and act on their unit's items only;
the closing workflow (progress, closure request, approve / send back / close directly)."""

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.ledger.importer import ParsedItem, SourceRow, Table
from bot.outbox import OutboxMessage
from bot.ledger.service import Evidence, InvalidTransition, InviteInvalid, LedgerError, LedgerService, NotFound

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)
SUPERVISOR = 900000001  # the settings fixture's supervisor
CHAT_A, CHAT_B = 555001, 555002


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(settings, database, clock) -> LedgerService:
    return LedgerService(settings=settings, database=database, clock=clock)


def table(*rows: tuple[str, str, str, str]) -> Table:
    headers = {"external_id": "编号", "problem": "问题", "unit": "责任单位", "deadline": "整改时限"}
    return Table(headers=headers, rows=[SourceRow(n, dict(zip(headers, row))) for n, row in enumerate(rows, start=2)])


@pytest.fixture
async def items(ledger) -> dict[str, int]:
    """Two units with two items each; item ids by external id."""
    await ledger.add_unit("县政府")
    await ledger.add_unit("甲局", parent="县政府")
    await ledger.add_unit("乙局", parent="县政府")
    result = await ledger.import_table(table(("A-1", "甲局问题一", "甲局", "2026-12-31"),
                                             ("A-2", "甲局问题二", "甲局", "2026-06-10"),
                                             ("B-1", "乙局问题一", "乙局", "2026-12-31"),
                                             ("B-2", "乙局问题二", "乙局", "2026-07-01")), default_round="第一轮")
    assert result.applied, result.problems
    ids = {}
    for unit, chat in (("甲局", CHAT_A), ("乙局", CHAT_B)):
        invite = await ledger.create_invite(unit)
        await ledger.bind(invite.code, chat)
        _unit, views, _total = await ledger.items_for_chat(chat)
        ids |= {v.external_id: v.id for v in views}
    return ids


async def test_an_invite_binds_once(ledger):
    await ledger.add_unit("甲局")
    invite = await ledger.create_invite("甲局")
    assert len(invite.code) == 10 and invite.expires_at == NOW + timedelta(hours=72)
    unit = await ledger.bind(invite.code.lower(), CHAT_A)  # case and spaces do not matter
    assert unit.name == "甲局"
    assert (await ledger.unit_of_chat(CHAT_A)).name == "甲局"
    with pytest.raises(InviteInvalid) as used:
        await ledger.bind(invite.code, CHAT_B)
    assert used.value.reason == "used"
    assert await ledger.unit_of_chat(CHAT_B) is None
    with pytest.raises(InviteInvalid) as unknown:
        await ledger.bind("NOTACODE22", CHAT_B)
    assert unknown.value.reason == "unknown"


async def test_an_expired_invite_is_refused(ledger, clock, settings):
    await ledger.add_unit("甲局")
    invite = await ledger.create_invite("甲局")
    clock.now = NOW + timedelta(hours=settings.ledger.invite_ttl_hours, seconds=1)
    with pytest.raises(InviteInvalid) as expired:
        await ledger.bind(invite.code, CHAT_A)
    assert expired.value.reason == "expired"
    assert await ledger.unit_of_chat(CHAT_A) is None
    clock.now = NOW
    assert (await ledger.bind(invite.code, CHAT_A)).name == "甲局"  # it was not spent by the refusal


async def test_invite_for_an_unknown_unit(ledger):
    with pytest.raises(NotFound):
        await ledger.create_invite("没有的单位")


async def test_a_new_code_moves_a_chat_to_another_unit(ledger):
    await ledger.add_unit("甲局")
    await ledger.add_unit("乙局")
    await ledger.bind((await ledger.create_invite("甲局")).code, CHAT_A)
    await ledger.bind((await ledger.create_invite("乙局")).code, CHAT_A)
    assert (await ledger.unit_of_chat(CHAT_A)).name == "乙局"
    units = {u.name: u for u in await ledger.list_units()}
    assert (units["甲局"].contacts, units["乙局"].contacts) == (0, 1)


async def test_a_contact_sees_and_acts_on_their_units_items_only(ledger, items):
    unit, views, total = await ledger.items_for_chat(CHAT_A)
    assert unit.name == "甲局" and total == 2
    assert [v.external_id for v in views] == ["A-2", "A-1"]  # nearest deadline first
    foreign = items["B-1"]
    with pytest.raises(NotFound):
        await ledger.item(foreign, chat_id=CHAT_A)
    with pytest.raises(NotFound):
        await ledger.record_progress(foreign, chat_id=CHAT_A, text="不是我们的")
    with pytest.raises(NotFound):
        await ledger.request_closure(foreign, chat_id=CHAT_A)
    with pytest.raises(NotFound):
        await ledger.check_prompt(chat_id=CHAT_A, user_id=CHAT_A, action="progress", item_id=foreign)
    with pytest.raises(NotFound):
        await ledger.progress_of(foreign, chat_id=CHAT_A)
    with pytest.raises(NotFound):  # an unbound chat sees nothing
        await ledger.items_for_chat(777)
    assert (await ledger.item(foreign, chat_id=CHAT_B)).unit == "乙局"
    assert (await ledger.item(foreign, supervisor_id=SUPERVISOR)).unit == "乙局"


async def test_review_actions_need_a_supervisor(ledger, items):
    item = items["A-1"]
    await ledger.record_progress(item, chat_id=CHAT_A, text="已整改")
    await ledger.request_closure(item, chat_id=CHAT_A)
    for act in (ledger.approve(item, supervisor_id=CHAT_A),
                ledger.send_back(item, supervisor_id=CHAT_A, comment="x"),
                ledger.close_directly(item, supervisor_id=12345, reason="x")):
        with pytest.raises(NotFound):
            await act
    with pytest.raises(NotFound):
        await ledger.check_prompt(chat_id=CHAT_A, user_id=CHAT_A, action="close_directly", item_id=item)
    assert (await ledger.item(item, chat_id=CHAT_A)).status == "closure_requested"


async def test_progress_closure_request_send_back_and_approval(ledger, items):
    item = items["A-1"]
    with pytest.raises(InvalidTransition):  # nothing reported yet
        await ledger.request_closure(item, chat_id=CHAT_A)
    await ledger.check_prompt(chat_id=CHAT_A, user_id=CHAT_A, action="progress", item_id=item)
    first = await ledger.record_progress(item, chat_id=CHAT_A, text="已合并两个APP")
    second = await ledger.record_progress(item, chat_id=CHAT_A, entry_id=first.progress_id,
                                          evidence=[Evidence("photo", "PHOTO-FILE-ID")])
    assert first.progress_id == second.progress_id and second.files == 1  # one report, its evidence added
    assert first.item.status == "open" and (await ledger.item(item, chat_id=CHAT_A)).status == "in_progress"

    requested = await ledger.request_closure(item, chat_id=CHAT_A)
    assert requested.status == "closure_requested"
    with pytest.raises(InvalidTransition):
        await ledger.request_closure(item, chat_id=CHAT_A)
    with pytest.raises(LedgerError):
        await ledger.send_back(item, supervisor_id=SUPERVISOR, comment="  ")
    back = await ledger.send_back(item, supervisor_id=SUPERVISOR, comment="缺少佐证材料")
    assert back.status == "in_progress"
    with pytest.raises(InvalidTransition):
        await ledger.approve(item, supervisor_id=SUPERVISOR)
    await ledger.record_progress(item, chat_id=CHAT_A, text="补充材料", evidence=[Evidence("document", "DOC-ID", "a.pdf", "application/pdf")])
    await ledger.request_closure(item, chat_id=CHAT_A)
    closed = await ledger.approve(item, supervisor_id=SUPERVISOR)
    assert closed.status == "closed" and not closed.overdue
    with pytest.raises(InvalidTransition):
        await ledger.record_progress(item, chat_id=CHAT_A, text="还有")

    progress = await ledger.progress_of(item, supervisor_id=SUPERVISOR)
    assert [(p.text, [e.file_id for e in p.evidence]) for p in progress] == [
        ("已合并两个APP", ["PHOTO-FILE-ID"]), ("补充材料", ["DOC-ID"])]
    actions = [(h.action, h.actor_kind) for h in await ledger.history(item)]
    assert actions == [("created", "import"), ("progress", "contact"), ("started", "contact"),
                       ("closure_requested", "contact"), ("sent_back", "supervisor"), ("progress", "contact"),
                       ("closure_requested", "contact"), ("approved", "supervisor")]
    assert [h.comment for h in await ledger.history(item) if h.action == "sent_back"] == ["缺少佐证材料"]


async def test_close_directly_needs_a_reason_and_cancels_pending_reminders(ledger, items, database):
    item = items["B-2"]
    async with database.transaction() as session:
        session.add(OutboxMessage(item_id=item, kind="before", slot="2026-07-01:-7", chat_id=5001, next_attempt_at=NOW, created_at=NOW))
    with pytest.raises(LedgerError):
        await ledger.close_directly(item, supervisor_id=SUPERVISOR, reason="")
    closed = await ledger.close_directly(item, supervisor_id=SUPERVISOR, reason="政策调整，问题已不存在")
    assert (closed.status, closed.closed_reason) == ("closed_directly", "政策调整，问题已不存在")
    async with database.session() as session:
        rows = (await session.exec(select(OutboxMessage.kind, OutboxMessage.status, OutboxMessage.chat_id))).all()
    decisions = [(status, chat) for kind, status, chat in rows if kind == "closure_decision"]
    assert [status for kind, status, _ in rows if kind == "before"] == ["cancelled"]
    assert decisions and {status for status, _ in decisions} == {"pending"}  # the unit is told, via the outbox
    with pytest.raises(InvalidTransition):
        await ledger.close_directly(item, supervisor_id=SUPERVISOR, reason="again")


async def test_summary_and_overdue_are_derived_from_today(ledger, items, clock):
    assert await ledger.overdue() == []
    clock.now = NOW + timedelta(days=15)  # A-2 (06-10) is overdue; B-2 (07-01) not yet
    overdue = await ledger.overdue()
    assert [(v.external_id, v.days_left) for v in overdue] == [("A-2", -6)]
    await ledger.record_progress(items["A-1"], chat_id=CHAT_A, text="进行中")
    summary = {s.unit: s for s in await ledger.summary()}
    assert summary["甲局"].counts == {"open": 1, "in_progress": 1} and summary["甲局"].overdue == 1
    assert summary["乙局"].counts == {"open": 2} and summary["乙局"].overdue == 0
    assert list(summary) == ["甲局", "乙局"]  # most overdue first
    rows = await ledger.export_rows()
    assert [(r[0], r[9]) for r in rows] == [("A-1", ""), ("A-2", "是"), ("B-1", ""), ("B-2", "")]


async def test_an_unreachable_contact_gets_no_notices(ledger, items):
    unit = await ledger.unit_of_chat(CHAT_A)
    assert await ledger.contact_chats(unit.id) == [CHAT_A]
    await ledger.mark_unreachable(CHAT_A)
    assert await ledger.contact_chats(unit.id) == []
    units = {u.name: u for u in await ledger.list_units()}
    assert (units["甲局"].contacts, units["甲局"].reachable_contacts, units["甲局"].parent) == (1, 0, "县政府")


def test_parsed_items_are_plain_values():
    item = ParsedItem(row=2, external_id="X", round="r", problem="p", unit="u", owner="", severity="normal",
                      deadline=date(2026, 12, 31), plan="")
    assert item.deadline.year == 2026


async def test_unit_parents_cannot_form_a_cycle_and_an_empty_parent_clears_it(ledger):
    await ledger.add_unit("A")
    await ledger.add_unit("B", parent="A")
    await ledger.add_unit("C", parent="B")
    with pytest.raises(LedgerError, match=r"cycle \(A → C → B → A\)"):
        await ledger.add_unit("A", parent="C")
    with pytest.raises(LedgerError, match="its own parent"):
        await ledger.add_unit("A", parent="A")
    assert (await ledger.add_unit("C")).parent == "B"  # no --parent: left as it was
    assert (await ledger.add_unit("C", parent="")).parent is None
    assert (await ledger.add_unit("A", parent="C")).parent == "C"  # no cycle any more


class Inbox:
    """The Telegram edge of the outbox: what each chat was sent."""

    def __init__(self):
        self.sent: list[tuple[int, str]] = []

    async def deliver(self, chat_id, rendered):
        from bot.outbox import Delivery, Outcome
        self.sent.append((chat_id, rendered.text))
        return Delivery(Outcome.SENT)


async def delivered(ledger, settings, database, clock) -> list[tuple[int, str]]:
    from bot.outbox import RenderEnv, Sender

    async def languages(chat_ids):
        return {chat_id: "zh" for chat_id in chat_ids}

    inbox = Inbox()
    env = RenderEnv(settings, frozenset(settings.supervisor_ids), None, ledger)
    await Sender(database, inbox.deliver, languages, env, worker="t", clock=lambda: clock.now).run()
    return inbox.sent


async def test_a_deadline_change_needs_a_reason_and_the_unit_is_told_why(ledger, items, settings, database, clock):
    item = items["A-1"]
    with pytest.raises(LedgerError):
        await ledger.change_deadline(item, date(2027, 1, 31), reason=" ", actor_kind="supervisor", actor_id=SUPERVISOR)
    moved = await ledger.change_deadline(item, date(2027, 1, 31), reason="涉及跨年度预算",
                                         actor_kind="supervisor", actor_id=SUPERVISOR)
    assert (moved.deadline, moved.label) == (date(2027, 1, 31), "第一轮-A-1")
    [(chat, text)] = await delivered(ledger, settings, database, clock)
    assert chat == CHAT_A
    assert "第一轮-A-1" in text and "2026-12-31 → 2027-01-31" in text and "涉及跨年度预算" in text
    changes = [(h.old_value, h.new_value, h.comment) for h in await ledger.history(item) if h.action == "deadline_changed"]
    assert changes == [("2026-12-31", "2027-01-31", "涉及跨年度预算")]


async def test_a_deadline_moved_into_the_past_makes_the_item_overdue_at_once(ledger, items, clock):
    moved = await ledger.change_deadline(items["B-1"], date(2026, 5, 20), reason="按巡察要求提前",
                                         actor_kind="supervisor", actor_id=SUPERVISOR)
    assert moved.overdue and moved.days_left == -12


async def test_a_closed_item_keeps_its_deadline(ledger, items):
    await ledger.close_directly(items["B-2"], supervisor_id=SUPERVISOR, reason="政策调整")
    with pytest.raises(InvalidTransition):
        await ledger.change_deadline(items["B-2"], date(2027, 1, 1), reason="x", actor_kind="supervisor",
                                     actor_id=SUPERVISOR)


async def test_a_reimport_that_moves_a_deadline_tells_the_unit(ledger, items, settings, database, clock):
    result = await ledger.import_table(table(("A-2", "甲局问题二", "甲局", "2026-08-31")), default_round="第一轮")
    assert result.applied and [p.external_id for p, _ in result.updated] == ["A-2"]
    sent = await delivered(ledger, settings, database, clock)
    assert [(chat, "2026-06-10 → 2026-08-31" in text, "第一轮-A-2" in text) for chat, text in sent] == [(CHAT_A, True, True)]


async def sent_back_once(ledger, item):
    await ledger.record_progress(item, chat_id=CHAT_A, text="已整改")
    await ledger.request_closure(item, chat_id=CHAT_A)
    return await ledger.send_back(item, supervisor_id=SUPERVISOR, comment="缺少会议纪要")


async def test_the_send_back_comment_stays_on_the_card_until_the_item_closes(ledger, items, clock):
    from bot.i18n import translator
    from bot.ledger import texts

    item = items["A-1"]
    back = await sent_back_once(ledger, item)
    card = texts.item_text(await ledger.item(item, chat_id=CHAT_A), translator("zh"), zone=ledger.settings.zone)
    assert back.sent_back_comment == "缺少会议纪要" and "2026-06-01" in card and "缺少会议纪要" in card
    clock.now += timedelta(days=1)
    await ledger.record_progress(item, chat_id=CHAT_A, text="补充会议纪要")
    await ledger.request_closure(item, chat_id=CHAT_A)
    closed = await ledger.approve(item, supervisor_id=SUPERVISOR)
    assert closed.sent_back_comment is None
    assert "缺少会议纪要" not in texts.item_text(closed, translator("zh"))


async def test_a_new_closure_request_after_a_send_back_needs_new_progress_and_says_it_is_a_resubmission(
        ledger, items, database):
    from bot.ledger.service import NeedsNewProgress

    item = items["A-1"]
    await sent_back_once(ledger, item)
    with pytest.raises(NeedsNewProgress) as refused:
        await ledger.request_closure(item, chat_id=CHAT_A)
    assert (refused.value.label, refused.value.comment) == ("第一轮-A-1", "缺少会议纪要")
    await ledger.record_progress(item, chat_id=CHAT_A, evidence=[Evidence("photo", "MINUTES-PHOTO")])
    assert (await ledger.request_closure(item, chat_id=CHAT_A)).status == "closure_requested"
    async with database.session() as session:
        requests = (await session.exec(select(OutboxMessage.payload).where(OutboxMessage.kind == "closure_requested")
                                       .order_by(OutboxMessage.id))).all()
    assert [json.loads(p)["resubmission"] for p in requests] == [False, True]


async def two_supervisors(settings, database, clock, **ledger_settings) -> tuple[LedgerService, int]:
    """A ledger with two supervisors (the first named 王科长) and one item whose closing is requested."""
    from bot.config import Supervisor

    two = settings.model_copy(deep=True)
    two.access.supervisors = [Supervisor(id=SUPERVISOR, name="王科长"), Supervisor(id=SUPERVISOR + 1)]
    for name, value in ledger_settings.items():
        setattr(two.ledger, name, value)
    ledger = LedgerService(settings=two, database=database, clock=clock)
    await ledger.add_unit("甲局")
    await ledger.import_table(table(("A-1", "问题", "甲局", "2026-12-31")), default_round="第一轮")
    await ledger.bind((await ledger.create_invite("甲局")).code, CHAT_A)
    (_unit, [view], _n) = await ledger.items_for_chat(CHAT_A)
    await ledger.record_progress(view.id, chat_id=CHAT_A, text="完成")
    await ledger.request_closure(view.id, chat_id=CHAT_A)
    return ledger, view.id


async def test_every_other_supervisor_learns_who_decided(settings, database, clock):
    ledger, item = await two_supervisors(settings, database, clock)
    await ledger.approve(item, supervisor_id=SUPERVISOR, by_name="Wang")
    sent = await delivered(ledger, ledger.settings, database, clock)
    told = [text for chat, text in sent if chat == SUPERVISOR + 1 and "王科长" in text]
    assert told and "第一轮-A-1" in told[0] and "批准" in told[0]
    assert not [text for chat, text in sent if chat == SUPERVISOR and "王科长" in text]  # not the decider


async def test_the_second_of_two_supervisors_deciding_at_once_is_told_who_decided(ledger, items):
    from bot.ledger.service import AlreadyDecided

    item = items["A-1"]
    await ledger.record_progress(item, chat_id=CHAT_A, text="完成")
    await ledger.request_closure(item, chat_id=CHAT_A)
    await ledger.send_back(item, supervisor_id=SUPERVISOR, comment="材料不全", by_name="李四")
    with pytest.raises(AlreadyDecided) as second:
        await ledger.approve(item, supervisor_id=SUPERVISOR)
    assert (second.value.decision.action, second.value.decision.actor_name) == ("sent_back", "李四")


async def test_with_a_second_review_closing_needs_two_different_supervisors(settings, database, clock):
    from bot.ledger.service import SecondReviewNeeded

    ledger, item = await two_supervisors(settings, database, clock, second_review=True)
    first = await ledger.approve(item, supervisor_id=SUPERVISOR, by_name="张三")
    assert first.status == "closure_requested" and (first.first_review_at, first.first_reviewer) == (NOW, "王科长")
    with pytest.raises(SecondReviewNeeded):
        await ledger.approve(item, supervisor_id=SUPERVISOR)
    assert (await ledger.approve(item, supervisor_id=SUPERVISOR + 1)).status == "closed"
    assert [h.action for h in await ledger.history(item)][-2:] == ["first_approved", "approved"]


async def test_evidence_is_kept_by_the_bot_and_exported_beside_the_ledger_with_its_history(
        ledger, items, settings, tmp_path):
    import os
    from openpyxl import load_workbook

    item = items["A-1"]
    scan = b"%PDF-1.4 minutes of the meeting"
    await ledger.record_progress(item, chat_id=CHAT_A, text="会议纪要见附件",
                                 evidence=[Evidence("document", "DOC-ID", "会议纪要/终稿.pdf", "application/pdf",
                                                    content=scan),
                                           Evidence("photo", "PHOTO-ID")])  # too big to fetch: no copy
    [entry] = await ledger.progress_of(item, chat_id=CHAT_A)
    kept = settings.data_dir / entry.evidence[0].stored_path
    assert kept.read_bytes() == scan and oct(os.stat(kept).st_mode & 0o777) == "0o600"
    assert entry.evidence[1].stored_path is None
    out, folder = tmp_path / "ledger.xlsx", tmp_path / "evidence"
    await ledger.export_xlsx(out, evidence_dir=folder)
    [copied] = list((folder / "第一轮-A-1").iterdir())
    assert copied.read_bytes() == scan and copied.name.endswith("会议纪要_终稿.pdf")
    book = load_workbook(out)
    history = [[c.value for c in row] for row in book["处理记录"].iter_rows(min_row=2)]
    assert ["第一轮-A-1", "报告进展", "会议纪要见附件"] == [history[1][0], history[1][3], history[1][7]]
    assert [row[4:7] for row in history if row[3] == "开始整改"] == [["状态", "未开始", "整改中"]]  # no raw codes
    files = [[c.value for c in row] for row in book["佐证材料"].iter_rows(min_row=2)]
    assert [(f[0], f[3], f[4]) for f in files] == [("第一轮-A-1", "会议纪要/终稿.pdf", f"第一轮-A-1/{copied.name}"),
                                                   ("第一轮-A-1", None, "机器人未保存副本")]


# ---- administration: units, contacts, deleted items (issue 11 item 7) --------------------------

CHAT_PARENT, CHAT_TOP = 555003, 555004


async def bind(ledger, unit: str, chat: int) -> None:
    await ledger.bind((await ledger.create_invite(unit)).code, chat)


async def pending_rows(database, **where) -> list:
    async with database.session() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.status == "pending")
        for name, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, name) == value)
        return list((await session.exec(stmt)).all())


async def test_a_unit_with_open_items_is_removed_only_by_reassigning_them_with_their_history(ledger, items, database):
    from bot import outbox
    await ledger.import_table(table(("C-1", "两局共同问题", "乙局、甲局", "2026-12-31")), default_round="第一轮")
    reminder = outbox.message_row("before", f"{items['A-1']}:x:-7:{CHAT_A}", CHAT_A, NOW, item_id=items["A-1"])
    await outbox.enqueue_now(ledger.database, [reminder])
    with pytest.raises(LedgerError) as refused:
        await ledger.remove_unit("甲局")
    assert "2 open item(s)" in str(refused.value) and "--reassign-to" in str(refused.value)
    assert [u.name for u in await ledger.list_units()] == ["乙局", "县政府", "甲局"]  # nothing removed
    with pytest.raises(NotFound):
        await ledger.remove_unit("甲局", reassign_to="丙局")

    removed = await ledger.remove_unit("甲局", reassign_to="乙局")
    assert (removed.moved, removed.contacts, removed.co_unit_of) == (2, 1, 1)
    assert "甲局" not in [u.name for u in await ledger.list_units()]
    moved = await ledger.item(items["A-1"], chat_id=CHAT_B)  # now 乙局's, with its history
    assert moved.unit == "乙局"
    history = await ledger.history(items["A-1"])
    assert [(h.action, h.old_value, h.new_value) for h in history][-1] == ("reassigned", "甲局", "乙局")
    assert (await ledger.item(items["A-1"], supervisor_id=SUPERVISOR)).unit == "乙局"
    shared = (await ledger.tasks_for_chat(CHAT_B)).own
    assert next(v for v in shared if v.external_id == "C-1").co_units == ()  # its lead is no co-unit of itself
    assert await pending_rows(database, item_id=items["A-1"]) == []  # the old unit's reminder is not sent
    assert await ledger.unit_of_chat(CHAT_A) is None


async def test_a_unit_with_only_closed_items_is_not_removed_with_their_history(ledger, items):
    await ledger.close_directly(items["A-1"], supervisor_id=SUPERVISOR, reason="政策调整")
    await ledger.close_directly(items["A-2"], supervisor_id=SUPERVISOR, reason="政策调整")
    with pytest.raises(LedgerError, match="2 closed item"):
        await ledger.remove_unit("甲局")
    await ledger.add_unit("空局", parent="甲局")
    removed = await ledger.remove_unit("空局")
    assert (removed.moved, removed.orphans) == (0, ())


async def test_renaming_a_unit_keeps_its_items_and_co_unit_mentions(ledger, items):
    await ledger.import_table(table(("C-1", "两局共同问题", "乙局、甲局", "2026-12-31")), default_round="第一轮")
    with pytest.raises(LedgerError, match="exists already"):
        await ledger.rename_unit("甲局", "乙局")
    await ledger.rename_unit("甲局", "县甲局")
    assert (await ledger.unit_of_chat(CHAT_A)).name == "县甲局"
    tasks = await ledger.tasks_for_chat(CHAT_A)
    assert [v.external_id for v in tasks.own] == ["A-2", "A-1"]
    assert [(v.external_id, v.co_units) for v in tasks.assisting] == [("C-1", ("县甲局",))]


async def test_contacts_are_listed_and_an_unbound_chat_is_told_once_and_sent_nothing_more(
        ledger, items, settings, database, clock):
    from bot import outbox
    listed = await ledger.contacts()
    assert [(c.unit, c.chat_id, c.reachable) for c in listed] == [("乙局", CHAT_B, True), ("甲局", CHAT_A, True)]
    assert [c.chat_id for c in await ledger.contacts("甲局")] == [CHAT_A]
    with pytest.raises(NotFound):
        await ledger.contacts("丙局")
    reminder = outbox.message_row("before", f"{items['A-1']}:x:-7:{CHAT_A}", CHAT_A, NOW, item_id=items["A-1"])
    await outbox.enqueue_now(database, [reminder])
    assert (await ledger.unbind(CHAT_A)).unit == "甲局"
    assert await ledger.unit_of_chat(CHAT_A) is None
    with pytest.raises(NotFound):
        await ledger.unbind(CHAT_A)
    sent = await delivered(ledger, settings, database, clock)
    assert [chat for chat, _text in sent] == [CHAT_A]
    assert "不再代表<b>甲局</b>" in sent[0][1]  # the notice, not the reminder


async def test_a_deleted_item_keeps_its_history_and_leaves_tasks_reminders_export_and_digest(
        ledger, items, database, clock):
    from bot.reminders.planner import Planner
    from bot.reminders.policy import Levels
    from tests.test_reminders import ALWAYS
    POLICY = Levels(5, 0, 2, 1, 3, working=False)  # calendar days: overdue is red, to the unit, its parent and supervisors

    with pytest.raises(LedgerError):
        await ledger.delete_item("第一轮", "A-2", reason=" ")
    with pytest.raises(NotFound):
        await ledger.delete_item("第二轮", "A-2", reason="重复录入")
    deleted = await ledger.delete_item("第一轮", "A-2", reason="与A-1重复")
    assert deleted.label == "第一轮-A-2"
    with pytest.raises(LedgerError, match="deleted already"):
        await ledger.delete_item("第一轮", "A-2", reason="again")
    history = await ledger.history(items["A-2"])
    assert (history[-1].action, history[-1].new_value, history[-1].comment) == ("deleted", "deleted", "与A-1重复")
    assert [v.external_id for v in (await ledger.tasks_for_chat(CHAT_A)).own] == ["A-1"]
    for reader in (dict(chat_id=CHAT_A), dict(supervisor_id=SUPERVISOR)):
        with pytest.raises(NotFound):
            await ledger.item(items["A-2"], **reader)
    assert "A-2" not in [row[0] for row in await ledger.export_rows()]
    assert next(s for s in await ledger.summary() if s.unit == "甲局").total == 1
    await Planner(database, POLICY, {}, ALWAYS, {SUPERVISOR}).run(datetime(2026, 6, 20, 2, tzinfo=timezone.utc))
    assert await pending_rows(database, item_id=items["A-2"]) == []  # overdue, deleted: no reminder
    again = await ledger.import_table(table(("A-2", "甲局问题二", "甲局", "2026-06-10")), default_round="第一轮")
    assert [p.external_id for p in again.deleted_rows] == ["A-2"] and not again.created and not again.updated


# ---- co-units and parent units read their items (issue 11 item 5, issue 12 item 5) ---------------

async def test_co_units_and_units_above_see_the_items_read_only(ledger, items):
    await ledger.add_unit("市政府")
    await ledger.add_unit("县政府", parent="市政府")
    await ledger.add_unit("甲局股室", parent="甲局")
    await ledger.import_table(table(("C-1", "两局共同问题", "乙局、甲局", "2026-12-31"),
                                    ("D-1", "股室问题", "甲局股室", "2026-09-30")), default_round="第一轮")
    await bind(ledger, "县政府", CHAT_PARENT)
    await bind(ledger, "市政府", CHAT_TOP)
    shared = next(v for v in (await ledger.tasks_for_chat(CHAT_B)).own if v.external_id == "C-1")

    assisting = await ledger.tasks_for_chat(CHAT_A)
    assert [v.external_id for v in assisting.assisting] == ["C-1"]
    assert [v.external_id for v in assisting.subordinate] == ["D-1"]  # 甲局股室 is under 甲局
    for top in (CHAT_PARENT, CHAT_TOP):  # children, and children of children, grouped by unit, by deadline
        below = await ledger.tasks_for_chat(top)
        assert [(v.unit, v.external_id) for v in below.subordinate] == [
            ("乙局", "B-2"), ("乙局", "B-1"), ("乙局", "C-1"), ("甲局", "A-2"), ("甲局", "A-1"), ("甲局股室", "D-1")]
        assert below.own == [] and below.assisting == []

    for reader, item in ((CHAT_A, shared.id), (CHAT_PARENT, items["A-1"]), (CHAT_TOP, items["B-1"])):
        assert (await ledger.item(item, chat_id=reader)).id == item   # the card opens
        await ledger.progress_of(item, chat_id=reader)
        with pytest.raises(NotFound):                                   # but they do not act on it
            await ledger.record_progress(item, chat_id=reader, text="代报进展")
        with pytest.raises(NotFound):
            await ledger.request_closure(item, chat_id=reader)
        with pytest.raises(NotFound):
            await ledger.check_prompt(chat_id=reader, user_id=reader, action="progress", item_id=item)
    with pytest.raises(NotFound):  # a sibling unit sees nothing of 甲局's own items
        await ledger.item(items["A-1"], chat_id=CHAT_B)
    with pytest.raises(NotFound):  # nor does a unit below see its parent's
        await ledger.item(items["A-1"], chat_id=(await _bound_below(ledger)))


async def _bound_below(ledger) -> int:
    await bind(ledger, "甲局股室", 555009)
    return 555009


class Buttons(Inbox):
    def __init__(self):
        super().__init__()
        self.buttons: dict[int, list[str]] = {}

    async def deliver(self, chat_id, rendered):
        self.buttons.setdefault(chat_id, []).extend(data for row in rendered.buttons for _label, data in row)
        return await super().deliver(chat_id, rendered)


async def test_an_escalation_to_the_parent_unit_carries_only_buttons_that_work_for_it(
        ledger, items, settings, database, clock):
    from bot.outbox import RenderEnv, Sender
    from bot.reminders.planner import Planner
    from bot.reminders.policy import Levels
    from tests.test_reminders import ALWAYS
    POLICY = Levels(5, 0, 2, 1, 3, working=False)  # calendar days: overdue is red, to the unit, its parent and supervisors

    await bind(ledger, "县政府", CHAT_PARENT)
    clock.now = datetime(2026, 6, 17, 2, tzinfo=timezone.utc)  # A-2 (due 06-10) is 7 days overdue: escalation
    await Planner(database, POLICY, {}, ALWAYS, {SUPERVISOR}).run(clock.now)
    inbox = Buttons()

    async def languages(chat_ids):
        return {chat_id: "zh" for chat_id in chat_ids}

    env = RenderEnv(settings, frozenset(settings.supervisor_ids), None, ledger)
    await Sender(database, inbox.deliver, languages, env, worker="t", clock=lambda: clock.now).run()
    assert inbox.buttons[CHAT_PARENT] == [f"li:{items['A-2']}"]
    assert (await ledger.item(items["A-2"], chat_id=CHAT_PARENT)).label == "第一轮-A-2"  # the button opens it
    assert f"lp:{items['A-2']}" in inbox.buttons[CHAT_A]  # the unit itself still acts from its reminder


async def test_a_month_end_without_a_year_is_flagged_only_without_a_filing_date(ledger):
    await ledger.add_unit("甲局")
    guessed = await ledger.import_table(table(("1", "问题", "甲局", "3月底"), ("2", "问题", "甲局", "2026-12-31")),
                                        default_round="第一轮", dry_run=True)
    assert [(p.external_id, p.deadline) for p in guessed.guessed_years] == [("1", date(2027, 3, 31))]  # on 06-01
    filed = table(("1", "问题", "甲局", "3月底"))
    filed.filing_date = date(2026, 2, 1)
    assert (await ledger.import_table(filed, default_round="第一轮", dry_run=True)).guessed_years == []


async def test_a_chat_bound_to_a_unit_is_not_moved_to_another_by_a_second_code(ledger, items):
    invite = await ledger.create_invite("乙局")
    with pytest.raises(InviteInvalid) as refused:
        await ledger.bind(invite.code, CHAT_A)  # CHAT_A is the only contact of 甲局, which has open items
    assert (refused.value.reason, refused.value.unit) == ("bound_elsewhere", "甲局")
    assert (await ledger.unit_of_chat(CHAT_A)).name == "甲局"
    await ledger.bind(invite.code, 555009)  # the code was not used up by the refusal
    assert (await ledger.unit_of_chat(555009)).name == "乙局"


async def test_a_unit_bound_after_the_days_pass_is_reminded_the_same_day(settings, database, clock):
    from bot.reminders.policy import Levels
    from bot.reminders.service import ReminderService
    from tests.test_reminders import ALWAYS

    ledger = LedgerService(settings=settings, database=database, clock=clock)
    await ledger.add_unit("甲局")
    await ledger.import_table(table(("A-1", "问题", "甲局", "2026-05-25")), default_round="第一轮")  # overdue
    reminders = ReminderService(settings, database, None, ledger)
    reminders.planner.levels, reminders.planner.timing = Levels(5, 0, 2, 1, 3, working=False), ALWAYS
    await reminders.plan(clock.now)  # nobody to tell yet: the supervisors only
    await bind(ledger, "甲局", CHAT_A)
    assert await reminders.replan_unit((await ledger.unit_of_chat(CHAT_A)).id, clock.now) == 1
    await reminders.plan(clock.now + timedelta(minutes=1))
    async with database.session() as session:
        chats = (await session.exec(select(OutboxMessage.chat_id).where(OutboxMessage.item_id.is_not(None)))).all()
    assert CHAT_A in chats  # the contact who bound today gets today's reminder, today
