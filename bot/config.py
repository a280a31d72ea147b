"""Typed configuration loaded from one TOML file.

Policy (deadlines, quotas, chains, units) lives here, not in code; secrets (the bot token,
the webhook secret) come from the environment or a file (bot/secrets.py), never this file.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import cron
from bot.domain.lease import terms_problem
from bot.domain.leave_chains import LeaveChain, LeaveStep  # the rules' own types; built here from the file
from storage.address import is_postgres_url, plain_schema_name

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("dutydesk.toml")
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_KINDS = ("street", "bureau", "office")
ROLES = ("officer", "unit_head", "unit_chief", "duty", "director", "leader", "admin", "info_editor")


class ConfigError(Exception):
    """A configuration problem, phrased for the person editing the file."""

    def __init__(self, path: Path | str, key: str, problem: str, line: int | None = None):
        self.path, self.key, self.problem, self.line = str(path), key, problem, line
        where = f"{self.path}" + (f":{line}" if line else "")
        super().__init__(f"{where}: [{key}] {problem}")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `3d` → timedelta; anything else raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string like '15m', got {text!r}")
    m = _DURATION_RE.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r}: write a number and s/m/h/d, e.g. '90s', '15m', '2h', '3d'")
    return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs and secs % size == 0:
            return f"{secs // size}{suffix}"
    return f"{secs}s"


# --- sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class General:
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    database: str = "dutydesk.sqlite3"
    city: str = "郑州"
    district: str = "中原区"


@dataclass(frozen=True)
class Telegram:
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    poll_interval: timedelta = timedelta(seconds=0)
    max_retries: int = 8  # an outbox row's tries before it is marked failed (bot/delivery.py)
    # An HTTP(S) proxy for every Bot API call, e.g. "http://10.0.0.1:3128"; "" = HTTPS_PROXY/HTTP_PROXY/ALL_PROXY
    # from the environment, if set (bot/telegram_http.py).
    proxy: str = ""
    # Telegram's limits, which the bot keeps to for every call (bot/pacing.py); 0 = that limit off
    # (a local Bot API server that has none).
    global_per_second: int = 30  # new messages a second, all chats together
    per_chat_per_second: int = 1
    group_per_minute: int = 20
    concurrent_updates: int = 64  # different people's updates handled at once (bot/sender_order.py); 1: one at a time


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str = "street"
    name_en: str = ""


@dataclass(frozen=True)
class IncidentPolicy:
    first_report: timedelta = timedelta(hours=1)
    written_report: timedelta = timedelta(hours=2)
    full_report: timedelta = timedelta(hours=3)
    followup_every: timedelta = timedelta(hours=4)
    remind_before: tuple[timedelta, ...] = (timedelta(minutes=15),)
    forward_target: timedelta = timedelta(minutes=10)
    forward_remind: timedelta = timedelta(minutes=8)
    max_backdate: timedelta = timedelta(days=7)
    major_categories: tuple[str, ...] = ("fire", "collapse", "mass")
    corrected_report: timedelta = timedelta(hours=1)  # after a 误报 mark, the corrected written report is due
    # The 通报 of reporting failures (迟报/漏报/误报/瞒报 per unit): crontabs in [general] timezone; "" = none.
    bulletin_cron: str = "0 9 1 * *"  # monthly: the month before
    bulletin_weekly_cron: str = ""  # weekly (e.g. "0 9 * * 1"): the seven days before
    bulletin_chat_id: int = 0  # also post it to this group chat (0 = directors only)
    bulletin_bound_groups: bool = False  # also post it to district-wide groups bound with /bindgroup


@dataclass(frozen=True)
class Upstream:
    webhook_url: str = ""
    timeout: timedelta = timedelta(seconds=10)
    retries: int = 3


@dataclass(frozen=True)
class Invites:
    default_expiry: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class SupervisionPolicy:
    """督查督办: reminders before the deadline, 签收 within, chasing after, the weekly bulletin."""

    chase_before: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
    accept_within: timedelta = timedelta(hours=4)
    overdue_chase_every: timedelta = timedelta(days=1)
    due_time: str = "18:00"  # a deadline typed as a day ("12-31", "3天") means this time that day
    bulletin_cron: str = "0 9 * * mon"  # crontab in [general] timezone; "" = no bulletin
    bulletin_chat_id: int = 0  # also post the bulletin to this group chat (0 = directors only)
    bulletin_bound_groups: bool = False  # also post it to district-wide groups bound with /bindgroup


@dataclass(frozen=True)
class NoticePolicy:
    receipt_deadline: timedelta = timedelta(hours=8)  # 电子公文 8 小时内核实签收
    urgent_deadline: timedelta = timedelta(minutes=30)
    resend_throttle: timedelta = timedelta(minutes=5)  # 「再次提醒」最多每 5 分钟一次
    meeting_remind_before: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class DocumentLimits:
    """办文时限 from registration, by urgency (办文时间一般控制在3天之内)."""

    normal: timedelta = timedelta(days=3)  # 平件
    urgent: timedelta = timedelta(days=1)  # 急件
    very_urgent: timedelta = timedelta(hours=4)  # 特急


@dataclass(frozen=True)
class DocumentPolicy:
    """办文: limits by urgency, reminders before, chasing after, and the signature a phone approval owes."""

    limits: DocumentLimits = field(default_factory=DocumentLimits)
    remind_before: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=2))
    overdue_chase_every: timedelta = timedelta(days=1)
    sign_within: timedelta = timedelta(hours=24)  # 电话请示后补签时限
    sign_remind_before: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class LeavePost:
    """A named post (区委书记, 区长 …) held by members listed by their number in /members."""

    name: str
    label: str = ""
    members: tuple[int, ...] = ()


# 街道办事处主任、区直机关行政正职 (the unit chiefs): 政府办主任签报 → 区长审批 → 报区委备案.
_UNIT_CHIEFS = LeaveChain(
    name="unit_chiefs", label="街道、局委主要负责人",
    roles=("unit_chief",), unit_kinds=("street", "bureau"),
    steps=(LeaveStep("区政府办公室主任签报", ("role:director@zhengfu",)),
           LeaveStep("区长审批", ("post:district_head",))),
    notify=("post:party_secretary",),
)
# A unit's office head (街道党政办主任 …) asks the unit's chief.
_UNIT_OFFICE_HEADS = LeaveChain(
    name="unit_office_heads", label="街道、局委办公室主任",
    roles=("unit_head",), unit_kinds=("street", "bureau"),
    steps=(LeaveStep("本单位主要负责人审批", ("role:unit_chief@own",)),),
)
# The heads of the 人大, 政府 and 政协 bodies have nobody above them in their body: a written report to
# the party secretary, archived by the district office. The party secretary's own absence is recorded
# and reported to the office (add an upstream chat under notify_chats).
_BODY_HEADS = LeaveChain(
    name="body_heads", label="区人大常委会主任、区长、区政协主席（书面报告区委书记）",
    posts=("district_head", "congress_head", "cppcc_head"), mode="report", notify=("post:party_secretary",),
)
_PARTY_SECRETARY = LeaveChain(
    name="party_secretary", label="区委书记外出（登记，报区委办备案）", posts=("party_secretary",), mode="report",
)
_BODY_CHAINS = tuple(
    LeaveChain(name=unit, label=label, roles=("leader",), units=(unit,),
               steps=(LeaveStep(step, (f"post:{head}",), on_self="body_heads"),), notify=("post:party_secretary",))
    for unit, label, step, head in (
        ("renda", "区人大常委会领导", "区人大常委会主任审批", "congress_head"),
        ("zhengfu", "区政府领导", "区长审批", "district_head"),
        ("zhengxie", "区政协领导", "区政协主席审批", "cppcc_head"),
    )
)
_DEFAULT_CHAINS = (
    _BODY_HEADS,
    _PARTY_SECRETARY,
    _UNIT_CHIEFS,
    _UNIT_OFFICE_HEADS,
    *_BODY_CHAINS,
    LeaveChain(name="committee", label="区委领导", roles=("leader",),
               steps=(LeaveStep("区委书记审批", ("post:party_secretary",), on_self="party_secretary"),)),
    LeaveChain(name="staff", label="其他人员",
               steps=(LeaveStep("本单位负责人审批", ("role:unit_head@own",)),)),
)
_DEFAULT_POSTS = (
    LeavePost("party_secretary", "区委书记"),
    LeavePost("district_head", "区长"),
    LeavePost("congress_head", "区人大常委会主任"),
    LeavePost("cppcc_head", "区政协主席"),
)


@dataclass(frozen=True)
class LeavePolicy:
    remind_after: timedelta = timedelta(hours=2)  # an approver who has not decided is reminded
    remind_times: int = 3  # at most this many reminders per step
    sick_grace: timedelta = timedelta(days=3)  # sick leave may be asked this far after it began
    back_remind_at: str = "0 9 * * *"  # crontab: its first time on the return day (or later) reminds to 销假
    back_grace: timedelta = timedelta(hours=9)  # after the end of the return day, then the alert
    max_days: int = 60
    archive: tuple[str, ...] = ("role:director@office", "role:duty@office")  # 区委办 archives every outcome
    holiday_notify: tuple[str, ...] = ("role:director@office", "role:director@zhengfu")
    overdue_notify: tuple[str, ...] = ("role:unit_head@own", "role:director@office", "role:duty@office")
    fallback: tuple[str, ...] = ("role:director@office",)  # when a chain resolves to nobody at all
    posts: tuple[LeavePost, ...] = _DEFAULT_POSTS
    chains: tuple[LeaveChain, ...] = _DEFAULT_CHAINS


@dataclass(frozen=True)
class InfoPolicy:
    """Routine information (政务信息报送): weekly quota, reminders, scores, monthly bulletin."""

    weekly_quota: int = 2  # items per unit (street/bureau) per week
    deadline: str = "0 17 * * fri"  # crontab, once a week: the quota week ends here ([general] timezone)
    reminders: tuple[str, ...] = ("0 17 * * thu", "0 12 * * fri")  # crontabs: units still short are pinged
    score_district: int = 1  # 区采用
    score_city: int = 3  # 市采用
    score_province: int = 5  # 省采用
    score_instruction: int = 5  # 领导批示
    bulletin: str = "0 9 1 * *"  # crontab, once a month (day 1–28): the monthly bulletin
    bulletin_chat_id: int = 0  # optional group that also gets the bulletin (0 = none)


@dataclass(frozen=True)
class RosterShift:
    """One duty shift (双岗双班): its name in the roster file, its label, and its Beijing times."""

    name: str
    label: str
    start: str  # "08:30"
    end: str  # "17:30"; an end at or before the start is on the next day


@dataclass(frozen=True)
class HolidayPeriod:
    """One holiday of the State Council's yearly notice, first and last day off inclusive."""

    name: str  # 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节 (or the package's English name)
    start: date
    end: date


