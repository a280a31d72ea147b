"""A group is not a private chat: what may happen in a group (or channel), for every button and command.

Every callback prefix the bot declares or handles is enumerated from the code (the prefix constants and
the patterns of every registered CallbackQueryHandler, dialogues included) and from every button the
bot actually posted while a day's work was done; each is pressed in a group by members who may use it
in private. Only the group features' own buttons (`handlers.groups.GROUP_BUTTONS`) do anything there;
every other press gets the refusal toast, posts nothing anywhere and changes nothing in the database.
Likewise every command: in a group only the group commands run; the rest get one short line.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import re._parser as sre  # the stdlib's own regex parser: expands every registered pattern
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

import bot.services
import handlers
from bot import callbacks as cb
from bot.domain.members import Role
from bot.domain.notices import Audience, AudienceSpec
from bot.emulator import SimGroup
from bot.harness import Desk
from bot.i18n import Texts
from bot.services import info as info_svc
from bot.services import notices as notice_svc
from bot.services import registration
from handlers.groups import GROUP_BUTTONS, GROUP_COMMANDS
from storage import members
from tests.conftest import Cast
from tests.e2e.flows import file_report

T = Texts("zh")
GROUP_ID = -100_321

# ------------------------------------------------------------------ what the code declares


def _all_handlers(desk: Desk) -> Iterator[BaseHandler[Any, Any, Any]]:
    """Every handler of the running Application, the dialogue's entry points, states and fallbacks too."""
    def walk(h: BaseHandler[Any, Any, Any]) -> Iterator[BaseHandler[Any, Any, Any]]:
        yield h
        if isinstance(h, ConversationHandler):
            inner = [*h.entry_points, *h.fallbacks, *(x for hs in h.states.values() for x in hs)]
            for x in inner:
                yield from walk(x)

    assert desk.runtime is not None
    for group in desk.runtime.app.handlers.values():
        for h in group:
            yield from walk(h)


def _examples(pattern: str) -> set[str]:
    """Strings the pattern matches, one per alternative: every branch expanded, a class by its first
    member, a digit as 1 (each world object below is number 1 of its kind), a repeat at least once."""
    def expand(items: Any) -> list[str]:
        out = [""]
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                parts = [chr(arg)]
            elif name == "IN":
                first_op, first = arg[0]
                if str(first_op) == "CATEGORY":
                    parts = ["1"]
                elif str(first_op) == "RANGE":
                    parts = ["1" if first == (48, 57) else chr(first[0])]
                else:
                    parts = [chr(first)]
            elif name == "SUBPATTERN":
                parts = expand(arg[3])
            elif name == "BRANCH":
                parts = [s for branch in arg[1] for s in expand(branch)]
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, _high, sub = arg
                parts = [s * max(low, 1) for s in expand(sub)]
            elif name == "AT":
                parts = [""]
            elif name == "ANY":
                parts = ["x"]
            else:
                raise AssertionError(f"pattern {pattern!r}: {name} not understood by this test")
            out = [a + b for a in out for b in parts]
        return out

    found = set(expand(sre.parse(pattern)))
    for s in found:
        assert re.match(pattern, s), (pattern, s)
    return found


def registered_patterns(desk: Desk) -> list[str]:
    pats = []
    for h in _all_handlers(desk):
        if isinstance(h, CallbackQueryHandler) and h.pattern is not None:
            assert isinstance(h.pattern, re.Pattern), f"{h.callback.__qualname__}: pattern {h.pattern!r}"
            pats.append(h.pattern.pattern)
    return pats


def registered_commands(desk: Desk) -> set[str]:
    return {c for h in _all_handlers(desk) if isinstance(h, CommandHandler) for c in h.commands}


def declared_prefixes() -> set[str]:
    """Every callback-data prefix constant: bot/callbacks.py and each feature's `*PREFIX` names."""
    found = {cb.INCIDENT, cb.REPORT}
    for package in (bot.services, handlers):
        for mod in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{mod.name}")
            found |= {v for k, v in vars(module).items() if k.endswith("PREFIX") and isinstance(v, str)}
    return found


def prefix(data: str) -> str:
    return data.split(":", 1)[0]


