"""Ledger import: XLSX, CSV and YAML, Chinese or English headers, every bad row reported, nothing
imported until the file is clean, dry runs, re-imports that update instead of duplicating."""

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.ledger import importer
from bot.ledger.models import InspectionRound, ItemHistory, RectificationItem, Unit
from bot.outbox import OutboxMessage
from bot.ledger.service import LedgerService

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai: "today" is 2026-06-01
HEADER_ZH = "编号,巡视轮次,问题描述,责任单位,责任人,整改时限,严重程度,整改措施"


@pytest.fixture
def ledger(settings, database) -> LedgerService:
    return LedgerService(settings=settings, database=database, clock=lambda: NOW)


@pytest.fixture
async def units(ledger):
    await ledger.add_unit("县农业农村局")
    await ledger.add_unit("县政府办公室")


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


async def count(database, model) -> int:
    async with database.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_every_bad_row_is_reported_and_nothing_is_imported(ledger, units, database, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        HEADER_ZH,
        "A-1,第一轮,村级APP打卡过多,县农业农村局,张三,2026-12-31,严重,合并APP",          # row 2: fine
        "A-2,第一轮,督查检查过多,县水利局,李四,2026-12-31,一般,减少检查",                 # row 3: unknown unit
        "A-3,第一轮,,县政府办公室,王五,2026-12-31,,",                                    # row 4: empty problem
        "A-4,第一轮,会议过多,县政府办公室,王五,2026-01-15,,",                             # row 5: date in the past
        "A-5,第一轮,文件过多,县政府办公室,王五,明年年底,,",                               # row 6: unparseable date
        "A-1,第一轮,重复编号,县政府办公室,王五,2026-12-31,,",                             # row 7: duplicate id
        "A-7,第一轮,留痕过多,县政府办公室,王五,2026-12-31,特别严重,",                     # row 8: unknown severity
        ",第一轮,没有编号,县政府办公室,王五,,,",                                         # row 9: two problems
        "A-9,第一轮,日期不存在,县政府办公室,王五,2026/02/30,,",                           # row 10: no such day
    )
    result = await ledger.import_file(path)
    unreadable = ": write a date such as 2026年12月31日, 2026-12-31 or 12月底, or 立行立改 / 长期坚持"
    assert [str(p) for p in result.problems] == [
        "row 3, column 责任单位: unknown unit '县水利局': check the spelling, add it with `qingfeng units add`, "
        "or import with --create-units",
        "row 4, column 问题描述: the problem is empty: write the problem found, or delete the row",
        "row 6, column 整改时限: cannot read the deadline '明年年底'" + unreadable,
        "row 7, column 编号: number 'A-1' is used twice (also in row 2): give each item its own number",
        "row 8, column 严重程度: unknown severity '特别严重' (use 较轻/一般/严重 or low/normal/high)",
        "row 9, column 编号: no number: every item needs its own number (序号 / 编号)",
        "row 9, column 整改时限: no deadline: write a date (2026年12月31日, 12月底), 立行立改 or 长期坚持",
        "row 10, column 整改时限: cannot read the deadline '2026/02/30'" + unreadable,
    ]
    assert not result.applied
    assert await count(database, RectificationItem) == 0

    skipped = await ledger.import_file(path, skip_invalid=True)
    assert skipped.applied and [p.external_id for p in skipped.created] == ["A-1", "A-4"]
    assert skipped.overdue_at_import == 1  # 2026-01-15 is past, accepted, overdue from the start
    assert await count(database, RectificationItem) == 2


async def test_the_three_date_forms_and_spreadsheet_dates_are_accepted(ledger, units, tmp_path):
    path = write_xlsx(tmp_path / "dates.xlsx", [
        ["编号", "问题", "责任单位", "整改时限"],
        ["D-1", "问题一", "县政府办公室", "2026-12-31"],
        ["D-2", "问题二", "县政府办公室", "2026/12/31"],
        ["D-3", "问题三", "县政府办公室", "2026年12月31日"],
        ["D-4", "问题四", "县政府办公室", datetime(2026, 12, 31)],
    ])
    result = await ledger.import_file(path, default_round="第一轮")
    assert result.clean and result.applied
    assert {p.deadline for p in result.created} == {date(2026, 12, 31)}
    assert {p.round for p in result.created} == {"第一轮"}


