"""Ledger files as county offices keep them: reading XLSX, XLS, WPS .et and ODS (python-calamine), CSV
(UTF-8 with or without BOM, GBK, GB18030) and YAML, checking every row, and writing the template and
the export.

Reading a spreadsheet: every sheet whose first 10 rows hold a header (two or more names of the one
vocabulary, `FIELDS`) is read; the others are skipped and named with the reason. Rows above the header
are the title (its 第N轮 gives the round: 县委第二轮巡察) and the 填报单位 / 填报日期 row (the date
deadlines without a year count from). A two-row header (责任分工 over 责任领导 / 责任单位 / 责任人) is
read as one. Merged cells take their top-left value in every cell they cover (xlsx/xls/et give their
merged ranges); for .ods, whose merged ranges calamine does not give, an empty category, leader, unit
or owner cell takes the value of the item row above (the way a vertically merged cell looks there).
Blank rows, footnotes (注：…, 填表人：…), section rows (一、… across the table) and rows with nothing
but a number are skipped. Columns outside the vocabulary are kept with each item (`extra`).

Row numbers are those a person sees (the sheet's own rows; a CSV's records); in YAML (a list of
mappings, or {items: [...]}) the first item is row 1. A problem names the column as the file writes
it and says how to fix the file; its text is a gettext message (English msgid, zh_CN/ledger.po).

When several sheets are read, an item's key is "<sheet>/<number>": offices restart 序号 on each sheet.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.i18n import N_
from bot.workdays import WorkCalendar

# THE header vocabulary: canonical field -> accepted headers (compared after `_header_key`). The
# template (`qingfeng ledger template`) prints this table; nothing else lists header names.
FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("编号", "问题编号", "序号", "external id", "external_id", "id", "no", "number"),
    "round": ("巡视轮次", "巡察轮次", "轮次", "巡视巡察轮次", "round", "inspection round"),
    "problem": ("问题", "问题描述", "存在问题", "反馈问题", "问题表现", "具体问题", "问题内容",
                "problem", "description", "problem description"),
    "unit": ("责任单位", "牵头单位", "整改单位", "责任部门", "单位", "unit", "responsible unit", "lead unit"),
    "co_units": ("配合单位", "协办单位", "co-units", "co units", "supporting units"),
    "owner": ("责任人", "具体责任人", "整改责任人", "owner", "responsible person", "person"),
    "leader": ("责任领导", "分管领导", "leader", "responsible leader"),
    "deadline": ("整改时限", "完成时限", "整改期限", "完成时间", "时限", "deadline", "due", "due date"),
    "plan": ("整改措施", "整改目标", "整改举措", "整改方案", "措施", "plan", "measures", "rectification plan"),
    "category": ("问题类别", "问题类型", "category"),
    "progress": ("完成情况", "整改进展", "整改情况", "progress"),
    "status": ("整改状态", "状态", "status"),
    "note": ("备注", "note", "notes"),
    "severity": ("严重程度", "问题等级", "等级", "severity", "level"),
}
REQUIRED = ("external_id", "problem", "unit", "deadline")
# the headers the template and the export use
HEADERS_ZH = {name: aliases[0] for name, aliases in FIELDS.items()}
HEADERS_ZH["problem"] = "问题描述"
TEMPLATE_FIELDS = ("external_id", "round", "problem", "unit", "owner", "deadline", "severity", "plan")
SEVERITY_WORDS = {
    "low": ("low", "minor", "轻微", "较轻", "低"),
    "normal": ("normal", "medium", "ordinary", "一般", "普通", "中"),
    "high": ("high", "serious", "severe", "严重", "较重", "重大", "高"),
}
SEVERITY_ZH = {"low": "较轻", "normal": "一般", "high": "严重"}
MAX_PROBLEM = 4000
MAX_SHORT = 200


def _header_key(header: str) -> str:
    text = re.sub(r"[（(].*?[)）]", "", str(header))  # "整改时限（必填）" -> "整改时限"
    return re.sub(r"[\s_*:：]+", " ", text).strip().lower()


_HEADER_INDEX = {_header_key(alias): name for name, aliases in FIELDS.items() for alias in aliases}


class ExplainedError(Exception):
    """An error told to the operator: `template` is a gettext msgid (English) with `values`; str() is
    the English text (logs, tests), `render(_)` the operator's language."""

    def __init__(self, template: str, /, **values: Any):
        super().__init__(template.format(**values) if values else template)
        self.template, self.values = template, values

    def render(self, _) -> str:
        return _(self.template, **self.values)


class LedgerFileError(ExplainedError):
    """The file cannot be read at all (format, encoding, structure)."""


