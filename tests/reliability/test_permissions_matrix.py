"""Permission matrix: every incident button and command × every role × own unit / other unit /
unregistered / deactivated, plus forged and replayed button data. Only allowed cells succeed.

The pure-domain half checks `can()` against the office's rules written out as a table here
(independently of PERMISSIONS); the end-to-end half checks that every handler obeys `can()`
for every cell, through the real bot and the emulator.
"""

from __future__ import annotations

import contextlib

import pytest

from bot.domain.members import DISTRICT_WIDE, PERMISSIONS, UNIT_SCOPED, Action, Member, Role, can
from bot.emulator import SimUser
from bot.harness import Desk
from bot.i18n import Texts
from storage import members as members_store
from tests.e2e.flows import file_report

# ---------------------------------------------------------------------------------- domain

# One letter per role keeps the matrix below readable (O for officer, hence the noqa).
O, U, C, D, R, L, A, E = (  # noqa: E741
    Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF, Role.DUTY, Role.DIRECTOR, Role.LEADER, Role.ADMIN, Role.INFO_EDITOR
)
ALL = {O, U, C, D, R, L, A, E}
# The rules (DOMAIN.md), written independently of bot/domain/members.py: action -> roles allowed.
SPEC: dict[Action, set[Role]] = {
    Action.REPORT_INCIDENT: {O, U},
    Action.RECORD_INCIDENT: {D, R},  # 代报/登记: the duty room, for any unit
    Action.MARK_INCIDENT: {R},  # 误报 / 瞒报 and notes: a director's finding, never automatic
    Action.DOWNLOAD_REPORT: {D, R, U},  # the Word file: duty, directors, the unit's own head
    Action.CORRECT_FACTS: {D, R},  # the office corrects the facts it holds: a version, not a finding
    Action.FILE_STAGE: {O, U},
    Action.CLOSE_INCIDENT: {U, R},
    Action.ACK_ALERT: {D, R, L},  # the office's buttons: the reporting unit's head and chief see, do not press
    Action.FORWARD_UPSTREAM: {D, R, L},
    Action.ASK_REPORTER: {D, R, L},
    Action.VIEW_ALL_INCIDENTS: {D, R, L},
    Action.VIEW_OWN_INCIDENTS: {O, U, C},
    Action.MANAGE_MEMBERS: {A},
    Action.CREATE_INVITE: {A},
    Action.REQUEST_LEAVE: ALL - {A},
    Action.DECIDE_LEAVE: ALL - {A},
    Action.VIEW_AWAY: {D, R, L, U, C},
    Action.SUBMIT_INFO: {O, U},
    Action.REVIEW_INFO: {R, E},
    Action.VIEW_INFO_STATS: {O, U, C, D, R, L, E},
    Action.ASSIGN_TASK: {R},
    Action.ACCEPT_TASK: {U},
    Action.REPORT_TASK: {O, U},
    Action.SUBMIT_TASK: {U},
    Action.REVIEW_TASK: {R},
    Action.VIEW_ALL_TASKS: {R, L},
    Action.VIEW_OWN_TASKS: {O, U, C},
    Action.SEND_NOTICE: {R, D, U},
    Action.BIND_GROUP: {A, U},
    Action.VIEW_ROSTER: ALL,
    Action.MANAGE_ROSTER: {A, R},
    Action.VIEW_STATS: {R, D, L},
    Action.REPORT_HOLIDAY: {L},  # 区领导在法定节假日离开本市：报告，不是请假
    Action.KEEP_DUTY_LOG: {D, R},
    Action.VIEW_DUTY_LOG: {D, R, L},
    Action.REGISTER_DOCUMENT: {D, R},
    Action.PROPOSE_DOCUMENT: {D, R},
    Action.ASSIGN_DOCUMENT: {L, R},  # 批办: a leader (the one the proposal names)
    Action.HANDLE_DOCUMENT: ALL - {A},  # 办结: the handler the 批办 names, whatever their role
    Action.VIEW_DOCUMENTS: {D, R, L},
}
# On another unit's matter: the unit's own people never; office roles when their office role may.
OWN_UNIT_ONLY = {Action.FILE_STAGE, Action.CLOSE_INCIDENT, Action.VIEW_OWN_INCIDENTS, Action.DOWNLOAD_REPORT,
                 Action.ACCEPT_TASK, Action.REPORT_TASK, Action.SUBMIT_TASK}
