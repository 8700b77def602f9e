"""`qingfeng reports export`, `qingfeng keys rotate` and `qingfeng poster`."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.cli import ConfigOption, explained_failures, fail, settings_from

reports_app = typer.Typer(help="Anonymous reports: export them for the supervisors' records.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


async def _with_services(settings, work):
    """Run `work(service, database, crypto)` against the configured database, then close it."""
    from bot import db
    from bot.reports.keys import with_lookup_secret
    from bot.reports.service import ReportService
    from bot.services import make_crypto

    crypto = make_crypto(settings)
    database = db.Database.connect(settings.database_url)
    try:
        await db.prepare(database, auto_upgrade=settings.database.auto_upgrade)
        crypto = await with_lookup_secret(database, crypto)
        return await work(ReportService(settings=settings, database=database, crypto=crypto), database, crypto)
    finally:
        await database.dispose()


@reports_app.command("export")
def export_reports(
    format: Annotated[str, typer.Option("--format", "-f", help="xlsx (reports and audit log) or csv (reports).")] = "xlsx",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: reports-<date>.<format>; - for standard output).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of headers and category labels: zh or en.")] = "zh",
    config: ConfigOption = None,
) -> None:
    """Export every report, decrypted, with its audit log; nothing identifies a reporter."""
    from bot.reports.export import FORMATS, export

    format = format.lower()
    if format not in FORMATS:
        fail(f"--format must be xlsx or csv, not {format!r}", 2)
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}", 2)
    settings = settings_from(config)

    async def work(service, _database, _crypto):
        return await export(service, format=format, language=lang)

    with explained_failures():
        data, count = asyncio.run(_with_services(settings, work))
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    path = output or Path(f"reports-{datetime.now(timezone.utc).astimezone(settings.zone):%Y-%m-%d}.{format}")
    path.write_bytes(data)
    path.chmod(0o600)
    typer.echo(f"{count} report(s) written to {path}. It holds the reports' text: keep it as safe as the database.")


@keys_app.command("rotate")
def rotate_keys(config: ConfigOption = None) -> None:
    """Re-encrypt every encrypted value under the newest key (the first in the list)."""
    from bot.reports.keys import RotationFailed, rotate_all

    settings = settings_from(config)
    if len(settings.encryption_keys()) < 2:
        typer.echo("Only one key is configured: values are re-encrypted under it. To rotate, set "
                   "QINGFENG_SECURITY__ENCRYPTION_KEYS=new,old first.", err=True)

    async def work(_service, database, crypto):
        return await rotate_all(database, crypto)

    with explained_failures():
        try:
            result = asyncio.run(_with_services(settings, work))
        except RotationFailed as exc:
            fail(str(exc), 1)
            return
    details = ", ".join(f"{table} {count}" for table, count in result.tables.items() if count)
    typer.echo(f"Re-encrypted {result.values} value(s) under the newest key" + (f" ({details})." if details else "."))
    typer.echo("Once this has succeeded everywhere, the old key can be removed from the list.")


def poster(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for poster.png and poster.pdf.")] = Path("."),
    bot_username: Annotated[Optional[str], typer.Option("--bot-username", help="The bot's @username (default: telegram.username in the config).")] = None,
    font: Annotated[Optional[Path], typer.Option("--font", help="A font file with Chinese glyphs (default: found with fontconfig).")] = None,
    config: ConfigOption = None,
) -> None:
    """Render a printable poster (PNG and PDF) with a QR code of the report link, for notice boards."""
    from bot.reports.poster import INSTALL_HINT, render_poster

    settings = settings_from(config)
    username = (bot_username or settings.telegram.username or "").lstrip("@")
    if not username:
        fail("the bot's username is needed for the link: pass --bot-username NAME or set telegram.username", 2)
    if not USERNAME.fullmatch(username):
        fail(f"{username!r} is not a Telegram username (letters, digits and _, 4 to 32 characters)", 2)
    if font is not None and not font.is_file():
        fail(f"font file not found: {font}", 2)
    result = render_poster(output, username, font_path=font)
    if not result.chinese:
        typer.secho(f"Warning: {INSTALL_HINT}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"Poster for {result.link} written to {result.png} and {result.pdf}.")
