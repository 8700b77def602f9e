"""The `qingfeng` command: version, help, and one clear line for each known failure, in Chinese by default
and in English when asked (--lang, QINGFENG_LANG, bot.language)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def local_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    for name in ("QINGFENG_TELEGRAM__TOKEN", "QINGFENG_DATABASE__URL", "QINGFENG_CONFIG", "QINGFENG_LANG",
                 "QINGFENG_BOT__LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("QINGFENG_LANG", "en")


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("qingfeng ")


@pytest.mark.parametrize("command", [[], ["run"], ["chat"], ["sandbox"], ["db"], ["db", "upgrade"], ["db", "status"],
                                     ["ask"], ["kb"], ["kb", "check"], ["kb", "gaps"], ["reports", "export"],
                                     ["keys", "rotate"], ["poster"], ["ledger", "import"], ["ledger", "template"],
                                     ["ledger", "export"], ["ledger", "delete"], ["units", "invite"], ["units", "list"],
                                     ["units", "rename"], ["units", "remove"], ["units", "contacts"], ["units", "unbind"]])
def test_help_on_every_command(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output or "用法：" in result.output


def help_pages(cwd: Path, *commands: str, **env: str) -> list[str]:
    """`--help` of each command (words separated by spaces), from a new process: help texts are chosen
    when the command is built."""
    script = ("import sys\nfrom typer.testing import CliRunner\nfrom bot.cli import app\n"
              "for command in sys.argv[1:]:\n"
              "    print(CliRunner().invoke(app, [*command.split(), '--help']).output, end='\\f')\n")
    environ = {name: value for name, value in os.environ.items()
               if name not in ("QINGFENG_LANG", "QINGFENG_BOT__LANGUAGE", "QINGFENG_CONFIG")}
    environ.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent), TERMINAL_WIDTH="300", **env)
    done = subprocess.run([sys.executable, "-c", script, *commands], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\f")[:-1]


HELP_COMMANDS = ("", "units remove", "kb check", "reports export")


def test_help_is_in_chinese_by_default(tmp_path):
    main, remove, check, export = help_pages(tmp_path, *HELP_COMMANDS)
    assert "清风（Qingfeng）：基层减负、问题举报和整改落实的 Telegram 助手。" in main
    assert "选项" in main and "命令" in main and "显示本帮助后退出。" in main and "整改台账：导入、模板、导出。" in main
    assert "删除单位；单位还有事项时拒绝删除" in remove and "接手其事项的单位。" in remove and "参数" in remove
    assert "[必填]" in remove and "配置文件（默认：./config.yaml" in remove
    assert "检查每个文件：YAML 语法" in check and "要检查的文件夹（默认：配置的那个）。" in check
    assert "导出全部举报（已解密）及其审计日志" in export and "[默认：xlsx]" in export
    assert all("显示本帮助后退出。" in page for page in (main, remove, check, export))  # each module's commands


def test_typers_own_command_classes_are_left_as_they_are():
    """The help option's text comes from bot/cli.py's classes (Typer's `cls=`), not from patching Typer's."""
    import typer.core
    import typer.main

    from bot.cli import QingfengCommand, QingfengGroup

    assert "get_help_option" not in vars(typer.core.TyperCommand) and "get_help_option" not in vars(typer.core.TyperGroup)

    def commands(command):
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from commands(sub)

    built = list(commands(typer.main.get_command(app)))
    assert all(isinstance(c, QingfengGroup if isinstance(c, typer.core.TyperGroup) else QingfengCommand) for c in built)


def mistyped(cwd: Path, *argv: str, **env: str) -> str:
    """What `qingfeng ARGV` prints to the terminal, from a new process (the help language is chosen at
    import)."""
    environ = {name: value for name, value in os.environ.items()
               if name not in ("QINGFENG_LANG", "QINGFENG_BOT__LANGUAGE", "QINGFENG_CONFIG")}
    environ.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent), TERMINAL_WIDTH="300", **env)
    done = subprocess.run([sys.executable, "-m", "bot", *argv], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    return done.stdout + done.stderr


def test_a_mistyped_command_line_is_told_in_chinese(tmp_path):
    assert "没有“nosuch”这个命令。" in (out := mistyped(tmp_path, "nosuch"))
    assert "用法：" in out and "输入 'qingfeng --help' 查看帮助。" in out and "错误" in out and "Usage" not in out
    assert "缺少参数“question”。" in mistyped(tmp_path, "ask")
    assert "没有这个选项：--bogus" in mistyped(tmp_path, "ask", "--bogus", "x")
    assert "多余的参数：b c" in mistyped(tmp_path, "ask", "a", "b", "c")


def test_a_mistyped_command_line_is_told_in_english_when_asked(tmp_path):
    out = mistyped(tmp_path, "nosuch", QINGFENG_LANG="en")
    assert "No such command 'nosuch'." in out and "Usage: qingfeng" in out and "Try 'qingfeng --help' for help." in out
    assert "用法" not in out


@pytest.mark.parametrize("how", ["QINGFENG_LANG", "config"])
def test_help_is_in_english_when_asked(tmp_path, how):
    if how == "config":
        (tmp_path / "config.yaml").write_text("bot:\n  language: en\n")
    main, remove, check, export = help_pages(tmp_path, *HELP_COMMANDS, **({"QINGFENG_LANG": "en"} if how == "QINGFENG_LANG" else {}))
    assert "Qingfeng (清风): Telegram assistant for burden reduction, reports and rectification." in main
    assert "Options" in main and "Commands" in main and "Show this message and exit." in main
    assert "Remove a unit; refused while it has items" in remove and "The unit that takes over its items." in remove
    assert "[required]" in remove and "Arguments" in remove
    assert "Validate every file: YAML syntax" in check
    assert "Export every report, decrypted" in export and "[default: xlsx]" in export
    assert not re.search("[\u4e00-\u9fff]", main.replace("清风", "").replace("整改台账", ""))


def test_qingfeng_lang_beats_the_config_for_help(tmp_path):
    (tmp_path / "config.yaml").write_text("bot:\n  language: en\n")
    [main] = help_pages(tmp_path, "", QINGFENG_LANG="zh")
    assert "显示本帮助后退出。" in main


def test_every_help_text_goes_through_the_catalog():
    """No help text is written past gettext: built in Chinese, each is a translation; in English, a msgid."""
    import typer.main

    from bot.cli import HELP_LANGUAGE
    from bot.i18n import catalog

    def texts(command, path=()):
        yield path, command.help
        for param in command.params:
            yield path + (param.name,), getattr(param, "help", None)
        for name, sub in getattr(command, "commands", {}).items():
            yield from texts(sub, path + (name,))

    zh = catalog("zh")
    known = {m.string for m in zh if m.id} if HELP_LANGUAGE == "zh" else {m.id for m in zh if m.id and m.string}
    outside = [(path, text) for path, text in texts(typer.main.get_command(app)) if text not in known]
    assert not outside, outside


def test_run_without_token_names_the_variable_and_next_step(local_env, monkeypatch):
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "错误：没有机器人令牌（token）：请设置 QINGFENG_TELEGRAM__TOKEN（在 @BotFather 创建机器人即可获得）" in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "Error: no bot token: set QINGFENG_TELEGRAM__TOKEN (create a bot with @BotFather to get one)" in result.output


def test_malformed_config_names_the_key_in_both_languages(local_env, monkeypatch):
    (local_env / "config.yaml").write_text("database:\n  ulr: sqlite://\n")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "错误：配置有误：" in result.output and "未知的设置项 database.ulr" in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "Error: invalid configuration:" in result.output and "unknown setting database.ulr" in result.output


def test_a_broken_config_still_gives_its_language_to_its_error(local_env, monkeypatch):
    (local_env / "config.yaml").write_text("bot:\n  language: en\ndatabase:\n  ulr: sqlite://\n")
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2 and "unknown setting database.ulr" in result.output
    (local_env / "config.yaml").write_text("bot: [language: en\n")  # not even YAML: the default language
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 2 and "YAML 格式错误" in result.output
    monkeypatch.setenv("QINGFENG_BOT__LANGUAGE", "en")
    assert "invalid YAML" in runner.invoke(app, ["db", "status"]).output


def test_a_rejected_token_is_explained_in_both_languages(local_env, monkeypatch):
    from telegram.error import InvalidToken

    async def rejected(settings):
        raise InvalidToken("Not Found")

    monkeypatch.setattr("bot.app.serve", rejected)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 4
    assert "错误：Telegram 拒绝了机器人令牌：请检查 QINGFENG_TELEGRAM__TOKEN（从 @BotFather 获取）" in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 4
    assert "Error: Telegram rejected the bot token: check QINGFENG_TELEGRAM__TOKEN (from @BotFather)" in result.output


def test_qingfeng_lang_is_not_taken_for_a_setting(local_env, monkeypatch):
    monkeypatch.setenv("QINGFENG_LANG", "en")
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("empty")


def test_the_language_rule(local_env, monkeypatch):
    from bot.cli import cli_language
    from bot.config import load_settings

    assert cli_language() == "zh"
    (local_env / "config.yaml").write_text("bot:\n  language: en\n")
    assert cli_language() == "en"
    assert cli_language("zh") == "zh"
    monkeypatch.setenv("QINGFENG_LANG", "zh")
    assert cli_language() == "zh" and cli_language("en") == "en"
    monkeypatch.setenv("QINGFENG_LANG", "klingon")  # not a language: ignored
    assert cli_language() == "en" and cli_language(settings=load_settings(None, environ={})) == "en"
    monkeypatch.delenv("QINGFENG_LANG")
    monkeypatch.setenv("QINGFENG_BOT__LANGUAGE", "zh")
    assert cli_language() == "zh"


def test_unreachable_database_exits_non_zero(local_env, monkeypatch):
    monkeypatch.setenv("QINGFENG_TELEGRAM__TOKEN", "123456:" + "a" * 35)
    monkeypatch.setenv("QINGFENG_DATABASE__URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 3
    assert "错误：无法连接数据库 postgresql+asyncpg://nobody@127.0.0.1:1/none：" in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 3
    assert "cannot reach the database at postgresql+asyncpg://nobody@127.0.0.1:1/none" in result.output


def test_db_upgrade_then_status_in_both_languages(local_env, monkeypatch):
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("空（尚未建表）")
    monkeypatch.setenv("QINGFENG_LANG", "en")
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("empty")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("current")
    monkeypatch.delenv("QINGFENG_LANG")
    assert "已是最新" in runner.invoke(app, ["db", "upgrade"]).output
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("最新")


def test_run_refuses_a_broken_knowledge_base_with_file_and_line(local_env, monkeypatch, english):
    broken = local_env / "kb"
    broken.mkdir()
    (broken / "topics.yaml").write_text("topics:\n  - id: x\n    title: {zh: 甲}\n", encoding="utf-8")
    monkeypatch.setenv("QINGFENG_TELEGRAM__TOKEN", "123456:" + "a" * 35)
    monkeypatch.setenv("QINGFENG_KNOWLEDGE__PATH", str(broken))
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "knowledge base has" in result.output
    assert "topics.yaml:3: topic x: title: missing translation 'en'" in result.output


def test_kb_gaps_lists_what_users_asked_in_vain(local_env):
    import asyncio

    from bot.config import load_settings
    from bot.db import Database, prepare
    from bot.knowledge.service import KnowledgeService

    async def record():
        settings = load_settings(None)
        database = Database.connect(settings.database_url)
        await prepare(database, auto_upgrade=True)
        service = KnowledgeService(settings.path(settings.knowledge.path), database)
        for question in ("村里路灯坏了找谁", "村里的路灯坏了找谁修"):
            await service.record_unanswered(question, "zh")
        await database.dispose()

    asyncio.run(record())
    result = runner.invoke(app, ["kb", "gaps"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s*2\s+村里的?路灯坏了找谁", result.output, re.MULTILINE), result.output


# ---- the ledger's administration commands, in the operator's language (issue 11 items 7, 8) ----

@pytest.fixture
def ledger_env(local_env, monkeypatch):
    monkeypatch.setenv("QINGFENG_DATABASE__URL", f"sqlite+aiosqlite:///{local_env / 'cli.db'}")
    return local_env


def qingfeng(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def bind_contact(unit: str, chat_id: int) -> None:
    """What /bind does in the chat: the CLI's invite code, used by a chat."""
    import asyncio

    from bot.config import load_settings
    from bot.db import Database
    from bot.ledger.service import LedgerService

    code = qingfeng("units", "invite", unit, "--bot", "b", "--lang", "en").split("code: ")[1].split()[0]

    async def use() -> None:
        settings = load_settings(None)
        database = Database.connect(settings.database_url)
        try:
            await LedgerService(settings=settings, database=database).bind(code, chat_id)
        finally:
            await database.dispose()

    asyncio.run(use())


def write_ledger(path, *rows: str) -> str:
    path.write_text("编号,问题描述,责任单位,整改时限\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_units_and_export_speak_chinese_by_default_and_english_when_asked(ledger_env):
    assert "还没有单位：用 `qingfeng units add` 添加，或导入时加 --create-units。" in qingfeng("units", "list")
    assert "单位 县政府 已保存。" in qingfeng("units", "add", "县政府")
    assert "单位 县局（上级：县政府）已保存。" in qingfeng("units", "add", "县局", "--parent", "县政府")
    assert "县局  （上级：县政府）  联系人 0/0  未完成事项 0" in qingfeng("units", "list")
    assert "县局  (parent: 县政府)  contacts 0/0  open items 0" in qingfeng("units", "list", "--lang", "en")
    invite = qingfeng("units", "invite", "县局", "--bot", "b")
    assert "县局的邀请码" in invite and "邀请码：" in invite and "链接：https://t.me/b?start=bind-" in invite
    assert "已将 0 项事项写入 out.xlsx。" in qingfeng("ledger", "export", "--output", "out.xlsx")
    template = qingfeng("ledger", "template", "--output", "t.xlsx")
    assert "导入能识别的表头" in template and "问题（必填）：问题 / 问题描述" in template and "模板已写入 t.xlsx" in template
    refused = runner.invoke(app, ["units", "invite", "没有这个单位"])
    assert refused.exit_code == 1 and "错误：没有名为“没有这个单位”的单位" in refused.output
    missing = runner.invoke(app, ["ledger", "import", "nowhere.csv"])
    assert missing.exit_code == 2 and "错误：nowhere.csv：找不到这个文件" in missing.output


def test_a_unit_is_renamed_and_removed_only_with_its_open_items_reassigned(ledger_env):
    deadline = "2099-12-31"
    qingfeng("ledger", "import", write_ledger(ledger_env / "l.csv", f"1,问题一,县卫建局,{deadline}",
                                              f"2,问题二,县卫建局,{deadline}"), "--create-units", "--round", "第一轮")
    qingfeng("units", "add", "县政府")
    assert "已更名为“县卫健局”" in qingfeng("units", "rename", "县卫建局", "县卫健局")
    bind_contact("县卫健局", 7001)
    refused = runner.invoke(app, ["units", "remove", "县卫健局"])
    assert refused.exit_code == 1
    assert "县卫健局还有 2 项未完成事项，因此没有删除。请加 --reassign-to 其他单位" in refused.output
    assert "县卫健局" in qingfeng("units", "list")
    removed = qingfeng("units", "remove", "县卫健局", "--reassign-to", "县政府", "--lang", "en")
    assert "Unit 县卫健局 is removed." in removed
    assert "2 item(s) moved to 县政府, each with a line in its history" in removed
    assert "1 contact(s) unbound" in removed
    assert "县政府  contacts 0/0  open items 2" in qingfeng("units", "list", "--lang", "en")


def test_contacts_are_listed_with_their_chat_and_removed(ledger_env):
    qingfeng("units", "add", "县局")
    qingfeng("units", "add", "乡镇")
    bind_contact("县局", 7001)
    bind_contact("乡镇", 7002)
    listed = [line for line in qingfeng("units", "contacts", "--lang", "en").splitlines() if "  chat " in line]
    assert [line.split("  bound ")[0] for line in listed] == ["乡镇  chat 7002", "县局  chat 7001"]
    assert listed[0].endswith("reachable")
    assert "县局  对话 7001  绑定于 " in qingfeng("units", "contacts", "县局")
    unbound = qingfeng("units", "unbind", "7001")
    assert "对话 7001 已不再代表县局" in unbound and "已通知该对话。" in unbound
    assert "7001" not in qingfeng("units", "contacts")
    again = runner.invoke(app, ["units", "unbind", "7001", "--lang", "en"])
    assert again.exit_code == 1 and "no contact with chat id 7001" in again.output


def test_an_item_is_deleted_with_a_reason_and_stays_deleted_on_reimport(ledger_env):
    from openpyxl import load_workbook

    path = write_ledger(ledger_env / "l.csv", "1,问题一,县局,2099-12-31", "2,问题二,县局,2099-12-31")
    qingfeng("ledger", "import", path, "--create-units", "--round", "第一轮")
    assert runner.invoke(app, ["ledger", "delete", "第一轮", "2"]).exit_code == 2  # --reason is required
    deleted = qingfeng("ledger", "delete", "第一轮", "2", "--reason", "与第1项重复")
    assert "事项 第一轮-2（县局）已删除" in deleted
    again = runner.invoke(app, ["ledger", "delete", "第一轮", "2", "--reason", "x"])
    assert again.exit_code == 1 and "事项 第一轮-2 已经删除" in again.output
    assert "open items 1" in qingfeng("units", "list", "--lang", "en")
    reimport = qingfeng("ledger", "import", path, "--round", "第一轮", "--lang", "en")
    assert "row 3: item 第一轮-2 was deleted from the ledger; this row is left out" in reimport
    qingfeng("ledger", "export", "--output", "out.xlsx")
    assert [row[0] for row in load_workbook(ledger_env / "out.xlsx").active.iter_rows(values_only=True)][1:] == ["1"]


def test_a_deadline_without_a_year_or_filing_date_says_which_year_was_taken_and_how_to_mean_the_other(ledger_env):
    from datetime import datetime, timedelta

    from bot.config import load_settings

    today = datetime.now(load_settings(None).zone).date()  # the bot's day (Asia/Shanghai), not the machine's
    yesterday = today - timedelta(days=1)  # written without its year: read as next year's, the next such day
    if yesterday.year != today.year:
        pytest.skip("on 1 January, 12月31日 is this year's")
    written = f"{yesterday.month}月{yesterday.day}日"
    taken = yesterday.replace(year=today.year + 1) if (yesterday.month, yesterday.day) != (2, 29) else None
    if taken is None:
        pytest.skip("29 February has no next-year twin")
    path = write_ledger(ledger_env / "l.csv", f"1,问题一,县局,{written}", "2,问题二,县局,2099-12-31")
    dry = qingfeng("ledger", "import", path, "--create-units", "--round", "第一轮", "--dry-run", "--lang", "en")
    assert f"{written} → {taken.isoformat()} (year not in the file: see below)" in dry
    assert "2099-12-31 (year not in the file" not in dry  # a full date needs no explaining
    assert f"the file has no 填报日期 row, so each was read as the next such day from today ({today.isoformat()})" in dry
    assert (f"{written} → {taken.isoformat()} (row(s) 2). If the ledger meant {yesterday.isoformat()} (already past: "
            f"the item would be overdue), write {yesterday.year}年{written} in the file and import it again.") in dry
    done = qingfeng("ledger", "import", path, "--create-units", "--round", "第一轮")  # zh, and not a dry run
    assert f"以下时限没写年份，文件里也没有填报日期，因此按今天（{today.isoformat()}）之后最近的那一天理解" in done
    assert f"如果台账指的是 {yesterday.isoformat()}（已经过去，事项即为逾期），请在文件中写明 {yesterday.year}年{written}" in done
def test_webhook_mode_refuses_to_start_without_a_secret_token_in_the_cli_language(local_env, monkeypatch):
    monkeypatch.setenv("QINGFENG_TELEGRAM__TOKEN", "123456:" + "a" * 35)
    monkeypatch.setenv("QINGFENG_TELEGRAM__MODE", "webhook")
    monkeypatch.setenv("QINGFENG_TELEGRAM__WEBHOOK__URL", "https://bot.example.org/telegram")
    monkeypatch.delenv("QINGFENG_TELEGRAM__WEBHOOK_SECRET", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "QINGFENG_TELEGRAM__WEBHOOK_SECRET" in result.output
    assert "必须设置密钥令牌" in result.output and "webhook mode" not in result.output
    monkeypatch.setenv("QINGFENG_LANG", "en")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "webhook mode needs a secret token" in result.output
    assert "必须设置密钥令牌" not in result.output


def test_data_folder_and_every_file_in_it_are_private_whatever_the_umask(local_env, monkeypatch):
    import os
    import stat

    data = local_env / "data"
    monkeypatch.setenv("QINGFENG_LOGGING__FILE", str(data / "logs" / "qingfeng.log"))
    previous = os.umask(0)
    try:
        data.mkdir(mode=0o777)
        (data / "knowledge.cache").write_bytes(b"from an older version")  # 0666 under umask 000
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        export = local_env / "reports.xlsx"
        assert runner.invoke(app, ["reports", "export", "-o", str(export)]).exit_code == 0
        assert runner.invoke(app, ["run"]).exit_code == 2  # no token: stops after the files are made private
    finally:
        os.umask(previous)
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(data) == 0o700 and mode(data / "logs") == 0o700
    files = [path for path in data.rglob("*") if path.is_file()]
    assert {"qingfeng.db", "knowledge.cache", "qingfeng.log"} <= {path.name for path in files}
    assert {path.name: oct(mode(path)) for path in files} == {path.name: oct(0o600) for path in files}
    assert mode(export) == 0o600


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _qingfeng_process(*args: str, lang: str = "en", **kwargs) -> subprocess.Popen:
    env = {**os.environ, "QINGFENG_LANG": lang}
    return subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, text=True, **kwargs)


def test_chat_with_a_sandbox_says_when_nothing_answers_and_when_no_bot_reads_it(tmp_path):
    """`qingfeng chat --sandbox URL`: a wrong address is one clear line, and a sandbox no bot reads
    is said, not left to a silent chat; `qingfeng sandbox` names the setting a bot is pointed with."""
    import httpx

    url = f"http://127.0.0.1:{_free_port()}"
    nothing = _qingfeng_process("chat", "--sandbox", url, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=tmp_path)
    out, err = nothing.communicate(timeout=60)
    assert nothing.returncode == 1 and f"no sandbox answers at {url}" in err

    port = url.rsplit(":", 1)[1]
    server = _qingfeng_process("sandbox", "--port", port, lang="zh", stdout=subprocess.PIPE, cwd=tmp_path)
    try:
        banner = server.stdout.readline()
        assert f"QINGFENG_TELEGRAM__BASE_URL={url}（即 telegram.base_url）" in banner and "/bot" not in banner
        unread = _qingfeng_process("chat", "--sandbox", url, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, cwd=tmp_path)
        out, err = unread.communicate(timeout=60)
        assert unread.returncode == 0 and "no bot is reading this sandbox" in err

        # A bot polling it: no warning.
        with httpx.Client(base_url=url, timeout=30) as bot:
            token = banner.split("：", 1)[1].split("）", 1)[0]
            bot.post(f"/bot{token}/getUpdates", data={"timeout": 0})
            read = _qingfeng_process("chat", "--sandbox", url, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=tmp_path)
            out, err = read.communicate(timeout=60)
        assert read.returncode == 0 and "no bot is reading" not in err
    finally:
        server.terminate()
        server.wait(15)


def test_chat_refuses_a_language_it_does_not_speak(local_env, english):
    result = runner.invoke(app, ["chat", "--lang", "fr"], input="hi\n")
    assert result.exit_code == 2 and "--lang must be zh or en, not 'fr'" in result.output
