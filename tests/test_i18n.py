"""Every user-facing message exists in Chinese and English; languages are chosen sensibly."""

from babel.messages.extract import extract_from_dir

from bot.i18n import catalog, language_for, translator


def extracted_messages() -> set[str]:
    found = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            folder, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_a_chinese_translation():
    zh = catalog("zh")
    missing = sorted(m for m in extracted_messages() if not (zh.get(m) and zh.get(m).string))
    assert not missing, "no zh_CN translation for:\n" + "\n".join(missing)


def test_no_stale_chinese_translations():
    used = extracted_messages()
    stale = sorted(m.id for m in catalog("zh") if m.id and m.id not in used)
    assert not stale, "translations nobody uses:\n" + "\n".join(stale)


def test_translation_and_formatting():
    assert translator("zh")("Choose your language:") == "请选择语言："
    assert translator("en")("Choose your language:") == "Choose your language:"


def test_language_from_telegram_code():
    assert language_for("en-US", "zh") == "en"
    assert language_for("zh-hans", "zh") == "zh"
    assert language_for("ru", "zh") == "zh"
    assert language_for(None, "en") == "en"


def test_every_translation_keeps_the_placeholders_of_its_message():
    import re

    placeholders = re.compile(r"\{(\w*)\}")
    wrong = [m.id for m in catalog("zh") if m.id and m.string
             and sorted(placeholders.findall(m.id)) != sorted(placeholders.findall(m.string))]
    assert not wrong, "placeholders differ in:\n" + "\n".join(wrong)


CLI_MODULES = ("bot/cli.py", "bot/knowledge/cli.py", "bot/reports/cli.py", "bot/ledger/cli.py")


def test_the_command_line_is_in_the_catalog_too():
    """The `qingfeng` command's help texts and messages are msgids like the bot's (bot/locales/zh_CN/cli.po);
    tests/test_cli.py checks that no help text bypasses them."""
    from babel.messages.extract import extract_from_file

    zh = catalog("zh")
    for module in CLI_MODULES:
        messages = {message if isinstance(message, str) else message[0] for _line, message, _comments, _context
                    in extract_from_file("python", module, keywords={"_": None, "N_": None})}
        assert messages, module
        missing = sorted(m for m in messages if not (zh.get(m) and zh.get(m).string))
        assert not missing, f"no zh_CN translation in {module} for:\n" + "\n".join(missing)
    assert translator("zh")("Show this message and exit.") == "显示本帮助后退出。"


def test_an_error_carries_its_msgid_and_values_to_be_said_in_any_language():
    """bot/i18n.py's TranslatableError: str() in English, render(_) in any language; values stay as they are,
    even one that reads like a message."""
    from bot.db import DatabaseUnavailable

    error = DatabaseUnavailable("cannot reach the database at {url}: {reason}", url="sqlite:///x.db",
                                reason="config file not found: y")
    assert str(error) == "cannot reach the database at sqlite:///x.db: config file not found: y"
    assert error.render(translator("zh")) == "无法连接数据库 sqlite:///x.db：config file not found: y"
    assert error.render(translator("en")) == str(error)