@dataclass(frozen=True)
class Problem:
    """A problem of the file or of one row. `message` is in English; `render(_)` in the operator's
    language (the English text is the gettext msgid, bot/locales/zh_CN/ledger.po)."""

    row: int
    column: str
    message: str
    template: str = field(default="", compare=False)
    values: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, row: int, column: str, template: str, **values: Any) -> "Problem":
        return cls(row, column, template.format(**values) if values else template, template, tuple(values.items()))

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"

    def render(self, _) -> str:
        message = _(self.template, **dict(self.values)) if self.template else self.message
        if self.column == "-":
            return _("row {row}: {message}", row=self.row, message=message)
        return _("row {row}, column {column}: {message}", row=self.row, column=self.column, message=message)


@dataclass
class SourceRow:
    """One row as read: canonical field -> raw value, with the file's own header for each field."""

    number: int
    values: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)  # YAML: each mapping's own keys
    extra: dict[str, str] = field(default_factory=dict)    # columns outside the vocabulary, kept as written
    sheet: str = ""
    key_prefix: str = ""   # "形式主义问题/" when several sheets of one file are read: ids restart per sheet


@dataclass
class Table:
    headers: dict[str, str]          # canonical field -> header as written in the file
    rows: list[SourceRow]
    ignored_headers: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # file-level: missing columns
    extra_headers: list[str] = field(default_factory=list)  # unknown columns, kept with each item
    title: str = ""               # the title row (县委第二轮巡察反馈问题整改台账)
    round_label: str = ""         # the round the title names (县委第二轮巡察), "" if none
    filing_unit: str = ""
    filing_date: date | None = None
    sheets_read: list[str] = field(default_factory=list)
    sheets_skipped: dict[str, str] = field(default_factory=dict)  # sheet -> why
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, what: title/filing/footnote/...)
    header_rows: list[int] = field(default_factory=list)

    def column(self, name: str) -> str:
        return self.headers.get(name, HEADERS_ZH[name])


@dataclass(frozen=True)
class ParsedItem:
    """A valid row, ready to be compared with the ledger. `present` names the fields the file has a
    column for: a re-import leaves the others as they were."""

    row: int
    external_id: str
    round: str
    problem: str
    unit: str
    owner: str
    severity: str
    deadline: date | None
    plan: str
    deadline_kind: str = "date"        # date, immediate, standing
    deadline_raw: str = ""
    # the file wrote no year (10月底) and has no 填报日期: the year is the next one on or after the import
    year_guessed_from_import: bool = False
    co_units: tuple[str, ...] = ()
    leader: str = ""
    category: str = ""
    progress: str = ""
    note: str = ""
    status: str = "open"               # open, in_progress, closed
    extra: dict[str, str] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
    sheet: str = ""


# ---- reading ---------------------------------------------------------------------------------