async def test_english_headers_in_xlsx_and_unknown_columns_are_named(ledger, units, tmp_path, database):
    path = write_xlsx(tmp_path / "en.xlsx", [
        ["External ID", "Round", "Problem", "Unit", "Owner", "Deadline", "Severity", "Plan", "Remarks"],
        ["E-1", "Round 1", "Daily app check-ins", "县农业农村局", "Zhang", date(2026, 9, 30), "high", "Merge apps", "x"],
        [None, None, None, None, None, None, None, None, None],  # an empty row is skipped
        ["E-2", "Round 1", "", "县农业农村局", "Zhang", "2026-13-01", "high", "", ""],
    ])
    result = await ledger.import_file(path)
    assert [str(p) for p in result.problems] == [
        "row 4, column Problem: the problem is empty: write the problem found, or delete the row",
        "row 4, column Deadline: cannot read the deadline '2026-13-01': write a date such as 2026年12月31日, "
        "2026-12-31 or 12月底, or 立行立改 / 长期坚持",
    ]
    assert result.extra_headers == ["Remarks"]  # kept with the item, not dropped
    fixed = write_xlsx(tmp_path / "en2.xlsx", [
        ["External ID", "Round", "Problem", "Unit", "Owner", "Deadline", "Severity", "Plan"],
        ["E-1", "Round 1", "Daily app check-ins", "县农业农村局", "Zhang", date(2026, 9, 30), "high", "Merge apps"],
    ])
    result = await ledger.import_file(fixed)
    assert result.applied
    async with database.session() as session:
        item = (await session.exec(select(RectificationItem))).one()
    assert (item.severity, item.owner, item.plan, item.status) == ("high", "Zhang", "Merge apps", "open")


async def test_missing_required_columns_are_named(ledger, units, tmp_path):
    path = write_csv(tmp_path / "cols.csv", "编号,责任单位", "X-1,县政府办公室")
    result = await ledger.import_file(path)
    assert [str(p) for p in result.problems] == [
        "row 1, column 问题描述: the header has no such column: name it 问题 / 问题描述 / 存在问题 / 反馈问题 / 问题表现 / "
        "具体问题 / 问题内容",
        "row 1, column 整改时限: the header has no such column: name it 整改时限 / 完成时限 / 整改期限 / 完成时间 / 时限",
        "row 1, column -: " + importer.NO_ROUND,
    ]
    assert not result.applied


async def test_yaml_with_mixed_headers_and_create_units(ledger, tmp_path, database):
    path = tmp_path / "items.yaml"
    path.write_text(
        "items:\n"
        "  - {编号: Y-1, 巡视轮次: 2026年第一轮, 问题: 过度留痕, 责任单位: 新单位甲, 整改时限: 2026-10-01}\n"
        "  - {external id: Y-2, round: 2026年第一轮, problem: Too many meetings, unit: 新单位乙, deadline: 2026/10/02,"
        " severity: 较轻}\n"
        "  - {编号: Y-3, 问题: 文山会海, 责任单位: 新单位甲, 整改时限: 2026年10月3日}\n",
        encoding="utf-8")
    refused = await ledger.import_file(path)
    unknown = ": check the spelling, add it with `qingfeng units add`, or import with --create-units"
    assert [str(p) for p in refused.problems] == [
        "row 1, column 责任单位: unknown unit '新单位甲'" + unknown,
        "row 2, column unit: unknown unit '新单位乙'" + unknown,
        "row 3, column 巡视轮次: empty round: fill in the round, or give it with --round",
        "row 3, column 责任单位: unknown unit '新单位甲'" + unknown,
    ]
    result = await ledger.import_file(path, create_units=True, default_round="2026年第一轮")
    assert result.applied and result.new_units == ["新单位乙", "新单位甲"]
    assert result.new_rounds == ["2026年第一轮"]
    assert await count(database, Unit) == 2 and await count(database, RectificationItem) == 3


async def test_dry_run_changes_nothing(ledger, tmp_path, database):
    path = write_csv(tmp_path / "dry.csv", HEADER_ZH, "R-1,第一轮,问题,新单位,张三,2026-12-31,严重,措施")
    result = await ledger.import_file(path, dry_run=True, create_units=True)
    assert [p.external_id for p in result.created] == ["R-1"] and result.new_units == ["新单位"]
    assert not result.applied
    for model in (RectificationItem, Unit, InspectionRound, ItemHistory):
        assert await count(database, model) == 0


