"""Buttons' data is parsed in one place, with types and ranges: forged data is simply expired."""

import pytest

from handlers import callback_data as data


@pytest.mark.parametrize("forged", [
    "rc:99999999999",            # larger than a PostgreSQL integer
    "rc:2147483648", "rc:0", "rc:-1", "rc:1e3", "rc:", "rc:5:6", "rc", "", None,
    "ra:delete:5",               # not an action a button carries
    "rb:everything:0:0", "rb:active:0:100000", "rb:active:100:0", "rb:closed:3",
])
def test_forged_data_does_not_parse(forged):
    for format in (data.REPORT_CARD, data.REPORT_ACTION, data.INBOX_PAGE):
        assert format.parse(forged) is None


def test_packed_data_parses_back_and_fits_telegram():
    assert data.REPORT_ACTION.parse(data.REPORT_ACTION.pack("ask", 2147483647)) == ("ask", 2147483647)
    assert data.INBOX_PAGE.parse("rb:rejected:2:3") == ("rejected", 2, 3)
    assert data.item("p").parse("lp:12") == (12,) and data.item("p").parse("lc:12") is None
    assert len(data.REPORT_REJECT.pack("scope", 2147483647).encode()) <= 64


def test_the_workspace_formats_refuse_forged_data_and_fit_telegram():
    from bot.ledger.workspace import FILTERS

    assert data.WORKSPACE_FILTERS == FILTERS  # one list of filters, checked on the way in
    longest = data.UNIT_ITEMS.pack(2147483647, 2147483647, "requested", 99, 9999)
    assert data.UNIT_ITEMS.parse(longest) == (2147483647, 2147483647, "requested", 99, 9999)
    assert len(longest.encode()) <= 64
    for forged in ("wl:1:1:bogus:0:0", "wl:0:1:all:0:0", "wl:1:1:all:100:0", "wl:1:1:all:0"):
        assert data.UNIT_ITEMS.parse(forged) is None
    assert data.CONFIRM.parse("wy:close:5") is None and data.CONFIRM.parse("wy:nudge:5") == ("nudge", 5)
    assert data.CARD_ACTION.parse("wx:delete:5") is None and data.EXTENSION_APPROVE.parse("wv:0") is None
