"""Ledger files as county offices build them (tests/data/ledgers, made blind from issue 11 by someone
who never read the importer): each one goes in as it is, and matches EXPECTED.yaml."""

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.i18n import translator
from bot.ledger import importer
from bot.ledger.models import InspectionRound, ItemHistory, RectificationItem, Unit
from bot.ledger.service import LedgerService

DATA = Path(__file__).parent / "data" / "ledgers"
EXPECTED = yaml.safe_load((DATA / "EXPECTED.yaml").read_text(encoding="utf-8"))["files"]
IMPORT_DAY = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai, Tuesday 2026-12-01
IMMEDIATE = date(2026, 12, 8)  # 立行立改: 5 working days after the import


@pytest.fixture
def ledger(settings, database) -> LedgerService:
    return LedgerService(settings=settings, database=database, clock=lambda: IMPORT_DAY)


def expected(name: str) -> dict:
    entry = EXPECTED[name]
    return EXPECTED[entry["same_as"]] if "same_as" in entry else entry


def expected_items(name: str) -> list[tuple[str, dict]]:
    """(key prefix, item) for every expected item; a multi-sheet file keys its items by sheet."""
    entry = expected(name)
    items = entry.get("items") or entry.get("items_if_round_given") or entry.get("good_items")
    if isinstance(items, dict):
        return [(f"{sheet}/", item) for sheet, sheet_items in items.items() for item in sheet_items]
    return [("", item) for item in items]


def as_expected(parsed: importer.ParsedItem, prefix: str, want: dict) -> dict:
    """The parsed item in EXPECTED.yaml's terms."""
    deadline = parsed.deadline_kind if parsed.deadline_kind in ("immediate", "standing") else parsed.deadline.isoformat()
    got = {"row": parsed.row, "id": parsed.external_id.removeprefix(prefix),
           "problem_starts": parsed.problem[:15], "plan_starts": parsed.plan[:15] or None,
           "category": parsed.category or None, "lead_unit": parsed.unit, "co_units": list(parsed.co_units),
           "owner": parsed.owner or None, "leader": parsed.leader or None, "deadline": deadline,
           "status": parsed.status, "progress": parsed.progress or None, "note": parsed.note or None}
    if "extra" in want:
        got["extra"] = parsed.extra
    return got


def trimmed(want: dict) -> dict:
    keys = ("row", "id", "problem_starts", "plan_starts", "category", "lead_unit", "co_units", "owner", "leader",
            "deadline", "status", "progress", "note", "extra")
    return {k: want[k] for k in keys if k in want}


ROUNDS = {"ledger_gb18030.csv": "县委第二轮巡察", "no_round.xlsx": "县委第二轮巡察",
          "no_round_plain_title.xlsx": "县委第二轮巡察"}
READABLE = ["county_a_round2.xlsx", "county_a_round2.xls", "county_a_round2.et", "county_a_round2.ods",
            "county_a_multisheet.xlsx", "county_b_round2.xlsx", "ledger_utf8.csv", "ledger_utf8_bom.csv",
            "ledger_gbk.csv", "ledger_gb18030.csv", "no_round.xlsx", "no_round_plain_title.xlsx"]


@pytest.mark.parametrize("name", READABLE)
async def test_each_office_ledger_goes_in_as_it_is(ledger, database, name):
    result = await ledger.import_file(DATA / name, create_units=True, default_round=ROUNDS.get(name))
    assert result.clean and result.applied, [str(p) for p in result.problems]
    wanted = expected_items(name)
    assert len(result.created) == len(wanted)
    for parsed, (prefix, want) in zip(result.created, wanted):
        assert as_expected(parsed, prefix, want) == trimmed(want), f"row {want['row']}"
        if want["deadline"] == "immediate":
            assert parsed.deadline == IMMEDIATE
    entry = expected(name)
    if isinstance(entry.get("round"), dict) and name not in ROUNDS:
        assert {p.round for p in result.created} == {entry["round"]["label"]}
    if entry.get("filing_date"):
        assert result.filing_date == date.fromisoformat(entry["filing_date"])
    past = sum(1 for _, w in wanted if w.get("past_at_import") and w["status"] != "closed")
    assert result.overdue_at_import == past


