"""Settings: one typed model, read from `config.yaml` and overridden by the environment.

`QINGFENG_<SECTION>__<KEY>=value` overrides `section.key` (values are parsed as YAML scalars,
so `QINGFENG_ACCESS__SUPERVISORS=[1, 2]` works, and so does `1,2`); QINGFENG_CONFIG (the config
file) and QINGFENG_LANG (the command line's language, bot/cli.py) are not settings. Secrets (the
bot token, the webhook secret, the encryption key) come only from the environment or from a file
that the config names: a secret written into the committed YAML file is refused.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bot.i18n import N_, Translate, TranslatableError

ENV_PREFIX = "QINGFENG_"
# Environment variables of ours that are not settings: where the config is, the command line's language.
NOT_SETTINGS = (f"{ENV_PREFIX}CONFIG", f"{ENV_PREFIX}LANG")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"

# Secrets may come from the environment or a file named in the config, never the YAML itself.
SECRET_KEYS = {
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("security", "encryption_keys"),
}


class ConfigError(TranslatableError):
    """A setting is missing or wrong; the message names the key and what was expected. A msgid with
    its values (bot/i18n.py); "invalid configuration:" has one such message per wrong setting, each
    on a line of its own (`problems`)."""

    def __init__(self, msgid: str, /, *, problems: tuple[TranslatableError, ...] = (), **values: object) -> None:
        super().__init__(msgid, **values)
        self.problems = problems

    def render(self, _: Translate) -> str:
        return "\n  ".join([super().render(_), *(problem.render(_) for problem in self.problems)])


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _split_commas(value: Any) -> Any:
    """Let list settings be written `1,2,3` in an environment variable."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (int, float)):
        return [value]
    return value


class WebhookSettings(Section):
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    url: str | None = None
    path: str = "/telegram"
    secret_file: Path | None = None


class TelegramSettings(Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookSettings = WebhookSettings()
    webhook_secret: SecretStr | None = None
    retry_for_seconds: float = Field(60.0, ge=0, le=600)
    request_timeout: float = Field(20.0, gt=0)
    poll_timeout: int = Field(30, ge=0, le=50)
    username: str | None = None  # the bot's @username, for links printed offline (the poster)

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class DatabaseSettings(Section):
    url: str | None = None
    echo: bool = False
    auto_upgrade: bool = False


class BotSettings(Section):
    data_dir: Path = Path("data")
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Supervisor(Section):
    id: int
    categories: list[str] = []  # empty: every category
    name: str = ""  # how other supervisors see their decisions (else their Telegram name)


class AccessSettings(Section):
    supervisors: list[Supervisor] = []

    @field_validator("supervisors", mode="before")
    @classmethod
    def _ids_or_objects(cls, value: Any) -> Any:
        return [{"id": item} if isinstance(item, (int, str)) else item for item in _split_commas(value)]


class SecuritySettings(Section):
    encryption_keys: SecretStr | None = None  # comma-separated Fernet keys, newest first
    key_file: Path | None = None


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None


class KnowledgeSettings(Section):
    path: Path = Path("knowledge")
    watch: bool = True
    watch_seconds: float = Field(5.0, gt=0)
    answer_threshold: float = Field(0.45, ge=0, le=1)  # fitted: see config.yaml
    suggest_threshold: float = Field(0.30, ge=0, le=1)


class Label(Section):
    zh: str
    en: str


class ReportCategory(Section):
    id: str
    label: Label


DEFAULT_CATEGORIES = [
    ("documents-meetings", "文山会海（发文、开会过多）", "Too many documents and meetings"),
    ("inspection-overload", "督查检查考核过多过频", "Inspection and assessment overload"),
    ("fingertip-formalism", "指尖上的形式主义（APP、工作群、打卡）", "Formalism at the fingertips (apps, chat groups, check-ins)"),
    ("excessive-traces", "过度留痕", "Leaving excessive traces"),
    ("inaction", "不担当不作为、躺平", "Inaction and lying flat"),
    ("fake-rectification", "虚假整改、敷衍整改", "Fake or perfunctory rectification"),
    ("ignoring-masses", "漠视群众诉求", "Ignoring the masses' demands"),
    ("other", "其他", "Other"),
]


class ReportSettings(Section):
    categories: list[ReportCategory] = [
        ReportCategory(id=cid, label=Label(zh=zh, en=en)) for cid, zh, en in DEFAULT_CATEGORIES
    ]
    description_min_chars: int = Field(20, ge=1)
    description_max_chars: int = Field(3000, ge=10, le=20000)
    max_attachments: int = Field(5, ge=0, le=20)
    max_attachment_mb: int = Field(10, ge=1, le=50)
    acknowledge_within_days: int = Field(5, ge=1)  # working days (bot/workdays.py)
    answer_within_days: int = Field(15, ge=1)  # working days
    retention_days: int = Field(365, ge=1)
    code_attempts: int = Field(5, ge=1)
    code_window_minutes: int = Field(10, ge=1)
    code_attempts_per_day: int = Field(100, ge=1)  # wrong codes per day across all accounts (the whole bot)
    submissions_per_window: int = Field(3, ge=1)  # reports one private chat may send ...
    submission_window_minutes: int = Field(60, ge=1)  # ... within this window
    feedback_once_per_days: int = Field(30, ge=1)  # one 👎 or 👍 per answer and user within this many days


_RANGE_DASH = re.compile(r"\s*[-–~～至到]\s*")
_CLOCK = re.compile(r"\s*(\d{1,2})\s*[:：点]\s*(\d{2})?\s*分?\s*")


def _time_of_day(value: Any) -> Any:
    """09:30 as written anywhere: "9:30" (an environment variable), 9:30 unquoted in YAML (which
    YAML 1.1 reads as the number 570), 9点30; anything else is left for the model to refuse."""
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str) and (match := _CLOCK.fullmatch(value)):
        hour, minute = int(match[1]), int(match[2] or 0)
        return time(hour, minute) if hour < 24 and minute < 60 else value
    return value


