"""Who people are in the organisation and what their roles let them do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"  # 信息员
    UNIT_HEAD = "unit_head"  # 单位办公室主任 (街道党政办主任): the unit's office, its alerts, its staff's leave
    UNIT_CHIEF = "unit_chief"  # 单位主要负责人 (街道办事处主任、局长): major incidents and overdue items of the unit
    DUTY = "duty"  # 值班员
    DIRECTOR = "director"  # 办公室主任/副主任
    LEADER = "leader"  # 区领导
    ADMIN = "admin"
    INFO_EDITOR = "info_editor"  # 信息审核


class Action(StrEnum):
    REPORT_INCIDENT = "report_incident"
    RECORD_INCIDENT = "record_incident"  # 代报/登记: the duty room puts an event on record for a unit
    MARK_INCIDENT = "mark_incident"  # 误报 / 瞒报 findings and notes on any finding (约谈, 通报批评)
    DOWNLOAD_REPORT = "download_report"  # the written report (书面报告) as a Word file
    CORRECT_FACTS = "correct_facts"  # the office corrects the facts it holds (a version, not a finding)
    FILE_STAGE = "file_stage"  # written/full/follow-up for own unit
    CLOSE_INCIDENT = "close_incident"
    ACK_ALERT = "ack_alert"
    FORWARD_UPSTREAM = "forward_upstream"
    ASK_REPORTER = "ask_reporter"
    VIEW_ALL_INCIDENTS = "view_all_incidents"
    VIEW_OWN_INCIDENTS = "view_own_incidents"
    MANAGE_MEMBERS = "manage_members"
    CREATE_INVITE = "create_invite"
    REQUEST_LEAVE = "request_leave"  # 请假、销假 (own)
    DECIDE_LEAVE = "decide_leave"  # 审批 — only as an approver named by the chain of that request
    VIEW_AWAY = "view_away"  # /away (unit heads: own unit)
    SUBMIT_INFO = "submit_info"  # 报送政务信息 (own unit)
    REVIEW_INFO = "review_info"  # 标记采用 (district-wide)
    VIEW_INFO_STATS = "view_info_stats"  # /infostats
    ASSIGN_TASK = "assign_task"  # 交办督办事项
    ACCEPT_TASK = "accept_task"  # 签收 (own unit)
    REPORT_TASK = "report_task"  # 报进展 (own unit)
    SUBMIT_TASK = "submit_task"  # 办结、申请延期 (own unit)
    REVIEW_TASK = "review_task"  # 办结审核、退回、延期审批
    VIEW_ALL_TASKS = "view_all_tasks"
    VIEW_OWN_TASKS = "view_own_tasks"
    SEND_NOTICE = "send_notice"  # 发通知 (unit heads: own unit only)
    BIND_GROUP = "bind_group"  # /bindgroup in a Telegram group
    VIEW_ROSTER = "view_roster"  # /duty
    MANAGE_ROSTER = "manage_roster"  # /duty set, roster import
    VIEW_STATS = "view_stats"  # /stats, /export
    REPORT_HOLIDAY = "report_holiday"  # 节假日离京报备 (区领导)
    KEEP_DUTY_LOG = "keep_duty_log"  # /log, 交班 / 接班 (only as an officer of that shift change)
    VIEW_DUTY_LOG = "view_duty_log"  # /duty log
    REGISTER_DOCUMENT = "register_document"  # 收文登记
    PROPOSE_DOCUMENT = "propose_document"  # 拟办, 电话请示
    ASSIGN_DOCUMENT = "assign_document"  # 批办 — only the leader the proposal names
    HANDLE_DOCUMENT = "handle_document"  # 办结 — only the handler the 批办 names
    VIEW_DOCUMENTS = "view_documents"  # /docs: every open document


# The permission table: one line per action, read like the office's own rules.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REPORT_INCIDENT: frozenset({Role.OFFICER, Role.UNIT_HEAD}),
    Action.FILE_STAGE: frozenset({Role.OFFICER, Role.UNIT_HEAD}),
    Action.CLOSE_INCIDENT: frozenset({Role.UNIT_HEAD, Role.DIRECTOR}),
    Action.RECORD_INCIDENT: frozenset({Role.DUTY, Role.DIRECTOR}),
    Action.MARK_INCIDENT: frozenset({Role.DIRECTOR}),
    Action.DOWNLOAD_REPORT: frozenset({Role.DUTY, Role.DIRECTOR, Role.UNIT_HEAD}),  # never to a group
    Action.CORRECT_FACTS: frozenset({Role.DUTY, Role.DIRECTOR}),
    # The office's buttons on an alert: the reporting unit's own office head and chief see it but do
    # not acknowledge (or forward, or ask) for the office.
    Action.ACK_ALERT: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
    Action.FORWARD_UPSTREAM: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
    Action.ASK_REPORTER: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
    Action.VIEW_ALL_INCIDENTS: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
    Action.VIEW_OWN_INCIDENTS: frozenset({Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF}),
    Action.MANAGE_MEMBERS: frozenset({Role.ADMIN}),
    Action.CREATE_INVITE: frozenset({Role.ADMIN}),
    Action.REQUEST_LEAVE: frozenset(Role) - {Role.ADMIN},
    Action.DECIDE_LEAVE: frozenset(Role) - {Role.ADMIN},
    Action.VIEW_AWAY: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER, Role.UNIT_HEAD, Role.UNIT_CHIEF}),
    Action.SUBMIT_INFO: frozenset({Role.OFFICER, Role.UNIT_HEAD}),
    Action.REVIEW_INFO: frozenset({Role.DIRECTOR, Role.INFO_EDITOR}),
    Action.VIEW_INFO_STATS: frozenset({Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF, Role.DUTY, Role.DIRECTOR,
                                       Role.LEADER, Role.INFO_EDITOR}),
    Action.ASSIGN_TASK: frozenset({Role.DIRECTOR}),
    Action.ACCEPT_TASK: frozenset({Role.UNIT_HEAD}),
    Action.REPORT_TASK: frozenset({Role.OFFICER, Role.UNIT_HEAD}),
    Action.SUBMIT_TASK: frozenset({Role.UNIT_HEAD}),
    Action.REVIEW_TASK: frozenset({Role.DIRECTOR}),
    Action.VIEW_ALL_TASKS: frozenset({Role.DIRECTOR, Role.LEADER}),
    Action.VIEW_OWN_TASKS: frozenset({Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF}),
    Action.SEND_NOTICE: frozenset({Role.DIRECTOR, Role.DUTY, Role.UNIT_HEAD}),
    Action.BIND_GROUP: frozenset({Role.ADMIN, Role.UNIT_HEAD}),
    Action.VIEW_ROSTER: frozenset(Role),
    Action.MANAGE_ROSTER: frozenset({Role.ADMIN, Role.DIRECTOR}),
    Action.VIEW_STATS: frozenset({Role.DIRECTOR, Role.DUTY, Role.LEADER}),
    Action.REPORT_HOLIDAY: frozenset({Role.LEADER}),
    Action.KEEP_DUTY_LOG: frozenset({Role.DUTY, Role.DIRECTOR}),
    Action.VIEW_DUTY_LOG: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
    Action.REGISTER_DOCUMENT: frozenset({Role.DUTY, Role.DIRECTOR}),
    Action.PROPOSE_DOCUMENT: frozenset({Role.DUTY, Role.DIRECTOR}),
    Action.ASSIGN_DOCUMENT: frozenset({Role.LEADER, Role.DIRECTOR}),
    Action.HANDLE_DOCUMENT: frozenset(Role) - {Role.ADMIN},
    Action.VIEW_DOCUMENTS: frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER}),
}

# Actions whose scope is the actor's own unit unless a role grants district-wide reach.
UNIT_SCOPED: frozenset[Action] = frozenset(
    {Action.FILE_STAGE, Action.CLOSE_INCIDENT, Action.VIEW_OWN_INCIDENTS, Action.DOWNLOAD_REPORT,
     Action.ACCEPT_TASK, Action.REPORT_TASK, Action.SUBMIT_TASK}  # 督办: only the unit's own people
)
DISTRICT_WIDE: frozenset[Role] = frozenset({Role.DUTY, Role.DIRECTOR, Role.LEADER, Role.ADMIN})


@dataclass(frozen=True)
class Member:
    id: int
    telegram_id: int
    name: str
    unit_code: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    active: bool = True
    username: str | None = None
    created_at: datetime | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def district_wide(self) -> bool:
        return bool(self.roles & DISTRICT_WIDE)


def can(member: Member | None, action: Action, unit_code: str | None = None) -> bool:
    """May `member` do `action`, on something belonging to `unit_code` if given?"""
    if member is None or not member.active:
        return False
    if not member.roles & PERMISSIONS[action]:
        return False
    if unit_code is None or unit_code == member.unit_code:
        return True
    if action in UNIT_SCOPED:
        # Someone with district reach acts on any unit only through a district-wide role.
        return bool(member.roles & PERMISSIONS[action] & DISTRICT_WIDE)
    return member.district_wide


def may_see_incident(member: Member | None, unit_code: str) -> bool:
    """May `member` learn the facts of an incident of `unit_code` (be sent them, have a message about
    it updated, open it): the office district-wide, a unit's own people for their unit; nobody
    deactivated. Checked for every person at the moment they would be told, not when first alerted."""
    return can(member, Action.VIEW_ALL_INCIDENTS, unit_code) or can(member, Action.VIEW_OWN_INCIDENTS, unit_code)


def parse_role(text: str) -> Role | None:
    try:
        return Role(text.strip())
    except ValueError:
        return None


def parse_roles(words: Iterable[str]) -> tuple[frozenset[Role], list[str]]:
    """`unit_chief duty` or `unit_chief,duty` → the roles, and the words that name none."""
    found: set[Role] = set()
    unknown: list[str] = []
    for word in (w for text in words for w in text.replace("，", ",").split(",")):
        if not word.strip():
            continue
        role = parse_role(word)
        if role is None:
            unknown.append(word.strip())
        else:
            found.add(role)
    return frozenset(found), unknown