# ------------------------------------------------------------------ a day's work, then the group


def _db_state(desk: Desk) -> dict[str, list[str]]:
    """Every row of every table but the bookkeeping of which updates were handled."""
    skip = {"updates_done", "updates_handled", "sqlite_sequence"}
    skip |= {"desk_schema"}
    with desk.sql() as conn:
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in desk.table_names() if t not in skip}


def _changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [t for t in after if before.get(t) != after[t]]


def _bot_calls(desk: Desk) -> Counter[str]:
    """What the bot asked of Telegram, but for polling and answering button presses."""
    calls = Counter(desk.emu.stats.requests)
    for quiet in ("getUpdates", "answerCallbackQuery", "getMe", "getChatMember"):
        calls.pop(quiet, None)
    return calls


def _chats(desk: Desk, group: SimGroup) -> list[int]:
    return [group.id, *(p.id for p in desk.people.values())]


def _posted_buttons(desk: Desk, group: SimGroup) -> set[str]:
    """The callback data of every button the bot has posted, in any chat."""
    return {data for chat in _chats(desk, group) for m in desk.emu.messages(chat)
            for _text, data in m.buttons if data is not None}


@pytest.fixture
async def day(desk: Desk, cast: Cast) -> SimGroup:
    """Every feature has posted its buttons (an alert, a question to the reporter, a leave request,
    notices and a meeting, a supervision item, an information item); the unit's work group is bound
    and holds a notice with its 收到 button."""
    from bot.domain.info import InfoDraft
    from bot.domain.notices import NoticeKind
    from tests.e2e.test_leave import ask_leave
    from tests.e2e.test_supervision import assign

    assert desk.runtime is not None
    # The status lines are edited at once, not 2 s apart: what is measured here is what comes after them.
    assert desk.runtime.deps.progress is not None
    desk.runtime.deps.progress.interval = 0.0
    grp = desk.emu.group(GROUP_ID, "建设路街道工作群",
                         [cast.officer, cast.head, cast.duty, cast.director, cast.leader, cast.admin])
    await cast.head.send_command("/bindgroup", chat=grp)
    await cast.head.wait_for("已绑定", chat=grp)
    await file_report(desk, cast.officer)
    d = cast.director
    alert = next(m for m in desk.emu.messages(d.id) if cb.incident(cb.ASK, 1) in str(m.reply_markup or ""))
    await d.press(alert, data=cb.incident(cb.ASK, 1))
    await d.wait_for("补充")
    await d.send_text("现场有无被困人员？")
    await cast.officer.wait_for("现场有无被困人员")
    await ask_leave(cast.officer)
    await assign(desk, cast)
    director = await members.by_telegram_id(desk.db.conn, d.id)
    officer = await members.by_telegram_id(desk.db.conn, cast.officer.id)
    assert director is not None and officer is not None
    s = desk.services
    await notice_svc.send_notice(s, director, notice_svc.NoticeDraft(
        title="防汛值守安排", audience=AudienceSpec(Audience.GROUPS, group_ids=(GROUP_ID,))))
    await notice_svc.send_notice(s, director, notice_svc.NoticeDraft(
        title="全区值班工作会", kind=NoticeKind.MEETING, meeting_at=s.now() + timedelta(days=2), place="三楼会议室",
        audience=AudienceSpec(Audience.ALL)))
    await info_svc.submit(s, officer, InfoDraft(kind="dynamic", title="一条信息", body="正文"), at=s.now())
    await _quiet(desk)
    return grp


async def _quiet(desk: Desk) -> None:
    """Settled, and the notice senders' live status lines (bot/notice_progress.py) have had
    their last edit: none is scheduled or under way."""
    assert desk.runtime is not None and desk.runtime.deps.progress is not None
    progress = desk.runtime.deps.progress

    def no_edit_due() -> bool:
        return not progress._scheduled and not progress._tasks

    while True:
        await desk.settle()
        await desk.until(no_edit_due)
        await desk.settle()
        if no_edit_due():
            return