OFFICE_ROLES = {D, R, L, A}


def _member(role: Role, unit: str, active: bool = True) -> Member:
    return Member(id=1, telegram_id=1, name="x", unit_code=unit, roles=frozenset({role}), active=active)


def test_spec_covers_every_action() -> None:
    """A new Action must be added to the spec above (and so be thought about)."""
    assert set(SPEC) == set(Action) == set(PERMISSIONS)
    assert UNIT_SCOPED == OWN_UNIT_ONLY
    assert DISTRICT_WIDE == OFFICE_ROLES


CELLS = [(a, r, scope) for a in Action for r in Role for scope in ("none", "own", "other", "inactive")]


@pytest.mark.parametrize(("action", "role", "scope"), CELLS, ids=lambda v: str(v))
def test_can_matrix(action: Action, role: Role, scope: str) -> None:
    home = "office" if role in OFFICE_ROLES else "jianshelu"
    m = _member(role, home, active=scope != "inactive")
    allowed = role in SPEC[action]
    if scope == "none":
        assert can(m, action) is allowed
    elif scope == "own":
        assert can(m, action, home) is allowed
    elif scope == "other":
        want = allowed and role in OFFICE_ROLES
        assert can(m, action, "mianfanglu") is want
    else:
        assert can(m, action) is False and can(m, action, home) is False
    assert can(None, action) is False


def test_multi_role_member_gets_the_union_but_unit_scope_only_through_an_office_role() -> None:
    both = Member(id=1, telegram_id=1, name="x", unit_code="jianshelu", roles=frozenset({O, E}))
    assert can(both, Action.REPORT_INCIDENT) and can(both, Action.REVIEW_INFO)
    assert not can(both, Action.FILE_STAGE, "mianfanglu")  # E is not an office role
    duty_head = Member(id=1, telegram_id=1, name="x", unit_code="jianshelu", roles=frozenset({U, D}))
    assert can(duty_head, Action.ACK_ALERT, "mianfanglu")  # through DUTY
    assert can(duty_head, Action.DOWNLOAD_REPORT, "mianfanglu")  # through DUTY
    assert not can(Member(id=1, telegram_id=1, name="x", unit_code="jianshelu", roles=frozenset({U})),
                   Action.DOWNLOAD_REPORT, "mianfanglu")
    assert not can(duty_head, Action.CLOSE_INCIDENT, "mianfanglu")  # CLOSE only via UNIT_HEAD: own unit


# ------------------------------------------------------------------------------ end to end

T = Texts("zh")
REFUSALS = {T(k, district="") for k in ("core.not_allowed", "core.not_your_unit", "core.deactivated")}
UNKNOWN = T("core.unknown_user", district="").split("\n")[-1][:10]  # "您还没有登记…"
STALE = T("core.stale_button")
# button -> (action checked, whether "own-unit view" also grants it)
BUTTONS = {"ack": Action.ACK_ALERT, "fwd": Action.FORWARD_UPSTREAM, "ask": Action.ASK_REPORTER,
           "w": Action.FILE_STAGE, "f": Action.FILE_STAGE, "u": Action.FILE_STAGE, "c": Action.CLOSE_INCIDENT,
           "d": Action.VIEW_ALL_INCIDENTS, "p": Action.FILE_STAGE, "cw": Action.FILE_STAGE,
           "v": Action.VIEW_ALL_INCIDENTS, "doc": Action.DOWNLOAD_REPORT, "wrong": Action.MARK_INCIDENT,
           "hide": Action.MARK_INCIDENT, "note": Action.MARK_INCIDENT, "fix": Action.CORRECT_FACTS}
