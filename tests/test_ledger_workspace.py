"""The supervisors' workspace (bot/ledger/workspace.py): rounds → units → filtered items, an item's
whole history, notes, reassignment, nudges, and the contacts' extension requests decided once."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.config import load_settings
from bot.i18n import translator
from bot.ledger import workspace_texts
from bot.ledger.models import ItemHistory, RectificationItem
from bot.ledger.service import InvalidTransition, LedgerError, LedgerService, NotFound
from bot.ledger.workspace import ExtensionDecided, ExtensionPending, Workspace, parse_typed_date
from bot.outbox import OutboxMessage
from tests.conftest import TEST_KEY
from tests.test_ledger_service import (CHAT_A, CHAT_B, NOW, SUPERVISOR, Evidence, bind, clock, delivered,  # noqa: F401
                                       items, ledger, table)

zh = translator("zh")
OTHER_SUPERVISOR = 900000002


@pytest.fixture
def settings(tmp_path, database_url):
    """Two supervisors, named: the second of them deciding a request is told who decided it."""
    settings = load_settings(environ={
        "QINGFENG_DATABASE__URL": database_url, "QINGFENG_BOT__DATA_DIR": str(tmp_path / "data"),
        "QINGFENG_SECURITY__ENCRYPTION_KEYS": TEST_KEY,
        "QINGFENG_ACCESS__SUPERVISORS": f"{SUPERVISOR},{OTHER_SUPERVISOR}",
    })
    settings.access.supervisors[0].name = "王科长"
    return settings


@pytest.fixture
def work(ledger) -> Workspace:
    return Workspace(ledger)


async def outbox_rows(database, kind: str) -> list[tuple[int, str]]:
    async with database.session() as session:
        return list((await session.exec(select(OutboxMessage.chat_id, OutboxMessage.status)
                                        .where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))).all())


async def test_rounds_units_and_items_with_their_counts_and_filters(ledger, work, items, clock, database):
    await ledger.import_table(table(("1", "二轮问题", "甲局", "2026-06-03")), default_round="第二轮")
    clock.now = NOW + timedelta(days=4)  # 06-05: A-2 (06-10) is due within 7 days; 二轮-1 (06-03) overdue
    await ledger.record_progress(items["B-1"], chat_id=CHAT_B, text="已整改")
    await ledger.request_closure(items["B-1"], chat_id=CHAT_B)
    async with database.transaction() as session:
        await session.exec(update(RectificationItem).where(RectificationItem.id == items["A-1"])
                           .values(category="形式主义"))
        session.add(ItemHistory(item_id=items["A-2"], at=clock.now, actor_kind="contact", actor_id=CHAT_A,
                                action="reminder_acknowledged"))
    rounds = {r.name: r for r in await work.rounds(supervisor_id=SUPERVISOR)}
    assert [(n, r.counts.open, r.counts.overdue, r.counts.requested) for n, r in rounds.items()] == [
        ("第一轮", 4, 0, 1), ("第二轮", 1, 1, 0)]
    name, units = await work.units_of_round(rounds["第一轮"].id, supervisor_id=SUPERVISOR)
    assert name == "第一轮"
    assert [(u.name, u.counts.open, u.counts.requested) for u in units] == [("乙局", 2, 1), ("甲局", 2, 0)]

    first, jia = rounds["第一轮"].id, next(u.id for u in units if u.name == "甲局")

    async def listed(kind="all", category=0, unit=jia):
        page = await work.items(first, unit, supervisor_id=SUPERVISOR, kind=kind, category=category)
        return [v.label for v in page.items]

    assert await listed() == ["第一轮-A-2", "第一轮-A-1"]  # by deadline
    assert await listed("due7") == ["第一轮-A-2"]
    assert await listed("unack") == ["第一轮-A-1"]  # A-2's reminder was acknowledged
    assert await listed("category", 0) == ["第一轮-A-1"]
    assert await listed("category", 5) == []  # a forged category index finds nothing
    assert await listed("overdue") == []
    yi = next(u.id for u in units if u.name == "乙局")
    assert await listed("requested", unit=yi) == ["第一轮-B-1"]
    page = await work.items(first, jia, supervisor_id=SUPERVISOR)
    assert page.categories == ("形式主义",) and page.acknowledged == {items["A-2"]}
    with pytest.raises(NotFound):  # not a supervisor: nothing at all
        await work.rounds(supervisor_id=CHAT_A)
    with pytest.raises(NotFound):
        await work.items(first, jia, supervisor_id=SUPERVISOR, page=1)


async def test_a_units_items_come_eight_to_a_page(ledger, work):
    await ledger.add_unit("丙局")
    await ledger.import_table(table(*[(str(n), f"问题{n}", "丙局", f"2026-07-{n:02d}") for n in range(1, 11)]),
                              default_round="第三轮")
    (round_row,) = await work.rounds(supervisor_id=SUPERVISOR)
    _name, (unit,) = await work.units_of_round(round_row.id, supervisor_id=SUPERVISOR)
    first = await work.items(round_row.id, unit.id, supervisor_id=SUPERVISOR)
    second = await work.items(round_row.id, unit.id, supervisor_id=SUPERVISOR, page=1)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (10, 2, 8, 2)
    assert [v.label for v in second.items] == ["第三轮-9", "第三轮-10"]
    overdue, total = await work.overdue(supervisor_id=SUPERVISOR)
    assert (overdue, total) == ([], 0)


async def test_the_card_history_reads_every_event(ledger, work, items, database, clock):
    item = items["A-1"]
    async with database.transaction() as session:
        session.add(OutboxMessage(item_id=item, kind="before", slot="x:1", chat_id=CHAT_A, status="sent",
                                  next_attempt_at=NOW, created_at=NOW, sent_at=NOW))
        session.add(OutboxMessage(item_id=item, kind="before", slot="x:2", chat_id=CHAT_A, next_attempt_at=NOW,
                                  created_at=NOW))  # planned, not delivered: not in the history
        session.add(ItemHistory(item_id=item, at=NOW + timedelta(minutes=5), actor_kind="contact", actor_id=CHAT_A,
                                action="reminder_acknowledged"))
    clock.now = NOW + timedelta(hours=1)
    recorded = await ledger.record_progress(item, chat_id=CHAT_A, text="已合并两个APP",
                                            evidence=[Evidence("photo", "P1")])
    await ledger.record_progress(item, chat_id=CHAT_A, entry_id=recorded.progress_id,
                                 evidence=[Evidence("photo", "P2")])
    await ledger.request_closure(item, chat_id=CHAT_A)
    await ledger.send_back(item, supervisor_id=SUPERVISOR, comment="缺少会议纪要")
    await work.change_deadline(item, date(2027, 1, 31), reason="涉及跨年度预算", supervisor_id=OTHER_SUPERVISOR,
                               by_name="李主任")
    await work.add_note(item, supervisor_id=SUPERVISOR, text="已电话督促")
    with pytest.raises(LedgerError):
        await work.add_note(item, supervisor_id=SUPERVISOR, text="  ")

    events = await work.timeline(item, supervisor_id=SUPERVISOR)
    lines = workspace_texts.history_lines(events, zh, ledger.settings.zone)
    text = "\n".join(lines)
    assert lines[0].startswith("🗒") and "已电话督促" in lines[0]  # newest first
    assert "李主任调整整改时限 2026-12-31 → 2027-01-31" in text and "涉及跨年度预算" in text
    assert "退回" in text and "缺少会议纪要" in text and "王科长" in text
    assert "已合并两个APP" in text and zh("({count} evidence files)", count=2) in text
    assert [line for line in lines if "📨" in line] == [  # the delivered reminder, not the planned one
        "📨 " + zh("{at} reminder delivered to {unit}'s contact ({what})", at="2026-06-01 09:00", unit="甲局",
                  what=zh("before the deadline"))]
    assert zh("{at} the unit's contact acknowledged a reminder", at="2026-06-01 09:05") in text
    assert "created" not in text
    assert await work.acknowledged_at(item) == NOW + timedelta(minutes=5)
    with pytest.raises(NotFound):
        await work.timeline(item, supervisor_id=CHAT_A)


async def test_reassign_moves_the_item_cancels_its_reminders_and_tells_the_new_unit(
        ledger, work, items, database, settings, clock):
    item = items["A-1"]
    async with database.transaction() as session:
        session.add(OutboxMessage(item_id=item, kind="before", slot="y:1", chat_id=CHAT_A, next_attempt_at=NOW,
                                  created_at=NOW))
    with pytest.raises(NotFound):
        await work.reassign(item, supervisor_id=SUPERVISOR, unit_name="没有的局")
    with pytest.raises(LedgerError):
        await work.reassign(item, supervisor_id=SUPERVISOR, unit_name="甲局")
    with pytest.raises(NotFound):
        await work.reassign(item, supervisor_id=CHAT_A, unit_name="乙局")
    done = await work.reassign(item, supervisor_id=SUPERVISOR, unit_name="乙局")
    assert (done.item.unit, done.old_unit, done.contacts) == ("乙局", "甲局", 1)
    assert await outbox_rows(database, "before") == [(CHAT_A, "cancelled")]
    told = dict(await delivered(ledger, settings, database, clock))
    assert "第一轮-A-1" in told[CHAT_B] and "乙局" in told[CHAT_B] and "甲局" in told[CHAT_B]
    assert "第一轮-A-1" in told[CHAT_A] and "不再由贵单位整改" in told[CHAT_A]  # the old unit is told too
    with pytest.raises(NotFound):  # 甲局 no longer sees it
        await ledger.item(item, chat_id=CHAT_A)
    moves = [(h.old_value, h.new_value, h.actor_name) for h in await ledger.history(item) if h.action == "reassigned"]
    assert moves == [("甲局", "乙局", "王科长")]
    await ledger.close_directly(item, supervisor_id=SUPERVISOR, reason="已撤销")
    with pytest.raises(InvalidTransition):
        await work.reassign(item, supervisor_id=SUPERVISOR, unit_name="甲局")


async def test_a_nudge_reaches_the_units_contacts_and_a_unit_without_any_is_said_so(
        ledger, work, items, database, settings, clock):
    nudged = await work.nudge(items["A-1"], supervisor_id=SUPERVISOR)
    assert (nudged.sent, nudged.bound) == (1, 1)
    [(chat, text)] = await delivered(ledger, settings, database, clock)
    assert chat == CHAT_A and "第一轮-A-1" in text and "甲局" in text
    await ledger.unbind(CHAT_B)
    await delivered(ledger, settings, database, clock)
    nobody = await work.nudge(items["B-1"], supervisor_id=SUPERVISOR)
    assert (nobody.sent, nobody.bound) == (0, 0)
    assert not [h for h in await ledger.history(items["B-1"]) if h.action == "nudged"]  # nothing claimed
    assert await delivered(ledger, settings, database, clock) == []
    assert [h.new_value for h in await ledger.history(items["A-1"]) if h.action == "nudged"] == ["1"]


async def test_an_extension_approved_moves_the_deadline_and_the_second_supervisor_is_told_who_decided(
        ledger, work, items, database, settings, clock):
    item = items["A-1"]  # due 2026-12-31
    with pytest.raises(LedgerError):  # not later than the deadline
        await work.request_extension(item, chat_id=CHAT_A, reason="预算未到位", proposed=date(2026, 12, 1))
    with pytest.raises(NotFound):  # another unit's item
        await work.request_extension(item, chat_id=CHAT_B, reason="x", proposed=date(2027, 3, 31))
    request = await work.request_extension(item, chat_id=CHAT_A, reason="预算未到位", proposed=date(2027, 3, 31))
    with pytest.raises(ExtensionPending):
        await work.request_extension(item, chat_id=CHAT_A, reason="再次", proposed=date(2027, 4, 30))
    assert (await work.pending_extension(item)).id == request.id  # shown on the card while it waits
    sent = await delivered(ledger, settings, database, clock)
    assert sorted(chat for chat, _ in sent) == [SUPERVISOR, OTHER_SUPERVISOR]
    assert all("第一轮-A-1" in text and "2027-03-31" in text and "预算未到位" in text for _, text in sent)

    decided = await work.approve_extension(request.id, supervisor_id=SUPERVISOR)
    assert decided.status == "approved"
    view = await ledger.item(item, chat_id=CHAT_A)
    assert view.deadline == date(2027, 3, 31) and await work.pending_extension(item) is None
    for decide in (work.approve_extension(request.id, supervisor_id=OTHER_SUPERVISOR),
                   work.refuse_extension(request.id, supervisor_id=OTHER_SUPERVISOR, reason="不同意")):
        with pytest.raises(ExtensionDecided) as already:
            await decide
        assert (already.value.extension.status, already.value.extension.decided_by_name) == ("approved", "王科长")
    told = await delivered(ledger, settings, database, clock)
    assert [chat for chat, _ in told] == [CHAT_A]  # one message: the decision (it says the new deadline)
    assert "2027-03-31" in told[0][1] and "批准" in told[0][1]
    changes = [(h.action, h.new_value, h.comment) for h in await ledger.history(item)
               if h.action.startswith("extension") or h.action == "deadline_changed"]
    assert changes == [("extension_requested", "2027-03-31", "预算未到位"), ("deadline_changed", "2027-03-31", "预算未到位"),
                       ("extension_approved", "2027-03-31", None)]


async def test_an_extension_refused_keeps_the_deadline_and_tells_the_contact_why(
        ledger, work, items, database, settings, clock):
    item = items["A-2"]
    request = await work.request_extension(item, chat_id=CHAT_A, reason="人手不足", proposed=date(2026, 7, 10))
    await delivered(ledger, settings, database, clock)
    with pytest.raises(LedgerError):
        await work.refuse_extension(request.id, supervisor_id=SUPERVISOR, reason=" ")
    await work.refuse_extension(request.id, supervisor_id=OTHER_SUPERVISOR, reason="时限不能再延")
    [(chat, text)] = await delivered(ledger, settings, database, clock)
    assert chat == CHAT_A and "时限不能再延" in text and "2026-06-10" in text
    assert (await ledger.item(item, chat_id=CHAT_A)).deadline == date(2026, 6, 10)
    with pytest.raises(ExtensionDecided) as already:
        await work.approve_extension(request.id, supervisor_id=SUPERVISOR)
    assert "已被" in workspace_texts.decided_text(already.value.extension, zh, settings.zone)
    # A new request may follow a refusal; none for a closed item.
    await ledger.close_directly(item, supervisor_id=SUPERVISOR, reason="已撤销")
    with pytest.raises(InvalidTransition):
        await work.request_extension(item, chat_id=CHAT_A, reason="x", proposed=date(2026, 8, 1))


def test_dates_are_read_as_people_type_them():
    today = date(2026, 12, 2)
    assert parse_typed_date("2027-01-31", today) == date(2027, 1, 31)
    assert parse_typed_date("2027年1月31日", today) == date(2027, 1, 31)
    assert parse_typed_date("2027/1/31", today) == date(2027, 1, 31)
    assert parse_typed_date("1月31日", today) == date(2027, 1, 31)  # the next 1月31日
    assert parse_typed_date("12月20日", today) == date(2026, 12, 20)
    assert parse_typed_date("2026-11-01", today) == date(2026, 11, 1)  # a past date, typed in full, is kept
    assert parse_typed_date("下周", today) is None
    assert parse_typed_date("2月30日", today) is None


def test_a_long_history_is_paged_to_fit_a_message():
    assert workspace_texts.history_pages([]) == [[]]
    short = [f"line {n}" for n in range(23)]
    assert [len(p) for p in workspace_texts.history_pages(short)] == [10, 10, 3]
    notes = ["🗒 " + "长" * 900] * 5  # long notes: fewer to a page
    pages = workspace_texts.history_pages(notes)
    assert all(sum(len(line) + 1 for line in page) <= 3000 for page in pages) and sum(map(len, pages)) == 5


@pytest.mark.parametrize(("kind", "said"), [("unreachable", "联系人无法联系"), ("standing_progress", "长期事项进展"),
                                            ("overdue", "已超期")])
def test_a_notice_in_an_items_history_names_what_it_was_in_the_readers_language(kind, said):
    from zoneinfo import ZoneInfo
    from bot.ledger.workspace import Event
    line = workspace_texts.event_line(Event(NOW, "reminder", "supervisor", detail=kind), translator("zh"),
                                      ZoneInfo("Asia/Shanghai"))
    assert f"已向督查人员发送提醒（{said}" in line and "reminder" not in line