@dataclass(frozen=True)
class CalendarPolicy:
    """The yearly notice (国务院办公厅关于部分节假日安排的通知) for years `chinese-calendar` lacks.

    A year entered here is described whole: days not listed follow the week (Saturday and Sunday off).
    """

    holidays: tuple[HolidayPeriod, ...] = ()
    workdays: tuple[date, ...] = ()  # weekend days made working days (调休上班)
    check: str = "0 9 * * mon"  # crontab: look for a coming year nothing describes yet; the admins are told
    warn_ahead: timedelta = timedelta(days=60)  # how far ahead that look reaches


@dataclass(frozen=True)
class RosterPolicy:
    """值班表 / 领导带班: the shifts, the posts of each shift, and the daily handover."""

    shifts: tuple[RosterShift, ...] = (
        RosterShift("day", "白班", "08:30", "17:30"),
        RosterShift("night", "夜班", "17:30", "08:30"),
    )
    posts: tuple[str, ...] = ("一岗", "二岗")
    # 交接班: "shifts" = at every shift's start; a crontab ("30 8 * * *") = then; "" = none
    handover: str = "shifts"
    takeover_within: timedelta = timedelta(minutes=30)  # no 接班 by then: the directors are alerted


@dataclass(frozen=True)
class EscalationStep:
    """Whom one step reaches (see bot/domain/escalation.parse_target) and how long it waits for 已收到."""

    targets: tuple[str, ...]
    delay: timedelta = timedelta(minutes=3)


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    steps: tuple[EscalationStep, ...] = ()
    repeat: int = 0  # after the last step, start again from the first this many times


