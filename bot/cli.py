"""The `qingfeng` command.

Each command loads the settings, calls into `bot/`, and turns known failures into one clear
line and a non-zero exit code: 2 for configuration, 3 for the database, 4 for Telegram.
"""

from __future__ import annotations

import asyncio
import os
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
from bot.knowledge.schema import KnowledgeError
from bot.logs import setup_logging
from bot.private_files import make_private, use_private_umask

app = typer.Typer(help="Qingfeng (清风): Telegram assistant for burden reduction, reports and rectification.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[Optional[Path], typer.Option("--config", "-c", help="Config file (default: ./config.yaml, then the project's).")]
SANDBOX_TOKEN = "123456:SANDBOX-TOKEN-qingfeng-local-0000000"
LOCAL_USER_ID = 100000001


def fail(message: str, code: int) -> None:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def explained_failures() -> Iterator[None]:
    """Known failures become one clear line and an exit code; nothing else is swallowed."""
    from telegram.error import InvalidToken  # imported here: only commands that talk to Telegram need it
    from bot.reports.keys import LookupSecretLocked

    try:
        yield
    except ConfigError as exc:
        fail(str(exc), 2)
    except (db.DatabaseUnavailable, db.SchemaBehind) as exc:
        fail(str(exc), 3)
    except LookupSecretLocked as exc:
        fail(str(exc), 2)
    except KnowledgeError as exc:
        fail(f"the knowledge base has {len(exc.problems)} problem(s):\n{exc}", 2)
    except InvalidToken:
        fail("Telegram rejected the bot token: check QINGFENG_TELEGRAM__TOKEN (from @BotFather)", 4)


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc), 2)
        raise  # unreachable: fail exits


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"qingfeng {package_version('qingfeng')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Qingfeng (清风)."""
    use_private_umask()  # every file a command writes (database, WAL, logs, exports) is the owner's only


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the bot (polling or webhook, as configured) until Ctrl-C or SIGTERM."""
    from bot.app import serve

    settings = settings_from(config)
    make_private(settings.data_dir, database_url=settings.database_url,
                 log_file=settings.logging.file and settings.path(settings.logging.file))
    setup_logging(settings.logging.level, settings.logging.file and settings.path(settings.logging.file))
    with explained_failures():
        asyncio.run(serve(settings))


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply pending migrations to the configured database."""
    settings = settings_from(config)

    async def upgrade() -> None:
        database = db.Database.connect(settings.database_url)
        try:
            await database.upgrade()
        finally:
            await database.dispose()

    with explained_failures():
        asyncio.run(upgrade())
    typer.echo(f"Database {db.safe_url(settings.database_url)} is up to date.")


@db_app.command("status")
def db_status(config: ConfigOption = None) -> None:
    """Say whether the database is new, current or behind."""
    settings = settings_from(config)

    async def status() -> db.SchemaState:
        database = db.Database.connect(settings.database_url)
        try:
            return await database.schema_status()
        finally:
            await database.dispose()

    with explained_failures():
        state = asyncio.run(status())
    typer.echo(f"{db.safe_url(settings.database_url)}: {state.value}")
    if state is db.SchemaState.BEHIND:
        raise typer.Exit(1)


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    enforce_limits: Annotated[bool, typer.Option(help="Answer 429 like Telegram when sending too fast.")] = False,
) -> None:
    """Run the local Telegram Bot API sandbox (point telegram.base_url at it)."""
    from bot.sandbox.app import main as sandbox_main

    argv = ["--host", host, "--port", str(port)] + (["--enforce-limits"] if enforce_limits else [])
    sandbox_main(argv)


@app.command()
def chat(
    config: ConfigOption = None,
    sandbox_url: Annotated[Optional[str], typer.Option("--sandbox", help="Use a running sandbox (and the bot already running against it).")] = None,
    supervisor: Annotated[bool, typer.Option("--supervisor", help="Act as a supervisor.")] = False,
    user_id: Annotated[int, typer.Option(help="Your Telegram user id in the sandbox.")] = LOCAL_USER_ID,
    language: Annotated[str, typer.Option("--lang", help="Your Telegram language (zh or en).")] = "zh",
) -> None:
    """Talk to the bot in the terminal, without Telegram: a local sandbox and the real bot."""
    settings = settings_from(config)
    asyncio.run(_chat(settings, config, sandbox_url, supervisor, user_id, language))


async def _chat(settings: Settings, config: Path | None, sandbox_url: str | None, supervisor: bool,
                user_id: int, language: str) -> None:
    from bot.sandbox.client import SandboxClient
    from bot.sandbox.app import start_sandbox
    from bot.sandbox.terminal import run_terminal_chat

    if supervisor and not sandbox_url and settings.supervisor_ids:
        user_id = min(settings.supervisor_ids)
    running = None if sandbox_url else await start_sandbox()
    url = sandbox_url or running.url
    bot_process = None if sandbox_url else _start_bot_process(settings, config, url, user_id if supervisor else None)
    client = SandboxClient(url)
    try:
        if bot_process is not None:
            await _wait_until_polling(client, bot_process, settings)
        user = await client.create_user(id=user_id, first_name="Supervisor" if supervisor else "You",
                                        language_code=language)
        await run_terminal_chat(client, user)
    finally:
        await client.aclose()
        if bot_process is not None:
            bot_process.terminate()
            await asyncio.to_thread(bot_process.wait, 15)
        if running is not None:
            await running.stop()


def _start_bot_process(settings: Settings, config: Path | None, url: str, supervisor_id: int | None) -> subprocess.Popen:
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
    typer.echo(f"Starting the bot against a local sandbox (bot log: {log_path}) ...", err=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)


async def _wait_until_polling(client, process: subprocess.Popen, settings: Settings, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.poll() is not None:
            log_path = settings.data_dir / "chat-bot.log"
            reason = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                      if line.strip()][-1:] if log_path.exists() else []
            fail(f"the bot stopped at start: {reason[0] if reason else '?'} (log: {log_path})", 1)
        stats = await client.stats()
        if stats.get("calls", {}).get("getUpdates"):
            return
        await asyncio.sleep(0.2)
    fail(f"the bot did not start within {timeout:.0f} s; see {settings.data_dir / 'chat-bot.log'}", 1)


def _register_feature_commands() -> None:
    """Features bring their own commands; imported last because they use the helpers above."""
    from bot.knowledge.cli import ask, kb_app

    app.add_typer(kb_app, name="kb")
    app.command("ask")(ask)
    # Anonymous reports (supervisor side)
    from bot.reports.cli import keys_app, poster, reports_app

    app.add_typer(reports_app, name="reports")
    app.add_typer(keys_app, name="keys")
    app.command("poster")(poster)
    # Rectification ledger
    from bot.ledger.cli import ledger_app, units_app

    app.add_typer(ledger_app, name="ledger")
    app.add_typer(units_app, name="units")


_register_feature_commands()