def read_table(path: Path) -> Table:
    """Read a ledger file: .xlsx, .xls, .et, .ods (python-calamine), .csv or .yaml/.yml."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise LedgerFileError(N_("{path}: no such file"), path=path)
    if suffix in SPREADSHEET_SUFFIXES:
        return _sheets_table(_workbook_sheets(path))
    if suffix == ".csv":
        return _sheets_table([Sheet("", _csv_rows(path.read_bytes()), merges=[])])
    if suffix in (".yaml", ".yml"):
        return _yaml_table(path)
    raise LedgerFileError(N_("{path}: unknown file type {suffix}; use .xlsx, .xls, .et, .ods, .csv or .yaml"),
                          path=path, suffix=suffix or "(none)")


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods")
HEADER_SEARCH_ROWS = 10       # the header is looked for in this many rows of each sheet
FOOTNOTE = re.compile(r"^\s*(注|说明|备注|填表人|审核人|制表人|联系人|联系电话|负责人)\s*[:：]")
SECTION = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]")
ROUND_IN_TITLE = re.compile(r"^(.*?第\s*([一二三四五六七八九十百\d]+)\s*轮\s*(?:巡视|巡察)?)")
FILING_DATE = re.compile(r"填报(?:日期|时间)\s*[:：]?\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
FILING_UNIT = re.compile(r"填报单位\s*[:：]\s*([^\s\u3000填]+)")


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]] | None  # (row0, col0, row1, col1), 0-based inclusive; None: unknown


def _workbook_sheets(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types per format
        raise LedgerFileError(N_("{path}: not a readable spreadsheet ({error})"), path=path, error=exc) from None
    sheets = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        rows = [list(row) for row in sheet.to_python(skip_empty_area=False)]
        merges = getattr(sheet, "merged_cell_ranges", None)
        sheets.append(Sheet(name, rows, None if merges is None else
                            [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in merges]))
    return sheets


def _csv_rows(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel/WPS in China save CSV as GBK; GB18030 is its superset
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerFileError(N_("the CSV file is neither UTF-8 nor GBK/GB18030 text: save it again as CSV (UTF-8)"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_merges(sheet: Sheet) -> list[list[Any]]:
    """Every cell of a merged range takes the value of its top-left cell."""
    rows = [list(r) for r in sheet.rows]
    for r0, c0, r1, c1 in sheet.merges or ():
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            row.extend([None] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = value
    return rows


def _known(cell: Any) -> str | None:
    return None if _is_blank(cell) else _HEADER_INDEX.get(_header_key(cell))


def _header_score(cells: list[Any]) -> int:
    return len({name for name in map(_known, cells) if name})


def _first_text(cells: list[Any]) -> str:
    return next((str(c).strip() for c in cells if not _is_blank(c)), "")


def _sheets_table(sheets: list[Sheet]) -> Table:
    table = Table(headers={}, rows=[])
    found = []
    for sheet in sheets:
        rows = _fill_merges(sheet)
        if not any(not _is_blank(c) for row in rows for c in row):
            table.sheets_skipped[sheet.name] = "empty sheet"
            continue
        header_at = next((i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if _header_score(row) >= 2), None)
        if header_at is None:
            table.sheets_skipped[sheet.name] = "no ledger header (问题 / 责任单位 / 整改时限 …) in its first rows"
            continue
        found.append((sheet, rows, header_at))
    if not found:
        if len(sheets) == 1 and sheets[0].name == "":
            raise LedgerFileError(N_("no header row found in the first 10 rows: the header must name the columns, "
                                     "e.g. {columns}"), columns=" / ".join(HEADERS_ZH[n] for n in REQUIRED))
        raise LedgerFileError(N_("no sheet has a ledger header ({sheets}): the header row must name the columns, "
                                 "e.g. {columns}"), sheets="、".join(table.sheets_skipped),
                              columns=" / ".join(HEADERS_ZH[n] for n in REQUIRED))
    several = len(found) > 1
    for sheet, rows, header_at in found:
        _read_sheet(table, sheet, rows, header_at, prefix=f"{sheet.name}/" if several else "")
    _check_headers(table, table.header_rows[0] if table.header_rows else 0)
    return table


def _read_sheet(table: Table, sheet: Sheet, rows: list[list[Any]], header_at: int, prefix: str) -> None:
    table.sheets_read.append(sheet.name)
    for index in range(header_at):  # title, subtitle and 填报 rows
        text = " ".join(str(c).strip() for c in dict.fromkeys(rows[index]) if not _is_blank(c))
        if not text:
            continue
        if "填报" in text:
            table.skipped_rows.append((index + 1, "filing"))
            match = FILING_DATE.search(text)
            if match and table.filing_date is None:
                try:
                    table.filing_date = date(int(match[1]), int(match[2]), int(match[3]))
                except ValueError:
                    pass
            unit = FILING_UNIT.search(text)
            if unit and not table.filing_unit:
                table.filing_unit = unit[1]
        else:
            table.skipped_rows.append((index + 1, "title"))
            if not table.title:
                table.title = text
                match = ROUND_IN_TITLE.match(text)
                table.round_label = re.sub(r"\s+", "", match[1]) if match else ""
    header = rows[header_at]
    names = [_known(c) for c in header]
    first_data = header_at + 1
    table.header_rows.append(header_at + 1)
    if first_data < len(rows):  # a two-row header: 责任分工 over 责任领导 / 责任单位 / 责任人
        below = rows[first_data]
        if any(_known(c) for c in below) and all(
                _is_blank(c) or _known(c) or (i < len(header) and c == header[i]) for i, c in enumerate(below)):
            names = [_known(c) or (names[i] if i < len(names) else None) if not _is_blank(c)
                     else (names[i] if i < len(names) else None) for i, c in enumerate(below)]
            header = [c if _known(c) else (header[i] if i < len(header) else c) for i, c in enumerate(below)]
            table.header_rows.append(first_data + 1)
            first_data += 1
    positions: dict[int, str] = {}
    extras: dict[int, str] = {}
    for position, (cell, name) in enumerate(zip(header, names)):
        if _is_blank(cell):
            continue
        written = str(cell).strip()
        if name is None:
            extras[position] = written
            if written not in table.extra_headers:
                table.extra_headers.append(written)
        elif name in positions.values():
            table.ignored_headers.append(written)
        else:
            positions[position] = name
            table.headers.setdefault(name, written)
    id_position = next((p for p, n in positions.items() if n == "external_id"), None)
    fill_down = sheet.merges is None and sheet.name != ""  # .ods: calamine gives no merged ranges
    previous: dict[str, Any] = {}
    for index in range(first_data, len(rows)):
        cells = rows[index]
        number = index + 1
        text = _first_text(cells)
        if not text:
            continue
        if FOOTNOTE.match(text) or text.startswith("#"):
            table.skipped_rows.append((number, "footnote"))
            continue
        filled = [p for p, c in enumerate(cells) if not _is_blank(c)]
        if len({str(cells[p]).strip() for p in filled}) == 1 and len(filled) > 1 or (
                len(filled) == 1 and SECTION.match(text)):
            table.skipped_rows.append((number, "section"))  # 一、形式主义方面 merged across the table
            continue
        if filled == [id_position]:
            table.skipped_rows.append((number, "numbered but empty"))
            continue
        values = {name: cells[p] if p < len(cells) else None for p, name in positions.items()}
        if fill_down:
            for name in ("category", "leader", "unit", "owner"):
                if name in values and _is_blank(values[name]) and not _is_blank(previous.get(name)):
                    values[name] = previous[name]
            previous = values
        extra = {h: _text(cells[p]) for p, h in extras.items() if p < len(cells) and not _is_blank(cells[p])}
        table.rows.append(SourceRow(number, values, extra=extra, sheet=sheet.name, key_prefix=prefix))


def _yaml_table(path: Path) -> Table:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LedgerFileError(N_("{path}: invalid YAML: {error}"), path=path, error=getattr(exc, "problem", exc)) from None
    if isinstance(data, dict):
        data = data.get("items", data.get("问题"))
    if not isinstance(data, list):
        raise LedgerFileError(N_("{path}: expected a list of items (or a mapping with `items:`)"), path=path)
    table = Table(headers={}, rows=[])
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            table.problems.append(Problem.of(number, "-", N_("expected a mapping of column: value")))
            continue
        values: dict[str, Any] = {}
        headers: dict[str, str] = {}
        for key, value in entry.items():
            name = _HEADER_INDEX.get(_header_key(key))
            if name is None:
                if str(key) not in table.ignored_headers:
                    table.ignored_headers.append(str(key))
                continue
            table.headers.setdefault(name, str(key))
            headers[name] = str(key)
            values[name] = value
        table.rows.append(SourceRow(number, values, headers))
    for row in table.rows:  # a field missing from one mapping is an empty cell
        for name in table.headers:
            row.values.setdefault(name, None)
    _check_headers(table, 0)
    return table


def _check_headers(table: Table, header_row: int) -> None:
    for name in REQUIRED:
        if name not in table.headers:
            accepted = " / ".join(a for a in FIELDS[name] if not a.isascii())
            table.problems.append(Problem.of(header_row, HEADERS_ZH[name],
                                             N_("the header has no such column: name it {accepted}"), accepted=accepted))


# ---- checking --------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
)
_YEAR_MONTH = re.compile(r"(\d{4})(?:年|[-/.])(\d{1,2})月?(?:底|末)?")
_YEAR_END = re.compile(r"(\d{4})年(?:底|末)")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})日")
_MONTH_END = re.compile(r"(\d{1,2})月(?:底|末|份)?")
IMMEDIATE_WORDS = ("立行立改", "立即整改", "即知即改")
STANDING_WORDS = ("长期坚持", "持续推进", "常态化", "长期", "持续整改", "常态长效")
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Deadline:
    """A deadline as understood: kind "date" (a day), "immediate" (立行立改: a day N working days after
    the import) or "standing" (长期坚持 …: no final day, never overdue)."""

    kind: str
    day: date | None
    year_guessed: bool = False  # 10月底, 12月31日, 年底: the file wrote no year; it was taken from the reference

    def describe(self) -> str:
        return {"immediate": f"立行立改 ({self.day.isoformat() if self.day else ''})",
                "standing": "长期坚持 (standing)"}.get(self.kind, self.day.isoformat() if self.day else "")


def _month_end(year: int, month: int) -> date:
    from calendar import monthrange

    return date(year, month, monthrange(year, month)[1])


def _next_on_or_after(reference: date, make) -> date:
    """The first of make(year), make(year + 1) on or after the reference date."""
    day = make(reference.year)
    return day if day >= reference else make(reference.year + 1)


def year_before(day: date) -> date:
    """The same deadline a year earlier (a month's end stays a month's end: 2月29日 → 2月28日)."""
    if day == _month_end(day.year, day.month):
        return _month_end(day.year - 1, day.month)
    return day.replace(year=day.year - 1)


def parse_date(value: Any) -> date | None:
    """A full date: 2026-12-31, 2026/12/31, 2026.12.31, 2026年12月31日, "2026/12/31 0:00", an Excel serial
    number (46387) or a spreadsheet date cell; None if it is none of them (or no such day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _serial(value)
    text = re.sub(r"[ T]+\d{1,2}:\d{2}(:\d{2})?$", "", str(value).strip())  # "2026/12/31 0:00" (WPS)
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"[前止]$", "", text)
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _serial(float(text))
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def _serial(number: float) -> date | None:
    from datetime import timedelta

    if not 20000 <= number <= 80000:  # 1954 … 2119: anything else is not a deadline
        return None
    return EXCEL_EPOCH + timedelta(days=int(number))


