"""Configuration: defaults, environment overrides, secrets kept out of the file, clear errors."""

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_config_is_valid_and_documented_defaults_hold():
    settings = load_settings(environ={})
    assert settings.telegram.base_url == "https://api.telegram.org"
    assert settings.bot.timezone == "Asia/Shanghai"
    assert settings.bot.language == "zh"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("data/qingfeng.db")
    assert settings.bot_token() is None
    assert [c.id for c in settings.reports.categories][0] == "documents-meetings"


def test_three_variables_are_enough_to_point_the_bot_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # from any directory
    settings = load_settings(environ={
        "QINGFENG_TELEGRAM__TOKEN": "123456:abcdef",
        "QINGFENG_TELEGRAM__BASE_URL": "http://127.0.0.1:8081/",
        "QINGFENG_DATABASE__URL": "postgresql+asyncpg://u@db/q",
    })
    assert settings.bot_token() == "123456:abcdef"
    assert settings.telegram.base_url == "http://127.0.0.1:8081"
    assert settings.database_url == "postgresql+asyncpg://u@db/q"


def test_nested_and_list_overrides_from_environment():
    settings = load_settings(environ={
        "QINGFENG_TELEGRAM__WEBHOOK__PORT": "9000",
        "QINGFENG_ACCESS__SUPERVISORS": "11, 22",
        "QINGFENG_REMINDERS__BEFORE_DAYS": "[5, 2]",
    })
    assert settings.telegram.webhook.port == 9000
    assert settings.supervisor_ids == {11, 22}
    assert settings.reminders.before_days == [5, 2]


def test_the_command_lines_language_is_not_a_setting():
    """QINGFENG_LANG (bot/cli.py) and QINGFENG_CONFIG are ours but no setting: loading never trips on them."""
    settings = load_settings(environ={"QINGFENG_LANG": "en", "QINGFENG_BOT__LANGUAGE": "zh"})
    assert settings.bot.language == "zh" and "lang" not in settings.model_dump()


def test_unknown_key_is_named_with_its_path(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting telegram\.colour"):
        load_settings(write(tmp_path, "telegram:\n  colour: red\n"), environ={})


def test_wrong_type_names_key_and_expectation(tmp_path):
    with pytest.raises(ConfigError, match=r"telegram\.webhook\.port: not a whole number"):
        load_settings(write(tmp_path, "telegram:\n  webhook:\n    port: lots\n"), environ={})


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "bot:\n  language: zh\n  timezone: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_settings(path, environ={})


def test_token_in_committed_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="QINGFENG_TELEGRAM__TOKEN"):
        load_settings(write(tmp_path, "telegram:\n  token: '123:abc'\n"), environ={})


def test_secrets_from_a_named_file_relative_to_config(tmp_path):
    (tmp_path / "token.txt").write_text("777:from-file\n")
    settings = load_settings(write(tmp_path, "telegram:\n  token_file: token.txt\n"), environ={})
    assert settings.bot_token() == "777:from-file"


def test_missing_secret_file_is_explained(tmp_path):
    settings = load_settings(write(tmp_path, "telegram:\n  token_file: nowhere.txt\n"), environ={})
    with pytest.raises(ConfigError, match="cannot read secret file .*nowhere.txt"):
        settings.bot_token()


def test_unknown_timezone_refused():
    with pytest.raises(ConfigError, match="bot.timezone"):
        load_settings(environ={"QINGFENG_BOT__TIMEZONE": "Mars/Olympus"})


def test_committed_config_lists_the_models_defaults():
    """config.yaml documents every default; it must not drift from the model's (e.g. calendar:)."""
    from bot.config import Settings

    assert load_settings(environ={}).model_dump() == Settings().model_dump()
    assert Settings().calendar.model_dump() == {"statutory": True, "extra_holidays": [], "extra_working_days": []}


def test_invalid_configuration_is_one_message_a_line_in_either_language(tmp_path):
    from bot.i18n import translator

    path = write(tmp_path, "telegram:\n  colour: red\n  webhook:\n    port: lots\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    english, *problems = str(caught.value).split("\n")
    assert english == "invalid configuration:" and len(problems) == 2
    assert f"  {path}: unknown setting telegram.colour" in problems
    chinese = caught.value.render(translator("zh")).split("\n")
    assert chinese[0] == "配置有误：" and f"  {path}：未知的设置项 telegram.colour" in chinese
    assert f"  {path}：telegram.webhook.port：不是整数（实际值：'lots'）" in chinese


def test_times_are_read_as_people_write_them_in_the_environment_and_the_file(tmp_path):
    """9:30 in an environment variable, 9:30 unquoted in YAML (the number 570 to YAML 1.1), a quiet
    range written 22:00-07:00 or as a YAML mapping."""
    settings = load_settings(environ={"QINGFENG_REMINDERS__SEND_AT": "9:30",
                                      "QINGFENG_REMINDERS__QUIET_HOURS": "22:30-07:00"})
    assert settings.reminders.send_at == time(9, 30)
    assert (settings.reminders.quiet_hours.start, settings.reminders.quiet_hours.end) == (time(22, 30), time(7, 0))
    mapped = load_settings(environ={"QINGFENG_REMINDERS__QUIET_HOURS": "{start: '21:00', end: '06:30'}"})
    assert (mapped.reminders.quiet_hours.start, mapped.reminders.quiet_hours.end) == (time(21, 0), time(6, 30))
    unquoted = load_settings(write(tmp_path, "reminders:\n  send_at: 9:30\n"), environ={})
    assert unquoted.reminders.send_at == time(9, 30)


def test_a_wrong_setting_from_the_environment_names_the_variable_not_the_file(tmp_path):
    from bot.i18n import translator

    path = write(tmp_path, "bot:\n  language: zh\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"QINGFENG_REMINDERS__SEND_AT": "nine"})
    assert str(caught.value).split("\n")[1] == (
        "  QINGFENG_REMINDERS__SEND_AT: reminders.send_at: not a time of day; write it like 09:30 (got 'nine')")
    assert caught.value.render(translator("zh")).split("\n")[1] == (
        "  QINGFENG_REMINDERS__SEND_AT：reminders.send_at：不是一天中的时间，请写成 09:30 这样（实际值：'nine'）")
    assert str(path) not in str(caught.value)


def test_a_setting_with_fixed_choices_lists_them_in_the_readers_language():
    from bot.i18n import translator

    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"QINGFENG_BOT__LANGUAGE": "fr"})
    assert caught.value.render(translator("zh")).split("\n")[1] == (
        "  QINGFENG_BOT__LANGUAGE：bot.language：只能是 'zh', 'en' 之一（实际值：'fr'）")