class QuietHours(Section):
    start: time = time(22, 0)
    end: time = time(8, 0)

    @model_validator(mode="before")
    @classmethod
    def _from_range(cls, value: Any) -> Any:
        """`22:00-08:00` (an environment variable's form) as {start, end}."""
        if isinstance(value, str) and len(parts := _RANGE_DASH.split(value.strip(), maxsplit=1)) == 2:
            return {"start": parts[0], "end": parts[1]}
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return _time_of_day(value)


class ReminderPolicy(Section):
    before_days: list[int] = [7, 3, 1]
    on_the_day: bool = True
    overdue_every_days: int = Field(3, ge=1)
    escalate_after_days: int = Field(7, ge=0)

    @field_validator("before_days", mode="before")
    @classmethod
    def _days_list(cls, value: Any) -> Any:
        return _split_commas(value)


class LevelStep(Section):
    """One warning level (三色预警) of rectification reminders: from how many days before the
    deadline it starts (green, yellow; red starts the day after the deadline), and how often it
    repeats (0: once)."""

    days_before: int = Field(0, ge=0, le=366)
    every_days: int = Field(0, ge=0, le=366)


class LevelSettings(Section):
    """Escalation of rectification items by levels: green to the unit's contacts, yellow to them and
    the parent unit's contacts, red (overdue) to those and the supervisors."""

    count: Literal["working", "calendar"] = "working"  # how days before/overdue are counted (and said)
    green: LevelStep = LevelStep(days_before=5, every_days=0)
    yellow: LevelStep = LevelStep(days_before=2, every_days=1)
    red: LevelStep = LevelStep(days_before=0, every_days=3)
    severity: dict[str, dict[str, Any]] = {}  # per-severity overrides, e.g. {high: {green: {days_before: 10}}}

    @model_validator(mode="after")
    def _ordered(self) -> "LevelSettings":
        if self.yellow.days_before > self.green.days_before:
            raise ValueError("reminders.levels: yellow must not start before green (yellow.days_before <= green.days_before)")
        if self.red.every_days < 1:
            raise ValueError("reminders.levels.red.every_days must be at least 1")
        for severity in self.severity:
            self.for_severity(severity)  # an override must make valid levels too
        return self

    def for_severity(self, severity: str | None) -> "LevelSettings":
        """These levels with the fields an override for `severity` names changed, and no others."""
        override = self.severity.get(severity or "")
        if not override:
            return self
        merged = self.model_dump(exclude={"severity"})
        for name, value in override.items():
            merged[name] = {**merged[name], **value} if isinstance(value, dict) and isinstance(merged.get(name), dict) else value
        return LevelSettings.model_validate(merged)


def levels_from_policy(policy: ReminderPolicy, base: LevelSettings | None = None) -> dict[str, Any]:
    """The levels that the old per-slot keys meant (before_days [7, 3, 1], overdue_every_days 3):
    green at the earliest of before_days, yellow from the latest (daily), red every
    overdue_every_days, counted in calendar days as they were."""
    fields = policy.model_fields_set or set(type(policy).model_fields)
    levels: dict[str, Any] = {"count": "calendar"}
    days = sorted(policy.before_days, reverse=True)
    if "before_days" in fields and days:
        levels["green"] = {"days_before": days[0], "every_days": 0}
        levels["yellow"] = {"days_before": days[-1] if len(days) > 1 else 0, "every_days": 1}
    if "overdue_every_days" in fields:
        levels["red"] = {"every_days": policy.overdue_every_days}
    return levels


