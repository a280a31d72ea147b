"""What a failing chaos run prints about a report: enough to follow it without running it again.

Kills land at random moments and faults are drawn at random, so the same seed need not fail
twice; the run that failed has to say what happened. For each report a check named: the
dialogue as the officer saw it (the emulator's transcript of the officer's chat: the bot's
questions, the officer's answers and presses, faults injected into sends to it), the harness's
own notes (each answer, each resend and why), the kills and restarts in between, the bot's log
records naming the officer's chat or one of its updates, and what the database holds for it
(drafts, conversation state, incident rows, outbox rows, which of its updates are marked handled).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.chaos_db import Look, look

if TYPE_CHECKING:
    from bot.emulator import BotApiEmulator, SimUser

LOG_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
WINDOW_BEFORE_S = 2.0  # transcript lines shown before the report's /report
WINDOW_AFTER_S = 5.0  # ... and after its last step (late answers, repeats)


@dataclass
class Dialogue:
    """What the harness did and saw in one report's dialogue (times: seconds since the emulator started)."""

    started: float | None = None
    ended: float | None = None
    step: str = "start"  # the step last answered ("start": /report sent)
    resends: int = 0
    gave_up: bool = False
    update_ids: list[int] = field(default_factory=list)
    notes: list[tuple[float, str]] = field(default_factory=list)

    def note(self, t: float, text: str) -> None:
        self.notes.append((t, text))


@dataclass(frozen=True)
class Scene:
    """Where the evidence of a run lies."""

    emu: BotApiEmulator
    timeline: list[tuple[float, str]]  # kills and restarts
    database: Path | str  # a SQLite file or a postgresql:// address
    log_path: Path
    wall0: float  # time.time() at the emulator's t = 0
    other_logs: tuple[Path, ...] = ()  # with --instances > 1: the other instances' logs


def explain(scene: Scene, index: int, officer: SimUser, description: str, dialogue: Dialogue) -> str:
    lo = (dialogue.started if dialogue.started is not None else 0.0) - WINDOW_BEFORE_S
    hi = (dialogue.ended if dialogue.ended is not None else float("inf")) + WINDOW_AFTER_S
    lines = [f"report {index} — officer {officer.first_name} (chat {officer.id}), last step answered "
             f"{dialogue.step!r}, {dialogue.resends} resends{', gave up' if dialogue.gave_up else ''}; "
             f"its updates {dialogue.update_ids}"]
    lines.append("  dialogue (t = s since start; officer → bot, bot → officer, ⚡ fault, ✖ kill, harness notes):")
    lines += [f"    {t:9.3f}  {text}" for t, text in _dialogue_lines(scene, officer.id, dialogue, lo, hi)]
    lines.append("  bot log records naming its chat or updates (t as above):")
    records = [f"[{path.name}] {r}" if scene.other_logs else r for path in (scene.log_path, *scene.other_logs)
               for r in _log_records(path, officer.id, dialogue.update_ids, scene.wall0)]
    lines += [f"    {r}" for r in records] or ["    (none)"]
    lines.append("  database:")
    lines += [f"    {x}" for x in db_facts(scene.database, officer.id, description, dialogue.update_ids)]
    return "\n".join(lines)


def _dialogue_lines(scene: Scene, chat: int, dialogue: Dialogue, lo: float, hi: float) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for e in scene.emu.transcript:
        if e.chat_id != chat or not lo <= e.time <= hi:
            continue
        who = "officer → bot" if e.direction == "→bot" else "bot → officer"
        if e.summary.startswith("⚡"):
            who = "⚡"
        out.append((e.time, f"{who}: {_one_line(e.summary)}"))
    out += [(t, f"harness: {text}") for t, text in dialogue.notes]
    out += [(t, text) for t, text in scene.timeline if lo <= t <= hi]
    return sorted(out, key=lambda x: x[0])


