"""Property-based: every command that takes an argument and every typed dialogue step, fed numbers
and dates that overflow or are not ASCII (issue #23: `²`, `①`, 20-digit ids, year 1 and 9999, a
leap day in a common year, `99999999999d`, negative numbers) and hypothesis' other text.

Both lists are read from the code, not written here: the commands from `COMMANDS` and every
CommandHandler the application registered, the text steps from the one dialogue's states (a state
with a handler for text that a sticker does not reach). A command or step without a recipe below
fails the test, so a new one cannot be missed.

After every input:
* nothing reached the error handler and nothing was logged at ERROR;
* every message the bot sent is one the step or command means to send for it — its hint or usage,
  or, when the input was taken, whatever follows (the dialogue moved on) — never core.error.

The default run keeps a few examples per command and step; `-m slow` runs many more.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler

from bot.emulator import SimUser
from bot.services.registration import COMMANDS
from handlers import (
    DIALOG_NAME,
    document_work,
    documents,
    duty_log,
    fact_review,
    handover,
    holiday,
    incident_actions,
    info,
    leave,
    marks,
    notices,
    record,
    report,
    stages,
    supervision,
)
from tests.e2e.flows import file_report
from tests.hostile import NASTY, typed
from tests.reliability.catalog_match import allowed, keys_of, starts_as
from tests.reliability.test_fuzz_dialogues import FuzzRig

EXAMPLES = int(os.environ.get("DUTYDESK_FUZZ_EXAMPLES", "12"))
SLOW_EXAMPLES = 30
READ_TEXT = ("core.empty", "core.too_long", "core.text_expected")  # handlers.common.read_text's answers
# The inputs of the issue, tried on every command and step before anything hypothesis draws.
ISSUE = ["²", "①", "99999999999999999999", "-1", "0001-01-01 10:00", "9999-12-31 23:59", "2-29", "99999999999d"]


class InputRig(FuzzRig):
    """test_fuzz_dialogues.FuzzRig (officer, duty, head, director, leader) plus an admin."""

    def __init__(self) -> None:
        super().__init__()
        # Anything logged at ERROR, by any module (the outbox too, when the Bot API refuses a message).
        for name in ("handlers", "telegram.ext"):
            logging.getLogger(name).removeHandler(self.errors)
        logging.getLogger().addHandler(self.errors)
        self.admin = self.run(self.desk.register("admin", "周管理", "office", "admin"))
        self.incident: int | None = None
        self.assignments: dict[str, int] = {}

    async def fresh_officer(self) -> SimUser:
        """FuzzRig.new_officer, from inside the rig's loop."""
        self.fresh += 1
        return await self.desk.register(f"o{self.fresh}", f"李新{self.fresh}", "jianshelu", "officer")

    def person(self, key: str) -> SimUser:
        return {"officer": self.officer, "head": self.head, "director": self.director, "admin": self.admin,
                "duty": self.desk.people["duty"], "leader": self.desk.people["leader"]}[key]

    def state(self, who: SimUser) -> int | None:
        with self.desk.sql() as conn:
            row = conn.execute("SELECT state FROM ptb_conversations WHERE name=? AND key=?",
                               (DIALOG_NAME, json.dumps([who.id, who.id]))).fetchone()
        return None if row is None else int(json.loads(row[0]))

    def last_id(self, table: str, where: str = "1=1") -> int:
        with self.desk.sql() as conn:
            row = conn.execute(f"SELECT max(id) FROM {table} WHERE {where}").fetchone()
        assert row[0] is not None, f"nothing in {table}"
        return int(row[0])

    def roles(self) -> list[tuple[int, str]]:
        with self.desk.sql() as conn:
            return conn.execute("SELECT member_id, role FROM member_roles").fetchall()

    def restore_roles(self, rows: list[tuple[int, str]]) -> None:
        """/role with a drawn number may change one of the rig's people."""
        with self.desk.sql() as conn:
            conn.execute("DELETE FROM member_roles")
            conn.executemany("INSERT INTO member_roles(member_id, role) VALUES (?, ?)", rows)

    def member_id(self, name: str) -> int:
        with self.desk.sql() as conn:
            return int(conn.execute("SELECT id FROM members WHERE name=?", (name,)).fetchone()[0])

    def reactivate_everyone(self) -> None:
        """/deactivate with a drawn number may hit one of the rig's people."""
        with self.desk.sql() as conn:
            conn.execute("UPDATE members SET active=1")


@pytest.fixture(scope="module")
def irig() -> Iterator[InputRig]:
    r = InputRig()
    yield r
    r.close()


# --- one input and what the bot said to it ---------------------------------------------------


