"""The `qingfeng` command: version, help, and one clear line for each known failure."""

import re

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def local_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QINGFENG_BOT__DATA_DIR", str(tmp_path / "data"))
    for name in ("QINGFENG_TELEGRAM__TOKEN", "QINGFENG_DATABASE__URL", "QINGFENG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("qingfeng ")


@pytest.mark.parametrize("command", [[], ["run"], ["chat"], ["sandbox"], ["db"], ["db", "upgrade"], ["db", "status"],
                                     ["ask"], ["kb"], ["kb", "check"], ["kb", "gaps"], ["reports", "export"],
                                     ["keys", "rotate"], ["poster"], ["ledger", "import"], ["ledger", "template"],
                                     ["ledger", "export"], ["units", "invite"], ["units", "list"]])
def test_help_on_every_command(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_run_without_token_names_the_variable_and_next_step(local_env):
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "QINGFENG_TELEGRAM__TOKEN" in result.output
    assert "BotFather" in result.output


def test_malformed_config_names_the_key(local_env):
    (local_env / "config.yaml").write_text("database:\n  ulr: sqlite://\n")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "unknown setting database.ulr" in result.output


def test_unreachable_database_exits_non_zero(local_env, monkeypatch):
    monkeypatch.setenv("QINGFENG_TELEGRAM__TOKEN", "123456:" + "a" * 35)
    monkeypatch.setenv("QINGFENG_DATABASE__URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 3
    assert "cannot reach the database at postgresql+asyncpg://nobody@127.0.0.1:1/none" in result.output


def test_db_upgrade_then_status(local_env):
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("empty")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert runner.invoke(app, ["db", "status"]).output.strip().endswith("current")


def test_run_refuses_a_broken_knowledge_base_with_file_and_line(local_env, monkeypatch):
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