class ReminderSettings(ReminderPolicy):
    # before_days / on_the_day / overdue_every_days (inherited) are the report deadlines' slots;
    # rectification items go by `levels`.
    levels: LevelSettings = LevelSettings()
    send_at: time = time(9, 0)
    quiet_hours: QuietHours = QuietHours()
    working_days: list[int] = [1, 2, 3, 4, 5]  # ISO weekdays, Monday = 1
    severity: dict[str, ReminderPolicy] = {}
    planner_interval_seconds: int = Field(60, ge=1)
    sender_interval_seconds: float = Field(1.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    claim_lease_seconds: float = Field(60, gt=0)
    sender_concurrency: int = Field(1, ge=1, le=30)
    messages_per_second: float = Field(28.0, gt=0, le=30)

    @field_validator("working_days", mode="before")
    @classmethod
    def _weekday_list(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("send_at", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return _time_of_day(value)

    @model_validator(mode="after")
    def _old_severity_overrides(self) -> "ReminderSettings":
        """`reminders.severity` (overrides of before_days ...) of configs before the levels: the same
        overrides as levels, unless `reminders.levels.severity` says otherwise."""
        if self.severity and not self.levels.severity:
            self.levels = LevelSettings.model_validate({
                **self.levels.model_dump(),
                "severity": {name: levels_from_policy(policy) for name, policy in self.severity.items()}})
        return self


class CalendarSettings(Section):
    """Working days (bot/workdays.py): China's statutory holidays and make-up days, and these."""

    statutory: bool = True  # count statutory holidays and make-up working days (chinese-calendar)
    extra_holidays: list[date] = []  # local days off besides the statutory ones
    extra_working_days: list[date] = []  # days worked besides the office week and the make-up days

    @field_validator("extra_holidays", "extra_working_days", mode="before")
    @classmethod
    def _day_list(cls, value: Any) -> Any:
        return _split_commas(value)

    @model_validator(mode="after")
    def _not_both(self) -> "CalendarSettings":
        both = set(self.extra_holidays) & set(self.extra_working_days)
        if both:
            raise ValueError("listed both as extra holiday and extra working day: "
                             + ", ".join(day.isoformat() for day in sorted(both)))
        return self


class DigestSettings(Section):
    weekday: int = Field(1, ge=1, le=7)
    at: time = time(9, 0)


class LedgerSettings(Section):
    invite_ttl_hours: int = Field(72, ge=1)
    immediate_working_days: int = Field(5, ge=0, le=60)  # 立行立改: the deadline, in working days after the import
    second_review: bool = False  # closing (销号) needs the approval of two different supervisors
    max_evidence_mb: int = Field(20, ge=1, le=20)  # evidence kept by the bot; 20 MB is what bots may download
    standing_progress_every_days: int = Field(30, ge=0, le=366)  # 长期坚持 items: ask for progress this often (0: never)
    digest: DigestSettings = DigestSettings()


class Settings(Section):
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    bot: BotSettings = BotSettings()
    access: AccessSettings = AccessSettings()
    security: SecuritySettings = SecuritySettings()
    logging: LoggingSettings = LoggingSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    reports: ReportSettings = ReportSettings()
    reminders: ReminderSettings = ReminderSettings()
    calendar: CalendarSettings = CalendarSettings()
    ledger: LedgerSettings = LedgerSettings()

    # Where relative paths are resolved: the directory of the config file.
    base_dir: Path = Field(PROJECT_ROOT, exclude=True)

    # ---- derived values: one place to ask -------------------------------------------------
    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    @property
    def data_dir(self) -> Path:
        return self.path(self.bot.data_dir)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_dir / 'qingfeng.db'}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    @property
    def supervisor_ids(self) -> set[int]:
        return {s.id for s in self.access.supervisors}

    def bot_token(self) -> str | None:
        return _secret(self.telegram.token, self.telegram.token_file and self.path(self.telegram.token_file))

    def webhook_secret(self) -> str | None:
        file = self.telegram.webhook.secret_file
        return _secret(self.telegram.webhook_secret, file and self.path(file))

    def encryption_keys(self) -> list[str]:
        file = self.security.key_file
        raw = _secret(self.security.encryption_keys, file and self.path(file))
        return [key.strip() for key in (raw or "").replace("\n", ",").split(",") if key.strip()]


def _secret(value: SecretStr | None, file: Path | None) -> str | None:
    if value is not None and value.get_secret_value().strip():
        return value.get_secret_value().strip()
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(N_("cannot read secret file {path}: {reason}"), path=file, reason=exc.strerror) from exc
    return None


def load_settings(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the config file (explicit, $QINGFENG_CONFIG, ./config.yaml, or the project's) and env."""
    environ = dict(os.environ if environ is None else environ)
    config_path = _find_config(path, environ)
    data = _read_yaml(config_path) if config_path else {}
    _refuse_committed_secrets(data, config_path)
    from_environment = _apply_environment(data, environ)
    base_dir = config_path.parent if config_path else Path.cwd()
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(N_("invalid configuration:"),
                          problems=_describe(exc, config_path, from_environment)) from None


def _find_config(path: Path | str | None, environ: dict[str, str]) -> Path | None:
    explicit = path or environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        candidate = Path(explicit).expanduser().resolve()
        if not candidate.is_file():
            raise ConfigError(N_("config file not found: {path}"), path=candidate)
        return candidate
    for candidate in (Path.cwd() / "config.yaml", DEFAULT_CONFIG):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(N_("{where}: invalid YAML: {problem}"), where=where, problem=getattr(exc, "problem", exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(N_("{path}: expected a mapping of sections at the top level"), path=path)
    return data


def _refuse_committed_secrets(data: dict[str, Any], path: Path | None) -> None:
    for section, key in SECRET_KEYS:
        value = (data.get(section) or {}).get(key) if isinstance(data.get(section), dict) else None
        if value:
            env = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
            raise ConfigError(N_("{path}: {setting} is a secret and must not be written in the config file; "
                                 "set the environment variable {variable} or name a file in the config instead"),
                              path=path, setting=f"{section}.{key}", variable=env)


def _apply_environment(data: dict[str, Any], environ: dict[str, str]) -> dict[tuple[str, ...], str]:
    """The environment's settings written into `data`; returns the variable behind each key."""
    applied: dict[tuple[str, ...], str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
        if not keys:
            continue
        node = data
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = _parse_env_value(raw)
        applied[tuple(keys)] = name
    return applied


def _parse_env_value(raw: str) -> Any:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, (list, dict)) and raw.lstrip()[:1] in "[{":
        return value  # written as YAML on purpose: {start: "22:00", end: "07:00"}, [5, 2]
    # A bare token like "123:abc" or 9:30 would parse as a sexagesimal int or a mapping; keep strings.
    return value if isinstance(value, (int, float, bool, list)) and ":" not in raw else raw


# What is wrong, said in the reader's language for the common kinds; pydantic's own English text
# for the rest (a value, shown as it is).
PROBLEMS = {
    "time_parsing": N_("not a time of day; write it like 09:30"),
    "time_type": N_("not a time of day; write it like 09:30"),
    "date_parsing": N_("not a date; write it like 2027-01-31"),
    "date_from_datetime_parsing": N_("not a date; write it like 2027-01-31"),
    "int_parsing": N_("not a whole number"),
    "float_parsing": N_("not a number"),
    "bool_parsing": N_("not true or false"),
    "model_type": N_("not a group of settings; write it like {start: \"22:00\", end: \"08:00\"}"),
    "dict_type": N_("not a group of settings"),
    "list_type": N_("not a list; write it like [1, 2] or 1,2"),
    "missing": N_("missing"),
    "literal_error": N_("must be one of {expected}"),
}


def _describe(exc: ValidationError, path: Path | None,
              from_environment: dict[tuple[str, ...], str] | None = None) -> tuple[TranslatableError, ...]:
    """One message per wrong setting, naming where it was written: the environment variable that set
    it, else the config file."""
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        variable = next((name for keys, name in (from_environment or {}).items() if loc[:len(keys)] == keys), None)
        place = variable or path
        where = TranslatableError(N_("{place}: "), place=place) if place else ""
        key = ".".join(loc)
        if error["type"] == "extra_forbidden":
            problems.append(TranslatableError(N_("{where}unknown setting {setting}"), where=where, setting=key))
            continue
        context = {name: str(value).replace("' or '", "', '")  # pydantic's "'zh' or 'en'": a plain list
                   for name, value in (error.get("ctx") or {}).items()}
        problem = TranslatableError(PROBLEMS[error["type"]], **context) if error["type"] in PROBLEMS else error["msg"]
        problems.append(TranslatableError(N_("{where}{setting}: {problem} (got {value})"), where=where, setting=key,
                                          problem=problem, value=repr(error.get("input"))))
    return tuple(problems)