@pytest.mark.parametrize("name", ["county_a_round2.xlsx", "county_a_multisheet.xlsx", "ledger_utf8_bom.csv",
                                  "ledger_gbk.csv"])
async def test_sheets_and_layout_rows_are_named(ledger, name):
    entry = expected(name)
    table = importer.read_table(DATA / name)
    if "sheets_read" in entry:
        assert table.sheets_read == entry["sheets_read"]
        assert set(table.sheets_skipped) == set(entry["sheets_skipped"] or {})
    layout = entry["layout"]
    if "header_rows" in layout:  # one layout for the whole file
        assert table.header_rows == layout["header_rows"]
        skipped = dict(table.skipped_rows)
        assert [r for r, what in skipped.items() if what == "title"] == layout.get("title_rows", [])
        assert [r for r, what in skipped.items() if what == "filing"] == layout.get("filing_rows", [])
        assert [r for r, what in skipped.items() if what == "footnote"] == layout.get("footnote_rows", [])
        assert [r.number for r in table.rows] == layout["item_rows"]
    else:  # per sheet
        assert table.header_rows == [layout[s]["header_rows"][0] for s in entry["sheets_read"]]


async def test_the_four_formats_of_county_a_give_the_same_items(ledger):
    tables = [importer.read_table(DATA / f"county_a_round2.{ext}") for ext in ("xlsx", "xls", "et", "ods")]
    checked = [importer.check_rows(t, known_units=set(), today=date(2026, 12, 1), create_units=True)[0]
               for t in tables]
    assert checked[0] and all(items == checked[0] for items in checked[1:])


async def test_stored_items_keep_status_deadline_kind_co_units_and_extra_columns(ledger, database):
    await ledger.import_file(DATA / "county_a_multisheet.xlsx", create_units=True)
    async with database.session() as session:
        items = {i.external_id: i for i in (await session.exec(select(RectificationItem))).all()}
        closed = [h for h in (await session.exec(select(ItemHistory).where(ItemHistory.action == "closed"))).all()]
    assert len(items) == 9  # 形式主义问题 #1 and 官僚主义问题 #1 are two items
    first = items["形式主义问题/1"]
    assert first.extra == {"佐证材料": "会议计划表"} and first.co_units == ["县政府办公室"]
    assert first.status == "in_progress" and first.deadline == date(2026, 12, 31)
    standing = items["官僚主义问题/3"]
    assert (standing.deadline, standing.deadline_kind) == (None, "standing")
    immediate = items["官僚主义问题/2"]
    assert (immediate.deadline, immediate.deadline_kind, immediate.status) == (IMMEDIATE, "immediate", "closed")
    assert {h.item_id for h in closed} == {i.id for i in items.values() if i.status == "closed"}
    views = {v.external_id: v for v in await ledger.overdue()}
    assert "官僚主义问题/3" not in views  # standing: never overdue
    view = await ledger.item(standing.id, supervisor_id=next(iter(ledger.settings.supervisor_ids), None))
    assert view.deadline is None and view.days_left is None and not view.overdue


async def test_county_b_leaves_county_a_exactly_as_it_was(ledger, database):
    async def snapshot():
        async with database.session() as session:
            rows = (await session.exec(select(RectificationItem, InspectionRound.name)
                                       .join(InspectionRound))).all()
        return {(r, i.external_id): i.model_dump() for i, r in rows}

    assert (await ledger.import_file(DATA / "county_a_round2.xlsx", create_units=True)).applied
    before = await snapshot()
    result = await ledger.import_file(DATA / "county_b_round2.xlsx", create_units=True)
    assert result.applied and len(result.created) == 6 and not result.updated
    after = await snapshot()
    assert len(after) == 20
    assert {k: v for k, v in after.items() if k[0] == "县委第二轮巡察"} == before