_DEFAULT_POLICIES = (
    # An incident alert: the duty officers on shift at once; after 3 min without 已收到 every duty
    # officer and the directors again, plus SMS to those on shift; after 10 min the 带班领导 by
    # Telegram and SMS, and the robot groups.
    EscalationPolicy("incident", (
        EscalationStep(("duty@shift",), timedelta(minutes=3)),
        EscalationStep(("role:duty", "role:director", "sms:duty@shift"), timedelta(minutes=7)),
        EscalationStep(("leader@duty", "sms:leader@duty", "robot:*"), timedelta(minutes=10)),
    ), repeat=1),
    # A major incident (deaths, missing, a major category): the leader at once, SMS after a minute.
    EscalationPolicy("major", (
        EscalationStep(("duty@shift", "role:director", "leader@duty"), timedelta(minutes=1)),
        EscalationStep(("role:duty", "sms:duty@shift", "sms:leader@duty", "robot:*"), timedelta(minutes=4)),
        EscalationStep(("role:leader", "sms:role:director"), timedelta(minutes=5)),
    ), repeat=1),
)


@dataclass(frozen=True)
class Escalation:
    """Which policy each unanswered thing escalates along ("" = none: it behaves as before)."""

    incident: str = "incident"  # an incident alert nobody acknowledged
    major: str = "major"  # the same for a major incident
    forward: str = ""  # an incident stage not forwarded to the city (上报市委) when its clock runs out
    notice_urgent: str = ""  # an urgent notice still unsigned at its receipt deadline
    leave: str = ""  # a leave step whose approver stayed silent past the last reminder
    failover_after: timedelta = timedelta(seconds=60)  # Bot API failing this long: alerts go by robot and SMS
    policies: tuple[EscalationPolicy, ...] = _DEFAULT_POLICIES


