"""Callback-data prefixes, in one place. Data is never trusted: every handler re-checks
the member's role and unit against the database before acting on it."""

from __future__ import annotations

import re
from collections.abc import Sequence

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

_ID = re.compile(r"^([a-z]+):([a-z]+):(\d{1,12})$")


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
