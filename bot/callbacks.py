"""Callback-data prefixes, in one place. Data is never trusted: every handler re-checks
the member's role and unit against the database before acting on it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Report dialogue
REPORT = "r"
# 继续 / 放弃草稿 on the question about a dialogue's unsaved answers: dg:<go|drop>:<token>
DRAFT = "dg"
# Incident actions: i:<action>:<id>
INCIDENT = "i"
ACK, FORWARD, ASK, ANSWER = "ack", "fwd", "ask", "ans"
WRITTEN, FULL, FOLLOWUP, CLOSE, DETAIL = "w", "f", "u", "c", "d"
# The unit's first report on an event the office put on record; its corrected report after 误报.
FIRST, CORRECTED = "p", "cw"
# The office's side (issue #24): what changed (versions), the Word file menu, a director's findings.
VERSIONS, DOCS, WRONG, CONCEAL, NOTE, FIX = "v", "doc", "wrong", "hide", "note", "fix"
INCIDENT_ACTIONS = (ACK, FORWARD, ASK, ANSWER, WRITTEN, FULL, FOLLOWUP, CLOSE, DETAIL, FIRST, CORRECTED,
                    VERSIONS, DOCS, WRONG, CONCEAL, NOTE, FIX)

# A forward clock of a later stage: fw:ok:<clock id> (已上报市委 under a written/full/follow-up report).
FORWARD_CLOCK, FORWARD_OK = "fw", "ok"
# The Word file of one stage, or the whole incident file: dx:<stage>:<incident id>.
DOCX = "dx"
DOCX_KINDS = ("first", "written", "full", "corrected", "all")
# A note on one finding: mk:note:<mark id>.
MARK, MARK_NOTE = "mk", "note"

# The other features' prefixes (their buttons are built next to their texts or dialogues).
RECORD = "rc"  # /record: rc:u:<unit>, rc:s:<source>
WRITTEN_REVIEW, WRITTEN_CATEGORY = "iw", "iwc"  # the written report's review of the facts
FULL_STEP, FOLLOWUP_STEP = "if", "iu"  # inside the full report and the follow-up dialogues
NOTICE, NOTICE_GROUP, NOTICE_DRAFT = "nt", "ng", "nd"  # a notice's buttons, in a group, the dialogue
LEAVE_DRAFT, LEAVE_DECISION, LEAVE_BACK = "l", "lv", "lb"  # /leave, an approver's decision, 销假
HOLIDAY = "hr"  # the holiday trip report dialogue
INFO_MARK, INFO_DRAFT = "n", "nw"  # the review of an information item, the /info dialogue
SUPERVISION, SUPERVISION_DRAFT = "sv", "sx"  # an assignment's buttons, the /task dialogue
DOCUMENT, DOCUMENT_DRAFT, DOCUMENT_WORK = "dc", "dr", "dw"  # a document's buttons, registration, 拟办/办结
DUTY_LOG, HANDOVER = "dl", "ho"  # the duty log dialogue, a handover's buttons

_ID = re.compile(r"^([a-z]+):([a-z]+):(\d{1,12})$")
_NUM = r"\d{1,12}"
_WORD = r"[a-z_]{1,20}"


@dataclass(frozen=True)
class Prefix:
    """One prefix and every shape of data after `<code>:` its handlers accept (`grammar`, a regex)."""

    code: str
    grammar: str
    what: str

    def parse(self, data: str | None) -> tuple[str, ...] | None:
        """`nd:lv:secret` → ("lv", "secret"); another prefix or a shape not declared → None."""
        if not data or not re.fullmatch(rf"{re.escape(self.code)}:(?:{self.grammar})", data):
            return None
        return tuple(data.split(":")[1:])


def _ids(*actions: str) -> str:
    return rf"({'|'.join(actions)}):{_NUM}"


PREFIXES: dict[str, Prefix] = {p.code: p for p in (
    Prefix(REPORT, rf"ok|edit|x|cat:{_WORD}|t:(now|m30|h1|same)|cas:(none|unk)|cnt:unk|e:{_WORD}",
           "the /report dialogue"),
    Prefix(RECORD, r"u:[a-z0-9_]{1,32}|s:[a-z]{1,16}", "the /record dialogue"),
    Prefix(DRAFT, r"(go|drop):[0-9a-f]{8}", "continue or drop a dialogue's unsaved answers"),
    Prefix(INCIDENT, _ids(*INCIDENT_ACTIONS), "an incident's buttons"),
    Prefix(WRITTEN_REVIEW, r"ok|time|learnt|place|casualties|description|category", "the review of the facts"),
    Prefix(WRITTEN_CATEGORY, r"[a-z]{1,16}", "the category, in the review of the facts"),
    Prefix(FULL_STEP, r"unk", "the full report dialogue"),
    Prefix(FOLLOWUP_STEP, r"same", "the follow-up dialogue"),
    Prefix(FORWARD_CLOCK, _ids(FORWARD_OK), "已上报市委 under a later stage"),
    Prefix(DOCX, _ids(*DOCX_KINDS), "the Word file of a stage or of the incident"),
    Prefix(MARK, _ids(MARK_NOTE), "a note on a finding"),
    Prefix(NOTICE, _ids("ack", "go", "re", "v", "lv", "px"), "a notice's buttons"),
    Prefix(NOTICE_GROUP, _ids("ack"), "a notice's 签收 in a group"),
    Prefix(NOTICE_DRAFT, r"lv:[a-z_]{1,16}|skip|ok|a:(all|units|roles|members|groups)|u:[a-z][a-z0-9_]{0,31}"
                         r"|r:[a-z_]{1,16}|g:-\d{1,16}|n|x|rc:(def|custom|none)|send|cancel", "the notice dialogue"),
    Prefix(LEAVE_DRAFT, rf"ok|x|k:{_WORD}|d:(today|tomorrow)|c:(y|n)|s:(none|{_NUM})", "the /leave dialogue"),
    Prefix(LEAVE_DECISION, rf"{_ids('ok', 'no')}|nc", "an approver's decision on leave"),
    Prefix(LEAVE_BACK, _ids("back", "w"), "销假"),
    Prefix(HOLIDAY, r"ok|x|d:(today|tomorrow)", "the holiday trip report dialogue"),
    Prefix(INFO_MARK, rf"{_WORD}:{_NUM}", "the review of an information item"),
    Prefix(INFO_DRAFT, rf"ok|x|new|k:{_WORD}", "the /info dialogue"),
    Prefix(SUPERVISION, _ids("acc", "ok", "xok", "xno", "d", "ext", "prog", "done", "ret"), "an assignment's buttons"),
    Prefix(SUPERVISION_DRAFT, rf"ok|x|keep|plan|submit|l:{_NUM}|src:[a-z]{{1,20}}|u:[a-z0-9_]{{1,32}}",
           "the /task dialogue"),
    Prefix(DOCUMENT, _ids("done", "file", "ok", "back", "phone", "sign", "view", "prop"), "a document's buttons"),
    Prefix(DOCUMENT_DRAFT, rf"ok|x|now|skip|l:{_WORD}|u:{_WORD}", "the document registration dialogue"),
    Prefix(DOCUMENT_WORK, rf"ok|x|def|l:{_NUM}", "the 拟办 and 办结 dialogues"),
    Prefix(DUTY_LOG, rf"ok|now|skip|k:{_WORD}", "the duty log dialogue"),
    Prefix(HANDOVER, _ids("hand", "take", "note"), "a handover's buttons"),
)}


def parse(data: str | None) -> tuple[str, tuple[str, ...]] | None:
    """Any button's data → (prefix, parts) by its declared prefix; undeclared or malformed → None."""
    code = (data or "").split(":", 1)[0]
    prefix = PREFIXES.get(code)
    parts = prefix.parse(data) if prefix else None
    return (code, parts) if parts is not None else None


def incident(action: str, ident: int) -> str:
    return f"{INCIDENT}:{action}:{ident}"


def parse_id(data: str | None, prefix: str, actions: tuple[str, ...]) -> tuple[str, int] | None:
    """`i:ack:12` → ("ack", 12); anything malformed or foreign → None."""
    if not data:
        return None
    m = _ID.fullmatch(data)  # fullmatch: "$" alone would let a trailing newline through
    if not m or m.group(1) != prefix or m.group(2) not in actions:
        return None
    return m.group(2), int(m.group(3))


def pattern(prefix: str, actions: tuple[str, ...]) -> str:
    return rf"^{prefix}:({'|'.join(actions)}):\d{{1,12}}$"


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> dict[str, object]:
    """An inline keyboard as Bot API JSON, ready for an outbox row."""
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in rows]}