def parse_deadline(value: Any, *, reference: date, imported: date, immediate_days: int = 5,
                   calendar: WorkCalendar | None = None) -> Deadline | None:
    """Every spelling offices use (see the module's docstring); None when it cannot be read.
    立行立改 is `immediate_days` working days after the import, on `calendar` (the bot's)."""
    day = parse_date(value)
    if day is not None:
        return Deadline("date", day)
    text = re.sub(r"\s+", "", str(value))
    if any(word in text for word in IMMEDIATE_WORDS):
        return Deadline("immediate", (calendar or WorkCalendar()).add_working_days(imported, immediate_days))
    if any(word in text for word in STANDING_WORDS):
        return Deadline("standing", None)
    text = re.sub(r"(之)?[前止]$", "", text)
    try:
        if match := _YEAR_END.fullmatch(text):
            return Deadline("date", date(int(match[1]), 12, 31))
        if match := _YEAR_MONTH.fullmatch(text):
            return Deadline("date", _month_end(int(match[1]), int(match[2])))
        if text in ("年底", "年末", "今年底", "本年底"):
            return Deadline("date", _next_on_or_after(reference, lambda y: date(y, 12, 31)), True)
        if match := _MONTH_DAY.fullmatch(text):
            month, day_ = int(match[1]), int(match[2])
            date(2024, month, day_)  # a day that exists in some year (2月29日)
            return Deadline("date", _next_on_or_after(
                reference, lambda y: date(y, month, min(day_, _month_end(y, month).day))), True)
        if match := _MONTH_END.fullmatch(text):
            month = int(match[1])
            return Deadline("date", _next_on_or_after(reference, lambda y: _month_end(y, month)), True)
    except ValueError:
        return None
    return None


