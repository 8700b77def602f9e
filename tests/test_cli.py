"""The `qingfeng` command: version, help, and one clear line for each known failure."""

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


@pytest.mark.parametrize("command", [[], ["run"], ["chat"], ["sandbox"], ["db"], ["db", "upgrade"], ["db", "status"]])
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