# Buttons of other prefixes, on a thing of the incident (its first report's forward clock, its
# first report as a Word file, its finding): prefix -> (data for the incident's unit, action).
OTHER_BUTTONS = {"fw:ok": Action.FORWARD_UPSTREAM, "dx:first": Action.DOWNLOAD_REPORT, "mk:note": Action.MARK_INCIDENT}


def _expected(member: Member | None, button: str, unit: str) -> bool:
    if button in OTHER_BUTTONS:
        return can(member, OTHER_BUTTONS[button], unit)
    if button in ("d", "v"):
        return can(member, Action.VIEW_ALL_INCIDENTS, unit) or can(member, Action.VIEW_OWN_INCIDENTS, unit)
    return can(member, BUTTONS[button], unit)


async def _outcome(desk: Desk, who: SimUser, data: str) -> tuple[str, str]:
    """Press forged `data` on the person's last message: ("refused"|"stale"|"done", what was said)."""
    await who.send_command("/cancel")
    await desk.settle()
    msgs = desk.emu.messages(who.id)
    before, answers = len(msgs), len(who.callback_answers)
    await who.press_raw(data, msgs[-1].message_id)
    await desk.settle()
    new = desk.emu.messages(who.id)[before:]
    said = [a.text or "" for a in who.callback_answers[answers:]] + [m.text or "" for m in new]
    joined = " | ".join(said)
    if any(r in s for s in said for r in REFUSALS) or any(UNKNOWN in s for s in said):
        assert not new or all(any(r in (m.text or "") for r in REFUSALS) or UNKNOWN in (m.text or "")
                              for m in new), f"{data}: refused but also did something: {joined}"
        return "refused", joined
    if any(STALE in s for s in said):
        return "stale", joined
    return "done", joined


async def _first_answer(desk: Desk, who: SimUser, before: int, timeout: float = 10) -> None:
    """Settle, and wait until at least one answer arrived (a slow command is not 'no answer')."""
    with contextlib.suppress(TimeoutError):  # none at all is for the caller to judge
        await desk.until(lambda: len(desk.emu.messages(who.id)) > before, timeout)
    await desk.settle()


@pytest.fixture
async def world(desk: Desk) -> dict[str, object]:
    people = {
        "officer": await desk.register("officer", "李信息", "jianshelu", "officer"),
        "head": await desk.register("head", "王主任", "jianshelu", "unit_head"),
        "chief": await desk.register("chief", "马主任", "jianshelu", "unit_chief"),
        "other_officer": await desk.register("other", "赵信息", "mianfanglu", "officer"),
        "other_head": await desk.register("other_head", "钱主任", "mianfanglu", "unit_head"),
        "duty": await desk.register("duty", "陈值班", "office", "duty"),
        "director": await desk.register("director", "刘主任", "office", "director"),
        "leader": await desk.register("leader", "孙区长", "office", "leader"),
        "admin": await desk.register("admin", "周管理", "office", "admin"),
        "editor": await desk.register("editor", "吴编辑", "office", "info_editor"),
        "gone": await desk.register("gone", "郑离职", "jianshelu", "officer"),
    }
    own = await file_report(desk, people["officer"], category="其他")  # type: ignore[arg-type]
    other = await file_report(desk, people["other_officer"], category="其他")  # type: ignore[arg-type]
    gone = await members_store.by_telegram_id(desk.db.conn, people["gone"].id)  # type: ignore[attr-defined]
    assert gone is not None
    async with desk.db.tx() as conn:
        await members_store.set_active(conn, gone.id, False, desk.clock.now())
    people["stranger"] = desk.emu.user(99_999, "陌生人")
    await people["stranger"].send_text("你好")  # type: ignore[attr-defined]
    await desk.settle()
    with desk.sql() as conn:
        ids = dict(conn.execute("SELECT number, id FROM incidents").fetchall())
    # A finding on each, for the note buttons (the rules' own kind: nothing a director did).
    from bot.domain.accountability import MarkKind
    from storage import incident_marks

    async with desk.db.tx() as conn:
        for unit, number in (("jianshelu", own), ("mianfanglu", other)):
            await incident_marks.add(conn, ids[number], unit, MarkKind.LATE, desk.clock.now(), stage="first")
    with desk.sql() as conn:
        clocks = dict(conn.execute("SELECT incident_id, min(id) FROM incident_forwards GROUP BY incident_id"))
        marks = dict(conn.execute("SELECT incident_id, id FROM incident_marks"))
    things = {number: {"fw:ok": clocks[ids[number]], "dx:first": ids[number], "mk:note": marks[ids[number]]}
              for number in (own, other)}
    return {"people": people, "incidents": {"jianshelu": ids[own], "mianfanglu": ids[other]},
            "things": {"jianshelu": things[own], "mianfanglu": things[other]}}