async def test_reimport_updates_by_external_id_and_records_a_changed_deadline(ledger, units, tmp_path, database):
    first = write_csv(tmp_path / "v1.csv", HEADER_ZH,
                      "U-1,第一轮,问题一,县政府办公室,张三,2026-12-31,一般,措施一",
                      "U-2,第一轮,问题二,县政府办公室,李四,2026-11-30,一般,措施二")
    assert (await ledger.import_file(first)).applied
    async with database.transaction() as session:
        item = (await session.exec(select(RectificationItem).where(RectificationItem.external_id == "U-1"))).one()
        session.add(OutboxMessage(item_id=item.id, kind="before", slot="2026-12-31:-7", chat_id=5001, next_attempt_at=NOW, created_at=NOW))
    same = await ledger.import_file(first)
    assert (len(same.created), len(same.updated), same.unchanged) == (0, 0, 2)

    second = write_csv(tmp_path / "v2.csv", HEADER_ZH,
                       "U-1,第一轮,问题一,县政府办公室,张三,2027/01/31,一般,措施一（修订）",
                       "U-2,第一轮,问题二,县政府办公室,李四,2026-11-30,一般,措施二")
    preview = await ledger.import_file(second, dry_run=True)
    assert [(p.external_id, changes) for p, changes in preview.updated] == [
        ("U-1", {"deadline": ("2026-12-31", "2027-01-31"), "plan": ("措施一", "措施一（修订）")})]
    result = await ledger.import_file(second)
    assert result.applied and len(result.updated) == 1 and result.unchanged == 1
    assert await count(database, RectificationItem) == 2
    history = await ledger.history(item.id)
    changed = [h for h in history if h.action == "deadline_changed"]
    assert [(h.old_value, h.new_value, h.actor_kind) for h in changed] == [("2026-12-31", "2027-01-31", "import")]
    async with database.session() as session:
        reminder = (await session.exec(select(OutboxMessage))).one()
    assert reminder.status == "cancelled"  # the planner makes new slots for the new deadline


async def test_a_deadline_changed_in_the_bot_is_not_undone_by_reimporting_the_office_file(ledger, units, tmp_path):
    office = write_csv(tmp_path / "office.csv", HEADER_ZH, "K-1,第一轮,问题一,县政府办公室,张三,2026-12-15,一般,措施一")
    assert (await ledger.import_file(office)).applied
    async with ledger.database.session() as session:
        item = (await session.exec(select(RectificationItem).where(RectificationItem.external_id == "K-1"))).one()
    await ledger.change_deadline(item.id, date(2026, 11, 30), reason="按巡察组要求提前", actor_kind="supervisor",
                                 actor_id=1)
    again = await ledger.import_file(office, dry_run=True)  # the same old file, weeks later
    assert not again.updated and [(p.external_id, bot, file) for p, bot, file in again.kept_deadlines] == [
        ("K-1", "2026-11-30", "2026-12-15")]
    assert (await ledger.import_file(office)).applied
    async with ledger.database.session() as session:
        assert (await session.get(RectificationItem, item.id)).deadline == date(2026, 11, 30)


async def test_past_deadlines_are_accepted_and_counted_overdue(settings, database, tmp_path):
    early = LedgerService(settings=settings, database=database, clock=lambda: NOW)
    await early.add_unit("县政府办公室")
    path = write_csv(tmp_path / "p.csv", HEADER_ZH, "P-1,第一轮,问题,县政府办公室,张三,2026-06-30,,")
    assert (await early.import_file(path)).applied
    later = LedgerService(settings=settings, database=database, clock=lambda: NOW + timedelta(days=60))
    again = await later.import_file(path)
    assert again.clean and again.unchanged == 1
    moved = write_csv(tmp_path / "p2.csv", HEADER_ZH, "P-1,第一轮,问题,县政府办公室,张三,2026-07-01,,",
                      "P-2,第一轮,问题二,县政府办公室,张三,2026-05-01,,")
    result = await later.import_file(moved)
    assert result.applied and result.overdue_at_import == 1 and len(result.updated) == 1
    assert [v.external_id for v in await later.overdue()] == ["P-2", "P-1"]


