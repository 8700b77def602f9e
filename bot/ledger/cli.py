"""`qingfeng ledger import|template|export|delete` and `qingfeng units add|list|invite|rename|remove|contacts|unbind`.

Every line these commands print is in the operator's language, by the CLI's rule (`cli_language` in
bot/cli.py): `--lang zh|en`, else $QINGFENG_LANG, else the config's bot.language (zh by default). The messages are gettext msgids (bot/locales/zh_CN/ledger.po), and
the service's and the importer's errors carry theirs (`ExplainedError.render`).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot import db
from bot.cli import HELP_LANGUAGE, ConfigOption, Typer, cli_translator, explained_failures, settings_from
from bot.config import Settings
from bot.i18n import N_, Translate, translator
from bot.ledger import importer
from bot.ledger.models import item_label
from bot.ledger.importer import LedgerFileError
from bot.ledger.service import ImportResult, LedgerError, LedgerService, UnitRemoved

_ = translator(HELP_LANGUAGE)  # help texts (bot/cli.py); each command translates its messages itself

ledger_app = Typer(help=_("The rectification ledger (整改台账): import, template, export."), no_args_is_help=True)
units_app = Typer(help=_("Responsible units and their contacts."), no_args_is_help=True)

PROGRESS_FROM_ROWS = 200  # show a progress bar for imports at least this long
LangOption = Annotated[Optional[str], typer.Option("--lang", help=_("zh or en (default: QINGFENG_LANG, else bot.language of the config)."))]


def _language(settings: Settings | None, lang: str | None) -> Translate:
    return cli_translator(lang, settings)


def _fail(_: Translate, message: str, code: int) -> None:
    typer.secho(_("Error: {message}", message=message), fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@asynccontextmanager
async def _ledger(settings: Settings):
    database = db.Database.connect(settings.database_url)
    try:
        await db.prepare(database, auto_upgrade=settings.database.auto_upgrade)
        yield LedgerService(settings=settings, database=database)
    finally:
        await database.dispose()


def _run(settings: Settings, work, _: Translate):
    async def main():
        async with _ledger(settings) as ledger:
            return await work(ledger)

    with explained_failures(_):
        try:
            return asyncio.run(main())
        except LedgerFileError as exc:
            _fail(_, exc.render(_), 2)
        except LedgerError as exc:
            _fail(_, exc.render(_), 1)


@ledger_app.command("import", help=_("Import items; re-importing updates them by their external id (编号)."))
def import_ledger(
    file: Annotated[Path, typer.Argument(help=_("A ledger file: .xlsx, .xls, WPS .et, .ods, .csv or .yaml (see `qingfeng ledger template`)."))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show what would change; change nothing."))] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help=_("Import the valid rows, list the others."))] = False,
    create_units: Annotated[bool, typer.Option("--create-units", help=_("Add units the ledger does not know yet."))] = False,
    round_name: Annotated[Optional[str], typer.Option("--round", help=_("The round (县委第二轮巡察): beats a round column and the title."))] = None,
    update_round: Annotated[bool, typer.Option("--update-round", help=_("Update a round that came from a ledger with another title."))] = False,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    try:
        table = importer.read_table(file)
    except LedgerFileError as exc:
        _fail(_, exc.render(_), 2)
        return
    options = dict(dry_run=dry_run, skip_invalid=skip_invalid, create_units=create_units,
                   default_round=round_name or None, update_round=update_round)
    show_bar = not dry_run and len(table.rows) >= PROGRESS_FROM_ROWS

    async def work(ledger: LedgerService) -> ImportResult:
        if not show_bar:
            return await ledger.import_table(table, **options)
        with typer.progressbar(length=len(table.rows), label=_("Importing")) as bar:
            return await ledger.import_table(table, progress=bar.update, **options)

    result = _run(settings, work, _)
    _print_result(result, dry_run=dry_run, skip_invalid=skip_invalid, today=datetime.now(settings.zone).date(), _=_)
    if result.problems and not (skip_invalid and result.applied):
        raise typer.Exit(1)


ROW_KINDS = {"title": N_("Skipped title row(s): {rows}"), "filing": N_("Skipped 填报 row(s) (filing unit and date): {rows}"),
             "footnote": N_("Skipped footnote row(s): {rows}"), "section": N_("Skipped section row(s): {rows}"),
             "numbered but empty": N_("Skipped row(s) with only a number: {rows}")}


def _print_layout(result: ImportResult, _: Translate) -> None:
    """Which sheets and rows were read, and which skipped and why: the clerk sees how the file was understood."""
    if result.sheets_read and result.sheets_read != [""]:
        typer.echo(_("Sheets read: {sheets}", sheets=", ".join(result.sheets_read)))
    for name, why in result.sheets_skipped.items():
        typer.echo(_("Sheet skipped: {sheet} ({why})", sheet=name,
                     why=_("empty sheet") if why == "empty sheet" else _("no ledger header in its first rows")))
    if result.header_rows:
        typer.echo(_("Header in row(s) {rows}", rows=", ".join(map(str, dict.fromkeys(result.header_rows)))))
    for kind, message in ROW_KINDS.items():
        rows = [str(row) for row, what in result.skipped_rows if what == kind]
        if rows:
            typer.echo(_(message, rows=", ".join(rows)))
    if result.round_label:
        typer.echo(_("Round (from the title): {round}", round=result.round_label))
    if result.filing_date:
        typer.echo(_("填报日期 {date}: deadlines without a year count from it", date=result.filing_date.isoformat()))
    if result.extra_headers:
        typer.echo(_("Other columns kept with each item: {columns}", columns=", ".join(result.extra_headers)))


def _print_result(result: ImportResult, *, dry_run: bool, skip_invalid: bool, today: date, _: Translate) -> None:
    _print_layout(result, _)
    for problem in result.problems:
        typer.echo(problem.render(_))
    if result.ignored_headers:
        typer.echo(_("Ignored columns (a second column for the same field): {columns}",
                     columns=", ".join(result.ignored_headers)))
    blocked = bool(result.problems) and not skip_invalid
    if blocked and not dry_run:
        typer.secho(_("{count} problem(s): nothing was imported. Fix the file, or import the valid rows with "
                      "--skip-invalid.", count=len(result.problems)), fg=typer.colors.RED, err=True)
        return
    if dry_run or len(result.created) + len(result.updated) <= 50:
        for item in result.created:
            typer.echo(_("+ row {row}: {id} ({unit}, deadline {deadline})", row=item.row, id=item.external_id,
                         unit=item.unit, deadline=_understood(item, _)))
        for item, changes in result.updated:
            described = "; ".join(f"{_field_name(name, _)} {_short(old)} → {_short(new)}" for name, (old, new) in changes.items())
            typer.echo(_("~ row {row}: {id}: {changes}", row=item.row, id=item.external_id, changes=described))
    for item, in_bot, in_file in result.kept_deadlines:
        typer.echo(_("= row {row}: {id}: the deadline stays {kept}, as a supervisor set it in the bot (the file says "
                     "{file}; change it in the bot if the file is right)", row=item.row, id=item.external_id,
                     kept=_short(in_bot), file=_short(in_file)))
    for item in result.deleted_rows:
        typer.echo(_("row {row}: item {label} was deleted from the ledger; this row is left out (give it a new "
                     "number to import it as a new item)", row=item.row, label=item_label(item.round, item.external_id)))
    _print_guessed_years(result.guessed_years, today, _)
    for name in result.new_units:
        typer.echo(_("+ unit {name}", name=name))
    for name in result.new_rounds:
        typer.echo(_("+ round {name}", name=name))
    counts = dict(created=len(result.created), updated=len(result.updated), unchanged=result.unchanged)
    summary = (_("{created} item(s) would be created, {updated} updated, {unchanged} unchanged", **counts) if dry_run
               else _("{created} item(s) were created, {updated} updated, {unchanged} unchanged", **counts))
    if result.closed_at_import:
        summary += _(", {count} already closed", count=result.closed_at_import)
    if result.overdue_at_import:
        summary += _(", {count} overdue from the start (deadline already past)", count=result.overdue_at_import)
    if result.problems and skip_invalid:  # said by rows: one row may have several problems
        summary += _(", {rows} row(s) left out for their {count} problem(s)",
                     rows=len({problem.row for problem in result.problems}), count=len(result.problems))
    elif result.problems:
        summary += _(", {count} row problem(s)", count=len(result.problems))
    typer.echo(summary + (_(" (dry run: nothing was changed).") if dry_run else _(".")))  # 。 in Chinese
    if blocked:
        typer.secho(_("{count} problem(s): an import would import nothing until they are fixed (or with "
                      "--skip-invalid).", count=len(result.problems)), fg=typer.colors.RED, err=True)


def _field_name(name: str, _: Translate) -> str:
    """A changed field as the operator reads it (整改时限, not deadline)."""
    label = importer.FIELD_LABELS.get("progress" if name == "progress_text" else name)
    return _(label).split(" (")[0].split("（")[0] if label else name


def _print_guessed_years(items, today: date, _: Translate) -> None:
    """A deadline without a year (10月底) in a file without a 填报日期 was read as the next such day on
    or after today; the clerk is told which day, and how to write the other reading (the past one,
    which makes the item overdue) if that is what the ledger meant."""
    if not items:
        return
    typer.echo(_("Deadlines without a year: the file has no 填报日期 row, so each was read as the next such day "
                 "from today ({today}) on:", today=today.isoformat()))
    groups: dict[tuple[str, date], list[int]] = {}
    for item in items:
        groups.setdefault((item.deadline_raw, item.deadline), []).append(item.row)
    for (raw, day), rows in groups.items():
        line = _("{raw} → {day} (row(s) {rows}).", raw=raw, day=day.isoformat(), rows=", ".join(map(str, rows)))
        if day.year > today.year:  # this year's had passed: next year's was taken, and the other reading is likely
            earlier = importer.year_before(day)
            line += " " + _("If the ledger meant {earlier} (already past: the item would be overdue), write {written} "
                            "in the file and import it again.", earlier=earlier.isoformat(),
                            written=f"{earlier.year}年{earlier.month}月{earlier.day}日")
        typer.echo("  " + line)


def _understood(item, _: Translate) -> str:
    """The deadline as understood: "12月底 → 2026-12-31", "立行立改 → 2026-12-08 (immediate)"."""
    meant = _("standing, no final deadline") if item.deadline is None else item.deadline.isoformat()
    if item.deadline_kind == "immediate":
        meant += " (" + _("immediate") + ")"
    if getattr(item, "year_guessed_from_import", False):
        meant += " (" + _("year not in the file: see below") + ")"
    return f"{item.deadline_raw} → {meant}" if item.deadline_raw and item.deadline_raw != meant else meant


def _short(value: str, limit: int = 40) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@ledger_app.command("template", help=_("Write an import template with its columns explained and two example rows."))
def template(
    fmt: Annotated[str, typer.Option("--format", help=_("xlsx or csv."))] = "xlsx",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=_("File to write (default: ledger-template.<format>)."))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    _ = _language(settings_from(config), lang)
    fmt = fmt.lower()
    if fmt not in ("xlsx", "csv"):
        _fail(_, _("--format must be xlsx or csv"), 2)
    path = output or Path(f"ledger-template.{fmt}")
    importer.write_template(path, fmt, date.today())
    typer.echo(_("Column headers the import understands (any one of each line; other columns are kept as they are):"))
    for line in importer.vocabulary_lines(_):
        typer.echo(f"  {line}")
    typer.echo(_("Template written to {path}. Fill it in, then: qingfeng ledger import {path} --dry-run", path=path))


@ledger_app.command("export", help=_("Write the whole ledger, with status, overdue flag and latest progress, its history and evidence list, as XLSX (deleted items left out)."))
def export(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=_("XLSX file to write (default: ledger-<date>.xlsx)."))] = None,
    evidence: Annotated[Optional[Path], typer.Option("--evidence", help=_("Also copy every kept evidence file into this folder, one folder per item."))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    path = output or Path(f"ledger-{datetime.now(settings.zone).date().isoformat()}.xlsx")
    count = _run(settings, lambda ledger: ledger.export_xlsx(path, evidence_dir=evidence), _)
    typer.echo(_("{count} item(s) written to {path}.", count=count, path=path))


@ledger_app.command("delete", help=_("Take an item out of the ledger; it and its history are kept, marked deleted."))
def delete_item(
    round_name: Annotated[str, typer.Argument(metavar="ROUND", help=_("The item's round (县委第二轮巡察)."))],
    number: Annotated[str, typer.Argument(metavar="NUMBER", help=_("The item's number in that round (编号)."))],
    reason: Annotated[str, typer.Option("--reason", help=_("Why the item leaves the ledger (kept in its history)."))],
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    item = _run(settings, lambda ledger: ledger.delete_item(round_name, number, reason=reason), _)
    typer.echo(_("Item {label} ({unit}) is deleted; the reason and its history are kept. It no longer appears in "
                 "/tasks, reminders, the export or the digest.", label=item.label, unit=item.unit))


@units_app.command("add", help=_("Add a unit (or set the parent of an existing one)."))
def add_unit(
    name: Annotated[str, typer.Argument(help=_("The unit's name, as the ledger files write it."))],
    parent: Annotated[Optional[str], typer.Option("--parent", help=_('The unit overdue items escalate to; --parent "" clears it.'))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    unit = _run(settings, lambda ledger: ledger.add_unit(name, parent), _)
    typer.echo(_("Unit {name} (parent: {parent}) saved.", name=unit.name, parent=unit.parent) if unit.parent
               else _("Unit {name} saved.", name=unit.name))


@units_app.command("list", help=_("Units with their parent, contacts (reachable/all) and open items."))
def list_units(lang: LangOption = None, config: ConfigOption = None) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    units = _run(settings, lambda ledger: ledger.list_units(), _)
    if not units:
        typer.echo(_("No units yet: add them with `qingfeng units add` or import with --create-units."))
        return
    for unit in units:
        parent = "  " + _("(parent: {parent})", parent=unit.parent) if unit.parent else ""
        typer.echo(unit.name + parent + "  " + _("contacts {reachable}/{all}  open items {open}",
                                                 reachable=unit.reachable_contacts, all=unit.contacts,
                                                 open=unit.active_items))


@units_app.command("rename", help=_("Rename a unit: its items, contacts and children stay with it."))
def rename_unit(
    old: Annotated[str, typer.Argument(metavar="OLD", help=_("The unit's name now."))],
    new: Annotated[str, typer.Argument(metavar="NEW", help=_("Its new name."))],
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    unit = _run(settings, lambda ledger: ledger.rename_unit(old, new), _)
    typer.echo(_("Unit {old} is now called {new}. Ledger files that still write {old} will not match it: write "
                 "{new} in them.", old=old.strip(), new=unit.name))


@units_app.command("remove", help=_("Remove a unit; refused while it has items, unless --reassign-to moves them (with their history)."))
def remove_unit(
    name: Annotated[str, typer.Argument(metavar="NAME", help=_("The unit to remove."))],
    reassign_to: Annotated[Optional[str], typer.Option("--reassign-to", metavar="OTHER",
                                                       help=_("The unit that takes over its items."))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    removed = _run(settings, lambda ledger: ledger.remove_unit(name, reassign_to=reassign_to), _)
    _print_removed(removed, _)


def _print_removed(removed: UnitRemoved, _: Translate) -> None:
    typer.echo(_("Unit {name} is removed.", name=removed.name))
    if removed.moved:
        typer.echo(_("{count} item(s) moved to {unit}, each with a line in its history; their pending reminders are "
                     "cancelled, and {unit}'s contacts get theirs from now on.", count=removed.moved,
                     unit=removed.moved_to))
    if removed.contacts:
        typer.echo(_("{count} contact(s) unbound: invite them to another unit with `qingfeng units invite`.",
                     count=removed.contacts))
    if removed.co_unit_of:
        typer.echo(_("{count} item(s) named it as a co-unit: now {unit}.", count=removed.co_unit_of,
                     unit=removed.moved_to) if removed.moved_to else
                   _("{count} item(s) named it as a co-unit: no longer.", count=removed.co_unit_of))
    if removed.orphans:
        typer.echo(_("No parent any more: {units} (set one with `qingfeng units add NAME --parent PARENT`).",
                     units="、".join(removed.orphans)))


@units_app.command("contacts", help=_("Bound contacts: unit, chat id, date bound, reachable (contacts act for their unit openly)."))
def list_contacts(
    unit: Annotated[Optional[str], typer.Argument(metavar="[UNIT]", help=_("Only this unit's contacts."))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    contacts = _run(settings, lambda ledger: ledger.contacts(unit), _)
    if not contacts:
        typer.echo(_("No bound contacts. Make an invite with `qingfeng units invite UNIT`."))
        return
    for contact in contacts:
        bound = contact.bound_at.astimezone(settings.zone).strftime("%Y-%m-%d")
        reach = _("reachable") if contact.reachable else _("unreachable since {date}", date=(
            contact.unreachable_since.astimezone(settings.zone).strftime("%Y-%m-%d") if contact.unreachable_since else "?"))
        typer.echo(_("{unit}  chat {chat_id}  bound {date}  {reachable}", unit=contact.unit, chat_id=contact.chat_id,
                     date=bound, reachable=reach))


@units_app.command("unbind", help=_("Remove a contact: the chat no longer acts for its unit and is sent nothing more about it."))
def unbind(
    chat_id: Annotated[int, typer.Argument(metavar="CHAT_ID", help=_("The contact's chat id (see `qingfeng units contacts`)."))],
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    contact = _run(settings, lambda ledger: ledger.unbind(chat_id), _)
    typer.echo(_("Chat {chat_id} no longer acts for {unit}; its pending reminders are cancelled.",
                 chat_id=chat_id, unit=contact.unit)
               + (" " + _("The chat is told so.") if contact.reachable else ""))


@units_app.command("invite", help=_("Print a one-time code and deep link that bind a contact's chat to the unit."))
def invite(
    unit: Annotated[str, typer.Argument(help=_("The unit's name."))],
    bot: Annotated[Optional[str], typer.Option("--bot", help=_("The bot's username (default: asked from Telegram)."))] = None,
    lang: LangOption = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    _ = _language(settings, lang)
    created = _run(settings, lambda ledger: ledger.create_invite(unit), _)
    username = (bot or "").lstrip("@") or _bot_username(settings)
    expires = created.expires_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    typer.echo(_("Invite for {unit} (works once, until {expires} {zone}):", unit=created.unit, expires=expires,
                 zone=settings.bot.timezone))
    typer.echo("  " + _("code: {code}   (the contact sends: /bind {code})", code=created.code))
    typer.echo("  " + _("link: {link}", link=f"https://t.me/{username or '<bot>'}?start=bind-{created.code}"))
    if not username:
        typer.echo("  " + _("(pass --bot USERNAME for the complete link)"))


def _bot_username(settings: Settings) -> str | None:
    """getMe with the configured token, if there is one; None when Telegram cannot be asked."""
    import httpx

    token = settings.bot_token()
    if not token:
        return None
    try:
        response = httpx.get(f"{settings.telegram.base_url}/bot{token}/getMe", timeout=5)
        return response.json()["result"]["username"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