async def test_incident_buttons_matrix(desk: Desk, world: dict[str, object]) -> None:
    people: dict[str, SimUser] = world["people"]  # type: ignore[assignment]
    incidents: dict[str, int] = world["incidents"]  # type: ignore[assignment]
    things: dict[str, dict[str, int]] = world["things"]  # type: ignore[assignment]
    cells = wrong = 0
    failures: list[str] = []
    for key, who in people.items():
        member = await members_store.by_telegram_id(desk.db.conn, who.id)
        for unit, inc_id in incidents.items():
            pressed = [(button, f"i:{button}:{inc_id}") for button in BUTTONS]
            pressed += [(button, f"{button}:{ident}") for button, ident in things[unit].items()]
            for button, data in pressed:
                want = _expected(member, button, unit)
                got, said = await _outcome(desk, who, data)
                cells += 1
                if (got == "done") != want:
                    wrong += 1
                    expected = "allowed" if want else "refused"
                    failures.append(f"{key} {data} on {unit}: expected {expected}, got {got}: {said[:120]}")
    assert not failures, f"{wrong}/{cells} cells wrong:\n" + "\n".join(failures)
    assert cells == len(people) * 2 * (len(BUTTONS) + len(OTHER_BUTTONS))
    with desk.sql() as conn:
        # Closing was allowed to some and is a dialogue (nobody typed an outcome): both still open.
        assert conn.execute("SELECT count(*) FROM incidents WHERE status='open'").fetchone()[0] == 2
        acked = dict(conn.execute("SELECT unit_code, acked_by FROM incidents").fetchall())
    head = await members_store.by_telegram_id(desk.db.conn, people["head"].id)
    other_head = await members_store.by_telegram_id(desk.db.conn, people["other_head"].id)
    assert head is not None and other_head is not None
    # The first allowed ack on each incident (people are tried in order) is the duty officer's: the
    # office's; never the unit head's (who comes first), an officer's, the admin's or a deactivated member's.
    duty = await members_store.by_telegram_id(desk.db.conn, people["duty"].id)
    assert duty is not None and head.id != duty.id and other_head.id != duty.id
    assert acked == {"jianshelu": duty.id, "mianfanglu": duty.id}


FORGED = ["i:ack:999999", "i:ack:0", "i:ack:-1", "i:ack:1x", "i:zz:1", "i:ack:" + "9" * 13, "i:ack", "i::1", "r:ok",
          "r:cat:fire", "x" * 64, "", "i:c:1\n", "I:ACK:1", "i:ack:1;DROP TABLE incidents", "<b>", "i:d:2 ",
          "l:ok", "nd:send", "sx:submit", "iw:ok", "if:unk", "iu:same"]