@dataclass(frozen=True)
class Robot:
    """A group robot: DingTalk custom robot, WeCom group robot or Feishu custom bot."""

    name: str
    kind: str  # dingtalk | wecom | feishu
    url: str  # the webhook, with its access_token / key
    secret_env: str = ""  # the signing secret (加签) is in this environment variable, or the file named by <it>_FILE
    events: tuple[str, ...] = ("incident", "escalation", "failover")
    detail: str = "summary"  # summary | full


@dataclass(frozen=True)
class Sms:
    """An HTTP SMS gateway. Body fields and headers may use {phone} {text} {number} {secret}."""

    url: str = ""  # "" = no SMS
    method: str = "POST"  # POST | GET (GET sends the body fields as the query)
    format: str = "json"  # json | form
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=lambda: {"phone": "{phone}", "text": "{text}"})
    secret_env: str = ""  # {secret} comes from this environment variable, or the file named by <it>_FILE
    success_field: str = ""  # e.g. "code" or "result.status"; "" = any 2xx answer
    success_value: str = ""
    per_minute: int = 60  # the gateway's pace
    timeout: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class HighAvailability:
    """[ha]: active/standby of `dutydesk run` (bot/lease.py). A standby takes over within `lease_seconds`
    of the active instance's death; the active pings its lease every `heartbeat_seconds`."""

    lease_seconds: float = 15
    heartbeat_seconds: float = 2


@dataclass(frozen=True)
class Config:
    general: General = field(default_factory=General)
    telegram: Telegram = field(default_factory=Telegram)
    units: tuple[Unit, ...] = ()
    incident: IncidentPolicy = field(default_factory=IncidentPolicy)
    upstream: Upstream = field(default_factory=Upstream)
    invites: Invites = field(default_factory=Invites)
    info: InfoPolicy = field(default_factory=InfoPolicy)
    supervision: SupervisionPolicy = field(default_factory=SupervisionPolicy)
    notice: NoticePolicy = field(default_factory=NoticePolicy)
    documents: DocumentPolicy = field(default_factory=DocumentPolicy)
    leave: LeavePolicy = field(default_factory=LeavePolicy)
    roster: RosterPolicy = field(default_factory=RosterPolicy)
    calendar: CalendarPolicy = field(default_factory=CalendarPolicy)
    escalation: Escalation = field(default_factory=Escalation)
    robots: tuple[Robot, ...] = ()
    sms: Sms = field(default_factory=Sms)
    ha: HighAvailability = field(default_factory=HighAvailability)
    source: str = "<defaults>"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL address (its password comes from the environment), or None: a SQLite file."""
        db = self.general.database
        return db if is_postgres_url(db) else None

    @property
    def database_target(self) -> str:
        """What storage.engine.database() opens: the PostgreSQL address or the SQLite file's path."""
        return self.database_url or str(self.database_path)

    @property
    def database_path(self) -> Path:
        p = Path(self.general.database)
        if not p.is_absolute() and self.source not in ("<defaults>", "<string>"):
            p = Path(self.source).resolve().parent / p
        return p

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


def token_from_env(env: typing.Mapping[str, str] | None = None) -> str:
    """TELEGRAM_BOT_TOKEN, or the file named by TELEGRAM_BOT_TOKEN_FILE (bot/secrets.py)."""
    from bot.secrets import bot_token

    return bot_token(env)


# --- loading --------------------------------------------------------------------------


_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_LINE_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")
_INDEX_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _check_database(database: str) -> None:
    """A SQLite path, or a PostgreSQL address whose password is NOT in it (the file is not a secret)."""
    if not database.strip():
        raise _KeyError("general.database", "is empty: write a SQLite file name or a postgresql:// address")
    if not is_postgres_url(database):
        if "://" in database.split("?", 1)[0]:
            raise _KeyError("general.database", "only postgresql:// addresses or SQLite file names are understood")
        return
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(database)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise _KeyError("general.database", f"bad PostgreSQL address: {exc}") from None
    if parts.password is not None or "password" in parse_qs(parts.query):
        raise _KeyError("general.database", "must not hold the password: set DUTYDESK_DATABASE_PASSWORD "
                                            "(or DUTYDESK_DATABASE_PASSWORD_FILE) in the environment instead")
    for schema in parse_qs(parts.query).get("search_path", []):
        if not plain_schema_name(schema):
            raise _KeyError("general.database", f"search_path {schema!r} is not a plain schema name"
                                                " (letters, digits, _)")
    if not parts.hostname and "host" not in parse_qs(parts.query):
        raise _KeyError("general.database", "names no server: write e.g. postgresql://dutydesk@10.0.0.5:5432/dutydesk")