async def test_gbk_csv_from_excel_is_read(ledger, units, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(("编号,问题,责任单位,整改时限\nG-1,会议过多,县政府办公室,2026-12-31\n").encode("gb18030"))
    result = await ledger.import_file(path, default_round="第一轮")
    assert result.applied and result.created[0].problem == "会议过多"


def test_unknown_file_type_is_refused(tmp_path):
    path = tmp_path / "items.txt"
    path.write_text("x")
    with pytest.raises(importer.LedgerFileError, match="use .xlsx, .xls, .et, .ods, .csv or .yaml"):
        importer.read_table(path)


# ---- the command line ------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("QINGFENG_TELEGRAM__TOKEN", "QINGFENG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QINGFENG_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_imports_with_create_units_and_export_writes_xlsx(cli_env, fmt):
    made = runner.invoke(app, ["ledger", "template", "--format", fmt, "--output", f"t.{fmt}"])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["ledger", "import", f"t.{fmt}", "--lang", "en"])
    assert refused.exit_code == 1
    assert "column 责任单位: unknown unit '示例县农业农村局'" in refused.output
    assert "nothing was imported" in refused.output
    dry = runner.invoke(app, ["ledger", "import", f"t.{fmt}", "--create-units", "--dry-run", "--lang", "en"])
    assert dry.exit_code == 0 and "2 item(s) would be created" in dry.output and "nothing was changed" in dry.output
    done = runner.invoke(app, ["ledger", "import", f"t.{fmt}", "--create-units", "--lang", "en"])
    assert done.exit_code == 0 and "2 item(s) were created" in done.output
    again = runner.invoke(app, ["ledger", "import", f"t.{fmt}", "--lang", "en"])
    assert "0 item(s) were created, 0 updated, 2 unchanged" in again.output
    in_chinese = runner.invoke(app, ["ledger", "import", f"t.{fmt}", "--lang", "zh"]).output.strip().splitlines()[-1]
    assert in_chinese.endswith("。") and "2" in in_chinese, in_chinese  # a Chinese sentence ends with 。
    listed = runner.invoke(app, ["units", "list", "--lang", "en"])
    assert "示例县农业农村局" in listed.output and "open items 1" in listed.output
    exported = runner.invoke(app, ["ledger", "export", "--output", "out.xlsx", "--lang", "en"])
    assert exported.exit_code == 0 and "2 item(s) written" in exported.output
    sheet = load_workbook(cli_env / "out.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "巡视轮次", "问题描述", "责任单位") and len(rows) == 3
    assert rows[1][8] == "未开始"


def test_skip_invalid_says_how_many_rows_were_left_out(cli_env):
    """A row with two problems is one row left out: the summary counts rows, and says nothing of a
    blocked import (it has gone through)."""
    (cli_env / "l.csv").write_text("序号,问题,责任单位,整改时限,严重程度\n1,会议太多,县农业农村局,2027-03-31,一般\n"
                                   "2,,县水利局,2027-03-31,一般\n3,表格重复,县水利局,明年春天,超级严重\n", encoding="utf-8")
    done = runner.invoke(app, ["ledger", "import", "l.csv", "--round", "一轮", "--create-units", "--skip-invalid",
                               "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "1 item(s) were created, 0 updated, 0 unchanged, 2 row(s) left out for their 3 problem(s)." in done.output
    assert "import nothing" not in done.output


def test_long_import_shows_progress_and_units_invite_prints_code_and_link(cli_env):
    deadline = (date.today() + timedelta(days=30)).isoformat()
    lines = [HEADER_ZH] + [f"L-{n},第一轮,问题{n},县局,张三,{deadline},,措施" for n in range(250)]
    write_csv(cli_env / "long.csv", *lines)
    done = runner.invoke(app, ["ledger", "import", "long.csv", "--create-units", "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "Importing" in done.output and "250 item(s) were created" in done.output
    invite = runner.invoke(app, ["units", "invite", "县局", "--bot", "qingfeng_bot", "--lang", "en"])
    assert invite.exit_code == 0, invite.output
    code = invite.output.split("code: ")[1].split()[0]
    assert f"https://t.me/qingfeng_bot?start=bind-{code}" in invite.output
    unknown = runner.invoke(app, ["units", "invite", "没有这个单位", "--lang", "en"])
    assert unknown.exit_code == 1 and "no unit named" in unknown.output
    assert runner.invoke(app, ["units", "add", "县政府"]).exit_code == 0
    assert "parent: 县政府" in runner.invoke(app, ["units", "add", "县局", "--parent", "县政府", "--lang", "en"]).output
    assert "县局  (parent: 县政府)  contacts 0/0  open items 250" in runner.invoke(app, ["units", "list", "--lang", "en"]).output


def test_a_reimport_names_the_changed_fields_in_the_operators_language(cli_env):
    write_csv(cli_env / "v1.csv", HEADER_ZH, "F-1,第一轮,问题一,县局,张三,2027-01-31,一般,措施一")
    assert runner.invoke(app, ["ledger", "import", "v1.csv", "--create-units", "--lang", "zh"]).exit_code == 0
    write_csv(cli_env / "v2.csv", HEADER_ZH, "F-1,第一轮,问题一,县局,张三,2027-02-28,一般,措施一（修订）")
    preview = runner.invoke(app, ["ledger", "import", "v2.csv", "--dry-run", "--lang", "zh"])
    assert preview.exit_code == 0, preview.output
    assert "整改时限 2027-01-31 → 2027-02-28" in preview.output and "deadline" not in preview.output