async def _do(rig: InputRig, who: SimUser, *steps: str) -> None:
    """`/cmd args`, `@data` (a button on the last message), `<loc>`, or text; each settled."""
    for step in steps:
        if step.startswith("/"):
            cmd, _, arg = step.partition(" ")
            await who.send_command(cmd, arg or None)
        elif step.startswith("@"):
            last = who.last
            assert last is not None
            await who.press_raw(step[1:], last.message_id)
        elif step == "<loc>":
            await who.share_location(34.7466, 113.6253)
        else:
            await who.send_text(step)
        await rig.desk.settle()


async def _replies(rig: InputRig, who: SimUser, send: Callable[[], Awaitable[Any]]) -> list[str]:
    """What the bot sent `who` in answer to `send()`, as sent (with markup); the error handler unreached."""
    desk = rig.desk
    before, errors = len(desk.emu.messages(who.id)), len(rig.errors.records)
    await send()
    await desk.settle()
    assert len(rig.errors.records) == errors, f"reached the error handler: {rig.errors.records[-1].getMessage()}"
    return [m.source_text or m.text or "" for m in desk.emu.messages(who.id)[before:] if m.kind == "text" or m.text]


def _check(replies: list[str], expected: tuple[str, ...] | None, what: str) -> None:
    """Every reply is one of the `expected` catalog texts (None: any but the generic error)."""
    for html in replies:
        keys = keys_of(html) | starts_as(html)  # the text itself, or a list under its title
        assert "core.error" not in keys, f"{what}: the generic error"
        assert expected is None or any(allowed(k, expected) for k in keys), (
            f"{what}: answered {html[:160]!r} ({sorted(keys)[:6]}), expected one of {expected}")


# --- every command ---------------------------------------------------------------------------

# command → who sends it (someone allowed to), and what it may answer to any argument.
COMMAND_REPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "report": ("officer", ("incident.ask_category",)),
    "incidents": ("duty", ("incident.views.list_",)),
    "incident": ("duty", ("incident.views.usage", "incident.views.not_found", "incident.views.detail")),
    "leave": ("officer", ("leave.ask_kind",)),
    "back": ("officer", ("leave.err_nothing_to_report", "leave.err_not_started", "leave.back_")),
    "leave_history": ("officer", ("leave.history_",)),
    "leave_cancel": ("officer", ("leave.err_", "leave.withdrawn", "core.stale_button")),
    "away": ("director", ("leave.away_",)),
    "task": ("director", ("task.usage", "task.not_found", "task.detail", "task.ask_title")),  # no argument: /task
    "tasks": ("director", ("task.filter_bad", "task.list_")),
    "progress": ("officer", ("task.none_open", "task.ask_progress", "task.choose_item")),
    "bulletin": ("director", ("task.bulletin", "task.bulletin_empty")),
    "info": ("officer", ("info.ask_kind",)),
    "infostats": ("director", ("info.stats_",)),
    "notice": ("director", ("notice.ask_level",)),
    "meeting": ("director", ("notice.ask_level",)),
    "notices": ("director", ("notice.list_",)),
    "bindgroup": ("admin", ("notice.group.group_only",)),
    "unbindgroup": ("admin", ("notice.group.group_only",)),
    "duty": ("director", ("roster.", "duty.log_")),  # who may set a shift and read the log
    "stats": ("director", ("stats.usage", "stats.title")),
    "export": ("director", ("stats.usage", "stats.export_caption")),
    "breaches": ("director", ("reporting.usage", "reporting.title_on_demand")),
    "record": ("duty", ("record.ask_unit",)),
    "holiday": ("leader", ("holiday.ask_start",)),
    "log": ("duty", ("duty.ask_kind", "duty.done_usage", "duty.err_no_entry", "duty.err_already_done",
                     "duty.err_nothing_pending", "duty.done")),
    "doc": ("duty", ("doc.ask_title", "doc.usage", "doc.not_found")),
    "docs": ("duty", ("doc.list_",)),
    "members": ("admin", ("core.admin.members_title",)),
    "role": ("admin", ("core.admin.role_usage", "core.admin.invite_bad_role", "core.admin.member_missing",
                       "core.admin.self_unadmin", "core.admin.role_done")),
    "invite": ("admin", ("core.admin.invite_",)),
    "phone": ("admin", ("channels.phone.usage", "channels.phone.bad", "channels.phone.not_found", "channels.phone.set",
                        "channels.phone.cleared")),
    "deactivate": ("admin", ("core.admin.deactivate_usage", "core.admin.member_missing", "core.admin.deactivated_ok",
                             "core.admin.self_deactivate")),
    "reactivate": ("admin", ("core.admin.reactivate_usage", "core.admin.member_missing", "core.admin.reactivated_ok")),
    "start": ("officer", ("core.invite_", "core.already_registered", "core.welcome_back")),
    "help": ("officer", ("core.help_title",)),
    "cancel": ("officer", ("core.nothing_to_cancel", "core.cancelled")),
}


