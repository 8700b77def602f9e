"""The `qingfeng` command.

Each command loads the settings, calls into `bot/`, and turns known failures into one clear
line and a non-zero exit code: 2 for configuration, 3 for the database, 4 for Telegram.

The command speaks Chinese or English by one rule (`cli_language`): `--lang` where a command has
it, else $QINGFENG_LANG, else the config's bot.language, else Chinese. Help texts are chosen by
the same rule (without `--lang`) when the command is built; their msgids and those of the
messages are in bot/locales/zh_CN/cli.po.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot import db
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import N_, Translate, normalise_language, translator
from bot.knowledge.schema import KnowledgeError
from bot.logs import setup_logging
from bot.private_files import make_private, use_private_umask

LANG_VARIABLE = "QINGFENG_LANG"  # the CLI's language; not a setting (bot/config.py's NOT_SETTINGS)


def _configured_language(config: Path | None) -> str | None:
    """bot.language as bot/config.py resolves it; what can be read of a broken config, else None."""
    try:
        return load_settings(config).bot.language
    except Exception:  # noqa: BLE001  (choosing a language never fails: the error is reported later)
        pass
    from_env = normalise_language(os.environ.get("QINGFENG_BOT__LANGUAGE"))
    if from_env:
        return from_env
    try:
        import yaml

        from bot.config import _find_config

        path = _find_config(config, dict(os.environ))
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path else None
        return normalise_language(str(data["bot"]["language"]))
    except Exception:  # noqa: BLE001
        return None


def cli_language(lang: str | None = None, settings: Settings | None = None, config: Path | None = None) -> str:
    """The CLI's language: `--lang` where a command has it; else $QINGFENG_LANG (zh or en); else the
    config's bot.language (QINGFENG_BOT__LANGUAGE or config.yaml: `settings` when loaded, else read
    from `config`, a broken config never failing the choice); else zh."""
    chosen = normalise_language(lang) or normalise_language(os.environ.get(LANG_VARIABLE))
    if chosen:
        return chosen
    configured = settings.bot.language if settings is not None else _configured_language(config)
    return configured or "zh"


def cli_translator(lang: str | None = None, settings: Settings | None = None, config: Path | None = None) -> Translate:
    return translator(cli_language(lang, settings, config))


# Help texts: in the language of the rule without --lang, chosen once, when the command is built.
HELP_LANGUAGE = cli_language()
_ = translator(HELP_LANGUAGE)


# Typer's own messages for a mistyped command line, English f-strings with no catalog behind them:
# each is recognised by its English form and said again from ours.
USAGE_ERRORS = (
    (re.compile(r"No such command '(?P<name>.*)'\.$"), N_("No such command '{name}'.")),
    (re.compile(r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.*)\)$"),
     N_("No such option: {name} (possible options: {options})")),
    (re.compile(r"No such option: (?P<name>\S+)$"), N_("No such option: {name}")),
    (re.compile(r"Missing argument '(?P<name>.*)'\.$"), N_("Missing argument '{name}'.")),
    (re.compile(r"Missing option '(?P<name>.*)'\.$"), N_("Missing option '{name}'.")),
    (re.compile(r"Missing command\.$"), N_("Missing command.")),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<values>.*)\)$"), N_("Unexpected extra arguments: {values}")),
    (re.compile(r"Invalid value for (?P<name>.*?): (?P<detail>.*)$", re.DOTALL), N_("Invalid value for {name}: {detail}")),
)


def usage_error_text(english_text: str) -> str:
    """Typer's message about a mistyped command line, in the help language (unknown ones as they are)."""
    for pattern, message in USAGE_ERRORS:
        found = pattern.match(english_text)
        if found:
            return _(message, **found.groupdict())
    return english_text


