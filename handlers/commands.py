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
    Command("reload", N_("Reload the knowledge base"), supervisor_only=True),
]


def visible_commands(is_supervisor: bool) -> list[tuple[str, str]]:
    return [(c.name, c.description) for c in COMMANDS if is_supervisor or not c.supervisor_only]