async def test_forged_button_data_is_refused_and_changes_nothing(desk: Desk, world: dict[str, object]) -> None:
    people: dict[str, SimUser] = world["people"]  # type: ignore[assignment]
    for who in ("director", "officer", "stranger"):
        for data in FORGED:
            got, said = await _outcome(desk, people[who], data)
            # Stale (or, for data no real button carries, a refusal): never "done".
            assert got in ("stale", "refused"), f"{who} {data!r}: {got}: {said}"
    with desk.sql() as conn:
        assert conn.execute("SELECT count(*) FROM incidents WHERE acked_by IS NOT NULL OR status != 'open'"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2


async def test_replayed_alert_button_after_deactivation_is_refused(desk: Desk, world: dict[str, object]) -> None:
    """A real button the member legitimately got, pressed after they were deactivated."""
    people: dict[str, SimUser] = world["people"]  # type: ignore[assignment]
    duty = people["duty"]
    alert = next(m for m in desk.emu.messages(duty.id)
                 if "i:ack:" in str((m.reply_markup or {}).get("inline_keyboard", "")))
    member = await members_store.by_telegram_id(desk.db.conn, duty.id)
    assert member is not None
    async with desk.db.tx() as conn:
        await members_store.set_active(conn, member.id, False, desk.clock.now())
    answers = len(duty.callback_answers)
    await duty.press(alert, text="✅ 已收到")
    await desk.settle()
    assert any(T("core.deactivated") in (a.text or "") for a in duty.callback_answers[answers:])
    with desk.sql() as conn:
        assert conn.execute("SELECT count(*) FROM incidents WHERE acked_by IS NOT NULL").fetchone()[0] == 0


async def test_replayed_confirm_after_the_report_is_filed_does_not_file_again(desk: Desk,
                                                                              world: dict[str, object]) -> None:
    people: dict[str, SimUser] = world["people"]  # type: ignore[assignment]
    officer = people["officer"]
    summary = next(m for m in reversed(desk.emu.messages(officer.id)) if (m.text or "").startswith("请核对"))
    answers = len(officer.callback_answers)
    await officer.press(summary, text="✅ 确认上报")
    await desk.settle()
    assert any(STALE in (a.text or "") for a in officer.callback_answers[answers:])
    with desk.sql() as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2


COMMANDS = ["/report", "/record", "/breaches", "/incidents", "/members", "/invite jianshelu officer", "/deactivate 1"]
COMMAND_ACTION = {"/report": Action.REPORT_INCIDENT, "/record": Action.RECORD_INCIDENT, "/breaches": Action.VIEW_STATS,
                  "/members": Action.MANAGE_MEMBERS,
                  "/invite jianshelu officer": Action.CREATE_INVITE, "/deactivate 1": Action.MANAGE_MEMBERS,
                  "/stats": Action.VIEW_STATS}


async def test_commands_matrix(desk: Desk, world: dict[str, object]) -> None:
    people: dict[str, SimUser] = world["people"]  # type: ignore[assignment]
    failures: list[str] = []
    cells = 0
    for key, who in people.items():
        member = await members_store.by_telegram_id(desk.db.conn, who.id)
        for command in COMMANDS:
            if command == "/incidents":
                want = can(member, Action.VIEW_ALL_INCIDENTS) or can(member, Action.VIEW_OWN_INCIDENTS)
            else:
                want = can(member, COMMAND_ACTION[command])
            await who.send_command("/cancel")
            await desk.settle()
            before = len(desk.emu.messages(who.id))
            cmd, _, arg = command.partition(" ")
            await who.send_command(cmd, arg or None)
            await _first_answer(desk, who, before)
            said = [m.text or "" for m in desk.emu.messages(who.id)[before:]]
            refused = any(r in s for s in said for r in REFUSALS) or any(UNKNOWN in s for s in said)
            cells += 1
            if not said:
                failures.append(f"{key} {command}: no answer")
            elif refused == want:
                failures.append(f"{key} {command}: expected {'allowed' if want else 'refused'}: {said[0][:100]}")
    await people["officer"].send_command("/cancel")
    await desk.settle()
    assert not failures, f"{len(failures)}/{cells} cells wrong:\n" + "\n".join(failures)
    with desk.sql() as conn:
        # Only the admin's /deactivate 1 may have changed anyone; nobody else's did.
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 2
