"""`qingfeng reports export`, `qingfeng keys rotate` and `qingfeng poster`."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.cli import HELP_LANGUAGE, ConfigOption, Typer, cli_language, cli_translator, explained_failures, fail, settings_from
from bot.i18n import normalise_language, translator

_ = translator(HELP_LANGUAGE)  # help texts (bot/cli.py); each command translates its messages itself

reports_app = Typer(help=_("Anonymous reports: export them for the supervisors' records."), no_args_is_help=True)
keys_app = Typer(help=_("Encryption keys."), no_args_is_help=True)
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


@reports_app.command("export", help=_("Export every report, decrypted, with its audit log; nothing identifies a reporter."))
def export_reports(
    format: Annotated[str, typer.Option("--format", "-f", help=_("xlsx (reports and audit log) or csv (reports)."))] = "xlsx",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=_("File to write (default: reports-<date>.<format>; - for standard output)."))] = None,
    lang: Annotated[Optional[str], typer.Option("--lang", help=_("Language of the file's headers and category labels, and of this command: zh or en (default: QINGFENG_LANG, else bot.language)."))] = None,
    config: ConfigOption = None,
) -> None:
    from bot.reports.export import FORMATS, export

    _ = cli_translator(lang, config=config)
    format = format.lower()
    if format not in FORMATS:
        fail(_("--format must be xlsx or csv, not {value}", value=repr(format)), 2, _)
    if lang is not None and normalise_language(lang) is None:
        fail(_("--lang must be zh or en, not {value}", value=repr(lang)), 2, _)
    settings = settings_from(config)
    language = cli_language(lang, settings)
    _ = translator(language)

    async def work(service, _database, _crypto):
        return await export(service, format=format, language=language)

    with explained_failures(_):
        data, count = asyncio.run(_with_services(settings, work))
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    path = output or Path(f"reports-{datetime.now(timezone.utc).astimezone(settings.zone):%Y-%m-%d}.{format}")
    path.write_bytes(data)
    path.chmod(0o600)
    typer.echo(_("{count} report(s) written to {path}. It holds the reports' text: keep it as safe as the database.",
                 count=count, path=path))


@keys_app.command("rotate", help=_("Re-encrypt every encrypted value under the newest key (the first in the list)."))
def rotate_keys(config: ConfigOption = None) -> None:
    from bot.reports.keys import RotationFailed, rotate_all

    settings = settings_from(config)
    _ = cli_translator(settings=settings)
    with explained_failures(_):
        several = len(settings.encryption_keys()) >= 2
    if not several:
        typer.echo(_("Only one key is configured: values are re-encrypted under it. To rotate, set "
                     "QINGFENG_SECURITY__ENCRYPTION_KEYS=new,old first."), err=True)

    async def work(_service, database, crypto):
        return await rotate_all(database, crypto)

    with explained_failures(_):
        try:
            result = asyncio.run(_with_services(settings, work))
        except RotationFailed as exc:
            fail(exc.render(_), 1, _)
            return
    details = ", ".join(f"{table} {count}" for table, count in result.tables.items() if count)
    typer.echo((_("Re-encrypted {count} value(s) under the newest key ({details}).", count=result.values, details=details)
                if details else _("Re-encrypted {count} value(s) under the newest key.", count=result.values)))
    typer.echo(_("Once this has succeeded everywhere, the old key can be removed from the list."))


POSTER_HELP = _("Render a printable poster (PNG and PDF) with a QR code of the report link, for notice boards.")


def poster(
    output: Annotated[Path, typer.Option("--output", "-o", help=_("Folder for poster.png and poster.pdf."))] = Path("."),
    bot_username: Annotated[Optional[str], typer.Option("--bot-username", help=_("The bot's @username (default: telegram.username in the config)."))] = None,
    font: Annotated[Optional[Path], typer.Option("--font", help=_("A font file with Chinese glyphs (default: found with fontconfig)."))] = None,
    config: ConfigOption = None,
) -> None:
    from bot.reports.poster import INSTALL_HINT, render_poster

    settings = settings_from(config)
    _ = cli_translator(settings=settings)
    username = (bot_username or settings.telegram.username or "").lstrip("@")
    if not username:
        fail(_("the bot's username is needed for the link: pass --bot-username NAME or set telegram.username"), 2, _)
    if not USERNAME.fullmatch(username):
        fail(_("{username} is not a Telegram username (letters, digits and _, 4 to 32 characters)",
               username=repr(username)), 2, _)
    if font is not None and not font.is_file():
        fail(_("font file not found: {path}", path=font), 2, _)
    result = render_poster(output, username, font_path=font)
    if not result.chinese:
        typer.secho(_("Warning: {message}", message=_(INSTALL_HINT)), fg=typer.colors.YELLOW, err=True)
    typer.echo(_("Poster for {link} written to {png} and {pdf}.", link=result.link, png=result.png, pdf=result.pdf))