async def test_every_button_pressed_in_a_group_is_refused_and_changes_nothing(desk: Desk, cast: Cast,
                                                                                day: SimGroup) -> None:
    grp = day
    examples = {e for p in registered_patterns(desk) for e in _examples(p)}
    posted = _posted_buttons(desk, grp)
    handled = {prefix(e) for e in examples}
    # Nothing declared escapes the test: every prefix constant and every button posted today has a
    # registered handler, and every handler's pattern is pressed below.
    assert declared_prefixes() <= handled, declared_prefixes() - handled
    assert {prefix(d) for d in posted} <= handled, posted
    assert {"i", "r", "lv", "lb", "nt", "nd", "sv", "sx", "n", "nw", "iw", "l"} <= handled  # sanity
    presses = sorted((examples | posted) - {""})
    refused = [d for d in presses if prefix(d) not in GROUP_BUTTONS]
    assert len(refused) > 40 and any(prefix(d) in GROUP_BUTTONS for d in posted)
    post = next(m for m in grp.messages if any(prefix(d or "") in GROUP_BUTTONS for _t, d in m.buttons))
    toast = T("core.group_button")
    failures: list[str] = []
    for who in (cast.director, cast.duty, cast.head, cast.officer):  # each may press some of these in private
        # One person's presses are handled strictly in order: each answer is its press's.
        db, calls, answers = _db_state(desk), _bot_calls(desk), len(who.callback_answers)
        for data in refused:
            await who.press_raw(data, post.message_id, chat=grp)
        await desk.settle()
        said = [a.text for a in who.callback_answers[answers:]]
        failures += [f"{who.first_name} {data!r}: {text!r}" for data, text in zip(refused, said, strict=False)
                     if text != toast]
        if len(said) != len(refused):
            failures.append(f"{who.first_name}: {len(said)} answers to {len(refused)} presses")
        if sent := _bot_calls(desk) - calls:
            failures.append(f"{who.first_name}'s presses made the bot call {dict(sent)}")
        if changed := _changed(db, _db_state(desk)):
            failures.append(f"{who.first_name}'s presses changed {changed}")
    assert not failures, f"{len(failures)} presses did more than refuse:\n" + "\n".join(failures)


async def test_the_group_notice_button_still_works_in_the_group(desk: Desk, cast: Cast, day: SimGroup) -> None:
    post = next(m for m in day.messages if any(prefix(d or "") in GROUP_BUTTONS for _t, d in m.buttons))
    stranger = desk.emu.user(777_001, "路人甲")
    day.add(stranger)
    for who in (cast.officer, stranger):
        await who.press(post, text="收到")
        answer = await who.wait_for_answer()
        assert answer.text != T("core.group_button")
    rows = desk.sql().execute("SELECT count(*) FROM notice_group_receipts").fetchone()
    assert rows[0] == 2


async def test_group_chatter_never_answers_a_private_dialogue(desk: Desk, cast: Cast) -> None:
    """Dialogues are kept per chat and person: an officer half-way through /report in private whose
    answer-like text goes to the group has it read by nobody; a press in the group opens nothing there."""
    grp = desk.emu.group(GROUP_ID, "建设路街道工作群", [cast.officer, cast.director])
    o = cast.officer
    await file_report(desk, o)  # incident 1, which the director may ask about
    await o.send_command("/report")
    await o.press(await o.wait_for("类别"), text="火灾")
    await o.press(await o.wait_for("发生时间"), text="刚刚")
    await o.wait_for("事发地点")
    await desk.settle()
    db, calls = _db_state(desk), _bot_calls(desk)
    await o.send_text("建设路与桐柏路交叉口", chat=grp)
    await o.send_command("/report", chat=grp)  # refused: one short line
    await o.send_text("无伤亡", chat=grp)
    await cast.director.press_raw(cb.incident(cb.ASK, 1), 1, chat=grp)  # any message id: forged anyway
    await cast.director.send_text("有人员被困吗", chat=grp)
    await desk.settle()
    assert [m.text for m in grp.messages] == [T("core.private_only")]
    assert _changed(db, _db_state(desk)) == []
    assert _bot_calls(desk) - calls == Counter({"sendMessage": 1})
    await o.send_text("建设路与桐柏路交叉口")  # the private dialogue is where it was
    await o.wait_for("伤亡情况")


# ------------------------------------------------------------------ commands in a group