async def test_a_column_absent_from_the_file_leaves_the_field_as_it_was(ledger, database, tmp_path):
    assert (await ledger.import_file(DATA / "county_a_round2.xlsx", create_units=True)).applied
    again = tmp_path / "again.csv"
    again.write_text("县委第二轮巡察反馈问题整改台账\n序号,反馈问题,责任单位,整改时限\n"
                     "1,文山会海问题依然突出（修订）,县委办公室、县政府办公室,2027年1月31日\n", encoding="utf-8")
    result = await ledger.import_file(again)
    assert result.applied and [set(changes) for _, changes in result.updated] == [{"problem", "deadline"}]
    async with database.session() as session:
        item = (await session.exec(select(RectificationItem).where(RectificationItem.external_id == "1"))).one()
    assert item.plan.startswith("1.严格执行年度发文计划") and item.leader == "王立新" and item.category == "形式主义问题"
    assert item.deadline == date(2027, 1, 31)


@pytest.mark.parametrize("name", ["no_round.xlsx", "no_round_plain_title.xlsx", "ledger_gb18030.csv"])
async def test_a_ledger_without_a_round_is_refused_naming_the_three_ways(ledger, database, name):
    result = await ledger.import_file(DATA / name, create_units=True)
    assert not result.applied and not result.created
    assert [p.message for p in result.problems] == [importer.NO_ROUND]
    assert "--round" in importer.NO_ROUND and "巡察轮次" in importer.NO_ROUND and "台账" in importer.NO_ROUND


async def test_broken_rows_are_named_by_row_and_column_and_nothing_is_stored(ledger, database):
    entry = EXPECTED["broken_rows.xlsx"]
    result = await ledger.import_file(DATA / "broken_rows.xlsx", create_units=True)
    assert not result.applied
    got = {(p.row, p.column) for p in result.problems}
    assert got == {(e["row"], e["column"].split(" ", 1)[1]) for e in entry["errors"]}
    async with database.session() as session:
        assert not (await session.exec(select(RectificationItem))).all()
        assert not (await session.exec(select(Unit))).all()
    skipped = await ledger.import_file(DATA / "broken_rows.xlsx", create_units=True, skip_invalid=True)
    assert [p.row for p in skipped.created] == [e["row"] for e in entry["good_items"]]
    # row 10 repeats 序号 6 of row 9: refused, it never overwrites row 9


def test_a_file_without_a_problem_column_names_the_accepted_headers():
    table = importer.read_table(DATA / "broken_no_problem_column.csv")
    _items, problems = importer.check_rows(table, known_units=set(), today=date(2026, 12, 1), create_units=True)
    messages = " ".join(p.message for p in problems)
    for header in ("问题", "问题描述", "存在问题", "反馈问题", "问题表现", "具体问题"):
        assert header in messages
    assert importer.NO_ROUND in messages


async def test_section_rows_are_skipped(ledger):
    result = await ledger.import_file(DATA / "extra_section_rows.xlsx", create_units=True, dry_run=True)
    assert result.clean and [p.row for p in result.created] == [4, 5, 7]
    assert [r for r, what in result.skipped_rows if what == "section"] == [3, 6]


@pytest.mark.parametrize(("raw", "meant"), [
    ("12月底", date(2026, 12, 31)), ("2026年底", date(2026, 12, 31)), ("2026年12月", date(2026, 12, 31)),
    ("2027年1月31日前", date(2027, 1, 31)), ("12月31日", date(2026, 12, 31)), ("2026/12/31 0:00", date(2026, 12, 31)),
    ("2026 年 12 月 31 日", date(2026, 12, 31)), ("46387", date(2026, 12, 31)), (46387.0, date(2026, 12, 31)),
    ("3月底", date(2027, 3, 31)), ("11月底", date(2026, 11, 30)), ("2026.12.31", date(2026, 12, 31)),
    ("尽快", None), ("2026年13月", None), ("2026/2/30", None),
])
def test_deadline_spellings(raw, meant):
    got = importer.parse_deadline(raw, reference=date(2026, 11, 20), imported=date(2026, 12, 1))
    assert (got.day if got else None) == meant