def registered_commands(rig: InputRig) -> set[str]:
    app = rig.desk.runtime.app  # type: ignore[union-attr]
    found: set[str] = set()

    def collect(handlers: list[Any]) -> None:
        for h in handlers:
            if isinstance(h, CommandHandler):
                found.update(h.commands)
            elif isinstance(h, ConversationHandler):
                collect(h.entry_points)
                collect(h.fallbacks)
                for hs in h.states.values():
                    collect(hs)

    for group in app.handlers.values():
        collect(group)
    return found


def test_every_command_has_a_recipe(irig: InputRig) -> None:
    commands = {name for name, _roles in COMMANDS} | registered_commands(irig)
    missing = sorted(commands - set(COMMAND_REPLIES))
    assert not missing, f"commands without a fuzz recipe: {missing}"


def arguments(command: str) -> st.SearchStrategy[str]:
    """Hostile arguments; /duty's behind `set` and a date or `log`, /log's behind `done`, /role's around a role."""
    if command == "duty":
        return st.one_of(typed, typed.map(lambda a: f"set {a} 白班 陈值班"), typed.map(lambda a: f"set 12-01 白班 {a}"),
                         typed.map(lambda a: f"log {a}"))
    if command == "invite":
        return st.one_of(typed, typed.map(lambda a: f"jianshelu officer {a}"))
    if command == "log":
        return st.one_of(typed, typed.map(lambda a: f"done {a}"))
    if command == "phone":  # a drawn number for an existing member, an existing member's drawn number
        return st.one_of(typed, typed.map(lambda a: f"{a} 13800001234"), typed.map(lambda a: f"1 {a}"))
    if command == "role":  # a number before a role, a role after a number (the rig's roles are put back after)
        return st.one_of(typed, typed.map(lambda a: f"{a} officer"), typed.map(lambda a: f"99999 {a}"))
    return typed


async def _command(rig: InputRig, command: str, arg: str) -> None:
    key, expected = COMMAND_REPLIES[command]
    who = rig.person(key)
    roles = rig.roles()
    replies = await _replies(rig, who, lambda: who.send_command(f"/{command}", arg or None))
    _check(replies, expected, f"/{command} {arg[:60]!r}")
    if rig.state(who) is not None:
        await _do(rig, who, "/cancel")  # it started a dialogue
    if command == "deactivate":
        rig.reactivate_everyone()
    if command == "role":
        rig.restore_roles(roles)


# The commands whose handler reads its arguments; the others are tried with one input only.
READS_ARGS = {"incident", "leave_cancel", "away", "task", "tasks", "infostats", "bindgroup", "duty", "stats", "export",
              "invite", "deactivate", "reactivate", "start", "breaches", "log", "doc", "role", "phone"}
# Where a command reads the issue's inputs: behind the word or before the role it needs.
ISSUE_ARG = {"duty": ("set {} 白班 陈值班", "log {}"), "log": ("done {}",), "role": ("{} officer",),
            "phone": ("1 {}", "{} 13800001234")}


@pytest.mark.parametrize("command", sorted(COMMAND_REPLIES))
def test_issue_inputs_as_every_command_argument(irig: InputRig, command: str) -> None:
    for arg in ISSUE if command in READS_ARGS else ISSUE[:1]:
        for form in ISSUE_ARG.get(command, ("{}",)):
            irig.run(_command(irig, command, form.format(arg)))