# Arguments that make a command do something when it runs (so a leak would show); a command
# missing here is still sent, bare.
ARGS = {"deactivate": "{head}", "reactivate": "{head}", "incident": "{number}", "invite": "jianshelu officer",
        "task": "1", "away": "", "duty": "", "back": "", "leave_cancel": ""}


def _private_only_commands(desk: Desk) -> list[str]:
    every = {name for name, _roles in registration.COMMANDS} | registered_commands(desk)
    assert every >= GROUP_COMMANDS
    return sorted(every - GROUP_COMMANDS)


async def test_private_only_commands_get_one_short_line_in_a_group(desk: Desk, cast: Cast) -> None:
    """Every command but the group features' own, sent in a group by members whose roles may use it:
    one short line in the group, nothing else said anywhere, nothing changed. (A group of its own for
    each command: the bot paces a group to 20 messages a minute.)"""
    number = await file_report(desk, cast.officer)
    head = await members.by_telegram_id(desk.db.conn, cast.head.id)
    assert head is not None
    await desk.settle()
    roles = dict(registration.COMMANDS)
    people = [(p, await members.by_telegram_id(desk.db.conn, p.id)) for p in desk.people.values()]
    failures: list[str] = []
    commands = _private_only_commands(desk)
    assert {"deactivate", "reactivate", "infostats", "back", "help", "cancel", "members"} <= set(commands)
    for i, command in enumerate(commands):
        grp = desk.emu.group(GROUP_ID - 1 - i, f"工作群{i}", list(desk.people.values()))
        allowed = roles.get(command, frozenset(Role))
        senders = [p for p, m in people if m is not None and m.roles & allowed] or [cast.officer]
        for who in senders[:2]:
            db, calls, before = _db_state(desk), _bot_calls(desk), len(grp.messages)
            arg = ARGS.get(command, "").format(head=head.id, number=number)
            await who.send_command(f"/{command}", arg or None, chat=grp)
            await desk.settle()
            said = [m.text for m in grp.messages[before:]]
            sent = _bot_calls(desk) - calls
            if said != [T("core.private_only")] or sent != Counter({"sendMessage": 1}) or _changed(db, _db_state(desk)):
                failures.append(f"{who.first_name} /{command} {arg}: said {said}, sent {dict(sent)}")
    assert not failures, f"{len(failures)} commands did more than one short line:\n" + "\n".join(failures)


async def test_outsiders_commands_get_at_most_one_short_line_a_day(desk: Desk, cast: Cast) -> None:
    """Someone not registered (or deactivated) sending command after command in a group: one short
    line a day pointing to the private chat, never the registration text, whatever the command."""
    grp = desk.emu.group(GROUP_ID, "建设路街道工作群", [cast.officer, cast.head])
    stranger = desk.emu.user(777_002, "路人乙")
    gone = await desk.register("gone", "郑离职", "jianshelu", "unit_head")
    member = await members.by_telegram_id(desk.db.conn, gone.id)
    assert member is not None
    async with desk.db.tx() as conn:
        await members.set_active(conn, member.id, False, desk.clock.now())
    commands = sorted(_private_only_commands(desk) + sorted(GROUP_COMMANDS))
    for who, line in ((stranger, T("core.group_unknown")), (gone, T("core.deactivated"))):
        for _day in range(2):
            before = len(grp.messages)
            for command in commands:
                await who.send_command(f"/{command}", chat=grp)
                await who.send_command(f"/{command}", chat=grp, mention=True)
            await desk.settle()
            assert [m.text for m in grp.messages[before:]] == [line], (who, _day)
            await desk.advance(hours=24)
    assert T("core.unknown_user", district="") not in " ".join(m.text or "" for m in grp.messages)


async def test_commands_for_another_bot_in_the_group_are_left_alone(desk: Desk, cast: Cast) -> None:
    grp = desk.emu.group(GROUP_ID, "建设路街道工作群", [cast.officer])
    stranger = desk.emu.user(777_003, "路人丙")
    for who in (cast.officer, stranger):
        await who.send_text("/report@other_bot", chat=grp)
        await who.send_text("/help@other_bot 看看", chat=grp)
    await desk.settle()
    assert grp.messages == []
