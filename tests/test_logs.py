"""Log lines never carry a Telegram id, username, phone number or bot token."""

import logging

from bot.logs import RedactingFilter, describe_exception, redact


def test_identifiers_are_masked():
    line = redact("user 523456789 in chat -1001234567 @zhang_san phone +86 138 0013 8000 token 123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123")
    for secret in ("523456789", "1001234567", "zhang_san", "138 0013 8000", "ABCDEFGHIJKLMNOPQRST"):
        assert secret not in line
    assert redact("3 reports, 42 items in 2026") == "3 reports, 42 items in 2026"


def test_filter_masks_arguments_and_exceptions(caplog):
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    try:
        raise ValueError("chat 987654321 failed")
    except ValueError:
        logger.exception("update from %s", 123456789)
    logger.removeFilter(RedactingFilter())
    text = caplog.text
    assert "123456789" not in text and "987654321" not in text
    assert "update from <number>" in text


def test_describe_exception_names_class_and_place_without_ids():
    try:
        raise KeyError("user 1234567890")
    except KeyError as exc:
        description = describe_exception(exc)
    assert description.startswith("KeyError")
    assert "test_logs.py" in description
    assert "1234567890" not in description