def _key_path(key: str) -> list[str | int]:
    """`leave.chains[0].steps[1].who` → ["leave", "chains", 0, "steps", 1, "who"]."""
    return [int(index) if index else name for name, index in _INDEX_RE.findall(key)]


def _line_of(text: str, key: str) -> int | None:
    """Line number of `key` in the file, for error messages: the line that defines the longest
    part of its path, following [tables] and counting [[arrays of tables]], so a key that
    appears in several sections (`bulletin_chat_id` in [info] and [supervision], `name` in
    every [[units]]) is found in the right one."""
    target = _key_path(key)
    seen: dict[tuple[str | int, ...], int] = {}  # array of tables (its expanded path) → entries so far
    current: dict[tuple[str, ...], int] = {}  # array of tables (its names) → index of the entry being read
    table: list[str | int] = []
    best, best_line = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER_RE.match(line):
            names = [n.strip().strip('"') for n in header.group(2).split(".")]
            expanded: list[str | int] = []
            for j, name in enumerate(names[:-1]):
                expanded.append(name)
                if (prefix := tuple(names[:j + 1])) in current:
                    expanded.append(current[prefix])
            expanded.append(names[-1])
            if header.group(1) == "[[":
                index = seen[tuple(expanded)] = seen.get(tuple(expanded), -1) + 1
                current[tuple(names)] = index
                expanded.append(index)
            table = candidate = expanded
        elif key_line := _KEY_LINE_RE.match(line):
            candidate = table + [part.strip() for part in key_line.group(1).split(".")]
        else:
            continue
        if best < len(candidate) <= len(target) and target[:len(candidate)] == candidate:
            best, best_line = len(candidate), number
    return best_line


