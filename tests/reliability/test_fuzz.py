"""Property-based fuzzing of the /report dialogue through the real bot and the emulator.

Each example walks one report from /report to 确认上报; before every valid answer it
sends one hostile input drawn by hypothesis (random/huge/control/emoji text, numbers and dates
that overflow or are not ASCII (tests/hostile.py), SQL and
HTML fragments, broken Markdown, random or forged button data, a sticker, a photo, a
location, a document, a command in the middle). After every input:

* the error handler was not reached (nothing crashed);
* every new bot message and every button answer is a Chinese (zh-CN) text;
* the dialogue is still usable (the next valid answer is taken);
* no half record: incidents appear only on 确认上报, one per report, with the
  facts the bot accepted; at most one draft row per person;
* user text reached formatted messages escaped (the emulator rejects broken HTML,
  which would have shown as an error; we also check the summary literally).

One Desk (emulator + bot) serves all examples of a test, on an event loop of its own,
so the default run stays fast. More examples: DUTYDESK_FUZZ_EXAMPLES=200.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.chaos import step_of
from bot.emulator import SimMessage, SimUser
from bot.harness import Desk
from tests.hostile import typed

EXAMPLES = int(os.environ.get("DUTYDESK_FUZZ_EXAMPLES", "12"))
CJK = re.compile(r"[\u4e00-\u9fff]")

FRAGMENTS = [
    "", " ", "\n\n", "'; DROP TABLE incidents; --", "\" OR 1=1 --", "<script>alert(1)</script>", "<b>粗", "</i>",
    "&amp;", "&", "<", "*bold", "_italic", "`code", "[link](http://x)", "~~", "||spoiler||", "\\", "%s%d{0}",
    "{number}", "\u0000", "\u200b", "\u202e反向", "\x07\x1b[31m", "🔥🚒👨‍👩‍👧", "𠀀𪚥", "null", "None", "-1",
    "999999999999",
    "/report", "/cancel", "/help", "/start x", "r:ok", "i:ack:1",
]

hostile_text = st.one_of(
    st.sampled_from(FRAGMENTS),
    typed,  # numbers and dates that overflow or are not ASCII (tests/hostile.py)
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join),
    st.integers(min_value=4090, max_value=4200).map(lambda n: ("火" * n)[:4096]),
    st.integers(min_value=1001, max_value=3000).map(lambda n: "长" * n),
)
hostile_data = st.one_of(
    st.text(max_size=64),
    st.sampled_from(["r:", "r:cat:", "r:cat:nope", "r:t:", "r:t:yesterday", "r:cas:", "r:cnt:x", "r:e:zzz", "r:ok",
                     "r:x", "r:edit", "i:ack:0", "i:ack:999999999999", "i:c:1", "i:zz:1", "l:ok", "nd:send",
                     "sx:submit", "i:ack:-1", "r:cat:fire" + "x" * 60]),
    st.from_regex(r"\A[a-z]{1,3}:[a-z]{0,4}:?[0-9]{0,13}\Z"),
)
# What a person (or a broken client) may send at any step.
junk = st.one_of(
    st.tuples(st.just("text"), hostile_text),
    st.tuples(st.just("data"), hostile_data),
    st.tuples(st.sampled_from(["sticker", "photo", "location", "document", "contact"]), st.just("")),
    st.tuples(st.just("command"), st.sampled_from(["/help", "/incidents", "/start", "/whoami", "/nosuch", "/report",
                                                   "/cancel"])),
)


class ErrorLog(logging.Handler):
    """Counts what the bot's error handler (handlers.fallback.on_error) logs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Rig:
    """A Desk on its own loop, shared by all examples of one test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.desk = Desk()
        self.errors = ErrorLog()
        logging.getLogger("handlers").addHandler(self.errors)
        logging.getLogger("telegram.ext").addHandler(self.errors)
        self.run(self.desk.start())
        self.officer: SimUser = self.run(self.desk.register("officer", "李信息", "jianshelu", "officer"))
        self.run(self.desk.register("duty", "陈值班", "office", "duty"))
        self.filed = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        logging.getLogger("handlers").removeHandler(self.errors)
        logging.getLogger("telegram.ext").removeHandler(self.errors)
        self.run(self.desk.stop())
        self.loop.close()

    def count(self, sql: str, *args: object) -> int:
        with self.desk.sql() as conn:
            return int(conn.execute(sql, args).fetchone()[0])


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


async def _junk(o: SimUser, prompt: SimMessage | None, kind: str, value: str) -> None:
    if kind == "text":
        await o.send_text(value)
    elif kind == "command":
        await o.send_command(value)
    elif kind == "data":
        if prompt is not None:
            await o.press_raw(value, prompt.message_id)
    elif kind == "sticker":
        await o.send_sticker()
    elif kind == "photo":
        await o.send_photo()
    elif kind == "location":
        await o.send_location(34.7, 113.6)
    elif kind == "document":
        await o.send_document("a.pdf")
    elif kind == "contact":
        await o.send_contact()


VALID = {"place": "建设路 <i>12</i> & 桐柏路", "description": "商铺起火 <b>x</b> & 'y'", "casualties": "0/2/0"}


async def _answer(o: SimUser, step: str, prompt: SimMessage) -> None:
    if step == "category":
        await o.press_raw("r:cat:fire", prompt.message_id)
    elif step == "occurred":
        await o.press_raw("r:t:now", prompt.message_id)
    elif step == "learnt":
        await o.press_raw("r:t:same", prompt.message_id)
    elif step in ("injured", "missing"):
        await o.send_text("1")
    elif step == "confirm":
        await o.press_raw("r:ok", prompt.message_id)
    else:
        await o.send_text(VALID[step])


def _check_replies(rig: Rig, new: list[SimMessage], answers_before: int, what: str) -> None:
    for m in new:
        text = m.text or ""
        assert CJK.search(text), f"not a zh-CN answer to {what}: {text[:200]!r}"
        # Hostile markup never survives as markup: at most our own tags are in the HTML.
        assert "<script" not in (m.source_text or ""), f"unescaped user text after {what}"
    for a in rig.officer.callback_answers[answers_before:]:
        if a.text:
            assert CJK.search(a.text), f"not a zh-CN button answer to {what}: {a.text!r}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(junks=st.lists(junk, min_size=6, max_size=6))
def test_report_dialogue_survives_hostile_input(rig: Rig, junks: list[tuple[str, str]]) -> None:
    rig.run(_walk(rig, junks))


async def _walk(rig: Rig, junks: list[tuple[str, str]]) -> None:
    desk, o = rig.desk, rig.officer
    await o.send_command("/cancel")
    await desk.settle()
    incidents_before = rig.count("SELECT count(*) FROM incidents")
    start = len(desk.emu.messages(o.id))
    await o.send_command("/report")
    await desk.settle()
    prompt: SimMessage | None = None
    step = "start"
    accepted: dict[str, str] = {}
    junk_iter = iter(junks)
    for _round in range(30):
        msgs = desk.emu.messages(o.id)
        for m in msgs[start:]:
            s = step_of(m)
            if s is not None:
                prompt, step = m, s
        start = len(msgs)
        if step == "done":
            break
        if step in ("start", "lost", "retry") or prompt is None:
            await o.send_command("/report")  # the junk ended the dialogue (/cancel, /start ...): start again
            accepted.clear()
            await desk.settle()
            continue
        kind, value = next(junk_iter, ("none", ""))
        if kind != "none":
            errors, answers = len(rig.errors.records), len(o.callback_answers)
            await _junk(o, prompt, kind, value)
            await desk.settle()
            new = desk.emu.messages(o.id)[start:]
            assert len(rig.errors.records) == errors, (
                f"{kind} {value[:80]!r} at {step} reached the error handler: {rig.errors.records[-1].getMessage()}")
            _check_replies(rig, new, answers, f"{kind} {value[:40]!r} at {step}")
            assert rig.count("SELECT count(*) FROM incidents") == incidents_before, f"{kind} at {step} stored a record"
            assert rig.count("SELECT count(*) FROM drafts WHERE telegram_id=? AND kind='report'", o.id) <= 1
            if kind == "text" and step in ("place", "description") and any(step_of(m) for m in new):
                accepted[step] = value  # taken as the answer (any text is a valid place/description)
            if any(step_of(m) for m in new):
                continue  # the dialogue moved (or restarted): answer what it asks now
        errors = len(rig.errors.records)
        if step in VALID:
            accepted[step] = VALID[step]
        await _answer(o, step, prompt)
        await desk.settle()
        assert len(rig.errors.records) == errors, rig.errors.records[-1].getMessage()
    else:
        raise AssertionError(f"the dialogue never completed; last step {step}")
    # Exactly one record, holding what the bot accepted, escaped wherever it was shown.
    assert rig.count("SELECT count(*) FROM incidents") == incidents_before + 1
    with desk.sql() as conn:
        place, desc = conn.execute("SELECT place, description FROM incidents ORDER BY id DESC LIMIT 1").fetchone()
    clean = lambda s: "".join(ch for ch in s if ch in "\n\t" or ch.isprintable()).strip()  # noqa: E731
    if "description" in accepted:
        assert desc == clean(accepted["description"])
    if "place" in accepted:
        assert place == clean(accepted["place"])
    summaries = [m for m in desk.emu.messages(o.id) if step_of(m) == "confirm"]
    assert html.escape(desc, quote=False)[:200] in (summaries[-1].source_text or "")
    # What is left of the draft is only the "filed as #id" marker (see handlers/report.confirm).
    assert rig.count("SELECT count(*) FROM drafts WHERE telegram_id=? AND kind='report' "
                     "AND payload NOT LIKE '{\"filed_incident\": %'", o.id) == 0


@settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(item=junk)
def test_outside_any_dialogue_every_input_gets_a_chinese_answer(rig: Rig, item: tuple[str, str]) -> None:
    async def go() -> None:
        desk, o = rig.desk, rig.officer
        await o.send_command("/cancel")
        await desk.settle()
        start, answers, errors = len(desk.emu.messages(o.id)), len(o.callback_answers), len(rig.errors.records)
        old = desk.emu.messages(o.id)[-1]
        kind, value = item
        await _junk(o, old, kind, value)
        await desk.settle()
        assert len(rig.errors.records) == errors, rig.errors.records[-1].getMessage()
        new = desk.emu.messages(o.id)[start:]
        _check_replies(rig, new, answers, f"{kind} {value[:40]!r}")
        if kind != "data" and (kind != "text" or value.strip()):
            assert new or o.callback_answers[answers:], f"{kind} {value[:40]!r} got no answer at all"
        if kind == "data":
            assert o.callback_answers[answers:], f"button {value!r} was never answered"
        await o.send_command("/cancel")
        await desk.settle()

    rig.run(go())