def _one_line(text: str, limit: int = 110) -> str:
    flat = " ⏎ ".join(x.strip() for x in text.splitlines() if x.strip())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _log_records(path: Path, chat: int, update_ids: list[int], wall0: float) -> list[str]:
    """The bot's log records (with their tracebacks, cut short) naming the chat or one of the updates."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [f"(cannot read {path}: {exc})"]
    records: list[list[str]] = []
    for line in text.splitlines():
        if LOG_RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    names = re.compile(rf"\b(chat {chat}|{chat}|update ({'|'.join(map(str, update_ids)) or '-'}))\b")
    out = []
    for rec in records:
        if names.search(rec[0]):
            tail = [x for x in rec[1:] if x.strip() and not set(x.strip()) <= set("^~")]
            at = log_time(rec[0])
            head = f"{at - wall0:9.3f}  {rec[0][24:]}" if at is not None else rec[0]
            out.append(head + "".join(f"\n               {x.strip()}" for x in tail[-6:]))
    return out


def db_facts(database: Path | str, chat: int, description: str, update_ids: list[int]) -> list[str]:
    """What the database holds for the officer's chat and the report."""
    try:
        conn = look(database)
    except Exception as exc:  # sqlite3.Error, asyncpg's errors, OSError: said, not raised
        return [f"(cannot open {database}: {exc})"]
    with conn:
        try:
            return _facts(conn, chat, description, update_ids)
        except Exception as exc:
            return [f"(reading failed: {exc})"]


def _facts(conn: Look, chat: int, description: str, update_ids: list[int]) -> list[str]:
    out = []
    for r in conn.execute("SELECT kind, payload, updated_at FROM drafts WHERE telegram_id=?", (chat,)):
        out.append(f"draft {r['kind']} ({r['updated_at']}): {_state_names(r['payload'])}")
    if not out:
        out.append("draft: none")
    key = json.dumps([chat, chat])
    conv = conn.execute("SELECT name, state, update_id FROM ptb_conversations WHERE key=?", (key,)).fetchall()
    out += [f"conversation {r['name']}: state {_state_name(r['state'])} (written by update {r['update_id']})"
            for r in conv] or ["conversation: none (no dialogue open)"]
    member = conn.execute("SELECT id FROM members WHERE telegram_id=?", (chat,)).fetchone()
    rows = conn.execute("SELECT id, number, description, created_at FROM incidents"
                        " WHERE description=? OR reporter_id=? ORDER BY id",
                        (description, member["id"] if member else -1)).fetchall()
    mine = [f"#{r['id']} {r['number']} at {r['created_at']}" for r in rows if r["description"] == description]
    out.append(f"incident with its description: {', '.join(mine) or 'NONE'}")
    out += [f"  officer's other incident #{r['id']} {r['number']} at {r['created_at']}: {r['description'][:40]!r}"
            for r in rows if r["description"] != description]
    outbox = conn.execute("SELECT id, method, status, tag, attempts, created_at, sent_at, payload FROM outbox "
                          "WHERE chat_id=? ORDER BY id DESC LIMIT 6", (chat,)).fetchall()
    for r in reversed(outbox):
        text = json.loads(r["payload"]).get("text", "")
        out.append(f"outbox #{r['id']} {r['method']} [{r['tag'] or ''}] {r['status']} (attempts {r['attempts']}, "
                   f"created {r['created_at']}, sent {r['sent_at']}): {_one_line(text, 50)!r}")
    if not outbox:
        out.append("outbox to its chat: none")
    if update_ids:
        marks = ",".join("?" * len(update_ids))
        done = {r[0] for r in conn.execute(f"SELECT update_id FROM updates_done WHERE update_id IN ({marks})",
                                           update_ids)}
        floor = conn.execute("SELECT through FROM updates_handled WHERE id = 1").fetchone()
        through = floor[0] if floor else -1
        out.append("its updates handled: " + ", ".join(
            f"{u} {'✓' if u in done or u <= through else '✗'}" for u in update_ids))
    return out


def _state_name(raw: object) -> str:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return repr(raw)
    if not isinstance(value, int):
        return repr(value)
    from handlers.report import S

    return f"{S(value).name} ({value})" if value in S._value2member_map_ else str(value)


def _state_names(payload: str) -> str:
    """A draft's JSON, with a dialogue step (report.asking's "state") named."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(data, dict) and isinstance(data.get("state"), int):
        data = {**data, "state": _state_name(data["state"])}
    return json.dumps(data, ensure_ascii=False)


def log_time(line: str) -> float | None:
    """A log record's wall-clock time (the bot runs on this machine, in its time zone)."""
    m = LOG_RECORD.match(line)
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() if m else None