@pytest.mark.parametrize(("raw", "kind", "day"), [("立行立改", "immediate", IMMEDIATE), ("长期坚持", "standing", None),
                                                  ("持续推进", "standing", None), ("常态化", "standing", None)])
def test_immediate_and_standing_deadlines(raw, kind, day):
    got = importer.parse_deadline(raw, reference=date(2026, 11, 20), imported=date(2026, 12, 1), immediate_days=5)
    assert (got.kind, got.day) == (kind, day)


def test_several_units_in_one_cell():
    assert importer.split_units("县委组织部、县委编办") == ["县委组织部", "县委编办"]
    assert importer.split_units("甲，乙,丙/丁 ") == ["甲", "乙", "丙", "丁"]
    assert importer.split_units("县委组织部 县委编办") == ["县委组织部", "县委编办"]
    assert importer.split_units("县委组织部\u3000县委编办、县财政局") == ["县委组织部", "县委编办", "县财政局"]


@pytest.mark.parametrize(("cell", "units"), [
    ("  县 农业农村局 ", ["县农业农村局"]), ("县 政府办公室", ["县政府办公室"]), ("农业 农村局", ["农业农村局"]),
    ("County Education Bureau", ["County Education Bureau"]), ("县 农业农村局、县  教育局", ["县农业农村局", "县教育局"])])
def test_a_unit_name_spaced_out_for_alignment_is_one_unit(cell, units):
    assert importer.split_units(cell) == units


def test_spaced_names_that_are_all_registered_units_are_several():
    assert importer.split_units("县委 县政府", {"县委", "县政府"}) == ["县委", "县政府"]
    assert importer.split_units("农业 农村局", {"农业农村局"}) == ["农业农村局"]


async def test_standing_items_get_no_reminders_and_their_card_says_so(ledger, database):
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    from bot.ledger import texts
    from bot.outbox import OutboxMessage
    from bot.reminders.planner import Planner
    from bot.reminders.policy import Policy, Timing

    await ledger.import_file(DATA / "county_a_multisheet.xlsx", create_units=True)
    async with database.transaction() as session:  # every unit has a contact, so reminders would go out
        from bot.ledger.models import UnitContact
        for number, unit in enumerate((await session.exec(select(Unit))).all()):
            session.add(UnitContact(unit_id=unit.id, chat_id=7000 + number, bound_at=IMPORT_DAY))
    timing = Timing(ZoneInfo("Asia/Shanghai"), send_at=clock(9, 0), quiet_start=clock(22, 0), quiet_end=clock(8, 0),
                    working_days=frozenset(range(1, 8)))
    planner = Planner(database, Policy(before_days=(30, 7), on_the_day=True, overdue_every_days=3,
                                       escalate_after_days=7), {}, timing, set())
    await planner.run(IMPORT_DAY)
    async with database.session() as session:
        standing = (await session.exec(select(RectificationItem)
                                       .where(RectificationItem.deadline_kind == "standing"))).all()
        planned = {r.item_id for r in (await session.exec(select(OutboxMessage))).all()}
    assert standing and planned and not planned & {i.id for i in standing}
    async with database.session() as session:
        views = {v.external_id: v for v in await ledger._views(
            session, select(RectificationItem, Unit.name, InspectionRound.name))}
    standing_view = views["官僚主义问题/3"]
    for language, words in (("zh", "长期坚持"), ("en", "standing")):
        _ = translator(language)
        assert words in texts.item_text(standing_view, _) and words in texts.item_line(standing_view, _)
    card = texts.item_text(views["形式主义问题/1"], translator("zh"))
    assert "佐证材料: 会议计划表" in card and "配合单位：县政府办公室" in card


