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