def _framework_texts() -> None:
    """The headings and messages Typer prints around ours, in the same language (typer.rich_utils'
    texts; the usage line's prefix is QingfengCommand's)."""
    from typer import rich_utils

    for name, text in (("ARGUMENTS_PANEL_TITLE", _("Arguments")), ("OPTIONS_PANEL_TITLE", _("Options")),
                       ("COMMANDS_PANEL_TITLE", _("Commands")), ("REQUIRED_LONG_STRING", _("[required]")),
                       ("DEFAULT_STRING", _("[default: {}]")), ("ERRORS_PANEL_TITLE", _("Error")),
                       ("RICH_HELP", _("Try [blue]'{command_path} {help_option}'[/] for help.")),
                       ("ABORTED_TEXT", _("Aborted."))):
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)
    format_error = rich_utils.rich_format_error

    def format_error_in_language(error) -> None:
        english_text = error.format_message()
        error.format_message = lambda: usage_error_text(english_text)
        format_error(error)

    rich_utils.rich_format_error = format_error_in_language


_framework_texts()


class _HelpOptionInLanguage:
    """The --help option's own text, in the help language: Typer writes it in English and offers no
    setting for it, only the command classes (`cls=`) it builds our commands with."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=_("Usage: "))


class QingfengCommand(_HelpOptionInLanguage, typer.core.TyperCommand):
    pass


class QingfengGroup(_HelpOptionInLanguage, typer.core.TyperGroup):
    pass


class Typer(typer.Typer):
    """typer.Typer building its group and commands with the classes above; every `qingfeng` command
    group is one (bot/*/cli.py too), so Typer's own classes stay as they are."""

    def __init__(self, **options) -> None:
        super().__init__(cls=QingfengGroup, **options)

    def command(self, *args, cls=QingfengCommand, **options):
        return super().command(*args, cls=cls, **options)


app = Typer(help=_("Qingfeng (清风): Telegram assistant for burden reduction, reports and rectification."),
            no_args_is_help=True, add_completion=False)
db_app = Typer(help=_("Database schema."), no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[Optional[Path], typer.Option("--config", "-c", help=_("Config file (default: ./config.yaml, then the project's)."))]
SANDBOX_TOKEN = "123456:SANDBOX-TOKEN-qingfeng-local-0000000"
LOCAL_USER_ID = 100000001


def fail(message: str, code: int, _: Translate | None = None) -> None:
    _ = _ or cli_translator()
    typer.secho(_("Error: {message}", message=message), fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def explained_failures(_: Translate | None = None) -> Iterator[None]:
    """Known failures become one clear line and an exit code; nothing else is swallowed. Their errors
    carry their msgid and values (bot/i18n.py's TranslatableError), said here in the CLI's language."""
    from telegram.error import InvalidToken  # imported here: only commands that talk to Telegram need it
    from bot.reports.keys import LookupSecretLocked

    _ = _ or cli_translator()
    try:
        yield
    except ConfigError as exc:
        fail(exc.render(_), 2, _)
    except (db.DatabaseUnavailable, db.SchemaBehind) as exc:
        fail(exc.render(_), 3, _)
    except LookupSecretLocked as exc:
        fail(exc.render(_), 2, _)
    except KnowledgeError as exc:
        fail(_("the knowledge base has {count} problem(s):", count=len(exc.problems)) + f"\n{exc}", 2, _)
    except InvalidToken:
        fail(_("Telegram rejected the bot token: check QINGFENG_TELEGRAM__TOKEN (from @BotFather)"), 4, _)


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        _ = cli_translator(config=config)
        fail(exc.render(_), 2, _)
        raise  # unreachable: fail exits


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"qingfeng {package_version('qingfeng')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help=_("Print the version and exit."))] = False,
) -> None:
    use_private_umask()  # every file a command writes (database, WAL, logs, exports) is the owner's only


@app.command(help=_("Run the bot (polling or webhook, as configured) until Ctrl-C or SIGTERM."))
def run(config: ConfigOption = None) -> None:
    from bot.app import serve

    settings = settings_from(config)
    _ = cli_translator(settings=settings)
    make_private(settings.data_dir, database_url=settings.database_url,
                 log_file=settings.logging.file and settings.path(settings.logging.file))
    setup_logging(settings.logging.level, settings.logging.file and settings.path(settings.logging.file))
    with explained_failures(_):
        asyncio.run(serve(settings))


@db_app.command("upgrade", help=_("Apply pending migrations to the configured database."))
def db_upgrade(config: ConfigOption = None) -> None:
    settings = settings_from(config)
    _ = cli_translator(settings=settings)

    async def upgrade() -> None:
        database = db.Database.connect(settings.database_url)
        try:
            await database.upgrade()
        finally:
            await database.dispose()

    with explained_failures(_):
        asyncio.run(upgrade())
    typer.echo(_("Database {url} is up to date.", url=db.safe_url(settings.database_url)))


SCHEMA_STATES = {db.SchemaState.EMPTY: N_("empty"), db.SchemaState.CURRENT: N_("current"),
                 db.SchemaState.BEHIND: N_("behind")}


@db_app.command("status", help=_("Say whether the database is new, current or behind."))
def db_status(config: ConfigOption = None) -> None:
    settings = settings_from(config)
    _ = cli_translator(settings=settings)

    async def status() -> db.SchemaState:
        database = db.Database.connect(settings.database_url)
        try:
            return await database.schema_status()
        finally:
            await database.dispose()

    with explained_failures(_):
        state = asyncio.run(status())
    typer.echo(f"{db.safe_url(settings.database_url)}: {_(SCHEMA_STATES[state])}")
    if state is db.SchemaState.BEHIND:
        raise typer.Exit(1)


@app.command(help=_("Run the local Telegram Bot API sandbox (point telegram.base_url at it)."))
def sandbox(
    host: Annotated[str, typer.Option(help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port to listen on."))] = 8081,
    enforce_limits: Annotated[bool, typer.Option(help=_("Answer 429 like Telegram when sending too fast."))] = False,
) -> None:
    from bot.sandbox.app import main as sandbox_main

    argv = ["--host", host, "--port", str(port)] + (["--enforce-limits"] if enforce_limits else [])
    sandbox_main(argv, cli_translator())


@app.command(help=_("Talk to the bot in the terminal, without Telegram: a local sandbox and the real bot."))
def chat(
    config: ConfigOption = None,
    sandbox_url: Annotated[Optional[str], typer.Option("--sandbox", help=_("Use a running sandbox (and the bot already running against it)."))] = None,
    supervisor: Annotated[bool, typer.Option("--supervisor", help=_("Act as a supervisor."))] = False,
    user_id: Annotated[int, typer.Option(help=_("Your Telegram user id in the sandbox."))] = LOCAL_USER_ID,
    lang: Annotated[Optional[str], typer.Option("--lang", help=_("Your Telegram language and this command's: zh or en (default: QINGFENG_LANG, else bot.language)."))] = None,
) -> None:
    settings = settings_from(config)
    if lang and normalise_language(lang) is None:
        _ = cli_translator(None, settings)
        fail(_("--lang must be zh or en, not {value}", value=repr(lang)), 2, _)
    asyncio.run(_chat(settings, config, sandbox_url, supervisor, user_id, cli_language(lang, settings)))


async def _chat(settings: Settings, config: Path | None, sandbox_url: str | None, supervisor: bool,
                user_id: int, language: str) -> None:
    from bot.sandbox.client import SandboxClient
    from bot.sandbox.app import start_sandbox
    from bot.sandbox.terminal import run_terminal_chat

    if supervisor and not sandbox_url and settings.supervisor_ids:
        user_id = min(settings.supervisor_ids)
    running = None if sandbox_url else await start_sandbox()
    url = sandbox_url or running.url
    bot_process = None if sandbox_url else _start_bot_process(settings, config, url, user_id if supervisor else None,
                                                              translator(language))
    client = SandboxClient(url)
    try:
        if bot_process is not None:
            await _wait_until_polling(client, bot_process, settings, translator(language))
        else:
            await _check_sandbox(client, url, translator(language))
        user = await client.create_user(id=user_id, first_name="Supervisor" if supervisor else "You",
                                        language_code=language)
        await run_terminal_chat(client, user, _=translator(language))
    finally:
        await client.aclose()
        if bot_process is not None:
            bot_process.terminate()
            await asyncio.to_thread(bot_process.wait, 15)
        if running is not None:
            await running.stop()


def _start_bot_process(settings: Settings, config: Path | None, url: str, supervisor_id: int | None,
                       _: Translate) -> subprocess.Popen:
    """The real bot, unchanged, in its own process, pointed at the sandbox; its log goes to a file."""
    # A local playground: its database follows the code (a production bot asks for `db upgrade`).
    env = {**os.environ, "QINGFENG_TELEGRAM__TOKEN": SANDBOX_TOKEN, "QINGFENG_TELEGRAM__BASE_URL": url,
           "QINGFENG_TELEGRAM__MODE": "polling", "QINGFENG_TELEGRAM__POLL_TIMEOUT": "2",
           "QINGFENG_DATABASE__AUTO_UPGRADE": "true"}
    if supervisor_id is not None:
        env["QINGFENG_ACCESS__SUPERVISORS"] = ",".join(str(i) for i in sorted(settings.supervisor_ids | {supervisor_id}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "chat-bot.log"
    command = [sys.executable, "-m", "bot", "run"] + (["--config", str(config)] if config else [])
    typer.echo(_("Starting the bot against a local sandbox (bot log: {path}) ...", path=log_path), err=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)


async def _check_sandbox(client, url: str, _: Translate) -> None:
    """--sandbox: a sandbox must answer there; a bot not reading it yet is said, not fatal (it may be
    started after), so that a message typed into a silent chat is not a mystery."""
    import httpx

    try:
        stats = await client.stats()
    except (httpx.HTTPError, OSError):
        fail(_("no sandbox answers at {url}: start one with `qingfeng sandbox`, or leave out --sandbox to "
               "start both here", url=url), 1, _)
    if not stats.get("bots_listening"):
        typer.secho(_("Warning: no bot is reading this sandbox: your messages wait until one starts "
                      "(QINGFENG_TELEGRAM__BASE_URL={url} qingfeng run).", url=url), fg=typer.colors.YELLOW, err=True)


async def _wait_until_polling(client, process: subprocess.Popen, settings: Settings, _: Translate,
                              timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.poll() is not None:
            log_path = settings.data_dir / "chat-bot.log"
            reason = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                      if line.strip()][-1:] if log_path.exists() else []
            fail(_("the bot stopped at start: {reason} (log: {path})", reason=reason[0] if reason else "?",
                   path=log_path), 1, _)
        stats = await client.stats()
        if stats.get("calls", {}).get("getUpdates"):
            return
        await asyncio.sleep(0.2)
    fail(_("the bot did not start within {seconds} s; see {path}", seconds=f"{timeout:.0f}",
           path=settings.data_dir / "chat-bot.log"), 1, _)


def _register_feature_commands() -> None:
    """Features bring their own commands; imported last because they use the helpers above."""
    from bot.knowledge.cli import ASK_HELP, ask, kb_app

    app.add_typer(kb_app, name="kb")
    app.command("ask", help=ASK_HELP)(ask)
    # Anonymous reports (supervisor side)
    from bot.reports.cli import POSTER_HELP, keys_app, poster, reports_app

    app.add_typer(reports_app, name="reports")
    app.add_typer(keys_app, name="keys")
    app.command("poster", help=POSTER_HELP)(poster)
    # Rectification ledger
    from bot.ledger.cli import ledger_app, units_app

    app.add_typer(ledger_app, name="ledger")
    app.add_typer(units_app, name="units")


_register_feature_commands()
