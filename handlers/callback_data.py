"""The callback data of the buttons that name a record: packed and parsed here, and only here.

Anyone can forge callback data, so every field is typed and range-checked on the way in: a
number must fit a database integer (a forged id of 10**12 answers "this button has expired",
never "storage unavailable"), a word must be one of those the button can carry. `parse` returns
the fields or None; a None is one answer, "this button has expired", wherever it comes from.
Telegram allows 64 bytes; every format here stays far below.

Formats (see each handler module for what they do):
  rb:<status>:<category>:<page>   rt:<unit>   rc:<report>   rf:<report>   ra:<action>:<report>   rr:<kind>:<report>
  l<kind>:<item>   lt:<page>   lk:<item>
  the workspace (handlers/workspace.py): wr:<page>   wu:<round>:<page>
  wl:<round>:<unit>:<filter>:<category>:<page>   wc:<item>:<history page>   wo:<page>   wx:<action>:<item>
  wg:<item>:<unit>   wy:<action>:<item>   we:<item>   wf:<item>   wv:<request>   wz:<request>   wk:<request>   wq:
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ID = 2**31 - 1   # PostgreSQL's integer
MAX_PAGE = 9999


@dataclass(frozen=True)
class Number:
    maximum: int = MAX_ID
    minimum: int = 0

    def read(self, text: str) -> int | None:
        if not text.isdigit() or len(text) > len(str(self.maximum)):
            return None
        value = int(text)
        return value if self.minimum <= value <= self.maximum else None


@dataclass(frozen=True)
class Word:
    choices: tuple[str, ...]

    def read(self, text: str) -> str | None:
        return text if text in self.choices else None


@dataclass(frozen=True)
class Format:
    prefix: str
    fields: tuple[Number | Word, ...]

    @property
    def pattern(self) -> str:
        """For a CallbackQueryHandler: data that starts like this format (checked fully by `parse`)."""
        return rf"^{re.escape(self.prefix)}:"

    def pack(self, *values: object) -> str:
        return ":".join([self.prefix, *map(str, values)])

    def parse(self, data: str | None) -> tuple | None:
        parts = (data or "").split(":")
        if parts[0] != self.prefix or len(parts) != len(self.fields) + 1:
            return None
        values = tuple(field.read(part) for field, part in zip(self.fields, parts[1:]))
        return None if any(value is None for value in values) else values


def item(kind: str) -> Format:
    return Format(f"l{kind}", (Number(minimum=1),))


REPORT_ID = Number(minimum=1)
INBOX_STATUSES = ("active", "new", "open", "waiting", "closed", "rejected", "all")
INBOX_PAGE = Format("rb", (Word(INBOX_STATUSES), Number(99), Number(MAX_PAGE)))  # status, category (0: all), page
REPORT_CARD = Format("rc", (REPORT_ID,))
REPORT_FILES = Format("rf", (REPORT_ID,))
REPORT_ACTION = Format("ra", (Word(("ack", "ask", "note", "transfer", "close", "reject", "reopen", "file")),
                                REPORT_ID))
TRANSFER_UNIT = Format("rt", (Number(),))  # a ledger unit, for the report whose transfer is being written
REPORT_REJECT = Format("rr", (Word(("spam", "scope")), REPORT_ID))
TASK_PAGE = Format("lt", (Number(MAX_PAGE),))
ACKNOWLEDGE = item("k")

# The supervisors' workspace and the contacts' extension requests (handlers/workspace.py).
ID = Number(minimum=1)
WORKSPACE_FILTERS = ("all", "overdue", "due7", "requested", "unack", "category")  # bot/ledger/workspace.FILTERS
ROUNDS = Format("wr", (Number(MAX_PAGE),))
ROUND_UNITS = Format("wu", (ID, Number(MAX_PAGE)))
UNIT_ITEMS = Format("wl", (ID, ID, Word(WORKSPACE_FILTERS), Number(99), Number(MAX_PAGE)))
CARD = Format("wc", (ID, Number(MAX_PAGE)))
OVERDUE_PAGE = Format("wo", (Number(MAX_PAGE),))
CARD_ACTION = Format("wx", (Word(("deadline", "reassign", "nudge", "note")), ID))
REASSIGN_TO = Format("wg", (ID, ID))  # item, unit
CONFIRM = Format("wy", (Word(("deadline", "reassign", "nudge")), ID))
EXTENSION_ASK = Format("we", (ID,))         # item: a contact starts a request
EXTENSION_SEND = Format("wf", (ID,))        # item: the contact confirms it
EXTENSION_APPROVE = Format("wv", (ID,))     # request
EXTENSION_REFUSE = Format("wz", (ID,))      # request: ask for the reason
EXTENSION_REFUSED = Format("wk", (ID,))     # request: confirm the refusal
