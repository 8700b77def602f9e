"""The bot's commands: one list, used by /help and published to Telegram with setMyCommands."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # English msgid, translated when shown
    supervisor_only: bool = False


COMMANDS = [
    Command("start", N_("Start and show the menu")),
    Command("help", N_("What this bot can do")),
    Command("language", N_("Switch between Chinese and English")),
    Command("topics", N_("Browse the topics and their questions")),
    Command("report", N_("Report formalism anonymously")),
    Command("status", N_("Check a report with its receipt code")),
    Command("reload", N_("Reload the knowledge base"), supervisor_only=True),
    Command("inbox", N_("Reports to work on (supervisors)"), supervisor_only=True),
    Command("export", N_("Export the reports as a spreadsheet"), supervisor_only=True),
    Command("stats", N_("Figures and a chart of the reports"), supervisor_only=True),
    Command("tasks", N_("Rectification items of your unit (unit contacts)")),
    Command("bind", N_("Bind this chat to your unit with a code")),
    Command("ledger", N_("Rectification ledger: rounds, units, items and their history"), supervisor_only=True),
    Command("overdue", N_("Overdue rectification items"), supervisor_only=True),
]


def visible_commands(is_supervisor: bool) -> list[tuple[str, str]]:
    return [(c.name, c.description) for c in COMMANDS if is_supervisor or not c.supervisor_only]