COMMAND_SETTINGS = dict(deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("command", sorted(COMMAND_REPLIES))
@settings(max_examples=max(2, EXAMPLES // 6), **COMMAND_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_every_command_argument(irig: InputRig, command: str, data: st.DataObject) -> None:
    irig.run(_command(irig, command, data.draw(arguments(command))))


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMAND_REPLIES))
@settings(max_examples=SLOW_EXAMPLES, **COMMAND_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_every_command_argument_at_length(irig: InputRig, command: str, data: st.DataObject) -> None:
    irig.run(_command(irig, command, data.draw(arguments(command))))


# --- every typed dialogue step ------------------------------------------------------------------

Reach = Callable[[InputRig, SimUser], Awaitable[None]]


@dataclass
class Step:
    """How `who` gets to a text step from no dialogue, and what the step answers to bad input."""

    who: str
    reach: Reach
    hints: tuple[str, ...] = ()
    stays: tuple[str, ...] = ()  # answers to text taken without leaving the step
    fresh: bool = False  # reach again before every input (a taken answer here uses up what was reached)
    expected: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.expected = (*READ_TEXT, *self.hints, *self.stays)

    @property
    def parses(self) -> bool:
        """A step that reads a number, date, time or duration (any text is a valid answer elsewhere)."""
        return bool(self.hints)


def script(*steps: str | Callable[[InputRig], str]) -> Reach:
    async def go(rig: InputRig, who: SimUser) -> None:
        await _do(rig, who, "/cancel")
        for s in steps:
            await _do(rig, who, s(rig) if callable(s) else s)
    return go


def then(first: Reach, *steps: str | Callable[[InputRig], str]) -> Reach:
    async def go(rig: InputRig, who: SimUser) -> None:
        await first(rig, who)
        for s in steps:
            await _do(rig, who, s(rig) if callable(s) else s)
    return go


async def _incident(rig: InputRig) -> int:
    """An open incident of 建设路街道 (the officer's and the head's unit), filed once."""
    if rig.incident is None:
        await _do(rig, rig.officer, "/cancel")
        await file_report(rig.desk, rig.officer)
        rig.incident = rig.last_id("incidents")
    return rig.incident


def on_incident(action: str, *steps: str) -> Reach:
    async def go(rig: InputRig, who: SimUser) -> None:
        ident = await _incident(rig)
        await _do(rig, who, "/cancel", f"@i:{action}:{ident}", *steps)
    return go


async def _new_incident(rig: InputRig) -> int:
    await _do(rig, rig.officer, "/cancel")
    await file_report(rig.desk, rig.officer)
    return rig.last_id("incidents")


async def _close(rig: InputRig, who: SimUser) -> None:
    """结案 takes any outcome: each example closes an incident of its own."""
    ident = await _new_incident(rig)
    await _do(rig, who, "/cancel", f"@i:c:{ident}")


async def _answer(rig: InputRig, who: SimUser) -> None:
    """A question the duty officer asked, to be answered once."""
    ident = await _incident(rig)
    duty = rig.person("duty")
    await _do(rig, duty, "/cancel", f"@i:ask:{ident}", "请核实伤亡人数")
    question = rig.last_id("incident_questions", "answer IS NULL")
    await _do(rig, who, "/cancel", f"@i:ans:{question}")


REPORT_SUMMARY = ("/report", "@r:cat:fire", "@r:t:now", "建设路12号", "@r:cas:none", "居民楼起火")
LEAVE_TO_CONFIRM = ("/leave", "@l:k:personal", "@l:d:tomorrow", "@l:d:tomorrow", "北京", "@l:c:y", "家中有事",
                    "@l:s:none")


async def _leave_decision(rig: InputRig, who: SimUser) -> None:
    """A fresh officer's leave request (own leave must not overlap), refused by the unit head."""
    officer = await rig.fresh_officer()
    await _do(rig, officer, "/cancel", *LEAVE_TO_CONFIRM, "@l:ok")
    await _do(rig, who, "/cancel", f"@lv:no:{rig.last_id('leave_requests')}")


# 密级 非密 first (handlers/notices.py asks it before anything else).
MEETING = ("/meeting", "@nd:lv:none", "全区安全生产会议", "明天 9:30", "区委三楼会议室", "@nd:skip", "@nd:ok",
           "@nd:a:all",
           "@nd:n", "@nd:send")


def meeting_answer(action: str) -> Reach:
    async def go(rig: InputRig, who: SimUser) -> None:
        await _do(rig, rig.director, "/cancel", *MEETING)
        await _do(rig, who, "/cancel", f"@nt:{action}:{rig.last_id('notices')}")
    return go


TASK = ("/task", "背街小巷环境整治", "@sx:src:instruction", "两周内完成", "@sx:u:jianshelu", "@sx:u:ok", "@sx:l:0",
        "3天", "@sx:plan", "@sx:ok")


async def _assignment(rig: InputRig, use: str) -> int:
    """An item for 建设路街道 its head has accepted: one per use (progress, extension, return …),
    so one recipe never finds the item in the state another left it; "new" makes a fresh one."""
    if use == "new" or use not in rig.assignments:
        await _do(rig, rig.director, "/cancel", *TASK)
        aid = rig.last_id("supervision_assignments")
        await _do(rig, rig.head, "/cancel", f"@sv:acc:{aid}")
        rig.assignments[use] = aid
    return rig.assignments[use]


def on_assignment(use: str, *steps: str) -> Reach:
    async def go(rig: InputRig, who: SimUser) -> None:
        aid = await _assignment(rig, use)
        await _do(rig, who, "/cancel", *(s.format(aid=aid) for s in steps))
    return go


async def _returning(rig: InputRig, who: SimUser) -> None:
    """A completion the head submitted (again, after the last return), which the director starts to return."""
    aid = await _assignment(rig, "return")
    with rig.desk.sql() as conn:
        (state,) = conn.execute("SELECT state FROM supervision_assignments WHERE id=?", (aid,)).fetchone()
    if state == "accepted":
        await _do(rig, rig.head, "/cancel", f"@sv:done:{aid}", "整治完成", "@sx:submit")
    await _do(rig, who, "/cancel", f"@sv:ret:{aid}")


# --- the office's side of an incident: put on record, findings, corrections ---------------------

RECORD = ("/record", "@rc:u:jianshelu")
PHONE_CALL = (*RECORD, "@rc:s:phone", "王主任（党政办主任）")
# Put on record from the 12345 hotline: the unit has not reported and owes its first report (首报).
RECORDED = (*RECORD, "@rc:s:hotline", "@r:t:now", "@r:cat:fire", "@r:t:now", "<loc>", "@r:cas:none", "居民楼起火",
            "@r:ok")


async def _kept(rig: InputRig, name: str, make: Callable[[], Awaitable[int]]) -> int:
    """One record made once per rig and kept under `name` (rig.assignments holds any such id)."""
    if name not in rig.assignments:
        rig.assignments[name] = await make()
    return rig.assignments[name]


async def _recorded(rig: InputRig) -> int:
    """An event the duty room put on record from the hotline: 建设路街道 owes its first report."""
    async def make() -> int:
        await _do(rig, rig.person("duty"), "/cancel", *RECORDED)
        return rig.last_id("incidents")
    return await _kept(rig, "recorded", make)


async def _marked_wrong(rig: InputRig) -> int:
    """An incident the director marked 误报 (one place corrected): the unit owes a corrected report."""
    async def make() -> int:
        ident = await _new_incident(rig)
        await _do(rig, rig.director, "/cancel", f"@i:wrong:{ident}", "地点有误", "@iw:place", "建设路14号", "@iw:ok")
        return ident
    return await _kept(rig, "wrong", make)


async def _concealed_mark(rig: InputRig) -> int:
    """A 瞒报 finding, for its notes."""
    async def make() -> int:
        ident = await _new_incident(rig)
        await _do(rig, rig.director, "/cancel", f"@i:hide:{ident}", "未按规定报告")
        return rig.last_id("incident_marks")
    return await _kept(rig, "concealed", make)


def on(target: Callable[[InputRig], Awaitable[int]], *steps: str) -> Reach:
    """Buttons and answers on a record `target` makes ({id} in a step is its id)."""
    async def go(rig: InputRig, who: SimUser) -> None:
        ident = await target(rig)
        await _do(rig, who, "/cancel", *(s.format(id=ident) for s in steps))
    return go


async def _concealing(rig: InputRig, who: SimUser) -> None:
    """瞒报 takes its reason once per incident: each example marks an incident of its own."""
    ident = await _new_incident(rig)
    await _do(rig, who, "/cancel", f"@i:hide:{ident}")


# --- documents and the duty log -----------------------------------------------------------------

DOC = ("/doc", "关于做好冬季供暖保障工作的通知", "市政府办公厅", "@dr:skip", "@dr:l:none", "@dr:u:normal", "@dr:now",
       "请各单位排查供暖隐患", "@dr:ok", "@dr:ok")


async def _new_document(rig: InputRig) -> int:
    """A 非密 document the duty room registered (waiting for 拟办)."""
    await _do(rig, rig.person("duty"), "/cancel", *DOC)
    return rig.last_id("documents")


async def _document(rig: InputRig) -> int:
    return await _kept(rig, "document", lambda: _new_document(rig))


def _leader_button(rig: InputRig) -> str:
    return f"@dw:l:{rig.member_id('孙区长')}"


async def _finishing(rig: InputRig, who: SimUser) -> None:
    """办结 takes the result once: each example registers, proposes and has 批办 a document of its own."""
    ident = await _new_document(rig)
    duty, leader = rig.person("duty"), rig.person("leader")
    await _do(rig, duty, "/cancel", f"@dc:prop:{ident}", "请王主任牵头落实", "王主任", _leader_button(rig), "@dw:def",
              "@dw:ok")
    await _do(rig, leader, "/cancel", f"@dc:ok:{ident}")
    await _do(rig, who, "/cancel", f"@dc:done:{ident}")


async def _handover(rig: InputRig) -> int:
    """A shift change the duty officer hands over (not yet handed: notes may be added)."""
    async def make() -> int:
        with rig.desk.sql() as conn:
            row = conn.execute("INSERT INTO handovers(at, outgoing, incoming, created_at) VALUES "
                               "('2026-11-23T09:30:00.000000Z', ?, '', '2026-11-23T09:30:00.000000Z') RETURNING id",
                               (str(rig.member_id("陈值班")),)).fetchone()
            assert row is not None
            return int(row[0])
    return await _kept(rig, "handover", make)


TIME_HINTS = ("incident.time_",)
S_R, S_S, S_Q, S_I, S_L, S_N, S_T = report.S, stages.S, incident_actions.S, info.S, leave.S, notices.S, supervision.S
FR_S, S_RC, S_M, S_H, S_DL, S_D, S_DW = (fact_review.S, record.S, marks.S, holiday.S, duty_log.S, documents.S,
                                         document_work.S)


def review(purpose: str, who: str, target: Callable[[InputRig], Awaitable[int]], *opening: str) -> dict[int, Step]:
    """The text steps of one review of the facts (fact_review): time, place, casualties, description
    (and, for the unit's first report, when it learnt of it), each opened by its button."""
    found: dict[int, Step] = {}
    for step in fact_review.steps(purpose):
        fix = {fact_review.Step.TIME: "time", fact_review.Step.LEARNT: "learnt", fact_review.Step.PLACE: "place",
               fact_review.Step.CASUALTIES: "casualties", fact_review.Step.DESCRIPTION: "description"}.get(step)
        if fix is None:
            continue  # the review itself and the category take buttons only
        hints = {"time": TIME_HINTS, "learnt": TIME_HINTS, "casualties": ("incident.casualties_bad",)}.get(fix, ())
        found[fact_review.state(purpose, step)] = Step(who, on(target, *opening, f"@iw:{fix}"), hints)
    return found


STEPS: dict[int, Step] = {
    S_R.OCCURRED: Step("officer", script("/report", "@r:cat:fire"), TIME_HINTS),
    S_R.LEARNT: Step("officer", script(*REPORT_SUMMARY, "@r:edit", "@r:e:learnt"),
                     (*TIME_HINTS, "incident.learnt_before_occurred")),
    S_R.PLACE: Step("officer", script("/report", "@r:cat:fire", "@r:t:now")),
    S_R.CASUALTIES: Step("officer", script("/report", "@r:cat:fire", "@r:t:now", "<loc>"),
                         ("incident.casualties_bad", "incident.count_bad")),
    S_R.INJURED: Step("officer", script("/report", "@r:cat:fire", "@r:t:now", "<loc>", "1"), ("incident.count_bad",)),
    S_R.MISSING: Step("officer", script("/report", "@r:cat:fire", "@r:t:now", "<loc>", "1", "2"),
                      ("incident.count_bad",)),
    S_R.DESCRIPTION: Step("officer", script("/report", "@r:cat:fire", "@r:t:now", "<loc>", "@r:cas:none")),
    S_RC.UNIT: Step("duty", script("/record"), stays=("record.unit_unknown_typed",)),
    S_RC.CALLER: Step("duty", script(*RECORD, "@rc:s:phone")),
    S_RC.PHONE: Step("duty", script(*PHONE_CALL), ("record.phone_bad",)),
    S_RC.OFFICE_AT: Step("duty", script(*PHONE_CALL, "13800000000"), TIME_HINTS),
    FR_S.W_TIME: Step("officer", on_incident("w", "@iw:time"), TIME_HINTS),
    FR_S.W_PLACE: Step("officer", on_incident("w", "@iw:place")),
    FR_S.W_CASUALTIES: Step("officer", on_incident("w", "@iw:casualties"), ("incident.casualties_bad",)),
    FR_S.W_DESCRIPTION: Step("officer", on_incident("w", "@iw:description")),
    **review(fact_review.FIRST, "officer", _recorded, "@i:p:{id}"),
    **review(fact_review.CORRECTED, "officer", _marked_wrong, "@i:cw:{id}"),
    **review(fact_review.WRONG, "director", _incident, "@i:wrong:{id}", "经核实不属实"),
    **review(fact_review.OFFICE, "duty", _incident, "@i:fix:{id}"),
    S_M.REASON: Step("director", _concealing, fresh=True),
    S_M.NOTE: Step("director", on(_concealed_mark, "@mk:note:{id}"), fresh=True),
    S_M.WRONG_REASON: Step("director", on(_incident, "@i:wrong:{id}")),
    S_S.FULL: Step("officer", on_incident("f"), stays=("incident.stages.ask_",), fresh=True),
    S_S.U_TEXT: Step("officer", on_incident("u")),
    S_S.U_CASUALTIES: Step("officer", on_incident("u", "火势已控制"), ("incident.casualties_bad",)),
    S_S.C_OUTCOME: Step("head", _close, fresh=True),
    S_Q.QUESTION: Step("duty", on_incident("ask"), fresh=True),
    S_Q.ANSWER: Step("officer", _answer, fresh=True),
    S_I.TITLE: Step("officer", script("/info", "@nw:k:dynamic")),
    S_I.BODY: Step("officer", script("/info", "@nw:k:dynamic", "前三季度经济运行情况")),
    S_L.START: Step("officer", script("/leave", "@l:k:personal"), ("leave.err_",)),
    S_L.END: Step("officer", script("/leave", "@l:k:personal", "@l:d:tomorrow"), ("leave.err_",)),
    S_L.DESTINATION: Step("officer", script(*LEAVE_TO_CONFIRM[:4])),
    S_L.REASON: Step("officer", script(*LEAVE_TO_CONFIRM[:6])),
    S_L.COMMENT: Step("head", _leave_decision, fresh=True),
    S_H.START: Step("leader", script("/holiday"), ("leave.err_",)),
    S_H.END: Step("leader", script("/holiday", "12-31"), ("leave.err_", "holiday.err_")),
    S_H.DESTINATION: Step("leader", script("/holiday", "12-31", "01-02")),
    S_H.CONTACT: Step("leader", script("/holiday", "12-31", "01-02", "上海")),
    S_N.TITLE: Step("director", script("/notice", "@nd:lv:none")),
    S_N.BODY: Step("director", script("/notice", "@nd:lv:none", "关于做好防汛工作的通知")),
    S_N.MEETING_TIME: Step("director", script("/meeting", "@nd:lv:none", "全区安全生产会议"),
                           ("notice.meeting_time_",)),
    S_N.MEETING_PLACE: Step("director", script("/meeting", "@nd:lv:none", "全区安全生产会议", "明天 9:30")),
    S_N.MEMBERS: Step("director", script("/notice", "@nd:lv:none", "通知", "正文", "@nd:ok", "@nd:a:members"),
                      stays=("notice.members_missing",)),
    S_N.DEADLINE: Step("director", script("/notice", "@nd:lv:none", "通知", "正文", "@nd:ok", "@nd:a:all", "@nd:n",
                                          "@nd:rc:custom"), ("notice.deadline_bad",)),
    S_N.LEAVE_REASON: Step("head", meeting_answer("lv"), fresh=True),
    S_N.PROXY_NAME: Step("head", meeting_answer("px"), fresh=True),
    S_T.TITLE: Step("director", script("/task")),
    S_T.REQUIREMENT: Step("director", script(*TASK[:3])),
    S_T.DUE: Step("director", script(*TASK[:7]), ("task.due_",)),
    S_T.CHASE: Step("director", script(*TASK[:8]), ("task.chase_bad",)),
    S_T.REPORT_TEXT: Step("head", on_assignment("progress", "@sv:prog:{aid}")),
    S_T.REPORT_FILES: Step("head", on_assignment("progress", "@sv:prog:{aid}", "已清理垃圾12处"),
                           stays=("task.file_added", "task.text_full")),
    S_T.EXT_DUE: Step("head", on_assignment("extension", "@sv:ext:{aid}"), ("task.due_", "task.ext_not_later")),
    # The reason files the request, and an item holds one pending request at a time.
    S_T.EXT_REASON: Step("head", on_assignment("new", "@sv:ext:{aid}", "12-31"), fresh=True),
    S_T.RET_REASON: Step("director", _returning),
    S_T.RET_DUE: Step("director", then(_returning, "缺少对比照片"), ("task.due_",)),
    S_DL.TIME: Step("duty", script("/log", "@dl:k:call"), ("duty.err_",)),
    S_DL.SOURCE: Step("duty", script("/log", "@dl:k:call", "@dl:now")),
    S_DL.CONTENT: Step("duty", script("/log", "@dl:k:call", "@dl:now", "须水街道 张三")),
    S_DL.ACTION: Step("duty", script("/log", "@dl:k:call", "@dl:now", "须水街道 张三", "反映落水风险")),
    S_DL.PENDING: Step("duty", script("/log", "@dl:k:call", "@dl:now", "须水街道 张三", "反映落水风险", "@dl:skip")),
    handover.S.NOTE: Step("duty", on(_handover, "@ho:note:{id}"), fresh=True),
    S_D.TITLE: Step("duty", script("/doc")),
    S_D.ISSUER: Step("duty", script(*DOC[:2])),
    S_D.DOC_NO: Step("duty", script(*DOC[:3])),
    S_D.RECEIVED: Step("duty", script(*DOC[:6]), ("doc.err_",)),
    S_D.SUMMARY: Step("duty", script(*DOC[:7])),
    S_DW.PROPOSAL: Step("duty", on(_document, "@dc:prop:{id}")),
    S_DW.HANDLER: Step("duty", on(_document, "@dc:prop:{id}", "请王主任牵头落实"),
                       ("doc.handler_unknown", "doc.handler_ambiguous")),
    S_DW.DUE: Step("duty", then(on(_document, "@dc:prop:{id}", "请王主任牵头落实", "王主任"), _leader_button),
                   ("task.due_",)),
    S_DW.RESULT: Step("head", _finishing, fresh=True),
}


def text_states() -> set[int]:
    """The dialogue's states in which a text message reaches a handler of its own (a sticker does not)."""
    from telegram import Chat, Message, Sticker, Update, User

    from handlers import build_dialog

    user, chat = User(1, "x", False), Chat(1, "private")
    text = Update(1, message=Message(1, None, chat, from_user=user, text="12"))  # type: ignore[arg-type]
    sticker = Update(2, message=Message(2, None, chat, from_user=user,  # type: ignore[arg-type]
                                        sticker=Sticker("s", "s", 1, 1, False, False, "regular")))
    found = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per_message=False, as handlers.register_all builds it
        dialog = build_dialog()
    for state, handlers in dialog.states.items():
        reads_text = (isinstance(h, MessageHandler) and h.check_update(text) and not h.check_update(sticker)
                      for h in handlers)
        if any(reads_text):
            found.add(int(state))  # type: ignore[call-overload]
    return found


def test_every_text_step_has_a_recipe() -> None:
    states = text_states()
    assert states == set(STEPS), (f"text steps without a recipe: {sorted(states - set(STEPS))}; "
                                  f"recipes for no text step: {sorted(set(STEPS) - states)}")


# A message a client can send as an answer: Telegram delivers no empty or all-blank text, and text
# starting with "/" is a command (answered as one: the commands have their own test above).
typed_text = typed.filter(lambda s: s.strip() != "" and not s.lstrip().startswith("/"))


async def _type_at(rig: InputRig, state: int, inputs: list[str]) -> None:
    step = STEPS[state]
    who = rig.person(step.who)
    reached = False
    for text in inputs:
        if step.fresh or not reached or rig.state(who) != state:
            await step.reach(rig, who)
            assert rig.state(who) == state, f"the recipe did not reach step {state!r}; the bot said: " + " | ".join(
                (m.text or "")[:60] for m in rig.desk.emu.messages(who.id)[-4:])
            reached = True
        replies = await _replies(rig, who, lambda t=text: who.send_text(t))
        what = f"{text[:60]!r} at step {state!r}"
        if rig.state(who) == state:
            _check(replies, step.expected, what)  # not taken: the step's hint (or taken, the step goes on)
        else:
            _check(replies, None, what)  # taken, the dialogue moved on: anything but the generic error
    await _do(rig, who, "/cancel")


@pytest.mark.parametrize("state", sorted(STEPS))
def test_issue_inputs_at_every_text_step(irig: InputRig, state: int) -> None:
    # A free-text step takes any of them as its answer: one is enough to see it does.
    irig.run(_type_at(irig, state, ISSUE if STEPS[state].parses else ISSUE[:1]))


STEP_SETTINGS = dict(deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("state", sorted(s for s, step in STEPS.items() if step.parses))
@settings(max_examples=max(1, EXAMPLES // 6), **STEP_SETTINGS)  # type: ignore[arg-type]
@given(inputs=st.lists(typed_text, min_size=3, max_size=3))
def test_every_parsing_step(irig: InputRig, state: int, inputs: list[str]) -> None:
    irig.run(_type_at(irig, state, inputs))


@pytest.mark.slow
@pytest.mark.parametrize("state", sorted(STEPS))
@settings(max_examples=SLOW_EXAMPLES // 3, **STEP_SETTINGS)  # type: ignore[arg-type]
@given(inputs=st.lists(typed_text, min_size=3, max_size=6))
def test_every_text_step_at_length(irig: InputRig, state: int, inputs: list[str]) -> None:
    irig.run(_type_at(irig, state, inputs))


def test_the_issue_inputs_are_tried() -> None:
    assert set(ISSUE) <= set(NASTY)