def _parse_date(value: Any) -> date:
    """A TOML date (2027-01-01) or the same written as a string."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"bad date {value!r}: write YYYY-MM-DD, e.g. 2027-01-01")


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is timedelta:
        return parse_duration(value)
    if tp is date:
        return _parse_date(value)
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return tuple(_convert(inner, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(args[0], value, key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"expected a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if tp is int and isinstance(value, bool):
        raise ValueError("expected an integer")
    if tp in (int, str, bool) and not isinstance(value, tp):
        raise ValueError(f"expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return value


class _KeyError(Exception):
    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem


# Keys that once meant something and are now ignored with a warning, not refused: an old config still starts.
RETIRED = {
    "telegram.transport": "ignored: every Bot API call now goes through one transport (bot/telegram_http.py) "
                          "(remove the line; a proxy is set with [telegram] proxy or HTTPS_PROXY)",
}


def _build(cls: Any, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else k
        if key in RETIRED:
            log.warning("config key %s = %r is %s", key, v, RETIRED[key])
            continue
        if k not in names:
            raise _KeyError(key, f"unknown key; expected one of: {', '.join(sorted(names))}")
        try:
            kwargs[k] = _convert(hints[k], v, key)
        except _KeyError:
            raise
        except ValueError as exc:
            raise _KeyError(key, str(exc)) from None
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise _KeyError(prefix or "config", f"missing required key ({exc})") from None


def _validate(cfg: Config) -> None:
    seen: set[str] = set()
    for i, u in enumerate(cfg.units):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", u.code):
            raise _KeyError(f"units[{i}].code", f"bad unit code {u.code!r}: use lowercase latin letters, digits, _")
        if u.code in seen:
            raise _KeyError(f"units[{i}].code", f"duplicate unit code {u.code!r}")
        seen.add(u.code)
        if u.kind not in UNIT_KINDS:
            raise _KeyError(f"units[{i}].kind", f"unknown kind {u.kind!r}; expected one of {', '.join(UNIT_KINDS)}")
    try:
        ZoneInfo(cfg.general.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _KeyError("general.timezone", f"unknown time zone {cfg.general.timezone!r}") from None
    _check_database(cfg.general.database)
    if cfg.general.language not in ("zh", "en"):
        raise _KeyError("general.language", "must be 'zh' or 'en'")
    if cfg.telegram.proxy and not re.match(r"(?i)(https?|socks5h?)://[^\s/]", cfg.telegram.proxy):
        raise _KeyError("telegram.proxy", f"bad proxy URL {cfg.telegram.proxy!r}: write e.g. \"http://10.0.0.1:3128\"")
    for key in ("global_per_second", "per_chat_per_second", "group_per_minute"):
        if getattr(cfg.telegram, key) < 0:
            raise _KeyError(f"telegram.{key}", "must be 0 (no limit) or more")
    if not 1 <= cfg.telegram.concurrent_updates <= 256:
        raise _KeyError("telegram.concurrent_updates", "must be between 1 and 256")
    if cfg.invites.default_expiry <= timedelta(0):
        raise _KeyError("invites.default_expiry", "must be longer than 0, e.g. \"7d\"")
    inc = cfg.incident
    if not (inc.first_report <= inc.written_report <= inc.full_report):
        raise _KeyError("incident", "deadlines must grow: first_report ≤ written_report ≤ full_report")
    if inc.forward_remind >= inc.forward_target:
        raise _KeyError("incident.forward_remind", "must be shorter than forward_target")
    _validate_leave(cfg.leave)
    _validate_documents(cfg.documents)
    _validate_info(cfg.info)
    _validate_roster(cfg.roster)
    _validate_calendar(cfg.calendar)
    _validate_channels(cfg)
    _validate_ha(cfg.ha)
    sup = cfg.supervision
    for key, value in (("accept_within", sup.accept_within), ("overdue_chase_every", sup.overdue_chase_every)):
        if value <= timedelta(0):  # a zero chase cadence would chase in a loop
            raise _KeyError(f"supervision.{key}", "must be longer than 0")
    if any(p <= timedelta(0) for p in sup.chase_before):
        raise _KeyError("supervision.chase_before", "every reminder must come before the deadline (> 0)")
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", sup.due_time):
        raise _KeyError("supervision.due_time", f"bad time {sup.due_time!r}: write HH:MM, e.g. '18:00'")
    for key in ("bulletin_cron", "bulletin_weekly_cron"):
        if line := getattr(inc, key):
            _crontab(f"incident.{key}", line)
    if inc.corrected_report <= timedelta(0):
        raise _KeyError("incident.corrected_report", "must be longer than 0")
    if sup.bulletin_cron:
        _crontab("supervision.bulletin_cron", sup.bulletin_cron)
    _crontab("leave.back_remind_at", cfg.leave.back_remind_at)


def _crontab(key: str, line: str, once_a: str = "") -> cron.Crontab:
    """Every periodic time in the file is a crontab line; an older notation is named with the line
    it meant, so the person editing the file knows what to write instead."""
    try:
        tab = cron.parse(line)
    except cron.CronError as exc:
        if (meant := cron.legacy(line)) is not None:
            raise _KeyError(key, f"{line!r} is the old notation; times are crontab lines now (minute hour day month "
                                 f"weekday): write \"{meant}\"") from None
        raise _KeyError(key, f"bad crontab {line!r}: {exc}; write minute hour day month weekday, "
                             "e.g. \"0 9 * * mon\"") from None
    if once_a == "week" and not tab.weekly:
        raise _KeyError(key, f"{line!r} must come once a week (the quota week ends then): one minute, one hour "
                             "and one weekday, e.g. \"0 17 * * fri\"")
    if once_a == "month" and not tab.monthly:
        raise _KeyError(key, f"{line!r} must come once every month: one minute, one hour and one day from 1 to 28, "
                             "e.g. \"0 9 1 * *\"")
    return tab


_SELECTOR_RE = re.compile(r"^(member:\d+|role:[a-z_]+(@[a-z][a-z0-9_]*)?|post:[a-z0-9_]+)$")


def _validate_leave(lv: LeavePolicy) -> None:
    posts = {p.name for p in lv.posts}
    lists = [("leave.archive", lv.archive), ("leave.holiday_notify", lv.holiday_notify),
             ("leave.overdue_notify", lv.overdue_notify), ("leave.fallback", lv.fallback)]
    names = [c.name for c in lv.chains]
    for i, chain in enumerate(lv.chains):
        lists.append((f"leave.chains[{i}].notify", chain.notify))
        if names.count(chain.name) > 1:
            raise _KeyError(f"leave.chains[{i}].name", f"duplicate chain name {chain.name!r}")
        if chain.mode not in ("request", "report"):
            raise _KeyError(f"leave.chains[{i}].mode", "must be 'request' or 'report'")
        if chain.mode == "report" and chain.steps:
            raise _KeyError(f"leave.chains[{i}].steps", "a report (mode = \"report\") has no approval steps")
        if chain.mode == "request" and not chain.steps:
            raise _KeyError(f"leave.chains[{i}].steps", "a request needs at least one step (or mode = \"report\")")
        for post in chain.posts:
            if post not in posts:
                raise _KeyError(f"leave.chains[{i}].posts", f"unknown post {post!r}; define it under [[leave.posts]]")
        for j, step in enumerate(chain.steps):
            lists.append((f"leave.chains[{i}].steps[{j}].who", step.who))
            if step.mode not in ("any", "all"):
                raise _KeyError(f"leave.chains[{i}].steps[{j}].mode", "must be 'any' or 'all'")
            if step.on_self and step.on_self not in names:
                raise _KeyError(f"leave.chains[{i}].steps[{j}].on_self", f"no chain named {step.on_self!r}")
        for role in chain.roles:
            if role not in ROLES:
                raise _KeyError(f"leave.chains[{i}].roles",
                                f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    for key, selectors in lists:
        for sel in selectors:
            if not _SELECTOR_RE.match(sel):
                raise _KeyError(key, f"bad approver {sel!r}: write member:12, role:director@office, "
                                     "role:unit_head@own or post:name")
            if sel.startswith("post:") and sel[5:] not in posts:
                raise _KeyError(key, f"unknown post {sel[5:]!r}; define it under [[leave.posts]]")


def _validate_documents(d: DocumentPolicy) -> None:
    for key in ("normal", "urgent", "very_urgent"):
        if getattr(d.limits, key) <= timedelta(0):
            raise _KeyError(f"documents.limits.{key}", "must be longer than 0")
    for key in ("overdue_chase_every", "sign_within"):
        if getattr(d, key) <= timedelta(0):  # a zero chase cadence would chase in a loop
            raise _KeyError(f"documents.{key}", "must be longer than 0")
    if any(b <= timedelta(0) for b in d.remind_before) or d.sign_remind_before <= timedelta(0):
        raise _KeyError("documents.remind_before", "every reminder must come before the limit (> 0)")


def _validate_roster(r: RosterPolicy) -> None:
    hhmm = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")
    if not r.shifts:
        raise _KeyError("roster.shifts", "define at least one shift")
    if not r.posts:
        raise _KeyError("roster.posts", "define at least one post, e.g. [\"一岗\", \"二岗\"]")
    seen: set[str] = set()
    for i, sh in enumerate(r.shifts):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", sh.name) or sh.name == "leader":
            raise _KeyError(f"roster.shifts[{i}].name", f"bad shift name {sh.name!r}: lowercase latin, not 'leader'")
        if sh.name in seen:
            raise _KeyError(f"roster.shifts[{i}].name", f"duplicate shift name {sh.name!r}")
        seen.add(sh.name)
        for key in ("start", "end"):
            if not hhmm.fullmatch(getattr(sh, key)):
                raise _KeyError(f"roster.shifts[{i}].{key}", f"bad time {getattr(sh, key)!r}: write HH:MM")
    if r.handover not in ("", "shifts"):
        _crontab("roster.handover", r.handover)  # "shifts" (every shift change), a crontab, or "" for none
    if r.takeover_within <= timedelta(0):
        raise _KeyError("roster.takeover_within", "must be longer than 0")


def _validate_calendar(cal: CalendarPolicy) -> None:
    _crontab("calendar.check", cal.check)
    off: dict[date, str] = {}
    for i, h in enumerate(cal.holidays):
        if not h.name.strip():
            raise _KeyError(f"calendar.holidays[{i}].name", "give the holiday's name, e.g. \"春节\"")
        if not timedelta(0) <= h.end - h.start <= timedelta(days=14):
            raise _KeyError(f"calendar.holidays[{i}].end", f"{h.end} must be on or after {h.start}, within 15 days")
        for n in range((h.end - h.start).days + 1):
            off.setdefault(h.start + timedelta(days=n), h.name)
    for i, day in enumerate(cal.workdays):
        if day in off:
            raise _KeyError(f"calendar.workdays[{i}]", f"{day} is also a day off of {off[day]}")


def _validate_url(key: str, url: str) -> None:
    if not re.match(r"^https?://[^/\s]+", url):
        raise _KeyError(key, f"bad URL {url!r}: write it with its scheme, e.g. https://oapi.dingtalk.com/robot/send?…")


def _validate_channels(cfg: Config) -> None:
    from bot.domain import channels, escalation

    names: set[str] = set()
    for i, robot in enumerate(cfg.robots):
        if robot.name in names or not robot.name or robot.name == "*":
            raise _KeyError(f"robots[{i}].name", f"give each robot its own name ({robot.name!r} is taken or empty)")
        names.add(robot.name)
        if robot.kind not in channels.ROBOT_KINDS:
            raise _KeyError(f"robots[{i}].kind",
                            f"unknown robot kind {robot.kind!r}; expected one of {', '.join(channels.ROBOT_KINDS)}")
        _validate_url(f"robots[{i}].url", robot.url)
        for event in robot.events:
            if event not in channels.ROBOT_EVENTS:
                raise _KeyError(f"robots[{i}].events",
                                f"unknown event {event!r}; expected some of {', '.join(channels.ROBOT_EVENTS)}")
        if robot.detail not in channels.DETAILS:
            raise _KeyError(f"robots[{i}].detail", "must be 'summary' or 'full'")
    sms = cfg.sms
    if sms.url:
        _validate_url("sms.url", sms.url)
    if sms.method not in ("POST", "GET"):
        raise _KeyError("sms.method", "must be 'POST' or 'GET'")
    if sms.format not in ("json", "form"):
        raise _KeyError("sms.format", "must be 'json' or 'form'")
    if sms.per_minute < 1:
        raise _KeyError("sms.per_minute", "must be 1 or more")
    for part in ("headers", "body"):
        table = getattr(sms, part)
        if not isinstance(table, dict):
            raise _KeyError(f"sms.{part}", "expected a table of strings")
        for name, value in table.items():
            if not isinstance(value, str):
                raise _KeyError(f"sms.{part}.{name}", f"expected a string, got {value!r}")
            try:
                channels.check_template(value)
            except ValueError as exc:
                raise _KeyError(f"sms.{part}.{name}", str(exc)) from None
    esc = cfg.escalation
    if esc.failover_after <= timedelta(0):
        raise _KeyError("escalation.failover_after", "must be longer than 0")
    policies: set[str] = set()
    for i, policy in enumerate(esc.policies):
        if policy.name in policies or not policy.name:
            raise _KeyError(f"escalation.policies[{i}].name", f"give each policy its own name ({policy.name!r})")
        policies.add(policy.name)
        if not policy.steps:
            raise _KeyError(f"escalation.policies[{i}].steps", "a policy needs at least one step")
        if policy.repeat < 0:
            raise _KeyError(f"escalation.policies[{i}].repeat", "must be 0 or more")
        for j, step in enumerate(policy.steps):
            key = f"escalation.policies[{i}].steps[{j}]"
            if step.delay <= timedelta(0):
                raise _KeyError(f"{key}.delay", "must be longer than 0")
            for text in step.targets:
                try:
                    target = escalation.parse_target(text)
                except ValueError as exc:
                    raise _KeyError(f"{key}.targets", str(exc)) from None
                role = target.who.removeprefix("role:").split("@")[0] if target.who.startswith("role:") else ""
                if role and role not in ROLES:
                    raise _KeyError(f"{key}.targets", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
                if target.channel == "robot" and target.who != "*" and target.who not in names:
                    raise _KeyError(f"{key}.targets", f"no robot named {target.who!r}; define it under [[robots]]")
    for key in ("incident", "major", "forward", "notice_urgent", "leave"):
        name = getattr(esc, key)
        if name and name not in policies:
            raise _KeyError(f"escalation.{key}", f"no policy named {name!r} under [[escalation.policies]]")


def _validate_ha(ha: HighAvailability) -> None:
    for key in ("lease_seconds", "heartbeat_seconds"):
        value = getattr(ha, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise _KeyError(f"ha.{key}", f"must be a number of seconds above 0, e.g. 15, got {value!r}")
    if problem := terms_problem(float(ha.lease_seconds), float(ha.heartbeat_seconds)):
        key = "heartbeat_seconds" if problem.startswith("heartbeat") else "lease_seconds"
        raise _KeyError(f"ha.{key}", problem.replace("heartbeat", "heartbeat_seconds", 1).replace(
            "lease must", "lease_seconds must", 1))


def _validate_info(info: InfoPolicy) -> None:
    _crontab("info.deadline", info.deadline, once_a="week")
    _crontab("info.bulletin", info.bulletin, once_a="month")
    for i, line in enumerate(info.reminders):
        _crontab(f"info.reminders[{i}]", line)
    if info.weekly_quota < 0:
        raise _KeyError("info.weekly_quota", "must be 0 or more")


def loads(text: str, source: str = "<string>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(source, "syntax", str(exc), int(m.group(1)) if m else None) from None
    try:
        cfg = _build(Config, data, "")
        cfg = dataclasses.replace(cfg, source=source)
        _validate(cfg)
    except _KeyError as exc:
        raise ConfigError(source, exc.key, exc.problem, _line_of(text, exc.key)) from None
    return cfg


def load(path: Path | str | None = None) -> Config:
    p = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, "file", "not found: create one with `dutydesk init`") from None
    except IsADirectoryError:
        raise ConfigError(p, "file",
                          "is a directory: name the TOML file, e.g. --config /etc/dutydesk/dutydesk.toml") from None
    except OSError as exc:
        raise ConfigError(p, "file", f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(p, "file", "is not UTF-8 text: save it as UTF-8") from None
    return loads(text, str(p))