STATUS_WORDS = {
    "closed": ("已销号", "已完成", "已整改", "完成", "销号", "已办结", "closed", "done"),
    "in_progress": ("正在整改", "推进中", "整改中", "进行中", "in progress", "in_progress"),
    "open": ("未开始", "未整改", "open"),
}


def parse_status(value: Any, *, free_text_is_progress: bool = True) -> str:
    """open / in_progress / closed from a status cell; any other text means in progress."""
    text = _text(value).lower()
    if not text:
        return "open"
    for status, words in STATUS_WORDS.items():
        if text in words:
            return status
    return "in_progress" if free_text_is_progress else "open"


_HAS_LATIN = re.compile(r"[A-Za-z]")
MIN_SPACED_UNIT = 3  # characters: "县 农业农村局" is one unit spaced for alignment, "县委组织部 县委编办" two


def split_units(value: Any, known: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """县委组织部、县委编办 -> [县委组织部, 县委编办]: separated by 、，, / or ；. Spaces separate
    units only between Chinese names of three characters or more (or names all `known`): office
    spreadsheets space names out to align them ("县 农业农村局"), and English names hold spaces."""
    names = []
    for part in re.split(r"[、，,/／;；]+", _text(value)):
        pieces = [piece for piece in re.split(r"[\s\u3000]+", part) if piece]
        if len(pieces) <= 1 or (all(p in known for p in pieces) and "".join(pieces) not in known):
            names += pieces
        elif any(_HAS_LATIN.search(p) for p in pieces):
            names.append(" ".join(pieces))
        elif "".join(pieces) in known or min(len(p) for p in pieces) < MIN_SPACED_UNIT:
            names.append("".join(pieces))
        else:
            names += pieces
    return names


def parse_severity(value: Any) -> str | None:
    text = "" if _is_blank(value) else str(value).strip().lower()
    if not text:
        return "normal"
    for severity, words in SEVERITY_WORDS.items():
        if text in words:
            return severity
    return None


def _text(value: Any) -> str:
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


NO_ROUND = N_("the file does not say which inspection round it belongs to. Give the round in one of three ways: "
            "the --round option (--round 县委第二轮巡察), a 巡察轮次 column, or a title row naming it "
            "(县委第二轮巡察反馈问题整改台账)")


def check_rows(table: Table, *, known_units: set[str], existing_deadlines: dict[tuple[str, str], date | None] | None = None,
               today: date, create_units: bool, default_round: str | None = None, immediate_days: int = 5,
               calendar: WorkCalendar | None = None) -> tuple[list[ParsedItem], list[Problem]]:
    """Every valid row as a ParsedItem, and every problem of every row (not just the first).

    The round: `default_round` (--round), else the row's round column, else the title's round.
    Deadlines without a year count from the ledger's 填报日期, else from `today` (the import date)."""
    problems = list(table.problems)
    items: list[ParsedItem] = []
    seen: dict[tuple[str, str], int] = {}
    reference = table.filing_date or today
    present = frozenset(table.headers) | ({"status"} if "progress" in table.headers else set())
    if not default_round and "round" not in table.headers and not table.round_label and table.rows:
        problems.append(Problem.of(table.header_rows[0] if table.header_rows else 0, "-", NO_ROUND))
    file_level = bool(problems)
    for row in table.rows:
        v = row.values
        found: list[Problem] = []

        def bad(name: str, template: str, **values: Any) -> None:
            found.append(Problem.of(row.number, row.headers.get(name) or table.column(name), template, **values))

        number = _text(v.get("external_id"))
        external_id = row.key_prefix + number
        round_name = default_round or _text(v.get("round")) or table.round_label
        if "round" in table.headers and not round_name:
            bad("round", N_("empty round: fill in the round, or give it with --round"))
        if "external_id" in table.headers:
            if not number:
                bad("external_id", N_("no number: every item needs its own number (序号 / 编号)"))
            elif len(external_id) > 100:
                bad("external_id", N_("number longer than 100 characters"))
            elif (round_name, external_id) in seen:
                bad("external_id", N_("number '{number}' is used twice (also in row {other}): give each item its own "
                                      "number"), number=number, other=seen[round_name, external_id])
            else:
                seen[round_name, external_id] = row.number
        if len(round_name) > MAX_SHORT:
            bad("round", N_("round name longer than {limit} characters"), limit=MAX_SHORT)
        problem = _text(v.get("problem"))
        if "problem" in table.headers:
            if not problem:
                bad("problem", N_("the problem is empty: write the problem found, or delete the row"))
            elif len(problem) > MAX_PROBLEM:
                bad("problem", N_("problem longer than {limit} characters"), limit=MAX_PROBLEM)
        units = split_units(v.get("unit"), known_units)
        unit = units[0] if units else ""
        co_units = tuple(dict.fromkeys(u for u in units[1:] + split_units(v.get("co_units"), known_units) if u != unit))
        if "unit" in table.headers:
            if not unit:
                bad("unit", N_("no responsible unit: write the unit's name"))
            for name in (unit, *co_units):
                if not name:
                    continue
                if len(name) > MAX_SHORT:
                    bad("unit", N_("unit name longer than {limit} characters"), limit=MAX_SHORT)
                elif name not in known_units and not create_units:
                    close = difflib.get_close_matches(name, known_units, n=1, cutoff=0.6)
                    if close:
                        bad("unit", N_("unknown unit '{unit}': did you mean '{known}'? Correct the file, or add it "
                                       "with `qingfeng units add`"), unit=name, known=close[0])
                    else:
                        bad("unit", N_("unknown unit '{unit}': check the spelling, add it with `qingfeng units add`, "
                                       "or import with --create-units"), unit=name)
        owner = _text(v.get("owner"))
        if len(owner) > MAX_SHORT:
            bad("owner", N_("owner longer than {limit} characters"), limit=MAX_SHORT)
        deadline = None
        raw = v.get("deadline")
        if "deadline" in table.headers:
            if _is_blank(raw):
                bad("deadline", N_("no deadline: write a date (2026年12月31日, 12月底), 立行立改 or 长期坚持"))
            else:
                deadline = parse_deadline(raw, reference=reference, imported=today, immediate_days=immediate_days,
                                          calendar=calendar)
                if deadline is None:
                    bad("deadline", N_("cannot read the deadline '{value}': write a date such as 2026年12月31日, "
                                       "2026-12-31 or 12月底, or 立行立改 / 长期坚持"), value=_text(raw))
        severity = parse_severity(v.get("severity"))
        if severity is None:
            bad("severity", N_("unknown severity '{value}' (use 较轻/一般/严重 or low/normal/high)"),
                value=_text(v.get("severity")))
        progress = _text(v.get("progress"))
        if "status" in table.headers:
            status = parse_status(v.get("status"))
        else:
            status = parse_status(progress)
        if found or file_level:
            problems += found
            continue
        items.append(ParsedItem(
            row=row.number, external_id=external_id, round=round_name, problem=problem, unit=unit, owner=owner,
            severity=severity, deadline=deadline.day if deadline else None, plan=_text(v.get("plan")),
            deadline_kind=deadline.kind if deadline else "date", deadline_raw=_raw_text(raw), co_units=co_units,
            year_guessed_from_import=bool(deadline and deadline.year_guessed and not table.filing_date),
            leader=_text(v.get("leader")), category=_text(v.get("category")), progress=progress,
            note=_text(v.get("note")), status=status, extra=dict(row.extra), present=present, sheet=row.sheet))
    return items, problems


def _raw_text(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return _text(value)


# ---- writing ---------------------------------------------------------------------------------

TEMPLATE_NOTES = [
    ("编号 / external id", "必填。同一巡视轮次内唯一；再次导入时按编号更新，不会重复。Required, unique within a round; re-importing updates by it."),
    ("巡视轮次 / round", "可选。如“2026年第一轮巡察”。Optional, e.g. the name of the inspection round."),
    ("问题描述 / problem", "必填。巡视发现的问题。Required: the problem the inspection found."),
    ("责任单位 / unit", "必填。须为已登记的单位（qingfeng units list），或导入时加 --create-units。Required: a known unit, or import with --create-units."),
    ("责任人 / owner", "可选。Optional: the responsible person."),
    ("整改时限 / deadline", "必填。2026年12月31日、2026-12-31、12月底、2026年底、立行立改、长期坚持等；已过期的也可导入。"
     "Required: a date, 12月底, 立行立改 (immediate) or 长期坚持 (standing); past dates are accepted."),
    ("严重程度 / severity", "可选：较轻、一般（默认）、严重 / low, normal (default), high."),
    ("整改措施 / plan", "可选。整改方案或措施。Optional: the rectification plan."),
]


FIELD_LABELS = {"external_id": N_("number"), "round": N_("round"), "problem": N_("problem"),
                "unit": N_("unit (lead; 、，,/ separate co-units)"), "co_units": N_("co-units"), "owner": N_("owner"),
                "leader": N_("leader"), "deadline": N_("deadline"), "plan": N_("plan"), "category": N_("category"),
                "progress": N_("progress"), "status": N_("status"), "note": N_("note"), "severity": N_("severity")}


def vocabulary_lines(_=None) -> list[str]:
    """The header vocabulary (FIELDS) as `qingfeng ledger template` prints it (in the operator's language,
    `_`) and the template's notes sheet (English labels: the sheet is bilingual)."""
    _ = _ or (lambda message, **values: message.format(**values) if values else message)
    return [_("{field} (required): {headers}", field=_(FIELD_LABELS[name]), headers=" / ".join(aliases))
            if name in REQUIRED else _("{field}: {headers}", field=_(FIELD_LABELS[name]), headers=" / ".join(aliases))
            for name, aliases in FIELDS.items()]


def template_rows(today: date) -> list[dict[str, Any]]:
    from datetime import timedelta

    return [
        {"external_id": "XC-2026-01-001", "round": "2026年第一轮巡察", "problem": "要求村干部每天在多个政务APP上打卡，重复填报",
         "unit": "示例县农业农村局", "owner": "张三", "deadline": today + timedelta(days=90), "severity": "严重",
         "plan": "清理合并政务APP，取消每日打卡要求"},
        {"external_id": "XC-2026-01-002", "round": "2026年第一轮巡察", "problem": "督查检查考核过多过频，基层迎检负担重",
         "unit": "示例县政府办公室", "owner": "李四", "deadline": today + timedelta(days=120), "severity": "一般",
         "plan": "制定年度督查检查计划，合并同类检查"},
    ]


def write_template(path: Path, fmt: str, today: date) -> None:
    fields = list(TEMPLATE_FIELDS)
    examples = template_rows(today)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([f"# 整改台账导入模板 / rectification ledger template: {note[0]}: {note[1]}" for note in TEMPLATE_NOTES[:1]])
        for name, note in TEMPLATE_NOTES[1:]:
            writer.writerow([f"# {name}: {note}"])
        writer.writerow([HEADERS_ZH[f] for f in fields])
        for example in examples:
            writer.writerow([example[f].isoformat() if isinstance(example[f], date) else example[f] for f in fields])
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
        return
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    sheet.append([HEADERS_ZH[f] for f in fields])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in examples:
        sheet.append([example[f] for f in fields])
        sheet.cell(sheet.max_row, fields.index("deadline") + 1).number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGH", (18, 20, 44, 22, 10, 14, 10, 40)):
        sheet.column_dimensions[letter].width = width
    notes = workbook.create_sheet("说明 Instructions")
    notes.append(["列 / column", "说明 / notes"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for row in TEMPLATE_NOTES:
        notes.append(list(row))
    notes.append(["", "每个有台账表头的工作表都会读取；本表没有表头，不读取。Every sheet with a ledger header is read; "
                      "this one has none."])
    notes.append(["表头 / headers", "以下任一写法均可识别 / any of these is understood:"])
    for line in vocabulary_lines():
        notes.append(["", line])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    workbook.save(path)


EXPORT_HEADERS = ["编号", "巡视轮次", "问题描述", "责任单位", "责任人", "严重程度", "整改时限", "整改措施",
                  "状态", "是否逾期", "进展次数", "最新进展", "销号说明", "问题类别", "责任领导", "配合单位",
                  "完成情况（台账）", "备注"]
STATUS_ZH = {"open": "未开始", "in_progress": "整改中", "closure_requested": "申请销号", "closed": "已销号",
             "closed_directly": "直接销号", "deleted": "已删除"}


HISTORY_HEADERS = ["事项", "时间", "操作者", "操作", "字段", "原值", "新值", "说明"]
EVIDENCE_HEADERS = ["事项", "报告时间", "类型", "文件名", "导出位置", "大小（字节）", "SHA-256"]
ACTOR_ZH = {"import": "台账导入", "cli": "命令行", "contact": "责任单位联系人", "supervisor": "纪检监察机关",
            "system": "系统"}
ACTION_ZH = {"created": "导入新建", "updated": "导入更新", "deadline_changed": "调整整改时限", "progress": "报告进展",
             "started": "开始整改", "closure_requested": "申请销号", "sent_back": "退回", "approved": "审核销号",
             "closed_directly": "直接销号", "first_approved": "初审通过", "reminder_acknowledged": "已知悉",
             "closed": "导入时已销号", "status": "状态变更", "deleted": "删除事项", "reassigned": "移交其他单位",
             "co_units_changed": "配合单位变更",
             # the supervisors' workspace (bot/ledger/workspace.py)
             "note": "备注", "nudged": "催办", "extension_requested": "申请延期", "extension_approved": "同意延期",
             "extension_refused": "驳回延期"}


FIELD_ZH = {"status": "状态", "deadline": "整改时限", "unit": "责任单位", "problem": "问题描述", "plan": "整改措施",
            "owner": "责任人", "severity": "严重程度", "category": "问题类别", "leader": "责任领导",
            "progress_text": "完成情况（台账）", "note": "备注", "co_units": "配合单位", "extra": "其他列"}


def write_export(path: Path | io.BytesIO, rows: list[list[Any]], extra_headers: list[str] = (),
                 history: list[list[Any]] = (), evidence: list[list[Any]] = ()) -> None:
    """The ledger as XLSX; `extra_headers`: the imported files' own columns, after ours. With
    `history` and `evidence` rows, a 处理记录 sheet (every change, who and when) and a 佐证材料 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改台账"
    sheet.append(EXPORT_HEADERS + list(extra_headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    deadline_column = EXPORT_HEADERS.index("整改时限") + 1
    for row in rows:
        sheet.append(row)
        sheet.cell(sheet.max_row, deadline_column).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKLM", (18, 20, 44, 22, 10, 10, 14, 40, 10, 8, 8, 40, 30)):
        sheet.column_dimensions[letter].width = width
    for title, headers, lines, widths in (("处理记录", HISTORY_HEADERS, history, (18, 17, 20, 14, 12, 16, 16, 50)),
                                          ("佐证材料", EVIDENCE_HEADERS, evidence, (18, 17, 8, 30, 40, 12, 20))):
        if not lines:
            continue
        extra_sheet = workbook.create_sheet(title)
        extra_sheet.append(headers)
        for cell in extra_sheet[1]:
            cell.font = Font(bold=True)
        for line in lines:
            extra_sheet.append(line)
        extra_sheet.freeze_panes = "A2"
        for letter, width in zip("ABCDEFGH", widths):
            extra_sheet.column_dimensions[letter].width = width
    workbook.save(path)