def test_the_dry_run_shows_how_the_file_was_understood(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.chdir(tmp_path)
    for name in ("QINGFENG_TELEGRAM__TOKEN", "QINGFENG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QINGFENG_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    shown = runner.invoke(app, ["ledger", "import", str(DATA / "county_a_multisheet.xlsx"), "--create-units",
                                "--dry-run", "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    for line in ("Sheets read: 形式主义问题, 官僚主义问题", "Sheet skipped: 填表说明", "Sheet skipped: 统计表",
                 "Round (from the title): 县委第二轮巡察", "Other columns kept with each item: 佐证材料",
                 "+ row 4: 形式主义问题/1 (县委办公室, deadline 年底前 → 2026-12-31)",
                 "(县委办公室, deadline 常态化 → standing, no final deadline)",
                 "9 item(s) would be created"):
        assert line in shown.output
    refused = runner.invoke(app, ["ledger", "import", str(DATA / "no_round.xlsx"), "--create-units"])  # zh
    assert refused.exit_code == 1 and "文件没有写明是哪一轮巡察" in refused.output and "--round" in refused.output
    assert "第 1 行像是标题行" in runner.invoke(app, ["ledger", "import", str(DATA / "county_a_round2.xls"),
                                                  "--create-units", "--dry-run"]).output
    given = runner.invoke(app, ["ledger", "import", str(DATA / "no_round.xlsx"), "--create-units", "--round",
                                "县委第二轮巡察", "--lang", "en"])
    assert given.exit_code == 0 and "3 item(s) were created" in given.output
    template = runner.invoke(app, ["ledger", "template", "--output", "t.xlsx", "--lang", "en"])
    assert "problem (required): 问题 / 问题描述 / 存在问题 / 反馈问题 / 问题表现 / 具体问题" in template.output


async def test_the_export_writes_the_ledgers_own_columns_back(ledger, tmp_path):
    from openpyxl import load_workbook

    await ledger.import_file(DATA / "county_a_multisheet.xlsx", create_units=True)
    assert await ledger.export_xlsx(tmp_path / "out.xlsx") == 9
    rows = list(load_workbook(tmp_path / "out.xlsx").active.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[-1] == "佐证材料" and "配合单位" in header
    by_id = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_id["形式主义问题/1"]["佐证材料"] == "会议计划表"
    assert by_id["形式主义问题/1"]["配合单位"] == "县政府办公室"
    assert by_id["官僚主义问题/3"]["整改时限"] == "长期坚持"


async def test_a_unit_typo_is_pointed_out(ledger):
    await ledger.add_unit("县卫健局")
    table = importer.read_table(DATA / "broken_rows.xlsx")
    _items, problems = importer.check_rows(table, known_units={"县卫健局"}, today=date(2026, 12, 1),
                                           create_units=False)
    typo = [p for p in problems if p.row == 7]
    assert [p.render(translator("zh")) for p in typo] == [
        "第 7 行“责任单位”列：没有登记的单位“县卫建局”：是不是“县卫健局”？请改正文件，或用 `qingfeng units add` 登记"]


async def test_a_round_from_a_ledger_with_another_title_needs_update_round(ledger, database, tmp_path):
    assert (await ledger.import_file(DATA / "county_a_round2.xlsx", create_units=True)).applied
    other = tmp_path / "other.csv"
    other.write_text("县委第二轮巡察整改进展表\n序号,反馈问题,责任单位,整改时限\n1,改过的问题,县委办公室,2027年1月31日\n",
                     encoding="utf-8")
    refused = await ledger.import_file(other)
    assert not refused.applied and "--update-round" in refused.problems[0].message
    assert (await ledger.import_file(other, update_round=True)).applied
    async with database.session() as session:
        assert (await session.exec(select(InspectionRound))).one().title == "县委第二轮巡察整改进展表"
