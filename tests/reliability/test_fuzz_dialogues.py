"""Property-based fuzzing of the /leave, /notice, /task and /info dialogues (issue #5 part 3).

The same hostile inputs as tests/reliability/test_fuzz.py (the /report dialogue), imported
from there: before every valid answer one hostile input drawn by hypothesis (random, huge,
control, emoji text, SQL and HTML fragments, broken Markdown, random or forged button data,
a sticker, photo, location, document or contact, a command in the middle). After every input:

* the error handler was not reached (nothing crashed);
* every new bot message and every button answer is a Chinese (zh-CN) text, and no hostile
  markup survived as markup;
* nothing is stored in the feature's table before the final confirm, exactly one row after;
* the stored free text is what the bot accepted (cleaned like handlers.common.read_text) and
  it is shown escaped in the summary the bot sent before the confirm.

A junk input that ends the dialogue (/cancel, another dialogue's command) is followed by
starting the dialogue again (discarding the draft the other dialogue set aside). Leave and info use
a fresh member per example (own leave must not overlap; weekly info counts), notices and tasks the
office director.
One Desk serves all examples of a module. More examples: DUTYDESK_FUZZ_EXAMPLES=200.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.emulator import SimMessage, SimUser
from tests.reliability.test_fuzz import EXAMPLES, Rig, _check_replies, _junk, junk

# test_fuzz.junk plus forged data of these dialogues and their commands in the middle.
dialogue_junk = st.one_of(
    junk,
    st.tuples(st.just("data"), st.sampled_from([
        "l:k:", "l:k:nope", "l:d:yesterday", "l:c:", "l:s:1", "l:s:999999999999", "l:s:-1", "l:ok", "l:x", "lv:nc",
        "nd:ok", "nd:a:groups", "nd:u:nosuch", "nd:r:admin", "nd:g:-1", "nd:rc:custom", "nd:rc:none", "nd:send",
        "sx:src:nope", "sx:u:ok", "sx:u:nosuch", "sx:l:999", "sx:plan", "sx:ok", "sx:submit", "nw:k:", "nw:ok",
        "nw:new"])),
    st.tuples(st.just("command"), st.sampled_from(["/leave", "/notice", "/task", "/info", "/tasks", "/away", "/back"])),
)

# Each dialogue is slower to walk than /report's share of the budget: a third of the examples.
DIALOGUE_EXAMPLES = max(2, EXAMPLES // 3)

Answer = Callable[[SimUser, SimMessage, "FuzzRig"], Awaitable[None]]


def clean(s: str) -> str:
    return "".join(ch for ch in s if ch in "\n\t" or ch.isprintable()).strip()


def data(value: str) -> Answer:
    async def go(o: SimUser, prompt: SimMessage, rig: FuzzRig) -> None:
        await o.press_raw(value, prompt.message_id)
    return go


def text(value: str) -> Answer:
    async def go(o: SimUser, prompt: SimMessage, rig: FuzzRig) -> None:
        await o.send_text(value)
    return go


def first_button() -> Answer:
    async def go(o: SimUser, prompt: SimMessage, rig: FuzzRig) -> None:
        await o.press_raw(prompt.reply_markup["inline_keyboard"][0][0]["callback_data"], prompt.message_id)  # type: ignore[index]
    return go


def datas(*values: str) -> Answer:
    async def go(o: SimUser, prompt: SimMessage, rig: FuzzRig) -> None:
        for v in values:
            await o.press_raw(v, prompt.message_id)
            await rig.desk.settle()
    return go


@dataclass
class Dialogue:
    command: str
    table: str
    # step name → (prefix of the bot's question, the valid answer); the last step is the confirm
    steps: dict[str, tuple[str, Answer]]
    # free-text steps → stored column
    columns: dict[str, str]
    valid: dict[str, str] = field(default_factory=dict)

    def step_of(self, m: SimMessage) -> str | None:
        if not m.from_bot:
            return None
        t = m.text or ""
        for name, (head, _) in self.steps.items():
            if t.startswith(head):
                return name
        return None


HOSTILE_OK = "<b>粗</b> & 'q' <i>"  # valid free text that must come back escaped

LEAVE = Dialogue("/leave", "leave_requests", {
    "kind": ("📝 请假（第1步）", first_button()),
    "from": ("从哪天开始", data("l:d:tomorrow")),
    "end": ("到哪天结束", data("l:d:tomorrow")),
    "destination": ("去向（", text("北京 " + HOSTILE_OK)),
    "city": ("这次请假是否离开", data("l:c:y")),
    "reason": ("请假事由（", text("家中有事 " + HOSTILE_OK)),
    "standin": ("请选择代理人", data("l:s:none")),
    "confirm": ("请核对后提交", data("l:ok")),
}, {"destination": "destination", "reason": "reason"}, {"destination": "北京 " + HOSTILE_OK,
                                                        "reason": "家中有事 " + HOSTILE_OK})

NOTICE = Dialogue("/notice", "notices", {
    "level": ("📢 发通知前，请先选择密级", data("nd:lv:none")),
    "title": ("📢 发通知（第1步）", text("关于 " + HOSTILE_OK + " 的通知")),
    "body": ("请输入通知正文", text("正文 " + HOSTILE_OK)),
    "attachments": ("如有附件", data("nd:ok")),
    "attachments_more": ("已添加附件", data("nd:ok")),
    "audience": ("发给谁", data("nd:a:all")),
    "urgency": ("紧急程度", data("nd:n")),
    "receipt": ("需要签收回执吗", data("nd:rc:def")),
    "confirm": ("请核对后发送", data("nd:send")),
}, {"title": "title", "body": "body"}, {"title": "关于 " + HOSTILE_OK + " 的通知", "body": "正文 " + HOSTILE_OK})

TASK = Dialogue("/task", "supervision_tasks", {
    "title": ("📌 交办督办事项（第1步）", text("关于 " + HOSTILE_OK + " 的批示")),
    "source": ("事项来源", data("sx:src:instruction")),
    "requirement": ("办理要求", text("两周内完成 " + HOSTILE_OK)),
    "units": ("请选择承办单位", datas("sx:u:jianshelu", "sx:u:ok")),
    "leader": ("责任领导", data("sx:l:0")),
    "due": ("办理时限", text("3天")),
    "chase": ("催办计划", data("sx:plan")),
    "confirm": ("请核对后确认交办", data("sx:ok")),
}, {"title": "title", "requirement": "requirement"}, {"title": "关于 " + HOSTILE_OK + " 的批示",
                                                      "requirement": "两周内完成 " + HOSTILE_OK})

INFO = Dialogue("/info", "info_items", {
    "kind": ("📰 报送政务信息（第1步）", first_button()),
    "title": ("信息标题", text("前三季度 " + HOSTILE_OK)),
    "body": ("请输入信息正文", text("同比增长 6.1% " + HOSTILE_OK)),
    "confirm": ("请核对：", data("nw:ok")),
}, {"title": "title", "body": "body"}, {"title": "前三季度 " + HOSTILE_OK, "body": "同比增长 6.1% " + HOSTILE_OK})


DOC = Dialogue("/doc", "documents", {
    "title": ("📄 收文登记（第1步）", text("关于 " + HOSTILE_OK + " 的通知")),
    "issuer": ("来文单位", text("市政府办公厅 " + HOSTILE_OK)),
    "doc_no": ("文号（", data("dr:skip")),
    "level": ("密级？", data("dr:l:none")),
    "urgency": ("紧急程度？", data("dr:u:normal")),
    "received": ("收文时间？", data("dr:now")),
    "summary": ("内容摘要", text("排查隐患 " + HOSTILE_OK)),
    "files": ("可发送文件", data("dr:ok")),
    "confirm": ("请核对后登记", data("dr:ok")),
}, {"title": "title", "issuer": "issuer", "summary": "summary"},
    {"title": "关于 " + HOSTILE_OK + " 的通知", "issuer": "市政府办公厅 " + HOSTILE_OK,
     "summary": "排查隐患 " + HOSTILE_OK})


class FuzzRig(Rig):
    """test_fuzz.Rig (one Desk on its own loop) plus the people these dialogues need."""

    def __init__(self) -> None:
        super().__init__()  # registers 李信息 (jianshelu officer) and 陈值班 (duty)
        self.head = self.run(self.desk.register("head", "王主任", "jianshelu", "unit_head"))
        self.director = self.run(self.desk.register("director", "刘主任", "office", "director"))
        self.run(self.desk.register("leader", "孙区长", "office", "leader"))
        self.fresh = 0

    def new_officer(self) -> SimUser:
        self.fresh += 1
        return self.run(self.desk.register(f"o{self.fresh}", f"李{'甲乙丙丁戊己庚辛壬癸'[self.fresh % 10]}{self.fresh}",
                                           "jianshelu", "officer"))


@pytest.fixture(scope="module")
def frig() -> Iterator[FuzzRig]:
    r = FuzzRig()
    yield r
    r.close()


async def _start_fresh(rig: FuzzRig, d: Dialogue, o: SimUser) -> None:
    """The dialogue's command; a draft it left earlier (set aside when junk opened another
    dialogue: handlers/dialogs.py) is discarded, so the walk starts from the first step."""
    await o.send_command(d.command)
    await rig.desk.settle()
    last = o.last
    if last is not None and any(b.get("callback_data", "").startswith("dg:drop:")
                                for row in (last.reply_markup or {}).get("inline_keyboard", []) for b in row):
        await o.press(last, text="放弃草稿")
        await rig.desk.settle()


async def _walk(rig: FuzzRig, d: Dialogue, o: SimUser, junks: list[tuple[str, str]]) -> None:
    desk = rig.desk
    who = SimpleNamespace(officer=o)  # what test_fuzz._check_replies reads the button answers from
    count = lambda: rig.count(f"SELECT count(*) FROM {d.table}")  # noqa: E731
    await o.send_command("/cancel")
    await desk.settle()
    before = count()
    start = len(desk.emu.messages(o.id))
    await _start_fresh(rig, d, o)
    prompt: SimMessage | None = None
    step = "start"
    accepted: dict[str, str] = {}
    junk_iter = iter(junks)
    last = list(d.steps)[-1]
    for _round in range(40):
        msgs = desk.emu.messages(o.id)
        for m in msgs[start:]:
            s = d.step_of(m)
            if s is not None:
                prompt, step = m, s
        start = len(msgs)
        if step == "start" or prompt is None:
            await o.send_command("/cancel")  # the junk ended (or switched) the dialogue: start again
            await desk.settle()
            await _start_fresh(rig, d, o)
            accepted.clear()
            continue
        kind, value = next(junk_iter, ("none", ""))
        if kind != "none":
            errors, answers = len(rig.errors.records), len(o.callback_answers)
            await _junk(o, prompt, kind, value)
            await desk.settle()
            new = desk.emu.messages(o.id)[start:]
            what = f"{d.command}: {kind} {value[:40]!r} at {step}"
            assert len(rig.errors.records) == errors, \
                f"{what} reached the error handler: {rig.errors.records[-1].getMessage()}"
            _check_replies(who, new, answers, what)  # type: ignore[arg-type]
            assert count() == before, f"{what} stored a record before the confirm"
            moved = [d.step_of(m) for m in new if d.step_of(m)]
            if kind == "text" and step in d.columns and moved and moved[0] != step:
                accepted[step] = value  # taken as the answer (any short text is valid here)
            if kind == "command" and moved and moved[0] == list(d.steps)[0]:
                accepted.clear()  # the command restarted this dialogue
            if moved:
                continue  # the dialogue moved (or restarted): answer what it asks now
        errors, answers = len(rig.errors.records), len(o.callback_answers)
        await d.steps[step][1](o, prompt, rig)
        await desk.settle()
        new = desk.emu.messages(o.id)[start:]
        assert len(rig.errors.records) == errors, rig.errors.records[-1].getMessage()
        _check_replies(who, new, answers, f"{d.command}: the valid answer at {step}")  # type: ignore[arg-type]
        if step == last and count() == before + 1:
            break
        assert count() == before, f"{d.command}: the answer at {step} stored a record"
        if step in d.valid:
            accepted[step] = d.valid[step]
        if not any(d.step_of(m) for m in new):
            step = "start"  # the valid answer was not taken: the junk had ended the dialogue
    else:
        raise AssertionError(f"{d.command}: the dialogue never completed; last step {step}; the bot said: "
                             + " | ".join((m.text or "")[:60] for m in desk.emu.messages(o.id)[-8:]))
    assert count() == before + 1
    cols = [d.columns[s] for s in d.columns]
    with desk.sql() as conn:
        row = conn.execute(f"SELECT {', '.join(cols)} FROM {d.table} ORDER BY id DESC LIMIT 1").fetchone()
    stored = dict(zip(d.columns, row, strict=True))
    summaries = [m for m in desk.emu.messages(o.id) if d.step_of(m) == last]
    for s, v in accepted.items():
        assert stored[s] == clean(v), f"{d.command}: {s} stored {stored[s]!r}, accepted {v!r}"
    for s, v in stored.items():
        assert html.escape(v, quote=False)[:120] in (summaries[-1].source_text or ""), (
            f"{d.command}: {s} {v[:60]!r} not shown escaped in the summary")


# No shrinking: one example walks a whole dialogue; the failing input is printed as drawn.
SETTINGS = settings(max_examples=DIALOGUE_EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(junks=st.lists(dialogue_junk, min_size=8, max_size=8))
def test_leave_dialogue_survives_hostile_input(frig: FuzzRig, junks: list[tuple[str, str]]) -> None:
    frig.run(_walk(frig, LEAVE, frig.new_officer(), junks))


@SETTINGS
@given(junks=st.lists(dialogue_junk, min_size=8, max_size=8))
def test_notice_dialogue_survives_hostile_input(frig: FuzzRig, junks: list[tuple[str, str]]) -> None:
    frig.run(_walk(frig, NOTICE, frig.director, junks))


@SETTINGS
@given(junks=st.lists(dialogue_junk, min_size=8, max_size=8))
def test_task_dialogue_survives_hostile_input(frig: FuzzRig, junks: list[tuple[str, str]]) -> None:
    frig.run(_walk(frig, TASK, frig.director, junks))


@SETTINGS
@given(junks=st.lists(dialogue_junk, min_size=4, max_size=4))
def test_info_dialogue_survives_hostile_input(frig: FuzzRig, junks: list[tuple[str, str]]) -> None:
    frig.run(_walk(frig, INFO, frig.new_officer(), junks))


@SETTINGS
@given(junks=st.lists(dialogue_junk, min_size=8, max_size=8))
def test_document_registration_survives_hostile_input(frig: FuzzRig, junks: list[tuple[str, str]]) -> None:
    frig.run(_walk(frig, DOC, frig.director, junks))
